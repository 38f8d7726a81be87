"""One refresh end to end, as the CLI runs it: each company's partition, then the warehouse build."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.defs.partitions import company_partitions, unregistered
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import fact_partitions, filing_partitions, publish, query, universe, warehouse


FACTS_KEY = dg.AssetKey(["staging", "companyfacts"])
FILINGS_KEY = dg.AssetKey(["staging", "filing_documents"])


@dataclass
class RefreshReport:
    companies: dict[str, str] = field(default_factory=dict)  # partition key -> what was loaded
    failures: dict[str, str] = field(default_factory=dict)  # partition key -> root cause
    build_ok: bool = False
    failed_checks: list[str] = field(default_factory=list)  # "asset:check (severity)"
    build: publish.BuildRecord | None = None  # the build's outcome, with the rows of failed checks
    build_error: str | None = None  # why the build was not published

    @property
    def ok(self) -> bool:
        """Every company loaded, the build done, and no error-severity check failed (warnings may)."""
        return self.build_ok and not self.failures and not any("(ERROR" in c for c in self.failed_checks)


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    """Why the first failed step failed, e.g. 'SecNotFound: GET ...: HTTP 404 ...'."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and error.cls_name.startswith("Dagster"):
                error = error.cause  # below Dagster's wrappers: the project's own error
            message = error.message.strip()
            qualified = message.split(":", 1)[0]  # "pipelines.lib.raw_store.InvalidResponse"
            return error.cls_name + message[len(qualified):] if qualified.endswith(error.cls_name) else message
    return "failed"


def run_refresh(
    sec: SecResource,
    warehouse_db: WarehouseResource,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None] = lambda line: None,
    log_level: str = "WARNING",
    wait_seconds: float = 0,
) -> RefreshReport:
    """Every company's partitions, then the build job, which publishes the warehouse only if it
    succeeds and passes its blocking checks (the same build every Dagster run goes through). One
    CLI refresh at a time."""
    with warehouse.refresh_lock(warehouse_db.path(), wait_seconds):
        return _refresh(sec, warehouse_db, instance, progress, log_level)


def register_universe(sec: SecResource, instance: dg.DagsterInstance) -> list[str]:
    """The configured companies as partition keys, each registered in the instance if it is not yet."""
    keys = [company.partition_key for company in sec.resolve_universe()]
    instance.add_dynamic_partitions(company_partitions.name, unregistered(instance, keys))
    return keys


def _refresh(
    sec: SecResource,
    warehouse_db: WarehouseResource,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None],
    log_level: str,
) -> RefreshReport:
    """A company that fails does not stop the others; the build then uses what is stored."""
    defs = build_definitions(sec, warehouse_db)
    keys = register_universe(sec, instance)
    report = RefreshReport()
    quiet = _run_config(log_level)
    refresh_job = defs.resolve_job_def("refresh_companies")
    for number, key in enumerate(keys, start=1):
        result = refresh_job.execute_in_process(
            partition_key=key, instance=instance, raise_on_error=False, run_config=quiet
        )
        if result.success:
            metadata = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
            report.companies[key] = (
                f"companyfacts {metadata[FACTS_KEY]['status'].value}, "
                + query.counted(metadata[FILINGS_KEY]['parsed'].value, "filing document")
            )
        else:
            report.failures[key] = _first_error(result)
        progress(f"[{number}/{len(keys)}] {key}: {report.companies.get(key) or 'FAILED ' + report.failures[key]}")
    _build(defs, warehouse_db, instance, quiet, report)
    return report


def _run_config(log_level: str) -> dict:
    """Dagster's console log at log_level (the CLI keeps its own lines only, unless -v)."""
    return {"loggers": {"console": {"config": {"log_level": log_level}}}}


def _build(defs: dg.Definitions, warehouse_db: WarehouseResource, instance: dg.DagsterInstance, run_config: dict,
           report: RefreshReport) -> None:
    """The build job (the one every Dagster run of the warehouse goes through), its outcome into report."""
    build = defs.resolve_job_def("build_warehouse").execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config
    )
    report.build_ok = build.success
    report.build = publish.read_record(warehouse_db.path())
    if not build.success:
        report.build_error = _first_error(build)
    for evaluation in build.get_asset_check_evaluations():
        if not evaluation.passed:
            key = evaluation.asset_check_key
            failures = evaluation.metadata.get("failures")
            report.failed_checks.append(
                f"{key.asset_key.to_user_string()}:{key.name} ({evaluation.severity.value}, "
                + (query.counted(failures.value, "row") if failures else "? rows") + ")"
            )


def remove_company(sec: SecResource, warehouse_db: WarehouseResource, instance: dg.DagsterInstance, item: str,
                   log_level: str = "WARNING") -> tuple[dict, RefreshReport]:
    """Take one stored company (ticker or CIK) out: its partitions, its Dagster partition, and, by a
    build, its rows. Its raw SEC copies stay (a cache, re-used if it is added again). Returns its
    partition record and the build's report."""
    settings = sec.settings()
    facts_store, filings_store = (settings.partition_store(name) for name in ("facts_parquet", "filings_parquet"))
    stored = fact_partitions.stored(facts_store)
    key = item.strip().upper()
    match = stored[(stored["ticker"].fillna("").str.upper() == key)
                   | (stored["cik"] == (universe.normalize_cik(key) if key.removeprefix("CIK").isdigit() else ""))]
    if match.empty:
        names = ", ".join(sorted(t or c for t, c in zip(stored["ticker"].fillna(""), stored["cik"]))) or "none"
        raise universe.UnknownCompany(f"{item!r} is not a stored company; stored: {names}")
    record = fact_partitions.read_record(facts_store, match.iloc[0]["cik"])  # as stored: JSON's types, not pandas'
    with warehouse.refresh_lock(warehouse_db.path()):
        fact_partitions.remove(facts_store, record)
        filing_partitions.delete(filings_store, record["cik"])
        partition_key = record["ticker"] or record["cik"]
        if instance.has_dynamic_partition(company_partitions.name, partition_key):
            instance.delete_dynamic_partition(company_partitions.name, partition_key)
        report = RefreshReport()
        _build(build_definitions(sec, warehouse_db), warehouse_db, instance, _run_config(log_level), report)
    return record, report
