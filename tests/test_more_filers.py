"""Filers known offline from one document each: Microsoft from its FY2015 10-K as an XBRL instance,
Amazon's FY2022 10-K as the instance SEC extracts beside the inline filing, Oracle from one 10-Q
(its fiscal calendar from the document's own dei facts). Every figure is in the named filing."""

from __future__ import annotations

import datetime

import duckdb
import pytest

from conftest import one
from pipelines.lib import ixbrl, xbrl_instance
from pipelines.lib.settings import SNAPSHOT_DIR

ARCHIVES = SNAPSHOT_DIR / "www.sec.gov/Archives/edgar/data"
MSFT_2015 = ARCHIVES / "789019/000119312515272806/msft-20150630.xml"
AMZN_2022 = ARCHIVES / "1018724/000101872423000004/amzn-20221231_htm.xml"
AMZN_2024_INLINE = ARCHIVES / "1018724/000101872425000004/amzn-20241231.htm"
MSFT, ORCL = "0000789019", "0001341439"


def _facts(parsed: ixbrl.ParsedDocument, tag: str, start: str, end: str) -> list[float]:
    f = parsed.facts
    hit = f[(f.tag == tag) & (f.period_start == start) & (f.period_end == end) & (f.dimension_axes.map(len) == 0)]
    return list(hit.value)


def test_an_instance_document_reads_like_the_inline_one():
    parsed = xbrl_instance.parse(MSFT_2015.read_bytes(), "msft-20150630.xml")
    assert parsed.warnings == []
    assert parsed.dei["dei:DocumentFiscalYearFocus"] == "2015" and parsed.dei["dei:DocumentFiscalPeriodFocus"] == "FY"
    assert _facts(parsed, "PaymentsToAcquirePropertyPlantAndEquipment", "2014-07-01", "2015-06-30") == [5_944e6]
    assert _facts(parsed, "SalesRevenueNet", "2014-07-01", "2015-06-30") == [93_580e6]
    # the same facts in Amazon's FY2022 instance and, as comparatives, in its FY2024 inline 10-K
    instance = xbrl_instance.parse(AMZN_2022.read_bytes(), "amzn-20221231_htm.xml").facts
    inline = ixbrl.parse(AMZN_2024_INLINE.read_bytes(), "amzn-20241231.htm").facts
    key = ["concept", "unit", "period_start", "period_end"]
    both = instance[instance.dimension_axes.map(len) == 0].merge(
        inline[(inline.dimension_axes.map(len) == 0) & (inline.period_start == "2022-01-01")], on=key)
    assert len(both) > 100  # every statement line of 2022 that both documents show
    differ = set(both[both.value_x != both.value_y].concept)
    # one real change: the FY2024 10-K shows 2022's change in receivables reclassified (8,622 for 21,897)
    assert differ == {"us-gaap:IncreaseDecreaseInAccountsReceivableAndOtherOperatingAssets"}
    assert both.set_index("concept").loc["us-gaap:PaymentsToAcquireProductiveAssets", "value_x"] == 63_645e6


