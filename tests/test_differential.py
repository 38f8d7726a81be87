"""Every quarterly, annual and TTM value of every company in the snapshot, recomputed from the raw files by
the reference implementation in reference_periods.py (dates only, no SQL), must equal the warehouse's
value, every label (fiscal year, fiscal quarter, calendar quarter) must be the one the company's 10-Ks
imply, and every quarter or year a filing reports must be a row of the warehouse or be listed, with its
reason, by the unplaced_metric_facts check. The counts are in the README ("Differential test"); the test
keeps them current."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

import reference_periods
from conftest import core_copy
from pipelines.lib.settings import PACKAGE_DIR, PROJECT_DIR, SNAPSHOT_DIR

TOLERANCE = 0.5  # USD: the warehouse keeps the filed figures exactly, differences are subtractions


@pytest.fixture(scope="module")
def reference() -> tuple[dict, dict]:
    return reference_periods.build(SNAPSHOT_DIR, PACKAGE_DIR / "concepts.yaml")


def _warehouse_rows(db: duckdb.DuckDBPyConnection, period_types: tuple[str, ...] = ("quarter", "fiscal_year")) -> list[tuple]:
    return db.execute(
        "select cik, metric, kind, period_type, fiscal_year, fiscal_quarter, calendar_quarter, "
        "cast(period_start as varchar), cast(period_end as varchar), value from core.base_metric_values "
        f"where period_type in {period_types!r}".replace(",)", ")")).fetchall()


def compare_values(db: duckdb.DuckDBPyConnection, values: dict) -> tuple[int, list[tuple]]:
    """(values compared, differences): a value must equal the reference, a null must be a null there."""
    compared, differences = 0, []
    for cik, metric, kind, _, _, _, _, start, end, value in _warehouse_rows(db):
        expected, how = values[cik].value(metric, kind, start, end) if cik in values else (None, "no data")
        if value is None and expected is None:
            continue
        compared += 1
        if value is None or expected is None or abs(value - expected) > TOLERANCE:
            differences.append((cik, metric, start, end, value, expected, how))
    return compared, differences


def compare_labels(db: duckdb.DuckDBPyConnection, calendars: dict) -> tuple[int, list[tuple]]:
    """(periods whose labels the 10-Ks determine, wrong labels)."""
    periods = {(row[0], *row[3:9]) for row in _warehouse_rows(db) if row[0] in calendars}
    checked, wrong = 0, []
    for cik, period_type, year, quarter, label, start, end in periods:
        expected = calendars[cik].labels(start, end)
        if label != reference_periods.calendar_quarter(start, end, period_type == "fiscal_year"):
            wrong.append((cik, start, end, label, "calendar quarter"))
        if expected is None:
            continue
        checked += 1
        if (year, quarter) != expected:
            wrong.append((cik, start, end, (year, quarter), expected))
    return checked, wrong


def compare_ttm(db: duckdb.DuckDBPyConnection, values: dict) -> tuple[int, list[tuple]]:
    """(TTM values compared, differences): the sum of the reference's four quarters that chain back from
    the TTM's end, each starting the day after the one before ends; none where one is missing."""
    quarters = {(cik, metric, end): start for cik, metric, _, _, _, _, _, start, end, _ in _warehouse_rows(db, ("quarter",))}
    compared, differences = 0, []
    for cik, metric, kind, _, _, _, _, start, end, value in _warehouse_rows(db, ("ttm",)):
        if kind != "flow" or cik not in values:
            continue
        total, cursor = 0.0, end
        for _ in range(4):
            q_start = quarters.get((cik, metric, cursor))
            found = values[cik].value(metric, kind, q_start, cursor)[0] if q_start else None
            if found is None:
                total = None
                break
            total += found
            cursor = (dt.date.fromisoformat(q_start) - dt.timedelta(days=1)).isoformat()
        if value is None and total is None:
            continue
        compared += 1
        if value is None or total is None or abs(value - total) > 4 * TOLERANCE:
            differences.append((cik, metric, start, end, value, total))
    return compared, differences


