"""Scale-out: per-company runs in parallel with the multiprocess executor (steps in their own
processes, two companies at once), one writer loading their partitions; and the Kubernetes
deployment's configuration loaded and validated against the Definitions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from pipelines.definitions import build_definitions
from pipelines.lib.settings import PROJECT_DIR

DEPLOY = PROJECT_DIR / "deploy" / "k8s"


def test_company_runs_in_parallel_processes_then_one_writer_loads_them(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPEXWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions("company", ["GOOGL", "NVDA"])
    # each run orchestrated by its own process, as the daemon's run workers do: Dagster's runs are not
    # meant to share a process (two in threads deadlocked on the logging module's lock)
    launchers = [subprocess.Popen([Path(sys.executable).parent / "dagster", "job", "execute", "-m", "pipelines.definitions",
                                   "-a", "defs", "-j", "refresh_companies", "--tags",
                                   json.dumps({"dagster/partition": key})], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for key in ("GOOGL", "NVDA")]
    assert [launcher.wait(timeout=600) for launcher in launchers] == [0, 0]
    windows = []
    for run in instance.get_runs():
        assert run.status == dg.DagsterRunStatus.SUCCESS
        starts = [entry.dagster_event for entry in instance.all_logs(run.run_id)
                  if entry.dagster_event and entry.dagster_event.is_step_start]
        # every step in a process of its own, none in the run's
        assert len({event.pid for event in starts}) == 4
        stats = instance.get_run_stats(run.run_id)
        windows.append((stats.start_time, stats.end_time))
    (a_start, a_end), (b_start, b_end) = windows
    assert a_start < b_end and b_start < a_end  # the two companies' runs overlapped
    parquet = tmp_path / "warehouse" / "facts_parquet"
    assert sorted(p.parent.name for p in parquet.glob("cik=*/facts.parquet")) == ["cik=0001045810", "cik=0001652044"]

    defs = build_definitions()
    build = defs.resolve_job_def("build_warehouse").execute_in_process(instance=instance, raise_on_error=False)
    assert build.success
    with duckdb.connect(str(tmp_path / "warehouse" / "capexwatch.duckdb"), read_only=True) as conn:
        loaded = conn.execute("select ticker, facts from core.companies order by ticker").fetchall()
        capex = conn.execute("select capex from marts.annual where ticker = 'GOOGL' and fiscal_year = 2025").fetchall()
    assert loaded == [("GOOGL", 20324), ("NVDA", 26903)]
    assert capex == [(91_447_000_000,)]


def test_kubernetes_deployment_loads_with_its_executor_and_config():
    from pipelines.deployments import defs

    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("refresh_companies")
    assert job.executor_def.name == "k8s"
    assert defs.resolve_job_def("build_warehouse").executor_def.name == "in_process"
    run_config = yaml.safe_load((DEPLOY / "run_config.yaml").read_text())
    validation = dg.validate_run_config(job, run_config)
    assert validation["execution"]["k8s"]["job_image"] == "ghcr.io/capexwatch/capexwatch:latest"
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, {"execution": {"config": {"max_concurrent": "many"}}})


def test_local_instance_config_is_valid_and_limits_sec_steps():
    config, _ = dagster_instance_config(str(PROJECT_DIR / "deploy" / "local"), "dagster.yaml")
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 2
    graph = build_definitions().resolve_asset_graph()
    pools = {key.to_user_string(): graph.get(key).pools for key in graph.get_all_asset_keys()}
    assert {key for key, names in pools.items() if names and "sec_api" in names} == {
        "raw/companyfacts", "raw/filing_documents"}


def test_kubernetes_instance_and_chart_values_agree():
    config, _ = dagster_instance_config(str(DEPLOY), "dagster.yaml")  # Dagster's own schema check
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["run_launcher"]["class"] == "K8sRunLauncher"
    values = yaml.safe_load((DEPLOY / "values.yaml").read_text())
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "pipelines.deployments"]
    storage = list(yaml.safe_load_all((DEPLOY / "storage.yaml").read_text()))
    names = {doc["kind"]: doc["metadata"]["name"] for doc in storage if doc}
    # every piece names the same volume claim and settings
    assert deployment["volumes"][0]["persistentVolumeClaim"]["claimName"] == names["PersistentVolumeClaim"]
    assert config["run_launcher"]["config"]["volumes"][0]["persistent_volume_claim"]["claim_name"] == names["PersistentVolumeClaim"]
    assert deployment["envConfigMaps"][0]["name"] == names["ConfigMap"]
    assert config["run_launcher"]["config"]["env_config_maps"] == [names["ConfigMap"]]
