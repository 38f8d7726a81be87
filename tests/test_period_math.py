"""Discrete quarters, fiscal calendars and provenance, asserted against figures in the filings."""

from __future__ import annotations

import datetime as dt

import reliability_log
from conftest import one

GOOGL, NVDA, AAPL = "0001652044", "0001045810", "0000320193"

VALUE = """
    select value, derivation, tag, accn, form
    from core.metric_values
    where cik = ? and metric = ? and period_type = ? and fiscal_year = ?
      and fiscal_quarter is not distinct from ?
"""


def test_alphabet_fiscal_2025_capex_and_revenue(db):
    # Alphabet 10-K for 2025: purchases of property and equipment $91,447M; revenues $402,836M
    assert one(db, VALUE, GOOGL, "capex", "fiscal_year", 2025, None)[:2] == (91_447_000_000, "reported")
    assert one(db, VALUE, GOOGL, "revenue", "fiscal_year", 2025, None)[:2] == (402_836_000_000, "reported")


def test_cash_flow_quarters_come_from_year_to_date_differences(db):
    # 10-Q six months 2025: $39,643M minus first quarter $17,197M
    assert one(db, VALUE, GOOGL, "capex", "quarter", 2025, 2)[:2] == (22_446_000_000, "ytd_difference")
    # fourth quarter: fiscal year $91,447M (10-K) minus nine months $63,596M (Q3 10-Q)
    value, derivation, tag, accn, form = one(db, VALUE, GOOGL, "capex", "quarter", 2025, 4)
    assert (value, derivation, accn, form) == (27_851_000_000, "fy_minus_9m", "0001652044-26-000018", "10-K")
    assert tag == "PaymentsToAcquirePropertyPlantAndEquipment"


def test_alphabet_quarters_run_through_march_2026(db):
    row = one(db, """
        select fiscal_year, fiscal_quarter, period_start, period_end, calendar_quarter, capex, revenue, fcf
        from marts.quarterly where ticker = 'GOOGL' order by period_end desc limit 1""")
    assert row[:5] == (2026, 1, dt.date(2026, 1, 1), dt.date(2026, 3, 31), "2026Q1")
    # 10-Q for Q1 2026: capex $35,674M, revenues $109,896M, operating cash flow $45,790M
    assert row[5:] == (35_674_000_000, 109_896_000_000, 45_790_000_000 - 35_674_000_000)


def test_nvidia_53_week_year_and_its_98_day_fourth_quarter(db):
    start, end, days = one(db, "select period_start, period_end, duration_days from core.fiscal_years "
                               "where cik = ? and fiscal_year = 2021", NVDA)
    assert (start, end, days) == (dt.date(2020, 1, 27), dt.date(2021, 1, 31), 371)
    quarter = one(db, "select period_start, period_end, duration_days, calendar_quarter from core.fiscal_quarters "
                      "where cik = ? and fiscal_year = 2021 and fiscal_quarter = 4", NVDA)
    assert quarter == (dt.date(2020, 10, 26), dt.date(2021, 1, 31), 98, "2020Q4")
    # NVIDIA's fourth quarter of fiscal 2021: revenue $5,003M, net income $1,457M
    assert one(db, VALUE, NVDA, "revenue", "quarter", 2021, 4)[:2] == (5_003_000_000, "fy_minus_9m")
    assert one(db, VALUE, NVDA, "net_income", "quarter", 2021, 4)[0] == 1_457_000_000


def test_fiscal_year_labels_follow_the_company(db):
    # NVIDIA calls the year ended 25 January 2026 fiscal 2026; Apple the year ended 27 September 2025 fiscal 2025
    assert one(db, "select period_end from core.fiscal_years where cik = ? and fiscal_year = 2026", NVDA) == (dt.date(2026, 1, 25),)
    assert one(db, "select period_end from core.fiscal_years where cik = ? and fiscal_year = 2025", AAPL) == (dt.date(2025, 9, 27),)


def test_apple_first_quarter_of_fiscal_2026(db):
    row = one(db, "select period_start, period_end, calendar_quarter, revenue, capex, net_income "
                  "from marts.quarterly where ticker = 'AAPL' and fiscal_year = 2026 and fiscal_quarter = 1")
    # Apple 10-Q for the quarter ended 27 December 2025: net sales $143,756M, capex $2,373M, net income $42,097M
    assert row == (dt.date(2025, 9, 28), dt.date(2025, 12, 27), "2025Q4", 143_756_000_000, 2_373_000_000, 42_097_000_000)


def test_restated_comparative_keeps_its_first_reported_value(db):
    row = one(db, """
        select value, first_value, accn, first_accn, restated from core.metric_values
        where cik = ? and metric = 'capex' and period_type = 'quarter' and fiscal_year = 2016 and fiscal_quarter = 1""", GOOGL)
    # first reported $2,428M in the Q1 2016 10-Q; $2,444M as re-reported a year later
    assert row == (2_444_000_000, 2_428_000_000, "0001652044-17-000014", "0001652044-16-000021", True)


def test_proxy_statement_duplicate_of_net_income_is_excluded(db):
    # the DEF 14A filed 2026-04-24 repeats 2021 net income; the 10-K is the source, not the proxy
    assert one(db, "select count(*) from core.facts where cik = ? and form = 'DEF 14A' and tag = 'NetIncomeLoss'", GOOGL)[0] > 0
    assert one(db, "select count(*) from staging.periodic_facts where form not in ('10-K', '10-K/A', '10-Q', '10-Q/A')") == (0,)
    value, _, _, accn, form = one(db, VALUE, GOOGL, "net_income", "fiscal_year", 2021, None)
    assert (value, form) == (76_033_000_000, "10-K")
    assert accn != "0001308179-26-000342"


def test_capex_concept_switch_is_recorded_per_year(db):
    # NVIDIA tagged purchases of property and equipment with one concept until mid-2020, then another
    assert one(db, VALUE, NVDA, "capex", "quarter", 2020, 1)[2] == "PaymentsToAcquirePropertyPlantAndEquipment"
    assert one(db, VALUE, NVDA, "capex", "quarter", 2022, 1)[2] == "PaymentsToAcquireProductiveAssets"
    assert one(db, VALUE, NVDA, "capex", "fiscal_year", 2022, None)[:3] == (976_000_000, "reported", "PaymentsToAcquireProductiveAssets")


def test_missing_values_carry_a_reason(db):
    # NVIDIA's companyfacts has no capex for fiscal 2021 as a whole, so neither Q4 nor that TTM exists
    reason = one(db, "select null_reason from core.metric_values where cik = ? and metric = 'capex' "
                     "and period_type = 'quarter' and fiscal_year = 2021 and fiscal_quarter = 4", NVDA)[0]
    assert reason.startswith("Q4 not derivable")
    ttm_reason = one(db, "select null_reason from core.metric_values where cik = ? and metric = 'capex' "
                         "and period_type = 'ttm' and fiscal_year = 2021 and fiscal_quarter = 4", NVDA)[0]
    assert ttm_reason == "TTM needs four consecutive discrete quarters; 3 of 4 available"
    reliability_log.record("bad data", "fiscal year with a missing quarter", "null with the reason recorded")


def test_filing_url_points_at_the_edgar_index(db):
    url = one(db, "select filing_url from core.metric_values where cik = ? and metric = 'capex' "
                  "and period_type = 'fiscal_year' and fiscal_year = 2025", GOOGL)[0]
    assert url == "https://www.sec.gov/Archives/edgar/data/1652044/000165204426000018/0001652044-26-000018-index.htm"
