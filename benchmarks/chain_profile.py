"""Where the per-company tables' time goes: the whole build's wall and CPU seconds, and the seconds of
each table of company_batches.CHAIN, written into the warehouse batch by batch, and of the checkpoint
that stores them, summed over the batches of one full build (two at a time: see company_batches), on a
warehouse of N synthetic companies made by the nightly job of benchmarks/bulk_ingest.py.

    .venv/bin/python benchmarks/chain_profile.py [--companies 600 | --snapshot] [--repeat 1] [--rerun K [K ...]]
        [--threads N] [--at-once N]
    .venv/bin/python benchmarks/chain_profile.py --companies 600 --operators 25
    .venv/bin/python benchmarks/chain_profile.py --companies 600 --facts-as-view

With --facts-as-view, core.facts is not the warehouse's table but a view of the Parquet partitions it
is loaded from: what the tables would cost if the load were left out. A batch's filter on cik skips
other companies' row groups by each file's statistics (the folders' cik= read as the column instead
skips files by name, and cost the tables more: a filter that comes from a join then read every file).

With --operators N it prints instead the N costliest operators (by the timings of DuckDB's profiler, as
EXPLAIN ANALYZE shows them) of the steps, each run once over the whole warehouse in build order: which
join, aggregate or scan of which step to look at.

To compare with an earlier version of pipelines/lib/company_batches.py, --against FILE times each
build with that version too, alternately, on the same warehouse (an older file without _build_table is
timed whole, the build and the checkpoint). For an earlier sql/, check it out and run the script.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import itertools
import json
import random
import shutil
import sys
import tempfile
import threading
import time
import types
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import dagster as dg
import duckdb

from bulk_ingest import build_archive, nightly_job
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import company_batches, warehouse
from pipelines.refresh import run_refresh

Seconds = collections.defaultdict[str, float]
_adding = threading.Lock()  # two batches run at once, each on its own thread


def timed(spent: Seconds, label, function):
    """function, adding its seconds to spent[label(*args)]."""
    def wrapper(*args, **kwargs):
        wall = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            with _adding:
                spent[label(*args)] += time.perf_counter() - wall
    return wrapper


COPIED = "of which a re-run's rows copied from its memory into the warehouse"
DELETED = "the rows a re-run replaces, deleted"


def checkpoint(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("checkpoint")


def profile(database: Path, rerun: int = 0, threads: int | None = None) -> tuple[Seconds, float, float]:
    """One full build of the chain on database, as a build runs it (deferred reclaiming of deleted rows),
    or with rerun, the build of a re-run of that many companies (the same ones each time, their facts
    reloaded first as the load does); with threads,
    DuckDB's thread count (one thread builds the batches one at a time)."""
    spent: Seconds = collections.defaultdict(float)
    conn = duckdb.connect(str(database))
    if threads:
        conn.execute(f"set threads = {threads}")
    conn.execute("set max_vacuum_tasks = 0")  # as a build that defers reclaiming deleted rows
    conn.execute("set preserve_insertion_order = false")  # as the load leaves the build's connection
    with ExitStack() as patches:
        patches.enter_context(mock.patch.object(
            warehouse, "run_sql", timed(spent, lambda conn, name, *rest: name, warehouse.run_sql)))
        if hasattr(company_batches, "_build_table"):  # an older company_batches.py (an A/B run) is timed whole
            patches.enter_context(mock.patch.object(
                company_batches, "_build_table",
                timed(spent, lambda conn, home, batch, name, *rest: name, company_batches._build_table)))
        if hasattr(company_batches, "_copy_into"):  # a re-run's: part of each step's time, told apart after the table
            patches.enter_context(mock.patch.object(
                company_batches, "_copy_into", timed(spent, lambda *args: COPIED, company_batches._copy_into)))
        if hasattr(company_batches, "_delete"):
            patches.enter_context(mock.patch.object(
                company_batches, "_delete", timed(spent, lambda *args: DELETED, company_batches._delete)))
        ciks = [cik for cik, _ in company_batches.companies(conn)]
        only = set(random.Random(7).sample(ciks, rerun)) if rerun else None
        if only:
            reload(conn, sorted(only))
        wall, cpu = time.perf_counter(), time.process_time()
        company_batches.build(conn, only)
        timed(spent, lambda conn: "checkpoint: the rows written to the file", checkpoint)(conn)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    conn.close()
    return spent, wall, cpu


def reload(conn: duckdb.DuckDBPyConnection, ciks: list[str]) -> None:
    """The companies' facts deleted and appended again, as the load of a re-run leaves them: their new
    rows together at the table's end, their old ones deleted but not reclaimed (not timed)."""
    conn.execute("create temp table reloaded as select * from core.facts where cik in ?", [ciks])
    conn.execute("delete from core.facts where cik in ?", [ciks])
    conn.execute("insert into core.facts select * from reloaded")
    conn.execute("drop table reloaded")
    conn.execute("checkpoint")


def facts_as_view(database: Path, partitions: Path) -> None:
    """core.facts replaced by a view of the partitions' usable rows (those the load inserts), each column
    of the table's type."""
    conn = duckdb.connect(str(database))
    columns = ", ".join(f"{name}::{kind} as {name}" for name, kind in conn.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = 'core' and table_name = 'facts' "
        "order by column_index").fetchall())
    conn.execute("drop table core.facts")
    conn.execute(f"create view core.facts as select {columns} from read_parquet('{partitions}/*/facts.parquet', "
                 "hive_partitioning = false) where reason is null")
    conn.close()


