"""Ad-hoc SQL on the warehouse, read-only, and the formats results are printed in.

User SQL meets two locks: the statement is checked to be one read-only query before it runs, and
the connection it runs on can read the warehouse and nothing else (no files, no extensions, no
settings), so what slips past one lock meets the other."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from tabulate import tabulate

from pipelines.lib import company_batches, warehouse
from pipelines.lib.settings import COLUMN_DEFINITIONS_FILE, METRIC_DEFINITIONS_FILE

FORMATS = ("table", "csv", "json", "markdown")
UNITS = {"B": 1e9, "M": 1e6}  # --units: amounts in USD billions or millions, for reading
KIND_OF_UNIT = {"USD": "amount", "fraction": "ratio", "multiple": "multiple"}

Kind = duckdb.StatementType
READ_ONLY_KINDS = {Kind.SELECT, Kind.EXPLAIN}  # SELECT covers WITH, FROM-first, SHOW, DESCRIBE, SUMMARIZE
ONE_QUERY = "capexwatch sql runs one read-only query"
INSTEAD = "SELECT, WITH, SHOW, DESCRIBE, SUMMARIZE or EXPLAIN"
EXPORT_INSTEAD = "use capexwatch export to write files"
REFUSED = {  # what the statement would do, and what to use instead
    Kind.COPY: ("COPY writes files", EXPORT_INSTEAD),
    Kind.EXPORT: ("EXPORT DATABASE writes files", EXPORT_INSTEAD),
    Kind.COPY_DATABASE: ("COPY FROM DATABASE writes a database", EXPORT_INSTEAD),
    Kind.SET: ("SET changes the session's settings", INSTEAD),
    Kind.PRAGMA: ("PRAGMA can change settings", "read one with SELECT * FROM pragma_<name>()"),
    Kind.CALL: ("CALL runs a procedure", "read a table function with SELECT * FROM <function>()"),
    Kind.ATTACH: ("ATTACH opens another database", INSTEAD),
    Kind.DETACH: ("DETACH closes a database", INSTEAD),
    Kind.LOAD: ("INSTALL or LOAD adds an extension", INSTEAD),
    Kind.MULTI: ("PIVOT without an IN list runs several statements", "list the values: PIVOT ... ON col IN (...)"),
}
REFUSED_WORDS = {  # statements DuckDB files under another kind (CHECKPOINT is a CALL, ANALYZE a VACUUM)
    "CHECKPOINT": ("CHECKPOINT writes the warehouse file", INSTEAD),
    "FORCE": ("FORCE CHECKPOINT writes the warehouse file", INSTEAD),
    "ANALYZE": ("ANALYZE updates the warehouse's statistics", INSTEAD),
    "VACUUM": ("VACUUM rewrites the warehouse's storage", INSTEAD),
    "USE": ("USE changes the session's default schema", "name the schema in the query, e.g. marts.annual"),
}


class QueryError(ValueError):
    """The warehouse is missing, or DuckDB refused the statement; one line says which."""


class StatementRefused(QueryError):
    """The statement is not one read-only query, so it never reaches the warehouse."""


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A plain read-only connection, for project code that chooses its own SQL (the export command)."""
    _require(path)
    return warehouse.connect(path, read_only=True)


def warehouse_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection that can read the warehouse and nothing else: no files, no extensions, settings locked.

    The database is in memory and the warehouse attached read-only under its usual name: DuckDB keeps
    one instance per file per process and refuses to open it again with other settings, and a plain
    read-only connection (the export command, a test) may hold it already. File access is switched
    off only after the ATTACH, which needs it. With external access off DuckDB still lets any
    statement reach the warehouse's .wal files and its temp directory, so the local file system
    goes too (the warehouse stays readable through the handle already open); then the
    configuration is locked."""
    _require(path)
    conn = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        _attach_read_only(conn, path)
        conn.execute("set enable_external_access = false")
        conn.execute("set disabled_filesystems = 'LocalFileSystem'")
        conn.execute("set lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


def _attach_read_only(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Attach as `capexwatch`, the name a direct connection to capexwatch.duckdb gives, and make it current."""
    try:
        conn.execute("attach ? as capexwatch (read_only)", [str(path)])
    except duckdb.IOException as exc:
        if warehouse.is_lock_error(exc):  # the same advice warehouse.connect gives
            raise warehouse.WarehouseLocked(f"warehouse {path} is locked by another process (a running refresh, "
                                            f"or an open DuckDB client); close it and retry. DuckDB said: {exc}") from exc
        raise
    conn.execute("use capexwatch")


