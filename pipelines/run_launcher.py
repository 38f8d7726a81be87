"""Dagster's default run launcher, plus the health check its run monitoring needs on one machine.

A run worker killed with -9 never reports its end, so Dagster would keep the run STARTED for ever:
its slot in pool warehouse_build stays taken, automation (which waits while the build is in
progress) never builds again, and the next build queues behind a process that no longer exists.
The default launcher cannot tell; on one machine the answer is simple: is the process that started
the run still alive? Run monitoring (deploy/local/dagster.yaml) then marks a dead run failed and
frees its slots, and the next build starts from the last published warehouse.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

from pipelines.lib.processes import process_alive


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers, all on this machine, are checked by their process id."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = run_worker_pid(self._instance, run.run_id)
        if pid is None or process_alive(pid):  # not started yet counts as alive: never fail a run early
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone (killed?)")


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process that recorded the run's start: the run worker."""
    starts = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)
    return starts[-1].dagster_event.pid if starts and starts[-1].dagster_event else None
