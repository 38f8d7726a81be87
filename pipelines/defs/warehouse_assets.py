"""The warehouse build: the loaders and one asset per .sql file under sql/, built together on a private
copy, checked, and published in one rename (pipelines/lib/publish.py)."""

from typing import Callable, Iterator

import dagster as dg
import duckdb
import pandas as pd

from pipelines.defs.checks import CHECKS, evaluate, kept_by_company, result
from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import (catalog, company_batches, concepts, fact_partitions, filer_profiles, filing_partitions,
                           outlook, publish, query, warehouse)
from pipelines.lib.settings import CLOUD_SEGMENTS_FILE, COMPANIES_FILE

# sql file (= table) -> the tables it reads. Order is a build order (each after what it reads), so a
# script can build the warehouse without Dagster.
SQL_TABLES: dict[str, list[str]] = {
    "core/concept_map": [],
    "staging/periodic_facts": ["core/facts", "core/filing_facts"],
    "core/conflicting_facts": ["staging/periodic_facts", "core/facts", "core/filing_facts"],
    "core/fiscal_years": ["staging/periodic_facts", "core/filings"],
    "core/fiscal_quarters": ["core/fiscal_years", "staging/periodic_facts", "core/concept_map"],
    "core/span_facts": ["core/concept_map", "core/fiscal_years", "core/fiscal_quarters", "staging/periodic_facts"],
    "core/metric_spans": ["core/span_facts"],
    "core/discrete_values": ["core/metric_spans"],
    "core/base_metric_values": ["core/discrete_values", "core/metric_spans", "core/fiscal_years", "core/fiscal_quarters",
                                "core/concept_map"],
    "core/fiscal_year_reconciliation": ["core/base_metric_values", "core/metric_spans"],
    "core/metric_values": ["core/base_metric_values", "core/reported_measures", "core/filings", "core/fiscal_years"],
    "core/metrics_wide": ["core/metric_values", "core/facts"],
    "core/unplaced_metric_facts": ["core/concept_map", "staging/periodic_facts", "core/span_facts", "core/facts",
                                   "core/filing_facts"],
    "marts/quarterly": ["core/metrics_wide"],
    "marts/annual": ["core/metrics_wide"],
    "marts/ttm": ["core/metrics_wide"],
    "core/company_reference": [],
    "marts/calendar_totals": ["marts/quarterly", "core/company_reference"],
    "core/cloud_segments": [],
    "marts/segments": ["core/discrete_values", "core/fiscal_quarters", "core/fiscal_years"],
    "marts/cloud_vs_capex": ["marts/segments", "core/cloud_segments", "marts/quarterly", "marts/annual"],
    "core/reporting_basis": ["core/facts"],
    "core/ppe_balances": ["core/facts", "core/filing_facts"],
    "core/useful_lives": ["core/filing_facts", "core/filings"],
    "core/useful_life_changes": ["core/useful_lives", "core/filings"],
    "marts/universe_latest": ["marts/annual", "marts/ttm", "marts/quarterly", "core/reporting_basis",
                              "core/filer_profiles", "core/company_reference"],
    "marts/universe_history": ["marts/ttm", "marts/universe_latest"],
    "views/capex_intensity": ["marts/quarterly", "marts/ttm"],
    "views/cash_conversion": ["marts/ttm"],
    "views/hyperscaler_totals": ["marts/calendar_totals"],
    "views/followed_companies": ["core/facts", "core/filings"],
    "marts/depreciation_outlook": ["marts/quarterly", "marts/ttm", "core/useful_lives", "views/followed_companies"],
    "marts/depreciation_backtest": ["marts/depreciation_outlook", "marts/quarterly", "core/useful_lives"],
}


def _register_concepts(conn: duckdb.DuckDBPyConnection) -> None:
    conn.register("concept_rows", concepts.load_concept_map())


def _register_companies(conn: duckdb.DuckDBPyConnection) -> None:
    conn.register("company_rows", pd.read_csv(COMPANIES_FILE, dtype=str))


def _register_cloud_segments(conn: duckdb.DuckDBPyConnection) -> None:
    conn.register("cloud_segment_rows", pd.read_csv(CLOUD_SEGMENTS_FILE, dtype=str))


HEADLINE_METRICS = ("capex_intensity", "fcf_margin")

# Inputs that come from files rather than tables, registered before the statement runs.
PREPARE: dict[str, Callable[[duckdb.DuckDBPyConnection], None]] = {
    "core/concept_map": _register_concepts,
    "core/cloud_segments": _register_cloud_segments,
    "core/company_reference": _register_companies,
    "marts/depreciation_outlook": lambda conn: conn.register("depreciation_outlook_rows", outlook.outlook(conn)),
    "marts/depreciation_backtest": lambda conn: conn.register("depreciation_backtest_points", outlook.backtest_points(conn)),
}


