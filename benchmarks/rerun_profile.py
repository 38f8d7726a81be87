"""Where a 1 % re-run's partitions and load stages go, part by part, beside the same re-run through the
nightly job and 1 % of the full run's stages, on a warehouse of N synthetic companies made by the nightly
job of benchmarks/bulk_ingest.py, every hundredth company then changed in the archive (as its re-run).

    .venv/bin/python benchmarks/rerun_profile.py [--companies 2400] [--workers 2] [--repeat 3]

The partitions: bulk.ingest on the changed archive (wall time, the workers' CPU), the manifest of the
full run restored before each repeat; beside it, a pool of the same workers that only opens the
archive, the fixed cost of starting them. The load: what the build's load stage runs
(fact_partitions.load_changed, then the filing partitions and filer profiles), on a fresh copy of the
full run's warehouse each repeat, opened as a build opens it (deleted rows left for later, see
publish._defer_compaction); each SQL step, the reading of every company's partition record and the
commit timed, the rest by difference.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import resource
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, TypeVar
from unittest import mock

import duckdb

from bulk_ingest import build_archive, cpu_seconds, nightly_job
from pipelines.lib import bulk, fact_partitions, filer_profiles, filing_partitions, publish, warehouse
from pipelines.lib.partition_store import PartitionStore

Spent = collections.defaultdict[str, list[float]]  # part: [seconds, core-seconds]
T = TypeVar("T")


@contextlib.contextmanager
def clock(spent: Spent, part: str) -> Iterator[None]:
    """Adds the block's wall and CPU seconds (this process, every thread) to spent[part]."""
    wall, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    try:
        yield
    finally:
        spent[part][0] += time.perf_counter() - wall
        spent[part][1] += cpu_seconds(resource.RUSAGE_SELF) - cpu


def clocked(spent: Spent, part: Callable[..., str], function: Callable[..., T]) -> Callable[..., T]:
    """function, its seconds added to spent[part(*args)]."""
    def wrapper(*args, **kwargs):
        with clock(spent, part(*args)):
            return function(*args, **kwargs)
    return wrapper


def open_archive(archive: str) -> None:
    """What a worker does before its first company: open the archive (see bulk.archive_reader)."""
    bulk.archive_reader(archive)


def pool_start(archive: Path, workers: int) -> float:
    """Seconds to start the ingest's pool and have each worker open the archive, nothing else."""
    wall = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, initializer=open_archive, initargs=(str(archive),)) as pool:
        list(pool.map(abs, range(workers)))  # the pool started (each worker opens the archive as it starts)
    return time.perf_counter() - wall


def partitions(archive: Path, store: PartitionStore, manifest: bytes, workers: int) -> tuple[int, float, float]:
    """The changed companies' partitions made again from the full run's manifest: how many, seconds and
    the workers' CPU."""
    store.write_bytes(bulk.MANIFEST, manifest)
    wall, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    result = bulk.ingest(archive, store, workers)
    return len(result.processed), time.perf_counter() - wall, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def load(database: Path, work: Path) -> tuple[int, bool, Spent]:
    """The build's load stage on database (a copy of the full run's): companies loaded, whether a commit
    checkpointed (the WAL the loaded rows went to is gone), and each part's wall and CPU seconds."""
    spent: Spent = collections.defaultdict(lambda: [0.0, 0.0])
    facts, filings = PartitionStore(str(work / "facts_parquet")), PartitionStore(str(work / "filings_parquet"))
    run_sql = clocked(spent, lambda conn, name, *rest: name, warehouse.run_sql)
    records = clocked(spent, lambda *args: "every company's partition record read", fact_partitions.records)

    build_transaction = warehouse.transaction

    @contextlib.contextmanager
    def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
        """warehouse.transaction itself, the clock started once its body is done: its commit timed."""
        with contextlib.ExitStack() as after_commit:
            with build_transaction(conn):
                yield conn
                after_commit.enter_context(clock(spent, "the commits"))

    conn = warehouse.connect(database)
    try:
        publish._defer_compaction(conn)
        with (mock.patch.object(warehouse, "run_sql", run_sql),
              mock.patch.object(warehouse, "transaction", transaction),
              mock.patch.object(fact_partitions, "records", records)):
            whole: Spent = collections.defaultdict(lambda: [0.0, 0.0])
            with clock(whole, "load"):
                loaded, removed = fact_partitions.load_changed(conn, facts)
                filing_partitions.load(conn, filings, removed)
                filer_profiles.load(conn, filings, removed)
        wal = database.with_name(database.name + ".wal")
        checkpointed = bool(loaded) and (not wal.exists() or wal.stat().st_size == 0)
    finally:
        conn.close()
    spent["the rest (finding the changed companies, the filings' and profiles' loads, ...)"] = [
        whole["load"][i] - sum(part[i] for part in spent.values()) for i in (0, 1)]
    return len(loaded), checkpointed, spent


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        archive, store = work / "companyfacts.zip", PartitionStore(str(work / "facts_parquet"))
        build_archive(archive, args.companies)
        full = nightly_job(archive, work, args.workers)
        shutil.copy(work / "capexwatch.duckdb", work / "full.duckdb")
        manifest = store.read_bytes(bulk.MANIFEST)
        changed = set(range(0, args.companies, 100))
        build_archive(archive, args.companies, changed)
        rerun = nightly_job(archive, work, args.workers)
        share = len(changed) / args.companies
        print(f"{args.companies:,} companies, {len(changed)} changed ({share:.1%}); seconds (CPU core-seconds)\n")
        print("| | partitions | load |\n|---|---|---|")
        print(f"| {share:.1%} of the full run | {full['partitions'] * share:.2f} ({full['cpu_workers'] * share:.2f} in "
              f"the workers) | {full['seconds_load'] * share:.2f} ({full['cpu_seconds_load'] * share:.2f}) |")
        print(f"| the re-run through the nightly job | {rerun['partitions']:.2f} ({rerun['cpu_workers']:.2f} in the "
              f"workers) | {rerun['seconds_load']:.2f} ({rerun['cpu_seconds_load']:.2f}) |\n")
        made = [partitions(archive, store, manifest, args.workers) for _ in range(args.repeat)]
        starts = [pool_start(archive, args.workers) for _ in range(args.repeat)]
        print(f"the re-run's partitions, bulk.ingest alone ({made[0][0]} companies, {args.repeat} times): "
              f"{spread([m[1] for m in made])} s, {spread([m[2] for m in made])} core-s in the workers; "
              f"starting {args.workers} workers that open the archive: {spread(starts)} s\n")
        runs = []
        for _ in range(args.repeat):
            (work / "profiled.duckdb.wal").unlink(missing_ok=True)  # a stale WAL would be replayed onto the copy
            shutil.copy(work / "full.duckdb", work / "profiled.duckdb")
            runs.append(load(work / "profiled.duckdb", work))
        print(f"the re-run's load, part by part ({runs[0][0]} companies, {args.repeat} times on fresh copies; "
              f"a commit checkpointed: {sum(run[1] for run in runs)} of {args.repeat}):\n")
        print("| part | seconds | core-seconds |\n|---|---|---|")
        for part in runs[0][2]:
            seconds, cpu = ([run[2][part][i] for run in runs] for i in (0, 1))
            print(f"| {part} | {spread(seconds)} | {spread(cpu)} |")
        total = [sum(seconds for seconds, _ in run[2].values()) for run in runs]
        print(f"| the whole stage | {spread(total)} (median {statistics.median(total):.2f}) | |")


if __name__ == "__main__":
    main()