def reported_periods_without_a_row(db: duckdb.DuckDBPyConnection, values: dict) -> tuple[int, list, list]:
    """Quarters (80-100 days) and years (350-380 days) of consolidated facts that the warehouse has no
    row for: (how many, those the unplaced_metric_facts check explains, those it does not)."""
    rows = {(cik, metric, start, end) for cik, metric, _, _, _, _, _, start, end, _ in _warehouse_rows(db)}
    unplaced = {(cik, f"{taxonomy}:{tag}", str(start), str(end)) for cik, taxonomy, tag, start, end in db.execute(
        f"select cik, taxonomy, tag, period_start, period_end from ({_check_sql('unplaced_metric_facts')})").fetchall()}
    explained, missing = [], []
    for cik, reference in values.items():
        for metric, concepts in reference.candidates.items():
            for concept in concepts:
                for start, end in reference.by_concept.get(concept, {}):
                    if start is None or (cik, metric, start, end) in rows:
                        continue
                    days = reference_periods.days(start, end)
                    if 80 <= days <= 100 or 350 <= days <= 380:
                        target = explained if (cik, concept, start, end) in unplaced else missing
                        target.append((cik, metric, concept, start, end))
    return len(explained) + len(missing), explained, missing


def _check_sql(name: str) -> str:
    return (PROJECT_DIR / "sql" / "checks" / f"{name}.sql").read_text().rstrip().rstrip(";")


def test_every_value_label_and_ttm_equals_the_reference(db: duckdb.DuckDBPyConnection, reference):
    values, calendars = reference
    compared, differences = compare_values(db, values)
    labelled, wrong_labels = compare_labels(db, calendars)
    ttm_compared, ttm_differences = compare_ttm(db, values)
    assert (differences, wrong_labels, ttm_differences) == ([], [], [])
    # every company of the snapshot took part, the five hyperscalers included
    assert {"0000789019", "0001018724", "0001652044", "0001326801", "0001341439"} <= {row[0] for row in _warehouse_rows(db)}
    total, explained, _ = reported_periods_without_a_row(db, values)
    line = f"| {compared:,} | {labelled:,} | {ttm_compared:,} | {total:,} | {len(explained):,} |"
    table = re.search(r"<!-- differential:start -->(.*?)<!-- differential:end -->", (PROJECT_DIR / "README.md").read_text(), re.S)
    assert table and line in table.group(1), f"README's differential table should read: {line}"


def test_every_reported_quarter_and_year_is_a_row_or_a_listed_exception(db: duckdb.DuckDBPyConnection, reference):
    total, explained, missing = reported_periods_without_a_row(db, reference[0])
    assert missing == []
    # the quarterly note of NVIDIA's 10-K filed 2012-03-13 dates a quarter 2010-05-03 to 2010-07-31, its
    # 10-Qs 2010-05-03 to 2010-08-01: listed with its reason, not placed
    assert sorted((m, s, e) for _, m, _, s, e in explained) == [
        ("net_income", "2010-05-03", "2010-07-31"), ("revenue", "2010-05-03", "2010-07-31")]
    # Microsoft's quarters, known from its FY2015 10-K's quarterly note, are rows
    assert ("0000789019", "revenue", "2014-10-01", "2014-12-31") in {
        (row[0], row[1], row[7], row[8]) for row in _warehouse_rows(db)}


@pytest.mark.parametrize("change, caught_by", [
    ("set value = value + 1e6", "values"),  # a wrong figure
    ("set value = null, null_reason = 'whatever'", "values"),  # a figure dropped with any reason
    ("set value = value * 10, mixed_bases = true", "values"),  # a wrong figure flagged as mixed bases
    ("set fiscal_year = fiscal_year + 1", "labels"),  # a mislabelled quarter
    ("set fiscal_quarter = 5 - fiscal_quarter", "labels"),
    ("set calendar_quarter = '1999Q1'", "labels"),
])
def test_the_reference_catches_a_wrong_value_or_label(db: duckdb.DuckDBPyConnection, reference, change, caught_by):
    """The comparison is not vacuous: one row changed in a copy of the table is a difference."""
    copy = core_copy(db, {"base_metric_values": "true"})
    copy.execute(f"update core.base_metric_values {change} where cik = '0001652044' and metric = 'capex' "
                 "and period_type = 'quarter' and fiscal_year = 2024 and fiscal_quarter = 3")
    found = compare_values(copy, reference[0])[1] if caught_by == "values" else compare_labels(copy, reference[1])[1]
    assert [(row[0], row[2] if caught_by == "values" else row[1]) for row in found] == [("0001652044", "2024-07-01")]