def build_tables(conn: duckdb.DuckDBPyConnection, changed: set[str] | None = None,
                 log: Callable[[str], None] = lambda message: None,
                 seconds: dict[str, float] | None = None) -> tuple[str, int, set[str] | None]:
    """Every SQL table in build order, the per-company ones batch by batch of companies: only the rows
    of the changed companies when the published tables were built from the same SQL and concept map,
    else all. Returns the digest of those inputs (for main.build_info), how many companies were built,
    and which (None: every one); seconds gets the time of the per-company tables."""
    digest, rebuilt, only = "", 0, None
    for name in SQL_TABLES:
        if name == company_batches.CHAIN[0]:
            digest = company_batches.inputs_digest(conn, also=kept_by_company())
            only = company_batches.to_rebuild(conn, changed if company_batches.built_from(conn) == digest else None)
            with publish.stopwatch({} if seconds is None else seconds, "seconds_company_tables"):
                rebuilt = company_batches.build(conn, only, log=log)
        elif name not in company_batches.CHAIN:
            if name in PREPARE:
                PREPARE[name](conn)
            warehouse.run_sql(conn, name)
    return digest, rebuilt, only


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, object]:
    """Row count, the newest rows as a preview, and each followed company's latest headline metrics,
    which the Dagster UI plots across materializations. A view gets neither count nor preview: both would
    run it (staging.periodic_facts over every fact: half of this step's time for the whole market)."""
    if _is_view(conn, table):
        return {"table": table, "view": True}
    columns = [row[0] for row in conn.execute(f"describe {table}").fetchall()]
    order = " order by period_end desc nulls last" if "period_end" in columns else ""
    metadata: dict[str, object] = {
        "dagster/row_count": conn.execute(f"select count(*) from {table}").fetchone()[0],
        "table": table,
        "preview": dg.MetadataValue.md(conn.execute(f"select * from {table}{order} limit 5").df().to_markdown(index=False)),
    }
    for metric in [m for m in HEADLINE_METRICS if {"cik", "ticker", "period_end", m} <= set(columns)]:
        latest = conn.execute(  # the followed companies only: a bulk archive's thousands of filers are for SQL
            f"select ticker, arg_max({metric}, period_end) from {table} where {metric} is not null "
            "and cik in (select cik from main.followed_companies) group by ticker").fetchall()
        metadata.update({f"latest {metric} {ticker}": float(value) for ticker, value in latest if ticker})
    return metadata