def run(path: Path, sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """The result of one read-only statement, on a connection that can read the warehouse and nothing else."""
    check_one_read_only_query(sql)
    conn = warehouse_only(path)
    try:
        return conn.execute(sql, params).df()
    except duckdb.PermissionException as exc:
        raise StatementRefused(f"refused: {first_line(exc)}; capexwatch sql reads the warehouse and nothing else") from exc
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {with_hints(exc)}") from exc
    finally:
        conn.close()


def in_reading_order(conn: duckdb.DuckDBPyConnection, table: str) -> duckdb.DuckDBPyRelation:
    """The whole table, for exports. One built company by company is stored in the order its rows were
    built (batches, then the companies a re-run replaced): it is read sorted as its SQL sorts each batch.
    Other tables are stored in their SQL's own order."""
    relation = conn.table(table)
    order = company_batches.sort_order(table)
    return relation.order(order) if order else relation


def check_one_read_only_query(sql: str) -> None:
    """Refuse, before anything runs, all but exactly one query that only reads."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {with_hints(exc)}") from exc
    if len(statements) != 1:
        count = f"{len(statements)} statements" if statements else "no statement"
        raise StatementRefused(f"refused: {count}; {ONE_QUERY} per call (send them one at a time)")
    statement = statements[0]
    kind = _explained_kind(statement.query) if statement.type == Kind.EXPLAIN else statement.type
    if kind not in READ_ONLY_KINDS:
        what = f"{kind.name} is not a read-only query" if kind else "EXPLAIN of something other than a query"
        first_word = (statement.query.split() or [""])[0].upper()
        what, instead = REFUSED_WORDS.get(first_word) or REFUSED.get(kind, (what, INSTEAD))
        raise StatementRefused(f"refused: {what}; {ONE_QUERY} ({instead})")


def _explained_kind(text: str) -> Kind | None:
    """The kind of statement an EXPLAIN explains (EXPLAIN ANALYZE runs it): the longest text after
    EXPLAIN that parses as one statement, which passes over ANALYZE and (options)."""
    starts = [start for start, token in duckdb.tokenize(text) if token != duckdb.token_type.comment][1:]
    for start in starts:
        try:
            statements = duckdb.extract_statements(text[start:])
        except duckdb.Error:
            continue
        if len(statements) == 1:
            return statements[0].type
    return None


def _require(path: Path) -> None:
    if not path.is_file():
        raise QueryError(f"no warehouse at {path}: run `capexwatch refresh` first")


def counted(n: int, noun: str) -> str:
    """'1 row', '2 rows': English for the counts the CLI prints."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def first_line(exc: Exception) -> str:
    return " ".join(str(exc).strip().splitlines()[:1]) or type(exc).__name__


def with_hints(exc: Exception) -> str:
    """DuckDB's first line and its hints ('Did you mean "marts.annual"?', the candidate columns), on one
    line; the echo of the statement with a caret is left out."""
    hints = [line.strip() for line in str(exc).splitlines()[1:]
             if line.strip().startswith(("Did you mean", "Candidate"))]
    if any(sign in str(exc) for sign in DAMAGE_SIGNS):
        hints.append("The warehouse file is damaged: `capexwatch refresh --rebuild` builds it anew from the stored "
                     "partitions, keeping the damaged file aside.")
    return " ".join([first_line(exc), *hints])


# what DuckDB says of a file it cannot read (empty, not DuckDB's, truncated, a failed block checksum)
DAMAGE_SIGNS = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database file",
                "checksum", "replaying WAL")


@functools.lru_cache(maxsize=1)
def definitions() -> tuple[pd.DataFrame, pd.DataFrame]:
    """metric_definitions.csv and column_definitions.csv, read once per process (not to be modified)."""
    return (pd.read_csv(METRIC_DEFINITIONS_FILE),
            pd.read_csv(COLUMN_DEFINITIONS_FILE, dtype=str, keep_default_na=False))


@functools.lru_cache(maxsize=1)
def column_units() -> dict[str, str]:
    """Column name -> USD, fraction or multiple, as the definitions files state them (metrics, and the
    other columns of the marts and views)."""
    metrics, columns = definitions()
    general = columns[(columns["table"] == "") & (columns["unit"] != "")]
    return dict(zip(general["column"], general["unit"])) | dict(zip(metrics["metric"], metrics["unit"]))


