"""When refreshes run: a daily schedule, and a sensor that watches SEC for new 10-K/10-Q filings."""

import functools
import json

import dagster as dg

from pipelines.defs.company_assets import raw_companyfacts, staged_companyfacts
from pipelines.defs.filing_assets import raw_filing_documents, staged_filing_documents
from pipelines.defs.partitions import SEC_TAG, company_partitions, unregistered
from pipelines.defs.resources import SecResource
from pipelines.lib import submissions

COMPANY_ASSETS = dg.AssetSelection.assets(raw_companyfacts, staged_companyfacts, raw_filing_documents,
                                          staged_filing_documents)

# Partition steps write only their own files (raw zone, Parquet partitions), never DuckDB: they run
# in parallel processes, and runs of different companies run side by side.
partition_executor = dg.multiprocess_executor.configured(
    {"max_concurrent": 2, "tag_concurrency_limits": [{"key": SEC_TAG, "limit": 1}]}, name="partition_executor"
)



def refresh_companies_job(executor: dg.ExecutorDefinition = partition_executor):
    """The per-company job; a deployment passes its own executor (Kubernetes: one pod per step)."""
    return dg.define_asset_job(
        "refresh_companies",
        selection=COMPANY_ASSETS,
        partitions_def=company_partitions,
        executor_def=executor,
        description="Fetch one company's SEC data (companyfacts and filing documents) and write its Parquet "
                    "partitions (one run per company; runs of different companies may run in parallel).",
    )


build_warehouse = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.all() - COMPANY_ASSETS - dg.AssetSelection.groups("bulk"),
    # DuckDB allows one writer per file: the loaders and transforms run one after another
    executor_def=dg.in_process_executor,
    description="Load the changed partitions into core tables, rebuild the fiscal calendar, metric values and "
                "marts, with checks.",
)


bulk_refresh = dg.define_asset_job(
    "bulk_refresh",
    selection=dg.AssetSelection.groups("bulk"),
    executor_def=dg.in_process_executor,  # the asset spreads the companies over its own worker processes
    description="Every filer at once: SEC's nightly companyfacts archive into the companies' Parquet partitions "
                "(only companies whose entry changed); the warehouse build follows by automation.",
)


@dg.schedule(job_name="bulk_refresh", cron_schedule="30 4 * * *", execution_timezone="America/New_York")
def nightly_bulk_refresh(context: dg.ScheduleEvaluationContext, sec: SecResource):
    """Every night once SEC has rebuilt companyfacts.zip (overnight, Eastern time), the whole market;
    offline there is no nightly archive to fetch."""
    if sec.settings().mode != "live":
        return dg.SkipReason("offline mode: the nightly archives come from SEC; run the bulk_refresh job with the "
                             "config 'archive' of bulk__companyfacts and of bulk__submissions set to a local "
                             "companyfacts.zip and submissions.zip")
    return dg.RunRequest(run_key=f"bulk:{context.scheduled_execution_time.date().isoformat()}")


@dg.schedule(job_name="refresh_companies", cron_schedule="0 6 * * *", execution_timezone="America/New_York")
def daily_refresh(context: dg.ScheduleEvaluationContext):
    """Every morning, after SEC's overnight processing, refresh each registered company."""
    keys = context.instance.get_dynamic_partitions(company_partitions.name)
    if not keys:
        return dg.SkipReason("no company partitions yet: the new_filings sensor registers the universe")
    day = context.scheduled_execution_time.date().isoformat()
    return [dg.RunRequest(run_key=f"{key}:{day}", partition_key=key) for key in keys]


def _register_universe(context: dg.SensorEvaluationContext, sec: SecResource) -> list[dg.AddDynamicPartitionsRequest]:
    """The configured universe as company partitions (only those not registered yet)."""
    add = unregistered(context.instance, [c.partition_key for c in sec.resolve_universe()])
    return [company_partitions.build_add_request(add)] if add else []


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def company_universe(context: dg.SensorEvaluationContext, sec: SecResource) -> dg.SensorResult:
    """Keeps one partition per configured company, so a fresh Dagster shows them with no manual step;
    it requests no runs."""
    return dg.SensorResult(dynamic_partitions_requests=_register_universe(context, sec))


def newest_filing(sec: SecResource, cik: str) -> str | None:
    """The accession of a company's newest 10-K/10-Q: live from SEC's submissions feed, offline from
    the snapshot's filings index (the snapshot is the offline feed)."""
    if sec.settings().mode == "live":
        raw = sec.raw_store().land(sec.submissions_url(cik), sec.source(), functools.partial(submissions.validate, cik=cik))
        filings = submissions.periodic_filings(raw.path.read_bytes())
    else:
        filings = sec.discover_filings(cik)
    return filings[0].accn if filings else None


@dg.sensor(job_name="refresh_companies", minimum_interval_seconds=15 * 60)
def new_filings(context: dg.SensorEvaluationContext, sec: SecResource) -> dg.SensorResult:
    """Requests a refresh of each company whose newest 10-K/10-Q is not the one last seen (a company
    seen for the first time counts as new); the warehouse build follows by automation."""
    seen = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for company in sec.resolve_universe():
        accn = newest_filing(sec, company.cik)
        if accn and seen.get(company.cik) != accn:
            seen[company.cik] = accn
            requests.append(dg.RunRequest(run_key=f"{company.partition_key}:{accn}", partition_key=company.partition_key))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=_register_universe(context, sec),
                           cursor=json.dumps(seen))


# Declarative automation for the build (and the report after it), on by default: whatever refreshed a
# company (the sensor, the schedule, a backfill, a click in the UI), the warehouse build follows.
warehouse_automation = dg.AutomationConditionSensorDefinition(
    "warehouse_automation",
    target=dg.AssetSelection.all() - COMPANY_ASSETS - dg.AssetSelection.groups("bulk"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
