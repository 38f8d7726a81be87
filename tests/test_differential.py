"""Every quarterly and annual value of every company in the snapshot, recomputed from the raw files by
the reference implementation in reference_periods.py (dates only, no SQL, no fiscal calendar), must
equal the warehouse's value or carry a row-level reason; and every quarter or year a filing reports
must be a row of the warehouse or be listed, with its reason, by the unplaced_metric_facts check.
The counts are in the README ("Differential test"); the test keeps them current."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

import reference_periods
from pipelines.lib.settings import PACKAGE_DIR, PROJECT_DIR, SNAPSHOT_DIR

TOLERANCE = 0.5  # USD: the warehouse keeps the filed figures exactly, differences are subtractions


@pytest.fixture(scope="module")
def references() -> dict[str, reference_periods.Reference]:
    return reference_periods.build(SNAPSHOT_DIR, PACKAGE_DIR / "concepts.yaml")


def _warehouse_rows(db: duckdb.DuckDBPyConnection) -> list[tuple]:
    return db.execute(
        "select cik, metric, kind, cast(period_start as varchar), cast(period_end as varchar), value, "
        "derivation, mixed_bases, null_reason from core.base_metric_values "
        "where period_type in ('quarter', 'fiscal_year')").fetchall()


def compare(db: duckdb.DuckDBPyConnection, references: dict) -> tuple[dict[str, int], list[tuple]]:
    """(counts, unexplained differences). A difference is explained when the warehouse row says why its
    value is not the reference's: mixed bases flagged, or a null with its reason."""
    counts = {"compared": 0, "equal": 0, "explained": 0}
    unexplained = []
    for cik, metric, kind, start, end, value, derivation, mixed, reason in _warehouse_rows(db):
        expected, how = (references[cik].value(metric, kind, start, end) if cik in references
                         else (None, "no data"))
        if value is None and expected is None:
            continue
        counts["compared"] += 1
        if value is not None and expected is not None and abs(value - expected) <= TOLERANCE:
            counts["equal"] += 1
        elif mixed or (value is None and reason):
            counts["explained"] += 1
        else:
            unexplained.append((cik, metric, start, end, value, expected, how, derivation))
    return counts, unexplained


def reported_periods_without_a_row(db: duckdb.DuckDBPyConnection, references: dict) -> tuple[int, list, list]:
    """Quarters (80-100 days) and years (350-380 days) of consolidated facts that the warehouse has no
    row for: (how many, those the unplaced_metric_facts check explains, those it does not)."""
    rows = {(cik, metric, start, end) for cik, metric, _, start, end, *_ in _warehouse_rows(db)}
    unplaced = {(cik, f"{taxonomy}:{tag}", str(start), str(end)) for cik, taxonomy, tag, start, end in db.execute(
        f"select cik, taxonomy, tag, period_start, period_end from ({_check_sql('unplaced_metric_facts')})").fetchall()}
    explained, missing = [], []
    for cik, reference in references.items():
        for metric, concepts in reference.candidates.items():
            for concept in concepts:
                for start, end in reference.by_concept.get(concept, {}):
                    if start is None or (cik, metric, start, end) in rows:
                        continue
                    days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1
                    if 80 <= days <= 100 or 350 <= days <= 380:
                        target = explained if (cik, concept, start, end) in unplaced else missing
                        target.append((cik, metric, concept, start, end))
    return len(explained) + len(missing), explained, missing


def _check_sql(name: str) -> str:
    return (PROJECT_DIR / "sql" / "checks" / f"{name}.sql").read_text().rstrip().rstrip(";")


def test_every_value_equals_the_reference_or_says_why(db: duckdb.DuckDBPyConnection, references):
    counts, unexplained = compare(db, references)
    assert unexplained == []
    # every company of the snapshot took part, the five hyperscalers included
    companies = {cik for cik, *_ in _warehouse_rows(db)}
    assert {"0000789019", "0001018724", "0001652044", "0001326801", "0001341439"} <= companies
    assert counts["compared"] > 1_500 and counts["equal"] >= counts["compared"] - counts["explained"]
    _assert_readme_counts(counts, reported_periods_without_a_row(db, references)[:2])


def test_every_reported_quarter_and_year_is_a_row_or_a_listed_exception(db: duckdb.DuckDBPyConnection, references):
    total, explained, missing = reported_periods_without_a_row(db, references)
    assert missing == []
    # the quarterly note of NVIDIA's 10-K filed 2012-03-13 dates a quarter 2010-05-03 to 2010-07-31, its
    # 10-Qs 2010-05-03 to 2010-08-01: listed with its reason, not placed
    assert sorted((m, s, e) for _, m, _, s, e in explained) == [
        ("net_income", "2010-05-03", "2010-07-31"), ("revenue", "2010-05-03", "2010-07-31")]
    # Microsoft's quarters, known from its FY2015 10-K's quarterly note, are rows
    assert ("0000789019", "revenue", "2014-10-01", "2014-12-31") in {
        (cik, metric, start, end) for cik, metric, _, start, end, *_ in _warehouse_rows(db)}


def test_the_reference_catches_a_wrong_value(db: duckdb.DuckDBPyConnection, references):
    """The comparison is not vacuous: one value changed in a copy of the table is a difference."""
    copy = duckdb.connect()
    copy.execute("create schema core")
    copy.register("rows", db.execute("select * from core.base_metric_values").df())
    copy.execute("create table core.base_metric_values as select * replace (cast(period_start as date) as period_start, "
                 "cast(period_end as date) as period_end) from rows")
    copy.execute("update core.base_metric_values set value = value + 1e6 where cik = '0001652044' and metric = 'capex' "
                 "and period_type = 'quarter' and fiscal_year = 2024 and fiscal_quarter = 4")
    _, unexplained = compare(copy, references)
    assert [(cik, metric, start, end) for cik, metric, start, end, *_ in unexplained] == [
        ("0001652044", "capex", "2024-10-01", "2024-12-31")]


def _assert_readme_counts(counts: dict[str, int], without_row: tuple[int, list]) -> None:
    line = (f"| {counts['compared']:,} | {counts['equal']:,} | {counts['explained']:,} | "
            f"{without_row[0]:,} | {len(without_row[1]):,} |")
    readme = (PROJECT_DIR / "README.md").read_text()
    table = re.search(r"<!-- differential:start -->(.*?)<!-- differential:end -->", readme, re.S)
    assert table and line in table.group(1), f"README's differential table should read: {line}"
