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
    assert table.stdout.splitlines()[2].split() == ["GOOGL", "2025", "91,447,000,000", "0.227"]
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
                               "cloud_vs_capex", "Sources", "Definitions"]
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
        "Free cash flow (ocf - capex), trailing 12 months, by company",
    ]
    intensity_chart = next(c for c in charts if "Capex intensity" in c)
    assert "software 3-6 %" in intensity_chart and "early cloud 10-15 %" in intensity_chart and "<c:lineChart>" in intensity_chart


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
    assert "core/metric_values:capex_non_negative" in status.stdout and "FAILED: 7 rows" in status.stdout
    assert status.stdout.count("passed") == 12 and "FAILED: 14 rows" in status.stdout


def test_every_command_has_help():
    for command in ([], ["refresh"], ["summary"], ["sql"], ["export"], ["companies"], ["status"]):
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
