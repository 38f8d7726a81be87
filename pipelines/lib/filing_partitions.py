"""The filing tables as one writer loads them: every company's Parquet partitions, replaced company by company."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib import warehouse
from pipelines.lib.partition_store import PartitionStore

# written per company by staging/filing_documents (filings_parquet/<table>/cik=##########.parquet)
FILING_TABLES = ("filings", "filing_facts", "filing_warnings", "reported_measures")
PROFILE_TABLE = "filer_profiles"  # written there too, from the company's submissions feed (filer_profiles.py)


def delete(store: PartitionStore, cik: str) -> None:
    """Remove a company's filing partitions; the next build reloads the tables without them (and
    deletes its rows, which core.companies marks removed)."""
    for table in (*FILING_TABLES, PROFILE_TABLE):
        store.delete(f"{table}/cik={cik}.parquet")


def load(conn: duckdb.DuckDBPyConnection, store: PartitionStore, removed: list[str]) -> dict[str, int]:
    """Bring the four core filing tables up to the partitions, in one transaction; row counts. Each
    company with a partition has its rows replaced by the partition's; a company without one keeps
    its rows (a store that lists fewer companies, a mistyped folder, removes nothing), unless it was
    removed."""
    with warehouse.transaction(conn):
        for table in FILING_TABLES:
            replace_companies(conn, store, table, removed)
    return {table: conn.execute(f"select count(*) from core.{table}").fetchall()[0][0] for table in FILING_TABLES}


def replace_companies(conn: duckdb.DuckDBPyConnection, store: PartitionStore, table: str, removed: list[str]) -> None:
    """core.<table>: each company with a partition <table>/cik=##########.parquet gets the partition's
    rows; a company without one keeps its rows unless it was removed."""
    store.attach(conn)
    files = store.glob(f"{table}/cik=*.parquet")
    replaced = [Path(file).stem.removeprefix("cik=") for file in files] + removed
    conn.execute(f"delete from core.{table} where cik in (select unnest(?::varchar[]))", [replaced])
    if files:
        conn.execute(f"insert into core.{table} by name select * from read_parquet(?)", [files])