def _is_view(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(conn.execute("select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
                             [schema, name]).fetchone()[0])


def table_spec(name: str, deps: list[str]) -> dg.AssetSpec:
    """sql/<layer>/<table>.sql as the asset <layer>/<table>; views/ build views in the main schema,
    so that any DuckDB client finds them without a schema name."""
    layer, table = name.split("/")
    return dg.AssetSpec([layer, table], deps=[dg.AssetKey(dep.split("/")) for dep in deps],
                        group_name={"staging": "core", "views": "marts"}.get(layer, layer),
                        description=catalog.header_comment(name), kinds={"duckdb", "sql"})


# Only the loaders read from outside the build (the companies' partitions); when those change, the
# whole build runs (it cannot be split). A company that failed does not hold the others back. An
# update is forgotten only once a build was requested with no newer update in the same tick: Dagster's
# since_last_handled would also forget one that lands in the tick a build finished, and never build it.
_AUTOMATION = dg.AutomationCondition
LOADER_AUTOMATION = (
    _AUTOMATION.any_deps_updated().since(
        (_AUTOMATION.newly_requested() & ~_AUTOMATION.any_deps_updated()) | _AUTOMATION.initial_evaluation())
    & ~_AUTOMATION.any_deps_in_progress()
    & ~_AUTOMATION.in_progress()
)

LOADER_SPECS = [
    dg.AssetSpec(["core", "facts"], deps=[dg.AssetKey(["staging", "companyfacts"]), dg.AssetKey(["bulk", "companyfacts"])],
                 group_name="core", kinds={"duckdb"}, automation_condition=LOADER_AUTOMATION,
                 description="Every fact of every taxonomy of every company (one row per fact per filing), loaded "
                             "from the companies' Parquet partitions; only companies whose partition changed are "
                             "replaced. core.companies records each company's outcome, including 'no offline data', "
                             "and core.rejected_facts the facts that could not be used."),
    dg.AssetSpec(["core", "filings"], deps=[dg.AssetKey(["staging", "filing_documents"])], group_name="core",
                 kinds={"duckdb"}, automation_condition=LOADER_AUTOMATION,
                 description="Each company's 10-K/10-Q filings: accession, form, report and filing dates, document "
                             "URL, parse status."),
    dg.AssetSpec(["core", "filing_facts"], deps=[dg.AssetKey(["staging", "filing_documents"])], group_name="core",
                 kinds={"duckdb"}, automation_condition=LOADER_AUTOMATION,
                 description="Every numeric inline-XBRL fact of the filing documents: concept with its prefix (company "
                             "extensions included), value in USD or its unit, period, dimensions (axis -> member), "
                             "decimals."),
    dg.AssetSpec(["core", "filer_profiles"], deps=[dg.AssetKey(["staging", "filing_documents"]),
                                                 dg.AssetKey(["bulk", "submissions"])],
                 group_name="core", kinds={"duckdb"}, automation_condition=LOADER_AUTOMATION,
                 description="Who each filer is (name, industry by SIC code, tickers, fiscal year end) from SEC's "
                             "submissions feed: a followed company's own, else the nightly submissions archive."),
    dg.AssetSpec(["core", "reported_measures"], deps=[dg.AssetKey(["staging", "filing_documents"])],
                 group_name="core", kinds={"duckdb"}, automation_condition=LOADER_AUTOMATION,
                 description="Rows of companies' own untagged tables listed in reference/reported_measures.csv "
                             "(Amazon's free-cash-flow reconciliations), per year column, in USD."),
]


@dg.multi_asset(
    name="warehouse_build",
    specs=LOADER_SPECS + [table_spec(name, deps) for name, deps in SQL_TABLES.items()],
    check_specs=[check.spec() for check in CHECKS],
    can_subset=False,
    pool="warehouse_build",  # with the instance's pool limit of 1, builds queue in Dagster too (the lock holds anyway)
)
def warehouse_build(context: dg.AssetExecutionContext, sec: SecResource,
                    warehouse_db: WarehouseResource) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The one way the warehouse changes: load the changed partitions and rebuild every table on a
    private copy, run the checks there, and publish the copy with one rename only if no
    ERROR-severity check failed. Readers keep the state they opened; a kill leaves the last one."""
    seconds: dict[str, float] = {}  # per stage, for the operator and benchmarks/bulk_ingest.py
    with warehouse_db.build() as build:
        conn = build.conn
        facts_store, filings_store = (sec.settings().partition_store(name) for name in ("facts_parquet", "filings_parquet"))
        with publish.stopwatch(seconds, "seconds_load"):
            loaded, removed = fact_partitions.load_changed(conn, facts_store)
            counts = filing_partitions.load(conn, filings_store, removed)
            filer_profiles.load(conn, filings_store, removed)
        with publish.stopwatch(seconds, "seconds_tables"):
            build.record.company_inputs, rebuilt, only = build_tables(conn, set(loaded) | set(removed),
                                                                      log=context.log.info, seconds=seconds)
        with publish.stopwatch(seconds, "seconds_metadata"):
            metadata = {("core", "facts"): {**table_metadata(conn, "core.facts"), "companies_loaded": len(loaded)}}
            metadata.update({("core", table): table_metadata(conn, f"core.{table}")
                             for table in ("filings", "filing_facts", "reported_measures", "filer_profiles")})
            metadata.update({tuple(name.split("/")): table_metadata(conn, warehouse.relation_name(name))
                             for name in SQL_TABLES})
        with publish.stopwatch(seconds, "seconds_checks"):
            outcomes = [(check, evaluate(conn, check, only)) for check in CHECKS]
        catalog.annotate(conn, list(SQL_TABLES))  # descriptions any DuckDB client can read (main.check_failures too)
        metadata[("core", "metrics_wide")].update(companies_rebuilt=rebuilt, **seconds)
        build.record.checks = [outcome for _, outcome in outcomes]
        blocking = [outcome for outcome in build.record.checks if outcome.blocking]
        if blocking:
            yield from (result(check, outcome) for check, outcome in outcomes)
            raise publish.ChecksFailed(
                "not published: " + "; ".join(f"{o.check} failed on {query.counted(o.failures, 'row')}" for o in blocking)
                + f"; {warehouse_db.path()} keeps its last published state")
        context.log.info(f"build {build.record.build_id}: {counts['filing_facts']} filing facts, "
                         f"{len(loaded)} companies reloaded, {rebuilt} companies' tables rebuilt")
    for key, table_meta in metadata.items():
        yield dg.MaterializeResult(asset_key=list(key), metadata=table_meta)
    yield from (result(check, outcome) for check, outcome in outcomes)


warehouse_assets = [warehouse_build]
