"""Where the per-company tables' time goes: each table of company_batches.CHAIN, written into the
warehouse batch by batch, and the checkpoint that stores them, summed over one full build (wall and
CPU seconds), on a warehouse of N synthetic companies made by the nightly job of
benchmarks/bulk_ingest.py.

    .venv/bin/python benchmarks/chain_profile.py [--companies 600 | --snapshot] [--repeat 1] [--rerun K]

To compare with an earlier build, check out its pipelines/lib/company_batches.py (and sql/) and run
this script as it is: the build and the checkpoint are then timed whole.
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import dagster as dg
import duckdb

from bulk_ingest import build_archive, nightly_job
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import company_batches, warehouse
from pipelines.refresh import run_refresh

Seconds = collections.defaultdict[str, list[float]]


def timed(spent: Seconds, label, function):
    """function, adding its wall and CPU seconds to spent[label(*args)]."""
    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            entry = spent[label(*args)]
            entry[0] += time.perf_counter() - wall
            entry[1] += time.process_time() - cpu
    return wrapper


def checkpoint(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("checkpoint")


def profile(database: Path, rerun: int = 0) -> tuple[Seconds, float, float]:
    """One full build of the chain on database, as a build runs it (deferred reclaiming of deleted rows),
    or with rerun, the build of a re-run of that many companies (the same ones each time)."""
    spent: Seconds = collections.defaultdict(lambda: [0.0, 0.0])
    conn = duckdb.connect(str(database))
    conn.execute("set max_vacuum_tasks = 0")  # as a build that defers reclaiming deleted rows
    conn.execute("set preserve_insertion_order = false")  # as the load leaves the build's connection
    with ExitStack() as patches:
        patches.enter_context(mock.patch.object(
            warehouse, "run_sql", timed(spent, lambda conn, name, *rest: name, warehouse.run_sql)))
        if hasattr(company_batches, "_build_table"):  # an older company_batches.py (an A/B run) is timed whole
            patches.enter_context(mock.patch.object(
                company_batches, "_build_table",
                timed(spent, lambda conn, home, batch, name, *rest: name, company_batches._build_table)))
        ciks = [cik for cik, _ in company_batches.companies(conn)]
        only = set(random.Random(7).sample(ciks, rerun)) if rerun else None
        wall, cpu = time.perf_counter(), time.process_time()
        company_batches.build(conn, only)
        timed(spent, lambda conn: "checkpoint: the rows written to the file", checkpoint)(conn)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.close()
    return spent, wall, cpu


def snapshot_warehouse(work: Path) -> None:
    """The offline default build: the snapshot's seven companies, every one with filing documents."""
    sec = SecResource(mode="offline", warehouse_dir=str(work))
    run_refresh(sec, WarehouseResource(database_path=str(work / "capexwatch.duckdb")), dg.DagsterInstance.ephemeral())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=600)
    parser.add_argument("--snapshot", action="store_true",
                        help="the snapshot's offline build instead of N synthetic companies")
    parser.add_argument("--repeat", type=int, default=1, help="builds to time, one after the other, each on a fresh copy")
    parser.add_argument("--rerun", type=int, default=0, metavar="K", help="time a re-run of K companies instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if args.snapshot:
            snapshot_warehouse(work)
        else:
            build_archive(work / "companyfacts.zip", args.companies)
            nightly_job(work / "companyfacts.zip", work, workers=2)
        for _ in range(args.repeat):
            shutil.copy(work / "capexwatch.duckdb", work / "profiled.duckdb")
            spent, wall, cpu = profile(work / "profiled.duckdb", args.rerun)
            what = "the snapshot's 7 companies" if args.snapshot else f"{args.companies:,} companies"
            build = f"a re-run of {args.rerun}" if args.rerun else "one full build"
            print(f"per-company tables of {what}, {build}: {wall:.2f} s, CPU {cpu:.2f} core-s\n")
    print("| step | seconds | share | CPU core-s |\n|---|---|---|---|")
    for step, (seconds, cpu_seconds) in sorted(spent.items(), key=lambda item: -item[1][0]):
        print(f"| {step} | {seconds:.2f} | {seconds / wall:.0%} | {cpu_seconds:.2f} |")


if __name__ == "__main__":
    main()
