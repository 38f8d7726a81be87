"""Bulk ingest of a companyfacts archive, measured side by side in one run: throughput against the
raw parse limit, capexwatch's marts against edgartools' quarterly statements for the same
companies, memory at N and 4N companies, and an incremental re-run.

The archive is synthetic but made of real data: the snapshot's three companyfacts files repeated
under distinct CIKs, compressed like SEC's companyfacts.zip. edgartools runs in its own virtual
environment (benchmarks/.venv-edgartools, created on first use from edgartools-requirements.txt).

    .venv/bin/python benchmarks/bulk_ingest.py [--companies 150] [--workers 2] [--no-edgartools]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import orjson

from pipelines.defs.warehouse_assets import PREPARE, SQL_TABLES
from pipelines.lib import bulk, fact_partitions, warehouse
from pipelines.lib.partition_store import PartitionStore
from pipelines.lib.settings import SNAPSHOT_DIR

SNAPSHOT = sorted((SNAPSHOT_DIR / "data.sec.gov/api/xbrl/companyfacts").glob("*.json"))
HERE = Path(__file__).resolve().parent
EDGARTOOLS_VENV = HERE / ".venv-edgartools"
SAMPLE_CIK = "9000000002"  # Alphabet's file under its synthetic CIK (SNAPSHOT is sorted by CIK)
SERIES = ("revenue", "capex", "ocf")


def build_archive(path: Path, companies: int, changed: set[int] = frozenset()) -> int:
    """Writes the archive; returns its uncompressed JSON bytes."""
    documents = [json.loads(file.read_bytes()) for file in SNAPSHOT]
    total = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(companies):
            cik = 9_000_000_000 + number
            document = {**documents[number % 3], "cik": cik}
            if number in changed:
                document["entityName"] = f"{document['entityName']} (amended)"
            content = orjson.dumps(document)
            total += len(content)
            archive.writestr(f"CIK{cik:010d}.json", content)
    return total


def parse_only(archive: str, names: list[str]) -> int:
    """The raw limit: decompress and parse each entry, build nothing."""
    facts = 0
    with zipfile.ZipFile(archive) as bundle:
        for name in names:
            document = orjson.loads(bundle.read(name))
            facts += sum(len(values) for tags in document["facts"].values() for body in tags.values()
                         for values in body["units"].values())
    return facts


def raw_limit(archive: Path, workers: int) -> tuple[float, int]:
    with zipfile.ZipFile(archive) as bundle:
        names = [info.filename for info in bundle.infolist()]
    chunks = [names[i::workers] for i in range(workers)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        facts = sum(pool.map(parse_only, [str(archive)] * workers, chunks))
    return time.perf_counter() - start, facts


def into_core_facts(archive: Path, work: Path, workers: int) -> duckdb.DuckDBPyConnection:
    """The archive's changed companies as partitions, loaded into core.facts; the open warehouse."""
    store = PartitionStore(work / "parquet")
    bulk.ingest(archive, store, workers=workers)
    conn = warehouse.connect(work / "capexwatch.duckdb")
    fact_partitions.load_changed(conn, store)
    return conn


def ingest(archive: Path, work: Path, workers: int) -> tuple[float, int]:
    start = time.perf_counter()
    conn = into_core_facts(archive, work, workers)
    facts = conn.execute("select count(*) from core.facts").fetchall()[0][0]
    conn.close()
    return time.perf_counter() - start, facts


def to_marts(archive: Path, work: Path, workers: int) -> tuple[float, int, dict]:
    """Archive -> core.facts -> every SQL transform through marts.quarterly: capexwatch's answer to
    the question edgartools is asked below."""
    start = time.perf_counter()
    conn = into_core_facts(archive, work, workers)
    for name in SQL_TABLES:
        PREPARE.get(name, lambda _: None)(conn)
        warehouse.run_sql(conn, name)
    seconds = time.perf_counter() - start
    values = conn.execute(f"select {' + '.join(f'count({m})' for m in SERIES)} from marts.quarterly").fetchall()[0][0]
    sample = conn.execute(f"select calendar_quarter, {', '.join(SERIES)} from marts.quarterly where cik = ? "
                          "order by period_end desc limit 4", [SAMPLE_CIK]).fetchall()
    conn.close()
    return seconds, values, {quarter: values for quarter, *values in sample}


