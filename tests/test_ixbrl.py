"""The inline-XBRL parser: number formats, contexts and dimensions, duplicates, bad documents."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.lib import ixbrl
from pipelines.lib.settings import SNAPSHOT_DIR

ARCHIVES = SNAPSHOT_DIR / "www.sec.gov/Archives/edgar/data"


@pytest.mark.parametrize("text, fmt, scale, sign, expected", [
    ("1,234", "ixt:num-dot-decimal", "6", None, 1_234_000_000),
    ("1,234.5", "ixt:numdotdecimal", "3", None, 1_234_500),
    ("1.234,5", "ixt:num-comma-decimal", "0", None, 1_234.5),
    ("(17,729)", "ixt:num-dot-decimal", "6", "-", -17_729_000_000),  # the sign attribute, not the brackets
    ("—", "ixt:fixed-zero", "6", None, 0),
    ("-", "ixt:zerodash", None, None, 0),
    ("—", "ixt:num-dot-decimal", "6", None, 0),
    ("three", "ixt-sec:numwordsen", None, None, 3),
    ("twenty-one", "ixt-sec:numwordsen", None, None, 21),
    ("no", "ixt-sec:numwordsen", None, None, 0),
    ("0.25", None, "-2", None, 0.0025),
])
def test_number_formats_scale_and_sign(text, fmt, scale, sign, expected):
    assert ixbrl.parse_number(text, fmt, scale, sign) == pytest.approx(expected)


@pytest.mark.parametrize("text, fmt, message", [
    ("n/a", "ixt:num-dot-decimal", "cannot read 'n/a'"),
    ("many", "ixt-sec:numwordsen", "cannot read 'many'"),
    ("12", "ixt:date-monthname-day-en", "unsupported number format"),
])
def test_unreadable_numbers_name_the_text(text, fmt, message):
    with pytest.raises(ValueError, match=message):
        ixbrl.parse_number(text, fmt, None, None)


@pytest.mark.parametrize("text, fmt, scale, message", [
    ("37,2x56", "ixt:num-dot-decimal", "6", "cannot read '37,2x56'"),  # was read as 37,256
    ("37,256.5,1", "ixt:num-dot-decimal", "6", "cannot read '37,256.5,1'"),  # was read as 37,256.51
    ("1.2.3", "ixt:num-dot-decimal", None, "cannot read '1.2.3'"),
    ("12,34", "ixt:num-dot-decimal", None, "cannot read '12,34'"),  # not a group of three
    ("1,234", "ixt:num-dot-decimal", "", "scale '' is not an integer"),
    ("1,234", "ixt:num-dot-decimal", "999", "scale 999 is outside -12..12"),  # was published as infinity
    ("1,234", "ixt:num-dot-decimal", "-999", "scale -999 is outside -12..12"),
    ("1,234", "ixt:num-dot-decimal", "6x", "scale '6x' is not an integer"),
])
def test_numbers_and_scales_the_format_does_not_describe_are_refused(text, fmt, scale, message):
    with pytest.raises(ValueError, match=message):
        ixbrl.parse_number(text, fmt, scale, None)


def test_grouping_and_presentation_around_a_number_are_read():
    assert ixbrl.parse_number("$ 1 234 567", "ixt:num-dot-decimal", None, None) == 1_234_567
    assert ixbrl.parse_number("1234567.25", "ixt:num-dot-decimal", None, None) == 1_234_567.25
    assert ixbrl.parse_number(".5", "ixt:num-dot-decimal", None, None) == 0.5
    assert ixbrl.parse_number("1.234.567,5", "ixt:num-comma-decimal", None, None) == 1_234_567.5


def test_a_malformed_context_costs_only_its_facts():
    bad = DOCUMENT.replace('<xbrli:context id="i">', '<xbrli:context id="nostart"><xbrli:entity><xbrli:identifier '
                           'scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier></xbrli:entity><xbrli:period>'
                           '<xbrli:endDate>2024-12-31</xbrli:endDate></xbrli:period></xbrli:context>\n'
                           '<xbrli:context id="i">').replace(
        '<tr><td><ix:nonFraction name="us-gaap:Assets"',
        '<tr><td><ix:nonFraction name="us-gaap:Equity" contextRef="nostart" unitRef="usd" id="f-11">5</ix:nonFraction>'
        '</td></tr>\n<tr><td><ix:nonFraction name="us-gaap:Assets"')
    parsed = ixbrl.parse(bad.encode(), "test.htm")  # used to fail the whole document (AttributeError)
    assert "test.htm f-11 us-gaap:Equity: context 'nostart' is malformed: a duration without a start date" \
        in parsed.warnings
    assert {"h-1", "f-2", "f-3", "f-4"} <= set(parsed.facts.fact_id) and "f-11" not in set(parsed.facts.fact_id)


def test_an_implausible_usd_figure_is_skipped_with_a_warning():
    bad = DOCUMENT.replace('decimals="-6" scale="6" id="f-9">500<', 'decimals="-6" scale="12" id="f-9">5,000<')
    parsed = ixbrl.parse(bad.encode(), "test.htm")
    assert "test.htm f-9 us-gaap:OperatingIncomeLoss: 5e+15 USD is implausible (USD 1 quadrillion or more)" \
        in parsed.warnings
    assert "f-9" not in set(parsed.facts.fact_id)


DOCUMENT = """<html xmlns:ix="http://www.xbrl.org/2013/inlineXBRL"><body>
<ix:header><ix:hidden>
  <ix:nonNumeric name="dei:DocumentType" contextRef="d">10-K</ix:nonNumeric>
  <ix:nonFraction name="us-gaap:Revenues" contextRef="d" unitRef="usd" decimals="-6" scale="6" id="h-1">1,234</ix:nonFraction>
