"""The real Dagster daemon, as a user runs it: in a fresh DAGSTER_HOME with the project's instance
settings, the company partitions appear by themselves; turning on the new_filings sensor leads to
company runs and, through the warehouse automation, to a published build, while an analyst queries
in a loop; kill -9 of a build's process leaves the last published state."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import reliability_log
from dagster._core.launcher.base import WorkerStatus

from pipelines.lib import publish
from pipelines.run_launcher import LocalRunLauncher
from test_publication import AMENDED_CAPEX, CAPEX_PAIR, Reader, fingerprint
from test_reliability import _edit_capex, _snapshot_copy

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parent.parent
ORIGINAL = (91_447_000_000, 91_447_000_000)
SECOND_AMENDMENT = 91_600_000_000


def wait_for(what: str, condition, timeout: float, log: Path, poll: float = 0.5) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; daemon log:\n{log.read_text()[-4000:]}")


def amend(snapshot: Path, value: int, accn: str, filed: str) -> None:
    """Alphabet's FY2025 capex restated by a 10-K/A (the latest filed value is the value of record)."""
    _edit_capex(snapshot, lambda units, doc: units["USD"].append({
        "start": "2025-01-01", "end": "2025-12-31", "val": value, "accn": accn, "fy": 2025, "fp": "FY",
        "form": "10-K/A", "filed": filed}))


def automated_builds(instance: dg.DagsterInstance, status: dg.DagsterRunStatus) -> list[dg.DagsterRun]:
    return instance.get_runs(filters=dg.RunsFilter(statuses=[status],
                                                   tags={"dagster/sensor_name": "warehouse_automation"}))


def build_processes(instance: dg.DagsterInstance) -> set[int]:
    """The processes of the automation's build runs now executing, as their events record them."""
    # the process that started the build step (other events of the run come from the code server too)
    return {event.dagster_event.pid for run in automated_builds(instance, dg.DagsterRunStatus.STARTED)
            for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            if event.dagster_event.pid}


def parent(pid: int) -> int:
    """The parent of a run worker: the code server that launched it (checked, never the test itself)."""
    ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert b"dagster" in Path(f"/proc/{ppid}/cmdline").read_bytes() and ppid != os.getpid()
    return ppid


def published_pair(database: Path) -> tuple | None:
    if not database.is_file():
        return None
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(CAPEX_PAIR).fetchone()


