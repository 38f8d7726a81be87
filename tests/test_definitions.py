"""The Dagster code location: its asset graph (a snapshot, so changes show in review), jobs,
schedule and sensor."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from conftest import offline_resources
from pipelines.definitions import build_definitions, defs
from pipelines.defs.automation import company_universe, daily_refresh, new_filings, nightly_bulk_refresh
from pipelines.defs.partitions import company_partitions
from pipelines.defs.resources import SecResource
from pipelines.defs.warehouse_assets import SQL_TABLES

EXPECTED_GRAPH = {
    "raw/companyfacts": set(),
    "staging/companyfacts": {"raw/companyfacts"},
    "core/facts": {"staging/companyfacts", "bulk/companyfacts"},
    "raw/filing_documents": set(),
    "staging/filing_documents": {"raw/filing_documents"},
    "core/filings": {"staging/filing_documents"},
    "core/filing_facts": {"staging/filing_documents"},
    "core/reported_measures": {"staging/filing_documents"},
    "core/concept_map": set(),
    "staging/periodic_facts": {"core/facts", "core/filing_facts"},
    "core/conflicting_facts": {"staging/periodic_facts", "core/facts", "core/filing_facts"},
    "core/fiscal_years": {"staging/periodic_facts", "core/filings"},
    "core/fiscal_quarters": {"core/fiscal_years", "staging/periodic_facts", "core/concept_map"},
    "core/span_facts": {"core/concept_map", "core/fiscal_years", "core/fiscal_quarters", "staging/periodic_facts"},
    "core/metric_spans": {"core/span_facts"},
    "core/discrete_values": {"core/metric_spans"},
    "core/base_metric_values": {"core/discrete_values", "core/metric_spans", "core/fiscal_years",
                                "core/fiscal_quarters", "core/concept_map"},
    "core/fiscal_year_reconciliation": {"core/base_metric_values", "core/metric_spans"},
    "core/metric_values": {"core/base_metric_values", "core/reported_measures", "core/filings", "core/fiscal_years"},
    "core/metrics_wide": {"core/metric_values", "core/facts"},
    "core/unplaced_metric_facts": {"core/concept_map", "staging/periodic_facts", "core/span_facts", "core/facts",
                                   "core/filing_facts"},
    "marts/quarterly": {"core/metrics_wide"},
    "marts/annual": {"core/metrics_wide"},
    "marts/ttm": {"core/metrics_wide"},
    "marts/calendar_totals": {"marts/quarterly", "core/company_reference"},
    "core/cloud_segments": set(),
    "marts/segments": {"core/discrete_values", "core/fiscal_quarters", "core/fiscal_years"},
    "marts/cloud_vs_capex": {"marts/segments", "core/cloud_segments", "marts/quarterly", "marts/annual"},
    "core/company_reference": set(),
    "views/capex_intensity": {"marts/quarterly", "marts/ttm"},
    "views/cash_conversion": {"marts/ttm"},
    "views/hyperscaler_totals": {"marts/calendar_totals"},
    "views/followed_companies": {"core/facts", "core/filings"},
    "marts/depreciation_outlook": {"marts/quarterly", "marts/ttm", "core/useful_lives", "views/followed_companies"},
    "marts/depreciation_backtest": {"marts/depreciation_outlook", "marts/quarterly", "core/useful_lives"},
    "reports/html_report": {"marts/ttm", "marts/annual", "core/metric_values", "views/followed_companies",
                            "marts/depreciation_outlook"},
    "bulk/companyfacts": set(),
    "bulk/submissions": set(),
    "core/filer_profiles": {"staging/filing_documents", "bulk/submissions"},
    "core/reporting_basis": {"core/facts"},
    "core/ppe_balances": {"core/facts", "core/filing_facts"},
    "core/useful_lives": {"core/filing_facts", "core/filings"},
    "core/useful_life_changes": {"core/useful_lives", "core/filings"},
    "marts/universe_latest": {"marts/annual", "marts/ttm", "marts/quarterly", "core/reporting_basis",
                              "core/filer_profiles", "core/company_reference"},
    "marts/universe_history": {"marts/ttm", "marts/universe_latest"},
}


def test_asset_graph_snapshot():
    graph = defs.resolve_asset_graph()
    actual = {
        key.to_user_string(): {parent.to_user_string() for parent in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert actual == EXPECTED_GRAPH


def test_sql_tables_are_listed_in_a_build_order():
    """Scripts (the benchmark) build the warehouse by walking SQL_TABLES in order."""
    built: set[str] = set()
    for name, reads in SQL_TABLES.items():
        assert set(reads) & set(SQL_TABLES) <= built, name
        built.add(name)


def test_definitions_validate_and_name_their_jobs_and_checks():
    dg.Definitions.validate_loadable(defs)
    assert {job.name for job in defs.jobs} >= {"refresh_companies", "build_warehouse"}
    checks = {str(key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert checks == {
        "quarters_sum_to_fiscal_year", "unique_keys", "capex_non_negative", "value_or_reason", "staleness",
        "companyfacts_agree_with_documents", "reported_measures_agree", "conflicting_duplicates",
        "unplaced_metric_facts", "implausible_restatements", "implausible_jumps",
    }


def test_universe_sensor_registers_the_partitions_and_runs_nothing(tmp_path):
    sec, _ = offline_resources(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    assert company_universe.default_status == dg.DefaultSensorStatus.RUNNING  # a fresh Dagster shows partitions
    result = company_universe(dg.build_sensor_context(instance=instance, resources={"sec": sec}))
    assert result.run_requests is None or result.run_requests == []
    [request] = result.dynamic_partitions_requests
    assert list(request.partition_keys) == ["MSFT", "AMZN", "GOOGL", "META", "ORCL", "NVDA", "AAPL"]


def test_offline_new_filings_requests_each_company_with_filings_once(tmp_path):
    """Offline, the snapshot's filings index is the feed: the first tick sees every company's newest
    filing as new, later ticks see nothing new."""
    sec, _ = offline_resources(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    first = new_filings(dg.build_sensor_context(instance=instance, resources={"sec": sec}))
    # every company has a filing offline (Microsoft's newest from its submissions feed)
    assert sorted(r.partition_key for r in first.run_requests) == ["AAPL", "AMZN", "GOOGL", "META", "MSFT", "NVDA", "ORCL"]
    assert {r.run_key for r in first.run_requests} >= {"MSFT:0001193125-26-027207", "ORCL:0000950170-24-104905"}
    assert {r.run_key for r in first.run_requests} >= {"GOOGL:0001652044-25-000014"}
    second = new_filings(dg.build_sensor_context(instance=instance, resources={"sec": sec}, cursor=first.cursor))
    assert second.run_requests == []


def test_daily_schedule_requests_one_run_per_company(tmp_path):
    # a plain local instance: dagster's instance_for_test() leaves a process-wide reference behind
    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime(2026, 5, 1, 6))
    assert isinstance(daily_refresh(context), dg.SkipReason)
    instance.add_dynamic_partitions(company_partitions.name, ["GOOGL", "NVDA"])
    requests = daily_refresh(context)
    assert [(r.partition_key, r.run_key) for r in requests] == [("GOOGL", "GOOGL:2026-05-01"), ("NVDA", "NVDA:2026-05-01")]


def test_nightly_bulk_schedule_fetches_the_market_live_and_says_why_not_offline(tmp_path, monkeypatch):
    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    when = dt.datetime(2026, 5, 1, 4, 30)
    offline, _ = offline_resources(tmp_path)
    skipped = nightly_bulk_refresh(dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                                            resources={"sec": offline}))
    assert isinstance(skipped, dg.SkipReason) and "config 'archive'" in skipped.skip_message
    monkeypatch.setenv("SEC_USER_AGENT", "capexwatch tests tests@example.com")
    live = SecResource(mode="live", warehouse_dir=str(tmp_path))
    request = nightly_bulk_refresh(dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                                            resources={"sec": live}))
    assert request.run_key == "bulk:2026-05-01"
    schedule = next(s for s in build_definitions().schedules if s.name == "nightly_bulk_refresh")
    assert (schedule.job_name, schedule.cron_schedule) == ("bulk_refresh", "30 4 * * *")


def test_build_definitions_binds_given_resources(tmp_path):
    sec, warehouse_db = offline_resources(tmp_path)
    built = build_definitions(sec, warehouse_db)
    assert built.resources["warehouse_db"].path() == tmp_path / "capexwatch.duckdb"
