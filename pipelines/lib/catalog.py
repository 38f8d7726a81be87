"""What each table and column of the warehouse means, written into the warehouse itself.

Table descriptions are the header comments of the .sql files that build them (the loaded tables,
which no transform builds, are described here); column meanings come from the reference files
(metric_definitions.csv for metric columns, column_definitions.csv for the rest). The build stores
them as DuckDB comments, so `capexwatch tables` / `describe` and any DuckDB client read the same text
(`select comment from duckdb_columns()`)."""

from __future__ import annotations

import itertools
import re

import duckdb
import pandas as pd

from pipelines.lib import concepts, query, universe, warehouse
from pipelines.lib.settings import METRIC_DEFINITIONS_FILE, REPORTED_MEASURES_FILE, SQL_DIR

QUESTIONS_DIR = SQL_DIR / "questions"

SCHEMAS = ("marts", "main", "core", "staging")

# tables loaded from the per-company partitions rather than built by a transform: description, grain
LOADED_TABLES = {
    "core.facts": ("Every fact of every taxonomy in each company's companyfacts, as SEC reported it; value in the "
                   "fact's unit", "one row per fact per filing (cik x taxonomy x tag x unit x period x accn)"),
    "core.rejected_facts": ("Facts of a companyfacts response that could not be used, with the reason",
                            "one row per rejected fact"),
    "core.companies": ("The universe and what the last refresh found for each company (coverage, provenance)", "cik"),
    "core.filings": ("Each company's 10-K/10-Q filings: accession, form, report and filing dates, document URL, "
                     "whether the document was read", "cik x accn"),
    "core.filing_facts": ("Every numeric XBRL fact of the filing documents: concept with its prefix (company "
                          "extensions included), value, unit, period, dimensions, decimals", "fact x accn"),
    "core.filing_warnings": ("What could not be read in the filing documents", "one message per problem"),
    "core.reported_measures": ("Rows of companies' own untagged tables listed in reference/reported_measures.csv "
                               "(Amazon's free-cash-flow reconciliations), per year, in USD", "metric x year x accn"),
    "core.filer_profiles": ("Who each filer is, from SEC's submissions feed: name, industry (SIC code), tickers, "
                            "exchanges, fiscal year end; a followed company's own feed, else SEC's nightly "
                            "submissions archive", "cik"),
    "main.build_info": ("Which build produced the published warehouse, and when", "one row"),
    "main.check_failures": ("What the checks that judge company by company found in the published build: "
                            "each company's failures and the first of them", "asset_check x cik"),
}
_PREFIX = re.compile(r"^(?:\w+\.)?\w+(?: \(view\))?:\s*")
_GRAIN = re.compile(r"grain:\s*(.+?)(?:;|\.\s|$)")


def header_comment(name: str) -> str:
    """The comment lines a .sql file opens with, as one line: what the table is, its grain."""
    lines = itertools.takewhile(lambda line: line.startswith("--"), warehouse.sql_text(name).splitlines())
    return " ".join(line[2:].strip() for line in lines)


def built_tables(sql_names: list[str]) -> dict[str, tuple[str, str]]:
    """schema.table -> (description, grain) for the tables and views the .sql files build."""
    described = dict(LOADED_TABLES)
    for name in sql_names:
        header = _PREFIX.sub("", header_comment(name))
        grain = _GRAIN.search(header)
        text = " ".join(_GRAIN.sub("", header).split()).strip(" .;")
        described[warehouse.relation_name(name)] = (text if "." in text.split(" ")[0] else text[:1].upper() + text[1:],
                                                    grain.group(1).strip(" .") if grain else "")
    return described


def column_meanings(table: str = "") -> dict[str, str]:
    """Column -> meaning: a metric's definition with its unit, a column's from column_definitions.csv,
    where a row for this very table (segment revenue, sums across companies) beats the general one."""
    metrics, columns = query.definitions()
    meanings = {row.metric: f"{row.definition} ({_unit(row.unit)})" for row in metrics.itertuples()}
    for scope in ("", table):  # general rows first, this table's own after them
        for row in columns[columns["table"] == scope].itertuples():
            meanings[row.column] = f"{row.definition} ({_unit(row.unit)})" if row.unit else row.definition
    return meanings


def _unit(unit: str) -> str:
    return {"USD": "USD", "fraction": "a fraction: 0.25 is 25 %", "multiple": "a multiple: 4.3 is 4.3x"}.get(unit, unit)


