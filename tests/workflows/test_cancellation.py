"""Cancelling a dataset mid-fan-out stops its children and their heavy jobs; the cancellation is in history.
A cancelled evaluation leaves nothing behind that no result refers to."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError

from shared.keys import evaluation_collision_key
from shared.models import (
    BenchmarkResult,
    DatasetProgress,
    DatasetRequest,
    GenerateBenchmarkRequest,
    Verdict,
)
from shared.store import LocalStore
from shared.temporal import WF_EVALUATE_DESIGN, WF_GENERATE_BENCHMARK, WF_GENERATE_DATASET
from tests.helpers import wait_until_simulating

pytestmark = pytest.mark.temporal


async def test_cancelling_a_dataset_stops_children_and_jobs(temporal_env, worker) -> None:
    client = temporal_env.client
    worker_queue = worker.queue
    ds = f"cancel-{uuid.uuid4().hex[:6]}"
    # long simulations (64 scenes, checks every step) so there is something running to cancel
    req = DatasetRequest(
        families=["detour", "gap"],
        count=8,
        base_seed=500,
        max_parallel=2,
        n_scenes=64,
        check_interval_steps=1,
        dataset_id=ds,
    )
    handle = await client.start_workflow(WF_GENERATE_DATASET, req, id=f"ds-{ds}", task_queue=worker_queue)
    for _ in range(200):
        p = await handle.query("progress", result_type=DatasetProgress)
        if p.running:
            break
        await asyncio.sleep(0.05)
    assert p.running, "children should be running"
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED

    # every child ends (cancelled, or finished before the request arrived) and no job process is left
    for _ in range(150):
        statuses = [
            w.status
            async for w in client.list_workflows(
                f'MechbenchDataset = "{ds}" AND WorkflowType = "GenerateBenchmark"'
            )
        ]
        if (
            statuses
            and all(s != WorkflowExecutionStatus.RUNNING for s in statuses)
            and not worker.supervisor.job_pids()
        ):
            break
        await asyncio.sleep(0.2)
    assert statuses and WorkflowExecutionStatus.RUNNING not in statuses
    assert WorkflowExecutionStatus.CANCELED in statuses
    assert not worker.supervisor.job_pids()
    assert p.completed < req.count


async def test_a_cancelled_evaluation_leaves_nothing_without_a_result(
    temporal_env, worker, test_settings
) -> None:
    """Cancelled mid-simulation, an evaluation removes what it wrote under ``evaluations/<id>/`` (its collision
    pieces and anything else); before, its collision.npz stayed with no result referring to it."""
    client = temporal_env.client
    store = LocalStore(test_settings.local_store_dir)
    published: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="chute", seed=2),
        id=f"bench-{uuid.uuid4().hex[:6]}",
        task_queue=worker.queue,
        result_type=BenchmarkResult,
    )
    assert published.verdict == Verdict.PUBLISHED, published.reason
    bid = published.benchmark_id
    design = test_settings.data_dir / f"{bid}-cancelled.step"
    design.write_bytes(store.get_bytes(f"benchmarks/{bid}/parts/chute.step"))
    req = {
        "benchmark_id": bid,
        "design": {
            "parts": [
                {
                    "source": {"path": str(design)},
                    "metadata": {"label": "ramp", "material": "aluminum_6061", "method": "cnc_milling"},
                }
            ]
        },
        "n_scenes": 64,
    }
    handle = await client.start_workflow(
        WF_EVALUATE_DESIGN, req, id=f"evaluate-cancel-{uuid.uuid4().hex[:6]}", task_queue=worker.queue
    )
    progress = await wait_until_simulating(handle, worker.supervisor)
    assert progress.stage == "simulate", progress
    eid = progress.evaluation_id
    assert store.exists(evaluation_collision_key(eid)), "the build wrote the scene's collision pieces"
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    for _ in range(200):  # killed before the workflow went on; its process may take a moment to be reaped
        if not worker.supervisor.job_pids():
            break
        await asyncio.sleep(0.05)
    assert not worker.supervisor.job_pids()
    assert list(store.list(f"evaluations/{eid}/")) == []
