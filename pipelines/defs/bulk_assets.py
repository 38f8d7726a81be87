"""The whole SEC universe at once: the nightly companyfacts bulk archive into core.facts."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import bulk


class BulkIngestConfig(dg.Config):
    archive: str  # path of a companyfacts.zip from SEC's bulk data
    workers: int = 2


@dg.asset(key=["bulk", "companyfacts"], group_name="bulk", kinds={"parquet", "duckdb"})
def bulk_companyfacts(
    context: dg.AssetExecutionContext, config: BulkIngestConfig, sec: SecResource, warehouse_db: WarehouseResource
) -> dg.MaterializeResult:
    """Every company of a companyfacts bulk archive, read from the zip without unpacking it, as
    Parquet partitions (warehouse/facts_parquet/cik=##########/) and rows of core.facts; only
    companies whose entry changed since the last run are processed."""
    out_dir = sec.settings().warehouse_dir / "facts_parquet"

    def progress(done: int, total: int, result: bulk.EntryResult) -> None:
        if done % 100 == 0 or done == total:
            context.log.info(f"{done}/{total} companies ({result.name})")

    result = bulk.ingest(Path(config.archive), out_dir, workers=config.workers, progress=progress)
    with warehouse_db.connect() as conn:
        facts = bulk.load_into_warehouse(conn, result)
    errors = [r.error for r in result.processed if r.error]
    for error in errors:
        context.log.warning(error)
    return dg.MaterializeResult(metadata={
        "entries": result.entries, "processed": len(result.processed), "skipped_unchanged": result.skipped,
        "facts_loaded": facts, "errors": len(errors), "partitions": dg.MetadataValue.path(str(out_dir)),
    })