def test_an_instance_refuses_what_the_inline_reader_refuses():
    content = MSFT_2015.read_bytes()
    with pytest.raises(ixbrl.TruncatedDocument, match="msft.xml: XML ends before its closing tag"):
        xbrl_instance.parse(content[: len(content) // 2], "msft.xml")
    with pytest.raises(ixbrl.NoInlineXbrl, match="not an XBRL instance"):
        xbrl_instance.parse(b"<?xml version='1.0'?><html><body>Service Unavailable</body></html>", "msft.xml")
    with pytest.raises(ixbrl.NotTheExpectedDocument, match="EntityCentralIndexKey is 0000789019, expected 0001018724"):
        xbrl_instance.validate_document(content, "0001018724", "2015-06-30", "msft.xml")
    with pytest.raises(ixbrl.NotTheExpectedDocument, match="DocumentPeriodEndDate is 2015-06-30, expected 2016-06-30"):
        xbrl_instance.validate_document(content, MSFT, "2016-06-30", "msft.xml")
    # a malformed number and a context without a start date cost their own facts only, with a warning each
    broken = content.replace(b">5944000000<", b">5,944x<", 1).replace(
        b"<startDate>2012-07-01</startDate>", b"", 1)
    parsed = xbrl_instance.parse(broken, "msft.xml")
    assert any("PaymentsToAcquirePropertyPlantAndEquipment: cannot read '5,944x'" in w for w in parsed.warnings)
    assert any("is malformed: a duration without a start date" in w for w in parsed.warnings)
    assert _facts(parsed, "SalesRevenueNet", "2014-07-01", "2015-06-30") == [93_580e6]


def test_microsoft_has_real_annual_rows_from_its_instance(db: duckdb.DuckDBPyConnection):
    rows = db.execute("select fiscal_year, revenue, capex, ocf from marts.annual where ticker = 'MSFT' "
                      "order by fiscal_year").fetchall()
    assert rows == [(2013, 77_849e6, 4_257e6, 28_833e6), (2014, 86_833e6, 5_485e6, 32_231e6),
                    (2015, 93_580e6, 5_944e6, 29_080e6)]
    assert one(db, "select accn, form, filed, tag from core.metric_values where cik = ? and metric = 'capex' "
                   "and period_type = 'fiscal_year' and fiscal_year = 2015", MSFT) == (
        "0001193125-15-272806", "10-K", datetime.date(2015, 7, 31), "PaymentsToAcquirePropertyPlantAndEquipment")
    # the fiscal year ending in June lines up with the calendar quarter it closes in
    assert one(db, "select calendar_quarter from core.fiscal_years where cik = ? and fiscal_year = 2015", MSFT) == ("2015Q2",)


def test_microsoft_filings_without_an_offline_document_are_listed(db: duckdb.DuckDBPyConnection):
    # the submissions feed in the snapshot names 26 10-K/10-Q filings since 2019; none has a document offline
    total, parsed, newest = one(db, "select count(*), count(*) filter (where status = 'parsed'), "
                                    "arg_max(accn || ' ' || form || ' ' || status[:13], filed) from core.filings where cik = ?", MSFT)
    assert (total, parsed) == (27, 1)
    assert newest == "0001193125-26-027207 10-Q NoOfflineData"


def test_oracle_known_from_one_10q_gets_its_calendar_from_the_document(db: duckdb.DuckDBPyConnection):
    years = db.execute("select fiscal_year, period_start, period_end, in_progress from core.fiscal_years "
                       "where cik = ? order by fiscal_year", [ORCL]).fetchall()
    assert [(y, str(s), e and str(e), p) for y, s, e, p in years] == [
        (2024, "2023-06-01", "2024-05-31", False), (2025, "2024-06-01", None, True)]
    rows = db.execute("select fiscal_year, fiscal_quarter, calendar_quarter, revenue, capex, ocf "
                      "from marts.quarterly where ticker = 'ORCL' order by fiscal_year").fetchall()
    assert rows == [(2024, 1, "2023Q3", 12_453e6, 1_314e6, 6_974e6), (2025, 1, "2024Q3", 13_307e6, 2_303e6, 7_427e6)]
    assert one(db, "select derivation, accn, filed from core.metric_values where cik = ? and metric = 'capex' "
                   "and period_type = 'quarter' and fiscal_year = 2025", ORCL) == ("reported", "0000950170-24-104905", None)


def test_oracle_segments_are_two_dimensional_and_its_cloud_is_compared_with_capex(db: duckdb.DuckDBPyConnection):
    assert one(db, "select revenue, operating_income from marts.segments where ticker = 'ORCL' and fiscal_year = 2025 "
                   "and segment_name = 'Cloud and License Business'") == (11_389e6, 7_196e6)
    assert one(db, "select cloud_revenue, capex from marts.cloud_vs_capex where ticker = 'ORCL' and fiscal_year = 2025") == (
        5_623e6, 2_303e6)


@pytest.mark.parametrize("planted, warning", [
    (b">5944<b>0</b>00000<", "a numeric fact with child elements"),  # was read as 5944
    (b">1e400<", "cannot read '1e400' as a number"),  # was stored as inf
    (b">59440000000000000000000000000000000000000<", "implausible"),
])
def test_an_instance_number_is_read_whole_or_refused(planted, warning):
    content = MSFT_2015.read_bytes().replace(b">5944000000<", planted, 1)
    parsed = xbrl_instance.parse(content, "msft.xml")
    assert any(warning in w and "PaymentsToAcquirePropertyPlantAndEquipment" in w for w in parsed.warnings)
    assert _facts(parsed, "PaymentsToAcquirePropertyPlantAndEquipment", "2014-07-01", "2015-06-30") == []


def test_an_instance_with_a_doctype_is_refused_whole():
    """Entities are the only way to spread a number over markup (12&five; was read as 12)."""
    content = MSFT_2015.read_bytes().replace(b'standalone="yes"?>', b'standalone="yes"?><!DOCTYPE xbrl [<!ENTITY five "5">]>', 1)
    with pytest.raises(ixbrl.NoInlineXbrl, match="has a DOCTYPE"):
        xbrl_instance.parse(content, "msft.xml")


def test_hostile_attributes_cost_one_fact_and_a_nil_never_hides_a_figure():
    content = MSFT_2015.read_bytes()
    # decimals="-400" used to raise OverflowError (the company failed); an impossible date ConversionException
    hostile = content.replace(b'decimals="-6" id="id_6568047_2F147908-337E-4197-A624-CD7058360B39_1_31"',
                              b'decimals="-400" id="id_6568047_2F147908-337E-4197-A624-CD7058360B39_1_31"', 1)
    hostile = hostile.replace(b"<endDate>2013-06-30</endDate>", b"<endDate>2013-06-31</endDate>", 1)
    parsed = xbrl_instance.parse(hostile, "msft.xml")
    assert any("decimals '-400' is not INF or an integer" in w for w in parsed.warnings)
    assert any("date '2013-06-31' is not a YYYY-MM-DD date" in w for w in parsed.warnings)
    # a nil duplicate of a reported fact, before or after it, leaves the figure
    fact = b'<us-gaap:PaymentsToAcquirePropertyPlantAndEquipment contextRef="eol_PE8528----1510-K0009_STD_365_20150630_0" unitRef="iso4217_USD" decimals="-6" id="id_6568047_2F147908-337E-4197-A624-CD7058360B39_1_31">5944000000</us-gaap:PaymentsToAcquirePropertyPlantAndEquipment>'
    nil = fact.replace(b'decimals="-6" ', b'xsi:nil="true" ').replace(b">5944000000<", b"><")
    assert fact in content
    for doubled in (fact + nil, nil + fact):
        parsed = xbrl_instance.parse(content.replace(fact, doubled, 1), "msft.xml")
        assert _facts(parsed, "PaymentsToAcquirePropertyPlantAndEquipment", "2014-07-01", "2015-06-30") == [5_944e6]


def test_an_instance_s_concepts_are_named_by_namespace_and_a_broken_one_is_not_called_truncated():
    content = MSFT_2015.read_bytes()
    renamed = content.replace(b"xmlns:us-gaap=", b"xmlns:gaap=", 1).replace(b"<us-gaap:", b"<gaap:").replace(b"</us-gaap:", b"</gaap:")
    parsed = xbrl_instance.parse(renamed, "msft.xml")
    assert _facts(parsed, "PaymentsToAcquirePropertyPlantAndEquipment", "2014-07-01", "2015-06-30") == [5_944e6]
    assert set(parsed.facts.prefix) == set(xbrl_instance.parse(content, "msft.xml").facts.prefix)
    mismatched = content.replace(b"</us-gaap:Goodwill>", b"</us-gaap:Goodwil>", 1)
    with pytest.raises(ixbrl.NoInlineXbrl, match="not well-formed XML"):
        xbrl_instance.parse(mismatched, "msft.xml")
