"""Fault injection: SEC's servers misbehaving in every way the issue lists, against the whole live
pipeline pointed at a local stand-in. Each fault is either retried (within the rate limit) and
survived, or fails that company with a message naming it, the URL and the cause; either way the
raw zone and the warehouse keep their last good state and the next run completes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import reliability_log
from fake_sec import Fault, FakeSec
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import warehouse
from pipelines.refresh import run_refresh
from test_live_mode import GOOGL_10K_2024, UA, build_sec_root, submissions_feed

FACTS = "/api/xbrl/companyfacts/CIK0001652044.json"
DOCUMENT = "/" + GOOGL_10K_2024
RETRIED = {
    "429 with Retry-After": [Fault(429, {"Retry-After": "1"})],
    "429 without Retry-After": [Fault(429)],
    "500": [Fault(500)],
    "502": [Fault(502)],
    "503 twice": [Fault(503), Fault(503)],
    "connection reset": [Fault(reset=True)],
    "stalled response (timeout)": [Fault(stall=2.5)],
    "truncated body (short of Content-Length)": [Fault(truncate=True)],
}
REFUSED = {
    "503 on every attempt": ([Fault(503)] * 3, "failed after 3 attempts: HTTP 503"),
    "HTML error page instead of JSON": ([Fault(200, {"Content-Type": "text/html"}, b"<html>Service Unavailable</html>")],
                                        "not valid JSON"),
    "JSON cut short": ([Fault(200, body=b'{"cik": 1652044, "facts": {"us-gaap": {"Revenues"')], "not valid JSON"),
    "403 (User-Agent refused)": ([Fault(403)], "HTTP 403 from SEC; SEC refuses clients without a declared User-Agent"),
    "404 (unknown CIK)": ([Fault(404)], "HTTP 404, no such document at SEC"),
}


@pytest.fixture(scope="module")
def fake(sec_root_module):
    """One stand-in server for the module, so every run sees the same URLs."""
    with FakeSec(sec_root_module) as server:
        yield server


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, fake):
    """A warehouse and raw zone after one good live run, copied for each fault."""
    directory = tmp_path_factory.mktemp("baseline")
    report, database = refresh(fake, directory)
    assert report.ok
    with duckdb.connect(str(database), read_only=True) as conn:
        return directory, warehouse.fingerprint(conn)


@pytest.fixture(scope="module")
def sec_root_module(tmp_path_factory) -> Path:
    return build_sec_root(tmp_path_factory.mktemp("sec") / "sec",
                          [("0001652044-25-000014", "10-K", "2025-02-05", "2024-12-31")])


def refresh(fake: FakeSec, directory: Path):
    sec = SecResource(mode="live", warehouse_dir=str(directory), tickers=["GOOGL"], data_url=fake.url,
                      www_url=fake.url, filing_years=50, timeout_seconds=1.0, max_attempts=3)
    warehouse_db = WarehouseResource(database_path=str(directory / "capexwatch.duckdb"))
    with pytest.MonkeyPatch.context() as env:  # the User-Agent comes from the environment only
        env.setenv("SEC_USER_AGENT", UA)
        return run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral()), warehouse_db.path()


def state(directory: Path) -> tuple[dict, str]:
    with duckdb.connect(str(directory / "capexwatch.duckdb"), read_only=True) as conn:
        prints = warehouse.fingerprint(conn)
    raw = next(directory.glob("raw/*/api/xbrl/companyfacts/CIK0001652044.json"))
    return prints, hashlib.sha256(raw.read_bytes()).hexdigest()


def peak_rate(requests) -> int:
    times = sorted(r.at for r in requests)
    return max((sum(1 for t in times if start <= t < start + 1.0) for start in times), default=0)


def with_fault(baseline, fake, tmp_path, path: str, faults: list[Fault]):
    directory = tmp_path / "wh"
    shutil.copytree(baseline[0], directory)
    before, first_request = state(directory), len(fake.requests)
    fake.faults_for[path] = list(faults)
    try:
        report, _ = refresh(fake, directory)
    finally:
        fake.faults_for.clear()
    rate = peak_rate(fake.requests[first_request:])
    after_fault = state(directory)
    again, _ = refresh(fake, directory)
    return before, report, after_fault, again, rate


@pytest.mark.parametrize("name", list(RETRIED))
def test_transient_faults_are_retried_and_survived(baseline, fake, tmp_path, name):
    before, report, after, again, rate = with_fault(baseline, fake, tmp_path, FACTS, RETRIED[name])
    assert report.ok and report.companies == {"GOOGL": "companyfacts loaded, 1 filing document"}
    assert after == before and again.ok and rate <= 10
    reliability_log.record("fault", name, "retried, survived", peak_rate=rate)


@pytest.mark.parametrize("name", list(REFUSED))
def test_persistent_faults_fail_clearly_and_lose_nothing(baseline, fake, tmp_path, name):
    faults, message = REFUSED[name]
    before, report, after, again, rate = with_fault(baseline, fake, tmp_path, FACTS, faults)
    error = report.failures["GOOGL"]
    assert message in error and "CIK0001652044.json" in error and UA not in error
    assert after == before  # last good raw file and tables kept
    assert again.ok and rate <= 10  # and the next run completes without cleanup
    reliability_log.record("fault", name, "failed clearly, nothing lost", peak_rate=rate)


def test_a_truncated_document_is_refused_and_the_rest_loads(baseline, fake, tmp_path):
    before, report, after, again, rate = with_fault(baseline, fake, tmp_path, DOCUMENT, [Fault(truncate=True)] * 3)
    assert report.companies == {"GOOGL": "companyfacts loaded, 0 filing documents"} and report.build_ok
    assert after[1] == before[1] and again.ok and again.companies["GOOGL"].endswith("1 filing document")
    reliability_log.record("fault", "truncated filing document", "failed clearly for that document, rest loaded",
                           peak_rate=rate)


def test_a_document_path_that_climbs_out_of_the_raw_zone_is_refused(sec_root_module, tmp_path):
    root = tmp_path / "sec"
    shutil.copytree(sec_root_module, root)
    feed = submissions_feed([("0001652044-25-000014", "10-K", "2025-02-05", "2024-12-31")])
    (root / "submissions/CIK0001652044.json").write_bytes(feed.replace(b"goog-20241231.htm", b"../" * 12 + b"escape.htm"))
    with FakeSec(root) as fake:
        report, database = refresh(fake, tmp_path / "wh")
    assert not list(tmp_path.rglob("escape.htm"))
    with duckdb.connect(str(database), read_only=True) as conn:
        status = conn.execute("select status from core.filings").fetchone()[0]
    assert status.startswith("UnsafePath: ") and "outside" in status
    reliability_log.record("security", "document path escaping the raw zone", "refused, recorded")
