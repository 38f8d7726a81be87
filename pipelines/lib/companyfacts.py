"""SEC's companyfacts JSON: checked before it lands, flattened by DuckDB into a Parquet partition.

The flattening and typing is SQL (sql/staging/companyfacts_rows.sql), shared by the per-company
assets and the bulk archive. A fact that cannot be used as it stands (a field missing, a value
that is not a number, a date that is not a date) is kept in the partition with its reason, for
core.rejected_facts, never dropped silently.
"""

from __future__ import annotations

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
    # a filing's concept, unit and period listed more than once (a repeat, or two values): the only
    # companies without filing documents whose facts core.conflicting_facts reads (core.companies)
    repeated_fact_keys: bool


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
    another's facts would file them under a company that does not know them). The machine's faults are
    not the document's: a partition that cannot be written (a full disk) or a document that cannot be
    opened raises OSError, and running out of memory MemoryError; every company after would meet them
    too, so they must not pass for malformed documents."""
    bound = min(document_bytes, LARGEST_DOCUMENT)  # a size claimed by an archive, capped at what DuckDB allows
    _as_listed(target).unlink(missing_ok=True)  # left by a run killed while it rewrote this company's file
    try:
        _write_parquet(conn, "companyfacts_rows(?, ?)", [source, bound], target)
        listed, keys, rejected, name, others = conn.execute(
            "select * from companyfacts_counts(?, ?)", [str(target), cik]).fetchall()[0]
        facts = listed if keys == listed else _keep_first_listed(conn, target)
    except duckdb.Error as exc:
        raise _named(exc, source, target) from exc
    if cik is not None and others is not None:
        raise MalformedCompanyFacts(f"{source}: companyfacts of CIK {others}, expected {cik}")
    if facts + rejected == 0:
        _check_shape(conn, source, bound)
    return Partition(facts, rejected, name, keys != listed)


def _write_parquet(conn: duckdb.DuckDBPyConnection, table_macro: str, params: list, target: Path) -> None:
    """The rows of a table macro call into the Parquet file target, by COPY through execute: a relation's
    write_parquet binds the whole statement once more before running it (for the flattening, 5 % of a
    company's time)."""
    conn.execute(f"copy (select * from {table_macro}) to ? (format parquet)", [*params, str(target)])


def _named(exc: duckdb.Error, source: str, target: Path) -> Exception:
    """DuckDB's error as the fault it is: the machine's (memory, the partition's file, a document that
    cannot be opened) or the document's."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        return MemoryError(f"{source}: out of memory while flattening it ({exc})")
    if isinstance(exc, duckdb.IOException) and str(target) in str(exc):
        return OSError(f"{target}: could not write {source}'s partition ({exc})")
    if isinstance(exc, duckdb.IOException) and source in str(exc):
        return OSError(f"{source}: could not be opened ({exc})")
    return MalformedCompanyFacts(f"{source}: not valid JSON, or not shaped like companyfacts ({exc})")


LARGEST_DOCUMENT = 2_000_000_000  # bytes; SEC's largest companyfacts documents are some tens of MB


def _keep_first_listed(conn: duckdb.DuckDBPyConnection, partition: Path) -> int:
    """A key listed twice (a fact repeated, two values for one filing's concept and period, or, rarely,
    two keys whose hashes collide): the window drops the repeats only and the partition is written again
    with one row per fact; returns its usable rows."""
    as_listed = _as_listed(partition)
    try:
        partition.replace(as_listed)
        _write_parquet(conn, "companyfacts_first_listed(?)", [str(as_listed)], partition)
    finally:
        as_listed.unlink(missing_ok=True)
    return conn.execute("select count(*) filter (reason is null) from read_parquet(?, hive_partitioning = false)",
                        [str(partition)]).fetchall()[0][0]


def _as_listed(partition: Path) -> Path:
    """Where a partition waits, as first written, while _keep_first_listed writes it again."""
    return partition.with_name(partition.name + ".as-listed")


def _check_shape(conn: duckdb.DuckDBPyConnection, source: str, document_bytes: int) -> None:
    """A document without facts is either a company with none or not companyfacts at all."""
    shaped = conn.execute(
        "select count(*) from read_json(?, format = 'unstructured', maximum_object_size = ?, "
        "columns = {cik: 'JSON', facts: 'JSON'}) where cik is not null and json_type(facts) = 'OBJECT'",
        [source, document_bytes]).fetchall()[0][0]
    if not shaped:
        raise MalformedCompanyFacts(f"{source}: JSON without 'cik' and a 'facts' object: not a companyfacts response")
