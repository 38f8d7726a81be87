"""The whole SEC universe at once: the nightly companyfacts bulk archive into fact partitions."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import SecResource
from pipelines.lib import bulk


class BulkIngestConfig(dg.Config):
    archive: str | None = None  # a local companyfacts.zip; live mode downloads SEC's when unset
    workers: int = 2


def archive_path(config: BulkIngestConfig, sec: SecResource) -> Path:
    """The configured archive, or, live, SEC's nightly one streamed into the raw zone."""
    if config.archive:
        return Path(config.archive)
    if sec.settings().mode != "live":
        raise ValueError("offline mode: set the config 'archive' to the path of a companyfacts.zip")
    client = sec.source().client
    url = sec.www_url + bulk.ARCHIVE_PATH
    return sec.raw_store().land_download(url, lambda target: client.download(url, target), bulk.check_archive).path


@dg.asset(key=["bulk", "companyfacts"], group_name="bulk", kinds={"parquet"})
def bulk_companyfacts(context: dg.AssetExecutionContext, config: BulkIngestConfig, sec: SecResource) -> dg.MaterializeResult:
    """Every company of a companyfacts bulk archive (live: SEC's nightly one, downloaded with the same
    User-Agent and rate limit), read from the zip without unpacking it, as the companies' Parquet
    partitions (facts_parquet/cik=##########/, in the warehouse folder or a bucket), which
    core.facts loads; only companies whose entry changed since the last run are processed."""
    store = sec.settings().partition_store("facts_parquet")
    result = bulk.ingest(archive_path(config, sec), store, workers=config.workers,
                         progress=bulk.ProgressLog(context.log.info))
    errors = [r.error for r in result.processed if r.error]
    for error in errors:
        context.log.warning(error)
    return dg.MaterializeResult(metadata={
        "entries": result.entries, "processed": len(result.processed), "skipped_unchanged": result.skipped,
        "facts": sum(r.facts for r in result.processed), "errors": len(errors),
        "partitions": store.url,
    })
