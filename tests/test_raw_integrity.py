"""Raw zone integrity: a stored file is checked against the sha256 recorded when it landed before
it is used again, and a new response replaces a stored copy only if it is what it claims to be
(the company's own companyfacts, submissions feed or filing document, for the filing's period).

Real snapshot data throughout; live mode runs against the local stand-in (tests/fake_sec.py)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import reliability_log
from fake_sec import Fault, FakeSec
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import companyfacts, documents, ixbrl, submissions, warehouse
from pipelines.lib.settings import SNAPSHOT_DIR
from pipelines.refresh import run_refresh
# _declared_user_agent: the same autouse fixture as test_live_mode (live mode reads SEC_USER_AGENT only)
from test_live_mode import GOOGL_10K_2024, UA, _declared_user_agent, build_sec_root  # noqa: F401

FACTS = "data.sec.gov/api/xbrl/companyfacts/CIK0001652044.json"
GOOGL_CIK, AAPL_CIK = "0001652044", "0000320193"
AAPL_10K = "Archives/edgar/data/320193/000032019324000123/aapl-20240928.htm"
AAPL_10Q = "Archives/edgar/data/320193/000032019326000013/aapl-20260328.htm"
AAPL_10K_ACCN = "0000320193-24-000123"
WWW = SNAPSHOT_DIR / "www.sec.gov"
ERROR_PAGE = b"<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Service Unavailable</h1></body></html>"
# a quarter's capex in Alphabet's companyfacts (2025 Q1), the digit that changes on disk
GOOD_DIGITS, CHANGED_DIGITS = b"17197000000", b"17197000001"


def snapshot_documents() -> list[dict]:
    with (SNAPSHOT_DIR / "filings.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def document_path(row: dict) -> Path:
    return WWW / f"Archives/edgar/data/{int(row['cik'])}/{row['accn'].replace('-', '')}/{row['primary_document']}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def change_one_digit(path: Path) -> None:
    content = path.read_bytes()
    assert GOOD_DIGITS in content
    path.write_bytes(content.replace(GOOD_DIGITS, CHANGED_DIGITS, 1))


def fingerprint(database: Path) -> dict:
    with duckdb.connect(str(database), read_only=True) as conn:
        return warehouse.fingerprint(conn)


# --- the validators, on every real document of the snapshot ---------------------------------------

def test_every_snapshot_document_passes_the_document_check_quickly():
    rows = snapshot_documents()
    started = time.perf_counter()
    for row in rows:
        documents.validate(document_path(row).read_bytes(), row["primary_document"], row["cik"], row["report_date"],
                           row["accn"])
    per_document = (time.perf_counter() - started) / len(rows)
    assert len(rows) == 11 and per_document < 0.1  # a targeted scan (~5 ms), not a parse (~250 ms)
    reliability_log.record("raw integrity", "every real snapshot document passes the document check",
                           "accepted", tried=len(rows), ms_per_document=round(per_document * 1000, 1))


def test_the_document_check_refuses_an_error_page_another_company_and_another_period():
    amzn_2024 = (WWW / "Archives/edgar/data/1018724/000101872425000004/amzn-20241231.htm").read_bytes()
    with pytest.raises(ixbrl.NoInlineXbrl, match="no inline XBRL"):
        ixbrl.validate_document(ERROR_PAGE, GOOGL_CIK, "2024-12-31", "goog-20241231.htm")
    # the same period end (December 31, 2024): only the CIK tells them apart
    with pytest.raises(ixbrl.NotTheExpectedDocument,
                       match=r"goog-20241231.htm: dei:EntityCentralIndexKey is 0001018724, expected 0001652044"):
        ixbrl.validate_document(amzn_2024, GOOGL_CIK, "2024-12-31", "goog-20241231.htm")
    with pytest.raises(ixbrl.NotTheExpectedDocument,
                       match=r"dei:DocumentPeriodEndDate is 2026-03-28, expected 2024-09-28"):
        ixbrl.validate_document((SNAPSHOT_DIR / "www.sec.gov" / AAPL_10Q).read_bytes(), AAPL_CIK, "2024-09-28", "x")
    with pytest.raises(ixbrl.TruncatedDocument):
        ixbrl.validate_document(amzn_2024[: len(amzn_2024) // 2], "0001018724", "2024-12-31", "x")
    ixbrl.validate_document(amzn_2024, "1018724", None, "x")  # no report date in the feed: not compared


@pytest.mark.parametrize("fmt, shown", [("ixt:date-day-month-year", "31.12.2024"), ("ixt:date-month-day-year", "12/31/2024"),
                                         ("ixt:date-year-month-day", "2024-12-31")])
def test_the_period_end_is_read_in_the_documents_own_date_format(fmt, shown):
    content = (WWW / GOOGL_10K_2024).read_bytes()
    cover = re.compile(rb'<ix:nonNumeric contextRef="c-1" name="dei:DocumentPeriodEndDate".*?</ix:nonNumeric>, 2024</ix:nonNumeric>')
    restated = cover.sub(f'<ix:nonNumeric contextRef="c-1" name="dei:DocumentPeriodEndDate" format="{fmt}" '
                         f'id="f-4">{shown}</ix:nonNumeric>'.encode(), content, count=1)
    assert restated != content
    ixbrl.validate_document(restated, GOOGL_CIK, "2024-12-31", "goog-20241231.htm")
    with pytest.raises(ixbrl.NotTheExpectedDocument, match="is 2024-12-31, expected 2025-12-31"):
        ixbrl.validate_document(restated, GOOGL_CIK, "2025-12-31", "goog-20241231.htm")


def test_companyfacts_and_submissions_must_be_the_company_asked_for():
    facts = (SNAPSHOT_DIR / FACTS).read_bytes()
    assert companyfacts.validate(facts, GOOGL_CIK)["cik"] == 1652044
    with pytest.raises(companyfacts.MalformedCompanyFacts, match="companyfacts of CIK 1652044, expected 0000320193"):
        companyfacts.validate(facts, AAPL_CIK)
    columns = {"accessionNumber": [], "form": [], "filingDate": [], "reportDate": [], "primaryDocument": []}
    feed = json.dumps({"cik": "1652044", "filings": {"recent": columns, "files": []}}).encode()
    assert submissions.validate(feed, GOOGL_CIK) == columns
    with pytest.raises(submissions.MalformedSubmissions, match="submissions of CIK 1652044, expected 0000320193"):
        submissions.validate(feed, AAPL_CIK)
    without_cik = json.dumps({"filings": {"recent": columns, "files": []}}).encode()
    with pytest.raises(submissions.MalformedSubmissions, match="without 'cik'"):
        submissions.validate(without_cik, GOOGL_CIK)
    # SEC's paged files of older filings carry only the columns, no 'cik': nothing to compare
    assert submissions.validate(json.dumps(columns).encode(), GOOGL_CIK) == columns


# --- a changed byte in the raw zone, offline ----------------------------------------------------

STORED = {"companyfacts": FACTS, "filing document": "www.sec.gov/" + GOOGL_10K_2024}


def offline_googl(directory: Path) -> tuple[SecResource, WarehouseResource]:
    return (SecResource(mode="offline", warehouse_dir=str(directory), tickers=["GOOGL"]),
            WarehouseResource(database_path=str(directory / "capexwatch.duckdb")))


@pytest.fixture(scope="module")
def offline_baseline(tmp_path_factory) -> tuple[Path, dict]:
    directory = tmp_path_factory.mktemp("offline")
    report = run_refresh(*offline_googl(directory), dg.DagsterInstance.ephemeral())
    assert report.ok
    return directory, fingerprint(directory / "capexwatch.duckdb")


@pytest.mark.parametrize("kind", list(STORED))
def test_offline_a_changed_stored_file_fails_that_company_and_keeps_the_warehouse(offline_baseline, tmp_path, kind):
    directory = tmp_path / "wh"
    shutil.copytree(offline_baseline[0], directory)
    stored = directory / "raw" / STORED[kind]
    recorded = json.loads(stored.with_name(stored.name + ".meta.json").read_text())["sha256"]
    if kind == "companyfacts":
        change_one_digit(stored)
    else:
        stored.write_bytes(stored.read_bytes().replace(b"52,535", b"52,536", 1))
    changed = stored.read_bytes()
    report = run_refresh(*offline_googl(directory), dg.DagsterInstance.ephemeral())
    error = report.failures["GOOGL"]
    assert error.startswith("RawFileCorrupt: ") and str(stored) in error
    assert recorded in error and sha256(stored) in error and recorded != sha256(stored)
    assert "delete" in error and ".meta.json" in error and "refresh live" in error
    assert not report.ok and report.companies == {}
    assert fingerprint(directory / "capexwatch.duckdb") == offline_baseline[1]  # published tables unchanged
    assert stored.read_bytes() == changed  # the evidence is left where it is
    reliability_log.record("raw integrity", f"one changed byte in a stored {kind} (offline)",
                           "company failed naming the file and both sha256, warehouse unchanged")


def test_offline_a_rebuild_from_the_raw_zone_never_publishes_a_changed_value(offline_baseline, tmp_path):
    directory = tmp_path / "wh"
    shutil.copytree(offline_baseline[0] / "raw", directory / "raw")  # the raw zone alone: everything re-read
    change_one_digit(directory / "raw" / FACTS)
    report = run_refresh(*offline_googl(directory), dg.DagsterInstance.ephemeral())
    assert report.failures["GOOGL"].startswith("RawFileCorrupt: ")
    with duckdb.connect(str(directory / "capexwatch.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from core.facts where value = 17197000001").fetchone() == (0,)
        assert conn.execute("select count(*) from marts.quarterly where capex = 17197000001").fetchone() == (0,)
    reliability_log.record("raw integrity", "rebuild from a raw zone with one changed digit (offline)",
                           "changed value never published")


# --- a changed byte in the raw zone, live: fetched again --------------------------------------------

def live(fake: FakeSec, directory: Path, ticker: str) -> tuple[SecResource, WarehouseResource]:
    return (SecResource(mode="live", warehouse_dir=str(directory), tickers=[ticker],
                        data_url=fake.url, www_url=fake.url, filing_years=50, timeout_seconds=2.0, max_attempts=2),
            WarehouseResource(database_path=str(directory / "capexwatch.duckdb")))


@pytest.fixture(scope="module")
def googl_fake(tmp_path_factory):
    root = build_sec_root(tmp_path_factory.mktemp("sec") / "sec",
                          [("0001652044-25-000014", "10-K", "2025-02-05", "2024-12-31")])
    with FakeSec(root) as server:
        yield server


@pytest.mark.parametrize("kind", list(STORED))
def test_live_a_changed_stored_file_is_fetched_again_unconditionally(googl_fake, tmp_path, kind):
    directory = tmp_path / "wh"
    assert run_refresh(*live(googl_fake, directory, "GOOGL"), dg.DagsterInstance.ephemeral()).ok
    baseline = fingerprint(directory / "capexwatch.duckdb")
    stored = next((directory / "raw").glob("*/" + STORED[kind].split("/", 1)[1]))
    good = stored.read_bytes()
    stored.write_bytes(good.replace(GOOD_DIGITS, CHANGED_DIGITS, 1) if kind == "companyfacts"
                       else good.replace(b"52,535", b"52,536", 1))
    first = len(googl_fake.requests)
    report = run_refresh(*live(googl_fake, directory, "GOOGL"), dg.DagsterInstance.ephemeral())
    assert report.ok and report.companies == {"GOOGL": "companyfacts loaded, 1 filing document"}
    assert stored.read_bytes() == good  # restored to what SEC sends
    assert json.loads(stored.with_name(stored.name + ".meta.json").read_text())["sha256"] == sha256(stored)
    refetch = [r for r in googl_fake.requests[first:] if r.path == "/" + STORED[kind].split("/", 1)[1]]
    assert len(refetch) == 1 and "If-None-Match" not in refetch[0].headers
    assert fingerprint(directory / "capexwatch.duckdb") == baseline  # values unchanged
    reliability_log.record("raw integrity", f"one changed byte in a stored {kind} (live)",
                           "fetched again unconditionally, good copy restored, values unchanged")


# --- a bad response never replaces a good filing document ------------------------------------------

def aapl_root(root: Path) -> Path:
    """SEC's layout for Apple: the real companyfacts and 10-K, a ticker map and a feed naming the 10-K."""
    (root / "api/xbrl/companyfacts").mkdir(parents=True)
    shutil.copy(SNAPSHOT_DIR / "data.sec.gov/api/xbrl/companyfacts/CIK0000320193.json", root / "api/xbrl/companyfacts")
    (root / "files").mkdir()
    (root / "files/company_tickers.json").write_text(
        json.dumps({"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}}))
    recent = {"accessionNumber": [AAPL_10K_ACCN], "form": ["10-K"], "filingDate": ["2024-11-01"],
              "reportDate": ["2024-09-28"], "primaryDocument": ["aapl-20240928.htm"]}
    (root / "submissions").mkdir()
    (root / "submissions/CIK0000320193.json").write_text(
        json.dumps({"cik": "320193", "name": "Apple Inc.", "filings": {"recent": recent, "files": []}}))
    (root / AAPL_10K).parent.mkdir(parents=True)
    shutil.copy(WWW / AAPL_10K, root / AAPL_10K)
    return root


@pytest.fixture(scope="module")
def aapl(tmp_path_factory):
    """A stand-in for Apple, another host to redirect to, and the raw zone and warehouse of one good run."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "login.html").write_bytes(b"<html><body><form>Sign in to continue</form></body></html>")
    directory = tmp_path_factory.mktemp("aapl")
    with FakeSec(aapl_root(tmp_path_factory.mktemp("sec") / "sec")) as fake, FakeSec(elsewhere) as other, \
            pytest.MonkeyPatch.context() as environment:
        environment.setenv("SEC_USER_AGENT", UA)  # a module fixture runs before the per-test one
        report = run_refresh(*live(fake, directory, "AAPL"), dg.DagsterInstance.ephemeral())
        assert report.ok and report.companies == {"AAPL": "companyfacts loaded, 1 filing document"}
        yield fake, other, directory, fingerprint(directory / "capexwatch.duckdb")


REFUSED = {  # case: (the bad answer, the error it must end in)
    "200 HTML error page": (lambda other: Fault(200, {"Content-Type": "text/html"}, ERROR_PAGE),
                            "InvalidResponse: .*no inline XBRL"),
    "redirect to a page on another host": (
        lambda other: Fault(302, {"Location": other.url.replace("127.0.0.1", "localhost") + "/login.html"}, b""),
        "SecError: .*redirected to .*which is not SEC; not followed"),
    "another company's document": (lambda other: Fault(200, body=(WWW / GOOGL_10K_2024).read_bytes()),
                                   "InvalidResponse: .*dei:EntityCentralIndexKey is 0001652044, expected 0000320193"),
    "a document for another period": (lambda other: Fault(200, body=(WWW / AAPL_10Q).read_bytes()),
                                      "InvalidResponse: .*dei:DocumentPeriodEndDate is 2026-03-28, expected 2024-09-28"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_bad_filing_document_never_replaces_the_stored_copy(aapl, tmp_path, case):
    fake, other, baseline_dir, baseline = aapl
    directory = tmp_path / "wh"
    shutil.copytree(baseline_dir, directory)
    stored = next((directory / "raw").glob("*/" + AAPL_10K))
    sidecar = stored.with_name(stored.name + ".meta.json")
    good, good_meta = stored.read_bytes(), sidecar.read_bytes()
    fault, reason = REFUSED[case]
    fake.faults_for["/" + AAPL_10K] = [fault(other)]
    try:
        report = run_refresh(*live(fake, directory, "AAPL"), dg.DagsterInstance.ephemeral())
    finally:
        fake.faults_for.clear()
    assert report.failures == {} and report.build_ok
    assert stored.read_bytes() == good and sidecar.read_bytes() == good_meta  # byte-identical
    after = fingerprint(directory / "capexwatch.duckdb")
    assert after["core.filing_facts"] == baseline["core.filing_facts"] and after["core.filing_facts"][0] == 877
    with duckdb.connect(str(directory / "capexwatch.duckdb"), read_only=True) as conn:
        status, facts = conn.execute("select status, facts from core.filings where accn = ?", [AAPL_10K_ACCN]).fetchone()
    assert re.match(reason, status) and AAPL_10K in status
    assert "stored copy kept" in status and facts == 877
    reliability_log.record("raw integrity", f"filing document: {case}",
                           "refused, stored copy byte-identical, filing facts kept")
