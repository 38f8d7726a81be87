"""capexwatch command line: refresh the warehouse, query it, export it, see what it holds."""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Callable

import click
import dagster as dg
import duckdb
import pandas as pd

from pipelines.defs.checks import CHECKS, check_params
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import atomic, publish, query, warehouse, workbook
from pipelines.lib.settings import ConfigError
from pipelines.refresh import run_refresh

DEFAULT_EXPORTS = ["marts.quarterly", "marts.annual", "marts.ttm", "marts.calendar_totals", "marts.segments",
                   "marts.cloud_vs_capex"]
SCHEMAS = ("marts", "main", "core", "staging")


def one_line_errors(command: Callable) -> Callable:
    """Every failure a user can cause is one line naming what was wrong, and exit status 1; the
    traceback only with `capexwatch --debug`. A reader that stops early (`| head`) is not an error."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(0)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into a line
            if _flag("debug"):
                raise
            raise click.ClickException(_one_line(exc)) from exc

    return wrapper


def _one_line(exc: Exception) -> str:
    if isinstance(exc, (ConfigError, LookupError, warehouse.WarehouseLocked, warehouse.RefreshRunning,
                        publish.WarehouseHeld, query.QueryError)):
        return query.first_line(exc)
    if isinstance(exc, duckdb.Error):
        return f"warehouse error: {query.with_hints(exc)}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return f"{type(exc).__name__}: {query.first_line(exc)} (run `capexwatch --debug ...` for the traceback)"


def _flag(name: str) -> bool:
    context = click.get_current_context(silent=True)
    return bool(context and (context.find_root().obj or {}).get(name))


@click.group()
@click.version_option(importlib.metadata.version("capexwatch"), prog_name="capexwatch")
@click.option("--debug", is_flag=True, help="Show the traceback of a failure instead of one line.")
@click.option("-v", "--verbose", is_flag=True, help="Show Dagster's own log lines during a refresh.")
@click.pass_context
def main(context: click.Context, debug: bool, verbose: bool) -> None:
    """Is the hyperscalers' capex turning into cash? SEC filings -> DuckDB -> your SQL and spreadsheets."""
    context.obj = {"debug": debug, "verbose": verbose}


@main.command()
@click.option("--ticker", "tickers", multiple=True, help="Ticker or CIK (repeatable); default: the configured universe.")
@click.option("--mode", type=click.Choice(["offline", "live"]), default=None,
              help="offline reads the bundled SEC snapshot; live needs SEC_USER_AGENT. Default: live if SEC_USER_AGENT is set.")
@click.option("--wait", "wait_seconds", type=float, default=0, show_default=True,
              help="Seconds to wait for another refresh of the same warehouse to finish.")
@one_line_errors
def refresh(tickers: tuple[str, ...], mode: str | None, wait_seconds: float) -> None:
    """Fetch SEC data for each company, rebuild the warehouse, run the checks, print a summary.

    The rebuild happens in a private copy that replaces the warehouse only when it succeeded and no
    ERROR-severity check failed, so queries running meanwhile see the previous state, and an
    interrupted or refused refresh loses nothing."""
    sec = SecResource(mode=mode, tickers=list(tickers) or None)
    warehouse_db = WarehouseResource()
    click.echo(f"capexwatch refresh ({sec.settings().mode}) -> {warehouse_db.path()}")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    report = run_refresh(sec, warehouse_db, instance, progress=click.echo, wait_seconds=wait_seconds,
                         log_level="DEBUG" if _flag("verbose") else "CRITICAL")
    if report.build:
        click.echo(describe_build(report.build, warning_rows=False))
    if not report.build_ok:
        click.echo(f"warehouse not published: {report.build_error}", err=True)
    if warehouse_db.path().is_file():
        _print_summary(warehouse_db.path())
    sys.exit(0 if report.ok else 1)


@main.command()
@one_line_errors
def summary() -> None:
    """Print the followed companies, their latest period and capex intensity."""
    _print_summary(WarehouseResource().path())


