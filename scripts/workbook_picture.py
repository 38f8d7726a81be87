#!/usr/bin/env python3
"""A picture of part of the workbook's annual sheet, for the README, with no spreadsheet program at hand.

    .venv/bin/python scripts/workbook_picture.py warehouse/exports/capexwatch.xlsx docs/images/workbook-annual.png

Reads the cells back with openpyxl (the stored value, its number format, blank or boolean as
written) and draws them as an HTML table screenshotted by headless chromium. Only the number
formats capexwatch writes are shown the way a spreadsheet shows them ($ millions, %, 0.00x,
dates); it is a faithful picture of the cells, not a spreadsheet's own rendering.
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

SHEET, TICKERS, ROWS = "annual", ("AMZN", "GOOGL"), 5  # the latest fiscal years of each
COLUMNS = ("ticker", "fiscal_year", "period_end", "revenue", "capex", "fcf", "d_and_a", "capex_intensity", "fcf_margin",
           "ocf_to_net_income", "capex_to_da", "capex_yoy", "missing")


def shown(value: object, number_format: str) -> str:
    """What a spreadsheet displays for the formats pipelines/lib/workbook.py writes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, (int, float)):
        if '"M"' in number_format:
            text = f"${abs(value) / 1e6:,.1f}M"
            return f"-{text}" if value < 0 else text
        if number_format == "0.0%":
            return f"{value:.1%}"
        if number_format.endswith('"x"'):
            return f"{value:.2f}x"
        return f"{value:g}"
    return str(value)


def sheet_html(path: Path) -> str:
    header, *rows = openpyxl.load_workbook(path)[SHEET].iter_rows()
    names = [cell.value for cell in header]
    picked = [names.index(column) for column in COLUMNS]
    chosen = [row for ticker in TICKERS for row in [r for r in rows if r[0].value == ticker][-ROWS:]]
    body = ["<tr>" + "".join(f"<th>{html.escape(names[i])}</th>" for i in picked) + "</tr>"]
    for row in chosen:
        cells = "".join(f'<td class="{"n" if isinstance(row[i].value, (int, float)) else ""}">'
                        f"{html.escape(shown(row[i].value, row[i].number_format))}</td>" for i in picked)
        body.append(f"<tr>{cells}</tr>")
    style = ("body{font:13px Calibri,Arial,sans-serif;margin:8px} table{border-collapse:collapse}"
             "td,th{border:1px solid #d0d7e2;padding:2px 6px;white-space:nowrap;max-width:260px;overflow:hidden}"
             "th{background:#dde4ee;text-align:left} td.n{text-align:right}")
    return f"<html><head><style>{style}</style></head><body><table>{''.join(body)}</table></body></html>"


def main(workbook: str, out: str) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is needed for the screenshot")
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "sheet.html"
        page.write_text(sheet_html(Path(workbook)))
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1700,300", f"--screenshot={Path(out).resolve()}", page.as_uri()],
                       check=True, capture_output=True, timeout=120, cwd=scratch)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