def column_kind(name: str, series: pd.Series) -> str:
    """How a column reads: date, plain, multiple (4.3x), ratio (32.5 %) or amount (USD). Only a column
    whose unit the definitions state is read as money or a ratio: by its name, or by the one column
    an expression wraps (sum(capex) is capex); anything else (counts, years, `value` of mixed
    metrics, an analyst's own expression) is a plain number."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return "plain"
    inner = re.fullmatch(r"\w+\(\s*(?:distinct\s+)?(\w+)\s*\)", name, flags=re.IGNORECASE)
    unit = column_units().get(name) or (column_units().get(inner.group(1)) if inner else None)
    return KIND_OF_UNIT.get(unit, "plain")


def _is_code(name: str) -> bool:
    """Numbers that name something, printed without thousands separators: 2025, not 2,025."""
    return name in ("cik", "fy", "fp") or "year" in name or "quarter" in name


def render(frame: pd.DataFrame, fmt: str, units: str | None = None, wrap: dict[str, int] | None = None) -> str:
    """csv and json for programs (plain values, whole USD); table and markdown for people: numbers
    right-aligned, ratios as 32.5%, multiples as 4.3x, amounts in whole USD or --units B|M."""
    if units and fmt in ("csv", "json"):
        raise QueryError(f"--units is for reading (table, markdown); {fmt} keeps whole USD for the programs that read it")
    if fmt == "json":
        return plain(frame).to_json(orient="records", indent=1)
    if fmt == "csv":
        return plain(frame).to_csv(index=False).rstrip("\n")
    kinds = {column: column_kind(str(column), frame[column]) for column in frame.columns}
    kinds = {column: "code" if kind == "plain" and _is_code(str(column)) else kind for column, kind in kinds.items()}
    readable = pd.DataFrame({column: [_readable(_join_lists(value), kinds[column], units) for value in frame[column]]
                             for column in frame.columns}, columns=frame.columns)
    headers = [f"{column} (${units})" if units and kinds[column] == "amount" else str(column) for column in frame.columns]
    align = ["right" if kinds[column] != "date" and pd.api.types.is_numeric_dtype(frame[column])
             and not pd.api.types.is_bool_dtype(frame[column]) else "left" for column in frame.columns]
    style = "github" if fmt == "markdown" else "simple"
    widths = [(wrap or {}).get(str(column)) for column in frame.columns] if fmt == "table" else None
    return tabulate(readable, headers=headers, tablefmt=style, showindex=False, disable_numparse=True,
                    colalign=align or None, maxcolwidths=widths if widths and any(widths) else None)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """For files other programs read (CSV, JSON): whole amounts as integers (24578000000, not
    24578000000.0), dates as YYYY-MM-DD, lists as 'a; b'."""
    out = frame.map(_join_lists)
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d").astype(object).where(series.notna(), None)
        elif pd.api.types.is_float_dtype(series) and series.dropna().apply(float.is_integer).all():
            out[column] = series.astype("Int64")
    return out


def plain_columns(relation: duckdb.DuckDBPyRelation) -> list[str]:
    """plain() as column expressions, for DuckDB's CSV writer to stream what plain() would print (a
    table too large for a DataFrame): a whole amount without '.0', a list as 'a; b'. A test keeps the
    two byte-identical."""
    columns = []
    for name, kind in zip(relation.columns, relation.types):
        quoted = warehouse.quoted(name)
        if str(kind) == "DOUBLE":
            columns.append(f"if({quoted} = trunc({quoted}) and abs({quoted}) < 1e18, "
                           f"cast(cast({quoted} as hugeint) as varchar), cast({quoted} as varchar)) as {quoted}")
        elif str(kind).endswith("[]"):
            columns.append(f"nullif(array_to_string({quoted}, '; '), '') as {quoted}")
        else:
            columns.append(quoted)
    return columns


def _join_lists(value: object) -> object:
    """DuckDB lists arrive as arrays; in a table cell or CSV field they read as 'a; b'."""
    return "; ".join(map(str, value)) if isinstance(value, (list, tuple, np.ndarray)) else value


def _readable(value: object, kind: str = "plain", units: str | None = None) -> str:
    """Nulls empty; amounts with thousands separators (in $B or $M with units), ratios as percentages,
    multiples as 4.3x, other numbers as they are."""
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return str(value)  # inf, -inf: never a percentage or a multiple
    if kind == "ratio":
        return f"{value:.1%}"
    if kind == "multiple":
        return f"{value:.1f}x"
    if kind == "amount" and units:
        return f"{value / UNITS[units]:,.1f}"
    if isinstance(value, (int, float, np.number)):
        if kind == "code":
            return str(int(value)) if float(value).is_integer() else str(value)
        return f"{value:,.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:.4g}"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return str(value)
