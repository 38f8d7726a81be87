"""The companyfacts partitions between the per-company work and the warehouse.

Each company's facts live in their own Parquet file (facts_parquet/cik=##########/facts.parquet,
on disk or in a bucket: see partition_store) with a small record beside it (company.json: who,
where from, which raw copy). Producing a partition touches nothing shared, so partitions can be
produced in parallel, by any number of processes or machines; core.facts is then brought up to
date by one writer, which loads only the partitions whose record changed.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from pipelines.lib import warehouse
from pipelines.lib.partition_store import PartitionStore

RECORD = "company.json"
RECORD_FIELDS = ("cik", "ticker", "company", "status", "source", "raw_sha256", "fetched_at", "repeated_fact_keys")


def partition_path(cik: str) -> str:
    """Hive-style, so DuckDB and other engines can prune by company."""
    return f"cik={cik}/facts.parquet"


def record_path(cik: str) -> str:
    return f"cik={cik}/{RECORD}"


def write_record(store: PartitionStore, cik: str, **fields: object) -> None:
    """Written after the Parquet file: a record names a partition that is complete."""
    record = {name: fields.get(name) for name in RECORD_FIELDS} | {"cik": cik}
    store.write_bytes(record_path(cik), json.dumps(record).encode())


def read_record(store: PartitionStore, cik: str) -> dict | None:
    content = store.read_bytes(record_path(cik))
    return json.loads(content) if content is not None else None


REMOVED = "removed"


def remove(store: PartitionStore, record: dict) -> None:
    """Mark a company's partition removed, then delete its facts: the next build drops it from the
    core tables. The mark, not the absence of a partition, says so: a store that lists fewer
    companies (a mistyped folder, a bucket that answers with less) removes nothing."""
    fields = {name: value for name, value in record.items() if name != "cik"}
    write_record(store, record["cik"], **{**fields, "status": REMOVED, "raw_sha256": None})
    store.delete(partition_path(record["cik"]))


def stored(store: PartitionStore) -> pd.DataFrame:
    """The records of the companies stored and not removed."""
    table = records(store)
    return table[table["status"] != REMOVED]


def records(store: PartitionStore) -> pd.DataFrame:
    rows = [json.loads(content) for content in store.read_many(store.glob(f"cik=*/{RECORD}"))]
    return pd.DataFrame.from_records(rows, columns=list(RECORD_FIELDS))


def load_changed(conn: duckdb.DuckDBPyConnection, store: PartitionStore) -> tuple[list[str], list[str]]:
    """Bring core.facts, core.rejected_facts and core.companies up to the partitions, in one
    transaction, touching only companies whose record differs from what core.companies holds.
    A company recorded without data keeps the facts it had; one marked removed loses them all.
    Returns the companies loaded and those removed."""
    conn.register("partition_records", records(store))
    store.attach(conn)
    rows = conn.execute(warehouse.sql_text("core/facts__changed_partitions")).fetchall()
    changed = [cik for cik, _ in rows]
    with_data = [cik for cik, loaded in rows if loaded]
    removed = [cik for (cik,) in conn.execute(warehouse.sql_text("core/facts__removed_partitions")).fetchall()]
    conn.execute("set memory_limit = '512MB'")  # DuckDB spills past this: the load does not grow with the universe
    conn.execute("set preserve_insertion_order = false")  # rows have no order to keep; loads ~40 % faster
    with warehouse.transaction(conn):
        if removed or with_data:
            warehouse.run_sql(conn, "core/facts__delete_companies", ciks=removed + with_data)
        if with_data:
            warehouse.run_sql(conn, "core/facts__from_parquet",
                              files=[store.path(partition_path(cik)) for cik in with_data])
        if changed:
            warehouse.run_sql(conn, "core/companies__from_records", ciks=changed)
    conn.unregister("partition_records")
    return changed, removed