def annotate(conn: duckdb.DuckDBPyConnection, sql_names: list[str]) -> None:
    """Write every table's description and grain, and every known column's meaning, as DuckDB comments;
    only those that differ from what the warehouse holds: a re-run replaces few tables, and writing every
    comment again took half a second of each build of the whole market."""
    tables = built_tables(sql_names)
    relations = conn.execute(
        "select schema_name, table_name, 'table', comment from duckdb_tables() where schema_name in ? "
        "union all select schema_name, view_name, 'view', comment from duckdb_views() "
        "where not internal and schema_name in ?", [list(SCHEMAS), list(SCHEMAS)]).fetchall()
    columns: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for schema, table, column, comment in conn.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() where schema_name in ?",
            [list(SCHEMAS)]).fetchall():
        columns.setdefault((schema, table), []).append((column, comment))
    for schema, table, kind, comment in relations:
        description, grain = tables.get(f"{schema}.{table}", ("", ""))
        text = f"{description}. grain: {grain}" if grain else description
        if description and text != comment:
            conn.execute(f"comment on {kind} {schema}.{table} is {_literal(text)}")
        meanings = column_meanings(f"{schema}.{table}")
        for column, current in columns.get((schema, table), []):
            if column in meanings and meanings[column] != current:
                conn.execute(f'comment on column {schema}.{table}."{column}" is {_literal(meanings[column])}')


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def tables(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every table and view of the warehouse with its grain, row count and description."""
    rows = conn.execute(
        "select schema_name || '.' || table_name, 'table', comment from duckdb_tables() where schema_name in ? "
        "union all select schema_name || '.' || view_name, 'view', comment from duckdb_views() "
        "where not internal and schema_name in ?", [list(SCHEMAS), list(SCHEMAS)]).fetchall()
    order = {schema: position for position, schema in enumerate(SCHEMAS)}
    records = []
    for name, kind, comment in sorted(rows, key=lambda row: (order[row[0].split(".")[0]], row[0])):
        comment = comment or (". grain: ".join(LOADED_TABLES[name]) if name in LOADED_TABLES else "")
        description, _, grain = comment.rpartition(". grain: ")
        count = conn.execute(f"select count(*) from {name}").fetchone()[0]
        records.append((name, kind, grain if description else "", count, description or comment))
    return pd.DataFrame(records, columns=["table", "type", "grain", "rows", "description"])


def columns(conn: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """A table's columns, types and meanings (the stored comment; for a table made after the comments
    were written, main.build_info, the reference files' text)."""
    schema, _, name = table.partition(".")
    frame = conn.execute("select column_name as column, data_type as type, comment as meaning from duckdb_columns() "
                         "where schema_name = ? and table_name = ? order by column_index", [schema, name]).df()
    frame["meaning"] = frame["meaning"].fillna(frame["column"].map(column_meanings(table))).fillna("")
    return frame


def metrics() -> pd.DataFrame:
    """metric_definitions.csv with each metric's candidate concepts from concepts.yaml, in order,
    and the company-specific ones named by ticker."""
    definitions = pd.read_csv(METRIC_DEFINITIONS_FILE)
    candidates = concepts.load_concept_map()
    tickers = {company.cik: company.ticker for company in universe.bundled_map()}

    def concepts_of(metric: str) -> str:
        rows = candidates[candidates["metric"] == metric].sort_values("priority", kind="stable")
        default = [f"{r.taxonomy}:{r.tag}" for r in rows.itertuples() if pd.isna(r.cik)]
        overrides = [f"{tickers.get(r.cik, r.cik)}: {r.taxonomy}:{r.tag}" for r in rows.itertuples() if not pd.isna(r.cik)]
        return "; ".join(default + overrides)

    reported = set(pd.read_csv(REPORTED_MEASURES_FILE)["metric"])
    definitions["unit"] = definitions["unit"].map(_unit)
    definitions["concepts"] = [concepts_of(metric) or ("read from the company's own table (reference/reported_measures.csv)"
                                                       if metric in reported else "computed from the metrics named")
                               for metric in definitions["metric"]]
    return definitions


def questions() -> pd.DataFrame:
    """The README's questions: name (the file's stem), the question (its first line), the SQL."""
    rows = []
    for path in sorted(QUESTIONS_DIR.glob("*.sql")):
        text = path.read_text()
        first, _, body = text.partition("\n")
        rows.append((path.stem, first.removeprefix("-- question:").strip(), body.strip()))
    return pd.DataFrame(rows, columns=["name", "question", "sql"])