</ix:hidden><ix:resources>
  <xbrli:context id="d"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier></xbrli:entity>
    <xbrli:period><xbrli:startDate>2024-01-01</xbrli:startDate><xbrli:endDate>2024-12-31</xbrli:endDate></xbrli:period></xbrli:context>
  <xbrli:context id="seg"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier>
    <xbrli:segment><xbrldi:explicitMember dimension="us-gaap:StatementBusinessSegmentsAxis">test:CloudMember</xbrldi:explicitMember>
    <xbrldi:typedMember dimension="test:ContractAxis"><test:id>A-7</test:id></xbrldi:typedMember></xbrli:segment></xbrli:entity>
    <xbrli:period><xbrli:startDate>2024-01-01</xbrli:startDate><xbrli:endDate>2024-12-31</xbrli:endDate></xbrli:period></xbrli:context>
  <xbrli:context id="i"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">0000000001</xbrli:identifier></xbrli:entity>
    <xbrli:period><xbrli:instant>2024-12-31</xbrli:instant></xbrli:period></xbrli:context>
  <xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>
  <xbrli:unit id="eps"><xbrli:divide><xbrli:unitNumerator><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unitNumerator>
    <xbrli:unitDenominator><xbrli:measure>xbrli:shares</xbrli:measure></xbrli:unitDenominator></xbrli:divide></xbrli:unit>
