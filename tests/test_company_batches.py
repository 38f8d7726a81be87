"""The per-company tables built batch by batch of companies, and only for the companies that changed
(issue 14): the same values as one build of everything."""

from __future__ import annotations

import collections
import contextlib
import json
import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.checks import CHECKS, evaluate
from pipelines.lib import company_batches, query, warehouse

from conftest import REFERENCE, reference_fingerprint

GOOGL, NVDA, AAPL = "0001652044", "0001045810", "0000320193"


@pytest.fixture
def copy(built, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    shutil.copy(built[0] / "capexwatch.duckdb", tmp_path / "copy.duckdb")
    conn = duckdb.connect(str(tmp_path / "copy.duckdb"))
    yield conn
    conn.close()


def test_one_company_per_batch_gives_the_same_tables(copy):
    assert company_batches.build(copy, None, facts_per_batch=1) == 7
    assert reference_fingerprint(copy) == REFERENCE


def test_batches_hold_consecutive_companies_up_to_the_fact_budget():
    sizes = [("0000000001", 3), ("0000000002", 3), ("0000000003", 5), ("0000000004", 0)]
    assert [b.ciks for b in company_batches.batches(sizes, facts_per_batch=6)] == [
        ("0000000001", "0000000002"), ("0000000003", "0000000004")]
    assert list(company_batches.batches(sizes, only={"0000000002", "0000000004"}, facts_per_batch=6)) == [
        company_batches.Batch(("0000000002", "0000000004"), whole_range=False)]
    assert company_batches.Batch(("0000000002", "0000000004"), False).predicate() == (
        "(cik between '0000000002' and '0000000002' or cik between '0000000004' and '0000000004')")
    assert company_batches.Batch(("0000000002", "0000000004"), True).predicate() == (
        "cik between '0000000002' and '0000000004'")


@pytest.mark.parametrize("ranges_at_most", [0, company_batches.RANGES_AT_MOST])
def test_a_batch_of_scattered_companies_reads_exactly_their_rows(copy, ranges_at_most, monkeypatch):
    """ORed ranges, or past RANGES_AT_MOST companies a range narrowed by a list: the same rows."""
    monkeypatch.setattr(company_batches, "RANGES_AT_MOST", ranges_at_most)
    ciks = [cik for (cik,) in copy.execute("select distinct cik from core.facts order by cik").fetchall()]
    for picked in (ciks[::2], ciks[1::3], ciks[-1:]):
        where = company_batches.Batch(tuple(picked), whole_range=False).predicate()
        assert ("cik in (" in where) == (len(picked) > ranges_at_most)
        read = copy.execute(f"select cik, count(*) from core.facts where {where} group by cik order by cik").fetchall()
        assert read == copy.execute("select cik, count(*) from core.facts where cik in ? group by cik order by cik",
                                    [picked]).fetchall()
        assert [cik for cik, _ in read] == picked


def reload(conn: duckdb.DuckDBPyConnection, *ciks: str) -> None:
    """The companies' facts deleted and appended anew, one company after the other in that order, as a
    re-run's load leaves them (the deleted rows not reclaimed while max_vacuum_tasks is 0)."""
    conn.execute("create temp table reloaded as select * from core.facts where cik in ?", [list(ciks)])
    conn.execute("delete from core.facts where cik in ?", [list(ciks)])
    for cik in ciks:
        conn.execute("insert into core.facts select * from reloaded where cik = ?", [cik])
    conn.execute("drop table reloaded")


def test_a_batch_of_scattered_companies_sees_exactly_their_rows_between_the_rowids_it_finds(copy):
    """Narrowed to the rowids its companies' rows lie between (company_batches._narrowed), a batch's view
    of an input holds all their rows and no other: after a load appended some anew, and for a company
    the input has no row of (the view is then empty)."""
    reload(copy, AAPL, GOOGL, NVDA)
    every = "select cik, count(*), sum(hash(tag, accn, value)) from {} where cik in ? group by cik order by cik"
    # in rowid order Apple's rows, Alphabet's, then NVIDIA's: spans that touch are one
    for picked, spans in (([AAPL, NVDA], 2), ([GOOGL, NVDA], 1), ([AAPL, GOOGL, NVDA], 1), ([AAPL, GOOGL], 1),
                          ([NVDA], 1), (["0000000001"], 0), ([AAPL, "0000000001"], 1)):
        batch = company_batches.Batch(tuple(sorted(picked)), whole_range=False)
        expected = copy.execute(every.format("core.facts"), [picked]).fetchall()
        with company_batches._rowids_held(copy), \
                company_batches.restricted(copy, batch, ("core.facts", "core.filing_facts"), narrowed=True):
            assert copy.execute(every.format("core.facts"), [picked]).fetchall() == expected
            assert copy.execute("select count(distinct cik) from core.facts").fetchone() == (len(expected),)
            where = copy.execute("select lower(sql) from duckdb_views() where view_name = 'facts'").fetchone()[0]
        assert where.count("rowid between") == spans, where
        assert where.endswith("where false;") == (not expected), where
    with company_batches.restricted(copy, batch, ("core.facts",), narrowed=True):  # rowids may move: the filter alone
        assert "rowid" not in copy.execute("select lower(sql) from duckdb_views() where view_name = 'facts'").fetchone()[0]


def test_the_batches_built_side_by_side_hold_rowids_still_and_give_the_setting_back(copy, monkeypatch):
    """max_vacuum_tasks is the database's setting: the build holds it at 0 once, around every batch, two of
    them at once on their own connections, and restores it after."""
    copy.execute("set threads = 2")
    seen = []
    run_sql = warehouse.run_sql

    def noting(conn, name, *args, **kwargs):
        if name == company_batches.CHAIN[0]:  # as each batch starts (and once more for the whole view, after)
            seen.append(conn.execute("select current_database(), current_setting('max_vacuum_tasks')").fetchone())
        return run_sql(conn, name, *args, **kwargs)

    monkeypatch.setattr(warehouse, "run_sql", noting)
    company_batches.build(copy, company_batches.to_rebuild(copy, {NVDA}), facts_per_batch=30_000)
    assert {database for database, _ in seen} == {"batch_0", "batch_1", "copy"}, seen
    assert [held for database, held in seen if database != "copy"] == [0] * (len(seen) - 1), seen
    assert copy.execute("select current_setting('max_vacuum_tasks')").fetchone() == (100,)
    assert reference_fingerprint(copy) == REFERENCE


@pytest.mark.parametrize("ranges_at_most", [0, company_batches.RANGES_AT_MOST])
def test_only_the_changed_companies_are_rebuilt(copy, ranges_at_most, monkeypatch):
    monkeypatch.setattr(company_batches, "RANGES_AT_MOST", ranges_at_most)  # both ways of naming a batch's companies
    # every company of the snapshot has filing documents, whose tables reload whole at each build, so
    # they are rebuilt each time: NVIDIA is made a companyfacts-only filer here
    for table in ("filings", "filing_facts", "reported_measures", "filing_warnings"):
        copy.execute(f"delete from core.{table} where cik = ?", [NVDA])
    company_batches.build(copy, None)
    # GOOGL's capex of fiscal 2025 changes in core.facts; NVIDIA's rows are tampered with where only a
    # rebuild of NVIDIA would repair them
    copy.execute("update core.facts set value = value + 1e9 where cik = ? and tag = 'PaymentsToAcquirePropertyPlantAndEquipment' "
                 "and period_end = '2025-12-31' and duration_days > 300", [GOOGL])
    copy.execute("update core.metric_values set value = -1 where cik = ? and metric = 'revenue'", [NVDA])
    only = company_batches.to_rebuild(copy, {GOOGL})
    assert company_batches.build(copy, only) == 6 == len(only)  # GOOGL, and the other five with filing documents; not NVIDIA
    assert NVDA not in only
    assert copy.execute("select capex from core.metrics_wide where cik = ? and period_type = 'fiscal_year' "
                        "and fiscal_year = 2025", [GOOGL]).fetchone() == (92_447_000_000,)
    assert copy.execute("select count(*) from core.metric_values where cik = ? and value = -1", [NVDA]).fetchone()[0] > 0
    incremental = reference_fingerprint(copy)
    company_batches.build(copy, None)
    assert copy.execute("select count(*) from core.metric_values where cik = ? and value = -1", [NVDA]).fetchone() == (0,)
    copy.execute("update core.metric_values set value = -1 where cik = ? and metric = 'revenue'", [NVDA])
    assert reference_fingerprint(copy) == incremental  # what changed for GOOGL is what a full build makes of it


@pytest.mark.parametrize("held", [True, False])
def test_a_checkpoint_during_a_re_run_moves_no_row_it_reads(copy, monkeypatch, held):
    """A re-run's batch reads its companies' inputs between the rowids where it found their rows
    (company_batches._narrowed). A checkpoint that reclaims deleted rows moves rows to other rowids: the
    build holds that off while its batches run, so a checkpoint in the middle of one (here as its chain
    starts, in a build that reclaims) changes nothing. With the hold let go there, the batch reads other rows."""
    home = copy.execute("select current_database()").fetchone()[0]
    reload(copy, NVDA, AAPL, GOOGL)
    copy.execute("checkpoint")  # reclaimed: NVIDIA's rows, Apple's, then Alphabet's
    copy.execute("set max_vacuum_tasks = 0")
    reload(copy, NVDA, AAPL)  # a re-run's load: Alphabet's rows now follow NVIDIA's and Apple's deleted ones
    copy.execute("reset max_vacuum_tasks")  # a build that reclaims deleted rows at its checkpoints
    googl_rows = "select min(rowid), count(*) from core.facts where cik = ?"
    stored, _ = copy.execute(googl_rows, [GOOGL]).fetchone()
    moved: list[bool] = []  # whether the checkpoint in the middle of the batch moved Alphabet's rows
    run_sql = warehouse.run_sql

    def checkpoint_first(conn, name, *args, **kwargs):
        if name == company_batches.CHAIN[0]:
            if not held:
                conn.execute("reset max_vacuum_tasks")
            conn.execute(f"checkpoint {warehouse.quoted(home)}")
            moved.append(conn.execute(googl_rows.replace("core.facts", f"{warehouse.quoted(home)}.core.facts"),
                                      [GOOGL]).fetchone()[0] != stored)
        return run_sql(conn, name, *args, **kwargs)

    monkeypatch.setattr(warehouse, "run_sql", checkpoint_first)
    only = company_batches.to_rebuild(copy, {NVDA})
    assert company_batches.build(copy, only) == 7  # every company has filing documents: one batch of all seven
    assert copy.execute("select current_setting('max_vacuum_tasks')").fetchone() == (100,)  # given back
    capex_2025 = copy.execute("select capex from core.metrics_wide where cik = ? and period_type = 'fiscal_year' "
                              "and fiscal_year = 2025", [GOOGL]).fetchone()
    assert moved[0] == (not held)  # moved[1]: the checkpoint before the view over every company, held no more
    copy.execute("checkpoint")
    assert copy.execute(googl_rows, [GOOGL]).fetchone()[0] < stored  # the build let go: a checkpoint moves them
    if held:
        assert capex_2025 == (91_447_000_000,)
        assert reference_fingerprint(copy) == REFERENCE
    else:
        assert capex_2025 != (91_447_000_000,)  # Alphabet's facts were not where the batch read them
        assert reference_fingerprint(copy) != REFERENCE


def test_a_removed_company_loses_its_rows(copy):
    copy.execute("delete from core.facts where cik = ?", [GOOGL])
    copy.execute("delete from core.companies where cik = ?", [GOOGL])
    for table in ("filings", "filing_facts", "reported_measures"):
        copy.execute(f"delete from core.{table} where cik = ?", [GOOGL])
    company_batches.build(copy, {GOOGL})
    assert copy.execute("select count(*) from core.metrics_wide where cik = ?", [GOOGL]).fetchone() == (0,)


def test_tables_built_by_batch_equal_one_statement_over_every_company(copy):
    """A table of the chain built company by company (one company per batch) holds exactly the rows its
    SQL gives over the whole warehouse at once: here the facts the period math leaves out, which the
    warning check once computed over every periodic fact."""
    company_batches.build(copy, None, facts_per_batch=1)
    whole = warehouse.sql_text("core/unplaced_metric_facts").replace(
        "create or replace table core.unplaced_metric_facts", "create temp table unplaced_whole")
    copy.execute(whole)
    batched = copy.execute("select * from core.unplaced_metric_facts except all select * from unplaced_whole").fetchall()
    missing = copy.execute("select * from unplaced_whole except all select * from core.unplaced_metric_facts").fetchall()
    assert (batched, missing) == ([], [])
    assert copy.execute("select count(*) from core.unplaced_metric_facts").fetchone() == (14,)  # the check's 14


@pytest.mark.parametrize("ranges_at_most", [0, company_batches.RANGES_AT_MOST])
def test_checks_kept_company_by_company_judge_only_the_rebuilt_companies(copy, ranges_at_most, monkeypatch):
    """A re-run evaluates the checks that read per-company tables on the companies it rebuilt and keeps
    the others' failures from the last build: together, what one evaluation over everything finds."""
    monkeypatch.setattr(company_batches, "RANGES_AT_MOST", ranges_at_most)  # both ways of naming the rebuilt companies
    kept = [check for check in CHECKS if check.company_tables]
    assert {check.label for check in kept} >= {"marts/quarterly:unique_keys", "core/base_metric_values:implausible_jumps"}
    mart_unique = next(check for check in kept if check.label == "marts/quarterly:unique_keys")
    assert copy.execute("select comment from duckdb_tables() where table_name = 'check_failures'").fetchone()[0] \
        .startswith("What the checks that judge company by company found")  # described from the first build
    copy.execute("insert into main.check_failures values ('core/gone:old_check', ?, 1, '[]')", [GOOGL])
    assert evaluate(copy, mart_unique, None).failures == 0  # stores every company's (no) failures
    assert copy.execute("select count(*) from main.check_failures where asset_check = 'core/gone:old_check'").fetchone() == (0,)
    duplicate = "insert into marts.quarterly select * from marts.quarterly where cik = ? and fiscal_year = 2024 and fiscal_quarter = 2"
    copy.execute(duplicate, [GOOGL])
    copy.execute(duplicate, [NVDA])
    # only GOOGL rebuilt: its duplicate is found; NVIDIA was not rebuilt, so its failures are the last build's
    assert evaluate(copy, mart_unique, {GOOGL}).failures == 1
    stored = copy.execute("select cik, failures from main.check_failures where asset_check = ?", [mart_unique.label])
    assert stored.fetchall() == [(GOOGL, 1)]
    every_company = {cik for (cik,) in copy.execute("select distinct cik from marts.quarterly").fetchall()}
    for check in kept:  # judged company by company over every company = judged at once
        whole = evaluate(copy, check, None)
        assert evaluate(copy, check, every_company) == whole, check.label
    outcome = evaluate(copy, mart_unique, {NVDA})
    assert (outcome.failures, [row["cik"] for row in outcome.rows]) == (2, [NVDA, GOOGL])  # in CIK order
    assert outcome.rows[1] == {"cik": GOOGL, "fiscal_year": 2024, "fiscal_quarter": 2, "rows": 2}


def test_the_unique_keys_check_finds_every_repeated_key_of_metric_values(copy):
    """Recomputed in Python: every key of core.metric_values held by more than one row, with its count."""
    copy.execute("insert into core.metric_values select * from core.metric_values where cik = ? and metric in "
                 "('capex', 'fcf') and period_type = 'quarter' and fiscal_year = 2024", [GOOGL])
    copy.execute("insert into core.metric_values select * from core.metric_values where cik = ? and metric = 'capex' "
                 "and period_type = 'quarter' and fiscal_year = 2024 and fiscal_quarter = 1", [GOOGL])
    copy.execute("insert into core.metric_values select * from core.metric_values where cik = ? and metric = 'revenue' "
                 "and period_type = 'fiscal_year' and fiscal_year = 2023", [GOOGL])  # a key with a null fiscal_quarter
    keys = collections.Counter(copy.execute(
        "select cik, metric, period_type, fiscal_year, fiscal_quarter from core.metric_values").fetchall())
    expected = sorted((*key, count) for key, count in keys.items() if count > 1)
    assert len(expected) == 9 and max(row[-1] for row in expected) == 4  # four quarters, two metrics; Q1 capex twice
    assert (GOOGL, "revenue", "fiscal_year", 2023, None, 2) in expected
    check = next(check for check in CHECKS if check.label == "core/metric_values:unique_keys")
    assert sorted(copy.execute(warehouse.sql_text(f"checks/{check.query}")).fetchall()) == expected


def test_exports_read_a_table_built_company_by_company_in_its_order(copy):
    """A re-run appends the companies it rebuilt after the others, so marts.quarterly is stored out of
    order; exports (CSV, Parquet, the workbook's sheets) read it sorted as its SQL sorts."""
    company_batches.build(copy, {GOOGL})  # GOOGL alone: its rows go last
    stored = [ticker for (ticker,) in copy.execute("select ticker from marts.quarterly").fetchall()]
    assert stored[-1] == "GOOGL" and stored != sorted(stored)
    keys = ["ticker", "cik", "fiscal_year", "fiscal_quarter"]
    exported = query.in_reading_order(copy, "marts.quarterly").df()
    assert exported[keys].equals(exported[keys].sort_values(keys, na_position="last").reset_index(drop=True))
    assert len(exported) == len(stored)


def buffered_rows(conn: duckdb.DuckDBPyConnection, select: str) -> int:
    """The rows that select's CTEs hold for a later reader, whatever their names (the plan's, run)."""
    def walk(node: dict) -> int:
        info = node.get("extra_info", {})
        held = node["type"] == "CTE" and (info.get("Materialized Consumers", "0") != "0"
                                          or info.get("Execution Mode") == "MATERIALIZED")
        children = node.get("children", [])
        return (children[0]["intermediate_rows"] if held else 0) + sum(walk(child) for child in children)
    profile = json.loads(conn.execute(f"explain (analyze, format json) {select}").fetchall()[0][1])
    return sum(walk(node) for node in profile["operator"])


def test_every_fact_is_read_again_rather_than_held_for_a_second_reader(copy):
    """staging.periodic_facts and core.conflicting_facts each read every fact they use twice. Left to itself,
    DuckDB held each fact, with all its columns, for the second reader, which cost more than reading
    it again. As a batch of every company runs them, no CTE may hold facts (a few rows a company at most:
    core.conflicting_facts holds the companies whose facts it reads)."""
    every_company = next(company_batches.batches(company_batches.companies(copy), facts_per_batch=10**12))
    with company_batches.restricted(copy, every_company, company_batches.COMPANY_INPUTS, company_batches.SHARED_INPUTS):
        warehouse.run_sql(copy, "staging/periodic_facts")
        facts = copy.execute("select count(*) from staging.periodic_facts").fetchall()[0][0]
        assert facts > 10_000
        companies = len(every_company.ciks)
        assert buffered_rows(copy, "select * from staging.periodic_facts") < 10
        conflicting = warehouse.sql_text("core/conflicting_facts")
        assert buffered_rows(copy, conflicting[conflicting.index("\nwith ") + 1:]) < 3 * companies


def test_every_batch_writes_its_rows_once_straight_into_the_warehouse(copy, monkeypatch):
    """Each step of the chain reads the warehouse's compressed rows (the facts through staging.periodic_facts,
    earlier steps' tables through views of the batch's rows) and writes its rows into the warehouse's table.
    A copy in the batch's memory first (of the facts, or of each step's rows before appending them) cost
    more: every tag and accession number written as an uncompressed string, then read and hashed again.
    When each batch of a full build ends, its database holds views only, and the tables are those of one
    build at once."""
    held: list[list[tuple[str, int]]] = []
    restricted = company_batches.restricted

    @contextlib.contextmanager
    def watched(conn, *args, **kwargs):
        with restricted(conn, *args, **kwargs) as home:
            yield home
            held.append(conn.execute("select table_name, estimated_size from duckdb_tables() "
                                     "where database_name = current_database()").fetchall())

    monkeypatch.setattr(company_batches, "restricted", watched)
    assert company_batches.build(copy, None, facts_per_batch=30_000) == 7
    assert len(held) > 2 and held == [[]] * len(held)
    assert reference_fingerprint(copy) == REFERENCE
    held.clear()
    # a re-run's companies, scattered over the tables, are built in the batch's memory: only theirs
    assert company_batches.build(copy, {GOOGL, NVDA}, facts_per_batch=1) == 2
    quarters = dict(copy.execute("select cik, count(*) from marts.quarterly group by cik").fetchall())
    assert sorted(dict(tables)["quarterly"] for tables in held) == sorted([quarters[NVDA], quarters[GOOGL]])
    assert all("periodic_facts" not in dict(tables) for tables in held)
    assert reference_fingerprint(copy) == REFERENCE


def test_two_batches_are_built_side_by_side_sharing_the_threads(copy, monkeypatch):
    """Two batches at once, each on its own connection, DuckDB's threads shared between them (of three:
    two, one for each batch's own and one more). The first two batches meet inside their databases (a
    build that ran them one after the other would never get there: the barrier times out); the
    database's setting comes back when the build ends, and the tables are those of one build."""
    meeting, lock, inside = threading.Barrier(2, timeout=20), threading.Lock(), []
    restricted = company_batches.restricted

    @contextlib.contextmanager
    def watched(conn, batch, *args, **kwargs):
        with restricted(conn, batch, *args, **kwargs) as home:
            with lock:
                inside.append(conn.execute("select current_database(), current_setting('threads')").fetchone())
                first_two = batch.ciks and sum(1 for name, _ in inside if name != "batch") <= 2
            if first_two:
                meeting.wait()
            yield home

    monkeypatch.setattr(company_batches, "restricted", watched)
    copy.execute("set threads = 3")
    assert company_batches.build(copy, None, facts_per_batch=1) == 7
    assert inside[0] == ("batch", 3)  # the empty batch that makes every table anew, alone, on every thread
    assert {name for name, _ in inside[1:]} == {"batch_0", "batch_1"} and {t for _, t in inside[1:]} == {2}
    assert copy.execute("select current_setting('threads')").fetchone()[0] == 3
    assert reference_fingerprint(copy) == REFERENCE


def test_a_batch_that_fails_stops_the_build_and_leaves_no_batch_behind(copy, monkeypatch):
    """After a failure no batch starts: the first fails at once, the one beside it waits until it has
    failed, then finishes; the error is the failing batch's own, the batch databases are detached and
    the thread setting restored (the build's copy of the warehouse is then dropped unpublished, see
    publish)."""
    build_table, started, failed = company_batches._build_table, [], threading.Event()
    first = company_batches.companies(copy)[0][0]

    def failing(conn, home, batch, name, *rest):
        if name == company_batches.CHAIN[1]:
            started.append(batch.ciks)
            if first in batch.ciks:
                failed.set()
                raise RuntimeError("the disk is full, say")
            if batch.ciks:
                assert failed.wait(timeout=20)
        return build_table(conn, home, batch, name, *rest)

    monkeypatch.setattr(company_batches, "_build_table", failing)
    copy.execute("set threads = 4")
    with pytest.raises(RuntimeError, match="the disk is full"):
        company_batches.build(copy, None, facts_per_batch=1)
    assert len(started) == 3  # the empty batch, the failing one, the one beside it
    assert copy.execute("select list(database_name order by 1) from duckdb_databases() "
                        "where database_name like 'batch%'").fetchone()[0] in (None, [])
    assert copy.execute("select current_setting('threads')").fetchone()[0] == 4


def test_every_failing_batch_is_told(copy, monkeypatch):
    build_table = company_batches._build_table

    def failing(conn, home, batch, name, *rest):
        if batch.ciks and name == "core/metric_values":
            raise RuntimeError(f"batch of {batch.ciks[0]} failed")
        return build_table(conn, home, batch, name, *rest)

    monkeypatch.setattr(company_batches, "_build_table", failing)
    with pytest.raises(RuntimeError, match="failed") as raised:
        company_batches.build(copy, None, facts_per_batch=1)
    assert len(raised.value.__notes__) == 1 and "another batch failed too" in raised.value.__notes__[0]


def test_a_connection_on_an_attached_warehouse_builds_there(built, tmp_path):
    """The batches' own connections start in the default database (here an empty in-memory one), so
    they are moved to the one the build's connection is using."""
    shutil.copy(built[0] / "capexwatch.duckdb", tmp_path / "copy.duckdb")
    conn = duckdb.connect()
    conn.execute(f"attach '{tmp_path / 'copy.duckdb'}' as wh")
    conn.execute("use wh")
    assert company_batches.build(conn, None, facts_per_batch=1) == 7
    assert reference_fingerprint(conn) == REFERENCE
    conn.close()


@pytest.mark.parametrize("spelling", [
    "CREATE OR REPLACE TABLE core.fiscal_years AS", 'create or replace  table "core"."fiscal_years"\nas'])
def test_a_chain_file_may_spell_its_create_as_sql_allows(copy, monkeypatch, spelling):
    sql_text = warehouse.sql_text
    monkeypatch.setattr(warehouse, "sql_text", lambda name: sql_text(name).replace(
        "create or replace table core.fiscal_years as", spelling))
    company_batches.build(copy, None)
    assert reference_fingerprint(copy) == REFERENCE


def test_a_chain_file_that_does_not_create_its_table_in_one_statement_is_refused(copy, monkeypatch):
    """Its rows would otherwise stay in the batch's database, which is detached with them."""
    sql_text = warehouse.sql_text
    monkeypatch.setattr(warehouse, "sql_text", lambda name: sql_text(name).replace(
        "create or replace table core.fiscal_years as", "create or replace table core.fiscal_years_draft as"))
    with pytest.raises(ValueError, match="core/fiscal_years.sql must create core.fiscal_years in one statement"):
        company_batches.build(copy, None)


def test_a_company_with_filing_documents_is_looked_at_for_conflicts_whatever_its_flag(copy):
    """A figure of a filing document that its companyfacts give otherwise is a conflict that no count of
    companyfacts keys sees: a company with filing documents is always among those core.conflicting_facts
    reads, even when its flattening found every key once (Apple: repeated_fact_keys false)."""
    cik, accn, tag, start, end, value = copy.execute("""
        select f.cik, f.accn, f.tag, f.period_start, f.period_end, f.value
        from core.facts as f
        join core.filing_facts as d
          on d.cik = f.cik and d.accn = f.accn and d.prefix = f.taxonomy and d.tag = f.tag and d.unit = f.unit
         and d.period_end = f.period_end and d.period_start is not distinct from f.period_start
        join core.companies as c on c.cik = f.cik
        where cardinality(d.dimensions) = 0 and f.form = '10-K' and f.value = d.value and not c.repeated_fact_keys
        order by f.cik, f.tag, f.period_end limit 1""").fetchone()
    copy.execute("update core.facts set value = value + 1e6 where cik = ? and accn = ? and tag = ? and period_end = ? "
                 "and period_start is not distinct from ?", [cik, accn, tag, end, start])
    company_batches.build(copy)
    assert copy.execute("select cik, accn, tag, \"values\" from core.conflicting_facts").fetchall() == [
        (cik, accn, tag, [value, value + 1e6])]
