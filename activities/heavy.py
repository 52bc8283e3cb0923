"""The heavy activities: one per entry of the registry (:mod:`shared.heavy`), each running its job in a fresh
child process forked from the warm fork server (:mod:`runtime.supervisor`) and heartbeating its progress.

They serve every domain (generation, analysis, evaluation) on the heavy task queue; the activity definitions
are made from the registry, so a heavy job has no adapter code of its own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from runtime.supervisor import HeavySupervisor
from shared import metrics
from shared.heavy import HEAVY_JOBS, HeavyJobSpec
from shared.models import HeavyProgress, Model
from shared.temporal import HEAVY_JOB_ATTEMPTS

R = TypeVar("R", bound=BaseModel)


class JobFailures(Model):
    """The second heartbeat detail of a heavy activity: how many of its attempts the job itself failed."""

    count: int = Field(default=0, ge=0)
    last: str = ""
    """The latest of those failures (type and message), for the attempt that reads it."""


class HeavyActivities:
    """Activities on the heavy task queue (CAD, geometry, simulation, sandboxed scripts). Each call runs in a
    fresh child process forked from the warm fork server. Each registered job with an activity is a method
    named after its activity type (``build_benchmark``, ``simulate_benchmark``, …), added below.

    Two attempt budgets (``shared.temporal.HEAVY``): a job may fail ``HEAVY_JOB_ATTEMPTS`` times (its own
    retryable error, a crash, a stall), and workers may be lost mid-job (SIGKILL, a machine gone: the heartbeat
    timeout ends the attempt) another ``HEAVY_LOST_WORKER_ATTEMPTS`` times. The retry policy allows both;
    a retry policy cannot tell a heartbeat timeout from a job failure, so the activity counts the job's
    failures itself, in its heartbeat details (which the next attempt reads), and makes the failure that
    uses up the job's budget non-retryable. A lost worker records nothing, so it uses only the other budget."""

    def __init__(self, supervisor: HeavySupervisor):
        self._supervisor = supervisor

    async def _run(self, job: str, payload: BaseModel, result_type: type[R]) -> R:
        info = activity.info()
        details = info.heartbeat_details
        # Heartbeat details decode as plain dicts: rebuild the models. Details of a worker older than the
        # failure count carry the progress only.
        resume = HeavyProgress.model_validate(details[0]) if details else None
        failures = JobFailures.model_validate(details[1]) if len(details) > 1 else JobFailures()
        last = resume or HeavyProgress(stage=job, detail="starting")

        def heartbeat(progress: HeavyProgress) -> None:
            nonlocal last
            last = progress
            activity.heartbeat(progress, failures)  # only the newest details are kept: always send both

        context = {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity_type": info.activity_type,
            "attempt": str(info.attempt),
            "job_failures": str(failures.count),
        }
        try:
            return await self._supervisor.run(job, payload, result_type, heartbeat, resume, context)
        except ApplicationError as e:
            if e.non_retryable:
                raise
            kind, message, cause = e.type or type(e).__name__, e.message, e
        except Exception as e:  # noqa: BLE001 - the supervisor's own failures (fork server, connection) count too
            kind, message, cause = type(e).__name__, f"{job}: {type(e).__name__}: {e}", e
        failures = JobFailures(count=failures.count + 1, last=f"{kind}: {message}"[:500])
        activity.heartbeat(last, failures)  # recorded before the failure: the next attempt starts from it
        if failures.count < HEAVY_JOB_ATTEMPTS:
            raise cause
        raise ApplicationError(
            f"{message} (the job failed {failures.count} of its {HEAVY_JOB_ATTEMPTS} attempts; not retried again)",
            type=kind,
            non_retryable=True,
        ) from cause


def _record(spec: HeavyJobSpec, result: BaseModel, seconds: float) -> None:
    """The metric the registry entry asks for, after a successful job."""
    if spec.metric == "simulation":
        metrics.simulation_done(activity.metric_meter(), result)  # type: ignore[arg-type]
    elif spec.metric == "step_seconds":
        metrics.analysis_step(activity.metric_meter(), spec.job, seconds)


def _activity(spec: HeavyJobSpec) -> Callable[[HeavyActivities, BaseModel], Awaitable[BaseModel]]:
    """The activity method of one registered job. Its type hints are the entry's models: the pydantic data
    converter decodes the argument (and the workflow's result) by them."""

    async def run(self: HeavyActivities, req: BaseModel) -> BaseModel:
        started = time.monotonic()
        result = await self._run(spec.job, req, spec.result)
        _record(spec, result, time.monotonic() - started)
        return result

    run.__annotations__ = {"req": spec.request, "return": spec.result}
    run.__name__ = spec.activity
    run.__qualname__ = f"{HeavyActivities.__name__}.{spec.activity}"
    run.__doc__ = spec.doc
    return activity.defn(name=spec.activity)(run)


for _spec in HEAVY_JOBS:
    if _spec.activity:
        setattr(HeavyActivities, _spec.activity, _activity(_spec))
