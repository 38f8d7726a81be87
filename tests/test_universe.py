"""The whole market (issue 14): a synthetic multi-company archive through the bulk job and the build,
then marts.universe_latest / universe_history, `capexwatch screen` and the report's who-is-building
page. The archive is made of the snapshot's real companyfacts under distinct CIKs, plus two filers
made to report under IFRS in euros and in renminbi, and SIC codes from a submissions archive built
from Microsoft's real feed."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from conftest import offline_resources
from pipelines.defs.bulk_assets import bulk_companyfacts, bulk_submissions
from pipelines.defs.checks import CHECKS, evaluate
from pipelines.defs.warehouse_assets import warehouse_build
from pipelines.lib import warehouse
from pipelines.lib.settings import SNAPSHOT_DIR
from test_cli import run

SNAPSHOT = sorted((SNAPSHOT_DIR / "data.sec.gov/api/xbrl/companyfacts").glob("*.json"))  # AAPL, NVDA, GOOGL
MSFT_FEED = SNAPSHOT_DIR / "data.sec.gov/submissions/CIK0000789019.json"
# synthetic CIK -> (snapshot file, what it is made to be)
APPLE, NVIDIA, ALPHABET, IFRS_FILER, RMB_FILER, NO_FEED = (f"{9_000_000_000 + n:010d}" for n in range(6))
SIC = {APPLE: "3571", NVIDIA: "3674", ALPHABET: "7370", IFRS_FILER: "7370", RMB_FILER: "3674"}


def relabel(document: dict, taxonomy: str | None = None, currency: str | None = None) -> dict:
    """The same facts under another taxonomy or currency: what a foreign filer's companyfacts looks like."""
    facts = {}
    for name, tags in document["facts"].items():
        target = taxonomy if taxonomy and name == "us-gaap" else name
        facts[target] = {tag: {**body, "units": {(currency if currency and unit == "USD" else unit): values
                                                 for unit, values in body["units"].items()}}
                         for tag, body in tags.items()}
    return {**document, "facts": facts}


