"""The capexwatch command through its installed entry point, on a warehouse in a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

CAPEXWATCH = str(Path(sys.executable).parent / "capexwatch")


def run(warehouse_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SEC_USER_AGENT", "CAPEXWATCH_MODE", "DAGSTER_HOME")}
    environment.update(CAPEXWATCH_WAREHOUSE_DIR=str(warehouse_dir), **env)
    return subprocess.run([CAPEXWATCH, *args], capture_output=True, text=True, env=environment, timeout=300)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    warehouse_dir = tmp_path_factory.mktemp("cli")
    return warehouse_dir, run(warehouse_dir, "refresh")


def test_refresh_builds_the_warehouse_and_prints_a_summary(refreshed):
    warehouse_dir, result = refreshed
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("capexwatch refresh (offline)")
    summary = {line.split()[0]: line for line in lines if line[:6].strip() in {"GOOGL", "MSFT", "NVDA", "AAPL"}}
    assert "FY2026 Q1 (to 2026-03-31, 2026Q1)  capex $35.7B  revenue $109.9B  capex/revenue 32.5% quarter" in summary["GOOGL"]
    assert summary["MSFT"].endswith("no offline data (no companyfacts, no filing documents)")
    assert (warehouse_dir / "capexwatch.duckdb").is_file()
    assert (warehouse_dir / "raw/data.sec.gov/api/xbrl/companyfacts/CIK0001652044.json.meta.json").is_file()


def test_a_second_refresh_gives_identical_tables(refreshed):
    warehouse_dir, _ = refreshed
    database = str(warehouse_dir / "capexwatch.duckdb")

    def fingerprint() -> list[tuple]:
        with duckdb.connect(database, read_only=True) as conn:
            return [conn.execute(f"select count(*), sum(hash(t)) from marts.{mart} as t").fetchone()
                    for mart in ("quarterly", "annual", "ttm", "calendar_totals")]

    before = fingerprint()
    assert run(warehouse_dir, "refresh", "--ticker", "GOOGL").returncode == 0
    assert fingerprint() == before


def test_errors_are_one_clear_line(refreshed, tmp_path):
    warehouse_dir, _ = refreshed
    unknown = run(tmp_path, "refresh", "--ticker", "ZZZZ")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "Error: unknown ticker 'ZZZZ': not in the ticker map; pass its CIK instead"
    live = run(tmp_path, "refresh", "--mode", "live")
    assert live.returncode == 1 and "SEC_USER_AGENT" in live.stderr and "Traceback" not in live.stderr
    with duckdb.connect(str(warehouse_dir / "capexwatch.duckdb")):
        locked = run(warehouse_dir, "summary")
    assert locked.returncode == 1 and "is locked by another process" in locked.stderr
    assert "Traceback" not in locked.stderr and len(locked.stderr.strip().splitlines()) == 1
