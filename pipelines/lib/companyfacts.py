"""SEC's companyfacts JSON: checked before it lands, flattened by DuckDB into a Parquet partition.

The flattening and typing is SQL (sql/staging/companyfacts_rows.sql), shared by the per-company
assets and the bulk archive. A fact that cannot be used as it stands (a field missing, a value
that is not a number, a date that is not a date) is kept in the partition with its reason, for
core.rejected_facts, never dropped silently.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from pipelines.lib import warehouse


class MalformedCompanyFacts(ValueError):
    """The document is not a companyfacts response (bad JSON, wrong shape)."""


def validate(content: bytes, cik: str | None = None) -> dict:
    """Parse and check the shape, and that it is the company asked for (cik, when given); used
    before a download may land in the raw zone."""
    try:
        doc = orjson.loads(content)  # several times faster than json on SEC's multi-MB documents
    except orjson.JSONDecodeError as exc:
        raise MalformedCompanyFacts(f"not valid JSON ({len(content)} bytes): {exc}") from exc
    if not isinstance(doc, dict) or "cik" not in doc or not isinstance(doc.get("facts"), dict):
        raise MalformedCompanyFacts("JSON without 'cik' and a 'facts' object: not a companyfacts response")
    if cik is not None and str(doc["cik"]).lstrip("0") != cik.lstrip("0"):
        raise MalformedCompanyFacts(f"companyfacts of CIK {doc['cik']}, expected {cik}")
    return doc


@dataclass(frozen=True)
class Partition:
    facts: int
    rejected: int
    entity_name: str | None


def flattener(conn: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that knows companyfacts_rows(); in-memory unless given one."""
    conn = warehouse.synchronous_writes(conn or duckdb.connect())
    warehouse.run_sql(conn, "staging/companyfacts_rows")
    return conn


def write_partition(conn: duckdb.DuckDBPyConnection, source: str, document_bytes: int, target: Path,
                    cik: str | None = None) -> Partition:
    """One companyfacts document (a path DuckDB can read, of document_bytes) -> one Parquet file of its
    facts, the rejected ones included with their reason (target: a local file, see PartitionStore.writing);
    with cik, the document must be that company's (an archive entry named for one CIK holding
    another's facts would file them under a company that does not know them)."""
    bound = min(document_bytes, LARGEST_DOCUMENT)  # a size claimed by an archive, capped at what DuckDB allows
    try:
        with _flattened(conn, source, bound):
            listed, distinct, rejected, name, others = conn.execute(
                "select count(*) filter (reason is null), count(distinct repeat_key) filter (reason is null), "
                "count(*) filter (reason is not null), any_value(entity_name), "
                f"any_value(cik) filter (cik is distinct from ?) from {_FLATTENED}", [cik]).fetchall()[0]
            if distinct == listed:
                conn.sql(f"select * exclude (repeat_key) from {_FLATTENED}").write_parquet(str(target))
                facts = listed
            else:  # a fact listed twice, or (rarely) two facts whose hashes collide: the window tells them apart
                conn.sql("select * from companyfacts_first_listed(?)", params=[_FLATTENED]).write_parquet(str(target))
                facts = _usable_rows(conn, target)
    except duckdb.Error as exc:
        raise MalformedCompanyFacts(f"{source}: not valid JSON, or not shaped like companyfacts ({exc})") from exc
    if cik is not None and others is not None:
        raise MalformedCompanyFacts(f"{source}: companyfacts of CIK {others}, expected {cik}")
    if facts + rejected == 0:
        _check_shape(conn, source, bound)
    return Partition(facts, rejected, name)


_FLATTENED = "companyfacts_flattened"  # one company's rows, as listed, while its partition is written
LARGEST_DOCUMENT = 2_000_000_000  # bytes; SEC's largest companyfacts documents are some tens of MB


@contextlib.contextmanager
def _flattened(conn: duckdb.DuckDBPyConnection, source: str, bound: int) -> Iterator[None]:
    """The document's rows as a temporary table for the block; dropping it on a connection already broken
    must not hide the error that broke it."""
    try:
        conn.execute(f"create or replace temp table {_FLATTENED} as select * from companyfacts_rows(?, ?)",
                     [source, bound])
        yield
    finally:
        with contextlib.suppress(duckdb.Error):
            conn.execute(f"drop table if exists {_FLATTENED}")


def _usable_rows(conn: duckdb.DuckDBPyConnection, partition: Path) -> int:
    return conn.execute("select count(*) filter (reason is null) from read_parquet(?, hive_partitioning = false)",
                        [str(partition)]).fetchall()[0][0]


def _check_shape(conn: duckdb.DuckDBPyConnection, source: str, document_bytes: int) -> None:
    """A document without facts is either a company with none or not companyfacts at all."""
    shaped = conn.execute(
        "select count(*) from read_json(?, format = 'unstructured', maximum_object_size = ?, "
        "columns = {cik: 'JSON', facts: 'JSON'}) where cik is not null and json_type(facts) = 'OBJECT'",
        [source, document_bytes]).fetchall()[0][0]
    if not shaped:
        raise MalformedCompanyFacts(f"{source}: JSON without 'cik' and a 'facts' object: not a companyfacts response")
