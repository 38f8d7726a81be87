"""The filing tables as one writer loads them: every company's Parquet partitions, reloaded whole."""

from __future__ import annotations

import duckdb

from pipelines.lib import warehouse
from pipelines.lib.partition_store import PartitionStore

# written per company by staging/filing_documents (filings_parquet/<table>/cik=##########.parquet)
FILING_TABLES = ("filings", "filing_facts", "filing_warnings", "reported_measures")


def delete(store: PartitionStore, cik: str) -> None:
    """Remove a company's filing partitions; the next build reloads the tables without them."""
    for table in FILING_TABLES:
        store.delete(f"{table}/cik={cik}.parquet")


def load(conn: duckdb.DuckDBPyConnection, store: PartitionStore) -> dict[str, int]:
    """Replace the four core filing tables with the partitions' rows, in one transaction; row counts.
    A table no company has a partition for ends up empty (only Amazon has reported measures)."""
    with warehouse.transaction(conn):
        store.attach(conn)
        for table in FILING_TABLES:
            conn.execute(f"delete from core.{table}")
            if files := store.glob(f"{table}/cik=*.parquet"):
                conn.execute(f"insert into core.{table} by name select * from read_parquet(?)", [files])
    return {table: conn.execute(f"select count(*) from core.{table}").fetchall()[0][0] for table in FILING_TABLES}
