"""The capexwatch code location: raw SEC data -> core facts and metric values -> marts, with checks."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.automation import (build_warehouse, bulk_refresh, company_universe, daily_refresh, new_filings,
                                       nightly_bulk_refresh, partition_executor, refresh_companies_job,
                                       warehouse_automation)
from pipelines.defs.bulk_assets import bulk_companyfacts, bulk_submissions
from pipelines.defs.company_assets import raw_companyfacts, staged_companyfacts
from pipelines.defs.filing_assets import raw_filing_documents, staged_filing_documents
from pipelines.defs.report_assets import html_report
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.defs.warehouse_assets import warehouse_assets


def build_definitions(
    sec: SecResource | None = None,
    warehouse_db: WarehouseResource | None = None,
    company_executor: dg.ExecutorDefinition = partition_executor,
) -> dg.Definitions:
    """Tests and the CLI pass resources pointed elsewhere (unset, both read the environment); a
    deployment passes the executor its per-company runs use (pipelines/deployments.py)."""
    return dg.Definitions(
        assets=[raw_companyfacts, staged_companyfacts, raw_filing_documents, staged_filing_documents,
                *warehouse_assets, html_report, bulk_companyfacts, bulk_submissions],
        jobs=[refresh_companies_job(company_executor), build_warehouse, bulk_refresh],
        schedules=[daily_refresh, nightly_bulk_refresh],
        sensors=[company_universe, new_filings, warehouse_automation],
        resources={"sec": sec or SecResource(), "warehouse_db": warehouse_db or WarehouseResource()},
        # DuckDB allows one writer per file: outside the partition job, steps run one after another
        executor=dg.in_process_executor,
    )


defs = build_definitions()