@pytest.fixture
def deployment(tmp_path: Path):
    """A warehouse published by the CLI, a fresh DAGSTER_HOME with deploy/local/dagster.yaml, and the
    environment a user's shell would have."""
    snapshot = _snapshot_copy(tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "deploy/local/dagster.yaml", home / "dagster.yaml")
    environment = {k: v for k, v in os.environ.items() if k not in ("SEC_USER_AGENT", "CAPEXWATCH_MODE", "DAGSTER_HOME")}
    environment.update(CAPEXWATCH_WAREHOUSE_DIR=str(tmp_path / "wh"), CAPEXWATCH_SNAPSHOT_DIR=str(snapshot),
                       CAPEXWATCH_UNIVERSE="GOOGL,NVDA")
    baseline = subprocess.run([str(BIN / "capexwatch"), "refresh"], env=environment, capture_output=True, text=True,
                              timeout=300, cwd=tmp_path)
    assert baseline.returncode == 0, baseline.stderr[-2000:]
    environment["DAGSTER_HOME"] = str(home)
    # create the instance's storage first: the daemon and its code server would both create it at once
    dg.DagsterInstance.from_config(str(home)).get_runs(limit=1)
    log = tmp_path / "daemon.log"
    with log.open("w") as output:
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-m", "pipelines.definitions"], env=environment,
                                  cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield tmp_path / "wh" / "capexwatch.duckdb", snapshot, home, environment, log
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
        for pid in build_processes(dg.DagsterInstance.from_config(str(home))):  # must not outlive the test
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def dagster(environment: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "dagster"), *args, "-m", "pipelines.definitions"], env=environment, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_a_sensor_tick_leads_to_company_runs_and_a_published_build_and_a_kill_keeps_it(deployment):
    database, snapshot, home, environment, log = deployment
    first = publish.read_record(database)
    amend(snapshot, AMENDED_CAPEX, "0001652044-26-999999", "2026-06-01")
    with Reader(database) as reader:
        instance = dg.DagsterInstance.from_config(str(home))
        # nothing but the daemon's start: the company partitions are there
        wait_for("the company partitions", lambda: instance.get_dynamic_partitions("company") == ["GOOGL", "NVDA"],
                 120, log)
        started = dagster(environment, home.parent, "sensor", "start", "new_filings")
        assert started.returncode == 0, started.stdout + started.stderr
        # the tick requests both companies, the automation builds, the build publishes the amendment
        wait_for("a published build with the amended capex",
                 lambda: (published_pair(database) or (0, 0))[:2] == (AMENDED_CAPEX, AMENDED_CAPEX), 420, log)
        runs = instance.get_runs()
        companies = sorted(r.tags.get("dagster/partition") for r in runs if r.job_name == "refresh_companies")
        builds = [r for r in runs if r.job_name != "refresh_companies"]
        assert companies == ["GOOGL", "NVDA"] and all(r.status == dg.DagsterRunStatus.SUCCESS
                                                       for r in runs if r.job_name == "refresh_companies")
        assert any(r.tags.get("dagster/sensor_name") == "new_filings" for r in runs)
        assert any(r.tags.get("dagster/sensor_name") == "warehouse_automation" for r in builds), [r.tags for r in builds]
        record = publish.read_record(database)
        assert record.status == "published" and record.build_id != first.build_id
        published = fingerprint(database)

        # a second amendment, a company refresh from the command line: the automation starts a build,
        # which is killed (-9) while it works on its private copy
        amend(snapshot, SECOND_AMENDMENT, "0001652044-26-999998", "2026-07-01")
        materialized = dagster(environment, home.parent, "asset", "materialize", "--partition", "GOOGL",
                               "--select", "raw/companyfacts,staging/companyfacts")
        assert materialized.returncode == 0, materialized.stdout[-2000:] + materialized.stderr[-2000:]
        workers = wait_for("the automated build's process", lambda: build_processes(instance), 300, log, poll=0.1)
        killed = {run.run_id for run in automated_builds(instance, dg.DagsterRunStatus.STARTED)}
        # frozen the moment it starts on its private copy (a build takes a few seconds: polling alone
        # could find it published already), then killed there
        copy = database.with_name(f".{database.name}.building")
        wait_for("the automated build to start its private copy", copy.exists, 120, log, poll=0.02)
        # listed again now: on a loaded machine a build listed before may have ended meanwhile (seen in CI)
        workers = {pid for pid in workers | build_processes(instance) if Path(f"/proc/{pid}").exists()}
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        assert publish.read_record(database).status == "building", "the build published before it could be stopped"
        # the worker and its parent, the code server (as a crash of the machine's processes would):
        # nothing is left to report the run's end, so run monitoring's health check must find it
        for pid in workers | {parent(pid) for pid in workers}:
            os.kill(pid, signal.SIGKILL)
        time.sleep(1)
        assert fingerprint(database) == published and publish.read_record(database).status == "building"
        # run monitoring (deploy/local/dagster.yaml) finds the worker gone, fails the run and frees its pool slot
        failed = wait_for("run monitoring to fail the killed run",
                          lambda: [r for r in automated_builds(instance, dg.DagsterRunStatus.FAILURE)
                                   if r.run_id in killed], 120, log)
        assert any("is gone (killed?)" in (e.message or "") for e in instance.all_logs(failed[0].run_id))
        # the next build (here from the command line) publishes the second amendment
        built = dagster(environment, home.parent, "job", "execute", "-j", "build_warehouse")
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        assert published_pair(database)[:2] == (SECOND_AMENDMENT, SECOND_AMENDMENT)
    assert reader.errors == []
    seen = {pair[:2] for pair in reader.seen}
    assert seen <= {ORIGINAL, (AMENDED_CAPEX, AMENDED_CAPEX), (SECOND_AMENDMENT, SECOND_AMENDMENT)}
    assert (AMENDED_CAPEX, AMENDED_CAPEX) in seen  # the reader was there while the daemon published
    reliability_log.record("publication", "daemon: sensor tick -> company runs -> automated build, reader in a loop",
                           f"published; {len(reader.seen)} states read, 0 errors, none mixed", tried=1)
    reliability_log.record("kill", "kill -9 of the daemon-launched build and its code server mid-way",
                           "last published state kept; run monitoring failed the run and freed its slot; "
                           "the next build published", tried=1, lost=0)


def test_the_local_launcher_reports_a_killed_or_unreaped_run_worker_as_failed(tmp_path):
    """The health check behind run monitoring: alive while the worker runs (or before it has
    started), failed once it is gone, including a zombie its parent has not reaped yet."""
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        launcher = LocalRunLauncher()
        launcher.register_instance(instance)
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            run = instance.create_run_for_job(dg.GraphDefinition("build").to_job())
            assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING  # no RUN_START yet
            instance.report_dagster_event(dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, run.job_name,
                                                          pid=worker.pid), run.run_id)
            assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
            os.kill(worker.pid, signal.SIGKILL)
            time.sleep(0.5)  # killed, not reaped: a zombie
            health = launcher.check_run_worker_health(run)
            assert health.status == WorkerStatus.FAILED and f"process {worker.pid} is gone" in health.msg
        finally:
            worker.kill()
            worker.wait()
        assert launcher.check_run_worker_health(run).status == WorkerStatus.FAILED  # reaped: no such process
