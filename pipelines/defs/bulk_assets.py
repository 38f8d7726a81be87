"""The whole SEC universe at once: the nightly companyfacts bulk archive into fact partitions."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import SecResource
from pipelines.lib import bulk, filer_profiles


class BulkIngestConfig(dg.Config):
    archive: str | None = None  # a local companyfacts.zip; live mode downloads SEC's when unset
    workers: int = 2


class BulkSubmissionsConfig(dg.Config):
    archive: str | None = None  # a local submissions.zip; live mode downloads SEC's when unset


def archive_path(config: BulkIngestConfig | BulkSubmissionsConfig, sec: SecResource,
                 path: str = bulk.ARCHIVE_PATH) -> Path:
    """The configured archive, or, live, SEC's nightly one (at path on www.sec.gov) streamed into the raw zone."""
    if config.archive:
        return Path(config.archive)
    if sec.settings().mode != "live":
        raise ValueError(f"offline mode: set the config 'archive' to the path of a {Path(path).name}")
    client = sec.source().client
    url = sec.www_url + path
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


@dg.asset(key=["bulk", "submissions"], group_name="bulk", kinds={"parquet"})
def bulk_submissions(config: BulkSubmissionsConfig, sec: SecResource) -> dg.MaterializeResult:
    """Every filer's profile (name, industry by SIC code, tickers, fiscal year end) from SEC's nightly
    submissions archive (live: downloaded like the companyfacts archive), as one Parquet file beside
    the filing partitions, for core.filer_profiles and the universe marts' industries."""
    store = sec.settings().partition_store("filings_parquet")
    filers = filer_profiles.write_archive(store, archive_path(config, sec, filer_profiles.ARCHIVE_PATH))
    return dg.MaterializeResult(metadata={"filers": filers, "partitions": store.url})
