"""Rows in, rows out: the fiscal-calendar SQL on June and May fiscal years of any length of history (the
snapshot has one 10-K of Microsoft's and one 10-Q of Oracle's).

The facts here carry only period boundaries as Microsoft's and Oracle's filings use them; their
values are placeholders, since what is under test is the calendar, not any figure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import concepts, warehouse


def build_calendar(periods: list[tuple[str, str, str, int]]) -> duckdb.DuckDBPyConnection:
    conn = warehouse.connect(Path(":memory:"))
    for number, (form, start, end, fy) in enumerate(periods):
        conn.execute(
            "insert into core.facts values ('0000000001', 'Test', 'us-gaap', 'Revenues', 'USD', ?, ?, 1, ?, ?, 'FY', ?, "
            "date '2025-08-01', null, date_diff('day', cast(? as date), cast(? as date)) + 1)",
            [start, end, f"0000000001-25-{number:06d}", fy, form, start, end],
        )
    conn.register("concept_rows", concepts.load_concept_map())
    for name in ("core/concept_map", "staging/periodic_facts", "core/fiscal_years", "core/fiscal_quarters"):
        warehouse.run_sql(conn, name)
    return conn


@pytest.mark.parametrize(
    "fiscal_year_periods, expected",
    [
        (  # Microsoft-style: fiscal 2025 runs July 2024 to June 2025
            [("10-K", "2024-07-01", "2025-06-30", 2025), ("10-Q", "2024-07-01", "2024-09-30", 2025),
             ("10-Q", "2024-07-01", "2024-12-31", 2025), ("10-Q", "2024-07-01", "2025-03-31", 2025)],
            ["2024Q3", "2024Q4", "2025Q1", "2025Q2"],
        ),
        (  # Oracle-style: fiscal 2025 runs June 2024 to May 2025
            [("10-K", "2024-06-01", "2025-05-31", 2025), ("10-Q", "2024-06-01", "2024-08-31", 2025),
             ("10-Q", "2024-06-01", "2024-11-30", 2025), ("10-Q", "2024-06-01", "2025-02-28", 2025)],
            ["2024Q3", "2024Q4", "2025Q1", "2025Q2"],
        ),
    ],
)
def test_off_calendar_fiscal_years_align_by_quarter_midpoint(fiscal_year_periods, expected):
    conn = build_calendar(fiscal_year_periods)
    rows = conn.execute(
        "select fiscal_year, fiscal_quarter, calendar_quarter from core.fiscal_quarters order by fiscal_quarter"
    ).fetchall()
    assert rows == [(2025, q, cq) for q, cq in zip(range(1, 5), expected)]


def test_year_in_progress_starts_after_the_last_10k():
    conn = build_calendar([
        ("10-K", "2024-07-01", "2025-06-30", 2025),
        ("10-Q", "2025-07-01", "2025-09-30", 2026),
    ])
    years = conn.execute("select fiscal_year, period_start, period_end, in_progress from core.fiscal_years order by 1").fetchall()
    assert years == [
        (2025, dt.date(2024, 7, 1), dt.date(2025, 6, 30), False), (2026, dt.date(2025, 7, 1), None, True)
    ]
    assert conn.execute("select fiscal_year, fiscal_quarter, calendar_quarter from core.fiscal_quarters "
                        "where fiscal_year = 2026").fetchall() == [(2026, 1, "2025Q3")]


def test_non_periodic_forms_do_not_make_fiscal_years():
    conn = build_calendar([("8-K", "2024-07-01", "2025-06-30", 2025), ("DEF 14A", "2023-07-01", "2024-06-30", None)])
    assert conn.execute("select count(*) from core.fiscal_years").fetchone() == (0,)


def test_a_filer_known_from_one_10q_gets_exact_years_from_the_10q_s_own_periods():
    """A 52/53-week filer known only from its Q2 10-Q (Apple's dates for fiscal 2026): the year in progress
    starts where the year-to-date period starts, the year before where its comparative starts, and ends the
    day before. A year-end day of month (--09-26 on Apple's cover) would have given 2024-09-27..2025-09-26."""
    conn = build_calendar([
        ("10-Q", "2025-09-28", "2026-03-28", 2026), ("10-Q", "2025-12-28", "2026-03-28", 2026),
        ("10-Q", "2024-09-29", "2025-03-29", 2026), ("10-Q", "2024-12-29", "2025-03-29", 2026),
    ])
    conn.execute("update core.facts set accn = '0000000001-25-000000'")  # one 10-Q, with its comparatives
    conn.execute("insert into core.filings values ('0000000001', '0000000001-25-000000', '10-Q', date '2026-03-28', "
                 "null, 'x.htm', 'https://www.sec.gov/x.htm', null, 2026, 'Q2', 4, 'parsed')")
    for name in ("core/fiscal_years", "core/fiscal_quarters"):
        warehouse.run_sql(conn, name)
    assert conn.execute("select fiscal_year, period_start, period_end from core.fiscal_years order by 1").fetchall() == [
        (2025, dt.date(2024, 9, 29), dt.date(2025, 9, 27)), (2026, dt.date(2025, 9, 28), None)]
    assert conn.execute("select fiscal_year, fiscal_quarter, period_start, period_end from core.fiscal_quarters "
                        "where fiscal_quarter = 2 order by 1").fetchall() == [
        (2025, 2, dt.date(2024, 12, 29), dt.date(2025, 3, 29)), (2026, 2, dt.date(2025, 12, 28), dt.date(2026, 3, 28))]
