"""Data-quality checks: each is a query in sql/checks/ that returns the offending rows (none = pass).

They run inside the warehouse build, on its private copy, before anything is published: an
ERROR-severity failure keeps the build from being published, a WARN is published and listed.
The checks that read whole tables of per-company rows keep their failures company by company in
main.check_failures, published with the tables: a re-run judges only the companies it rebuilt (the
others' rows, and so their failures, are those of the last build) instead of every row of the market."""

import datetime as dt
import json
from dataclasses import dataclass, field

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from pipelines.lib import company_batches, publish, warehouse

SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Check:
    asset: str  # "core/metric_values"
    name: str
    query: str  # sql/checks/<query>.sql
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    params: dict[str, str] = field(default_factory=dict)
    # the per-company tables it reads, when each failure row belongs to one company (its cik): its
    # failures are kept company by company, and a re-run evaluates it on the rebuilt companies only
    company_tables: tuple[str, ...] = ()

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
    Check("core/metric_values", "unique_keys", "metric_values_unique", company_tables=("core.metric_values",)),
    Check("core/metric_values", "capex_non_negative", "capex_non_negative"),
    Check("core/metric_values", "value_or_reason", "value_or_reason"),
    *(Check(f"marts/{mart}", "unique_keys", "mart_unique", params={"table": f"marts.{mart}"},
            company_tables=(f"marts.{mart}",))
      for mart in ("quarterly", "annual", "ttm")),
    Check("marts/universe_latest", "unique_keys", "universe_unique"),
    Check("marts/quarterly", "staleness", "stale_companies", dg.AssetCheckSeverity.WARN),
    Check("staging/periodic_facts", "companyfacts_agree_with_documents", "companyfacts_vs_documents"),
    Check("core/conflicting_facts", "conflicting_duplicates", "conflicting_facts", dg.AssetCheckSeverity.WARN),
    Check("core/metric_spans", "unplaced_metric_facts", "unplaced_metric_facts", dg.AssetCheckSeverity.WARN),
    Check("core/metric_spans", "implausible_restatements", "implausible_restatements",
          company_tables=("core.span_facts",)),
    Check("core/base_metric_values", "implausible_jumps", "implausible_jumps", company_tables=("core.base_metric_values",)),
    Check("core/metric_values", "reported_measures_agree", "reported_measures_agree"),
]


def check_params(check: Check) -> dict[str, str]:
    # staleness is judged against today; offline data is as old as the snapshot, and says so
    return {"as_of": dt.date.today().isoformat(), **check.params} if check.name == "staleness" else check.params


def kept_by_company() -> list[str]:
    """What the failures kept company by company were judged by (part of company_batches' digest:
    a change to one of these checks judges every company again)."""
    return [f"{check.label} {warehouse.sql_text(f'checks/{check.query}')} {check.params}"
            for check in CHECKS if check.company_tables]


def evaluate(conn: duckdb.DuckDBPyConnection, check: Check, rebuilt: set[str] | None = None) -> publish.CheckOutcome:
    """The check's offending rows on this connection (the build's private copy). A check kept company
    by company is evaluated on the rebuilt companies only (rebuilt; None: all), and its outcome read
    from main.check_failures."""
    if not check.company_tables:
        return _outcome(check, _failures(conn, check))
    scoped = rebuilt is not None and _failures_kept(conn)
    if scoped:
        with company_batches.restricted(conn, company_batches.Batch(tuple(sorted(rebuilt)), whole_range=False),
                                        check.company_tables):
            failures = _failures(conn, check)
        conn.execute("delete from main.check_failures where asset_check = ? and cik in ?", [check.label, sorted(rebuilt)])
    else:
        failures = _failures(conn, check)
        conn.execute(FAILURES_TABLE)
        conn.execute("delete from main.check_failures where asset_check = ? or asset_check not in ?",  # and checks gone
                     [check.label, [kept.label for kept in CHECKS if kept.company_tables]])
    if len(failures):  # each company's count and its first rows (only those are made plain: a broken build has millions)
        by_company = failures.groupby("cik", sort=False)
        samples: dict[str, list[dict]] = {}
        for row in _rows(by_company.head(SAMPLE_ROWS)):
            samples.setdefault(row["cik"], []).append(row)
        conn.executemany("insert into main.check_failures values (?, ?, ?, ?)",
                         [[check.label, cik, int(count), json.dumps(samples[cik])] for cik, count in by_company.size().items()])
    kept = conn.execute("select failures, sample from main.check_failures where asset_check = ? order by cik",
                        [check.label]).fetchall()
    sample = [row for _, text in kept for row in json.loads(text)][:SAMPLE_ROWS]
    return publish.CheckOutcome(check.label, check.severity.value, sum(count for count, _ in kept), sample)


FAILURES_TABLE = """create table if not exists main.check_failures (
    asset_check varchar, cik varchar, failures bigint, sample varchar)"""


def _failures_kept(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds the failures of its last build (one from before they were kept does
    not; a check added or changed since changes company_batches' digest, and so is judged on all)."""
    try:
        conn.execute("select 1 from main.check_failures limit 0")
    except duckdb.CatalogException:
        return False
    return True


def _failures(conn: duckdb.DuckDBPyConnection, check: Check) -> pd.DataFrame:
    return conn.execute(warehouse.sql_text(f"checks/{check.query}"), check_params(check) or None).df()


def _rows(failures: pd.DataFrame) -> list[dict]:
    """The rows as plain values (JSON's, for the record and for main.check_failures)."""
    plain = failures.astype(object).where(failures.notna(), None)
    return [{k: _plain(v) for k, v in row.items()} for row in plain.to_dict("records")]


def _outcome(check: Check, failures: pd.DataFrame) -> publish.CheckOutcome:
    return publish.CheckOutcome(check.label, check.severity.value, len(failures), _rows(failures.head(SAMPLE_ROWS)))


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
