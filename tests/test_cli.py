"""The capexwatch command through its installed entry point, on a warehouse in a temporary directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

import reliability_log

from pipelines.lib.settings import SNAPSHOT_DIR

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
    # Microsoft's FY2015 10-K (an XBRL instance) is offline; its newer filings are known but not read
    assert "FY2015 (to 2015-06-30, 2015Q2)  capex $5.9B  revenue $93.6B" in summary["MSFT"]
    assert "newest filing (10-Q filed 2026-01-28) not read" in summary["MSFT"]
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


def test_sql_prints_readable_tables_and_machine_formats(refreshed):
    warehouse_dir, _ = refreshed
    statement = "select ticker, fiscal_year, capex, capex_intensity from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025"
    table = run(warehouse_dir, "sql", statement)
    assert table.returncode == 0
    assert table.stdout.splitlines()[2].split() == ["GOOGL", "2025", "91,447,000,000", "22.7%"]
    as_json = json.loads(run(warehouse_dir, "sql", statement, "--format", "json").stdout)
    assert as_json == [{"ticker": "GOOGL", "fiscal_year": 2025, "capex": 91447000000.0, "capex_intensity": pytest.approx(0.22700801)}]
    as_csv = run(warehouse_dir, "sql", statement, "--format", "csv").stdout.splitlines()
    assert as_csv[0] == "ticker,fiscal_year,capex,capex_intensity" and as_csv[1].startswith("GOOGL,2025,91447000000,0.2270")
    markdown = run(warehouse_dir, "sql", statement, "--format", "markdown").stdout.splitlines()
    assert markdown[0].startswith("| ticker") and markdown[1].startswith("|---")


def test_sql_is_read_only_and_errors_are_one_line(refreshed, tmp_path):
    warehouse_dir, _ = refreshed
    for statement, message in [
        ("drop table marts.annual", "Error: refused: DROP is not a read-only query; capexwatch sql runs one read-only query"),
        ("select * from marts.nope", "Table with name nope does not exist"),
        ("selec 1", "syntax error"),
    ]:
        result = run(warehouse_dir, "sql", statement)
        assert result.returncode == 1 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    missing = run(tmp_path, "sql", "select 1")
    assert missing.returncode == 1 and missing.stderr.strip() == f"Error: no warehouse at {tmp_path / 'capexwatch.duckdb'}: run `capexwatch refresh` first"


def test_export_workbook_has_formats_sources_and_native_charts(refreshed, tmp_path):
    warehouse_dir, _ = refreshed
    out = tmp_path / "capexwatch.xlsx"
    result = run(warehouse_dir, "export", "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0 and result.stdout.strip() == f"wrote {out}"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Charts", "chart_data", "quarterly", "annual", "ttm", "calendar_totals", "segments",
                               "cloud_vs_capex", "depreciation_outlook", "Sources", "Definitions"]
    sheet = book["annual"]
    header = [cell.value for cell in sheet[1]]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("ticker")].value == "GOOGL"
               and r[header.index("fiscal_year")].value == 2025)
    capex, intensity = row[header.index("capex")], row[header.index("capex_intensity")]
    assert capex.value == 91_447_000_000 and capex.number_format == '$#,##0.0,,"M";-$#,##0.0,,"M"'
    assert intensity.value == pytest.approx(91_447 / 402_836) and intensity.number_format == "0.0%"
    weeks = row[header.index("weeks")]
    assert weeks.value == 52 and "$" not in weeks.number_format  # a count of weeks, not dollars
    multiple = row[header.index("capex_to_da")]  # a multiple reads 4.3x, not 432.7 %
    assert multiple.number_format == '0.00"x"' and multiple.value == pytest.approx(91_447 / 21_136, rel=1e-3)
    # nulls are empty cells (were the text <NA> in about 1,000 cells), booleans are booleans
    texts = {cell.value for name in book.sheetnames for line in book[name].iter_rows() for cell in line
             if isinstance(cell.value, str)}
    assert not texts & {"<NA>", "nan", "NaT", "None", "True", "False"}
    restated = book["Sources"].cell(row=2, column=[c.value for c in book["Sources"][1]].index("restated") + 1)
    assert isinstance(restated.value, bool)
    with duckdb.connect(str(warehouse_dir / "capexwatch.duckdb"), read_only=True) as conn:
        assert sheet.max_row - 1 == conn.execute("select count(*) from marts.annual").fetchone()[0]
        assert book["Sources"].max_row - 1 == conn.execute("select count(*) from core.metric_values where value is not null").fetchone()[0]
    sources = book["Sources"]
    source_header = [cell.value for cell in sources[1]]
    link = sources.cell(row=2, column=source_header.index("filing_url") + 1)
    assert link.hyperlink is not None and link.hyperlink.target.startswith("https://www.sec.gov/Archives/edgar/data/")
    assert [cell.value for cell in book["Definitions"][1]] == ["metric", "unit", "definition"]
    with zipfile.ZipFile(out) as package:
        charts = [package.read(name).decode() for name in package.namelist() if name.startswith("xl/charts/chart")]
    titles = [re.sub(r"<[^>]+>", "", re.search(r"<c:title>.*?</c:title>", chart, re.S).group(0)) for chart in charts]
    assert sorted(titles) == [
        "Capex against operating cash flow, latest twelve months per company",
        "Capex intensity (capex / revenue, trailing 12 months) by calendar quarter",
        "Capex today, depreciation tomorrow: AAPL",
        "Capex today, depreciation tomorrow: GOOGL",
        "Free cash flow (ocf - capex), trailing 12 months, by company",
    ]
    intensity_chart = next(c for c in charts if "Capex intensity" in c)
    assert "software 3-6 %" in intensity_chart and "early cloud 10-15 %" in intensity_chart and "<c:lineChart>" in intensity_chart
    # capex as columns, reported D&A and each scenario's projection as lines (the projections dashed)
    wave = next(c for c in charts if "depreciation tomorrow: GOOGL" in c)
    assert "<c:barChart>" in wave and "<c:lineChart>" in wave and wave.count("<c:ser>") == 6
    assert wave.count('<a:prstDash val="dash"/>') == 4
    outlook = book["depreciation_outlook"]
    header = [cell.value for cell in outlook[1]]
    assert {row[header.index("ticker")].value for row in outlook.iter_rows(min_row=2)} >= {"GOOGL", "AAPL", "AMZN"}


def test_export_csv_and_parquet_per_table(refreshed, tmp_path):
    warehouse_dir, _ = refreshed
    assert run(warehouse_dir, "export", "--format", "csv", "--table", "capex_intensity", "--out", str(tmp_path)).returncode == 0
    assert (tmp_path / "main.capex_intensity.csv").read_text().startswith("ticker,company,calendar_quarter,")
    assert run(warehouse_dir, "export", "--format", "parquet", "--table", "marts.ttm", "--out", str(tmp_path)).returncode == 0
    with duckdb.connect() as conn:
        assert conn.execute("select capex from read_parquet(?) where ticker = 'GOOGL' and fiscal_year = 2026 "
                            "and fiscal_quarter = 1", [str(tmp_path / "marts.ttm.parquet")]).fetchone() == (109_924_000_000,)
    wrong = run(warehouse_dir, "export", "--table", "marts.nope")
    assert wrong.returncode == 1 and wrong.stderr.startswith("Error: unknown table 'marts.nope'; choose from: core.")


def test_companies_and_status(refreshed):
    warehouse_dir, _ = refreshed
    companies = {line.split()[0]: line for line in run(warehouse_dir, "companies").stdout.splitlines()[2:]}
    assert set(companies) == {"AAPL", "AMZN", "GOOGL", "META", "MSFT", "NVDA", "ORCL"}
    assert "10-Q 0001652044-26-000048 filed 2026-04-30" in companies["GOOGL"] and "2026-03-31" in companies["GOOGL"]
    assert "June" in companies["MSFT"] and "no offline data" in companies["MSFT"]  # no companyfacts
    assert "10-K 0001193125-15-272806 filed 2015-07-31" in companies["MSFT"]
    # Apple's latest period comes from its Q2 FY2026 10-Q, whose date the offline data does not give:
    # that is its latest filing (it used to name the January 10-Q beside the April period)
    assert "10-Q 0000320193-26-000013 (filed date unknown offline)" in companies["AAPL"] and "2026-03-28" in companies["AAPL"]
    status = run(warehouse_dir, "status")
    assert status.returncode == 0
    checks = {line.split()[0]: line.split()[1:] for line in status.stdout.split("\nchecks:\n")[1].splitlines()[2:]}
    assert checks["core/metric_values:capex_non_negative"] == ["ERROR", "0", "passed"]
    assert checks["marts/quarterly:staleness"] == ["WARN", "7", "FAILED"]
    assert checks["core/metric_spans:unplaced_metric_facts"] == ["WARN", "14", "FAILED"]
    assert sum(verdict[-1] == "passed" for verdict in checks.values()) == 13
    # freshness is worded by source, as the summary is: Amazon has no companyfacts offline but three
    # filing documents and a fiscal year to December 2025 (it used to read as "no offline data" alone)
    freshness = status.stdout.split("freshness")[1].split("\n\n")[0]
    [amazon] = [line for line in freshness.splitlines() if line.startswith("AMZN")]
    assert amazon.split() == ["AMZN", "0001018724", "no", "offline", "data", "3", "2025-12-31"]


def test_every_command_has_help():
    for command in ([], ["refresh"], ["summary"], ["sql"], ["export"], ["companies"], ["companies", "remove"],
                    ["status"], ["tables"], ["describe"], ["metrics"], ["ask"], ["ui"]):
        result = subprocess.run([CAPEXWATCH, *command, "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout.startswith("Usage: capexwatch")


# --- errors an analyst can cause: one line, exit status 1, the traceback only with --debug -------------

def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_user_errors_are_one_line_that_says_what_to_do(refreshed, tmp_path):
    warehouse_dir, _ = refreshed
    assert _one_error_line(run(warehouse_dir, "sql", "")) == (
        "Error: no SQL given: pass a statement, --file q.sql, or - to read it from stdin")  # was a 31-line traceback
    # DuckDB's hints are kept: the table it meant, the columns there are
    assert 'Did you mean "marts.annual"?' in _one_error_line(run(warehouse_dir, "sql", "select * from anual"))
    assert 'Candidate bindings: "capex"' in _one_error_line(run(warehouse_dir, "sql", "select capx from marts.annual"))
    # an export to a place that cannot be written (was a 45-line xlsxwriter traceback)
    assert _one_error_line(run(warehouse_dir, "export", "--out", "/proc/nowhere/capexwatch.xlsx")) == (
        "Error: cannot write /proc/nowhere/capexwatch.xlsx: No such file or directory; choose a writable --out")
    assert "unknown check 'bogus'; choose from: capex_non_negative" in _one_error_line(
        run(warehouse_dir, "status", "--check", "bogus"))
    debug = run(warehouse_dir, "--debug", "sql", "select * from anual")
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "QueryError" in debug.stderr


def test_sql_reads_a_file_or_stdin(refreshed, tmp_path):
    warehouse_dir, _ = refreshed
    query_file = tmp_path / "q.sql"
    query_file.write_text("select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025")
    from_file = run(warehouse_dir, "sql", "--file", str(query_file), "--format", "csv")
    environment = {**os.environ, "CAPEXWATCH_WAREHOUSE_DIR": str(warehouse_dir)}
    from_stdin = subprocess.run([CAPEXWATCH, "sql", "-", "--format", "csv"], input=query_file.read_text(),
                                capture_output=True, text=True, env=environment, timeout=300)
    assert from_file.stdout == from_stdin.stdout == "capex\n91447000000\n"  # a whole amount, plain


def test_status_shows_every_row_of_one_check(refreshed):
    warehouse_dir, _ = refreshed
    rows = run(warehouse_dir, "status", "--check", "unplaced_metric_facts", "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("cik,metric,taxonomy,tag") and len(rows) == 1 + 14  # the 14 the summary counts


def test_refresh_prints_its_own_lines_only_and_a_failing_company_is_one_line(refreshed, tmp_path):
    _, result = refreshed
    assert result.stderr == "" and "dagster -" not in result.stdout  # Dagster's log lines only with -v
    snapshot = tmp_path / "snapshot"
    shutil.copytree(SNAPSHOT_DIR, snapshot)
    nvda = snapshot / "data.sec.gov/api/xbrl/companyfacts/CIK0001045810.json"
    nvda.chmod(0o644)
    nvda.write_text('{"cik": 1045810, "facts": {')
    failing = run(tmp_path / "wh", "refresh", "--ticker", "NVDA", "--ticker", "GOOGL", CAPEXWATCH_SNAPSHOT_DIR=str(snapshot))
    assert failing.returncode == 1 and failing.stderr == ""  # was ~116 lines of Dagster traceback
    [line] = [line for line in failing.stdout.splitlines() if "NVDA:" in line]
    assert line.startswith("[1/2] NVDA: FAILED InvalidResponse: https://data.sec.gov/api/xbrl/companyfacts/CIK0001045810.json")


def test_version_and_a_reader_that_stops_early(refreshed):
    warehouse_dir, _ = refreshed
    assert run(warehouse_dir, "--version").stdout.strip() == "capexwatch, version 0.1.0"
    environment = {**os.environ, "CAPEXWATCH_WAREHOUSE_DIR": str(warehouse_dir)}
    # status writes its first line, runs its checks, then writes to a pipe that head has closed
    piped = subprocess.run(f"'{CAPEXWATCH}' status | head -1", shell=True, capture_output=True, text=True,
                           env=environment, timeout=300)
    assert piped.stdout.startswith("last build") and piped.stderr == ""  # was "Error: [Errno 32] Broken pipe"


def test_every_check_is_documented_in_the_readme():
    from pipelines.defs.checks import CHECKS
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Data-quality checks")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert {check.name for check in CHECKS} <= {row.split("|")[1].split(":")[0].split("(")[0].strip() for row in rows}


def test_csv_and_json_are_plain_and_an_export_matches_sql_format_csv(refreshed, tmp_path):
    """Exports used to write the `missing` list as a Python literal and amounts as 24578000000.0; JSON dates
    as 2007-09-29T00:00:00.000."""
    warehouse_dir, _ = refreshed
    for table in ("annual", "segments"):
        assert run(warehouse_dir, "export", "--format", "csv", "--table", table, "--out", str(tmp_path)).returncode == 0
        printed = run(warehouse_dir, "sql", f"select * from marts.{table}", "--format", "csv").stdout
        assert (tmp_path / f"marts.{table}.csv").read_text() == printed
    first = (tmp_path / "marts.annual.csv").read_text().splitlines()[1]
    assert first.startswith("AAPL,0000320193,Apple Inc,2007,,2006-10-01,2007-09-29,364,52,2007Q3,24578000000,")
    assert "[" not in first and "finance_lease_additions: not reported" in first
    as_json = json.loads(run(warehouse_dir, "sql", "select period_end, capex from marts.annual "
                                              "where ticker = 'AAPL' and fiscal_year = 2007", "--format", "json").stdout)
    assert as_json == [{"period_end": "2007-09-29", "capex": 735000000}]


# --- recovery, the universe, discoverability, readable output (issue 13) ------------------------------

def _copy(refreshed, tmp_path: Path) -> Path:
    """A private copy of the refreshed warehouse folder (database, partitions, raw zone)."""
    warehouse_dir, _ = refreshed
    shutil.copytree(warehouse_dir, tmp_path / "wh")
    return tmp_path / "wh"


def _fingerprint(database: Path) -> dict:
    from pipelines.lib import warehouse
    with duckdb.connect(str(database), read_only=True) as conn:
        return warehouse.fingerprint(conn)


def test_refresh_rebuilds_an_unreadable_warehouse_from_the_stored_partitions(refreshed, tmp_path):
    """An empty, truncated or header-damaged warehouse file used to fail every refresh ("keeps its last
    good state", which was the damaged file) and every read command with no hint."""
    copy = _copy(refreshed, tmp_path)
    database = copy / "capexwatch.duckdb"
    good = _fingerprint(database)
    for _ in range(3):  # a sound file is never taken for a damaged one (free blocks are cut off its end)
        assert "rebuilt from" not in run(copy, "refresh", "--ticker", "GOOGL").stdout
    original, size = database.read_bytes(), database.stat().st_size
    header = bytearray(original)
    header[4096:8192] = bytes(4096)  # a database header that fails its checksum
    damaged = [(b"", ("not a valid DuckDB database file",)), (header, ("Corrupt database file",)),
               # caught opening it (its catalog cut off) or by its tables' data reaching past its end
               (original[: size // 2], ("Could not read enough bytes", "truncated: "))]
    for damage, said in damaged:
        database.write_bytes(damage)
        read = run(copy, "sql", "select * from marts.annual")  # a truncated file fails only where data is cut off
        if damage is not damaged[2][0] or read.returncode:
            assert _one_error_line(read).endswith("The warehouse file is damaged: `capexwatch refresh --rebuild` builds "
                                                  "it anew from the stored partitions, keeping the damaged file aside.")
        rebuilt = run(copy, "refresh", "--ticker", "GOOGL")
        assert rebuilt.returncode == 0, rebuilt.stdout[-2000:]
        [line] = [line for line in rebuilt.stdout.splitlines() if "rebuilt from the stored partitions" in line]
        assert any(reason in line for reason in said) and "old file is kept as capexwatch.duckdb.unreadable-" in line
        assert _fingerprint(database) == good  # every company, from the partitions alone
        kept = copy / line.rsplit("kept as ", 1)[1]
        assert kept.read_bytes() == damage  # the damaged file is set aside, not deleted
        kept.unlink()
    forced = run(copy, "refresh", "--ticker", "GOOGL", "--rebuild")
    assert "rebuilt from the stored partitions: asked to rebuild (--rebuild); the old file is kept as " \
           "capexwatch.duckdb.before-rebuild-" in forced.stdout
    assert _fingerprint(database) == good
    reliability_log.record("publication", "warehouse file unreadable (empty; header checksum; truncated to half)",
                           "rebuilt from the stored partitions: identical tables; damaged file kept aside", tried=3)


def test_fewer_stored_partitions_remove_no_company(refreshed, tmp_path):
    """A build that read a partitions folder listing fewer companies (a mistyped CAPEXWATCH_PARTITIONS_URL)
    deleted the others and published."""
    copy = _copy(refreshed, tmp_path)
    good = _fingerprint(copy / "capexwatch.duckdb")
    typo = run(copy, "refresh", "--ticker", "GOOGL", CAPEXWATCH_PARTITIONS_URL=str(tmp_path / "typo"))
    assert typo.returncode == 0 and _fingerprint(copy / "capexwatch.duckdb") == good


def test_a_cik_is_checked_before_it_joins_and_companies_remove_takes_one_out(refreshed, tmp_path):
    """`refresh --ticker 9999999999` used to exit 0 and leave the CIK in every later summary; nothing
    removed a company."""
    copy = _copy(refreshed, tmp_path)
    assert _one_error_line(run(copy, "refresh", "--ticker", "9999999999")) == (
        "Error: CIK 9999999999 is not in the ticker map and the offline snapshot holds nothing for it: check the "
        "number (EDGAR's company search shows every filer's CIK), or refresh it with --mode live")
    assert not (copy / "facts_parquet/cik=9999999999").exists()
    home = tmp_path / "dagster_home"
    home.mkdir()
    registered = run(copy, "refresh", "--ticker", "AMZN", DAGSTER_HOME=str(home))
    assert registered.returncode == 0
    removed = run(copy, "companies", "remove", "amzn", DAGSTER_HOME=str(home))
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("removed AMZN (Amazon.com Inc, CIK 0001018724): its partitions are deleted")
    assert "is in the configured universe, so the next `capexwatch refresh` adds it back" in removed.stdout
    companies = run(copy, "companies", "--format", "csv").stdout
    assert "AMZN" not in companies and "GOOGL" in companies
    with duckdb.connect(str(copy / "capexwatch.duckdb"), read_only=True) as conn:
        for table in ("core.companies", "core.filings", "core.filing_facts", "core.reported_measures", "marts.annual"):
            assert conn.execute(f"select count(*) from {table} where cik = '0001018724'").fetchone() == (0,), table
    assert not list(copy.glob("*_parquet/**/*0001018724*.parquet"))
    tombstone = json.loads((copy / "facts_parquet/cik=0001018724/company.json").read_text())
    assert tombstone["status"] == "removed"  # the mark that removes it, not the absence of its partition
    assert (copy / "raw/www.sec.gov").exists()  # raw SEC copies are a cache, kept
    check = subprocess.run([sys.executable, "-c", "import dagster as dg; print(dg.DagsterInstance.get()"
                            ".get_dynamic_partitions('company'))"], capture_output=True, text=True,
                           env={**os.environ, "DAGSTER_HOME": str(home)})
    assert check.stdout.strip() == "[]"  # its Dagster partition is gone too
    assert _one_error_line(run(copy, "companies", "remove", "AMZN")).startswith(
        "Error: 'AMZN' is not a stored company; stored: AAPL, GOOGL, META, MSFT, NVDA, ORCL")
    quiet = run(copy, "companies", "remove", "META", CAPEXWATCH_UNIVERSE="GOOGL")
    assert quiet.returncode == 0 and "configured universe" not in quiet.stdout
    listed = run(copy, "companies", "remove", "NVDA", CAPEXWATCH_UNIVERSE="GOOGL,nvda")
    assert listed.stdout.rstrip().endswith("adds it back; take it out of CAPEXWATCH_UNIVERSE")
    back = run(copy, "refresh", "--ticker", "AMZN")  # a removed company can come back
    assert back.returncode == 0 and "AMZN" in run(copy, "companies", "--format", "csv").stdout


def test_tables_describe_metrics_and_the_readme_questions_by_name(refreshed):
    warehouse_dir, _ = refreshed
    listing = {row["table"]: row for row in json.loads(run(warehouse_dir, "tables", "--format", "json").stdout)}
    assert listing["marts.quarterly"]["grain"] == "cik x fiscal_year x fiscal_quarter"
    assert listing["main.capex_intensity"]["type"] == "view"
    with duckdb.connect(str(warehouse_dir / "capexwatch.duckdb"), read_only=True) as conn:
        assert listing["marts.quarterly"]["rows"] == conn.execute("select count(*) from marts.quarterly").fetchone()[0]
        # the same text any DuckDB client reads
        assert conn.execute("select comment from duckdb_columns() where schema_name = 'marts' and "
                            "table_name = 'annual' and column_name = 'capex_to_da'").fetchone() == (
            "capex / d_and_a (a multiple: 4.3 is 4.3x)",)
    assert all(row["description"] for row in listing.values())
    for table in [name for name in listing if name.startswith(("marts.", "main."))]:
        columns = json.loads(run(warehouse_dir, "describe", table, "--format", "json").stdout)
        assert [c["column"] for c in columns if not c["meaning"]] == [], table  # every column explained
    described = run(warehouse_dir, "describe", "annual").stdout.splitlines()
    assert described[0].startswith("marts.annual (table, 64 rows): Capex, cash flow and cash-conversion metrics")
    assert described[1] == "grain: cik x fiscal_year"
    segments = {row["column"]: row["meaning"] for row in
                json.loads(run(warehouse_dir, "describe", "MARTS.SEGMENTS", "--format", "json").stdout)}
    assert segments["revenue"] == "Revenue of the segment or product line (USD)"  # not the company's total
    metrics = {row["metric"]: row for row in json.loads(run(warehouse_dir, "metrics", "--format", "json").stdout)}
    assert metrics["capex"]["concepts"].startswith("us-gaap:PaymentsToAcquirePropertyPlantAndEquipment;")
    assert "AMZN: us-gaap:PaymentsToAcquireProductiveAssets" in metrics["capex"]["concepts"]
    assert metrics["capex_to_da"]["unit"] == "a multiple: 4.3 is 4.3x" and metrics["fcf"]["definition"] == "ocf - capex"
    assert metrics["fcf_less_equipment_finance_leases"]["concepts"].startswith("read from the company's own table")
    questions = run(warehouse_dir, "ask", "--format", "csv").stdout.splitlines()
    assert len(questions) == 12 and questions[1].startswith("above-early-cloud,")
    readme = "\n".join(line.strip() for line in
                       (Path(__file__).resolve().parent.parent / "README.md").read_text().splitlines())
    for line in questions[1:]:
        name = line.split(",")[0]
        asked = run(warehouse_dir, "ask", name, "--format", "csv")
        query_file = Path(__file__).resolve().parent.parent / "sql/questions" / f"{name}.sql"
        assert asked.stdout == run(warehouse_dir, "sql", "--file", str(query_file), "--format", "csv").stdout
        body = run(warehouse_dir, "ask", name, "--show").stdout.strip()
        assert f"capexwatch ask {name}" in readme and body in readme, name  # the README shows what runs
    leaders = run(warehouse_dir, "ask", "capex-leaders").stdout
    assert "GOOGL     2026-03-31              26.0%  above early cloud (15 %+)" in leaders


def test_tables_for_reading_and_files_for_programs(refreshed):
    warehouse_dir, _ = refreshed
    statement = ("select ticker, fiscal_year, capex, capex_intensity, capex_to_da from marts.annual "
                 "where ticker = 'GOOGL' and fiscal_year = 2025")
    lines = run(warehouse_dir, "sql", statement).stdout.splitlines()
    assert lines[0].split() == ["ticker", "fiscal_year", "capex", "capex_intensity", "capex_to_da"]
    # numbers right-aligned under their headers; a ratio as a percentage, a multiple as 4.3x
    assert lines[2] == "GOOGL              2025  91,447,000,000              22.7%           4.3x"
    billions = run(warehouse_dir, "sql", statement, "--units", "B").stdout.splitlines()
    assert billions[0].split()[2:4] == ["capex", "($B)"] and billions[2].split()[2] == "91.4"
    # only columns whose unit the definitions state are money or ratios: a count, a year, an analyst's own
    # column named like a ratio stay plain numbers (they were scaled to 0.0 $B, or shown as 1.2e14 %)
    own = run(warehouse_dir, "sql", "select count(*), sum(capex), max(fiscal_year) as fy, 1211600000000.0 as shares, "
                                    "avg(capex_intensity) from marts.annual where ticker = 'GOOGL'", "--units", "B")
    assert own.stdout.splitlines()[2].split() == ["13", "355.0", "2025", "1,211,600,000,000", "13.9%"]
    assert _one_error_line(run(warehouse_dir, "sql", statement, "--units", "B", "--format", "csv")).startswith(
        "Error: --units is for reading (table, markdown); csv keeps whole USD")
    summary = {row["ticker"]: row for row in json.loads(run(warehouse_dir, "summary", "--format", "json").stdout)}
    assert summary["GOOGL"]["capex"] == 35_674_000_000 and summary["AMZN"]["companyfacts"] == "no offline data"
    assert "capex $35,674.0M  revenue $109,896.0M" in run(warehouse_dir, "summary", "--units", "M").stdout
    status = json.loads(run(warehouse_dir, "status", "--format", "json").stdout)
    assert status["last_build"]["status"] == "published" and len(status["checks"]) == 15
    assert {row["ticker"] for row in status["freshness"]} == {"AAPL", "AMZN", "GOOGL", "META", "MSFT", "NVDA", "ORCL"}
    assert run(warehouse_dir, "status", "--format", "csv").stdout.splitlines()[0] == "check,severity,failures,result"
    for statement, said in (("checkpoint", "CHECKPOINT writes the warehouse file"),
                            ("analyze", "ANALYZE updates the warehouse's statistics")):  # were CALL and VACUUM
        assert said in _one_error_line(run(warehouse_dir, "sql", statement))


def test_export_out_follows_the_file_name_and_refuses_the_ambiguous(refreshed, tmp_path):
    warehouse_dir, _ = refreshed
    assert run(warehouse_dir, "export", "--out", str(tmp_path)).stdout.strip() == f"wrote {tmp_path / 'capexwatch.xlsx'}"
    one = run(warehouse_dir, "export", "--out", str(tmp_path / "q.csv"), "--table", "quarterly")
    assert one.returncode == 0 and (tmp_path / "q.csv").read_text().startswith("ticker,cik,company,")
    assert (tmp_path / "q.csv").is_file()  # a file, not a directory named q.csv
    assert _one_error_line(run(warehouse_dir, "export", "--out", str(tmp_path / "all.csv"))) == (
        f"Error: --out {tmp_path / 'all.csv'} is one .csv file but 7 tables are exported; name a directory, "
        "or export one --table")
    assert "make them agree" in _one_error_line(
        run(warehouse_dir, "export", "--format", "parquet", "--out", str(tmp_path / "q.csv")))
    assert "'.txt' is not a format" in _one_error_line(run(warehouse_dir, "export", "--out", str(tmp_path / "x.txt")))


def test_counts_read_as_english_and_a_mistyped_snapshot_is_one_error(refreshed, tmp_path):
    _, result = refreshed
    assert "META: companyfacts no offline data, 1 filing document\n" in result.stdout  # was "1 filing documents"
    assert "failed on 1 rows" not in result.stdout
    error = _one_error_line(run(tmp_path, "refresh", CAPEXWATCH_SNAPSHOT_DIR=str(tmp_path / "snapshto")))
    assert error.startswith(f"Error: CAPEXWATCH_SNAPSHOT_DIR {tmp_path / 'snapshto'} does not exist")  # was a failure per company


def test_ui_starts_dagster_with_the_company_partitions_registered(tmp_path):
    """A fresh `dagster dev` showed no company partitions until its sensor ran, and a notice that `dg dev`
    supersedes it."""
    import socket
    import time
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if k not in ("SEC_USER_AGENT", "CAPEXWATCH_MODE", "DAGSTER_HOME")}
    environment["CAPEXWATCH_WAREHOUSE_DIR"] = str(tmp_path)
    log = tmp_path / "ui.log"
    with log.open("w") as output:
        process = subprocess.Popen([CAPEXWATCH, "ui", "--port", str(port)], stdout=output, stderr=subprocess.STDOUT,
                                   env=environment, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "Serving dagster-webserver" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(1)
        text = log.read_text()
        assert "Serving dagster-webserver" in text, text
        assert f"DAGSTER_HOME={tmp_path / '.dagster_home'}; company partitions: MSFT, AMZN, GOOGL, META, ORCL, NVDA, AAPL" in text
        assert "SupersessionWarning" not in text and "dg dev" not in text
        assert "No dagster instance configuration file" not in text  # the project's instance settings
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=60)


def test_outlook_of_a_company_and_why_another_is_not_projected(refreshed):
    warehouse_dir, _ = refreshed
    table = run(warehouse_dir, "outlook", "googl", "--units", "B")
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith("GOOGL: short-lived 6 years (servers and network equipment as of 2024-12-31, "
                                   "0001652044-25-000014); long-lived 23.5 years (data center and office buildings")
    assert "fitted: 0 quarters from capex to service, 30% short-lived" in table.stdout
    assert "disclosed lives, capex at TTM level" in table.stdout and "FY2026 Q2" in table.stdout
    rows = json.loads(run(warehouse_dir, "outlook", "1652044", "--format", "json").stdout)  # by CIK too
    assert len(rows) == 48 and len({row["scenario"] for row in rows}) == 4
    with duckdb.connect(str(warehouse_dir / "capexwatch.duckdb"), read_only=True) as conn:
        stored = conn.execute("select projected_da from marts.depreciation_outlook where ticker = 'GOOGL' "
                              "order by scenario, step limit 1").fetchone()[0]
    assert rows[0]["projected_da"] == pytest.approx(stored, abs=1)
    assert "fitted on capex plus finance-lease additions: 3.6% from the same D&A" in table.stdout  # the other input
    assert rows[0]["projected_da_with_finance_leases"] > 0 and rows[0]["projected_da_net_capex"] is None
    amazon = run(warehouse_dir, "outlook", "AMZN")
    assert amazon.returncode == 0 and amazon.stdout.startswith("AMZN: not projected: no discrete quarters")
    [reason] = json.loads(run(warehouse_dir, "outlook", "amzn", "--format", "json").stdout)  # programs: valid JSON
    assert reason["ticker"] == "AMZN" and reason["reason"].startswith("no discrete quarters")
    garbage = run(warehouse_dir, "outlook", "0001652044garbage")  # lpad would have cut it to Alphabet's CIK
    assert garbage.returncode == 1 and "not a followed company" in garbage.stderr
    unknown = run(warehouse_dir, "outlook", "XXXX")
    assert unknown.returncode == 1 and "XXXX: not a followed company" in unknown.stderr


def test_a_company_is_removed_from_a_store_whose_every_record_knows_its_keys(tmp_path):
    """Every company with data (no 'no offline data' record beside them): the records' repeated_fact_keys
    are all true or false, which pandas reads as numpy booleans that JSON refused, and `companies
    remove` failed with a TypeError before it removed anything."""
    universe = {"CAPEXWATCH_UNIVERSE": "AAPL,NVDA"}
    assert run(tmp_path, "refresh", **universe).returncode == 0
    removed = run(tmp_path, "companies", "remove", "NVDA", **universe)
    assert removed.returncode == 0, removed.stderr[-2000:]
    assert json.loads((tmp_path / "facts_parquet/cik=0001045810/company.json").read_text())["status"] == "removed"
    assert "NVDA" not in run(tmp_path, "companies", "--format", "csv").stdout
