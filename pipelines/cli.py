"""capexwatch command line: refresh the warehouse, query it, export it, see what it holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.metadata
import json
import math
import os
import shutil
import sys
from contextlib import closing
from pathlib import Path
from typing import Callable

import click
import dagster as dg
import duckdb
import pandas as pd

from pipelines import refresh as refresh_lib
from pipelines.defs.checks import CHECKS, check_params
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import atomic, catalog, publish, query, universe, warehouse, workbook
from pipelines.lib import outlook as outlook_lib
from pipelines.lib import screen as screen_lib
from pipelines.lib.raw_store import InvalidResponse, RawFileCorrupt
from pipelines.lib.sec_client import SecError
from pipelines.lib.settings import PROJECT_DIR, ConfigError

DEFAULT_EXPORTS = ["marts.quarterly", "marts.annual", "marts.ttm", "marts.calendar_totals", "marts.segments",
                   "marts.cloud_vs_capex", "marts.depreciation_outlook"]
SCHEMAS = ("marts", "main", "core", "staging")
LOCAL_INSTANCE_CONFIG = PROJECT_DIR / "deploy" / "local" / "dagster.yaml"
FOLLOWED = "main.followed_companies"  # the main report, summary, companies and the workbook's charts read it


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
                        publish.WarehouseHeld, query.QueryError, SecError, InvalidResponse, RawFileCorrupt)):
        return query.first_line(exc)
    if isinstance(exc, duckdb.Error):
        return f"warehouse error: {query.with_hints(exc)}"
    if isinstance(exc, PermissionError) and exc.filename:
        return (f"{exc.strerror}: {exc.filename}; capexwatch writes beside the warehouse: choose a folder you can "
                "write with CAPEXWATCH_WAREHOUSE_DIR")
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return f"{type(exc).__name__}: {query.first_line(exc)} (run `capexwatch --debug ...` for the traceback)"


def _dagster_home() -> Path:
    """DAGSTER_HOME, else the one `capexwatch ui` keeps beside the warehouse."""
    return Path(os.environ.get("DAGSTER_HOME") or WarehouseResource().path().parent / ".dagster_home").resolve()


def _instance() -> dg.DagsterInstance:
    """The instance the UI shows (DAGSTER_HOME, or the one `capexwatch ui` made), so that the CLI's runs
    and removals show there too; a throwaway one when there is none."""
    home = _dagster_home()
    if not (os.environ.get("DAGSTER_HOME") or (home / "dagster.yaml").is_file()):
        return dg.DagsterInstance.ephemeral()
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


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
@click.option("--rebuild", is_flag=True,
              help="Build the warehouse anew from the stored partitions (an unreadable one is rebuilt anyway).")
@one_line_errors
def refresh(tickers: tuple[str, ...], mode: str | None, wait_seconds: float, rebuild: bool) -> None:
    """Fetch SEC data for each company, rebuild the warehouse, run the checks, print a summary.

    The rebuild happens in a private copy that replaces the warehouse only when it succeeded and no
    ERROR-severity check failed, so queries running meanwhile see the previous state, and an
    interrupted or refused refresh loses nothing."""
    sec = SecResource(mode=mode, tickers=list(tickers) or None)
    warehouse_db = WarehouseResource(rebuild=rebuild)
    click.echo(f"capexwatch refresh ({sec.settings().mode}) -> {warehouse_db.path()}")
    report = refresh_lib.run_refresh(sec, warehouse_db, _instance(), progress=click.echo, wait_seconds=wait_seconds,
                         log_level="DEBUG" if _flag("verbose") else "CRITICAL")
    if report.build:
        click.echo(describe_build(report.build, warning_rows=False))
    if not report.build_ok:
        click.echo(f"warehouse not published: {report.build_error}", err=True)
    if warehouse_db.path().is_file():
        click.echo("\n" + summary_text(warehouse_db.path()))
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", *query.FORMATS]), default="text", show_default=True,
              help="text: one line per company; the others: the same figures as a table.")
@click.option("--units", type=click.Choice(list(query.UNITS)), default=None,
              help="Amounts in USD billions or millions (text: B; table and markdown: whole USD unless given).")
@one_line_errors
def summary(fmt: str, units: str | None) -> None:
    """Print the followed companies, their latest period and capex intensity."""
    click.echo(summary_text(require_built(WarehouseResource().path(), FOLLOWED), fmt, units))


@main.command()
@click.argument("statement", required=False)
@click.option("--file", "sql_file", type=click.File("r"), help="Read the statement from a file (- for stdin).")
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@click.option("--units", type=click.Choice(list(query.UNITS)), default=None,
              help="Amounts in USD billions or millions (table and markdown); default whole USD.")
@one_line_errors
def sql(statement: str | None, sql_file, fmt: str, units: str | None) -> None:
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
    click.echo(query.render(query.run(WarehouseResource().path(), statement), fmt, units))


@main.command()
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@one_line_errors
def tables(fmt: str) -> None:
    """Every table and view of the warehouse: its grain, row count and what it holds."""
    with closing(query.read_only(WarehouseResource().path())) as conn:
        click.echo(query.render(catalog.tables(conn), fmt, wrap={"description": 60, "grain": 40}))


@main.command()
@click.argument("table")
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@one_line_errors
def describe(table: str, fmt: str) -> None:
    """The columns of TABLE (e.g. quarterly or marts.quarterly) with their types and meaning."""
    with closing(query.read_only(WarehouseResource().path())) as conn:
        name = resolve_table(conn, table)
        listing = catalog.tables(conn).set_index("table").loc[name]
        columns = catalog.columns(conn, name)
    if fmt in ("table", "markdown"):
        click.echo(f"{name} ({listing['type']}, {query.counted(int(listing['rows']), 'row')}): {listing['description']}")
        click.echo(f"grain: {listing['grain'] or 'not stated'}\n")
    click.echo(query.render(columns, fmt, wrap={"meaning": 90}))


@main.command()
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@one_line_errors
def metrics(fmt: str) -> None:
    """Every metric: its unit, formula or definition, and the XBRL concepts it is read from."""
    click.echo(query.render(catalog.metrics(), fmt, wrap={"definition": 50}))


@main.command()
@click.argument("question", required=False)
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@click.option("--units", type=click.Choice(list(query.UNITS)), default=None,
              help="Amounts in USD billions or millions (table and markdown).")
@click.option("--show", is_flag=True, help="Print the question's SQL instead of running it.")
@one_line_errors
def ask(question: str | None, fmt: str, units: str | None, show: bool) -> None:
    """Answer one of the README's questions by name (no name: list them). Each is a .sql file under
    sql/questions/ to copy and change (`capexwatch sql --file ...`)."""
    known = catalog.questions()
    if question is None:
        click.echo(query.render(known.drop(columns=["sql"]), fmt))
        return
    if question not in set(known["name"]):
        raise click.ClickException(f"unknown question {question!r}; choose from: {', '.join(known['name'])}")
    entry = known.set_index("name").loc[question]
    if show:
        click.echo(entry["sql"])
        return
    answer = query.render(query.run(WarehouseResource().path(), entry["sql"]), fmt, units)
    if fmt in ("table", "markdown"):
        click.echo(f"{entry['question']}  (sql/questions/{question}.sql)\n")
    click.echo(answer)


SCREEN_MEASURES = ("capex_intensity", "capex_growth", "capex")


def sic_codes(text: str | None) -> list[str] | None:
    """'7370-7379', '7372' or '3674,7370-7379' -> the four-digit codes they cover."""
    if text is None:
        return None
    codes: list[str] = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        high = high if dash else low
        if not (low.isdigit() and len(low) == 4 and high.isdigit() and len(high) == 4 and high >= low):
            raise click.ClickException(f"--sic {part.strip()!r}: give four-digit SIC codes or ranges, e.g. 7372, "
                                       "7370-7379 or 3674,7370-7379")
        codes += [f"{code:04d}" for code in range(int(low), int(high) + 1)]
    return codes


@main.command()
@click.option("--by", type=click.Choice(SCREEN_MEASURES), default="capex_intensity", show_default=True,
              help="Rank by capex / revenue, capex growth against a year earlier, or capex in dollars.")
@click.option("--period", type=click.Choice(["ttm", "year"]), default="ttm", show_default=True,
              help="The latest trailing twelve months, or the latest fiscal year.")
@click.option("--top", type=click.IntRange(min=1, max=1_000_000), default=20, show_default=True)
@click.option("--sic", help="Industries by SIC code: 7372, 7370-7379 or 3674,7370-7379.")
@click.option("--min-revenue", type=float, help="Only filers with at least this revenue in the period (USD, e.g. 1e9).")
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@click.option("--units", type=click.Choice(list(query.UNITS)), default=None,
              help="Amounts in USD billions or millions (table and markdown).")
@one_line_errors
def screen(by: str, period: str, top: int, sic: str | None, min_revenue: float | None, fmt: str,
           units: str | None) -> None:
    """Rank every filer in the warehouse (marts.universe_latest): who spends most on capex, relative to
    revenue or in dollars, and whose capex rises fastest. Filers that cannot be ranked are counted
    with the reason (IFRS or another currency, no industry code, no figures)."""
    if min_revenue is not None and not math.isfinite(min_revenue):
        raise click.ClickException(f"--min-revenue {min_revenue}: give a number of dollars, e.g. 1e9")
    params = {"by": by, "period": period, "sics": sic_codes(sic), "min_revenue": min_revenue}
    path = require_built(WarehouseResource().path(), "marts.universe_latest")
    ranked, left_out = screen_lib.split(query.run(path, warehouse.sql_text("reports/screen"), params), top)
    click.echo(query.render(ranked, fmt, units))
    if fmt in ("table", "markdown"):
        named = "; ".join(f"{row.filers} {row.left_out}" for row in left_out.itertuples())
        click.echo(f"\n{query.counted(len(ranked), 'filer')} shown by {by} ({period})"
                   + (f"; not ranked: {named}" if named else ""))


OUTLOOK_COLUMNS = ["scenario", "quarter", "projected_da", "locked_in_da", "projected_ttm_da", "da_to_ttm_revenue",
                   "da_increase_to_operating_income"]


@main.command()
@click.argument("company")
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@click.option("--units", type=click.Choice(list(query.UNITS)), default=None,
              help="Amounts in USD billions or millions (table and markdown).")
@one_line_errors
def outlook(company: str, fmt: str, units: str | None) -> None:
    """The depreciation outlook of one followed company (ticker or CIK): the next 12 quarters of D&A
    under each scenario, the part already locked in by past capex, and what it does to TTM revenue and
    operating income (marts.depreciation_outlook); or why the company is not projected."""
    path = require_built(WarehouseResource().path(), "marts.depreciation_outlook")
    rows = query.run(path, warehouse.sql_text("reports/outlook"), {"company": company})
    if rows.empty:
        raise click.ClickException(f"{company}: not a followed company of this warehouse (`capexwatch companies` "
                                   "lists them)")
    first = rows.iloc[0]
    if pd.notna(first.reason):  # programs get the reason in their format
        click.echo(query.render(rows[["ticker", "cik", "reason"]], fmt, units) if fmt in ("csv", "json")
                   else f"{first.ticker or first.cik}: not projected: {first.reason}")
        return
    if fmt in ("csv", "json"):
        click.echo(query.render(rows.drop(columns="reason"), fmt, units))
        return
    click.echo(f"{first.ticker or first.cik}: {first.lives_source}; fitted: "
               f"{query.counted(int(first.lag_quarters), 'quarter')} from capex to service, {first.short_share:.0%} "
               f"short-lived, {first.fit_mape:.1%} from the reported D&A of the last 12 quarters")
    for variant, label in outlook_lib.VARIANTS.items():
        if pd.notna(first[f"fit_mape_{variant}"]):  # the other inputs' projections are in --format csv/json
            click.echo(f"fitted on {label}: {first[f'fit_mape_{variant}']:.1%} from the same D&A "
                       f"(projected_da_{variant} in --format csv or json)")
    click.echo("")
    click.echo(query.render(rows[OUTLOOK_COLUMNS], fmt, units))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "parquet"]), default=None,
              help="Default: from --out's extension, else xlsx.")
@click.option("--out", type=click.Path(), default=None,
              help="A file (its extension gives the format; csv/parquet: one table) or a directory, which a "
                   "trailing / always names (xlsx: "
                   "DIR/capexwatch.xlsx; csv/parquet: one file per table). Default: warehouse/exports/.")
@click.option("--table", "tables", multiple=True,
              help="Table or view, e.g. marts.quarterly or capex_intensity (repeatable). Default: the marts.")
@one_line_errors
def export(fmt: str | None, out: str | None, tables: tuple[str, ...]) -> None:
    """Write tables to a spreadsheet workbook (with charts), CSV files or Parquet files."""
    path = require_built(WarehouseResource().path(), FOLLOWED)  # the workbook's charts
    conn = query.read_only(path)
    try:
        names = list(dict.fromkeys(resolve_table(conn, table) for table in tables)) or DEFAULT_EXPORTS
        fmt, targets = export_targets(fmt, out, names, path.parent / "exports")
        try:
            if fmt == "xlsx":
                written = [workbook.write_workbook(conn, names, targets[0])]
            else:
                targets[0].parent.mkdir(parents=True, exist_ok=True)
                written = [write_flat(conn, name, target, fmt) for name, target in zip(names, targets)]
        except Exception as exc:  # noqa: BLE001 - xlsxwriter wraps the OSError in its own class, DuckDB has its own
            cause = next((e for e in (exc, *exc.args, exc.__cause__, exc.__context__)
                          if isinstance(e, (OSError, duckdb.IOException))), None)
            if cause is None or _flag("debug"):
                raise
            reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else query.first_line(cause)
            reason = reason.rsplit('": ', 1)[-1]  # DuckDB names its temporary file; the target is what matters
            raise click.ClickException(f"cannot write {targets[0]}: {reason}; choose a writable --out") from exc
    finally:
        conn.close()
    for file in written:
        click.echo(f"wrote {file}")


def export_targets(fmt: str | None, out_text: str | None, names: list[str],
                   default_dir: Path) -> tuple[str, list[Path]]:
    """The format and the file(s) to write. --out names a file when it has an extension (which must
    agree with --format), else (or with a trailing /) a directory; a single file cannot hold
    several CSV or Parquet tables."""
    out = Path(out_text) if out_text else None
    directory_named = bool(out_text) and out_text.endswith(("/", os.sep))
    suffix = out.suffix.lower().lstrip(".") if out is not None and not out.is_dir() and not directory_named else ""
    if suffix and suffix not in ("xlsx", "csv", "parquet"):
        raise click.ClickException(f"--out {out}: '.{suffix}' is not a format capexwatch writes; "
                                   "name an .xlsx, .csv or .parquet file, or a directory")
    if suffix and fmt and suffix != fmt:
        raise click.ClickException(f"--out {out} names a .{suffix} file but --format is {fmt}; make them agree")
    fmt = fmt or suffix or "xlsx"
    if out is not None and out.exists() and not out.is_dir() and not suffix:
        raise click.ClickException(f"--out {out} is an existing file without an extension; name a directory "
                                   f"or a .{fmt} file")
    if suffix:
        if fmt != "xlsx" and len(names) > 1:
            raise click.ClickException(f"--out {out} is one .{fmt} file but {len(names)} tables are exported; "
                                       "name a directory, or export one --table")
        return fmt, [out]
    directory = out if out is not None else default_dir
    if fmt == "xlsx":
        return fmt, [directory / "capexwatch.xlsx"]
    return fmt, [(directory if out is not None else directory / fmt) / f"{name}.{fmt}" for name in names]


@main.command()
@click.option("--port", type=int, default=3000, show_default=True)
@one_line_errors
def ui(port: int) -> None:
    """Open the Dagster UI (webserver and daemon) on this project: the instance in DAGSTER_HOME (default
    warehouse/.dagster_home, with the project's deploy/local/dagster.yaml), the company partitions
    registered before it starts."""
    home = _dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(LOCAL_INSTANCE_CONFIG, home / "dagster.yaml")
    keys = refresh_lib.register_universe(SecResource(), _instance())
    click.echo(f"DAGSTER_HOME={home}; company partitions: {', '.join(keys)}")
    click.echo(f"Dagster UI at http://127.0.0.1:{port} (Ctrl-C stops it)", err=True)
    # `dagster dev` is the one command that runs webserver, daemon and code server together; its
    # notice that `dg dev` supersedes it concerns projects laid out for dg, which this one is not.
    # It replaces this process, so that Ctrl-C and kill reach it directly.
    environment = {**os.environ, "PYTHONWARNINGS": "ignore:Function `dev_command` is superseded:FutureWarning"}
    dagster = str(Path(sys.executable).parent / "dagster")
    os.chdir(PROJECT_DIR)  # pyproject.toml there names the code location
    os.execve(dagster, [dagster, "dev", "-p", str(port)], environment)


def resolve_table(conn: duckdb.DuckDBPyConnection, name: str) -> str:
    """'quarterly' -> marts.quarterly; an unknown name lists what there is."""
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables where table_schema in ?", [list(SCHEMAS)]
    ).fetchall()
    known = {f"{schema}.{table}" for schema, table in rows}
    name = name.strip().lower()
    candidates = [name] if "." in name else [f"{schema}.{name}" for schema in SCHEMAS]
    for candidate in candidates:
        if candidate in known:
            return candidate
    raise query.QueryError(f"unknown table {name!r}; choose from: {', '.join(sorted(known))}")


def write_flat(conn: duckdb.DuckDBPyConnection, table: str, target: Path, fmt: str) -> Path:
    """target replaced only once complete: DuckDB writes a new file in place, and a killed write of an
    existing one leaves a tmp_<name> file that looks like an export."""
    relation = query.in_reading_order(warehouse.synchronous_writes(conn), table)
    with atomic.replacing(target) as temporary:
        if fmt == "csv":  # as `capexwatch sql --format csv` prints it: plain numbers, ISO dates, reasons joined
            relation.project(", ".join(query.plain_columns(relation))).write_csv(str(temporary))
        else:
            relation.write_parquet(str(temporary))
    return target


@main.group(invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(query.FORMATS), default="table", show_default=True)
@click.pass_context
@one_line_errors
def companies(context: click.Context, fmt: str) -> None:
    """The followed companies: fiscal year end, latest filing and period, what data there is.
    `capexwatch companies remove TICKER|CIK` takes one out."""
    if context.invoked_subcommand is None:
        path = require_built(WarehouseResource().path(), FOLLOWED)
        click.echo(query.render(query.run(path, warehouse.sql_text("reports/companies")), fmt))


@companies.command("remove")
@click.argument("company")
@one_line_errors
def remove_company(company: str) -> None:
    """Remove a stored company (ticker or CIK): its partitions, then a build without it. Its raw SEC
    copies stay under warehouse/raw/. A company of the configured universe comes back with the next
    refresh unless CAPEXWATCH_UNIVERSE leaves it out."""
    sec, warehouse_db = SecResource(), WarehouseResource()
    record, report = refresh_lib.remove_company(sec, warehouse_db, _instance(), company,
                                                log_level="DEBUG" if _flag("verbose") else "CRITICAL")
    name = f"{record['ticker'] or record['cik']} ({record['company']}, CIK {record['cik']})"
    click.echo(f"removed {name}: its partitions are deleted; raw SEC copies kept under {sec.settings().raw_dir}")
    if report.build:
        click.echo(describe_build(report.build, warning_rows=False))
    if not report.build_ok:
        raise click.ClickException(f"warehouse not rebuilt: {report.build_error}; the next refresh drops {name}")
    configured = sec.settings().universe
    if universe.mentions(configured or universe.default_universe(), record["ticker"], record["cik"]):
        fix = ("take it out of CAPEXWATCH_UNIVERSE" if configured else
               "set CAPEXWATCH_UNIVERSE (comma-separated tickers or CIKs) to the companies to follow")
        click.echo(f"note: {name} is in the configured universe, so the next `capexwatch refresh` adds it back; {fix}")


@main.command()
@click.option("--check", "check_name", default=None,
              help="Show every offending row of one check (its name, e.g. unplaced_metric_facts).")
@click.option("--format", "fmt", type=click.Choice(["text", *query.FORMATS]), default="text", show_default=True,
              help="text/table: for reading; json: build, freshness and checks in one object; markdown: the same "
                   "in sections; csv: one row per check (with --check: its rows).")
@one_line_errors
def status(check_name: str | None, fmt: str) -> None:
    """The last build's outcome (a refused one with the rows that stopped it), the freshness of each
    company's data and the result of every data-quality check on the published state, now."""
    path = WarehouseResource().path()
    if check_name:
        rows = check_rows(path, check_name)
        if rows.empty and fmt == "text":
            click.echo(f"{check_name}: no offending rows, the check passes")
            return
        click.echo(query.render(rows, "table" if fmt == "text" else fmt))
        return
    record = publish.read_record(path)
    stale = query.run(path, warehouse.sql_text("checks/stale_companies"), {"as_of": dt.date.today().isoformat()})
    checks = pd.DataFrame(
        [(check.label, check.severity.value, len(rows), "passed" if rows.empty else "FAILED")
         for check, rows in ((check, query.run(path, warehouse.sql_text(f"checks/{check.query}"),
                                                check_params(check) or None)) for check in CHECKS)],
        columns=["check", "severity", "failures", "result"])
    freshness = f"freshness (latest quarter ended within 150 days of {dt.date.today()})"
    if fmt == "json":
        click.echo(json.dumps({"last_build": dataclasses.asdict(record) if record else None,
                               "freshness": json.loads(query.render(stale, "json")),
                               "checks": json.loads(query.render(checks, "json"))}, indent=1, default=str))
    elif fmt == "csv":
        click.echo(query.render(checks, "csv"))
    else:
        style = "markdown" if fmt == "markdown" else "table"
        heading = "## " if style == "markdown" else ""
        click.echo(f"{heading}{describe_build(record, style=style) if record else 'no build recorded yet'}\n")
        click.echo(f"{heading}{freshness}:")
        click.echo((query.render(stale, style) if len(stale) else "all companies are fresh") + "\n")
        click.echo(f"{heading}checks:")
        click.echo(query.render(checks, style))


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


def describe_build(record: publish.BuildRecord, warning_rows: bool = True, style: str = "table") -> str:
    """What the last build did, and each check that did not pass with its first rows (a warning's
    rows only if asked: `status` shows them, `refresh` points there)."""
    status = {"published": "published", "refused": "NOT PUBLISHED (a blocking check failed)",
              "failed": "NOT PUBLISHED (failed)", "building": "did not finish (still running, or killed)"}
    lines = [f"last build {record.build_id}, started {record.started_at}: {status.get(record.status, record.status)}"]
    if record.rebuilt:
        lines.append(f"  rebuilt from the stored partitions: {record.rebuilt}")
    if record.error:
        lines.append(f"  {record.error}")
    for outcome in sorted((o for o in record.checks if o.failures), key=lambda o: not o.blocking):
        if not (outcome.blocking or warning_rows):
            lines.append(f"check {outcome.check} ({outcome.severity}) failed on {query.counted(outcome.failures, 'row')}, "
                         "published with a warning (rows: capexwatch status)")
            continue
        lines.append(f"check {outcome.check} ({outcome.severity}) failed on {query.counted(outcome.failures, 'row')}"
                     + ("; the build was not published:" if outcome.blocking else ", published with a warning:"))
        lines.append(query.render(pd.DataFrame(outcome.rows), style))
    return "\n".join(lines)


def require_built(path: Path, *relations: str) -> Path:
    """A warehouse built by an older capexwatch lacks what a newer command reads: one line saying so."""
    for relation in relations:
        schema, _, name = relation.rpartition(".")
        found = query.run(path, "select count(*) as n from information_schema.tables where table_schema = $schema "
                                "and table_name = $name", {"schema": schema or "main", "name": name})
        if not found.n[0]:
            raise click.ClickException(f"{path} has no {relation} (built by an older capexwatch): "
                                       "run `capexwatch refresh`")
    return path


def summary_text(path: Path, fmt: str = "text", units: str | None = None) -> str:
    """The summary as `summary` and the end of `refresh` print it."""
    table = query.run(path, warehouse.sql_text("reports/company_summary"))
    return format_summary(table, units or "B") if fmt == "text" else query.render(table, fmt, units)


def format_summary(table: pd.DataFrame, units: str = "B") -> str:
    """Amounts in USD billions (or millions) and intensity in percent, for reading, not for computing."""
    lines = []
    for row in table.itertuples():
        ticker = row.ticker if isinstance(row.ticker, str) and row.ticker else "-"  # a bulk filer has none
        name = f"{ticker:6} {row.company[:24]:24}"
        if pd.isna(row.period_end):
            lines.append(f"{name} no offline data (no companyfacts, no filing documents)")
            continue
        if pd.isna(row.fiscal_quarter):
            period, intensity = f"FY{row.fiscal_year}", f"{_pct(row.capex_intensity)} year"
            unread = "" if pd.isna(row.newest_unread) else f"; newest filing ({row.newest_unread}) not read"
            source = f"  [annual only: {query.counted(row.filing_documents, 'filing document')}, companyfacts {row.companyfacts}{unread}]"
        else:
            period, source = f"FY{row.fiscal_year} Q{row.fiscal_quarter}", ""
            intensity = f"{_pct(row.capex_intensity)} quarter, {_pct(row.capex_intensity_ttm)} TTM"
        lines.append(
            f"{name} {period} (to {row.period_end:%Y-%m-%d}, {row.calendar_quarter})  "
            f"capex {_usd(row.capex, units)}  revenue {_usd(row.revenue, units)}  capex/revenue {intensity}{source}"
        )
    return "\n".join(lines)


def _usd(value: float | None, units: str) -> str:
    return "n/a" if value is None or pd.isna(value) else f"${value / query.UNITS[units]:,.1f}{units}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.1%}"
