"""The per-company part of the build, run batch by batch of companies.

Every table from staging.periodic_facts to core.metrics_wide, the facts they leave out, and the marts
cut from core.metrics_wide (quarterly, annual, TTM) are computed company by company (each row depends on
its own company's facts and the shared concept map only). Built for the whole market in one
statement, their largest steps hash tens of millions of facts at once and grow faster than the data;
built here for a batch of companies at a time, through a database of views that sees only those
companies' rows, time and memory grow with the number of companies, no faster. A build that knows which
companies changed rebuilds only theirs.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import re
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import duckdb

from pipelines.lib import warehouse

# In build order; each reads only tables before it, the inputs below, and core.concept_map. The first
# stays a view: five steps read it, and each scan of the warehouse's compressed facts costs less than
# one copy of them in the batch's memory, where every tag and accession number is a string to write
# and to hash again (a fifth of the chain's CPU, measured with benchmarks/chain_profile.py). A full
# build writes the others straight into the warehouse (see _build_table), so each file creates its
# table in one statement, 'create or replace table <schema>.<table> as ...', and says nothing more about it.
CHAIN = (
    "staging/periodic_facts", "core/conflicting_facts", "core/fiscal_years", "core/fiscal_quarters",
    "core/span_facts", "core/metric_spans", "core/discrete_values", "core/base_metric_values",
    "core/fiscal_year_reconciliation", "core/metric_values", "core/metrics_wide", "core/unplaced_metric_facts",
    "core/reporting_basis", "core/ppe_balances", "marts/quarterly", "marts/annual", "marts/ttm",
)
# Tables the chain reads, seen by a batch through its companies only.
COMPANY_INPUTS = ("core.facts", "core.filing_facts", "core.filings", "core.reported_measures", "core.companies")
SHARED_INPUTS = ("core.concept_map",)
FACTS_PER_BATCH = 4_000_000  # about 160 companies of the size of the snapshot's (time per fact is the same from 2 M to 8 M)
MEMORY_LIMIT = "2GB"  # DuckDB spills past it; at 512 MB (the load's limit) the chain takes a quarter longer
_CIK = re.compile(r"\d{10}")
RANGES_AT_MOST = 200  # companies of a batch filtered as ORed ranges (see Batch.predicate)


@dataclass(frozen=True)
class Batch:
    ciks: tuple[str, ...]
    whole_range: bool  # every company between the first and the last is in the batch

    def predicate(self) -> str:
        """The batch as a filter on cik: a range, which DuckDB prunes by its zone maps. Companies picked
        here and there (a re-run) are one range each: DuckDB checks ORed ranges inside the scan, where an
        IN list (or ORed equalities, which it makes one) is checked by a join after the scan has passed on
        every row of the row groups holding those companies. Past a few hundred ranges, checking each row
        against each costs more than the join (measured in benchmarks/README.md, on a re-run's batch)."""
        assert all(_CIK.fullmatch(cik) for cik in self.ciks), self.ciks  # literals in SQL: digits only
        if not self.ciks:
            return "false"
        if not self.whole_range and len(self.ciks) <= RANGES_AT_MOST:
            return "(" + " or ".join(f"cik between '{cik}' and '{cik}'" for cik in self.ciks) + ")"
        bounds = f"cik between '{self.ciks[0]}' and '{self.ciks[-1]}'"
        if self.whole_range:
            return bounds
        listed = ", ".join(f"'{cik}'" for cik in self.ciks)
        return f"{bounds} and cik in ({listed})"


def sort_order(table: str) -> str | None:
    """The ORDER BY that ends the SQL of a chain table ('marts.quarterly'), if it has one: the order
    each batch is stored in, not the table's, once batches and re-runs are appended."""
    name = next((name for name in CHAIN if warehouse.relation_name(name) == table), None)
    found = _FINAL_ORDER.search(warehouse.sql_text(name)) if name else None
    return found.group(1).strip() if found else None


_FINAL_ORDER = re.compile(r"\norder by ([^\n;]+)\s*;?\s*$", re.IGNORECASE)


def companies(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Every company the build holds, with its number of facts (filing documents' count too), by CIK."""
    return conn.execute("""
        select cik, sum(facts)::bigint from (
            select cik, facts from core.companies
            union all select cik, count(*) from core.filing_facts group by cik
            union all select distinct cik, 0 from core.filings
        )
        group by cik order by cik""").fetchall()


def batches(sizes: list[tuple[str, int]], only: set[str] | None = None,
            facts_per_batch: int = FACTS_PER_BATCH) -> Iterator[Batch]:
    """Consecutive companies, about facts_per_batch facts each (one company at least); with only, just
    those companies."""
    chosen = [(cik, facts) for cik, facts in sizes if only is None or cik in only]
    current: list[str] = []
    total = 0
    for cik, facts in chosen:
        if current and total + facts > facts_per_batch:
            yield Batch(tuple(current), only is None)
            current, total = [], 0
        current.append(cik)
        total += facts
    if current:
        yield Batch(tuple(current), only is None)


def inputs_digest(conn: duckdb.DuckDBPyConnection, also: Iterable[str] = ()) -> str:
    """What every company's rows are built from besides its own data: the chain's SQL, the concept map,
    and also (the text of the checks whose failures are kept company by company)."""
    digest = hashlib.sha256("\n".join([*(warehouse.sql_text(name) for name in CHAIN), *also]).encode())
    digest.update(repr(conn.execute("select * from core.concept_map order by all").fetchall()).encode())
    return digest.hexdigest()


def built_from(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The digest the published tables were built from (main.build_info), if they were built batch by batch."""
    try:
        return conn.execute("select company_inputs from main.build_info").fetchone()[0]
    except duckdb.Error:  # a first build, a rebuild from nothing, or a warehouse built before batches
        return None


def to_rebuild(conn: duckdb.DuckDBPyConnection, changed: set[str] | None) -> set[str] | None:
    """The companies a build replaces: every one (None), or the changed ones and every company with
    filing documents (the filing tables are reloaded whole at each build)."""
    if changed is None:
        return None
    return changed | {cik for (cik,) in conn.execute("select distinct cik from core.filings").fetchall()}


def build(conn: duckdb.DuckDBPyConnection, only: set[str] | None = None,
          facts_per_batch: int = FACTS_PER_BATCH, log: Callable[[str], None] = lambda message: None) -> int:
    """Build the chain's tables in the warehouse conn: all of them (only None), or the rows of the
    companies only names, replaced (see to_rebuild). Returns the number of companies built; log hears
    of each batch done, with the time left at the pace so far."""
    conn.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    sizes = companies(conn)
    if only is None:  # every table made anew, empty, for the batches to append to
        _build_batch(conn, Batch((), whole_range=True), only, replace_tables=True)
    else:
        gone = sorted(only - {cik for cik, _ in sizes})  # removed: their rows go, nothing replaces them
        _delete(conn, Batch(tuple(gone), whole_range=False))
    todo = list(batches(sizes, only, facts_per_batch))
    started, count = time.perf_counter(), 0
    with _rowids_held(conn):
        for number, batch in enumerate(_side_by_side(conn, todo, only), start=1):
            count += len(batch.ciks)
            pace = (time.perf_counter() - started) / number
            log(f"company tables: batch {number}/{len(todo)} ({count} companies), "
                f"about {pace * (len(todo) - number):.0f} s left")
    warehouse.run_sql(conn, "staging/periodic_facts")  # the view, over every company, for ad-hoc SQL and the checks
    return count


@contextmanager
def _rowids_held(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """No checkpoint reclaims deleted rows during the block: a checkpoint that merges row groups moves rows
    to other rowids, which a batch of scattered companies reads its inputs between (see _narrowed); an
    update that rewrites a row (of a list or map column) does too, and nothing updates a batch's inputs
    during a build. A build that reclaims deleted rows (see publish._defer_compaction) does so at its
    final checkpoint. The setting is the database's: held once around all the batches, two at a time."""
    held = conn.execute("select current_setting('max_vacuum_tasks')").fetchone()[0]
    conn.execute("set max_vacuum_tasks = 0")
    try:
        yield
    finally:
        conn.execute(f"set max_vacuum_tasks = {int(held)}")


BATCHES_AT_ONCE = 2  # more would share the build's memory limit (MEMORY_LIMIT) more thinly


def _side_by_side(conn: duckdb.DuckDBPyConnection, todo: list[Batch], only: set[str] | None) -> Iterator[Batch]:
    """Build the batches, yielding each when done; two run at once, each on its own connection, DuckDB's
    threads shared between them (one each on two cores). A batch's queries on two threads finish a
    quarter sooner than on one, for a fifth more CPU; two batches side by side, one thread each, keep
    both cores busier for less (600 companies, benchmarks/chain_profile.py: 7.7-8.1 s, against 9.5-10.0 s
    one batch at a time on two threads and 13.0-13.3 s on one). A single batch (most re-runs) keeps
    every thread for itself."""
    threads = conn.execute("select current_setting('threads')").fetchone()[0]
    at_once = min(BATCHES_AT_ONCE, threads, len(todo))
    if at_once < 2:
        for batch in todo:
            _build_batch(conn, batch, only)
            yield batch
        return
    home = warehouse.quoted(conn.execute("select current_database()").fetchone()[0])
    free: queue.SimpleQueue[tuple[duckdb.DuckDBPyConnection, str]] = queue.SimpleQueue()
    opened: list[duckdb.DuckDBPyConnection] = []

    def build_one(batch: Batch) -> Batch:
        cursor, alias = free.get()  # one per batch in flight, so one is always free
        try:
            _build_batch(cursor, batch, only, alias)
        finally:
            free.put((cursor, alias))
        return batch

    try:
        for number in range(at_once):
            opened.append(conn.cursor())
            opened[-1].execute(f"use {home}")  # a new connection starts in the default database; conn may be elsewhere
            free.put((opened[-1], f"batch_{number}"))
        conn.execute(f"set threads = {threads - at_once + 1}")  # the database's setting: each batch's thread, and the rest
        try:
            yield from _in_flight(build_one, todo, at_once)
        finally:
            conn.execute(f"set threads = {threads}")
    finally:
        for cursor in opened:
            cursor.close()


def _in_flight(build_one: Callable[[Batch], Batch], todo: list[Batch], at_once: int) -> Iterator[Batch]:
    """build_one over todo, at_once batches at a time, yielding each done. A batch is started only when
    one ends well: after a failure none starts, those running finish, and the first error is raised
    (with the others as notes)."""
    failures: list[BaseException] = []
    waiting = iter(todo)
    with ThreadPoolExecutor(at_once) as pool:
        running = {pool.submit(build_one, batch) for batch in itertools.islice(waiting, at_once)}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            failures += _errors(done)
            if failures:
                failures += _errors(running)  # waits for them to finish
                break
            for future in done:
                yield future.result()
            running |= {pool.submit(build_one, batch) for batch in itertools.islice(waiting, len(done))}
    if failures:
        for other in failures[1:]:
            failures[0].add_note(f"another batch failed too: {other!r}")
        raise failures[0]


def _errors(futures: Iterable[Future]) -> list[BaseException]:
    return [error for error in (future.exception() for future in futures) if error is not None]


def _build_batch(conn: duckdb.DuckDBPyConnection, batch: Batch, only: set[str] | None, alias: str = "batch",
                 replace_tables: bool = False) -> None:
    """Every chain table's rows of one batch, in the database conn is using, seen through alias."""
    if only is not None:
        _delete(conn, batch)  # the rows the batch replaces
    with restricted(conn, batch, COMPANY_INPUTS, SHARED_INPUTS, alias, narrowed=True) as home:
        warehouse.run_sql(conn, CHAIN[0])
        for name in CHAIN[1:]:
            _build_table(conn, home, batch, name, replace_tables, alias)


@contextmanager
def restricted(conn: duckdb.DuckDBPyConnection, batch: Batch, company_tables: Iterable[str],
               shared_tables: Iterable[str] = (), alias: str = "batch", narrowed: bool = False) -> Iterator[str]:
    """conn, for the block, in an in-memory database named alias, where each of company_tables is a view
    of the warehouse's rows of the batch's companies under the same name (shared_tables: all rows), so
    that SQL written for the warehouse runs on those companies only. Yields the warehouse's name.
    narrowed: each view reads only the rowids where the batch's rows lay as the block began (see
    _narrowed): for a caller that holds rowids still (_rowids_held) and writes none of those tables."""
    home = conn.execute("select current_database()").fetchone()[0]
    conn.execute(f"attach ':memory:' as {alias}")
    try:
        for schema in warehouse.SCHEMAS:
            conn.execute(f"create schema {alias}.{schema}")
        for table in company_tables:
            source = f"{warehouse.quoted(home)}.{table}"
            where = _narrowed(conn, source, batch) if narrowed else batch.predicate()
            conn.execute(f"create view {alias}.{table} as select * from {source} where {where}")
        for table in shared_tables:
            conn.execute(f"create view {alias}.{table} as select * from {warehouse.quoted(home)}.{table}")
        conn.execute(f"use {alias}")
        yield home
    finally:
        conn.execute(f"use {warehouse.quoted(home)}")
        conn.execute(f"detach {alias}")


def _narrowed(conn: duckdb.DuckDBPyConnection, table: str, batch: Batch) -> str:
    """The batch's filter on table, and the rowids its companies' rows lie between. Companies picked here
    and there (a re-run) share their row groups with others, and their old rows, deleted by the load but
    not yet reclaimed, still widen those row groups' zone maps: each scan passed over every row of all
    of them (benchmarks/README.md). The load appends the changed companies' new rows together at the
    table's end, so their rowid spans, merged where they touch, are few (one for them, one for each
    company whose rows were not reloaded), and let every scan skip the rest. Where rowids may move, the
    filter alone."""
    where = batch.predicate()
    if batch.whole_range or conn.execute("select current_setting('max_vacuum_tasks')").fetchone()[0] != 0:
        return where
    spans: list[list[int]] = []
    for first, last in conn.execute(f"select min(rowid), max(rowid) from {table} where {where} group by cik order by 1").fetchall():
        if spans and first <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], last)
        else:
            spans.append([first, last])
    if not spans:
        return "false"
    if len(spans) > RANGES_AT_MOST:  # checking each row against each would cost more than it skips
        spans = [[spans[0][0], spans[-1][1]]]  # merged spans are disjoint and in order: the last ends last
    return f"{where} and (" + " or ".join(f"rowid between {first} and {last}" for first, last in spans) + ")"


def _copy_into(conn: duckdb.DuckDBPyConnection, target: str, source: str) -> None:
    """A re-run batch's rows of a table, built in its memory, appended to the warehouse's."""
    conn.execute(f"insert into {target} by name select * from {source}")


def _delete(conn: duckdb.DuckDBPyConnection, batch: Batch) -> None:
    for name in CHAIN[1:]:
        conn.execute(f"delete from {warehouse.relation_name(name)} where {batch.predicate()}")


def _build_table(conn: duckdb.DuckDBPyConnection, home: str, batch: Batch, name: str, replace_table: bool,
                 alias: str = "batch") -> None:
    """The batch's rows of the chain table name, added to the warehouse's (replacing the whole table for
    the empty batch that starts a full build; build deleted a re-run's old rows), and what later steps read of them.
    A full build's batch writes its rows straight into the warehouse, where the table's zone maps find
    them (its CIK range is its own): built in the batch's memory first, each row was written twice, the
    first time as uncompressed strings (a tenth of the chain's CPU). A re-run's few companies are
    scattered over the tables, where a view of theirs reads at every step the row groups holding their
    rows, which they share with others (zone maps skip the rest): they are built in the batch's memory,
    then replace their rows (written straight into the tables instead, a 1 % re-run's tables took as
    long and about 15 % more CPU)."""
    table = warehouse.relation_name(name)
    target = f"{warehouse.quoted(home)}.{table}"
    schema, relation = (re.escape(part) for part in table.split("."))
    creates = re.compile(rf'^create\s+or\s+replace\s+table\s+"?{schema}"?\s*\.\s*"?{relation}"?\s+as\b', re.IGNORECASE)
    statements = [statement.query for statement in duckdb.extract_statements(warehouse.sql_text(name))]
    if sum(bool(creates.match(text)) for text in statements) != 1:
        raise ValueError(f"sql/{name}.sql must create {table} in one statement, 'create or replace table {table} as'")
    if not batch.whole_range:
        for text in statements:
            conn.execute(text)
        _copy_into(conn, target, f"{alias}.{table}")
        return
    into = f"create or replace table {target} as " if replace_table else f"insert into {target} by name "
    for text in statements:
        conn.execute(creates.sub(lambda _: into, text, count=1))
    conn.execute(f"create view {alias}.{table} as select * from {target} where {batch.predicate()}")
