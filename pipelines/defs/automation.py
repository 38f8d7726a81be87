"""When refreshes run: a daily schedule, and a sensor that watches SEC for new 10-K/10-Q filings."""

import json

import dagster as dg

from pipelines.defs.company_assets import company_facts, raw_companyfacts
from pipelines.defs.filing_assets import filing_facts, raw_filing_documents
from pipelines.defs.partitions import company_partitions
from pipelines.defs.resources import SecResource
from pipelines.lib import submissions

COMPANY_ASSETS = dg.AssetSelection.assets(raw_companyfacts, company_facts, raw_filing_documents, filing_facts)

refresh_companies = dg.define_asset_job(
    "refresh_companies",
    selection=COMPANY_ASSETS,
    partitions_def=company_partitions,
    description="Fetch and load one company's SEC data: companyfacts and filing documents (one run per company).",
)

build_warehouse = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.all() - COMPANY_ASSETS - dg.AssetSelection.groups("bulk"),
    description="Rebuild the fiscal calendar, metric values and marts from core.facts, with checks.",
)


@dg.schedule(job=refresh_companies, cron_schedule="0 6 * * *", execution_timezone="America/New_York")
def daily_refresh(context: dg.ScheduleEvaluationContext):
    """Every morning, after SEC's overnight processing, refresh each registered company."""
    keys = context.instance.get_dynamic_partitions(company_partitions.name)
    if not keys:
        return dg.SkipReason("no company partitions yet: the new_filings sensor registers the universe")
    day = context.scheduled_execution_time.date().isoformat()
    return [dg.RunRequest(run_key=f"{key}:{day}", partition_key=key) for key in keys]


@dg.sensor(job=refresh_companies, minimum_interval_seconds=15 * 60)
def new_filings(context: dg.SensorEvaluationContext, sec: SecResource) -> dg.SensorResult:
    """Registers the configured universe as partitions and, live, requests a refresh of each
    company whose newest 10-K/10-Q (per SEC's submissions feed) is not the one last seen."""
    companies = sec.resolve_universe()
    known = set(context.instance.get_dynamic_partitions(company_partitions.name))
    add = [c.partition_key for c in companies if c.partition_key not in known]
    partitions = [company_partitions.build_add_request(add)] if add else []
    if sec.settings().mode != "live":
        return dg.SensorResult(
            dynamic_partitions_requests=partitions,
            skip_reason="offline mode: the snapshot does not change, nothing to poll",
        )
    seen = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for company in companies:
        raw = sec.raw_store().land(sec.submissions_url(company.cik), sec.source(), submissions.validate)
        filings = submissions.periodic_filings(raw.path.read_bytes())
        if filings and seen.get(company.cik) != filings[0].accn:
            seen[company.cik] = filings[0].accn
            requests.append(dg.RunRequest(run_key=f"{company.partition_key}:{filings[0].accn}",
                                          partition_key=company.partition_key))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partitions, cursor=json.dumps(seen))