def operators(database: Path, top: int) -> list[tuple[float, str, str, int, str]]:
    """The costliest operators of each chain step over the whole warehouse: (seconds, step, operator,
    rows out, what it works on), from DuckDB's JSON profile of the step's create statement."""
    found = []
    profile_file = database.with_suffix(".profile.json")
    conn = duckdb.connect(str(database))
    conn.execute("set preserve_insertion_order = false")
    conn.execute(f"set memory_limit = '{company_batches.MEMORY_LIMIT}'")

    def walk(node: dict, step: str) -> None:
        info = node.get("extra_info") or {}
        detail = {key: info[key] for key in ("Table", "Join Type", "Conditions", "Groups", "Aggregates", "Filters",
                                             "CTE Name") if key in info}
        found.append((node.get("timing", 0.0), step, node.get("type"), node.get("intermediate_rows"), str(detail)))
        for child in node.get("children", []):
            walk(child, step)

    for name in company_batches.CHAIN:
        for statement in duckdb.extract_statements(warehouse.sql_text(name)):
            profiled = statement.query.lstrip().lower().startswith("create or replace table")
            if profiled:
                conn.execute("pragma enable_profiling = 'json'")
                conn.execute(f"pragma profiling_output = '{profile_file}'")
            conn.execute(statement.query)
            if profiled:
                conn.execute("pragma disable_profiling")
                for node in json.loads(profile_file.read_text())["operator"]:
                    walk(node, name)
    conn.close()
    return sorted(found, key=lambda row: -row[0])[:top]


def other_version(path: Path) -> types.ModuleType:
    """company_batches as path has it, beside this tree's."""
    spec = importlib.util.spec_from_file_location(f"company_batches_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


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
    parser.add_argument("--rerun", type=int, nargs="+", default=[0], metavar="K",
                        help="time a re-run of K companies instead; several K: one of each in turn, on the same warehouse "
                             "(a re-run of 1 against one of K: what any re-run's tables cost, and what each company adds)")
    parser.add_argument("--threads", type=int, default=0, help="DuckDB's threads (default: one per core)")
    parser.add_argument("--at-once", type=int, default=0, help="batches built at once, at most DuckDB's threads (1: "
                        "one after the other, each on every thread; default: as the build does)")
    parser.add_argument("--against", type=Path, metavar="FILE",
                        help="another version of company_batches.py (git show REV:pipelines/lib/company_batches.py > "
                             "FILE), each build timed with it too, alternately, on the same warehouse")
    parser.add_argument("--facts-as-view", action="store_true",
                        help="core.facts a view of the Parquet partitions instead of the loaded table")
    parser.add_argument("--operators", type=int, default=0, metavar="N",
                        help="print the N costliest operators of DuckDB's profile of each step instead")
    args = parser.parse_args()
    if args.facts_as_view and any(args.rerun):
        parser.error("--facts-as-view times full builds only: a re-run reloads its companies' facts into core.facts")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if args.snapshot:
            snapshot_warehouse(work)
        else:
            build_archive(work / "companyfacts.zip", args.companies)
            nightly_job(work / "companyfacts.zip", work, workers=2)
        if args.operators:
            print("| seconds | step | operator | rows out | on |\n|---|---|---|---|---|")
            for seconds, step, operator, rows, detail in operators(work / "capexwatch.duckdb", args.operators):
                print(f"| {seconds:.2f} | {step} | {operator} | {rows:,} | {detail[:160]} |")
            return
        last: dict[str, Seconds] = {}  # each kind of build's step seconds, its last build's
        versions = {"": company_batches, **({f", with {args.against}": other_version(args.against)} if args.against else {})}
        # alternately, against the machine's drift
        for _, rerun, version in itertools.product(range(args.repeat), args.rerun, versions):
            shutil.copy(work / "capexwatch.duckdb", work / "profiled.duckdb")
            if args.facts_as_view:
                facts_as_view(work / "profiled.duckdb", work / "facts_parquet")
            with ExitStack() as patches:
                patches.enter_context(mock.patch.dict(globals(), company_batches=versions[version]))
                if args.at_once:
                    patches.enter_context(mock.patch.object(company_batches, "BATCHES_AT_ONCE", args.at_once))
                spent, wall, cpu = profile(work / "profiled.duckdb", rerun, args.threads)
            what = "the snapshot's 7 companies" if args.snapshot else f"{args.companies:,} companies"
            build = (f"a re-run of {rerun}" if rerun else "one full build") + version
            build += ", core.facts a view of the partitions" if args.facts_as_view else ""
            print(f"per-company tables of {what}, {build}: {wall:.2f} s, CPU {cpu:.2f} core-s\n")
            last[build] = spent
    for build, spent in last.items():
        # two batches run at once, so a step's seconds are summed over both threads, and its share is of that sum
        copied = spent.pop(COPIED, None)  # counted in each step's seconds already
        total = sum(spent.values())
        print(f"{build} (the last one timed):\n\n| step | seconds, summed over the batches | share |\n|---|---|---|")
        for step, seconds in sorted(spent.items(), key=lambda item: -item[1]):
            print(f"| {step} | {seconds:.2f} | {seconds / total:.0%} |")
        if copied is not None:
            print(f"\n{COPIED}, over every step: {copied:.2f} s ({copied / total:.0%})")
        print()


if __name__ == "__main__":
    main()
