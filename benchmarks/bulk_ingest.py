"""The whole market, measured stage by stage at N, 4N and 16N companies in one run: the raw parse
limit, capexwatch's nightly job end to end (the bulk ingest and the warehouse build through Dagster,
published), a re-run with 1 % of the companies changed, one with nothing changed, re-runs until one
reclaims the rows re-runs delete, peak memory of every process, and edgartools on the same archive.

The archive is synthetic but made of real data: the snapshot's three companyfacts files repeated
under distinct CIKs, compressed like SEC's companyfacts.zip. edgartools runs in its own virtual
environment (benchmarks/.venv-edgartools, created on first use from edgartools-requirements.txt).

    .venv/bin/python benchmarks/bulk_ingest.py [--companies 150] [--scales 1,4,16] [--workers 2] [--no-edgartools]
"""

from __future__ import annotations

import argparse
import datetime as dt
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

import dagster as dg
import duckdb
import orjson

from pipelines.defs.bulk_assets import bulk_companyfacts
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.defs.warehouse_assets import warehouse_build
from pipelines.lib import bulk, fact_partitions, publish
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


def _entries(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as bundle:
        return [info.filename for info in bundle.infolist()]


def parse_only(archive: str, names: list[str]) -> int:
    """The raw limit: decompress and parse each entry, build nothing."""
    facts = 0
    with zipfile.ZipFile(archive) as bundle:
        for name in names:
            document = orjson.loads(bundle.read(name))
            facts += sum(len(values) for tags in document["facts"].values() for body in tags.values()
                         for values in body["units"].values())
    return facts


def flatten_only(archive: str, names: list[str]) -> int:
    """capexwatch's reading without its writing: each entry through DuckDB's typed flattening
    (staging/companyfacts_rows), nothing written. Every column is counted: with count(*) alone, DuckDB
    drops the columns nobody reads and skips computing them (the reasons, the dates, the values), a
    quarter of the flattening."""
    with zipfile.ZipFile(archive) as bundle:
        return sum(flatten_entry(archive, bundle.getinfo(name)) for name in names)


def flatten_entry(archive: str, info: zipfile.ZipInfo) -> int:
    """One entry of flatten_only: its facts."""
    return bulk.archive_reader(archive).execute("select count(*), count(columns(*)) from companyfacts_rows(?, ?)",
                                                [f"zip://{info.filename}", info.file_size]).fetchall()[0][0]


def cpu_seconds(who: int) -> float:
    """User + system CPU time of this process (RUSAGE_SELF) or of its children that have ended
    (RUSAGE_CHILDREN), in core-seconds."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def in_workers(task, archive: Path, workers: int) -> tuple[float, int, float]:
    """task over the archive's entries, spread over the workers like the ingest; seconds, its total and
    the workers' CPU time."""
    names = _entries(archive)
    chunks = [names[i::workers] for i in range(workers)]
    start, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(task, [str(archive)] * workers, chunks))
    return time.perf_counter() - start, total, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def nightly_job(archive: Path, work: Path, workers: int) -> dict:
    """The bulk ingest and the warehouse build, as the nightly job and its automation run them (through
    Dagster, publishing the warehouse); seconds per stage from the steps' own metadata and the build's
    record (the private copy, the last checkpoint, the rename), and the CPU time of this process (Dagster and
    the build) and of the ingest's workers."""
    sec = SecResource(mode="offline", warehouse_dir=str(work))
    warehouse_db = WarehouseResource(database_path=str(work / "capexwatch.duckdb"))
    start, main_cpu, workers_cpu = (time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF),
                                    cpu_seconds(resource.RUSAGE_CHILDREN))
    result = dg.materialize([bulk_companyfacts, warehouse_build], resources={"sec": sec, "warehouse_db": warehouse_db},
                            run_config={"ops": {"bulk__companyfacts": {"config": {"archive": str(archive),
                                                                                    "workers": workers}}}},
                            instance=dg.DagsterInstance.ephemeral())
    seconds = time.perf_counter() - start
    main_cpu, workers_cpu = cpu_seconds(resource.RUSAGE_SELF) - main_cpu, cpu_seconds(resource.RUSAGE_CHILDREN) - workers_cpu
    events = {tuple(e.asset_key.path): e.materialization.metadata for e in result.get_asset_materialization_events()}
    steps = {e.step_key: e for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    build = events[("core", "metrics_wide")]
    record = publish.read_record(warehouse_db.path())
    return {
        "seconds": seconds, "cpu_main": main_cpu, "cpu_workers": workers_cpu,
        "partitions": steps["bulk__companyfacts"].event_specific_data.duration_ms / 1000,
        "processed": events[("bulk", "companyfacts")]["processed"].value,
        **{key: build[key].value for key in ("seconds_load", "seconds_tables", "seconds_company_tables",
                                             "seconds_metadata", "seconds_checks", "companies_rebuilt",
                                             "cpu_seconds_load", "cpu_seconds_tables")},
        "facts": events[("core", "facts")]["dagster/row_count"].value,
        **{f"seconds_{stage}": record.seconds.get(stage, 0.0) for stage in ("copy", "checkpoint", "publication")},
        "deleted_rows": record.deleted_rows, "compacted": record.compacted,
        "file_mb": warehouse_db.path().stat().st_size / 2**20,
    }


def compaction_cycle(archive: Path, work: Path, workers: int, companies: int, most: int = 80,
                     until_reclaimed: bool = True) -> list[dict]:
    """Re-runs of 1 % of the companies each, other companies every time, until a build reclaims the
    deleted rows that re-runs leave (publish._defer_compaction), that build included (or most re-runs):
    what a re-run costs over time. A change is made where the build sees it, in the companies'
    partition records (their Parquet files stay: flattening is the re-run's partitions stage)."""
    store = PartitionStore(work / "facts_parquet")
    runs = []
    for turn in range(1, most + 1):
        for number in range(turn, companies, 100):
            cik = f"{9_000_000_000 + number:010d}"
            record = fact_partitions.read_record(store, cik)
            fact_partitions.write_record(store, cik, **{**{k: v for k, v in record.items() if k != "cik"},
                                                        "raw_sha256": f"{record['raw_sha256']} turn {turn}"})
        runs.append(nightly_job(archive, work, workers))
        if until_reclaimed and runs[-1]["compacted"]:
            break
    return runs


def cycle_summary(runs: list[dict]) -> dict:
    return {"runs": len(runs), "mean": sum(r["seconds"] for r in runs) / len(runs), "first": runs[0],
            "last": runs[-1], "largest_deleted": max(r["deleted_rows"] for r in runs)}


def child(stage: str, archive: str, work: str, workers: int, companies: int) -> None:
    """One scale's nightly job in a process of its own (stage "full"), or, in a second process, the
    same job again with 1 % of the companies changed, then with nothing changed (what any run costs),
    then the re-runs until deleted rows are reclaimed (stage "reruns"); peak memory of this process (the
    build's DuckDB included) and of its largest worker."""
    if stage == "full":
        out = {"full": nightly_job(Path(archive), Path(work), workers)}
    else:
        changed = set(range(0, companies, 100))
        build_archive(Path(archive), companies, changed)
        rerun = nightly_job(Path(archive), Path(work), workers)
        unchanged = nightly_job(Path(archive), Path(work), workers)
        cycle = cycle_summary(compaction_cycle(Path(archive), Path(work), workers, companies))
        with duckdb.connect(str(Path(work) / "capexwatch.duckdb"), read_only=True) as conn:
            values = conn.execute(f"select {' + '.join(f'count({m})' for m in SERIES)} "
                                  "from marts.quarterly").fetchone()[0]
            sample = conn.execute(f"select calendar_quarter, {', '.join(SERIES)} from marts.quarterly where cik = ? "
                                  "order by period_end desc limit 4", [SAMPLE_CIK]).fetchall()
        out = {"rerun": rerun, "unchanged": unchanged, "cycle": cycle, "changed": len(changed), "values": values,
               "sample": {quarter: values for quarter, *values in sample}}
    print(json.dumps({**out, "main_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))


def in_child(stage: str, archive: Path, work: Path, workers: int, companies: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", stage, str(archive), str(work), str(workers),
                          str(companies)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


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


def measure(companies: int, workers: int, scratch: Path, with_edgartools: bool) -> dict:
    """One scale. The raw limit is measured just before the full job and just after it, and the shares
    use the mean of the two: the machine's speed drifts over minutes, and edgartools takes a quarter of
    an hour at 2,400 companies. The typed flattening runs next to the raw limit, to be compared with it.
    The re-runs are the first jobs of their process, as a scheduled run is (Dagster starts each run in a
    process of its own)."""
    archive, work = scratch / f"companyfacts-{companies}.zip", scratch / f"work-{companies}"
    json_bytes = build_archive(archive, companies)
    theirs = edgartools(archive, workers) if with_edgartools else None
    flatten_seconds, _, flatten_cpu = in_workers(flatten_only, archive, workers)
    raw_before = in_workers(parse_only, archive, workers)
    full = in_child("full", archive, work, workers, companies)
    raw_after = in_workers(parse_only, archive, workers)
    reruns = in_child("reruns", archive, work, workers, companies)
    archive.unlink()
    return {"companies": companies, "mb": json_bytes / 1e6, "facts": raw_before[1],
            "raw": (raw_before[0] + raw_after[0]) / 2, "raw_cpu": (raw_before[2] + raw_after[2]) / 2,
            "raw_before": raw_before[0], "raw_after": raw_after[0],
            "flatten": flatten_seconds, "flatten_cpu": flatten_cpu, "edgartools": theirs, **reruns, **full,
            "main_kb": max(full["main_kb"], reruns["main_kb"]), "worker_kb": max(full["worker_kb"], reruns["worker_kb"])}


RERUN_STAGES = ("partitions / load / per-company tables / whole-market tables (marts) / metadata + checks / "
                "private copy of the published file / last checkpoint + rename / "
                "the rest, untimed (Dagster's run, opening the warehouse, the build's record)")


def rerun_stages(rerun: dict) -> str:
    stages = [rerun["partitions"], rerun["seconds_load"], rerun["seconds_company_tables"],
              rerun["seconds_tables"] - rerun["seconds_company_tables"], rerun["seconds_metadata"] + rerun["seconds_checks"],
              rerun["seconds_copy"], rerun["seconds_checkpoint"] + rerun["seconds_publication"]]
    return " / ".join(f"{seconds:,.1f}" for seconds in [*stages, rerun["seconds"] - sum(stages)]) + " s"


def cpu_account(r: dict, budget: float) -> str:
    """The job's CPU split where it is spent, each part against the budget: which stage leaves the target
    out of reach. The typed flattening is the least that reads the archive into typed rows."""
    full = r["full"]
    parts = [r["flatten_cpu"], full["cpu_workers"] - r["flatten_cpu"], full["cpu_seconds_load"],
             full["cpu_seconds_tables"], full["cpu_main"] - full["cpu_seconds_load"] - full["cpu_seconds_tables"]]
    return " / ".join(f"{used:,.0f} ({used / budget:.0%})" for used in parts) + f" = {sum(parts) / budget:.0%}"


def report(runs: list[dict], workers: int) -> None:
    first = runs[0]
    print(f"{dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, DuckDB {duckdb.__version__}; {workers} worker processes; archive of the "
          f"snapshot's 3 companyfacts files repeated (SEC's has about 18,000 filers)\n")
    print("| | " + " | ".join(f"{r['companies']:,} companies" for r in runs) + " |")
    print("|---|" + "---|" * len(runs))

    def row(label: str, cell) -> None:
        print(f"| {label} | " + " | ".join(cell(r) for r in runs) + " |")

    def cpu(r: dict) -> float:
        return r["full"]["cpu_workers"] + r["full"]["cpu_main"]

    def timed(seconds: float, r: dict) -> str:
        return f"{seconds:,.1f} s ({r['mb'] / seconds:,.0f} MB/s)"

    row("JSON in the archive / facts", lambda r: f"{r['mb'] / 1e3:,.2f} GB / {r['facts'] / 1e6:,.1f} M")
    row("**raw limit**: unzip + orjson parse, nothing built; the mean of a run just before the job and one just "
        "after it", lambda r: f"{timed(r['raw'], r)}; {r['raw_before']:,.1f} s before, {r['raw_after']:,.1f} s after")
    row("unzip + DuckDB's typed flattening (every column computed), nothing written", lambda r: timed(r["flatten"], r))
    row("1. partitions: flatten + one Parquet file per company (CPU: the workers')",
        lambda r: f"{timed(r['full']['partitions'], r)}; CPU {r['full']['cpu_workers']:,.0f} core-s")
    row("2. load core.facts", lambda r: f"{r['full']['seconds_load']:,.1f} s; CPU {r['full']['cpu_seconds_load']:,.0f} core-s")
    row("3. every table (company batches, then marts)",
        lambda r: f"{r['full']['seconds_tables']:,.1f} s; CPU {r['full']['cpu_seconds_tables']:,.0f} core-s")
    row("4. table metadata for Dagster", lambda r: f"{r['full']['seconds_metadata']:,.1f} s")
    row("5. checks", lambda r: f"{r['full']['seconds_checks']:,.1f} s")
    row("**end to end**: Dagster job, ingest and build, published", lambda r: timed(r["full"]["seconds"], r))
    row("ingest (1 + 2) as a share of the raw limit's throughput",
        lambda r: f"{r['raw'] / (r['full']['partitions'] + r['full']['seconds_load']):.0%}")
    row("archive to every mart (end to end) as a share of the raw limit's throughput",
        lambda r: f"{r['raw'] / r['full']['seconds']:.0%}")
    row("CPU time, core-seconds: raw limit / typed flattening / end to end (ingest workers + main process, "
        "Dagster and the build)",
        lambda r: f"{r['raw_cpu']:,.0f} / {r['flatten_cpu']:,.0f} / {cpu(r):,.0f} "
                  f"({r['full']['cpu_workers']:,.0f} + {r['full']['cpu_main']:,.0f})")
    row(f"cores busy on average, end to end (of {os.cpu_count()})", lambda r: f"{cpu(r) / r['full']['seconds']:.2f}")
    row("archive to every mart at 50 % of the raw limit's throughput: time and CPU budget on these cores; "
        "CPU used end to end against it",
        lambda r: f"{2 * r['raw']:,.1f} s, {2 * r['raw'] * os.cpu_count():,.0f} core-s; "
                  f"{cpu(r) / (2 * r['raw'] * os.cpu_count()):.0%}")
    row("the CPU used end to end, stage by stage, in core-seconds and as a share of that budget: the typed "
        "flattening alone (measured beside the raw limit) / the rest of the partitions stage (the workers' CPU "
        "less that: the Parquet files, the counts read back, the records) / the load / the tables / the rest of "
        "the job (Dagster, metadata, checks, publication)", lambda r: cpu_account(r, 2 * r["raw"] * os.cpu_count()))
    row("end-to-end time against the first column (companies x4, x16)",
        lambda r: f"{r['full']['seconds'] / first['full']['seconds']:.1f}x")
    row("re-run, 1 % of companies changed, end to end",
        lambda r: f"{r['rerun']['seconds']:,.1f} s ({r['rerun']['seconds'] / r['full']['seconds']:.1%} of a full run; "
                  f"{r['rerun']['processed']} ingested, {r['rerun']['companies_rebuilt']} rebuilt)")
    row(f"re-run by stage: {RERUN_STAGES}", lambda r: rerun_stages(r["rerun"]))
    row("re-run with nothing changed, end to end (what any run costs)",
        lambda r: f"{r['unchanged']['seconds']:,.1f} s ({r['unchanged']['seconds'] / r['full']['seconds']:.1%} of a "
                  f"full run; by stage: {rerun_stages(r['unchanged'])})")
    row("the private copy alone, in every build (grows with the warehouse, not with the change)",
        lambda r: f"{r['rerun']['seconds_copy']:,.1f} s ({r['rerun']['seconds_copy'] / r['full']['seconds']:.1%} of a "
                  f"full run; {r['rerun']['file_mb']:,.0f} MB)")
    row("re-runs of 1 % each, other companies each time, until one reclaims the deleted rows (that one included)",
        lambda r: f"{r['cycle']['runs']} re-runs, {r['cycle']['mean']:,.1f} s each on average "
                  f"({r['cycle']['mean'] / r['full']['seconds']:.1%} of a full run; first "
                  f"{r['cycle']['first']['seconds']:,.1f} s, the reclaiming one {r['cycle']['last']['seconds']:,.1f} s at "
                  f"{r['cycle']['largest_deleted']:.0%} of a table's rows deleted; file "
                  f"{r['cycle']['first']['file_mb']:,.0f} MB to {r['cycle']['last']['file_mb']:,.0f} MB)")
    row("peak memory: main process (build included) / largest worker",
        lambda r: f"{r['main_kb'] / 1024:,.0f} MB / {r['worker_kb'] / 1024:,.0f} MB")
    if all(r["edgartools"] for r in runs):
        row("edgartools: quarterly income and cash-flow statements per company",
            lambda r: f"{r['edgartools']['seconds']:,.1f} s (capexwatch {r['edgartools']['seconds'] / r['full']['seconds']:.1f}x faster)")
        row("10x edgartools end to end: time and CPU budget on these cores; the typed flattening alone, the raw "
            "limit and the whole job against it",
            lambda r: f"{r['edgartools']['seconds'] / 10:,.1f} s, {r['edgartools']['seconds'] / 10 * os.cpu_count():,.0f} "
                      f"core-s; " + " / ".join(f"{used / (r['edgartools']['seconds'] / 10 * os.cpu_count()):.0%}"
                                               for used in (r["flatten_cpu"], r["raw_cpu"], cpu(r))))
        row("quarterly revenue, capex and OCF values: capexwatch / edgartools",
            lambda r: f"{r['values']:,} / {r['edgartools']['values']:,}")
        print(f"\nsame company (CIK {SAMPLE_CIK}, Alphabet's data), newest quarters, USD millions:")
        for quarter, values in first["sample"].items():
            print(f"  capexwatch {quarter}: " + ", ".join(f"{m} {v / 1e6:,.0f}" for m, v in zip(SERIES, values) if v))
        for metric, points in first["edgartools"]["sample"].items():
            print(f"  edgartools {metric}: " + ", ".join(f"{k} {v / 1e6:,.0f}" for k, v in list(points.items())[:4]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=150, help="N, the smallest scale")
    parser.add_argument("--scales", default="1,4,16", help="multiples of N to measure")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-edgartools", action="store_true", help="skip the edgartools comparison")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child[:3], int(args.child[3]), int(args.child[4]))
        return
    with tempfile.TemporaryDirectory() as scratch:
        runs = [measure(args.companies * int(scale), args.workers, Path(scratch), not args.no_edgartools)
                for scale in args.scales.split(",")]
    report(runs, args.workers)


if __name__ == "__main__":
    main()
