"""The spreadsheet export: one sheet per table, provenance and definitions, native Excel charts.

XlsxWriter writes the file (charts included) the way Excel itself does, so it opens without
repair prompts in Excel and LibreOffice. Amounts are stored in USD and shown in $ millions.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipelines.lib import atomic, query, warehouse
from pipelines.lib.settings import METRIC_DEFINITIONS_FILE

AMOUNT_FORMAT = '$#,##0.0,,"M";-$#,##0.0,,"M"'
RATIO_FORMAT = "0.0%"
MULTIPLE_FORMAT = '0.00"x"'  # 4.33x, not 432.7 %
DATE_FORMAT = "yyyy-mm-dd"
BANDS = [("", 0.03), ("software 3-6 %", 0.03), ("", 0.04), ("early cloud 10-15 %", 0.05)]
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def write_workbook(conn: duckdb.DuckDBPyConnection, tables: list[str], out: Path) -> Path:
    """out replaced only once complete: XlsxWriter truncates the file it is given and fills it at close()."""
    with atomic.replacing(out) as temporary:
        fill_workbook(conn, tables, temporary)
    return out


def fill_workbook(conn: duckdb.DuckDBPyConnection, tables: list[str], path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": False, "remove_timezone": True})
    formats = {
        "amount": book.add_format({"num_format": AMOUNT_FORMAT}),
        "ratio": book.add_format({"num_format": RATIO_FORMAT}),
        "multiple": book.add_format({"num_format": MULTIPLE_FORMAT}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "plain": None,
        "header": book.add_format({"bold": True, "bg_color": "#dde4ee", "bottom": 1}),
        "link": book.get_default_url_format(),
    }
    add_charts(book, conn)
    for table in tables:
        write_sheet(book, formats, table.split(".")[-1][:31], query.in_reading_order(conn, table).df())
    write_sheet(book, formats, "Sources", conn.execute(warehouse.sql_text("reports/sources")).df(), link="filing_url")
    definitions = pd.read_csv(METRIC_DEFINITIONS_FILE)
    write_sheet(book, formats, "Definitions", definitions)
    book.close()


def write_sheet(book: Workbook, formats: dict, name: str, frame: pd.DataFrame, link: str | None = None) -> Worksheet:
    """Header frozen and filtered, widths from the content, a number format per column kind."""
    sheet = book.add_worksheet(name)
    kinds = [query.column_kind(column, frame[column]) for column in frame.columns]
    sheet.write_row(0, 0, list(frame.columns), formats["header"])
    for col, (column, kind) in enumerate(zip(frame.columns, kinds)):
        for row, value in enumerate(frame[column].tolist(), start=1):
            write_cell(sheet, row, col, value, formats[kind], formats["link"] if column == link else None)
        width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200).tolist()])
        sheet.set_column(col, col, min(max(width, 8) + 2, 60 if kind == "plain" else 18))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
    return sheet


def write_cell(sheet: Worksheet, row: int, col: int, value: object, fmt, link_format) -> None:
    if isinstance(value, (list, tuple, np.ndarray)):
        sheet.write_string(row, col, "; ".join(map(str, value)))
    elif value is None or pd.isna(value):  # None, NaN, NaT and pandas' <NA> alike: an empty cell
        sheet.write_blank(row, col, None)
    elif isinstance(value, (bool, np.bool_)):
        sheet.write_boolean(row, col, bool(value))
    elif isinstance(value, pd.Timestamp):
        sheet.write_datetime(row, col, value.to_pydatetime(), fmt)
    elif isinstance(value, (int, float, np.number)):
        sheet.write_number(row, col, float(value), fmt)
    elif link_format is not None and str(value).startswith("https://"):
        sheet.write_url(row, col, str(value), link_format)
    else:
        sheet.write_string(row, col, str(value))


def add_charts(book: Workbook, conn: duckdb.DuckDBPyConnection) -> None:
    """A Charts sheet first, reading from a chart_data sheet written alongside it."""
    charts = book.add_worksheet("Charts")
    charts.set_landscape()
    charts.fit_to_pages(1, 0)  # printed (or converted to PDF) one page wide, the charts uncut
    data = book.add_worksheet("chart_data")
    ttm = conn.execute(warehouse.sql_text("reports/chart_ttm_by_calendar_quarter")).df()
    intensity = ttm.pivot(index="calendar_quarter", columns="ticker", values="capex_intensity")
    fcf = ttm.pivot(index="calendar_quarter", columns="ticker", values="fcf")
    for name, value in BANDS:
        intensity[f"band: {name}" if name else f"band gap {value}"] = value
    capex_ocf = conn.execute(warehouse.sql_text("reports/chart_capex_vs_ocf")).df()
    blocks = {"intensity": (0, intensity.reset_index()), "fcf": (len(intensity) + 3, fcf.reset_index()),
              "capex_ocf": (len(intensity) + len(fcf) + 6, capex_ocf)}
    wave = conn.execute(warehouse.sql_text("reports/chart_depreciation_wave")).df()
    for ticker, frame in wave.groupby("ticker", sort=True):
        start = sum(len(block) + 3 for _, block in blocks.values())
        wide = frame.pivot(index=["quarter_index", "quarter"], columns="series", values="value")
        blocks[f"wave {ticker}"] = (start, wide.reset_index("quarter_index", drop=True).reset_index())
    for start, frame in blocks.values():
        data.write_row(start, 0, list(frame.columns))
        for offset, row in enumerate(frame.itertuples(index=False), start=1):
            for col, value in enumerate(row):
                write_cell(data, start + offset, col, value, None, None)
    placed = (("A1", "intensity", lambda: intensity_chart(book, blocks["intensity"], len(intensity.columns) - len(BANDS))),
              ("A23", "fcf", lambda: ttm_fcf_chart(book, blocks["fcf"])),
              ("A45", "capex_ocf", lambda: capex_vs_ocf_chart(book, blocks["capex_ocf"])),
              *((f"A{67 + 22 * number}", block, lambda block=block: depreciation_chart(book, block, blocks[block]))
                for number, block in enumerate(name for name in blocks if name.startswith("wave "))))
    for anchor, block, chart in placed:
        if blocks[block][1].empty:  # the charts cover the followed companies; the bulk archive's filers have none
            charts.write(anchor, "No followed company has figures for this chart.")
        else:
            charts.insert_chart(anchor, chart())


def _series_ref(start: int, rows: int, col: int) -> list:
    return ["chart_data", start + 1, col, start + rows, col]


def intensity_chart(book: Workbook, block: tuple[int, pd.DataFrame], companies: int):
    """Lines per company over stacked, mostly transparent areas that draw the benchmark bands."""
    start, frame = block
    rows, categories = len(frame), _series_ref(start, len(frame), 0)
    bands = book.add_chart({"type": "area", "subtype": "stacked"})
    for offset, (name, _) in enumerate(BANDS):
        col = 1 + companies + offset
        fill = {"color": "#f2c14e" if "software" in name else "#7fb3d5", "transparency": 55} if name else {"none": True}
        bands.add_series({"name": name or " ", "categories": categories, "values": _series_ref(start, rows, col),
                          "fill": fill, "border": {"none": True}})
    lines = book.add_chart({"type": "line"})
    for col in range(1, companies + 1):
        lines.add_series({"name": ["chart_data", start, col], "categories": categories,
                          "values": _series_ref(start, rows, col), "line": {"color": PALETTE[(col - 1) % 8], "width": 2}})
    bands.combine(lines)
    bands.set_title({"name": "Capex intensity (capex / revenue, trailing 12 months) by calendar quarter"})
    bands.set_y_axis({"num_format": "0%", "min": 0})
    bands.set_x_axis({"num_font": {"rotation": -45}})
    bands.set_legend({"position": "bottom", "delete_series": [0, 2]})
    bands.set_size({"width": 960, "height": 420})
    return bands


def ttm_fcf_chart(book: Workbook, block: tuple[int, pd.DataFrame]):
    start, frame = block
    chart = book.add_chart({"type": "line"})
    for col in range(1, len(frame.columns)):
        chart.add_series({"name": ["chart_data", start, col], "categories": _series_ref(start, len(frame), 0),
                          "values": _series_ref(start, len(frame), col), "line": {"color": PALETTE[(col - 1) % 8]}})
    chart.set_title({"name": "Free cash flow (ocf - capex), trailing 12 months, by company"})
    chart.set_y_axis({"num_format": '$#,##0,,,"B"'})
    chart.set_x_axis({"num_font": {"rotation": -45}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 960, "height": 420})
    return chart


def capex_vs_ocf_chart(book: Workbook, block: tuple[int, pd.DataFrame]):
    start, frame = block
    chart = book.add_chart({"type": "column"})
    for col, color in ((2, "#d62728"), (3, "#2ca02c")):
        chart.add_series({"name": ["chart_data", start, col], "categories": _series_ref(start, len(frame), 0),
                          "values": _series_ref(start, len(frame), col), "fill": {"color": color}})
    chart.set_title({"name": "Capex against operating cash flow, latest twelve months per company"})
    chart.set_y_axis({"num_format": '$#,##0,,,"B"'})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 960, "height": 420})
    return chart


def depreciation_chart(book: Workbook, name: str, block: tuple[int, pd.DataFrame]):
    """Capex today, depreciation tomorrow: reported capex as columns, reported and projected D&A as lines."""
    start, frame = block
    categories = _series_ref(start, len(frame), 0)
    columns = book.add_chart({"type": "column"})
    lines = book.add_chart({"type": "line"})
    for col, series in enumerate(frame.columns[1:], start=1):
        if series == "capex (reported)":
            columns.add_series({"name": ["chart_data", start, col], "categories": categories,
                                "values": _series_ref(start, len(frame), col), "fill": {"color": "#bbbbbb"}})
        else:
            lines.add_series({"name": ["chart_data", start, col], "categories": categories,
                              "values": _series_ref(start, len(frame), col),
                              "line": {"color": PALETTE[(col - 1) % 8],
                                       "dash_type": "dash" if series.startswith("D&A projected") else "solid"}})
    columns.combine(lines)
    columns.set_title({"name": f"Capex today, depreciation tomorrow: {name.removeprefix('wave ')}"})
    columns.set_y_axis({"num_format": '$#,##0,,,"B"'})
    columns.set_x_axis({"num_font": {"rotation": -45}})
    columns.set_legend({"position": "bottom"})
    columns.set_size({"width": 960, "height": 420})
    return columns
