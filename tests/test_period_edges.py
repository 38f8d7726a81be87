"""The period math at its edges, on the real snapshot: a line item whose concept changed between
filings, periods derivable only from comparatives, differences that mix a restated and an original
basis, and rounding that is not a restatement. Each number here is in the named filing."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import duckdb
import pytest

import reliability_log
from conftest import core_copy, one
from pipelines.lib.settings import PROJECT_DIR
from test_publication import fingerprint
from test_reliability import _edit_capex, _refresh, _snapshot_copy

APPLE, ALPHABET, NVIDIA = "0000320193", "0001652044", "0001045810"


def test_a_restatement_under_another_concept_is_the_value_of_record(db: duckdb.DuckDBPyConnection):
    # Apple FY2016 operating cash flow: first reported in the FY2016 10-K under ...ContinuingOperations,
    # restated in the FY2018 10-K (0000320193-18-000145) under NetCashProvidedByUsedInOperatingActivities
    value, first, restated, tag, accn, first_accn = one(
        db, "select value, first_value, restated, tag, accn, first_accn from core.metric_values "
            "where cik = ? and metric = 'ocf' and period_type = 'fiscal_year' and fiscal_year = 2016", APPLE)
    assert (value, first, restated) == (66_231e6, 65_824e6, True)
    assert (tag, accn, first_accn) == ("NetCashProvidedByUsedInOperatingActivities", "0000320193-18-000145",
                                       "0001628280-16-020309")
    assert one(db, "select first_concept, concepts from core.metric_spans where cik = ? and metric = 'ocf' "
                   "and fiscal_year = 2016 and q_from = 1 and q_to = 4 and segment = ''", APPLE) == (
        "us-gaap:NetCashProvidedByUsedInOperatingActivitiesContinuingOperations", 2)


def test_quarters_known_only_from_comparatives_are_derived(db: duckdb.DuckDBPyConnection):
    # Alphabet's first 10-Q (Q3 2015) carries 2014's third quarter and nine months as comparatives;
    # its 10-Ks carry fiscal 2014: Q3 is reported, Q4 = FY - 9M = 66,001 - 47,898
    rows = db.execute("select fiscal_quarter, value, derivation, source_accns from core.base_metric_values "
                      "where cik = ? and metric = 'revenue' and period_type = 'quarter' and fiscal_year = 2014 "
                      "order by fiscal_quarter", [ALPHABET]).fetchall()
    assert [(q, v, d) for q, v, d, _ in rows] == [(3, 16_523e6, "reported"), (4, 18_103e6, "fy_minus_9m")]
    assert set(rows[1][3]) == {"0001652044-17-000008", "0001652044-15-000005"}  # the 10-K and the 10-Q


def test_every_null_reason_is_true_and_nothing_derivable_is_left_null(db: duckdb.DuckDBPyConnection):
    """Checked against the spans each quarter needs: a reason names a span that is indeed missing, and
    a quarter whose spans are all there has a value."""
    spans = {(cik, metric, year, q_from, q_to) for cik, metric, year, q_from, q_to in db.execute(
        "select cik, metric, fiscal_year, q_from, q_to from core.metric_spans where segment = ''").fetchall()}
    rows = db.execute("select cik, metric, kind, fiscal_year, fiscal_quarter, value, null_reason "
                      "from core.base_metric_values where period_type = 'quarter'").fetchall()
    checked = 0
    for cik, metric, kind, year, quarter, value, reason in rows:
        has = lambda q_from, q_to: (cik, metric, year, q_from, q_to) in spans  # noqa: E731
        derivable = has(quarter, quarter) or (kind == "flow" and quarter > 1 and has(1, quarter)
                                              and has(1, quarter - 1))
        assert (value is not None) == derivable, (cik, metric, year, quarter, reason)
        if value is not None:
            continue
        checked += 1
        if reason == "Q4 not derivable: the fiscal year is not reported":
            assert not has(1, 4)
        elif reason == "Q4 not derivable: the nine months to Q3 are not reported":
            assert has(1, 4) and not has(1, 3)
        elif reason.startswith("not reported: neither the quarter nor the"):
            assert not has(quarter, quarter) and not has(1, quarter)
        elif reason.startswith("not derivable: the "):
            assert has(1, quarter) and not has(1, quarter - 1)
        elif reason == "not reported under any candidate concept for this fiscal year":
            assert not any(key[:3] == (cik, metric, year) for key in spans)
        else:
            assert reason in ("first quarter not reported", "fiscal year-end balance not reported") or \
                reason.startswith("balance at the end of Q"), reason
    assert checked > 100


def test_a_difference_of_a_restated_and_an_original_span_is_flagged(db: duckdb.DuckDBPyConnection):
    # Apple FY2016 Q4 OCF: the restated year (66,231) minus nine months never restated (49,698);
    # as first reported, 65,824 - 49,698
    assert one(db, "select value, first_value, derivation, mixed_bases, restated from core.base_metric_values "
                   "where cik = ? and metric = 'ocf' and period_type = 'quarter' and fiscal_year = 2016 "
                   "and fiscal_quarter = 4", APPLE) == (16_533e6, 16_126e6, "fy_minus_9m", True, True)
    # a Q4 whose year and nine months are both as first reported is not flagged
    assert one(db, "select count(*) from core.base_metric_values where mixed_bases and not restated") == (0,)


def test_rounding_to_the_declared_precision_is_not_a_restatement(db: duckdb.DuckDBPyConnection):
    # NVIDIA's nine months of fiscal 2015: 3,430,993 thousand in the 10-Q, 3,431 million a year later
    assert one(db, "select value, first_value, restated from core.metric_spans where cik = ? "
                   "and metric = 'revenue' and segment = '' and fiscal_year = 2015 and q_from = 1 and q_to = 3",
               NVIDIA) == (3_431e6, 3_430_993e3, False)
    # no reported figure is called restated for a difference within half a unit of its coarser precision
    assert one(db, "select count(*) from core.metric_values where kind <> 'derived' and restated "
                   "and abs(value - first_value) <= 500000") == (0,)
    assert one(db, "select count(*) from core.metric_values where cik = ? and kind <> 'derived' and restated",
               NVIDIA) == (17,)


def _digit_precision(value: float) -> float:
    """The reference: exact rational arithmetic, no floating-point division or modulo."""
    exact = Fraction(value)
    return next((float(10**k) for k in range(6, -1, -1) if exact % 10**k == 0), 0.0)


def test_a_figure_s_precision_is_its_trailing_zeros_at_every_magnitude():
    # staging.digit_precision divides and truncates below 2^53 and takes the modulo above: both must
    # agree with exact arithmetic on round figures, their neighbours, fractions and the boundary
    rng = random.Random(53)
    values = [0.0, -0.0, 0.5, 1e-300, 2.0**53 - 1, 2.0**53, 2.0**53 + 2, -(2.0**53), 1e16, 1.5e18, 123e20]
    for _ in range(20_000):
        figure = float(rng.randint(-10**rng.randint(0, 16), 10**rng.randint(0, 16)) * 10**rng.randint(0, 8))
        values += [figure, figure + rng.choice([0.5, 0.25, 1e-3]), math.nextafter(figure, math.inf),
                   math.nextafter(figure, -math.inf), rng.uniform(-1e17, 1e17)]
    conn = duckdb.connect()
    conn.execute("create schema staging")
    for statement in duckdb.extract_statements((PROJECT_DIR / "sql/staging/periodic_facts.sql").read_text()):
        if "macro" in statement.query:
            conn.execute(statement.query)
    conn.execute("create table v (i integer, value double)")
    conn.executemany("insert into v values (?, ?)", list(enumerate(values)))
    computed = conn.execute("select staging.digit_precision(value) from v order by i").fetchall()
    assert [precision for (precision,) in computed] == [_digit_precision(value) for value in values]
    assert {_digit_precision(value) for value in values} == {0.0, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6}
    # periodic reports, told apart inside the scan: the other forms (8-K, 10-D, transition 10-KT) are not
    assert conn.execute("select list(staging.report_kind(form)) from unnest(['10-K', '10-K/A', '10-Q', '10-Q/A', "
                        "'10-KT', '10-D', '8-K', null]) as t(form)").fetchall() == [
        (["annual", "annual", "quarterly", "quarterly", None, None, None, None],)]


def test_a_thousandfold_amendment_is_refused_not_published(tmp_path):
    """A 10-K/A giving Alphabet's FY2024 capex 1,000 times the 10-K's (a scale error) used to become the
    value of record; the implausible_restatements check blocks the build and names both filings."""
    snapshot = _snapshot_copy(tmp_path)
    _, database = _refresh(snapshot, tmp_path / "wh", ["GOOGL"])
    published = fingerprint(database)

    def amend(units, doc):
        fy2024 = next(f for f in units["USD"] if f["start"] == "2024-01-01" and f["end"] == "2024-12-31")
        units["USD"].append({**fy2024, "val": fy2024["val"] * 1000, "accn": "0001652044-26-999997",
                             "form": "10-K/A", "filed": "2026-06-01"})

    _edit_capex(snapshot, amend)
    report, _ = _refresh(snapshot, tmp_path / "wh", ["GOOGL"])
    assert report.build.status == "refused"
    [outcome] = [o for o in report.build.checks if o.check == "core/metric_spans:implausible_restatements"]
    assert outcome.failures == 1 and outcome.rows[0]["largest_accn"] == "0001652044-26-999997"
    assert (outcome.rows[0]["metric"], outcome.rows[0]["largest"]) == ("capex", 52_535e9)
    assert fingerprint(database) == published
    reliability_log.record("bad data", "capex amended to 1,000 times its value (10-K/A)",
                           "refused by implausible_restatements (error): not published", lost=0)


@pytest.mark.parametrize("metric, concept, start, end", [
    ("capex", "PaymentsToAcquirePropertyPlantAndEquipment", "2026-01-01", "2026-03-31"),  # the latest quarter
    ("revenue", "Revenues", "2025-04-01", "2025-06-30"),  # a quarter between two others
])
def test_a_thousandfold_figure_in_its_only_filing_is_refused(tmp_path, metric, concept, start, end):
    """One quarter of Alphabet's written 1,000 times too large in the one 10-Q that reports it: no other
    filing disagrees, so only the neighbouring periods show the scale error (the latest quarter has only
    the one before). implausible_jumps blocks it; before it, the figure was published."""
    snapshot = _snapshot_copy(tmp_path)
    _, database = _refresh(snapshot, tmp_path / "wh", ["GOOGL"])
    published = fingerprint(database)

    def scale_error(units, doc):
        [fact] = [f for f in doc["facts"]["us-gaap"][concept]["units"]["USD"] if (f["start"], f["end"]) == (start, end)]
        fact["val"] *= 1000

    _edit_capex(snapshot, scale_error)
    report, _ = _refresh(snapshot, tmp_path / "wh", ["GOOGL"])
    assert report.build.status == "refused"
    [outcome] = [o for o in report.build.checks if o.check == "core/base_metric_values:implausible_jumps"]
    assert [(row["metric"], str(row["period_end"])[:10]) for row in outcome.rows] == [(metric, end)]
    assert fingerprint(database) == published
    reliability_log.record("bad data", f"one quarter's {metric} 1,000 times too large in its only 10-Q",
                           "refused by implausible_jumps (error): not published", lost=0)


def test_a_conflicting_duplicate_is_resolved_by_the_stated_rule_whatever_the_order(tmp_path):
    """Alphabet's FY2024 revenue given twice by its 10-K with two values, once after and once before the
    original fact: both runs publish the same value (the more precise, then the smaller), and
    core.conflicting_facts lists the conflict with the rule."""
    published = []
    for placement in ("after", "before"):
        snapshot = _snapshot_copy(tmp_path / placement)

        def plant(units, doc, placement=placement):
            revenue = doc["facts"]["us-gaap"]["Revenues"]["units"]["USD"]
            fy2024 = next(f for f in revenue if f["start"] == "2024-01-01" and f["end"] == "2024-12-31"
                          and f["form"] == "10-K")
            conflicting = {**fy2024, "val": fy2024["val"] + 1_000_000}
            revenue.insert(0 if placement == "before" else len(revenue), conflicting)

        _edit_capex(snapshot, plant)
        report, database = _refresh(snapshot, tmp_path / placement / "wh", ["GOOGL"])
        assert report.build.status == "published"
        [listed] = [o for o in report.build.checks if o.check == "core/conflicting_facts:conflicting_duplicates"]
        assert listed.severity == "WARN" and listed.failures == 1
        with duckdb.connect(str(database), read_only=True) as conn:
            published.append(conn.execute("select revenue from marts.annual where ticker = 'GOOGL' "
                                          "and fiscal_year = 2024").fetchone())
            conflict = conn.execute("select accn, tag, \"values\", kept_value, rule from core.conflicting_facts").fetchall()
    assert published == [(350_018e6,), (350_018e6,)]
    assert conflict == [("0001652044-26-000018", "Revenues", [350_018e6, 350_019e6], 350_018e6,
                         "the more precise figure, then the smaller")]
    reliability_log.record("bad data", "duplicated fact with another value",
                           "resolved by the stated rule (listed by conflicting_duplicates, warning)", lost=0)


def test_every_row_says_its_length_and_growth_across_unequal_periods_is_flagged(db: duckdb.DuckDBPyConnection):
    # Apple's Q1 of fiscal 2023 had 14 weeks, of 2022 13: its growth compares 98 days with 91
    weeks, comparability = one(db, "select weeks, comparability from marts.quarterly where ticker = 'AAPL' "
                                    "and fiscal_year = 2023 and fiscal_quarter = 1")
    assert weeks == 14 and "revenue_yoy: 98 days against 91 days a year earlier" in comparability
    assert one(db, "select weeks from marts.annual where ticker = 'NVDA' and fiscal_year = 2021") == (53,)
    assert {weeks for (weeks,) in db.execute("select distinct weeks from marts.quarterly").fetchall()} == {13, 14}
    # independently of the marts: every growth figure between periods whose lengths differ by more than
    # three days is flagged, and no other
    lengths = {tuple(key): days for *key, days in db.execute(
        "select cik, 'quarter', fiscal_year, fiscal_quarter, duration_days from core.fiscal_quarters union all "
        "select cik, 'fiscal_year', fiscal_year, null, date_diff('day', period_start, period_end) + 1 "
        "from core.fiscal_years").fetchall()}
    growth = db.execute("select cik, period_type, fiscal_year, fiscal_quarter, comparability from core.metric_values "
                        "where metric in ('revenue_yoy', 'capex_yoy') and value is not null "
                        "and period_type in ('quarter', 'fiscal_year')").fetchall()
    flagged = 0
    for cik, period_type, year, quarter, note in growth:
        now, before = lengths[(cik, period_type, year, quarter)], lengths[(cik, period_type, year - 1, quarter)]
        assert (note is not None) == (abs(now - before) > 3), (cik, period_type, year, quarter, note)
        flagged += note is not None
    assert flagged >= 20


def test_a_definition_that_differs_by_company_is_flagged(db: duckdb.DuckDBPyConnection):
    # Alphabet's cash-flow statement gives depreciation without amortization
    assert one(db, "select comparability from core.metric_values where cik = ? and metric = 'capex_to_da' "
                   "and period_type = 'fiscal_year' and fiscal_year = 2024", ALPHABET) == (
        "d_and_a is depreciation only (us-gaap:Depreciation), without amortization",)
    assert one(db, "select count(*) from core.metric_values where cik = ? and metric = 'capex_to_da' "
                   "and comparability is not null", NVIDIA) == (0,)


def test_a_segment_is_its_full_set_of_dimensions(db: duckdb.DuckDBPyConnection):
    # Google Cloud's operating income and NVIDIA's two reportable segments are tagged with
    # srt:ConsolidationItemsAxis=us-gaap:OperatingSegmentsMember beside the segment axis
    assert one(db, "select cloud_revenue, cloud_operating_income from marts.cloud_vs_capex where ticker = 'GOOGL' "
                   "and period_type = 'fiscal_year' and fiscal_year = 2024") == (43_229e6, 6_112e6)
    nvidia = {name: (revenue, income) for name, revenue, income in db.execute(
        "select segment_name, revenue, operating_income from marts.segments where ticker = 'NVDA' "
        "and period_type = 'fiscal_year' and fiscal_year = 2025 "
        "and segment_axis = 'us-gaap:StatementBusinessSegmentsAxis'").fetchall()}
    assert nvidia == {"Compute and Networking": (116_193e6, 82_875e6), "Graphics": (14_304e6, 5_085e6)}


def test_segment_names_read_as_words(db: duckdb.DuckDBPyConnection):
    names = dict(db.execute("select distinct segment_member, segment_name from marts.segments").fetchall())
    assert {member: names[member] for member in (
        "aapl:WearablesHomeandAccessoriesMember", "nvda:OEMAndOtherMember", "aapl:RestOfAsiaPacificSegmentMember",
        "aapl:IPhoneMember", "amzn:AmazonWebServicesSegmentMember", "meta:FamilyOfAppsMember")} == {
        "aapl:WearablesHomeandAccessoriesMember": "Wearables Home and Accessories",
        "nvda:OEMAndOtherMember": "OEM and Other",
        "aapl:RestOfAsiaPacificSegmentMember": "Rest of Asia Pacific",
        "aapl:IPhoneMember": "iPhone",
        "amzn:AmazonWebServicesSegmentMember": "Amazon Web Services",
        "meta:FamilyOfAppsMember": "Family of Apps",
    }


def test_a_value_names_one_filing_and_that_filing_s_own_date(db: duckdb.DuckDBPyConnection):
    """accn and filed of every reported metric belong together: a derived quarter whose newest filing
    has no known date offline (Apple's Q2 FY2026 10-Q) says unknown, not the date of the other one."""
    dates = dict(db.execute("select distinct accn, filed from staging.periodic_facts").fetchall())
    rows = db.execute("select accn, filed, first_accn, first_filed from core.base_metric_values "
                      "where value is not null and accn is not null").fetchall()
    assert {(accn, filed) for accn, filed, _, _ in rows} <= set(dates.items())
    assert {(accn, filed) for _, _, accn, filed in rows} <= set(dates.items())
    assert one(db, "select accn, filed from core.base_metric_values where cik = ? and metric = 'capex' "
                   "and period_type = 'quarter' and fiscal_year = 2026 and fiscal_quarter = 2", APPLE) == (
        "0000320193-26-000013", None)


def test_the_sources_an_analyst_exports_name_both_filings_of_a_derived_value(db: duckdb.DuckDBPyConnection):
    # Alphabet's 2014 Q4 revenue = FY (10-K 0001652044-17-000008) - 9M (10-Q 0001652044-15-000005)
    sources = (PROJECT_DIR / "sql/reports/sources.sql").read_text()
    assert one(db, f"select derivation, source_filings, mixed_bases from ({sources}) where ticker = 'GOOGL' "
                   "and metric = 'revenue' and period_type = 'quarter' and fiscal_year = 2014 and fiscal_quarter = 4") == (
        "fy_minus_9m", "0001652044-15-000005, 0001652044-17-000008", False)
    # and a segment's derived values name theirs (every segment row names at least its own filing)
    assert one(db, "select count(*) from marts.segments where revenue is not null "
                   "and not list_contains(revenue_source_accns, revenue_accn)") == (0,)


def test_a_year_whose_quarters_do_not_add_up_says_why(db: duckdb.DuckDBPyConnection):
    """Alphabet's 2015 capex: the quarters add to 9,927 against a restated year of 9,950. The check used to
    leave restated years out silently; now the reconciliation names what was restated and where."""
    assert one(db, "select quarter_sum, fiscal_year_value, adds_up, explanation from core.fiscal_year_reconciliation "
                   "where cik = ? and metric = 'capex' and fiscal_year = 2015", ALPHABET) == (
        9_927e6, 9_950e6, False,
        "restated after first report (USD millions): 9M 7,815 -> 7,848 (0001652044-16-000038); "
        "FY 9,915 -> 9,950 (0001652044-18-000007); not re-reported on that basis: Q1, Q2, Q3")
    # every other year with four quarters adds up, and nothing is left unexplained
    assert one(db, "select count(*) filter (where adds_up), count(*) filter (where not adds_up and explanation is null) "
                   "from core.fiscal_year_reconciliation") == (one(db, "select count(*) - 1 from core.fiscal_year_reconciliation")[0], 0)


def test_a_restatement_explains_a_difference_only_up_to_its_own_size(db: duckdb.DuckDBPyConnection):
    """Alphabet's 2015 capex restatements (68M in all) explain the 23M by which its quarters miss the year,
    not a quarter 5 billion off: that is a failure of quarters_sum_to_fiscal_year."""
    copy = core_copy(db, {table: f"cik = '{ALPHABET}'" for table in ("base_metric_values", "metric_spans")})
    copy.execute("update core.base_metric_values set value = value + 5e9 where metric = 'capex' "
                 "and period_type = 'quarter' and fiscal_year = 2015 and fiscal_quarter = 1")
    copy.execute((PROJECT_DIR / "sql/core/fiscal_year_reconciliation.sql").read_text())
    failures = copy.execute((PROJECT_DIR / "sql/checks/quarters_sum_to_fiscal_year.sql").read_text()).fetchall()
    assert [(metric, year, difference) for _, metric, year, _, _, difference in failures] == [("capex", 2015, 4_977e6)]
