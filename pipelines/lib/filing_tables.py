"""Rows of a filing's own HTML tables that carry no XBRL tag (non-GAAP reconciliations in MD&A).

Amazon, for one, publishes three free-cash-flow measures, but tags only some of their inputs;
the measure itself is only in the table. This reads such a row by its label, under the
table's year columns, so it can sit beside the figures computed from XBRL.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

_YEAR = re.compile(r"^(19|20)\d\d$")
_NUMBER = re.compile(r"\(?-?[\d,]+(?:\.\d+)?\)?")


def _text(cell) -> str:
    return re.sub(r"\s+", " ", cell.get_text(" ", strip=True)).strip()


def _tables_with(content: str, label: str) -> list[str]:
    """The HTML of each table in which the label occurs (not the prose that mentions it)."""
    found = []
    for match in re.finditer(re.escape(label), content):
        start = content.rfind("<table", 0, match.start())
        if start == -1 or content.rfind("</table>", 0, match.start()) > start:
            continue
        end = content.find("</table>", match.end())
        found.append(content[start:end + len("</table>")])
    return found


def read_row(content: bytes, label: str, scale: float = 1.0) -> dict[int, float]:
    """{year: value} of the first table row whose label cell reads exactly `label`.

    Parenthesized figures are negative; values are multiplied by scale (1e6 for "in millions").
    """
    html = content.decode("utf-8", errors="replace")
    for table_html in _tables_with(html, label):
        table = BeautifulSoup(table_html, "lxml")
        years: list[int] = []
        for row in table.find_all("tr"):
            cells = [_text(cell) for cell in row.find_all(["td", "th"])]
            cells = [cell for cell in cells if cell and cell != "$"]
            if not years and cells and all(_YEAR.match(cell) for cell in cells):
                years = [int(cell) for cell in cells]
            elif cells and cells[0] == label and years:
                numbers = [cell for cell in cells[1:] if _NUMBER.fullmatch(cell.replace("$", "").strip())]
                if len(numbers) == len(years):
                    return {year: _number(text) * scale for year, text in zip(years, numbers)}
    return {}


def _number(text: str) -> float:
    cleaned = text.replace("$", "").replace(",", "").strip()
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    value = float(cleaned.strip("()"))
    return -value if negative else value