def write_archives(folder: Path) -> tuple[Path, Path]:
    apple, nvidia, alphabet = (json.loads(file.read_bytes()) for file in SNAPSHOT)
    documents = {APPLE: apple, NVIDIA: nvidia, ALPHABET: alphabet, IFRS_FILER: relabel(alphabet, "ifrs-full", "EUR"),
                 RMB_FILER: relabel(nvidia, currency="CNY"), NO_FEED: apple}
    facts, feeds = folder / "companyfacts.zip", folder / "submissions.zip"
    with zipfile.ZipFile(facts, "w", zipfile.ZIP_DEFLATED) as archive:
        for cik, document in documents.items():
            archive.writestr(f"CIK{cik}.json", json.dumps({**document, "cik": int(cik)}))
    feed = json.loads(MSFT_FEED.read_bytes())
    with zipfile.ZipFile(feeds, "w", zipfile.ZIP_DEFLATED) as archive:
        for cik, sic in SIC.items():
            archive.writestr(f"CIK{cik}.json", json.dumps({**feed, "cik": cik, "sic": sic, "name": f"Filer {cik}",
                                                          "sicDescription": f"industry {sic}", "tickers": []}))
        archive.writestr(f"CIK{APPLE}-submissions-001.json", json.dumps({"accessionNumber": []}))  # a page: no profile
    return facts, feeds


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("market")
    facts, feeds = write_archives(folder)
    sec, warehouse_db = offline_resources(folder / "wh")
    result = dg.materialize(
        [bulk_companyfacts, bulk_submissions, warehouse_build], resources={"sec": sec, "warehouse_db": warehouse_db},
        run_config={"ops": {"bulk__companyfacts": {"config": {"archive": str(facts)}},
                            "bulk__submissions": {"config": {"archive": str(feeds)}}}},
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return folder / "wh"


def rows(warehouse_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse_dir / "capexwatch.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params).fetchall()


def test_every_filer_has_one_row_with_its_industry_and_basis(market):
    latest = {cik: (sic, reporting, reason) for cik, sic, reporting, reason in rows(
        market, "select cik, sic, reporting, reason from marts.universe_latest")}
    assert latest == {
        APPLE: ("3571", "US GAAP, USD", None),
        NVIDIA: ("3674", "US GAAP, USD", None),
        ALPHABET: ("7370", "US GAAP, USD", None),
        IFRS_FILER: ("7370", "IFRS, EUR", "reports under IFRS (ifrs-full) in EUR: capexwatch reads US GAAP concepts"),
        RMB_FILER: ("3674", "US GAAP, CNY",
                    "reports in CNY, not US dollars: left out rather than mixed with dollar figures"),
        NO_FEED: (None, "US GAAP, USD", None),
    }
    # a filer in another basis gets its reason and no figure at all
    foreign = rows(market, "select count(*) from marts.universe_latest where cik in (?, ?) and coalesce("
                           "revenue, capex, ocf, fcf, ttm_revenue, ttm_capex, ttm_capex_intensity) is not null",
                   [IFRS_FILER, RMB_FILER])
    assert foreign == [(0,)]
    assert rows(market, "select count(distinct cik) from marts.universe_history") == [(4,)]


def test_a_tie_between_currencies_goes_to_dollars_then_alphabetically():
    # counts as listed, in the order the facts are stored: a tie must not depend on that order
    filers = {"0000000001": [("USD", 3), ("CAD", 3)], "0000000002": [("CAD", 3), ("USD", 3)],
              "0000000003": [("EUR", 2), ("CAD", 2)], "0000000004": [("USD", 1), ("CAD", 3)]}
    conn = warehouse.connect(Path(":memory:"))
    for cik, units in filers.items():
        for unit, count in units:
            for number in range(count):
                conn.execute("insert into core.facts values (?, 'Test', 'us-gaap', 'Revenues', ?, date '2024-01-01', "
                             "date '2024-12-31', ?, '0000000001-25-000001', 2024, 'FY', '10-K', date '2025-02-01', "
                             "null, 366)", [cik, unit, number])
    warehouse.run_sql(conn, "core/reporting_basis")
    assert conn.execute("select cik, currency, basis_reason from core.reporting_basis order by cik").fetchall() == [
        ("0000000001", "USD", None), ("0000000002", "USD", None),
        ("0000000003", "CAD", "reports in CAD, not US dollars: left out rather than mixed with dollar figures"),
        ("0000000004", "CAD", "reports in CAD, not US dollars: left out rather than mixed with dollar figures")]


def test_history_keeps_the_later_fiscal_quarter_of_a_calendar_quarter():
    # 12-week fiscal quarters (as some retailers report): those ending 2024-02-18 and 2024-05-12 have their
    # midpoints in 2024Q1 (about 7 January and 31 March); an IFRS filer is left out
    conn = warehouse.connect(Path(":memory:"))
    conn.execute("create table marts.ttm (cik varchar, ticker varchar, company varchar, calendar_quarter varchar, "
                 "fiscal_year integer, fiscal_quarter integer, period_end date, revenue double, capex double, "
                 "capex_intensity double, capex_yoy double, revenue_yoy double)")
    conn.execute("insert into marts.ttm values "
                 "('0000000001', 'A', 'A Inc', '2024Q1', 2024, 1, date '2024-02-18', 100, 10, 0.1, null, null), "
                 "('0000000001', 'A', 'A Inc', '2024Q1', 2024, 2, date '2024-05-12', 110, 12, 0.11, null, null), "
                 "('0000000001', 'A', 'A Inc', '2024Q2', 2024, 3, date '2024-08-04', 120, 13, 0.11, null, null), "
                 "('0000000002', 'B', 'B plc', '2024Q1', 2024, 1, date '2024-03-31', 50, 5, 0.1, null, null)")
    conn.execute("create table marts.universe_latest as select * from (values "
                 "('0000000001', '7370', false, 'US GAAP, USD'), ('0000000002', '7370', false, 'IFRS, EUR')) "
                 "as t(cik, sic, hyperscaler, reporting)")
    warehouse.run_sql(conn, "marts/universe_history")
    assert conn.execute("select cik, calendar_quarter, fiscal_quarter, revenue from marts.universe_history").fetchall() \
        == [("0000000001", "2024Q1", 2, 110.0), ("0000000001", "2024Q2", 3, 120.0)]


def test_history_is_each_dollar_filers_latest_ttm_per_calendar_quarter(market):
    """Recomputed in Python from marts.ttm: per filer and calendar quarter, the row with the latest period end,
    for the filers in dollars only. (This archive has no calendar quarter with two fiscal quarters: the test
    above plants one.)"""
    dollars = {cik for (cik,) in rows(market, "select cik from marts.universe_latest "
                                              "where reporting is null or reporting = 'US GAAP, USD'")}
    expected: dict[tuple[str, str], tuple] = {}
    for cik, quarter, period_end, capex in rows(market, "select cik, calendar_quarter, period_end, capex from marts.ttm"):
        if cik in dollars and ((cik, quarter) not in expected or period_end > expected[(cik, quarter)][0]):
            expected[(cik, quarter)] = (period_end, capex)
    history = rows(market, "select cik, calendar_quarter, period_end, capex from marts.universe_history")
    assert {(cik, quarter): (end, capex) for cik, quarter, end, capex in history} == expected
    assert len(history) == len(expected) > 100


def test_a_filer_repeated_in_universe_latest_fails_its_check(market, tmp_path):
    check = next(check for check in CHECKS if check.label == "marts/universe_latest:unique_keys")
    shutil.copy(market / "capexwatch.duckdb", tmp_path / "copy.duckdb")
    with duckdb.connect(str(tmp_path / "copy.duckdb")) as conn:
        assert evaluate(conn, check).failures == 0
        conn.execute("insert into marts.universe_latest select * from marts.universe_latest where cik = ?", [APPLE])
        outcome = evaluate(conn, check)
    assert (outcome.failures, outcome.rows) == (1, [{"cik": APPLE, "rows": 2}])


def test_latest_ttm_equals_the_last_four_quarters(market):
    """An independent computation: the sum of the filer's last four discrete quarters in marts.quarterly."""
    for cik in (APPLE, NVIDIA, ALPHABET):
        [(period_end, revenue, capex, intensity)] = rows(
            market, "select ttm_period_end, ttm_revenue, ttm_capex, ttm_capex_intensity from marts.universe_latest "
                    "where cik = ?", [cik])
        quarters = rows(market, "select revenue, capex from marts.quarterly where cik = ? and period_end <= ? "
                                "order by period_end desc limit 4", [cik, period_end])
        assert len(quarters) == 4
        assert revenue == pytest.approx(sum(q[0] for q in quarters))
        assert capex == pytest.approx(sum(q[1] for q in quarters))
        assert intensity == pytest.approx(capex / revenue)
    # Alphabet's real figures under its synthetic CIK: twelve months to 31 March 2026
    assert rows(market, "select ttm_capex from marts.universe_latest where cik = ?", [ALPHABET]) == [(109_924_000_000,)]


def test_screen_ranks_filters_and_counts_who_it_left_out(market):
    result = run(market, "screen", "--format", "json")
    assert result.returncode == 0, result.stderr
    ranked = json.loads(result.stdout)
    # Apple's data twice (with and without an industry code): a tie shares its rank, listed by CIK
    assert [(r["rank"], r["sic"]) for r in ranked] == [(1, "7370"), (2, "3571"), (2, None), (4, "3674")]
    assert ranked[0]["capex_intensity"] == pytest.approx(109_924_000_000 / 422_499_000_000)
    intensities = [r["capex_intensity"] for r in ranked]
    assert intensities == sorted(intensities, reverse=True)

    chips = json.loads(run(market, "screen", "--sic", "3600-3699,7370", "--format", "json").stdout)
    assert [r["sic"] for r in chips] == ["7370", "3674"]  # the IFRS and renminbi filers are not ranked
    big = json.loads(run(market, "screen", "--by", "capex", "--min-revenue", "3e11", "--format", "json").stdout)
    assert {r["sic"] for r in big} == {"7370", "3571", None}  # NVIDIA's $253B of revenue is below
    assert [r["rank"] for r in json.loads(run(market, "screen", "--top", "1", "--format", "json").stdout)] == [1]

    table = run(market, "screen", "--sic", "3674", "--units", "B")
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["rank", "ticker", "company"] and "($B)" in lines[0]
    assert "26.0%" not in table.stdout and "2.6%" in table.stdout
    assert lines[-1] == ("1 filer shown by capex_intensity (ttm); not ranked: 3 another industry; "
                         "1 no industry code (no submissions feed stored); "
                         "1 reports in CNY, not US dollars: left out rather than mixed with dollar figures")
    csv = run(market, "screen", "--format", "csv").stdout.splitlines()
    assert csv[0] == "rank,ticker,company,sic,hyperscaler,period,revenue,capex,capex_intensity,capex_growth,fcf_margin"
    assert len(csv) == 5
    assert "|" in run(market, "screen", "--format", "markdown").stdout


def test_screen_refuses_what_it_cannot_read(market, tmp_path):
    for sic in ("73", "7379-7370", "7370-", ""):
        bad = run(market, "screen", "--sic", sic)
        assert (bad.returncode, bad.stderr.count("\n")) == (1, 1) and "four-digit SIC codes" in bad.stderr, sic
    assert "give a number of dollars" in run(market, "screen", "--min-revenue", "nan").stderr
    assert run(market, "screen", "--by", "revenue").returncode != 0
    assert run(market, "screen", "--top", "99999999999999999999").returncode != 0
    old = tmp_path / "old"
    old.mkdir()
    with duckdb.connect(str(old / "capexwatch.duckdb")) as conn:  # a warehouse from before the universe marts
        conn.execute("create schema marts; create table marts.quarterly as select 1 as x")
    stale = run(old, "screen")
    assert stale.returncode == 1 and "run `capexwatch refresh`" in stale.stderr and "Catalog" not in stale.stderr


def test_the_year_screen_names_the_years_reason(market):
    table = run(market, "screen", "--period", "year").stdout
    assert "trailing twelve months" not in table.splitlines()[-1]


def test_who_is_building_page_lists_spenders_and_risers(market, tmp_path):
    """The whole report and the workbook, from a warehouse of filers without tickers (their charts
    pivoted by ticker and failed on two of them)."""
    from pipelines.lib import report
    with duckdb.connect(str(market / "capexwatch.duckdb"), read_only=True) as conn:
        report.write_report(conn, tmp_path / "report", "offline")
    page = (tmp_path / "report" / "who-is-building.html").read_text()
    assert "CIK 9000000002" not in (tmp_path / "report" / "index.html").read_text()  # the main page: followed only
    exported = run(market, "export", "--out", str(tmp_path / "market.xlsx"))
    assert exported.returncode == 0, exported.stderr
    assert run(market, "summary").returncode == 0
    spenders = page.split('id="spenders"')[1].split("</table>")[0]
    assert spenders.index("$109.9B") < spenders.index("$12.1B") < spenders.index("$6.6B")
    risers = page.split('id="risers"')[1].split("</table>")[0]
    assert risers.index("90.4%") < risers.index("60.5%")  # Alphabet's capex growth, then NVIDIA's
    assert "6 filers in the warehouse" in page and "reports under IFRS" in page


def test_the_main_report_summary_and_companies_list_only_the_followed_companies(tmp_path):
    """Alphabet followed through its own refresh, six more filers from the archive: the market's
    pages count seven, the main report, `summary` and `companies` name Alphabet alone."""
    from pipelines.defs.company_assets import raw_companyfacts, staged_companyfacts
    from pipelines.defs.filing_assets import raw_filing_documents, staged_filing_documents
    from pipelines.lib import report

    facts, feeds = write_archives(tmp_path)
    sec, warehouse_db = offline_resources(tmp_path / "wh")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("company", ["GOOGL"])
    assert dg.materialize([raw_companyfacts, staged_companyfacts, raw_filing_documents, staged_filing_documents],
                          partition_key="GOOGL", resources={"sec": sec}, instance=instance).success
    assert dg.materialize(
        [bulk_companyfacts, bulk_submissions, warehouse_build], resources={"sec": sec, "warehouse_db": warehouse_db},
        run_config={"ops": {"bulk__companyfacts": {"config": {"archive": str(facts)}},
                            "bulk__submissions": {"config": {"archive": str(feeds)}}}}, instance=instance).success
    assert rows(tmp_path / "wh", "select cik, ticker from followed_companies") == [("0001652044", "GOOGL")]
    assert rows(tmp_path / "wh", "select count(*) from marts.universe_latest") == [(7,)]
    with duckdb.connect(str(tmp_path / "wh" / "capexwatch.duckdb"), read_only=True) as conn:
        report.write_report(conn, tmp_path / "report", "offline")
    index = (tmp_path / "report" / "index.html").read_text()
    assert "GOOGL" in index and "CIK 9000000" not in index
    assert "7 filers in the warehouse" in (tmp_path / "report" / "who-is-building.html").read_text()
    for command in ("summary", "companies"):
        listed = run(tmp_path / "wh", command)
        assert listed.returncode == 0, listed.stderr
        assert "GOOGL" in listed.stdout and "9000000" not in listed.stdout and "Filer " not in listed.stdout
    with duckdb.connect(str(tmp_path / "wh" / "capexwatch.duckdb")) as conn:  # as an older capexwatch left it
        conn.execute("drop view followed_companies")
    for command in ("summary", "companies", "export"):
        refused = run(tmp_path / "wh", command)
        assert refused.returncode == 1 and "has no main.followed_companies (built by an older capexwatch): run " \
            "`capexwatch refresh`" in refused.stderr, refused.stderr


def test_hyperscalers_are_highlighted_on_the_page(built):
    page = (built[0] / "report" / "who-is-building.html").read_text()
    highlighted = [row for row in page.split("<tr")[1:] if row.startswith(' class="hyperscaler"')]
    assert highlighted and all("GOOGL" in row for row in highlighted)
    assert "who-is-building.html" in (built[0] / "report" / "index.html").read_text()


def test_a_company_feed_comes_before_the_archive_and_a_missing_file_removes_nothing(tmp_path):
    from pipelines.lib import filer_profiles, warehouse
    from pipelines.lib.partition_store import PartitionStore
    store, feed = PartitionStore(tmp_path / "filings"), json.loads(MSFT_FEED.read_bytes())
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for cik, sic in ((APPLE, "3571"), (NVIDIA, "3674")):
            bundle.writestr(f"CIK{cik}.json", json.dumps({**feed, "cik": cik, "sic": sic}))
    assert filer_profiles.write_archive(store, archive) == 2
    filer_profiles.write_company(store, NVIDIA, filer_profiles.from_feed(
        json.dumps({**feed, "cik": NVIDIA, "sic": "3672"}).encode(), "submissions feed"))
    conn = warehouse.connect(tmp_path / "w.duckdb")
    assert filer_profiles.load(conn, store, []) == 2
    profiles = lambda: conn.execute("select cik, sic, source from core.filer_profiles order by cik").fetchall()
    assert profiles() == [(APPLE, "3571", "submissions archive submissions.zip"), (NVIDIA, "3672", "submissions feed")]
    filer_profiles.load(conn, PartitionStore(tmp_path / "typo"), [])  # a folder listing nothing removes nothing
    assert len(profiles()) == 2
    filer_profiles.load(conn, store, [APPLE])  # removed; the archive still lists it, so it comes back from there
    assert profiles()[0] == (APPLE, "3571", "submissions archive submissions.zip")


def test_the_archive_keeps_tickers_and_removals_and_refuses_a_wrong_cik(tmp_path):
    from pipelines.lib import bulk, fact_partitions
    from pipelines.lib.partition_store import PartitionStore
    store = PartitionStore(tmp_path / "parquet")
    fact_partitions.write_record(store, APPLE, ticker="AAPL", status="loaded")
    fact_partitions.write_record(store, NVIDIA, ticker="NVDA", status=fact_partitions.REMOVED)
    apple, nvidia, _ = (json.loads(file.read_bytes()) for file in SNAPSHOT)
    archive = tmp_path / "companyfacts.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"CIK{APPLE}.json", json.dumps({**apple, "cik": int(APPLE)}))
        bundle.writestr(f"CIK{NVIDIA}.json", json.dumps({**nvidia, "cik": int(NVIDIA)}))
        bundle.writestr(f"CIK{ALPHABET}.json", json.dumps({**apple, "cik": int(APPLE)}))  # another filer's facts
    results = {r.cik: r for r in bulk.ingest(archive, store).processed}
    assert fact_partitions.read_record(store, APPLE)["ticker"] == "AAPL"  # the archive carries no ticker
    assert fact_partitions.read_record(store, NVIDIA)["status"] == fact_partitions.REMOVED
    assert not store.exists(fact_partitions.partition_path(NVIDIA))
    assert results[ALPHABET].error.endswith(f"companyfacts of CIK {APPLE}, expected {ALPHABET}")
    assert not store.exists(fact_partitions.partition_path(ALPHABET))


def test_profiles_are_four_digit_one_per_filer_and_a_wrong_archive_is_refused(tmp_path):
    from pipelines.lib import filer_profiles
    from pipelines.lib.partition_store import PartitionStore
    store, feed = PartitionStore(tmp_path / "filings"), json.loads(MSFT_FEED.read_bytes())
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"CIK{APPLE}.json", json.dumps({**feed, "cik": APPLE, "sic": "100"}))
        bundle.writestr(f"old/CIK{APPLE}.json", json.dumps({**feed, "cik": APPLE, "sic": "200"}))
        bundle.writestr(f"CIK{NVIDIA}.json", json.dumps([1, 2]))  # JSON, not a feed: that filer only
    assert filer_profiles.write_archive(store, archive) == 1
    stored = duckdb.read_parquet(str(tmp_path / "filings" / filer_profiles.ARCHIVE_FILE)).fetchall()
    assert [(row[0], row[2]) for row in stored] == [(APPLE, "0100")]
    facts_only = tmp_path / "companyfacts.zip"
    with zipfile.ZipFile(facts_only, "w") as bundle:
        bundle.writestr("readme.txt", "not feeds")
    with pytest.raises(filer_profiles.NoSubmissions, match="no submissions feed"):
        filer_profiles.write_archive(store, facts_only)
    assert len(duckdb.read_parquet(str(tmp_path / "filings" / filer_profiles.ARCHIVE_FILE)).fetchall()) == 1
