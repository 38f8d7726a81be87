"""The warehouse automation as Dagster's daemon evaluates it, tick by tick, on a local instance: a
company refresh leads to one build, and one that lands in the same tick as a finished build is not
forgotten."""

from __future__ import annotations

import dagster as dg

from conftest import offline_resources
from pipelines.definitions import build_definitions
from pipelines.defs.company_assets import raw_companyfacts, staged_companyfacts
from pipelines.defs.warehouse_assets import warehouse_build


def requested(result: dg.EvaluateAutomationConditionsResult) -> set[str]:
    return {r.key.to_user_string() for r in result.results if r.true_subset.size}


def test_every_company_refresh_is_followed_by_a_build(tmp_path):
    sec, warehouse_db = offline_resources(tmp_path / "wh")
    defs, resources = build_definitions(sec, warehouse_db), {"sec": sec, "warehouse_db": warehouse_db}
    (tmp_path / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    instance.add_dynamic_partitions("company", ["GOOGL"])

    def refresh_company() -> None:
        assert dg.materialize([raw_companyfacts, staged_companyfacts], partition_key="GOOGL", instance=instance,
                              resources=resources).success

    def build() -> None:
        assert dg.materialize([warehouse_build], instance=instance, resources=resources).success

    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert requested(tick) == set()  # nothing refreshed yet
    refresh_company()
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert "core/facts" in requested(tick)  # the whole build is requested with it (it cannot be split)
    build()
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == set()  # built: nothing more to do
    # a build finishes and another company refresh lands before the next tick
    build()
    refresh_company()
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert "core/facts" in requested(tick)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert requested(tick) == set()  # requested once, not again
