"""Data-quality checks: each is a query in sql/checks/ that returns the offending rows (none = pass).

They run inside the warehouse build, on its private copy, before anything is published: an
ERROR-severity failure keeps the build from being published, a WARN is published and listed."""

import datetime as dt
from dataclasses import dataclass, field

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from pipelines.lib import publish, warehouse

SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Check:
    asset: str  # "core/metric_values"
    name: str
    query: str  # sql/checks/<query>.sql
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    params: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.asset}:{self.name}"

    def spec(self) -> dg.AssetCheckSpec:
        query = warehouse.sql_text(f"checks/{self.query}")
        return dg.AssetCheckSpec(self.name, asset=dg.AssetKey(self.asset.split("/")),
                                 description=query.splitlines()[0].removeprefix("-- check: "),
                                 blocking=self.severity == dg.AssetCheckSeverity.ERROR)


CHECKS = [
    Check("core/fiscal_year_reconciliation", "quarters_sum_to_fiscal_year", "quarters_sum_to_fiscal_year"),
    Check("core/metric_values", "unique_keys", "metric_values_unique"),
    Check("core/metric_values", "capex_non_negative", "capex_non_negative"),
    Check("core/metric_values", "value_or_reason", "value_or_reason"),
    *(Check(f"marts/{mart}", "unique_keys", "mart_unique", params={"table": f"marts.{mart}"})
      for mart in ("quarterly", "annual", "ttm")),
    Check("marts/quarterly", "staleness", "stale_companies", dg.AssetCheckSeverity.WARN),
    Check("staging/periodic_facts", "companyfacts_agree_with_documents", "companyfacts_vs_documents"),
    Check("core/conflicting_facts", "conflicting_duplicates", "conflicting_facts", dg.AssetCheckSeverity.WARN),
    Check("core/metric_spans", "unplaced_metric_facts", "unplaced_metric_facts", dg.AssetCheckSeverity.WARN),
    Check("core/metric_spans", "implausible_restatements", "implausible_restatements"),
    Check("core/base_metric_values", "implausible_jumps", "implausible_jumps"),
    Check("core/metric_values", "reported_measures_agree", "reported_measures_agree"),
]


def check_params(check: Check) -> dict[str, str]:
    # staleness is judged against today; offline data is as old as the snapshot, and says so
    return {"as_of": dt.date.today().isoformat(), **check.params} if check.name == "staleness" else check.params


def evaluate(conn: duckdb.DuckDBPyConnection, check: Check) -> publish.CheckOutcome:
    """The check's offending rows on this connection (the build's private copy)."""
    failures = conn.execute(warehouse.sql_text(f"checks/{check.query}"), check_params(check) or None).df()
    sample = failures.head(SAMPLE_ROWS).astype(object).where(failures.head(SAMPLE_ROWS).notna(), None)
    return publish.CheckOutcome(check.label, check.severity.value, len(failures),
                                [{k: _plain(v) for k, v in row.items()} for row in sample.to_dict("records")])


def result(check: Check, outcome: publish.CheckOutcome) -> dg.AssetCheckResult:
    """The outcome as Dagster shows it: pass/fail, severity, the count and the first rows."""
    metadata: dict[str, object] = {"failures": outcome.failures}
    if outcome.rows:
        metadata["sample"] = dg.MetadataValue.md(_markdown(outcome.rows))
    return dg.AssetCheckResult(asset_key=dg.AssetKey(check.asset.split("/")), check_name=check.name,
                               passed=outcome.failures == 0, severity=check.severity, metadata=metadata)


def _markdown(rows: list[dict]) -> str:
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if row[h] is None else str(row[h]) for h in header) + " |" for row in rows]
    return "\n".join(lines)


def _plain(value: object) -> object:
    """JSON-friendly: numbers and text as they are, dates as ISO text, arrays as lists."""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    return value if value is None or isinstance(value, (bool, int, float, str, list)) else str(value)
