"""Cancelling a dataset mid-fan-out stops its children and their heavy jobs; the cancellation is in history."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError

from shared.models import DatasetProgress, DatasetRequest
from shared.temporal import WF_GENERATE_DATASET

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