</ix:resources></ix:header>
<table><tr><td><ix:nonFraction name="us-gaap:Revenues" contextRef="d" unitRef="usd" decimals="-6" scale="6" format="ixt:num-dot-decimal" id="f-1">1,234</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:Revenues" contextRef="seg" unitRef="usd" decimals="-6" scale="6" id="f-2">400</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="test:CloudBacklog" contextRef="i" unitRef="usd" decimals="-8" scale="9" id="f-3">1.2</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:EarningsPerShareDiluted" contextRef="d" unitRef="eps" decimals="2" id="f-4">6.57</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:Liabilities" contextRef="i" unitRef="usd" xsi:nil="true" id="f-5"></ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:Assets" contextRef="missing" unitRef="usd" id="f-6">1</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:Cash" contextRef="i" unitRef="usd" scale="6" id="f-7">n/a</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:Revenues" contextRef="d" unitRef="usd" decimals="-8" scale="9" id="f-8">1.2</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:OperatingIncomeLoss" contextRef="d" unitRef="usd" decimals="-6" scale="6" id="f-9">500</ix:nonFraction></td></tr>
<tr><td><ix:nonFraction name="us-gaap:OperatingIncomeLoss" contextRef="d" unitRef="usd" decimals="-8" scale="9" id="f-10">1.0</ix:nonFraction></td></tr>
</table></body></html>"""


def test_facts_resolve_contexts_units_and_dimensions():
    parsed = ixbrl.parse(DOCUMENT.encode(), "test.htm")
    facts = {row.fact_id: row for row in parsed.facts.itertuples()}
    assert parsed.dei == {"dei:DocumentType": "10-K"}
    consolidated = facts["h-1"]  # the hidden copy comes first; the table's f-1 is the same fact
    assert (consolidated.concept, consolidated.prefix, consolidated.tag, consolidated.value, consolidated.unit) == (
        "us-gaap:Revenues", "us-gaap", "Revenues", 1_234_000_000, "USD")
    assert (consolidated.period_start, consolidated.period_end, consolidated.dimension_axes) == ("2024-01-01", "2024-12-31", [])
    segment = facts["f-2"]
    assert dict(zip(segment.dimension_axes, segment.dimension_members)) == {
        "us-gaap:StatementBusinessSegmentsAxis": "test:CloudMember", "test:ContractAxis": "A-7"}
    backlog = facts["f-3"]
    assert (backlog.prefix, backlog.period_end, backlog.value) == ("test", "2024-12-31", 1.2e9)
    assert pd.isna(backlog.period_start)  # an instant
    assert facts["f-4"].unit == "USD/shares" and facts["f-4"].value == 6.57
    assert pd.isna(facts["f-5"].value)  # xsi:nil: reported as having no value


def test_unresolvable_facts_are_skipped_with_a_warning_naming_them():
    parsed = ixbrl.parse(DOCUMENT.encode(), "test.htm")
    assert "f-6" not in set(parsed.facts.fact_id) and "f-7" not in set(parsed.facts.fact_id)
    assert "test.htm f-6 us-gaap:Assets: context 'missing' does not resolve" in parsed.warnings
    assert "test.htm f-7 us-gaap:Cash: cannot read 'n/a' as a number (no format)" in parsed.warnings


def test_a_fact_shown_twice_keeps_the_precise_figure_and_flags_an_inconsistent_one():
    parsed = ixbrl.parse(DOCUMENT.encode(), "test.htm")
    facts = parsed.facts[parsed.facts.dimension_axes.map(len) == 0]
    # the text's "1.2 billion" rounds from the table's 1,234 million: one fact, no warning
    assert list(facts[facts.concept == "us-gaap:Revenues"].value) == [1_234_000_000]
    assert not [w for w in parsed.warnings if "Revenues" in w]
    # "1.0 billion" does not round from 500 million: the precise figure stays, the other is reported
    assert list(facts[facts.concept == "us-gaap:OperatingIncomeLoss"].value) == [500_000_000]
    assert "test.htm f-10 us-gaap:OperatingIncomeLoss: 1e+09 is inconsistent with f-9 5e+08" in parsed.warnings


def test_documents_without_inline_xbrl_or_cut_short_are_refused():
    with pytest.raises(ixbrl.NoInlineXbrl, match="page.htm: no inline XBRL"):
        ixbrl.parse(b"<html><body><p>Service Unavailable</p></body></html>", "page.htm")
    real = (ARCHIVES / "1045810/000104581025000209/nvda-20250727.htm").read_bytes()
    with pytest.raises(ixbrl.TruncatedDocument, match="nvda.htm: ends without </html>"):
        ixbrl.parse(real[: len(real) // 2], "nvda.htm")


def test_real_rounded_duplicates_resolve_to_the_table_figure():
    # Apple's 10-K shows unrecognized tax benefits as $19,454 million in a table and "$19.5 billion" in text
    parsed = ixbrl.parse((ARCHIVES / "320193/000032019324000123/aapl-20240928.htm").read_bytes())
    facts = parsed.facts
    row = facts[(facts.concept == "us-gaap:UnrecognizedTaxBenefits") & (facts.period_end == "2023-09-30")]
    assert list(row.value) == [19_454_000_000]
    assert parsed.warnings == []


@pytest.mark.parametrize("text, fmt, years", [
    ("P5Y6M", None, 5.5),             # ISO 8601, as hidden facts and instance documents give it
    ("P18M", None, 1.5),
    ("5.5", "ixt-sec:duryear", 5.5),  # Meta's servers from 2025
    ("18", "ixt-sec:durmonth", 1.5),
    ("six years", "ixt-sec:durwordsen", 6),  # Alphabet's servers and network equipment
    ("Five years", "ixt-sec:durwordsen", 5),
    ("one year and six months", "ixt-sec:durwordsen", 1.5),
    ("thirty years", "ixt-sec:durwordsen", 30),
])
def test_useful_lives_are_read_in_years_whatever_their_display(text, fmt, years):
    assert ixbrl.parse_duration_years(text, fmt) == pytest.approx(years)


@pytest.mark.parametrize("text, fmt, message", [
    ("P", None, "cannot read 'P' as an ISO 8601 duration"),
    ("5 years", None, "cannot read '5 years' as an ISO 8601 duration"),
    ("six", "ixt-sec:durwordsen", "cannot read 'six' as a duration"),  # the unit outside the tag
    ("many years", "ixt-sec:durwordsen", "cannot read 'many"),
    ("5", "ixt:num-dot-decimal", "unsupported duration format"),
    ("P0Y", None, "a duration of 0 years is no useful life"),  # would divide by zero in the outlook
    ("0", "ixt-sec:duryear", "a duration of 0 years is no useful life"),
])
def test_unreadable_durations_name_the_text(text, fmt, message):
    with pytest.raises(ValueError, match=message):
        ixbrl.parse_duration_years(text, fmt)


def test_useful_lives_of_a_real_filing_by_asset_class():
    """Alphabet's 10-K for 2024 states its lives in three displays (hidden ISO 8601, years as a number,
    years in words); each becomes a fact in years on its asset class and range member."""
    content = (ARCHIVES / "1652044/000165204425000014/goog-20241231.htm").read_bytes()
    facts = ixbrl.parse(content).facts
    lives = facts[facts.unit == "years"]
    by_class = {(dict(zip(r.dimension_axes, r.dimension_members)).get("us-gaap:PropertyPlantAndEquipmentByTypeAxis"),
                 dict(zip(r.dimension_axes, r.dimension_members)).get("srt:RangeAxis")): r.value
                for r in lives.itertuples()}
    assert by_class == {
        ("goog:ServersAndNetworkEquipmentMember", None): 6,
        ("goog:DataCenterAndOfficeBuildingsMember", "srt:MinimumMember"): 7,
        ("goog:DataCenterAndOfficeBuildingsMember", "srt:MaximumMember"): 40,
        ("goog:CorporateAndOtherAssetsMember", "srt:MinimumMember"): 2,
        ("goog:CorporateAndOtherAssetsMember", "srt:MaximumMember"): 25,
    }
    assert set(lives.tag) == {"PropertyPlantAndEquipmentUsefulLife"} and set(lives.period_end) == {"2024-12-31"}
