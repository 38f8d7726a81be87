"""The code location for a Dask cluster: the same assets, each per-company step a task on a worker.

The workers may be on other machines and share only two things: the bucket
(CAPEXWATCH_PARTITIONS_URL=s3://..., which holds the raw zone as well as the partitions) and the
Dagster instance in PostgreSQL (deploy/dask/dagster.yaml). The run's orchestrator hands each step
to Dask's scheduler (CAPEXWATCH_DASK_SCHEDULER); a worker runs it as `dagster api execute_step`,
the command a Kubernetes step pod runs, in a process of its own. Dagster's step-delegating executor
keeps the order of steps, the tag limit and the pool "sec_api" (one SEC step at a time across every
run, through the instance), so Dask only places the work. The warehouse build stays one run in one
process, the only writer of the DuckDB file.

    dagster job execute -m pipelines.dask_deployment -a defs -j refresh_companies \\
        --tags '{"dagster/partition": "MSFT"}'

dagster-dask's own executor is not used: Dask 2026 refuses its arguments (Dagster's run records
cannot be iterated), and it names every task after the job and step, so concurrent runs of the
per-company job would share Dask's results instead of each running its own steps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Iterator

import dagster as dg
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.step_delegating import StepDelegatingExecutor, StepHandler
from dagster._core.executor.step_delegating.step_handler.base import CheckStepHealthResult, StepHandlerContext
from distributed import Client, Future, get_worker

from pipelines.definitions import build_definitions
from pipelines.defs.partitions import SEC_TAG
from pipelines.lib.settings import ConfigError


def run_step(command: list[str]) -> dict:
    """On a worker: one step, in a process of its own (a crash costs that step, not the worker), run
    by the worker's own Python, whatever the launcher's was called."""
    finished = subprocess.run([sys.executable, "-m", "dagster", *command[command.index("api"):]],
                              capture_output=True, text=True)
    return {"worker": get_worker().name, "returncode": finished.returncode, "stderr": finished.stderr[-2000:]}


class DaskStepHandler(StepHandler):
    """Submits each step to a Dask scheduler and reports a task that failed or a step process that
    ended badly; the step's own events reach the run through the instance's event log."""

    def __init__(self, scheduler: str) -> None:
        self.scheduler = scheduler
        # connected now, when the run starts: a wrong address fails the run before a step claims a pool slot
        self._client = Client(scheduler, set_as_default=False, timeout=60)
        self._tasks: dict[str, Future] = {}

    @property
    def name(self) -> str:
        return "DaskStepHandler"

    @staticmethod
    def _task(context: StepHandlerContext) -> tuple[str, str]:
        """The step, and its Dask key: unique per run, since Dask treats equal keys as one task."""
        (step_key,) = context.execute_step_args.step_keys_to_execute
        return step_key, f"{context.execute_step_args.run_id}/{step_key}"

    def launch_step(self, context: StepHandlerContext) -> Iterator[DagsterEvent]:
        step_key, key = self._task(context)
        yield DagsterEvent.step_worker_starting(
            context.get_step_context(step_key),
            message=f'Executing step "{step_key}" on the Dask cluster at {self.scheduler} (task {key}).',
            metadata={"Dask task": dg.MetadataValue.text(key)},
        )
        command = list(context.execute_step_args.get_command_args())
        self._tasks[key] = self._client.submit(run_step, command, key=key, pure=False)

    def check_step_health(self, context: StepHandlerContext) -> CheckStepHealthResult:
        step_key, key = self._task(context)
        task = self._tasks.get(key)
        if task is None:
            return CheckStepHealthResult.unhealthy(f"step {step_key} was never submitted to Dask")
        if task.status in ("error", "cancelled", "lost"):
            return CheckStepHealthResult.unhealthy(f"Dask task {key} {task.status}: {task.exception()!r}"
                                                   if task.status == "error" else f"Dask task {key} {task.status}")
        if task.status == "finished" and (outcome := task.result())["returncode"] != 0:
            return CheckStepHealthResult.unhealthy(
                f"step {step_key} on worker {outcome['worker']} exited with status {outcome['returncode']}: "
                f"{outcome['stderr']}")
        return CheckStepHealthResult.healthy()

    def terminate_step(self, context: StepHandlerContext) -> Iterator[DagsterEvent]:
        step_key, key = self._task(context)
        yield DagsterEvent.engine_event(context.get_step_context(step_key),
                                        message=f"Cancelling Dask task {key}", event_specific_data=EngineEventData())
        if key in self._tasks:
            self._tasks[key].cancel()


@dg.executor(
    name="dask_steps",
    config_schema={"scheduler": dg.Field(dg.StringSource, is_required=False,
                                         description="The Dask scheduler's address, e.g. tcp://scheduler:8786; "
                                                     "unset, CAPEXWATCH_DASK_SCHEDULER")},
    requirements=dg.multiple_process_executor_requirements(),
)
def dask_steps(init_context: dg.InitExecutorContext) -> StepDelegatingExecutor:
    """Steps on a Dask cluster, one SEC step at a time within a run (the pool does it across runs)."""
    scheduler = init_context.executor_config.get("scheduler") or os.environ.get("CAPEXWATCH_DASK_SCHEDULER")
    if not scheduler:
        raise ConfigError("the Dask deployment needs the scheduler's address: set CAPEXWATCH_DASK_SCHEDULER "
                          "(e.g. tcp://scheduler:8786) or the executor's config 'scheduler'")
    return StepDelegatingExecutor(
        DaskStepHandler(scheduler),
        retries=RetryMode.DISABLED,
        # a step that has started already is not started again: Dask re-runs the task of a worker that
        # died, while the step's own process may still be running
        should_verify_step=True,
        max_concurrent=8,
        tag_concurrency_limits=[{"key": SEC_TAG, "limit": 1}],
    )


defs: dg.Definitions = build_definitions(company_executor=dask_steps)
