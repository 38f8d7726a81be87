"""Live mode end to end against a local stand-in for SEC: the pipeline, the raw zone, the sensor.

The stand-in serves the real companyfacts file; the submissions feed and ticker map it serves
are built here from real Alphabet filings (accession numbers, forms and dates in that file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import reliability_log

from fake_sec import FakeSec
from pipelines.definitions import build_definitions
from pipelines.defs.automation import new_filings
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import universe
from pipelines.lib.settings import SNAPSHOT_DIR
from pipelines.refresh import run_refresh

UA = "capexwatch tests tests@example.com"
GOOGL_FACTS = SNAPSHOT_DIR / "data.sec.gov/api/xbrl/companyfacts/CIK0001652044.json"
GOOGL_10K_2024 = "Archives/edgar/data/1652044/000165204425000014/goog-20241231.htm"


def submissions_feed(filings: list[tuple[str, str, str, str]]) -> bytes:
    columns = ("accessionNumber", "form", "filingDate", "reportDate")
    recent = {name: [f[i] for f in filings] for i, name in enumerate(columns)}
    recent["primaryDocument"] = [f"goog-{f[3].replace('-', '')}.htm" for f in filings]
    return json.dumps({"cik": "0001652044", "name": "Alphabet Inc.", "filings": {"recent": recent, "files": []}}).encode()


def build_sec_root(root: Path, filings: list[tuple[str, str, str, str]]) -> Path:
    """SEC's layout for Alphabet: the real companyfacts and 10-K, a ticker map, a feed of filings."""
    (root / "api/xbrl/companyfacts").mkdir(parents=True)
    shutil.copy(GOOGL_FACTS, root / "api/xbrl/companyfacts")
    (root / "files").mkdir()
    (root / "files/company_tickers.json").write_text(
        json.dumps({"0": {"cik_str": 1652044, "ticker": "GOOGL", "title": "Alphabet Inc."}}))
    (root / "submissions").mkdir()
    (root / "submissions/CIK0001652044.json").write_bytes(submissions_feed(filings))
    (root / GOOGL_10K_2024).parent.mkdir(parents=True)
    shutil.copy(SNAPSHOT_DIR / "www.sec.gov" / GOOGL_10K_2024, root / GOOGL_10K_2024)
    return root