@main.command()
@click.argument("statement", required=False)
@click.option("--file", "sql_file", type=click.File("r"), help="Read the statement from a file (- for stdin).")
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@one_line_errors
def sql(statement: str | None, sql_file, fmt: str) -> None:
    """Run one read-only STATEMENT (SELECT, WITH, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN) on the warehouse;
    `-` or --file q.sql reads it from stdin or a file.

    It can read the warehouse and nothing else: other files, settings and extensions are out of
    reach, and writing files is what `capexwatch export` is for."""
    if statement == "-":
        statement = sys.stdin.read()
    elif sql_file is not None:
        if statement:
            raise click.ClickException("give the statement or --file, not both")
        statement = sql_file.read()
    if not (statement or "").strip():
        raise click.ClickException("no SQL given: pass a statement, --file q.sql, or - to read it from stdin")
    click.echo(query.render(query.run(WarehouseResource().path(), statement), fmt))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "parquet"]), default="xlsx", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="xlsx: the file; csv/parquet: a directory (one file per table). Default: warehouse/exports/.")
@click.option("--table", "tables", multiple=True,
              help="Table or view, e.g. marts.quarterly or capex_intensity (repeatable). Default: the marts.")
@one_line_errors
def export(fmt: str, out: Path | None, tables: tuple[str, ...]) -> None:
    """Write tables to a spreadsheet workbook (with charts), CSV files or Parquet files."""
    path = WarehouseResource().path()
    conn = query.read_only(path)
    try:
        names = [resolve_table(conn, table) for table in tables] or DEFAULT_EXPORTS
        target = out or path.parent / "exports" / ("capexwatch.xlsx" if fmt == "xlsx" else fmt)
        try:
            if fmt == "xlsx":
                written = [workbook.write_workbook(conn, names, target)]
            else:
                target.mkdir(parents=True, exist_ok=True)
                written = [write_flat(conn, name, target / f"{name}.{fmt}", fmt) for name in names]
        except Exception as exc:  # noqa: BLE001 - xlsxwriter wraps the OSError in its own class
            cause = next((e for e in (exc, *exc.args, exc.__cause__, exc.__context__) if isinstance(e, OSError)), None)
            if cause is None or _flag("debug"):
                raise
            raise click.ClickException(f"cannot write {target}: {cause.strerror or cause}; "
                                       "choose a writable --out") from exc
    finally:
        conn.close()
    for file in written:
        click.echo(f"wrote {file}")


def resolve_table(conn: duckdb.DuckDBPyConnection, name: str) -> str:
    """'quarterly' -> marts.quarterly; an unknown name lists what there is."""
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables where table_schema in ?", [list(SCHEMAS)]
    ).fetchall()
    known = {f"{schema}.{table}" for schema, table in rows}
    candidates = [name] if "." in name else [f"{schema}.{name}" for schema in SCHEMAS]
    for candidate in candidates:
        if candidate in known:
            return candidate
    raise query.QueryError(f"unknown table {name!r}; choose from: {', '.join(sorted(known))}")


def write_flat(conn: duckdb.DuckDBPyConnection, table: str, target: Path, fmt: str) -> Path:
    """target replaced only once complete: DuckDB writes a new file in place, and a killed write of an
    existing one leaves a tmp_<name> file that looks like an export."""
    relation = conn.table(table)
    with atomic.replacing(target) as temporary:
        if fmt == "csv":  # as `capexwatch sql --format csv` prints it: plain numbers, ISO dates, reasons joined
            relation.project(", ".join(query.plain_columns(relation))).write_csv(str(temporary))
        else:
            relation.write_parquet(str(temporary))
    return target


@main.command()
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@one_line_errors
def companies(fmt: str) -> None:
    """The followed companies: fiscal year end, latest filing and period, what data there is."""
    click.echo(query.render(query.run(WarehouseResource().path(), warehouse.sql_text("reports/companies")), fmt))


@main.command()
@click.option("--check", "check_name", default=None,
              help="Show every offending row of one check (its name, e.g. unplaced_metric_facts).")
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True,
              help="For --check: how to print its rows.")
