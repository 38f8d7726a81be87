"""What people look at: the HTML report, rebuilt with the marts."""

import dagster as dg

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import report


@dg.asset(
    key=["reports", "html_report"],
    deps=[dg.AssetKey(["marts", "ttm"]), dg.AssetKey(["marts", "annual"]), dg.AssetKey(["core", "metric_values"]),
          dg.AssetKey(["views", "followed_companies"]), dg.AssetKey(["marts", "depreciation_outlook"])],
    group_name="reports",
    kinds={"html"},
    automation_condition=dg.AutomationCondition.eager(),
)
def html_report(warehouse_db: WarehouseResource, sec: SecResource) -> dg.MaterializeResult:
    """warehouse/report/index.html: capex as a share of revenue per company (latest fiscal year and
    trailing twelve months, each linked to its filing) and interactive charts of capex intensity
    against the software and early-cloud benchmarks, free cash flow, capex against cash flow, and per
    projected company capex today against depreciation tomorrow."""
    with warehouse_db.read() as conn:  # the published state, never a build in progress
        path = report.write_report(conn, warehouse_db.path().parent / "report", sec.settings().mode)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)),
                                          "bytes": path.stat().st_size})