@pytest.fixture(autouse=True)
def _declared_user_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live mode reads the User-Agent from the environment only (after conftest has cleared it)."""
    monkeypatch.setenv("SEC_USER_AGENT", UA)


@pytest.fixture
def sec_root(tmp_path: Path) -> Path:
    return build_sec_root(tmp_path / "sec", [
        ("0001308179-26-000342", "DEF 14A", "2026-04-24", ""),
        ("0001652044-25-000014", "10-K", "2025-02-05", "2024-12-31"),
    ])


def live_sec(fake: FakeSec, tmp_path: Path) -> SecResource:
    # a wide document window, so that these 2025-2026 filings stay in it whenever the tests run
    return SecResource(mode="live", warehouse_dir=str(tmp_path / "wh"), tickers=["GOOGL"],
                       data_url=fake.url, www_url=fake.url, filing_years=50)


def test_live_refresh_lands_raw_files_and_builds_the_marts(sec_root, tmp_path):
    with FakeSec(sec_root) as fake:
        sec = live_sec(fake, tmp_path)
        warehouse_db = WarehouseResource(database_path=str(tmp_path / "wh/capexwatch.duckdb"))
        report = run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral())
        assert report.ok and report.companies == {"GOOGL": "companyfacts loaded, 1 filing document"}
        assert {r.path for r in fake.requests} == {
            "/files/company_tickers.json", "/api/xbrl/companyfacts/CIK0001652044.json",
            "/submissions/CIK0001652044.json", "/" + GOOGL_10K_2024,
        }
        assert all(r.user_agent == UA for r in fake.requests)
    meta = json.loads(next((tmp_path / "wh/raw").rglob("companyfacts/CIK0001652044.json.meta.json")).read_text())
    assert meta["source"] == "live"
    assert meta["sha256"] == hashlib.sha256(GOOGL_FACTS.read_bytes()).hexdigest()
    with duckdb.connect(str(tmp_path / "wh/capexwatch.duckdb"), read_only=True) as conn:
        assert conn.execute("select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025").fetchone() == (91_447_000_000,)
        assert conn.execute("select source from core.companies").fetchall() == [("live",)]
        assert conn.execute("select accn, status from core.filings").fetchall() == [("0001652044-25-000014", "parsed")]


def test_sensor_requests_a_refresh_only_for_a_new_periodic_filing(sec_root, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    with FakeSec(sec_root) as fake:
        sec = live_sec(fake, tmp_path)
        first = new_filings(dg.build_sensor_context(instance=instance, resources={"sec": sec}))
        assert [(r.partition_key, r.run_key) for r in first.run_requests] == [("GOOGL", "GOOGL:0001652044-25-000014")]
        again = new_filings(dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"sec": sec}))
        assert again.run_requests == []
        (sec_root / "submissions/CIK0001652044.json").write_bytes(submissions_feed([
            ("0001652044-26-000048", "10-Q", "2026-04-30", "2026-03-31"),
            ("0001652044-26-000018", "10-K", "2026-02-05", "2025-12-31"),
        ]))
        later = new_filings(dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"sec": sec}))
        assert [r.run_key for r in later.run_requests] == ["GOOGL:0001652044-26-000048"]


def test_a_cik_outside_the_ticker_map_is_confirmed_by_sec_before_it_joins(sec_root, tmp_path):
    """A CIK SEC does not know used to be added (and stay in every later summary); now SEC's submissions
    feed must know it, and names it."""
    feed = json.loads(submissions_feed([("0000000002-26-000001", "10-K", "2026-02-01", "2025-12-31")]))
    (sec_root / "submissions/CIK0000000002.json").write_text(json.dumps({**feed, "cik": "0000000002",
                                                                         "name": "Test Filer Inc."}))
    with FakeSec(sec_root) as fake:
        sec = SecResource(mode="live", warehouse_dir=str(tmp_path / "wh"), tickers=["GOOGL", "0000000002"],
                          data_url=fake.url, www_url=fake.url, filing_years=50)
        assert [(c.ticker, c.cik, c.name) for c in sec.resolve_universe()] == [
            ("GOOGL", "0001652044", "Alphabet Inc"), ("", "0000000002", "Test Filer Inc.")]
        unknown = SecResource(mode="live", warehouse_dir=str(tmp_path / "wh"), tickers=["GOOGL", "0000000001"],
                              data_url=fake.url, www_url=fake.url, filing_years=50)
        warehouse_db = WarehouseResource(database_path=str(tmp_path / "wh/capexwatch.duckdb"))
        with pytest.raises(universe.UnknownCompany, match=r"CIK 0000000001 is not an SEC filer: .*HTTP 404"):
            run_refresh(unknown, warehouse_db, dg.DagsterInstance.ephemeral())
    assert not (tmp_path / "wh/facts_parquet").exists()  # nothing stored for either company


def test_snapshot_copy_is_unmodified():
    for line in (SNAPSHOT_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((SNAPSHOT_DIR / name).read_bytes()).hexdigest() == digest, name


def test_all_live_requests_of_a_process_share_one_rate_limiter(tmp_path):
    first = SecResource(mode="live", warehouse_dir=str(tmp_path)).source()
    second = SecResource(mode="live", warehouse_dir=str(tmp_path / "other")).source()
    assert first.client is second.client


def test_older_filings_come_from_the_feeds_paged_files(sec_root, tmp_path):
    # the 'recent' block ends with a 10-Q; the 2024 10-K sits in a paged file the feed names
    feed = json.loads(submissions_feed([("0001652044-26-000048", "10-Q", "2026-04-30", "2026-03-31")]))
    feed["filings"]["files"] = [{"name": "CIK0001652044-submissions-001.json", "filingCount": 1}]
    (sec_root / "submissions/CIK0001652044.json").write_text(json.dumps(feed))
    page = json.loads(submissions_feed([("0001652044-25-000014", "10-K", "2025-02-05", "2024-12-31")]))["filings"]["recent"]
    (sec_root / "submissions/CIK0001652044-submissions-001.json").write_text(json.dumps(page))
    with FakeSec(sec_root) as fake:
        sec = live_sec(fake, tmp_path)
        assert [f.accn for f in sec.discover_filings("0001652044")] == ["0001652044-26-000048", "0001652044-25-000014"]
        # once 'recent' reaches back past the window, the paged files are not needed
        feed["filings"]["recent"] = json.loads(submissions_feed([
            ("0001652044-26-000048", "10-Q", "2026-04-30", "2026-03-31"),
            ("0001652044-25-000014", "10-K", "2025-02-05", "2024-12-31"),
        ]))["filings"]["recent"]
        (sec_root / "submissions/CIK0001652044.json").write_text(json.dumps(feed))
        # a window of whole years that holds the 10-Q of 2026-04-30 but not the 10-K of 2025-02-05
        years = max(1, math.ceil((dt.date.today() - dt.date(2026, 4, 30)).days / 366))
        narrow = SecResource(mode="live", warehouse_dir=str(tmp_path / "wh2"), data_url=fake.url,
                             www_url=fake.url, filing_years=years)
        requests_before = len(fake.requests)
        assert [f.accn for f in narrow.discover_filings("0001652044")] == ["0001652044-26-000048"]
        assert [r.path for r in fake.requests[requests_before:]] == ["/submissions/CIK0001652044.json"]


def test_the_user_agent_is_stored_nowhere(sec_root, tmp_path):
    """Not in Dagster's run records, event logs or compute logs, however the resource is configured,
    nor in the warehouse: every byte of every file is read back."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with FakeSec(sec_root) as fake, dg.DagsterInstance.local_temp(str(home)) as instance:
        warehouse_db = WarehouseResource(database_path=str(tmp_path / "wh/capexwatch.duckdb"))
        report = run_refresh(live_sec(fake, tmp_path), warehouse_db, instance)
        with pytest.raises(TypeError) as as_field:
            SecResource(mode="live", user_agent=UA)
        job = build_definitions(live_sec(fake, tmp_path)).resolve_job_def("refresh_companies")
        with pytest.raises(dg.DagsterInvalidConfigError, match='unexpected config entry "user_agent"'):
            job.execute_in_process(partition_key="GOOGL", instance=instance,
                                   run_config={"resources": {"sec": {"config": {"user_agent": UA}}}})
        runs = instance.get_runs()
    assert report.ok and len(runs) == 2 and all(r.user_agent == UA for r in fake.requests)
    assert str(as_field.value) == ("SecResource takes no user_agent: set SEC_USER_AGENT in the environment "
                                   "(config is stored in Dagster's run records)")
    stored = {path: path.read_bytes() for root in (home, tmp_path / "wh") for path in root.rglob("*") if path.is_file()}
    assert any(b"GOOGL" in content for path, content in stored.items() if path.name == "runs.db")  # the scan sees runs
    leaks = [path for path, content in stored.items() if UA.encode() in content or UA.split()[-1].encode() in content]
    assert leaks == [] and len(stored) > 10
    reliability_log.record("secrets", "User-Agent in run storage (field, run config)",
                           "refused as config; in no file of DAGSTER_HOME or the warehouse", files=len(stored))
