"""Deferred reclaiming of deleted rows against DuckDB's default, over the same consecutive re-runs.

A re-run deletes its companies' rows and appends new ones; by default every checkpoint merges the
appended rows into the last row group of each table and rewrites it. capexwatch defers that until a
quarter of some table's rows are deleted ones (publish._defer_compaction). Both ways run here from
the same full build, each over the same re-runs of 1 % of the companies (other companies each time,
changed in their partition records as in benchmarks/bulk_ingest.py), in one process, one after the
other.

    .venv/bin/python benchmarks/compaction.py [--companies 2400] [--runs 36] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bulk_ingest import build_archive, compaction_cycle, nightly_job
from pipelines.lib import publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=2400)
    parser.add_argument("--runs", type=int, default=36)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    deferred = publish.DELETED_ROWS_TO_COMPACT
    with tempfile.TemporaryDirectory() as scratch:
        archive, built = Path(scratch) / "companyfacts.zip", Path(scratch) / "built"
        build_archive(archive, args.companies)
        full = nightly_job(archive, built, args.workers)["seconds"]
        print(f"{args.companies:,} companies, full run {full:,.1f} s; {args.runs} re-runs of 1 % each\n")
        print("| reclaiming deleted rows | mean re-run | first 5 | last 5 | builds that let DuckDB reclaim | "
              "largest deleted share | file at the end |")
        print("|---|---|---|---|---|---|---|")
        for label, threshold in (("deferred (capexwatch)", deferred), ("at every checkpoint (DuckDB's default)", 0.0)):
            work = Path(scratch) / "work"
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(built, work)
            publish.DELETED_ROWS_TO_COMPACT = threshold  # 0: every build lets DuckDB reclaim, as by default
            runs = compaction_cycle(archive, work, args.workers, args.companies, args.runs, until_reclaimed=False)
            seconds = [run["seconds"] for run in runs]
            reclaimed = sum(run["compacted"] for run in runs) if threshold else len(runs)
            print(f"| {label} | {sum(seconds) / len(seconds):,.1f} s | {sum(seconds[:5]) / 5:,.1f} s | "
                  f"{sum(seconds[-5:]) / 5:,.1f} s | {reclaimed} of {len(runs)} | "
                  f"{max(run['deleted_rows'] for run in runs):.0%} | {runs[-1]['file_mb']:,.0f} MB |")
        publish.DELETED_ROWS_TO_COMPACT = deferred


if __name__ == "__main__":
    main()