def edgartools(archive: Path, workers: int) -> dict:
    """The same archive through edgartools, in its own environment (installed on first use)."""
    python = EDGARTOOLS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(EDGARTOOLS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(HERE / "edgartools-requirements.txt")],
                       check=True)
    out = subprocess.run([str(python), str(HERE / "edgartools_quarterly.py"), str(archive), str(workers), SAMPLE_CIK],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(archive: str, work: str, workers: int) -> None:
    """Run one ingest and report its peak memory: this process and its largest worker."""
    ingest(Path(archive), Path(work), workers)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"main_kb": own, "worker_kb": workers_peak}))


def peak_memory(companies: int, workers: int, scratch: Path) -> dict:
    archive = scratch / f"peak-{companies}.zip"
    build_archive(archive, companies)
    out = subprocess.run([sys.executable, __file__, "--child", str(archive), str(scratch / f"peak-{companies}"),
                          str(workers)], capture_output=True, text=True, check=True)
    archive.unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-edgartools", action="store_true", help="skip the edgartools comparison")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        archive = scratch / "companyfacts.zip"
        json_bytes = build_archive(archive, args.companies)
        limit_seconds, limit_facts = raw_limit(archive, args.workers)
        ours_seconds, ours_facts = ingest(archive, scratch / "work", args.workers)
        marts_seconds, marts_values, our_sample = to_marts(archive, scratch / "marts", args.workers)
        theirs = None if args.no_edgartools else edgartools(archive, args.workers)
        changed = set(range(0, args.companies, 100))  # 1 %
        build_archive(archive, args.companies, changed)
        rerun_seconds, _ = ingest(archive, scratch / "work", args.workers)
        zipped = archive.stat().st_size / 1e6
        small = peak_memory(args.companies, args.workers, scratch)
        large = peak_memory(4 * args.companies, args.workers, scratch)
    mb = json_bytes / 1e6
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.companies} companies, {mb:,.0f} MB of JSON ({zipped:.0f} MB zipped), "
          f"{args.workers} worker processes\n")
    print("| measure | time | MB/s | facts/s |")
    print("|---|---|---|---|")
    print(f"| raw limit: unzip + orjson parse, no tables | {limit_seconds:.1f} s | {mb / limit_seconds:,.0f} | {limit_facts / limit_seconds:,.0f} |")
    print(f"| capexwatch: unzip, parse, type, Parquet per company, load core.facts | {ours_seconds:.1f} s | "
          f"{mb / ours_seconds:,.0f} | {ours_facts / ours_seconds:,.0f} |")
    print(f"| capexwatch re-run, 1 % of companies changed ({len(changed)}) | {rerun_seconds:.1f} s | | |")
    print(f"\ncapexwatch at {ours_seconds / limit_seconds:.1f}x the raw limit's time "
          f"({limit_seconds / ours_seconds:.0%} of its throughput)\n")
    print("| to quarterly revenue, capex and operating cash flow series | time | series values | x faster |")
    print("|---|---|---|---|")
    print(f"| capexwatch: archive -> core.facts -> marts.quarterly (every transform) | {marts_seconds:.1f} s | "
          f"{marts_values:,} | |")
    if theirs:
        print(f"| edgartools: parse each company, quarterly income and cash-flow statements | {theirs['seconds']:.1f} s | "
              f"{theirs['values']:,} | capexwatch {theirs['seconds'] / marts_seconds:.1f}x |")
        print(f"\nsame company (CIK {SAMPLE_CIK}, Alphabet's data), newest quarters, USD millions:")
        for quarter, values in our_sample.items():
            print(f"  capexwatch {quarter}: " + ", ".join(f"{m} {v / 1e6:,.0f}" for m, v in zip(SERIES, values) if v))
        for metric, points in theirs["sample"].items():
            print(f"  edgartools {metric}: " + ", ".join(f"{k} {v / 1e6:,.0f}" for k, v in list(points.items())[:4]))
    print()
    print("| companies | peak memory, main process | peak memory, largest worker |")
    print("|---|---|---|")
    for count, peak in ((args.companies, small), (4 * args.companies, large)):
        print(f"| {count} | {peak['main_kb'] / 1024:,.0f} MB | {peak['worker_kb'] / 1024:,.0f} MB |")


if __name__ == "__main__":
    main()
