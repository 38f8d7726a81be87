"""Per-company work, one partition per company: land SEC's companyfacts, flatten it into the
company's Parquet partition. Nothing here writes the DuckDB file, so partitions run in parallel;
the warehouse build (one writer) loads the partitions that changed into core.facts."""

import dagster as dg

from pipelines.defs.partitions import SEC_TAG, company_partitions
from pipelines.defs.resources import SecResource
from pipelines.lib import companyfacts, fact_partitions, universe


def company_for(partition_key: str, sec: SecResource) -> universe.Company:
    """The bundled map answers for the usual companies without a request; others ask SEC's map."""
    try:
        return universe.resolve([partition_key], universe.bundled_map())[0]
    except universe.UnknownCompany:
        return universe.resolve([partition_key], sec.known_companies())[0]


@dg.asset(
    key=["raw", "companyfacts"],
    partitions_def=company_partitions,
    group_name="raw",
    kinds={"json"},
    op_tags={SEC_TAG: "companyfacts"},
    pool="sec_api",
)
def raw_companyfacts(context: dg.AssetExecutionContext, sec: SecResource) -> dg.MaterializeResult:
    """SEC's companyfacts JSON for one company, stored unchanged under warehouse/raw/ with its
    fetch time and sha256; re-used when unchanged. Offline, from the project's snapshot."""
    company = company_for(context.partition_key, sec)
    raw, status = sec.land_companyfacts(company.cik)
    if raw is None:
        context.log.warning(f"{company.ticker or company.cik} ({company.name}): no offline data")
        return dg.MaterializeResult(metadata={"status": status, "cik": company.cik})
    return dg.MaterializeResult(
        metadata={
            "status": status,
            "cik": company.cik,
            "url": raw.meta.url,
            "path": dg.MetadataValue.path(str(raw.path)),
            "sha256": raw.meta.sha256,
            "bytes": raw.meta.bytes,
            "fetched_at": raw.meta.fetched_at,
            "changed": raw.changed,
        }
    )


@dg.asset(
    key=["staging", "companyfacts"],
    deps=[raw_companyfacts],
    partitions_def=company_partitions,
    group_name="staging",
    kinds={"parquet"},
)
def staged_companyfacts(context: dg.AssetExecutionContext, sec: SecResource) -> dg.MaterializeResult:
    """One company's facts, flattened and typed, as its Parquet partition (facts_parquet/cik=…/
    under the warehouse folder or CAPEXWATCH_PARTITIONS_URL), rejected facts kept with their
    reason; a raw copy already flattened is not flattened again. A company without data is
    recorded as such."""
    company = company_for(context.partition_key, sec)
    store, url = sec.settings().partition_store("facts_parquet"), sec.companyfacts_url(company.cik)
    stored = sec.raw_store().verified(url)  # read again below: checked against its sha256 first
    meta = stored.meta if stored else None
    record = fact_partitions.read_record(store, company.cik)
    if meta is None:
        fact_partitions.write_record(store, company.cik, ticker=company.ticker, company=company.name,
                                     status="no offline data")
        return dg.MaterializeResult(metadata={"status": "no offline data", "cik": company.cik})
    target = fact_partitions.partition_path(company.cik)
    if record and record["raw_sha256"] == meta.sha256 and record["ticker"] == company.ticker and store.exists(target):
        return dg.MaterializeResult(metadata={"status": "loaded", "cik": company.cik, "unchanged": True})
    with store.writing(target) as local_file:
        raw = sec.raw_store().path_for(url)
        written = companyfacts.write_partition(companyfacts.flattener(), str(raw), raw.stat().st_size, local_file)
    fact_partitions.write_record(
        store, company.cik, ticker=company.ticker,
        company=company.name if company.ticker or not written.entity_name else written.entity_name,
        status="loaded", source=meta.source, raw_sha256=meta.sha256, fetched_at=meta.fetched_at,
        repeated_fact_keys=written.repeated_fact_keys)
    return dg.MaterializeResult(metadata={
        "status": "loaded", "cik": company.cik, "unchanged": False, "dagster/row_count": written.facts,
        "rejected_facts": written.rejected, "path": store.path(target),
    })
