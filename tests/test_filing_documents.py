"""Filing documents through the pipeline: segments, company-specific free cash flow, cloud vs capex,
reconciliation with companyfacts, and bad documents. Figures are those printed in the filings."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from conftest import offline_resources, one
from pipelines.defs.resources import SecResource
from pipelines.lib.settings import SNAPSHOT_DIR
from pipelines.refresh import run_refresh

AMZN_2024 = "0001018724-25-000004"
SEGMENT = """
    select revenue, operating_income, revenue_derivation, revenue_accn from marts.segments
    where ticker = ? and segment_member = ? and period_type = ? and fiscal_year = ?
      and fiscal_quarter is not distinct from ?
"""


def test_every_snapshot_document_is_listed_and_parsed(db):
    rows = db.execute("select accn, form, filed, status from core.filings where status = 'parsed' "
                      "or not starts_with(status, 'NoOfflineData') order by accn").fetchall()
    assert len(rows) == 11 and {status for *_, status in rows} == {"parsed"}
    # the other filings are Microsoft's, named by its submissions feed, whose documents are not offline
    assert one(db, "select count(*), count(distinct cik) from core.filings where status <> 'parsed'") == (26, 1)
    assert ("0000320193-26-000013", "10-Q", None, "parsed") in rows  # its filing date is not in the offline data
    # the only warnings are Microsoft's filings without a document offline, one each
    assert one(db, "select count(*), count(*) filter (where starts_with(message, 'NoOfflineData')) "
                   "from core.filing_warnings") == (26, 26)
    assert one(db, "select count(distinct prefix) from core.filing_facts where cik = '0001018724'")[0] >= 3


def test_cloud_and_other_segments_from_the_documents(db):
    # Amazon 10-K 2024, segment information: AWS net sales $107,556M, operating income $39,834M
    # (as re-reported, unchanged, in the 2025 10-K: the latest filing is the source of record)
    assert one(db, SEGMENT, "AMZN", "amzn:AmazonWebServicesSegmentMember", "fiscal_year", 2024, None) == (
        107_556_000_000, 39_834_000_000, "reported", "0001018724-26-000004")
    # Alphabet 10-K 2024: Google Cloud revenues $43,229M
    assert one(db, SEGMENT, "GOOGL", "goog:GoogleCloudMember", "fiscal_year", 2024, None)[0] == 43_229_000_000
    # NVIDIA 10-K fiscal 2025: Data Center revenue $115,186M; 10-Q Q2 fiscal 2026: $41,096M for the quarter
    assert one(db, SEGMENT, "NVDA", "nvda:DataCenterMember", "fiscal_year", 2025, None)[0] == 115_186_000_000
    assert one(db, SEGMENT, "NVDA", "nvda:DataCenterMember", "quarter", 2026, 2)[:3] == (41_096_000_000, None, "reported")
    # Meta 10-K 2024: Reality Labs loss from operations $(17,729)M
    assert one(db, SEGMENT, "META", "meta:RealityLabsMember", "fiscal_year", 2024, None)[1] == -17_729_000_000
    assert one(db, "select segment_name from marts.segments where segment_member = 'amzn:AmazonWebServicesSegmentMember' limit 1") == (
        "Amazon Web Services",)


def test_amazon_free_cash_flow_and_its_two_lease_adjusted_variants(db):
    row = one(db, """select fcf_net_of_proceeds, fcf_less_principal_repayments, fcf_less_equipment_finance_leases,
                            ocf, capex, ppe_proceeds, finance_lease_principal, financing_obligation_principal,
                            finance_lease_additions
                     from marts.annual where ticker = 'AMZN' and fiscal_year = 2024""")
    # Amazon 10-K 2024, non-GAAP reconciliations: $38,219M, $35,507M and $36,211M
    assert row[:3] == (38_219_000_000, 35_507_000_000, 36_211_000_000)
    # ... from operating cash flow $115,877M, purchases of property and equipment $82,999M net of proceeds and
    # incentives $5,341M, principal repayments of finance leases $2,043M and of financing obligations $669M;
    # property and equipment acquired under finance leases $854M (supplemental cash flow information)
    assert row[3:] == (115_877_000_000, 82_999_000_000, 5_341_000_000, 2_043_000_000, 669_000_000, 854_000_000)
    provenance = db.execute("""
        select metric, tag, accn, derivation from core.metric_values
        where cik = '0001018724' and period_type = 'fiscal_year' and fiscal_year = 2024
          and metric in ('ppe_proceeds', 'fcf_less_equipment_finance_leases') order by metric""").fetchall()
    assert provenance == [
        ("fcf_less_equipment_finance_leases", "table row: Free cash flow less equipment finance leases and principal "
         "repayments of all other finance leases and financing obligations", AMZN_2024, "reported"),
        ("ppe_proceeds", "ProceedsFromPropertyPlantAndEquipmentSalesAndIncentives", "0001018724-26-000004", "reported"),
    ]


def test_companies_known_only_from_documents_get_annual_figures(db):
    # Amazon 10-K 2025: net sales $716,924M; Meta 10-K 2024: purchases of property and equipment $37,256M
    assert one(db, "select revenue from marts.annual where ticker = 'AMZN' and fiscal_year = 2025") == (716_924_000_000,)
    assert one(db, "select capex from marts.annual where ticker = 'META' and fiscal_year = 2024") == (37_256_000_000,)


def test_cloud_growth_against_capex_growth(db):
    row = one(db, """select cloud_segment, calendar_quarter, cloud_revenue, cloud_revenue_yoy, capex, capex_yoy
                     from marts.cloud_vs_capex where ticker = 'AMZN' and period_type = 'fiscal_year' and fiscal_year = 2025""")
    assert row[:3] == ("AWS", "2025Q4", 128_725_000_000)
    assert row[3] == pytest.approx(128_725 / 107_556 - 1)
    assert row[4:] == (131_819_000_000, pytest.approx(131_819 / 82_999 - 1))
    # NVIDIA sells into the build-out, it is no cloud provider: its Data Center is a segment, not a cloud
    assert one(db, "select count(*) from marts.cloud_vs_capex where ticker = 'NVDA'") == (0,)
    quarter = one(db, """select calendar_quarter, revenue, revenue_yoy from marts.segments
                         where ticker = 'NVDA' and period_type = 'quarter' and fiscal_year = 2026 and fiscal_quarter = 2
                           and segment_member = 'nvda:DataCenterMember'""")
    assert quarter == ("2025Q2", 41_096_000_000, pytest.approx(41_096 / 26_272 - 1))


def test_documents_agree_with_companyfacts(db):
    compared = one(db, """
        select count(*) from core.filing_facts d join core.facts f
          on f.cik = d.cik and f.accn = d.accn and f.taxonomy = d.prefix and f.tag = d.tag and f.unit = d.unit
         and f.period_end = d.period_end and f.period_start is not distinct from d.period_start
        where cardinality(d.dimensions) = 0""")[0]
    assert compared > 2000
    query = (SNAPSHOT_DIR.parent.parent / "sql/checks/companyfacts_vs_documents.sql").read_text()
    assert db.execute(query).fetchall() == []


def test_bad_documents_are_recorded_and_never_stop_the_rest(tmp_path):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(SNAPSHOT_DIR, snapshot)
    archives = snapshot / "www.sec.gov/Archives/edgar/data"
    ten_q = archives / "1045810/000104581025000209/nvda-20250727.htm"
    ten_q.write_bytes(ten_q.read_bytes()[:500_000])  # an interrupted download
    (archives / "320193/000032019324000123/aapl-20240928.htm").write_bytes(
        b"<html><body><h1>Request Rate Threshold Exceeded</h1></body></html>")
    _, warehouse_db = offline_resources(tmp_path / "wh")
    sec = SecResource(mode="offline", warehouse_dir=str(tmp_path / "wh"), snapshot_dir=str(snapshot), tickers=["NVDA", "AAPL"])
    report = run_refresh(sec, warehouse_db, dg.DagsterInstance.ephemeral())
    assert report.ok and report.companies["NVDA"] == "companyfacts loaded, 1 filing document"
    with duckdb.connect(str(warehouse_db.path()), read_only=True) as conn:
        statuses = dict(conn.execute("select accn, status from core.filings").fetchall())
        assert statuses["0001045810-25-000023"] == "parsed"
        assert statuses["0001045810-25-000209"].startswith("InvalidResponse: https://www.sec.gov/Archives/edgar/data/1045810/") and "ends without </html>" in statuses["0001045810-25-000209"]
        assert "no inline XBRL numeric facts" in statuses["0000320193-24-000123"]
        assert statuses["0000320193-26-000013"] == "parsed"
        assert conn.execute("select count(*) from core.filing_warnings where accn = '0000320193-24-000123'").fetchone() == (1,)
        # companyfacts still load, and NVIDIA's fiscal 2025 segments come from the intact 10-K
        assert conn.execute("select revenue from marts.segments where segment_member = 'nvda:DataCenterMember' "
                            "and period_type = 'fiscal_year' and fiscal_year = 2025").fetchone() == (115_186_000_000,)
