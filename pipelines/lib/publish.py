"""Build the warehouse on a private copy, check it, publish it with one rename.

Every way a build starts (the CLI, a Dagster job from the UI or the command line, the schedule, the
sensor, automation, a backfill) goes through `private_build`, so the guarantee holds on all of them:
readers never wait for a build and never see part of one (they hold the file they opened, the
rename swaps in a whole new one); a build killed at any point leaves the last published state; a
build whose blocking checks fail is discarded; and a process writing to the published file is never
overwritten: the build refuses instead. The outcome of the last build, with the rows of any failed
check, is kept beside the warehouse for `capexwatch status`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import BinaryIO, ContextManager, Iterator

import duckdb

from pipelines.lib import atomic, warehouse


class WarehouseHeld(RuntimeError):
    """Another process has the published warehouse open for writing; publishing would drop its writes."""


class ChecksFailed(RuntimeError):
    """An ERROR-severity check failed on the new build, so it was not published."""


@dataclasses.dataclass
class CheckOutcome:
    check: str  # "core/metric_values:capex_non_negative"
    severity: str  # "ERROR" blocks publication, "WARN" does not
    failures: int
    rows: list[dict]  # the first offending rows, for the reader of the record

    @property
    def blocking(self) -> bool:
        return self.failures > 0 and self.severity == "ERROR"


@dataclasses.dataclass
class BuildRecord:
    build_id: str
    started_at: str
    status: str = "building"  # -> published | refused (blocking checks) | failed (an error)
    finished_at: str | None = None
    error: str | None = None
    rebuilt: str | None = None  # why the build started from nothing instead of the published file
    company_inputs: str | None = None  # digest of what the per-company tables were built from (company_batches)
    checks: list[CheckOutcome] = dataclasses.field(default_factory=list)
    published_file: list[int] | None = None  # what the rename published: inode, size, change time (ns)
    deleted_rows: float | None = None  # the largest share of a table's stored rows deleted when the build began
    compacted: bool = False  # the build reclaimed deleted rows (see _defer_compaction)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # copy, final checkpoint, publication


@dataclasses.dataclass
class PrivateBuild:
    path: Path  # the private copy being built
    conn: duckdb.DuckDBPyConnection  # read-write, on the copy only
    record: BuildRecord


def record_path(published: Path) -> Path:
    return published.with_name(published.name + ".last-build.json")


def read_record(published: Path) -> BuildRecord | None:
    """The outcome of the last build of this warehouse, or None before the first. Fields this version
    does not know (a record written by a newer one) are left out."""
    path = record_path(published)
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    known = {field.name for field in dataclasses.fields(BuildRecord)} - {"checks"}
    return BuildRecord(**{key: value for key, value in data.items() if key in known},
                       checks=[CheckOutcome(**c) for c in data.get("checks", [])])


def _last_published(published: Path) -> list[int] | None:
    """The identity of the file the last build published, if its record can say: a record that cannot
    be read costs a walk of the file, never the build (the build writes a new one)."""
    try:
        record = read_record(published)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return record.published_file if record else None


@contextmanager
def private_build(published: Path, wait_seconds: float = 0, rebuild: bool = False) -> Iterator[PrivateBuild]:
    """Yield a read-write connection to a fresh private copy of the published warehouse; when the
    block ends without an error, publish the copy. Raise ChecksFailed inside the block to refuse.

    The copy starts empty (the build then reloads every stored partition) when asked to (rebuild)
    or when the published file is unreadable; the old file is then kept beside the new one under
    another name, and only once the new one is published: a build that fails or is killed leaves
    it where it was."""
    copy = published.with_name(f".{published.name}.building")
    record = BuildRecord(build_id=uuid.uuid4().hex[:12], started_at=_now())
    with _build_lock(published, wait_seconds):
        last = _last_published(published)
        _write_record(published, record)  # a build killed midway is seen as one that never finished
        try:
            damage = unreadable(published, last)
            existed = published.exists()
            if damage:
                record.rebuilt = f"{published} was unreadable ({damage})"
            elif rebuild and existed:
                record.rebuilt = "asked to rebuild (--rebuild)"
            # no writer from the copy to the rename: what one wrote in between would be renamed away
            # (a file DuckDB cannot open has no writer)
            with (nullcontext(None) if damage else _no_writer(published)) as source:
                with stopwatch(record.seconds, "copy"):
                    _copy_published(None if record.rebuilt else source, published, copy)
                conn = warehouse.connect(copy)
                try:
                    record.deleted_rows, record.compacted = _defer_compaction(conn)
                    yield PrivateBuild(copy, conn, record)
                    _stamp(conn, record)
                    with stopwatch(record.seconds, "checkpoint"):
                        conn.execute("checkpoint")  # everything in the file itself, nothing left in a WAL
                finally:
                    conn.close()
                keep = _aside_name(published, "unreadable" if damage else "before-rebuild", record.build_id) \
                    if record.rebuilt else None
                with stopwatch(record.seconds, "publication"):
                    _publish(copy, published, existed=existed, keep=keep)
                record.published_file = _identity(published)
            if keep:
                record.rebuilt += f"; the old file is kept as {keep.name}"
            record.status = "published"
        except BaseException as exc:
            record.status, record.error = ("refused" if isinstance(exc, ChecksFailed) else "failed"), _line(exc)
            raise
        finally:
            for leftover in (copy, _wal(copy)):
                leftover.unlink(missing_ok=True)
            record.finished_at = _now()
            _write_record(published, record)


def unreadable(path: Path, published: list[int] | None = None) -> str | None:
    """Why DuckDB cannot use the file, or None. Opening it reads its headers and catalog (an empty
    file, not DuckDB's, a damaged header) and replays a WAL left beside it; the blocks its tables'
    data lie in must then be in the file (a truncated copy opens, and fails only when a query reaches
    past its end). A lock held by another process is not damage. The file the last build published,
    untouched since (published: its identity then), needs no walk of its blocks: the walk costs a
    third of a second for a 2 GB warehouse, a sixth of a re-run that changes nothing."""
    if not path.exists():
        return None
    try:
        conn = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return None if warehouse.is_lock_error(exc) else _line(exc)
    try:
        if published is not None and _identity(path) == published:
            return None
        block_size = conn.execute("pragma database_size").fetchone()[2]
        tables = conn.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        last = max([conn.execute("select max(greatest(block_id, list_max(additional_block_ids))) "
                                 "from pragma_storage_info(?)", [warehouse.quoted(*table)]).fetchone()[0] or -1
                    for table in tables] or [-1])
    except duckdb.Error as exc:
        return _line(exc)
    finally:
        conn.close()
    needed, size = HEADER_BYTES + int(block_size) * (last + 1), path.stat().st_size
    return f"truncated: {size:,} bytes, its tables' data reach to byte {needed:,}" if size < needed else None


HEADER_BYTES = 3 * 4096  # DuckDB's file header and its two database headers, before the first block


def _identity(path: Path) -> list[int]:
    """Which file, and whether it changed since: any write or truncation moves its change time, which,
    unlike the modification time, no process can set back."""
    status = path.stat()
    return [status.st_ino, status.st_size, status.st_ctime_ns]


DELETED_ROWS_TO_COMPACT = 0.25
ROW_GROUP = 122_880  # DuckDB's rows per row group: a table of one has nothing to merge


def _defer_compaction(conn: duckdb.DuckDBPyConnection) -> tuple[float, bool]:
    """Keep DuckDB from reclaiming deleted rows at this build's checkpoints until a quarter of some
    table's stored rows are deleted ones. A re-run replaces a few companies' rows in every
    per-company table; by default each checkpoint then merges the appended rows into the table's
    last row group and rewrites it, 1.4 s of a re-run with 1 % of 2,400 companies changed. Deferred,
    the deleted rows wait as tombstones (hidden from every query) and are reclaimed together by the
    first build past the threshold. Returns the largest deleted share and whether this build reclaims."""
    tables = conn.execute("select schema_name, table_name, estimated_size from duckdb_tables() "
                          f"where database_name = current_database() and estimated_size > {ROW_GROUP}").fetchall()
    live = dict(conn.execute(" union all ".join(f"select {number}, count(*) from {warehouse.quoted(schema, table)}"
                                                for number, (schema, table, _) in enumerate(tables))).fetchall()
                if tables else [])
    # estimated_size counts the rows written, deleted ones included
    deleted = max([round(1 - live[number] / stored, 4) for number, (_, _, stored) in enumerate(tables)], default=0.0)
    compacting = deleted >= DELETED_ROWS_TO_COMPACT
    if not compacting:
        conn.execute("set max_vacuum_tasks = 0")
    return deleted, compacting


@contextmanager
def stopwatch(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """seconds[stage]: how long the block took, for the build's record and its Dagster metadata; and
    seconds[f"cpu_{stage}"], the CPU time this process spent meanwhile, all threads (DuckDB's included):
    against the wall time it tells a stage that keeps the cores busy from one that waits."""
    started, cpu = time.perf_counter(), time.process_time()
    yield
    seconds[stage] = round(time.perf_counter() - started, 2)
    seconds[f"cpu_{stage}"] = round(time.process_time() - cpu, 2)


def _aside_name(published: Path, why: str, build_id: str) -> Path:
    return published.with_name(f"{published.name}.{why}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{build_id}")


def _build_lock(published: Path, wait_seconds: float) -> ContextManager[None]:
    """One build per warehouse at a time, whatever started it."""
    return warehouse.exclusive(published.with_name(published.name + ".build.lock"), wait_seconds,
                               f"another build of {published} is running")


@contextmanager
def _no_writer(published: Path) -> Iterator[BinaryIO | None]:
    """Hold a read lock on the published file, which no writer can share: a process with it open for
    writing makes this refuse, and none can open it for writing while the lock is held (DuckDB
    refuses it, naming this process). Yields the file open for reading (None if there is none yet):
    the lock is a POSIX lock, which this process would lose the moment it closed any descriptor of
    the file, so the build reads it only through this one, closed last."""
    if not published.exists():
        yield None
        return
    try:
        conn = duckdb.connect(str(published), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        if not warehouse.is_lock_error(exc):
            raise
        raise WarehouseHeld(
            f"{published} is open for writing by another process ({_holder(exc)}); a build would drop "
            "its writes, so nothing was published: close that session (or open it read-only) and retry"
        ) from exc
    try:
        with published.open("rb") as source:
            yield source
    finally:
        conn.close()


def _copy_published(source: BinaryIO | None, published: Path, copy: Path) -> None:
    """Copy the file (and a WAL left by a writer that died, which DuckDB replays on the copy)."""
    for leftover in (copy, _wal(copy)):
        leftover.unlink(missing_ok=True)
    if source is None:
        return
    with copy.open("wb") as target:
        _copy_bytes(source, target)
    if _wal(published).exists():
        shutil.copyfile(_wal(published), _wal(copy))


def _copy_bytes(source: BinaryIO, target: BinaryIO) -> None:
    """The whole file, in the kernel where it can (copy_file_range: about 5x faster than through Python
    for a 2 GB warehouse, and a reflink on file systems that share blocks), else chunk by chunk."""
    try:
        size, done = os.fstat(source.fileno()).st_size, 0
        while done < size:
            copied = os.copy_file_range(source.fileno(), target.fileno(), size - done, done, done)
            if not copied:
                raise OSError(f"copy_file_range stopped at byte {done:,} of {size:,}")
            done += copied
    except (AttributeError, OSError):  # not Linux, or a file system that refuses it
        source.seek(0)
        target.seek(0)
        target.truncate()
        shutil.copyfileobj(source, target, 1 << 20)


def _publish(copy: Path, published: Path, existed: bool, keep: Path | None = None) -> None:
    """The rename readers see: the old file until this instant, the whole new one after it. A WAL
    of the old file is removed first, so that no reader ever pairs it with the new file; with keep,
    the old file (and its WAL) stay under that name, linked before the rename so that there is no
    instant without a warehouse. Called with the no-writer lock held, or before the first
    publication: then a file that appeared meanwhile is someone else's and is not replaced."""
    if not existed and published.exists():
        raise WarehouseHeld(f"{published} was created by another process during the first build; it was not "
                            "replaced and nothing was published: move it away (or remove it) and build again")
    if keep is not None and existed:
        for old, kept in ((published, keep), (_wal(published), _wal(keep))):
            if old.exists():
                _link_or_copy(old, kept)
    _wal(published).unlink(missing_ok=True)
    os.replace(copy, published)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)


def _stamp(conn: duckdb.DuckDBPyConnection, record: BuildRecord) -> None:
    """main.build_info says which build a reader is looking at (not part of the table fingerprints)."""
    conn.execute("create or replace table main.build_info as select ? as build_id, ?::timestamptz as built_at, "
                 "? as checks_failed, ? as company_inputs",
                 [record.build_id, _now(), sum(c.failures > 0 for c in record.checks), record.company_inputs])


def _write_record(published: Path, record: BuildRecord) -> None:
    atomic.write_bytes(record_path(published), json.dumps(dataclasses.asdict(record), indent=1, default=str).encode())


def _holder(exc: Exception) -> str:
    text = str(exc)
    start = text.find("Conflicting lock is held in ")
    if start < 0:
        return "a DuckDB session in this process"
    return text[start + len("Conflicting lock is held in "):].split(")")[0] + ")"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
