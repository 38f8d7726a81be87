"""Data-quality checks: each is a query in sql/checks/ that returns the offending rows (none = pass)."""

import datetime as dt
from dataclasses import dataclass, field

import dagster as dg

from pipelines.defs.resources import WarehouseResource
from pipelines.lib import warehouse


@dataclass(frozen=True)
class Check:
    asset: str  # "core/metric_values"
    name: str
    query: str  # sql/checks/<query>.sql
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    params: dict[str, str] = field(default_factory=dict)


CHECKS = [
    Check("core/base_metric_values", "quarters_sum_to_fiscal_year", "quarters_sum_to_fiscal_year"),
    Check("core/metric_values", "unique_keys", "metric_values_unique"),
    Check("core/metric_values", "capex_non_negative", "capex_non_negative"),
    Check("core/metric_values", "value_or_reason", "value_or_reason"),
    *(Check(f"marts/{mart}", "unique_keys", "mart_unique", params={"table": f"marts.{mart}"})
      for mart in ("quarterly", "annual", "ttm")),
    Check("marts/quarterly", "staleness", "stale_companies", dg.AssetCheckSeverity.WARN),
    Check("staging/periodic_facts", "companyfacts_agree_with_documents", "companyfacts_vs_documents"),
    Check("staging/periodic_facts", "no_conflicting_facts", "conflicting_facts"),
    Check("core/metric_spans", "unplaced_metric_facts", "unplaced_metric_facts", dg.AssetCheckSeverity.WARN),
    Check("core/metric_values", "reported_measures_agree", "reported_measures_agree"),
]


def check_params(check: Check) -> dict[str, str]:
    # staleness is judged against today; offline data is as old as the snapshot, and says so
    return {"as_of": dt.date.today().isoformat(), **check.params} if check.name == "staleness" else check.params


def build_check(check: Check) -> dg.AssetChecksDefinition:
    query = warehouse.sql_text(f"checks/{check.query}")

    @dg.asset_check(
        asset=dg.AssetKey(check.asset.split("/")),
        name=check.name,
        description=query.splitlines()[0].removeprefix("-- check: "),
    )
    def _check(warehouse_db: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse_db.connect(read_only=True) as conn:
            failures = conn.execute(query, check_params(check) or None).df()
        metadata = {"failures": len(failures)}
        if len(failures):
            metadata["sample"] = dg.MetadataValue.md(failures.head(20).to_markdown(index=False))
        return dg.AssetCheckResult(passed=failures.empty, severity=check.severity, metadata=metadata)

    return _check


asset_checks = [build_check(check) for check in CHECKS]
