"""DuckDB access and the SQL runner: .sql files under sql/, values bound as parameters."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import ContextManager, Iterable, Iterator, Mapping

import duckdb
import filelock

from pipelines.lib.settings import SQL_DIR

SCHEMAS = ("staging", "core", "marts")
# Tables loaded per company rather than rebuilt: they must exist before any transform reads them.
BASE_TABLES = ("core/facts__create", "core/companies__create", "core/filing_tables__create",
               "core/filer_profiles__create")


class WarehouseLocked(RuntimeError):
    """Another process holds the DuckDB file; nothing was changed."""


class RefreshRunning(RuntimeError):
    """Another refresh or build of the same warehouse is under way."""


@contextmanager
def exclusive(lock_path: Path, wait_seconds: float, busy: str) -> Iterator[None]:
    """Hold lock_path, waiting up to wait_seconds, else raise Busy(busy). The lock dies with its
    process, so a killed holder never leaves it taken."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with filelock.FileLock(lock_path, timeout=wait_seconds):
            yield
    except filelock.Timeout as exc:
        raise RefreshRunning(f"{busy} (lock {lock_path}); waited {wait_seconds:g} s") from exc


def refresh_lock(path: Path, wait_seconds: float = 0) -> ContextManager[None]:
    """One CLI refresh per warehouse at a time; the second waits up to wait_seconds, then says why."""
    return exclusive(path.with_name(path.name + ".refresh.lock"), wait_seconds,
                     f"another refresh of {path} is running; wait for it, or pass --wait SECONDS")


VOLATILE_COLUMNS = {"refreshed_at", "fetched_at"}  # when, not what


def fingerprint(conn: duckdb.DuckDBPyConnection,
                leave_out: Mapping[str, Iterable[str]] = MappingProxyType({})) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every table's content (times of refresh left
    out, and the columns leave_out names for a table): equal fingerprints mean equal tables."""
    tables = conn.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_schema in ('core', 'marts') order by 1"
    ).fetchall()
    return {table: fingerprint_of(conn, table, leave_out=leave_out.get(table, ())) for (table,) in tables}


def fingerprint_of(conn: duckdb.DuckDBPyConnection, table: str, where: str = "true",
                   leave_out: Iterable[str] = ()) -> tuple[int, int]:
    """One table's fingerprint, of the rows where holds, without the columns leave_out names (to compare
    with a table built before they were added)."""
    columns = [c for (c,) in conn.execute("select column_name from information_schema.columns "
                                          "where table_schema || '.' || table_name = ?", [table]).fetchall()
               if c not in VOLATILE_COLUMNS and c not in leave_out]
    rows, digest = conn.execute(
        f"select count(*), coalesce(sum(hash({', '.join(columns)})), 0) from {table} where {where}").fetchone()
    return rows, int(digest)


def is_lock_error(exc: Exception) -> bool:
    """DuckDB refusing a file another process holds (or this one, with other settings); not, say, a
    checksum error 'in block at location ...'."""
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text or "different configuration" in text


def synchronous_writes(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Files written from conn are written by the query's own threads. DuckDB 2.0's asynchronous file
    writer can deadlock when a write fails midway (the failing query waits for the write tasks, one of
    which waits for a lock the aborting writer holds): a CSV export whose query failed hung the test
    suite, and a malformed companyfacts document could hang the ingest. No slower for the partitions."""
    conn.execute("set async_threads = 0")
    return conn


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, turning DuckDB's lock error into one that says what to do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if is_lock_error(exc):
            raise WarehouseLocked(
                f"warehouse {path} is locked by another process (a running refresh, or an open "
                f"DuckDB client); close it and retry. DuckDB said: {exc}"
            ) from exc
        raise
    if not read_only:
        for schema in SCHEMAS:
            conn.execute(f"create schema if not exists {schema}")
        for statement in BASE_TABLES:
            run_sql(conn, statement)
    return conn


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: readers see the old tables until the new ones are committed."""
    conn.execute("begin transaction")
    try:
        yield conn
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")


def sql_text(name: str, sql_dir: Path = SQL_DIR) -> str:
    """The statement in sql/<name>.sql, e.g. 'core/metric_values'."""
    return (sql_dir / f"{name}.sql").read_text()


def run_sql(conn: duckdb.DuckDBPyConnection, name: str, **params: object) -> None:
    """Run every statement of sql/<name>.sql, each with the parameters it names."""
    for statement in duckdb.extract_statements(sql_text(name)):
        wanted = {key: params[key] for key in statement.named_parameters}
        conn.execute(statement, wanted or None)


def quoted(*names: str) -> str:
    """An identifier for SQL, whatever characters it holds ('core', 'table' -> "core"."table")."""
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


def relation_name(name: str) -> str:
    """sql/core/metric_values.sql builds core.metric_values; sql/views/x.sql the view main.x."""
    layer, _, table = name.partition("/")
    return f"main.{table}" if layer == "views" else f"{layer}.{table}"
