"""Where the ingest's CPU goes: a worker's steps company by company, and the load of core.facts with
its rows stored compressed (as the warehouse file keeps them) or not, on an archive of N synthetic
companies made like benchmarks/bulk_ingest.py's.

    .venv/bin/python benchmarks/ingest_profile.py [--companies 200] [--writer-settings]

The worker's steps run in this process, one DuckDB thread as in the pool, each company through every
step in turn (the machine's swings then fall on every step alike): DuckDB's JSON reader alone (the
flattening's SQL stopped after its first CTE), the facts unnested but not typed (stopped after the
unnesting), DuckDB's typed flattening with nothing written, the flattening written as the company's
Parquet file, the counts read back from that file, and the whole of bulk.ingest_entry (the flattening
written, the counts, the partition's record and the store). The load
runs sql/core/facts__from_parquet.sql over every partition, with the build's settings, into a new
warehouse file (then checkpointed) and into a database in memory (DuckDB keeps its rows there
uncompressed): the difference is what compressing and writing the rows to the file costs.

With --writer-settings it compares, instead, the partitions written with other Parquet settings
(compression, encodings): the worker's writing and counting, and the load of what they wrote.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import zipfile
from pathlib import Path

import duckdb

from bulk_ingest import build_archive, cpu_seconds, flatten_entry
from pipelines.lib import bulk, companyfacts, warehouse
from pipelines.lib.partition_store import PartitionStore


def cpu() -> float:
    return cpu_seconds(resource.RUSAGE_SELF)


def company_entries(archive: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(archive) as bundle:
        return [info for info in bundle.infolist() if bulk._ENTRY.search(info.filename)]


def worker_steps(archive: Path, work: Path) -> tuple[dict[str, list[float]], PartitionStore]:
    """Each step's CPU seconds for every company of archive; the partitions, written by ingest_entry."""
    store = PartitionStore(str(work / "partitions"))
    conn = bulk.archive_reader(str(archive))
    entries = company_entries(archive)
    scratch = work / "scratch.parquet"
    for cte in ("documents", "facts"):
        conn.execute(_cut_after(cte))
    steps = {
        "DuckDB's JSON reader alone: each document read into its nested types": lambda info: conn.execute(
            "select count(*), count(cik), count(facts) from companyfacts_documents(?, ?)",
            [f"zip://{info.filename}", info.file_size]).fetchall(),
        "unnested to one row per fact, not typed": lambda info: conn.execute(
            "select count(*), count(columns(*)) from companyfacts_facts(?, ?)",
            [f"zip://{info.filename}", info.file_size]).fetchall(),
        "typed flattening, nothing written": lambda info: flatten_entry(str(archive), info),
        "flattening written to Parquet": lambda info: companyfacts._write_parquet(
            conn, "companyfacts_rows(?, ?)", [f"zip://{info.filename}", info.file_size], scratch),
        "counts read back from the Parquet file": lambda info: conn.execute(
            "select * from companyfacts_counts(?, null)", [str(scratch)]).fetchall(),
        "bulk.ingest_entry, the whole step": lambda info: bulk.ingest_entry(str(archive), info, store.url),
    }
    spent: dict[str, list[float]] = {step: [] for step in steps}
    for info in entries:
        for step, run in steps.items():
            started = cpu()
            run(info)
            spent[step].append(cpu() - started)
    return spent, store


WRITER_SETTINGS = {  # COPY options for a partition: capexwatch's (DuckDB's defaults) first
    "snappy (capexwatch)": "", "uncompressed": ", compression uncompressed", "lz4": ", compression lz4",
    "zstd": ", compression zstd", "snappy, Parquet v2 encodings": ", parquet_version v2",
}


