"""capexwatch command line: refresh the warehouse and print what it holds."""

from __future__ import annotations

import os
import sys

import click
import dagster as dg
import pandas as pd

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import warehouse
from pipelines.lib.settings import ConfigError
from pipelines.refresh import run_refresh


@click.group()
def main() -> None:
    """Is the hyperscalers' capex turning into cash? SEC filings -> DuckDB."""


@main.command()
@click.option("--ticker", "tickers", multiple=True, help="Ticker or CIK (repeatable); default: the configured universe.")
@click.option("--mode", type=click.Choice(["offline", "live"]), default=None,
              help="offline reads the bundled SEC snapshot; live needs SEC_USER_AGENT. Default: live if SEC_USER_AGENT is set.")
def refresh(tickers: tuple[str, ...], mode: str | None) -> None:
    """Fetch SEC data for each company, rebuild the warehouse, run the checks, print a summary."""
    sec = SecResource(mode=mode, tickers=list(tickers) or None)
    warehouse_db = WarehouseResource()
    try:
        settings = sec.settings()
        click.echo(f"capexwatch refresh ({settings.mode}) -> {warehouse_db.path()}")
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
        report = run_refresh(sec, warehouse_db, instance, progress=click.echo)
    except (ConfigError, LookupError, warehouse.WarehouseLocked) as exc:
        raise click.ClickException(str(exc)) from exc
    for failed in report.failed_checks:
        click.echo(f"check not passed: {failed}")
    _print_summary(warehouse_db)
    sys.exit(0 if report.ok else 1)


@main.command()
def summary() -> None:
    """Print the followed companies, their latest quarter and capex intensity."""
    _print_summary(WarehouseResource())


def _print_summary(warehouse_db: WarehouseResource) -> None:
    try:
        with warehouse_db.connect(read_only=True) as conn:
            table = conn.execute(warehouse.sql_text("reports/company_summary")).df()
    except warehouse.WarehouseLocked as exc:
        raise click.ClickException(str(exc)) from exc
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
            source = f"  [annual only: {row.documents} filing documents, companyfacts {row.status}]"
        else:
            period, source = f"FY{row.fiscal_year} Q{row.fiscal_quarter}", ""
            intensity = f"{_pct(row.capex_intensity)} quarter, {_pct(row.capex_intensity_ttm)} TTM"
        lines.append(
            f"{name} {period} (to {row.period_end:%Y-%m-%d}, {row.calendar_quarter})  "
            f"capex ${row.capex / 1e9:,.1f}B  revenue ${row.revenue / 1e9:,.1f}B  capex/revenue {intensity}{source}"
        )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.1%}"
