"""The HTML report: the capex-intensity table linked to the filings, and interactive charts.

Plotly draws the charts; its JavaScript is written once beside the page (plotly.min.js), so
the report opens from disk with no network.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import jinja2
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from pipelines.lib import atomic, screen, warehouse
from pipelines.lib.settings import PACKAGE_DIR

COLORS = qualitative.Plotly
BANDS = [(0.03, 0.06, "software 3-6 %", "rgba(242,193,78,0.35)"), (0.10, 0.15, "early cloud 10-15 %", "rgba(127,179,213,0.35)")]


BUILDERS_PAGE = "who-is-building.html"
RISER_MIN_REVENUE = 1e9  # fastest risers among filers with at least $1B of revenue: small bases grow by any amount


def write_report(conn: duckdb.DuckDBPyConnection, out_dir: Path, mode: str) -> Path:
    """The pages are rendered before anything is written, and each file is replaced only once complete,
    so a failure or a kill leaves the previous report readable."""
    page, builders = render_page(conn, mode), render_builders(conn, mode)
    path = out_dir / "index.html"
    # the script and the linked page before the main page, so a new page never finds itself without them
    for target, text in ((out_dir / "plotly.min.js", _plotly_js()), (out_dir / BUILDERS_PAGE, builders), (path, page)):
        with atomic.replacing(target) as temporary:
            temporary.write_text(text)
    return path


def render_page(conn: duckdb.DuckDBPyConnection, mode: str) -> str:
    table = conn.execute(warehouse.sql_text("reports/report_intensity_table")).df()
    ttm = conn.execute(warehouse.sql_text("reports/chart_ttm_by_calendar_quarter")).df()
    capex_ocf = conn.execute(warehouse.sql_text("reports/chart_capex_vs_ocf")).df()
    wave = conn.execute(warehouse.sql_text("reports/chart_depreciation_wave")).df()
    latest_filed = conn.execute("select max(filed) from staging.periodic_facts").fetchone()[0]
    charts = [
        ("Capex intensity (capex / revenue, trailing 12 months) by calendar quarter", intensity_figure(ttm)),
        ("Free cash flow (operating cash flow - capex), trailing 12 months", line_figure(ttm, "fcf", "$")),
        ("Capex against operating cash flow, latest twelve months per company", capex_ocf_figure(capex_ocf)),
        *((f"Capex today, depreciation tomorrow: {ticker} (quarters; D&A projected by scenario)",
           depreciation_figure(frame)) for ticker, frame in wave.groupby("ticker", sort=True)),
    ]
    return _environment().get_template("report.html.j2").render(
        built_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        mode=mode,
        latest_filed=latest_filed,
        no_data=[t for t, y, q in zip(table.ticker, table.year_capex, table.ttm_capex) if pd.isna(y) and pd.isna(q)],
        table=[row._asdict() | _nulls(row._asdict()) for row in table.itertuples(index=False)],
        charts=[{"title": title, "html": jinja2.utils.markupsafe.Markup(
            figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))}
            for title, figure in charts],
        builders_page=BUILDERS_PAGE,
        **FORMATS,
    )


def render_builders(conn: duckdb.DuckDBPyConnection, mode: str, top: int = 25) -> str:
    """Who is building, across every filer in the warehouse: the largest capex of the latest trailing
    twelve months, and the fastest-rising capex among filers of some size; the hyperscalers marked."""
    def screened(by: str, min_revenue: float | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        params = {"by": by, "period": "ttm", "sics": None, "min_revenue": min_revenue}
        return screen.split(conn.execute(warehouse.sql_text("reports/screen"), params).df(), top)

    def records(frame: pd.DataFrame) -> list[dict]:
        return [row | _nulls(row) for row in frame.to_dict("records")]

    (spenders, left_out), (risers, _) = screened("capex", None), screened("capex_growth", RISER_MIN_REVENUE)
    filers = conn.execute("select count(*) from marts.universe_latest").fetchall()[0][0]
    return _environment().get_template("who_is_building.html.j2").render(
        built_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M"), mode=mode, filers=filers,
        spenders=records(spenders), risers=records(risers),
        riser_min_revenue=RISER_MIN_REVENUE, left_out=left_out.to_dict("records"), **FORMATS)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"), autoescape=True)


FORMATS = {
    "money": lambda v: f"${v / 1e9:,.1f}B",
    "day": lambda v: pd.Timestamp(v).date().isoformat(),
    "pct": lambda v: f"{v:.1%}",
}


def _nulls(row: dict) -> dict:
    return {key: None for key, value in row.items() if not isinstance(value, str) and pd.isna(value)}


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def line_figure(frame: pd.DataFrame, column: str, prefix: str = "") -> go.Figure:
    """One line per company; a quarter without a value breaks the line rather than bridging it."""
    wide = frame.pivot(index="calendar_quarter", columns="ticker", values=column).dropna(axis=1, how="all")
    figure = go.Figure()
    for ticker in wide.columns:
        figure.add_trace(go.Scatter(x=wide.index, y=wide[ticker], mode="lines+markers", name=ticker))
    figure.update_layout(margin=dict(t=10, b=40), legend=dict(orientation="h"), yaxis=dict(tickprefix=prefix))
    return figure


def intensity_figure(frame: pd.DataFrame) -> go.Figure:
    figure = line_figure(frame, "capex_intensity")
    for low, high, label, color in BANDS:
        figure.add_hrect(y0=low, y1=high, fillcolor=color, line_width=0, annotation_text=label,
                         annotation_position="top left")
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    return figure


def capex_ocf_figure(frame: pd.DataFrame) -> go.Figure:
    labels = frame.ticker + " (" + frame.period + ")"
    figure = go.Figure([
        go.Bar(x=labels, y=frame.capex, name="capex", marker_color="#d62728"),
        go.Bar(x=labels, y=frame.ocf, name="operating cash flow", marker_color="#2ca02c"),
    ])
    figure.update_layout(barmode="group", margin=dict(t=10, b=40), legend=dict(orientation="h"), yaxis=dict(tickprefix="$"))
    return figure


def depreciation_figure(frame: pd.DataFrame) -> go.Figure:
    """Reported capex as bars, reported D&A as a line, each scenario's projected D&A dashed after it."""
    wide = frame.pivot(index=["quarter_index", "quarter"], columns="series", values="value").reset_index("quarter_index")
    figure = go.Figure([go.Bar(x=wide.index, y=wide["capex (reported)"], name="capex (reported)", marker_color="#bbbbbb")])
    for number, series in enumerate(column for column in wide.columns if column.startswith("D&A")):
        dashed = series.startswith("D&A projected")
        figure.add_trace(go.Scatter(x=wide.index, y=wide[series], mode="lines", name=series.removeprefix("D&A projected: "),
                                    line=dict(color=COLORS[number % len(COLORS)], dash="dash" if dashed else "solid")))
    figure.update_layout(margin=dict(t=10, b=40), legend=dict(orientation="h"), yaxis=dict(tickprefix="$"))
    return figure
