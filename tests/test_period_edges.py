"""The period math at its edges, on the real snapshot: a line item whose concept changed between
filings, periods derivable only from comparatives, differences that mix a restated and an original
basis, and rounding that is not a restatement. Each number here is in the named filing."""

from __future__ import annotations

import duckdb

from conftest import one

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
