"""Cancellations: a dataset cancelled mid-fan-out and an evaluation cancelled mid-simulation end CANCELED,
their children stop, and no job process keeps running."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import WorkflowExecutionStatus

from faults.harness import Stack, wait_closed
from faults.scenarios.common import REPO, Row, design_request, history_has, until
from faults.scenarios.datasets import start_dataset
from shared.keys import benchmark_definition_key
from shared.models import (
    BenchmarkDefinition,
    BenchmarkResult,
    DatasetProgress,
    DatasetRequest,
    GenerateBenchmarkRequest,
    PartSource,
    Verdict,
)
from shared.temporal import ACT_SIMULATE_BENCHMARK, WF_EVALUATE_DESIGN, WF_GENERATE_BENCHMARK

RAMP_SCRIPT = REPO / "examples" / "benchmarks" / "ramp_benchmark.py"


async def publish_slow_ramp(stack: Stack) -> str:
    """The example ramp benchmark script with 20 s scenes: a design that holds the ball makes every scene run
    to its timeout, so one 64-scene simulation lasts seconds (long enough to cancel in the middle)."""
    assert stack.client is not None
    script = RAMP_SCRIPT.read_text().replace('"duration_s": 3.0', '"duration_s": 20.0')
    path = stack.root / "designs" / "slow_ramp.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(script)
    result = await stack.client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(script=PartSource(path=str(path))),
        id=f"publish-ramp-{uuid.uuid4().hex[:6]}",
        task_queue=stack.queue,
        result_type=BenchmarkResult,
    )
    if result.verdict != Verdict.PUBLISHED:
        raise RuntimeError(f"the slow ramp was not published: {result.reason}")
    return result.benchmark_id


def catcher_part(stack: Stack, benchmark: str) -> Path:
    """A plate just below the payload's spawn envelope: the ball lands on it and stays, so every scene runs to
    its timeout."""
    from engines.cad.export import step_bytes
    from engines.cad.primitives import box

    definition = stack.store().get_model(benchmark_definition_key(benchmark), BenchmarkDefinition)
    env = definition.payload.envelope
    (x0, y0, z0), (x1, y1, _) = env.min_mm, env.max_mm
    path = stack.root / "designs" / "catcher.step"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(step_bytes(box((x0 - 10, y0 - 10, z0 - 12), (x1 + 10, y1 + 10, z0 - 2))))
    return path


async def cancellations(root: Path) -> list[Row]:
    """A dataset cancelled mid-fan-out and an evaluation cancelled mid-simulation: the workflows end
    CANCELED with the request in history, every child stops, and no job process keeps running."""
    stack = Stack(root / "cancel", worker_concurrency=2)
    rows: list[Row] = []
    try:
        await stack.start_server()
        stack.spawn_worker()
        await stack.wait_workers_ready()
        assert stack.client is not None
        client = stack.client

        started = time.monotonic()
        req = DatasetRequest(
            families=["detour", "gap"],
            count=8,
            base_seed=500,
            max_parallel=2,
            n_scenes=64,
            check_interval_steps=1,
            dataset_id="faults-cancel",
        )
        handle = await start_dataset(stack, req)

        async def fanned_out() -> bool:
            p = await handle.query("progress", result_type=DatasetProgress)
            return bool(p.running) and bool(stack.job_processes())

        notes: list[str] = []
        if not await until(fanned_out, 120):
            notes.append("no child was running a job to cancel")
        await handle.cancel()
        status = await wait_closed(handle, 60)
        notes += [f"status {status.name}"] if status != WorkflowExecutionStatus.CANCELED else []
        notes += await history_has(
            handle,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        )

        async def children_stopped() -> bool:
            running = [
                w
                async for w in client.list_workflows(
                    f'MechbenchDataset = "{req.dataset_id}" AND ExecutionStatus = "Running"'
                )
            ]
            return not running and not stack.job_processes()

        if not await until(children_stopped, 30):
            notes.append(f"still running 30 s later: children or {len(stack.job_processes())} job processes")
        lost = len(notes)
        rows.append(
            Row(
                "dataset cancelled mid-fan-out",
                1,
                1 if not lost else 0,
                lost,
                notes,
                time.monotonic() - started,
            )
        )

        started = time.monotonic()
        ramp = await publish_slow_ramp(stack)
        catcher = catcher_part(stack, ramp)
        notes = []
        for attempt in range(3):  # retried should the cancellation ever miss the simulation
            ev = await client.start_workflow(
                WF_EVALUATE_DESIGN,
                design_request(catcher, f"catcher{attempt}", ramp, n_scenes=64, evidence=False),
                id=f"evaluate-cancel-{uuid.uuid4().hex[:6]}",
                task_queue=stack.queue,
            )

            async def simulating(ev=ev) -> bool:  # type: ignore[no-untyped-def]
                desc = await ev.describe()
                return any(
                    a.activity_type.name == ACT_SIMULATE_BENCHMARK
                    and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                    for a in desc.raw_description.pending_activities
                ) and bool(stack.job_processes())

            if await until(simulating, 120, every_s=0.02):
                await ev.cancel()
            status = await wait_closed(ev, 60)
            missing = await history_has(
                ev,
                EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
                EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
            )
            if not missing:
                break
            notes.append(f"attempt {attempt}: the simulation ended before the cancellation ({status.name})")
        else:
            notes.append("no cancellation landed during a simulation")
        notes += [f"status {status.name}"] if status != WorkflowExecutionStatus.CANCELED else []

        async def no_jobs() -> bool:
            return not stack.job_processes()

        if not await until(no_jobs, 10):
            notes.append("the simulation's job process outlived the cancellation by 10 s")
        lost = len([n for n in notes if not n.startswith("attempt")])
        rows.append(
            Row(
                "evaluation cancelled mid-simulation",
                1,
                1 if not lost else 0,
                lost,
                notes,
                time.monotonic() - started,
            )
        )
    finally:
        leftover = await stack.close()
    if leftover:
        rows[-1].notes.append(f"processes left after stopping the stack: {len(leftover)}")
        rows[-1].work_lost += len(leftover)
    return rows