@one_line_errors
def status(check_name: str | None, fmt: str) -> None:
    """The last build's outcome (a refused one with the rows that stopped it), the freshness of each
    company's data and the result of every data-quality check on the published state, now."""
    path = WarehouseResource().path()
    if check_name:
        click.echo(query.render(check_rows(path, check_name), fmt))
        return
    record = publish.read_record(path)
    click.echo(describe_build(record) if record else "no build recorded yet")
    click.echo("")
    stale = query.run(path, warehouse.sql_text("checks/stale_companies"), {"as_of": dt.date.today().isoformat()})
    click.echo(f"freshness (latest quarter ended within 150 days of {dt.date.today()}):")
    click.echo(query.render(stale, "table") if len(stale) else "all companies are fresh")
    results = []
    for check in CHECKS:
        failures = query.run(path, warehouse.sql_text(f"checks/{check.query}"), check_params(check) or None)
        verdict = "passed" if failures.empty else f"FAILED: {len(failures)} rows"
        results.append((f"{check.asset}:{check.name}", check.severity.value, verdict))
    click.echo("\nchecks:")
    click.echo(query.render(pd.DataFrame(results, columns=["check", "severity", "result"]), "table"))


def check_rows(path: Path, name: str) -> pd.DataFrame:
    """Every row a check returns on the published warehouse, now."""
    matches = [c for c in CHECKS if name in (c.name, f"{c.asset}:{c.name}")]
    if not matches:
        names = sorted({check.name for check in CHECKS})
        raise click.ClickException(f"unknown check {name!r}; choose from: {', '.join(names)}")
    if len(matches) > 1:
        raise click.ClickException(f"{name!r} is checked on several tables; name one: "
                               + ", ".join(f"{c.asset}:{c.name}" for c in matches))
    check = matches[0]
    return query.run(path, warehouse.sql_text(f"checks/{check.query}"), check_params(check) or None)


def describe_build(record: publish.BuildRecord, warning_rows: bool = True) -> str:
    """What the last build did, and each check that did not pass with its first rows (a warning's
    rows only if asked: `status` shows them, `refresh` points there)."""
    status = {"published": "published", "refused": "NOT PUBLISHED (a blocking check failed)",
              "failed": "NOT PUBLISHED (failed)", "building": "did not finish (still running, or killed)"}
    lines = [f"last build {record.build_id}, started {record.started_at}: {status.get(record.status, record.status)}"]
    if record.error:
        lines.append(f"  {record.error}")
    for outcome in sorted((o for o in record.checks if o.failures), key=lambda o: not o.blocking):
        if not (outcome.blocking or warning_rows):
            lines.append(f"check {outcome.check} ({outcome.severity}) failed on {outcome.failures} rows, "
                         "published with a warning (rows: capexwatch status)")
            continue
        lines.append(f"check {outcome.check} ({outcome.severity}) failed on {outcome.failures} rows"
                     + ("; the build was not published:" if outcome.blocking else ", published with a warning:"))
        lines.append(query.render(pd.DataFrame(outcome.rows), "table"))
    return "\n".join(lines)


def _print_summary(path: Path) -> None:
    table = query.run(path, warehouse.sql_text("reports/company_summary"))
    click.echo("")
    click.echo(format_summary(table))


def format_summary(table: pd.DataFrame) -> str:
    """Amounts in USD billions and intensity in percent, for reading, not for computing."""
    lines = []
    for row in table.itertuples():
        name = f"{row.ticker or '-':6} {row.company[:24]:24}"
        if pd.isna(row.period_end):
            lines.append(f"{name} no offline data (no companyfacts, no filing documents)")
            continue
        if pd.isna(row.fiscal_quarter):
            period, intensity = f"FY{row.fiscal_year}", f"{_pct(row.capex_intensity)} year"
            unread = "" if pd.isna(row.newest_unread) else f"; newest filing ({row.newest_unread}) not read"
            source = f"  [annual only: {_count(row.documents, 'filing document')}, companyfacts {row.status}{unread}]"
        else:
            period, source = f"FY{row.fiscal_year} Q{row.fiscal_quarter}", ""
            intensity = f"{_pct(row.capex_intensity)} quarter, {_pct(row.capex_intensity_ttm)} TTM"
        lines.append(
            f"{name} {period} (to {row.period_end:%Y-%m-%d}, {row.calendar_quarter})  "
            f"capex ${row.capex / 1e9:,.1f}B  revenue ${row.revenue / 1e9:,.1f}B  capex/revenue {intensity}{source}"
        )
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _pct(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.1%}"
