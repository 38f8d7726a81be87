"""The filing tables as one writer loads them: every company's Parquet partitions, reloaded whole."""

from __future__ import annotations

import duckdb

from pipelines.lib import warehouse
from pipelines.lib.partition_store import PartitionStore

# written per company by staging/filing_documents (filings_parquet/<table>/cik=##########.parquet)
FILING_TABLES = ("filings", "filing_facts", "filing_warnings", "reported_measures")


def load(conn: duckdb.DuckDBPyConnection, store: PartitionStore) -> dict[str, int]:
    """Replace the four core filing tables with the partitions' rows, in one transaction; row counts."""
    files = {table: store.glob(f"{table}/cik=*.parquet") for table in FILING_TABLES}
    with warehouse.transaction(conn):
        store.attach(conn)
        if all(files.values()):
            warehouse.run_sql(conn, "core/filing_tables__from_parquet", **files)
    return {table: conn.execute(f"select count(*) from core.{table}").fetchall()[0][0] for table in FILING_TABLES}
