"""`capexwatch sql` can read the warehouse and nothing else: every way out is refused in one line,
the warehouse stays byte-identical, and the queries analysts (and the project's own reports) run
still work. The measured attacks go through the installed entry point; the wider matrix of
statement kinds goes through the same click command in-process, to stay fast."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import reliability_log
from pipelines import cli
from pipelines.lib import query
from test_cli import run

WRITES_FILES = "capexwatch sql runs one read-only query (use capexwatch export to write files)"
PASSWD_LINE = Path("/etc/passwd").read_text().splitlines()[0]


@pytest.fixture(scope="module")
def warehouse_dir(built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the built warehouse: if an attack got through, only this copy would suffer."""
    directory = tmp_path_factory.mktemp("sql_surface")
    shutil.copy2(built[0] / "capexwatch.duckdb", directory / "capexwatch.duckdb")
    return directory


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quarterly_rows(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute("select count(*) from marts.quarterly").fetchone()[0]


def in_process(warehouse_dir: Path, *args: str) -> tuple[int, str]:
    """The sql command in this process: exit status and everything it printed."""
    result = CliRunner().invoke(cli.main, ["sql", *args], env={"CAPEXWATCH_WAREHOUSE_DIR": str(warehouse_dir)})
    return result.exit_code, result.output


def assert_refused(code: int, output: str, statement: str, message: str = "refused: ") -> None:
    assert code == 1, f"{statement!r} was not refused: {output}"
    assert output.startswith(f"Error: {message}"), f"{statement!r}: {output}"
    assert len(output.strip().splitlines()) == 1 and "Traceback" not in output, output


def test_copy_over_the_warehouse_is_refused_and_the_file_is_untouched(warehouse_dir, tmp_path):
    database = warehouse_dir / "capexwatch.duckdb"
    before, rows = sha256(database), quarterly_rows(database)
    attacks = [
        (f"COPY (SELECT 'x') TO '{database}'", f"refused: COPY writes files; {WRITES_FILES}"),
        (f"copy marts.quarterly to '{tmp_path}/quarterly.csv'", f"refused: COPY writes files; {WRITES_FILES}"),
        (f"EXPORT DATABASE '{tmp_path}/dump'", f"refused: EXPORT DATABASE writes files; {WRITES_FILES}"),
        (f"EXPLAIN ANALYZE COPY (SELECT 'x') TO '{database}'", f"refused: COPY writes files; {WRITES_FILES}"),
    ]
    for statement, message in attacks:
        result = run(warehouse_dir, "sql", statement)
        assert result.returncode == 1 and result.stdout == "", statement
        assert result.stderr.strip() == f"Error: {message}", result.stderr
    assert sha256(database) == before and quarterly_rows(database) == rows
    assert not (warehouse_dir / "capexwatch.duckdb.wal").exists() and list(tmp_path.iterdir()) == []
    reliability_log.record("security", "sql: COPY / EXPORT over the warehouse or to a file",
                           "refused in one line; warehouse byte-identical", tried=len(attacks))


def test_files_outside_the_warehouse_cannot_be_read_or_listed(warehouse_dir):
    database = warehouse_dir / "capexwatch.duckdb"
    before = sha256(database)
    attacks = ["select * from read_text('/etc/passwd')", "select * from read_csv('/etc/passwd', sep=':')",
               "select * from read_blob('/etc/passwd')", "select * from glob('/*')",
               f"select * from glob('{Path.home()}/*')", f"select * from read_blob('{database}')"]
    for statement in attacks:
        result = run(warehouse_dir, "sql", statement)
        assert_refused(result.returncode, result.stderr, statement, "refused: Permission Error: ")
        assert result.stderr.rstrip().endswith("capexwatch sql reads the warehouse and nothing else")
        assert PASSWD_LINE not in result.stdout + result.stderr and result.stdout == ""
    # the same through the wider surface: replacement scans, other readers, the raw landing zone
    more = ["select * from '/etc/passwd'", "select * from read_csv_auto('/etc/passwd')",
            "select * from read_json('/etc/passwd')", "select * from read_parquet('/etc/*.parquet')",
            "select * from sniff_csv('/etc/passwd')", "select * from parquet_metadata('/etc/passwd')",
            f"select * from glob('{warehouse_dir}/**')"]
    for statement in more:
        code, output = in_process(warehouse_dir, statement)
        assert code == 1 and output.startswith("Error: ") and len(output.strip().splitlines()) == 1, output
        assert PASSWD_LINE not in output and "root:" not in output
    assert sha256(database) == before
    reliability_log.record("security", "sql: reading or listing files outside the warehouse (/etc/passwd, $HOME, glob)",
                           "refused in one line; no content printed", tried=len(attacks) + len(more))


def test_settings_sessions_and_extensions_are_refused(warehouse_dir, tmp_path):
    result = run(warehouse_dir, "sql", "SET enable_external_access = true")
    assert result.returncode == 1 and result.stderr.strip() == (
        "Error: refused: SET changes the session's settings; capexwatch sql runs one read-only query "
        "(SELECT, WITH, SHOW, DESCRIBE, SUMMARIZE or EXPLAIN)")
    attacks = {
        "SET threads = 1": "SET", "RESET threads": "SET", "SET VARIABLE x = 1": "SET",
        "USE memory": "USE changes the session's default schema;", "PRAGMA enable_profiling": "PRAGMA", "PRAGMA version": "PRAGMA",
        "CALL pragma_version()": "CALL", f"ATTACH '{tmp_path}/other.duckdb' AS other": "ATTACH",
        "DETACH capexwatch": "DETACH", "INSTALL httpfs": "INSTALL or LOAD", "LOAD httpfs": "INSTALL or LOAD",
        "BEGIN TRANSACTION": "TRANSACTION", "CHECKPOINT": "CHECKPOINT writes the warehouse file;", "PREPARE p AS SELECT 1": "PREPARE",
        "EXPLAIN ANALYZE SET threads = 1": "SET",
    }
    for statement, kind in attacks.items():
        code, output = in_process(warehouse_dir, statement)
        assert_refused(code, output, statement, f"refused: {kind} ")
    assert list(tmp_path.iterdir()) == []
    reliability_log.record("security", "sql: SET / PRAGMA / USE / ATTACH / DETACH / INSTALL / LOAD",
                           "refused in one line", tried=1 + len(attacks))


def test_writes_to_the_warehouse_are_refused(warehouse_dir):
    database = warehouse_dir / "capexwatch.duckdb"
    before = sha256(database)
    attacks = ["CREATE TABLE main.t AS SELECT 1", "create or replace view main.v as select 1",
               "INSERT INTO marts.quarterly SELECT * FROM marts.quarterly", "UPDATE marts.quarterly SET capex = 0",
               "DELETE FROM marts.quarterly", "DROP TABLE marts.annual", "ALTER TABLE marts.annual RENAME TO a",
               "CREATE MACRO m() AS 1", "VACUUM", "PIVOT marts.quarterly ON ticker USING sum(capex)",
               "EXPLAIN ANALYZE INSERT INTO marts.annual SELECT * FROM marts.annual",
               "explain (analyze) delete from marts.annual"]
    for statement in attacks:
        code, output = in_process(warehouse_dir, statement)
        assert_refused(code, output, statement)
    assert sha256(database) == before
    reliability_log.record("security", "sql: CREATE / INSERT / UPDATE / DELETE / DROP / ALTER on the warehouse",
                           "refused in one line; warehouse byte-identical", tried=len(attacks))


def test_more_than_one_statement_is_refused_and_none_of_them_runs(warehouse_dir, tmp_path):
    side_file = tmp_path / "side.csv"
    result = run(warehouse_dir, "sql", f"SELECT 1; COPY (SELECT 42) TO '{side_file}'")
    assert result.returncode == 1 and result.stdout == "" and not side_file.exists()
    assert result.stderr.strip() == ("Error: refused: 2 statements; capexwatch sql runs one read-only query "
                                     "per call (send them one at a time)")
    attacks = ["SELECT 1; CREATE TABLE main.t AS SELECT 1", "select 41; select 42", "SET threads = 1; SELECT 1",
               "SELECT 1;;SELECT 2"]
    for statement in attacks:
        code, output = in_process(warehouse_dir, statement)
        assert_refused(code, output, statement, "refused: 2 statements")
        assert "41" not in output and "42" not in output
    with duckdb.connect(str(warehouse_dir / "capexwatch.duckdb"), read_only=True) as conn:
        assert conn.execute("select count(*) from duckdb_tables() where table_name = 't'").fetchone() == (0,)
    code, output = in_process(warehouse_dir, " ; -- nothing")
    assert_refused(code, output, "empty", "refused: no statement")
    reliability_log.record("security", "sql: several statements in one call (SELECT 1; COPY ...)",
                           "refused in one line; none of them ran", tried=1 + len(attacks))


def test_read_only_queries_still_work(warehouse_dir):
    database = warehouse_dir / "capexwatch.duckdb"
    assert run(warehouse_dir, "sql", "select count(*) as n from capex_intensity", "--format", "csv").stdout.splitlines() \
        == ["n", str(quarterly_rows(database))]
    with duckdb.connect(str(database), read_only=True) as conn:
        main_tables = [name for (name,) in conn.execute("select table_name from information_schema.tables "
                                                        "where table_schema = 'main' order by 1").fetchall()]
    assert {"capex_intensity", "cash_conversion", "hyperscaler_totals"} <= set(main_tables)
    expected = {
        "select capex from marts.quarterly where ticker = 'GOOGL' and fiscal_year = 2026 and fiscal_quarter = 1":
            "capex\n35674000000",
        "with q as (from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025) select capex from q":
            "capex\n91447000000",
        "select count(*) as n from information_schema.tables where table_schema = 'marts'": "n\n10",
        "select name from (show tables) order by name": "\n".join(["name", *main_tables]),
        "select column_type from (describe marts.quarterly) where column_name = 'capex'": "column_type\nDOUBLE",
        "select column_type from (summarize select 1 as one)": "column_type\nINTEGER",
        "select type from pragma_table_info('marts.annual') where name = 'fiscal_year'": "type\nBIGINT",
        "select count(*) as n from hyperscaler_totals, cash_conversion where false": "n\n0",
    }
    for statement, csv in expected.items():
        code, output = in_process(warehouse_dir, statement, "--format", "csv")
        assert (code, output.strip()) == (0, csv), statement
    for statement in ["SHOW TABLES", "DESCRIBE marts.quarterly", "SUMMARIZE marts.annual", "EXPLAIN SELECT 1",
                      "EXPLAIN ANALYZE SELECT count(*) FROM marts.quarterly", "explain (format json) select 1"]:
        code, output = in_process(warehouse_dir, statement)
        assert code == 0 and output.strip(), f"{statement}: {output}"


def test_query_run_binds_parameters_beside_an_open_plain_connection(built, db):
    """`db` holds a plain read-only connection to the same file: DuckDB refuses a second connection to it
    with another configuration, so the locked one must not open the file the same way."""
    database = built[0] / "capexwatch.duckdb"
    positional = query.run(database, "select capex from marts.annual where ticker = ? and fiscal_year = ?", ["GOOGL", 2025])
    named = query.run(database, "select count(*) as n from capex_intensity where ticker = $ticker", {"ticker": "GOOGL"})
    assert positional["capex"].tolist() == [91_447_000_000]
    assert named["n"].tolist() == [db.execute("select count(*) from main.capex_intensity where ticker = 'GOOGL'").fetchone()[0]]
    with query.read_only(database) as plain:  # the export command's connection still opens beside the locked one
        assert plain.execute("select count(*) from marts.ttm").fetchone() == db.execute("select count(*) from marts.ttm").fetchone()


def test_the_locked_connection_refuses_what_slips_past_the_check(built, db):
    """A second line of defence: the connection itself, asked directly, will not reach a file or change settings."""
    database = built[0] / "capexwatch.duckdb"
    before = sha256(database)
    conn = query.warehouse_only(database)
    try:
        # DuckDB itself lets the .wal beside an attached database be written with external access off
        for statement in ["select * from read_text('/etc/passwd')", "copy (select 1) to '/tmp/capexwatch-never.csv'",
                          f"copy (select 'x') to '{database}.wal'", f"copy (select 'x') to '{database}'",
                          "attach '/tmp/capexwatch-never.duckdb' as other", "load httpfs"]:
            with pytest.raises(duckdb.PermissionException):
                conn.execute(statement)
        for statement in ["set enable_external_access = true", "set disabled_filesystems = ''", "set threads = 1",
                          "reset lock_configuration"]:
            with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
                conn.execute(statement)
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("create table marts.t as select 1")
        assert conn.execute("select current_setting('autoload_known_extensions'), "
                            "current_setting('autoinstall_known_extensions')").fetchone() == (False, False)
    finally:
        conn.close()
    assert not Path("/tmp/capexwatch-never.csv").exists() and not Path("/tmp/capexwatch-never.duckdb").exists()
    assert not Path(f"{database}.wal").exists() and sha256(database) == before


def test_project_commands_still_work_on_the_locked_connection(warehouse_dir):
    status = run(warehouse_dir, "status")
    assert status.returncode == 0, status.stderr
    assert "core/metric_values:capex_non_negative" in status.stdout and status.stdout.count("passed") == 13
    companies = run(warehouse_dir, "companies")
    assert companies.returncode == 0 and "10-Q 0001652044-26-000048 filed 2026-04-30" in companies.stdout
    summary = run(warehouse_dir, "summary")
    assert summary.returncode == 0 and "capex $35.7B  revenue $109.9B  capex/revenue 32.5% quarter" in summary.stdout
