"""Every asset and check through Dagster's materialize(), for one company, in a temporary warehouse."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from conftest import offline_resources
from pipelines.defs.company_assets import raw_companyfacts, staged_companyfacts
from pipelines.defs.filing_assets import raw_filing_documents, staged_filing_documents
from pipelines.defs.warehouse_assets import warehouse_build


def test_materialize_all_assets_for_nvidia_and_pass_the_checks(tmp_path):
    sec, warehouse_db = offline_resources(tmp_path)
    resources = {"sec": sec, "warehouse_db": warehouse_db}
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("company", ["NVDA"])
    company = dg.materialize([raw_companyfacts, staged_companyfacts, raw_filing_documents, staged_filing_documents],
                             partition_key="NVDA", instance=instance, resources=resources)
    assert company.success
    build = dg.materialize([warehouse_build], instance=instance,
                           resources=resources, raise_on_error=False)
    assert build.success
    results = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in build.get_asset_check_evaluations()}
    assert len(results) == 15
    assert {key for key, passed in results.items() if not passed} == {
        ("marts/quarterly", "staleness"), ("core/metric_spans", "unplaced_metric_facts")}

    quarterly = next(e.materialization for e in build.get_asset_materialization_events()
                     if e.asset_key == dg.AssetKey(["marts", "quarterly"]))
    assert quarterly.metadata["dagster/row_count"].value > 60
    # the newest row first in the preview, and the headline metric the UI plots across runs
    assert quarterly.metadata["preview"].value.splitlines()[2].startswith("| NVDA")
    assert "2026-04-26" in quarterly.metadata["preview"].value.splitlines()[2]
    assert quarterly.metadata["latest capex_intensity NVDA"].value == pytest.approx(1_757 / 81_615)
    # a view is neither counted nor previewed: that would run it over every fact of the market
    periodic = next(e.materialization for e in build.get_asset_materialization_events()
                    if e.asset_key == dg.AssetKey(["staging", "periodic_facts"]))
    assert {key: value.value for key, value in periodic.metadata.items()} == {
        "table": "staging.periodic_facts", "view": True}
    with duckdb.connect(str(warehouse_db.path()), read_only=True) as conn:
        # NVIDIA fiscal 2025 (ended 26 January 2025): revenue $130,497M, capex $3,236M
        row = conn.execute("select revenue, capex from marts.annual where ticker = 'NVDA' and fiscal_year = 2025").fetchone()
    assert row == (130_497_000_000, 3_236_000_000)
