"""The warehouse transforms: one asset per .sql file under sql/, rebuilt in a transaction each run."""

from typing import Callable

import dagster as dg
import duckdb
import pandas as pd

from pipelines.defs.resources import WarehouseResource
from pipelines.lib import concepts, warehouse
from pipelines.lib.settings import CLOUD_SEGMENTS_FILE, COMPANIES_FILE

# sql file (= table) -> the tables it reads. Order is a build order (each after what it reads), so a
# script can build the warehouse without Dagster.
SQL_TABLES: dict[str, list[str]] = {
    "core/concept_map": [],
    "staging/periodic_facts": ["core/facts", "core/filing_facts"],
    "core/fiscal_years": ["staging/periodic_facts"],
    "core/fiscal_quarters": ["core/fiscal_years", "staging/periodic_facts"],
    "core/metric_spans": ["core/concept_map", "core/fiscal_years", "core/fiscal_quarters", "staging/periodic_facts"],
    "core/discrete_values": ["core/metric_spans"],
    "core/base_metric_values": ["core/discrete_values", "core/metric_spans", "core/fiscal_years", "core/fiscal_quarters",
                                "core/concept_map"],
    "core/metric_values": ["core/base_metric_values", "core/reported_measures", "core/filings", "core/fiscal_years"],
    "core/metrics_wide": ["core/metric_values", "core/facts"],
    "marts/quarterly": ["core/metrics_wide"],
    "marts/annual": ["core/metrics_wide"],
    "marts/ttm": ["core/metrics_wide"],
    "core/company_reference": [],
    "marts/calendar_totals": ["marts/quarterly", "core/company_reference"],
    "core/cloud_segments": [],
    "marts/segments": ["core/discrete_values", "core/fiscal_quarters", "core/fiscal_years"],
    "marts/cloud_vs_capex": ["marts/segments", "core/cloud_segments", "marts/quarterly", "marts/annual"],
    "views/capex_intensity": ["marts/quarterly", "marts/ttm"],
    "views/cash_conversion": ["marts/ttm"],
    "views/hyperscaler_totals": ["marts/calendar_totals"],
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
}


def describe(name: str) -> str:
    """The SQL file's header comment is the asset's description."""
    header = [line[2:].strip() for line in warehouse.sql_text(name).splitlines() if line.startswith("--")]
    return " ".join(header)


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, object]:
    """Row count, the newest rows as a preview, and each company's latest headline metrics, which
    the Dagster UI plots across materializations."""
    columns = [row[0] for row in conn.execute(f"describe {table}").fetchall()]
    order = " order by period_end desc nulls last" if "period_end" in columns else ""
    metadata: dict[str, object] = {
        "dagster/row_count": conn.execute(f"select count(*) from {table}").fetchone()[0],
        "table": table,
        "preview": dg.MetadataValue.md(conn.execute(f"select * from {table}{order} limit 5").df().to_markdown(index=False)),
    }
    for metric in [m for m in HEADLINE_METRICS if {"ticker", "period_end", m} <= set(columns)]:
        latest = conn.execute(
            f"select ticker, arg_max({metric}, period_end) from {table} where {metric} is not null group by ticker"
        ).fetchall()
        metadata.update({f"latest {metric} {ticker}": float(value) for ticker, value in latest if ticker})
    return metadata


def sql_table_asset(name: str, deps: list[str]) -> dg.AssetsDefinition:
    """sql/<layer>/<table>.sql as the asset <layer>/<table>; views/ build views in the main schema,
    so that any DuckDB client finds them without a schema name."""
    layer = name.split("/")[0]

    @dg.asset(
        name=name.split("/")[1],
        key_prefix=[layer],
        deps=[dg.AssetKey(dep.split("/")) for dep in deps],
        group_name={"staging": "core", "views": "marts"}.get(layer, layer),
        description=describe(name),
        kinds={"duckdb", "sql"},
        automation_condition=dg.AutomationCondition.eager(),
    )
    def _build(warehouse_db: WarehouseResource) -> dg.MaterializeResult:
        with warehouse_db.connect() as conn:
            if name in PREPARE:
                PREPARE[name](conn)
            with warehouse.transaction(conn):
                warehouse.run_sql(conn, name)
            return dg.MaterializeResult(metadata=table_metadata(conn, warehouse.relation_name(name)))

    return _build


warehouse_assets = [sql_table_asset(name, deps) for name, deps in SQL_TABLES.items()]