def writer_settings(archive: Path, work: Path) -> None:
    """Other Parquet writer settings for the partitions: each company written with every setting in turn
    (rotated, so that none is always first), then counted from its file as the worker does; then every
    setting's partitions loaded into a warehouse file, three times, in alternating order."""
    conn = bulk.archive_reader(str(archive))
    entries = company_entries(archive)
    spent: dict[str, list[float]] = {name: [] for name in WRITER_SETTINGS}
    for number, info in enumerate(entries):
        names = list(WRITER_SETTINGS)
        for name in names[number % len(names):] + names[:number % len(names)]:
            target = work / f"setting-{names.index(name)}" / f"cik={number:010d}" / "facts.parquet"
            target.parent.mkdir(parents=True)
            started = cpu()
            conn.execute(f"copy (select * from companyfacts_rows(?, ?)) to ? (format parquet{WRITER_SETTINGS[name]})",
                         [f"zip://{info.filename}", info.file_size, str(target)])
            conn.execute("select * from companyfacts_counts(?, null)", [str(target)]).fetchall()
            spent[name].append(cpu() - started)
    stores = {name: PartitionStore(str(work / f"setting-{i}")) for i, name in enumerate(WRITER_SETTINGS)}
    loads: dict[str, list[float]] = {name: [] for name in WRITER_SETTINGS}
    for turn in range(3):
        for name in (list(WRITER_SETTINGS) if turn % 2 == 0 else list(reversed(WRITER_SETTINGS))):
            loads[name].append(load(stores[name], str(work / f"loaded-{turn}.duckdb"), work))
            (work / f"loaded-{turn}.duckdb").unlink()
    print(f"Parquet writer settings for the partitions, {len(entries):,} companies:\n")
    print("| setting | written + counted, CPU ms per company: median, mean | files | load into a warehouse file, "
          "CPU core-s (three runs) |\n|---|---|---|---|")
    for name, seconds in spent.items():
        megabytes = sum(path.stat().st_size for path in Path(stores[name].url).glob("cik=*/facts.parquet")) / 1e6
        print(f"| {name} | {statistics.median(seconds) * 1e3:.1f}, {statistics.mean(seconds) * 1e3:.1f} "
              f"| {megabytes:,.1f} MB | {', '.join(f'{x:.2f}' for x in loads[name])} |")


def _cut_after(cte: str) -> str:
    """The flattening's macro stopped after one of its CTEs (companyfacts_<cte>): what the steps before
    the typing cost, from the same SQL."""
    sql = warehouse.sql_text("staging/companyfacts_rows")
    macro, end = "create or replace temp macro companyfacts_rows(", "select * from flattened;"
    assert macro in sql and end in sql, "staging/companyfacts_rows.sql changed shape: update _cut_after"
    return sql[:sql.index(end)].replace(macro, f"create or replace temp macro companyfacts_{cte}(") + f"select * from {cte}"


def load(store: PartitionStore, database: str, scratch: Path) -> float:
    """CPU seconds of loading every partition into core.facts of database, as fact_partitions loads them
    (in memory without its 512 MB limit, past which DuckDB would write the rows to temporary files)."""
    conn = duckdb.connect(database, config={"temp_directory": str(scratch)})
    conn.execute("create schema core")
    warehouse.run_sql(conn, "core/facts__create")
    if database != ":memory:":
        conn.execute("set memory_limit = '512MB'")
    conn.execute("set preserve_insertion_order = false")
    files = sorted(str(path) for path in Path(store.url).glob("cik=*/facts.parquet"))
    started = cpu()
    warehouse.run_sql(conn, "core/facts__from_parquet", files=files)
    if database != ":memory:":
        conn.execute("checkpoint")
    seconds = cpu() - started
    spilled = conn.execute("select count(*) from duckdb_temporary_files()").fetchone()[0]
    assert database != ":memory:" or not spilled, "the in-memory load spilled to disk: not a load into memory"
    conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--writer-settings", action="store_true",
                        help="compare Parquet writer settings for the partitions instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        build_archive(work / "companyfacts.zip", args.companies)
        if args.writer_settings:
            writer_settings(work / "companyfacts.zip", work)
            return
        spent, store = worker_steps(work / "companyfacts.zip", work)
        whole = sum(spent["bulk.ingest_entry, the whole step"])
        print(f"a worker's steps, {args.companies:,} companies (CPU, ms per company):\n")
        print("| step | median | mean | against ingest_entry |\n|---|---|---|---|")
        for step, seconds in spent.items():
            print(f"| {step} | {statistics.median(seconds) * 1e3:.1f} | {statistics.mean(seconds) * 1e3:.1f} "
                  f"| {sum(seconds) / whole:.0%} |")
        into_file = load(store, str(work / "loaded.duckdb"), work)
        in_memory = load(store, ":memory:", work)
        print(f"\nthe load of core.facts, CPU: into a warehouse file {into_file:.1f} core-s; into memory, "
              f"rows uncompressed {in_memory:.1f} core-s ({in_memory / into_file:.0%} of it)")


if __name__ == "__main__":
    main()
