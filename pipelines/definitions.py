"""The capexwatch code location: raw SEC data -> core facts and metric values -> marts, with checks."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.automation import build_warehouse, daily_refresh, new_filings, refresh_companies
from pipelines.defs.bulk_assets import bulk_companyfacts
from pipelines.defs.checks import asset_checks
from pipelines.defs.company_assets import company_facts, raw_companyfacts
from pipelines.defs.filing_assets import filing_facts, raw_filing_documents
from pipelines.defs.report_assets import html_report
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.defs.warehouse_assets import warehouse_assets


def build_definitions(sec: SecResource | None = None, warehouse_db: WarehouseResource | None = None) -> dg.Definitions:
    """Tests and the CLI pass resources pointed elsewhere; unset, both read the environment."""
    return dg.Definitions(
        assets=[raw_companyfacts, company_facts, raw_filing_documents, filing_facts, *warehouse_assets, html_report,
                bulk_companyfacts],
        asset_checks=asset_checks,
        jobs=[refresh_companies, build_warehouse],
        schedules=[daily_refresh],
        sensors=[new_filings],
        resources={"sec": sec or SecResource(), "warehouse_db": warehouse_db or WarehouseResource()},
        # DuckDB allows one writer per file: steps run one after another in the run's process
        executor=dg.in_process_executor,
    )


defs = build_definitions()
