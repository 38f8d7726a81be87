"""Where a 1 % re-run's partitions and load go beyond 1 % of a full run's, part by part, on a warehouse
of N synthetic companies made by the nightly job of benchmarks/bulk_ingest.py, 1 % of them then
changed in the archive (as bulk_ingest.py's re-run changes them).

    .venv/bin/python benchmarks/rerun_profile.py [--companies 2400] [--workers 2] [--repeat 3]

The partitions: bulk.ingest on the changed archive (wall time, the workers' CPU), beside a pool of the
same workers that only opens the archive, the fixed cost of starting them. The load:
fact_partitions.load_changed on a copy of the warehouse, each SQL step and the reading of every
company's partition record timed, the rest (finding the changed companies, registering the records,
the commit) by difference; each repeat on a fresh copy of the warehouse.
"""

from __future__ import annotations

import argparse
import collections
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from unittest import mock

import duckdb

from bulk_ingest import build_archive, cpu_seconds, nightly_job
from pipelines.lib import bulk, fact_partitions, warehouse
from pipelines.lib.partition_store import PartitionStore

Spent = collections.defaultdict[str, list[float]]  # part: [seconds, core-seconds]


def timed(spent: Spent, label, function):
    """function, adding its wall and CPU seconds to spent[label(*args)]."""
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
        try:
            return function(*args, **kwargs)
        finally:
            seconds = spent[label(*args)]
            seconds[0] += time.perf_counter() - wall
            seconds[1] += cpu_seconds(resource.RUSAGE_SELF) - cpu
    return wrapper


def open_archive(archive: str) -> int:
    bulk.archive_reader(archive)
    return 0


def pool_start(archive: Path, workers: int) -> float:
    """Seconds to start the ingest's pool and have each worker open the archive, nothing else."""
    wall = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(open_archive, [str(archive)] * workers))
    return time.perf_counter() - wall


def partitions(archive: Path, store: PartitionStore, workers: int) -> tuple[int, float, float]:
    """The changed companies' partitions: how many, seconds and the workers' CPU."""
    wall, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    result = bulk.ingest(archive, store, workers)
    return len(result.processed), time.perf_counter() - wall, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def load(database: Path, store: PartitionStore) -> tuple[int, Spent]:
    """The changed companies loaded into database (a copy), with each part's wall and CPU seconds."""
    spent: Spent = collections.defaultdict(lambda: [0.0, 0.0])
    conn = duckdb.connect(str(database))
    with (mock.patch.object(warehouse, "run_sql", timed(spent, lambda conn, name, *rest: name, warehouse.run_sql)),
          mock.patch.object(fact_partitions, "records",
                            timed(spent, lambda *args: "every company's partition record read", fact_partitions.records))):
        whole: Spent = collections.defaultdict(lambda: [0.0, 0.0])
        loaded, _ = timed(whole, lambda *args: "whole", fact_partitions.load_changed)(conn, store)
    conn.close()
    spent["the rest (finding the changed companies, registering the records, the commit)"] = [
        whole["whole"][i] - sum(part[i] for part in spent.values()) for i in (0, 1)]
    return len(loaded), spent


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
        share = 0.01
        print(f"full run of {args.companies:,} companies: partitions {full['partitions']:.1f} s "
              f"({full['cpu_workers']:.1f} core-s in the workers), load {full['seconds_load']:.1f} s "
              f"({full['cpu_seconds_load']:.1f} core-s); 1 % of them: {full['partitions'] * share:.2f} s "
              f"({full['cpu_workers'] * share:.2f} core-s), {full['seconds_load'] * share:.2f} s "
              f"({full['cpu_seconds_load'] * share:.2f} core-s)\n")
        build_archive(archive, args.companies, set(range(0, args.companies, round(1 / share))))
        changed, seconds, cpu = partitions(archive, store, args.workers)
        starts = [pool_start(archive, args.workers) for _ in range(args.repeat)]
        print(f"re-run's partitions, {changed} companies: {seconds:.2f} s, {cpu:.2f} core-s in the workers; "
              f"starting {args.workers} workers that open the archive: {min(starts):.2f}-{max(starts):.2f} s\n")
        print("| part of a re-run's load | seconds | core-seconds |\n|---|---|---|")
        runs = []
        for _ in range(args.repeat):
            shutil.copy(work / "capexwatch.duckdb", work / "profiled.duckdb")
            runs.append(load(work / "profiled.duckdb", store))
        for part in runs[0][1]:
            wall, cpu = ([spent[part][i] for _, spent in runs] for i in (0, 1))
            print(f"| {part} | {min(wall):.2f}-{max(wall):.2f} | {min(cpu):.2f}-{max(cpu):.2f} |")
        print(f"\n{runs[0][0]} companies loaded, each of {args.repeat} times on a fresh copy of the warehouse")


if __name__ == "__main__":
    main()
