"""Scale-out that runs: the per-company steps on a Dask cluster (a scheduler and two workers, each
its own process with its own folder), a Dagster instance on PostgreSQL (a server started here), the
partitions and the raw zone in an S3 bucket (moto's server); then one build publishes, and its marts
are those of a local refresh."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
import pytest

from pipelines.defs.resources import SecResource, WarehouseResource
from pipelines.lib import warehouse
from pipelines.lib.partition_store import PartitionStore
from pipelines.lib.settings import PROJECT_DIR

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path:
    found = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None) or shutil.which("initdb")
    if found is None:
        pytest.fail("PostgreSQL is not installed: scripts/dev.py test installs Debian's postgresql as root; "
                    "elsewhere install it (initdb and pg_ctl on PATH)")
    return Path(found).resolve().parent


@pytest.fixture
def postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL server on 127.0.0.1, its address in DAGSTER_PG_* (this process and its
    children). PostgreSQL refuses to run as root, so as root it runs as the user postgres."""
    data = Path(tempfile.mkdtemp(prefix="capexwatch-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(data, "postgres")
    port, tools = free_port(), postgres_bin()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, "check": True}
    subprocess.run([*as_user, tools / "initdb", "-D", data / "db", "-U", "dagster", "--auth=trust", "-E", "UTF8"], **quiet)
    subprocess.run([*as_user, tools / "pg_ctl", "-D", data / "db", "-l", data / "server.log", "-w", "start", "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1"], **quiet)
    try:
        subprocess.run([*as_user, tools / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "dagster", "dagster"],
                       **quiet)
        settings = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_USER": "dagster",
                    "DAGSTER_PG_PASSWORD": "unused-trust-auth", "DAGSTER_PG_DB": "dagster"}
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        yield settings
    finally:
        subprocess.run([*as_user, tools / "pg_ctl", "-D", data / "db", "-m", "immediate", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def dask_cluster(tmp_path: Path, bucket_url: str, postgres: dict[str, str],
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """A scheduler and two workers, each a process with its own folder and only the bucket and
    PostgreSQL in common."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("CAPEXWATCH_DASK_SCHEDULER", address)
    processes = [subprocess.Popen([BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    folders = {}
    try:
        for name in ("a", "b"):
            folders[name] = tmp_path / f"worker-{name}"
            folders[name].mkdir()
            environment = {**os.environ, "CAPEXWATCH_WAREHOUSE_DIR": str(folders[name]),
                           "CAPEXWATCH_PARTITIONS_URL": bucket_url}
            processes.append(subprocess.Popen(
                [BIN / "dask", "worker", address, "--name", name, "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard", "--local-directory", folders[name] / "dask"],
                cwd=folders[name], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield folders
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def step_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """step key -> (start, end) of the step itself, from the run's event log in PostgreSQL."""
    starts, ends = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.is_step_start:
            starts[event.step_key] = entry.timestamp
        elif event is not None and event.is_step_success:
            ends[event.step_key] = entry.timestamp
    return {step: (starts[step], ends[step]) for step in starts}


def test_company_steps_on_a_dask_cluster_then_one_build_publishes_the_local_marts(
        dask_cluster, bucket_url, tmp_path, monkeypatch, built):
    from distributed import Client, get_task_stream

    from pipelines.definitions import build_definitions

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_DIR / "deploy" / "dask" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("CAPEXWATCH_WAREHOUSE_DIR", str(tmp_path / "launcher"))  # the steps must not run here
    instance = dg.DagsterInstance.get()
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    companies = sorted(built[1].companies)  # the offline universe, as the local refresh loaded it
    instance.add_dynamic_partitions("company", companies)
    subprocess.run([BIN / "dagster", "instance", "concurrency", "set", "sec_api", "1"], check=True,
                   stdout=subprocess.DEVNULL)  # once per deployment (README), before runs race to create it

    # one run per company, each launched by its own process, as an operator or the daemon would
    with Client(os.environ["CAPEXWATCH_DASK_SCHEDULER"]) as client, get_task_stream(client) as stream:
        launchers = [subprocess.Popen([BIN / "dagster", "job", "execute", "-m", "pipelines.dask_deployment", "-a",
                                       "defs", "-j", "refresh_companies", "--tags",
                                       json.dumps({"dagster/partition": key})],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
                     for key in companies]
        errors = [[line for line in launcher.communicate(timeout=600)[1].decode().splitlines() if "ERROR" in line
                   or "failed" in line] for launcher in launchers]
        print(errors[0])
        workers = {address: info["name"] for address, info in client.scheduler_info()["workers"].items()}
    assert [launcher.returncode for launcher in launchers] == [0] * len(companies), errors
    runs = {run.run_id: run.tags["dagster/partition"] for run in instance.get_runs()}
    assert sorted(runs.values()) == sorted(companies)
    assert {run.status for run in instance.get_runs()} == {dg.DagsterRunStatus.SUCCESS}

    # Dask's own record of its tasks: which worker ran each step, and when
    tasks = []
    for record in stream.data:
        run_id, step = record["key"].split("/")
        (compute,) = [window for window in record["startstops"] if window["action"] == "compute"]
        tasks.append((runs[run_id], step, workers[record["worker"]], compute["start"], compute["stop"]))
    # every step ran (the event log; Dask's stream may miss a run's last task when its launcher exits first)
    steps = {(runs[run_id], step) for run_id in runs for step in step_times(instance, run_id)}
    assert steps == {(company, step) for company in companies for step in
                     ("raw__companyfacts", "staging__companyfacts", "raw__filing_documents", "staging__filing_documents")}
    assert {worker for _, _, worker, _, _ in tasks} == {"a", "b"}
    timeline = "\n".join(f"{start - tasks[0][3]:6.2f}-{stop - tasks[0][3]:6.2f} s  worker {worker}  {company} {step}"
                          for company, step, worker, start, stop in sorted(tasks, key=lambda task: task[3]))
    print(f"\n{timeline}")
    both_busy = [(a, b) for a in tasks for b in tasks if a[2] == "a" and b[2] == "b" and a[3] < b[4] and b[3] < a[4]]
    assert both_busy, timeline  # the two workers worked at the same time
    # the pool sec_api held across runs and workers: never two steps calling SEC at once (the steps'
    # own start and end in the event log; Dask's window adds the step process's start-up and exit)
    sec_steps = sorted(window for run_id in runs for step, window in step_times(instance, run_id).items()
                       if step.startswith("raw__"))
    assert len(sec_steps) == 2 * len(companies)
    assert all(stop <= next_start for (_, stop), (next_start, _) in zip(sec_steps, sec_steps[1:])), timeline
    # a company landed by one worker and staged by the other: only the bucket joins them
    where = {(company, step): worker for company, step, worker, _, _ in tasks}
    assert any({where.get((company, f"raw__{kind}")), where.get((company, f"staging__{kind}"))} == {"a", "b"}
               for company in companies for kind in ("companyfacts", "filing_documents")), timeline

    # nothing was written to the launcher's or the workers' disks but the workers' raw caches
    assert not (tmp_path / "launcher").exists()
    for folder in dask_cluster.values():
        assert not (folder / "facts_parquet").exists() and not (folder / "filings_parquet").exists()
    assert PartitionStore(bucket_url).exists("raw/filings/CIK0000789019.json")  # Microsoft's landed documents

    # one build, from the bucket, publishes; its marts equal the local refresh's (tests/conftest.py)
    builder = tmp_path / "builder"
    sec = SecResource(warehouse_dir=str(builder), partitions_url=bucket_url)
    warehouse_db = WarehouseResource(database_path=str(builder / "capexwatch.duckdb"))
    build = build_definitions(sec, warehouse_db).resolve_job_def("build_warehouse")
    assert build.execute_in_process(instance=instance, raise_on_error=False).success
    assert not (builder / "raw").exists()
    with duckdb.connect(str(builder / "capexwatch.duckdb"), read_only=True) as conn:
        distributed = warehouse.fingerprint(conn)
    with duckdb.connect(str(built[0] / "capexwatch.duckdb"), read_only=True) as conn:
        local = warehouse.fingerprint(conn)
    assert len([table for table in local if table.startswith("marts.")]) == 10
    assert {table: value for table, value in distributed.items() if value != local.get(table)} == {}
