"""SEC's nightly companyfacts bulk archive (companyfacts.zip, every filer) into Parquet partitions.

Each company's JSON is read straight from the zip (never unpacked to disk) by DuckDB's JSON reader,
flattened and typed by the same SQL as the per-company path, and written as the company's fact
partition (see fact_partitions), which core.facts then loads. Work is spread over processes, each
holding one company at a time, so memory does not grow with the archive. An
entry whose CRC-32 (stored in the zip for every member) is unchanged since the last run is
skipped: a nightly re-run touches only the companies whose facts changed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import fsspec

from pipelines.lib import companyfacts, fact_partitions
from pipelines.lib.partition_store import PartitionStore

_ENTRY = re.compile(r"CIK(\d{10})\.json$")
ARCHIVE_PATH = "/Archives/edgar/daily-index/xbrl/companyfacts.zip"  # on www.sec.gov, rebuilt nightly


def check_archive(path: Path) -> None:
    """A download that is not a whole zip (cut short, or an error page) is refused."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"not a zip archive ({path.stat().st_size} bytes): cut short, or an error page?")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class EntryResult:
    name: str
    cik: str
    crc: int
    bytes: int
    facts: int
    rejected: int
    error: str | None = None  # why the entry could not be read; its partition was left as it was


@dataclass
class IngestResult:
    entries: int
    processed: list[EntryResult]
    skipped: int


@functools.lru_cache(maxsize=1)
def archive_reader(archive: str) -> duckdb.DuckDBPyConnection:
    """One DuckDB connection per worker process that reads the archive's entries as zip://NAME,
    decompressing in memory (nothing is unpacked to disk); one thread, as the pool is the parallelism."""
    conn = companyfacts.flattener(duckdb.connect(config={"threads": 1}))
    conn.register_filesystem(fsspec.filesystem("zip", fo=archive))
    return conn


def ingest_entry(archive: str, info: zipfile.ZipInfo, partitions_url: str) -> EntryResult:
    """One company: read, flatten, type, publish its partition (runs in a worker process). The
    entry's directory record comes from the caller: SEC's archive has ~18,000 entries, and
    reading its directory again for each would cost more than the entry itself."""
    name = info.filename
    cik = _ENTRY.search(name).group(1)
    store = PartitionStore(partitions_url)
    previous = fact_partitions.read_record(store, cik) or {}
    if previous.get("status") == fact_partitions.REMOVED:  # taken out by `capexwatch companies remove`: stays out
        return EntryResult(name, cik, info.CRC, info.file_size, 0, 0)
    try:
        with store.writing(fact_partitions.partition_path(cik)) as target:
            written = companyfacts.write_partition(archive_reader(archive), f"zip://{name}", info.file_size, target,
                                                   cik=cik)
    except companyfacts.MalformedCompanyFacts as exc:
        return EntryResult(name, cik, info.CRC, info.file_size, 0, 0, str(exc))
    # a followed company keeps the ticker its own refresh recorded (the archive carries none)
    fact_partitions.write_record(store, cik, ticker=previous.get("ticker"), company=written.entity_name,
                                 status="loaded", source=f"bulk archive {Path(archive).name}",
                                 raw_sha256=f"crc32:{info.CRC:08x}", repeated_fact_keys=written.repeated_fact_keys)
    return EntryResult(name, cik, info.CRC, info.file_size, written.facts, written.rejected)


class ProgressLog:
    """Progress of an ingest for an operator: companies done of the changed ones, MB/s of JSON read
    and the time left at that rate; every 100 companies or 10 seconds, and at the end."""

    def __init__(self, log: Callable[[str], None], every_seconds: float = 10) -> None:
        self.log, self.every_seconds = log, every_seconds
        self.started = self.last = time.perf_counter()
        self.bytes_done = 0

    def __call__(self, done: int, total: int, result: EntryResult, bytes_total: int) -> None:
        self.bytes_done += result.bytes
        now = time.perf_counter()
        if done % 100 and done != total and now - self.last < self.every_seconds:
            return
        self.last = now
        rate = self.bytes_done / max(now - self.started, 1e-9)
        left = (bytes_total - self.bytes_done) / rate if rate else 0
        self.log(f"{done}/{total} companies, {rate / 1e6:,.0f} MB/s, "
                 f"{'done' if done == total else f'about {_duration(left)} left'} ({result.name})")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def ingest(
    archive: Path,
    store: PartitionStore,
    workers: int = 2,
    progress: Callable[[int, int, EntryResult, int], None] = lambda done, total, result, bytes_total: None,
) -> IngestResult:
    """Every changed company of the archive into the store's cik=##########/facts.parquet; progress is
    told each company done, the number to do and their JSON bytes."""
    seen: dict[str, int] = json.loads(store.read_bytes(MANIFEST) or b"{}")
    with zipfile.ZipFile(archive) as bundle:
        members = [info for info in bundle.infolist() if _ENTRY.search(info.filename)]
    todo = [info for info in members if seen.get(info.filename) != info.CRC]
    todo_bytes = sum(info.file_size for info in todo)
    processed: list[EntryResult] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(ingest_entry, str(archive), info, store.url) for info in todo]
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                result = future.result()
                processed.append(result)
                if result.error is None:
                    seen[result.name] = result.crc
                progress(done, len(todo), result, todo_bytes)
        except BaseException:  # the machine's fault (a full disk), or an interrupt: the rest would meet it too
            pool.shutdown(cancel_futures=True)
            with contextlib.suppress(OSError):  # the companies done are not read again (unless the disk is full)
                _save_manifest(store, seen)
            raise
    _save_manifest(store, seen)
    return IngestResult(entries=len(members), processed=processed, skipped=len(members) - len(todo))


def _save_manifest(store: PartitionStore, seen: dict[str, int]) -> None:
    """Each entry's CRC-32 as last ingested: the next run reads only entries whose CRC differs."""
    store.write_bytes(MANIFEST, json.dumps(seen, indent=0).encode())
