"""Nothing is lost or mixed: kill-and-resume, concurrent refreshes, readers during a refresh,
incremental reloads, and the defined outcome of each kind of bad data."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import filelock
import pytest

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import warehouse
from pipelines.lib.settings import SNAPSHOT_DIR
from pipelines.refresh import run_refresh
import reliability_log
from test_cli import CAPEXWATCH, run

GOOGL = "data.sec.gov/api/xbrl/companyfacts/CIK0001652044.json"
NVDA = "data.sec.gov/api/xbrl/companyfacts/CIK0001045810.json"


def fingerprint(database: Path) -> dict:
    with duckdb.connect(str(database), read_only=True) as conn:
        return warehouse.fingerprint(conn)


def test_killed_refreshes_lose_nothing_and_resume_to_the_same_tables(tmp_path):
    baseline = run(tmp_path, "refresh")
    assert baseline.returncode == 0, baseline.stderr[-1000:]
    database = tmp_path / "capexwatch.duckdb"
    expected = fingerprint(database)
    assert expected["marts.quarterly"][0] > 100
    environment = {k: v for k, v in os.environ.items() if k not in ("SEC_USER_AGENT", "CAPEXWATCH_MODE", "DAGSTER_HOME")}
    environment["CAPEXWATCH_WAREHOUSE_DIR"] = str(tmp_path)
    trials = int(os.environ.get("CAPEXWATCH_KILL_TRIALS", "2"))  # the reliability report runs more
    for delay in [round(random.Random(7 + trial).uniform(0.3, 6.0), 1) for trial in range(trials)]:
        process = subprocess.Popen([CAPEXWATCH, "refresh"], env=environment, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert fingerprint(database) == expected, f"killed after {delay}s: the warehouse changed"
        resumed = run(tmp_path, "refresh")
        assert resumed.returncode == 0, resumed.stderr[-1000:]
        assert fingerprint(database) == expected, f"resumed after a kill at {delay}s: different tables"
        reliability_log.record("kill", f"SIGKILL after {delay} s", "warehouse unchanged; re-run gave identical tables",
                               lost=0)
    assert not list(tmp_path.glob(".capexwatch.duckdb.building*"))
    reliability_log.record("idempotence", "the same refresh again", "identical content hashes of every table")


def test_a_second_refresh_stops_with_a_clear_message(tmp_path):
    lock = filelock.FileLock(tmp_path / "capexwatch.duckdb.refresh.lock")
    with lock.acquire(timeout=0):
        result = run(tmp_path, "refresh")
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"Error: another refresh of {tmp_path / 'capexwatch.duckdb'} is running")
    reliability_log.record("concurrency", "second refresh while one runs", "stopped with a clear message")


def _snapshot_copy(tmp_path: Path) -> Path:
    snapshot = tmp_path / "snapshot"
    shutil.copytree(SNAPSHOT_DIR, snapshot)
    return snapshot


def _refresh(snapshot: Path, warehouse_dir: Path, tickers: list[str]):
    sec = SecResource(mode="offline", warehouse_dir=str(warehouse_dir), snapshot_dir=str(snapshot), tickers=tickers)
    warehouse_db = WarehouseResource(database_path=str(warehouse_dir / "capexwatch.duckdb"))
    return run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral()), warehouse_db.path()


def _edit_capex(snapshot: Path, edit) -> None:
    path = snapshot / GOOGL
    doc = json.loads(path.read_bytes())
    edit(doc["facts"]["us-gaap"]["PaymentsToAcquirePropertyPlantAndEquipment"]["units"], doc)
    path.write_text(json.dumps(doc))


def test_readers_keep_a_consistent_state_and_only_the_changed_company_reloads(tmp_path):
    snapshot = _snapshot_copy(tmp_path)
    _, database = _refresh(snapshot, tmp_path / "wh", ["GOOGL", "NVDA"])
    with duckdb.connect(str(database), read_only=True) as conn:
        before_refreshed = dict(conn.execute("select ticker, refreshed_at from core.companies").fetchall())
    reader = duckdb.connect(str(database), read_only=True)  # an analyst's session, open during the refresh
    old_capex = reader.execute("select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025").fetchone()
    # Alphabet's data changes (a 10-K/A restating 2025 capex); NVIDIA's does not
    _edit_capex(snapshot, lambda units, doc: units["USD"].append({
        "start": "2025-01-01", "end": "2025-12-31", "val": 91_500_000_000, "accn": "0001652044-26-999999",
        "fy": 2025, "fp": "FY", "form": "10-K/A", "filed": "2026-06-01"}))
    report, _ = _refresh(snapshot, tmp_path / "wh", ["GOOGL", "NVDA"])
    assert report.ok
    assert reader.execute("select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025").fetchone() == old_capex
    reader.close()
    with duckdb.connect(str(database), read_only=True) as conn:
        after = dict(conn.execute("select ticker, refreshed_at from core.companies").fetchall())
        amended = conn.execute("""select value, first_value, accn, form, restated from core.metric_values
            where cik = '0001652044' and metric = 'capex' and period_type = 'fiscal_year' and fiscal_year = 2025""").fetchone()
    assert after["NVDA"] == before_refreshed["NVDA"] and after["GOOGL"] > before_refreshed["GOOGL"]
    # the amendment is the value of record; what was first reported stays beside it
    assert amended == (91_500_000_000, 91_447_000_000, "0001652044-26-999999", "10-K/A", True)
    reliability_log.record("concurrency", "query open during a refresh", "saw the old state throughout")
    reliability_log.record("bad data", "amended filing restating a value", "amendment is the value; first report kept")
    reliability_log.record("idempotence", "one company's data changed", "only that company reloaded")


def _baseline(tmp_path_factory, name: str) -> tuple[Path, Path, dict]:
    """A snapshot copy and a warehouse published from it, with its fingerprint."""
    tmp_path = tmp_path_factory.mktemp(name)
    snapshot = _snapshot_copy(tmp_path)
    report, database = _refresh(snapshot, tmp_path / "wh", ["GOOGL", "NVDA"])
    assert report.ok
    return snapshot, database, fingerprint(database)


@pytest.fixture(scope="module")
def bad_data(tmp_path_factory):
    """A refresh over a copy of the snapshot with every kind of bad data that a check only warns
    about (or that is quarantined) planted in it: the build is published."""
    snapshot, database, published = _baseline(tmp_path_factory, "bad")

    def plant(units, doc):
        usd = units["USD"]
        q1_2026 = next(f for f in usd if f["start"] == "2026-01-01" and f["end"] == "2026-03-31")
        usd.append({**q1_2026, "val": "n/a"})  # not a number
        usd.append({k: v for k, v in q1_2026.items() if k != "accn"})  # a field missing
        usd.append({"start": "2025-01-01", "end": "2025-04-30", "val": 20_000_000_000, "accn": "0001652044-25-000043",
                    "fy": 2025, "fp": "Q1", "form": "10-Q", "filed": "2025-04-25"})  # a 120-day "quarter"
        units["EUR"] = [{"start": "2025-01-01", "end": "2025-03-31", "val": 15_000_000_000, "accn": "0001652044-25-000043",
                         "fy": 2025, "fp": "Q1", "form": "10-Q", "filed": "2025-04-25"}]  # a unit capex is never in
        fy2025 = next(f for f in usd if f["start"] == "2025-01-01" and f["end"] == "2025-12-31")
        usd.append(dict(fy2025))  # the same fact twice

    _edit_capex(snapshot, plant)
    (snapshot / NVDA).write_bytes(b'{"cik": 1045810, "entityName": "NVIDIA CORP", "facts": {"us-gaap": {')
    report, database = _refresh(snapshot, database.parent, ["GOOGL", "NVDA"])
    return report, database


@pytest.fixture(scope="module")
def blocked(tmp_path_factory):
    """A published warehouse, then a refresh whose data fail two ERROR-severity checks."""
    snapshot, database, published = _baseline(tmp_path_factory, "blocked")

    def plant(units, doc):
        usd = units["USD"]
        q1_2026 = next(f for f in usd if f["start"] == "2026-01-01" and f["end"] == "2026-03-31")
        q1_2026["val"] = -q1_2026["val"]  # sign flipped
        revenue = doc["facts"]["us-gaap"]["Revenues"]["units"]["USD"]
        fy2024 = next(f for f in revenue if f["start"] == "2024-01-01" and f["end"] == "2024-12-31")
        revenue.append({**fy2024, "val": fy2024["val"] + 1_000_000})  # the same filing, another value

    _edit_capex(snapshot, plant)
    report, _ = _refresh(snapshot, database.parent, ["GOOGL", "NVDA"])
    return report, database, published


def test_malformed_json_fails_that_company_with_a_message_naming_it(bad_data):
    report, database = bad_data
    assert list(report.failures) == ["NVDA"]
    assert report.failures["NVDA"].startswith(
        "InvalidResponse: https://data.sec.gov/api/xbrl/companyfacts/CIK0001045810.json: not valid JSON")
    assert report.companies == {"GOOGL": "companyfacts loaded, 1 filing document"} and report.build_ok
    raw = database.parent / "raw" / NVDA
    assert json.loads(raw.read_bytes())["cik"] == 1045810  # the good copy stored by the first refresh is kept
    reliability_log.record("bad data", "malformed JSON", "rejected: company fails with the URL and cause")


def test_an_identical_duplicate_counts_once(bad_data):
    _, database = bad_data
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute("select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025").fetchone() == (
            91_447_000_000,)
    reliability_log.record("bad data", "duplicated fact (same value)", "counted once")


def test_unusable_facts_are_quarantined(bad_data):
    _, database = bad_data
    with duckdb.connect(str(database), read_only=True) as conn:
        reasons = conn.execute("select tag, reason from core.rejected_facts order by reason").fetchall()
    assert reasons == [("PaymentsToAcquirePropertyPlantAndEquipment", "missing field(s): accn"),
                       ("PaymentsToAcquirePropertyPlantAndEquipment", "value 'n/a' is not a number")]
    reliability_log.record("bad data", "fact with a missing field", "quarantined in core.rejected_facts")
    reliability_log.record("bad data", "non-numeric value", "quarantined in core.rejected_facts")


def test_warnings_are_published_and_listed(bad_data):
    report, database = bad_data
    assert report.build.status == "published"
    warned = {o.check: o for o in report.build.checks if o.failures}
    assert {o.severity for o in warned.values()} == {"WARN"}
    query = (Path(__file__).parent.parent / "sql/checks/unplaced_metric_facts.sql").read_text()
    with duckdb.connect(str(database), read_only=True) as conn:
        unplaced = {(r[0], r[-1]) for r in conn.execute(f"select metric, reason from ({query}) where period_end >= '2025-01-01'").fetchall()}
        every_unplaced = conn.execute(f"select count(*) from ({query})").fetchone()[0]
        assert conn.execute("select build_id from build_info").fetchone() == (report.build.build_id,)
    assert unplaced == {("capex", "unit EUR where USD is expected"), ("capex", "period of 120 days: not a fiscal quarter, half-year, nine months or year")}
    listed = warned["core/metric_spans:unplaced_metric_facts"]
    assert listed.failures == every_unplaced and len(listed.rows) == min(every_unplaced, 20)  # counted in full, the first 20 rows kept
    for case in ("unknown unit", "quarter of unusual length"):
        reliability_log.record("bad data", case, "flagged: unplaced_metric_facts (warning), published, left out")


def test_an_error_check_stops_publication_and_status_shows_the_rows(blocked):
    report, database, published = blocked
    failed = {entry.split(" (")[0]: entry for entry in report.failed_checks}
    assert failed["core/metric_values:capex_non_negative"] == "core/metric_values:capex_non_negative (ERROR, 1 row)"
    # the conflicting duplicate is resolved by its rule and listed as a warning, not the reason for refusal
    assert failed["core/conflicting_facts:conflicting_duplicates"] == "core/conflicting_facts:conflicting_duplicates (WARN, 1 row)"
    assert not report.ok and not report.build_ok and report.build.status == "refused"
    assert "capex_non_negative failed on 1 row" in report.build_error
    assert fingerprint(database) == published  # the previous warehouse stays, negative capex unpublished
    with duckdb.connect(str(database), read_only=True) as conn:
        assert conn.execute("select min(value) from core.metric_values where metric = 'capex'").fetchone()[0] >= 0
    status = run(database.parent, "status")
    assert status.returncode == 0, status.stderr
    assert "NOT PUBLISHED (a blocking check failed)" in status.stdout
    [negative] = [o for o in report.build.checks if o.check == "core/metric_values:capex_non_negative"][0].rows
    assert negative["value"] < 0 and negative["fiscal_year"] == 2026
    block = status.stdout.split("check core/metric_values:capex_non_negative (ERROR) failed on 1 row")[1]
    assert f"{negative['value']:,.0f}" in block.split("check ")[0]  # the offending row itself
    reliability_log.record("bad data", "negative (sign-flipped) capex",
                           "refused by capex_non_negative (error): not published", lost=0)
