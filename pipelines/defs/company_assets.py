"""Per-company work, one partition per company: land SEC's companyfacts, load it into core.facts."""

import dagster as dg

from pipelines.defs.partitions import company_partitions
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import companyfacts, universe, warehouse


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
    key=["core", "facts"],
    deps=[raw_companyfacts],
    partitions_def=company_partitions,
    group_name="core",
    kinds={"duckdb"},
)
def company_facts(
    context: dg.AssetExecutionContext, sec: SecResource, warehouse_db: WarehouseResource
) -> dg.MaterializeResult:
    """Every fact of every taxonomy for one company (one row per fact per filing), replaced as a
    whole in one transaction; core.companies records the outcome, including 'no offline data'."""
    company = company_for(context.partition_key, sec)
    url = sec.companyfacts_url(company.cik)
    meta = sec.raw_store().read_meta(url)
    with warehouse_db.connect() as conn:
        loaded = conn.execute("select raw_sha256 from core.companies where cik = ? and status = 'loaded'",
                              [company.cik]).fetchone()
        unchanged = meta is not None and loaded is not None and loaded[0] == meta.sha256
        name, rejected = company.name, 0
        if meta is not None and not unchanged:  # an unchanged response is not loaded again
            written = companyfacts.write_partition(
                companyfacts.flattener(), str(sec.raw_store().path_for(url)),
                companyfacts.partition_path(sec.settings().facts_parquet_dir, company.cik))
            name = company.name if company.ticker or not written.entity_name else written.entity_name
            rejected = written.rejected
        with warehouse.transaction(conn):
            if meta is not None and not unchanged:
                warehouse.run_sql(conn, "core/facts__delete_companies", ciks=[company.cik])
                warehouse.run_sql(conn, "core/facts__from_parquet", files=[str(written.path)])
            if not unchanged:
                warehouse.run_sql(
                    conn,
                    "core/companies__upsert",
                    cik=company.cik,
                    ticker=company.ticker,
                    company=name,
                    status="loaded" if meta else "no offline data",
                    source=meta.source if meta else None,
                    raw_sha256=meta.sha256 if meta else None,
                    fetched_at=meta.fetched_at if meta else None,
                )
        facts = conn.execute("select count(*) from core.facts where cik = ?", [company.cik]).fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "status": "loaded" if meta else "no offline data",
            "cik": company.cik,
            "dagster/row_count": facts,
            "unchanged": unchanged,
            "rejected_facts": rejected,
        }
    )

