"""What a run says about itself on a real dev server: every workflow started without a summary (as a raw
``temporal workflow start`` does) explains itself in its current details from its first workflow task, and a
dataset entry that failed carries the innermost cause, not "Child Workflow execution failed"."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import (
    ActivityError,
    ChildWorkflowError,
    RetryState,
    TimeoutError,
    TimeoutType,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities import activities_of
from activities.dataset import DatasetActivities
from activities.generation import GenerationActivities
from faults.scenarios.common import until
from shared.families import GENERATOR_VERSION
from shared.models import DatasetManifest, DatasetProgress, DatasetResult, Verdict
from shared.store import LocalStore, make_store
from shared.temporal import (
    WF_ANALYZE_MANUFACTURING,
    WF_EVALUATE_DESIGN,
    WF_GENERATE_BENCHMARK,
    WF_GENERATE_DATASET,
)
from workers.worker import INTERCEPTORS, WORKFLOWS
from workflows.dataset import _failure_reason

pytestmark = pytest.mark.temporal


@contextlib.asynccontextmanager
async def _without_heavy_worker(client: Client, settings, activities: bool) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A worker for the workflows (and, with ``activities``, the store activities), with nobody serving the
    heavy queue: a run waits at its first step (or at its first heavy step) for as long as the test needs."""
    queue = f"noheavy-{uuid.uuid4().hex[:8]}"
    store = make_store(settings)
    listed = activities_of(GenerationActivities(store, settings), DatasetActivities(store, settings))
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        interceptors=INTERCEPTORS,
        activities=listed if activities else [],
    ):
        yield queue


async def _current_details(handle: WorkflowHandle) -> str:
    """The run's current details (what the Web UI shows on its first tab), once its first task has run."""
    for _ in range(400):
        meta = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        if meta.current_details:
            return meta.current_details
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id} set no current details")


async def test_every_workflow_started_without_a_summary_explains_itself(temporal_env, test_settings) -> None:
    client: Client = temporal_env.client
    starts = {
        WF_GENERATE_BENCHMARK: ({"family": "gap", "seed": 5}, "Generate and prove the benchmark gap seed 5"),
        WF_GENERATE_DATASET: (
            {"families": ["chute", "gap"], "count": 4, "base_seed": 3, "dataset_id": "explained"},
            "Generate dataset explained: 4 benchmarks of chute, gap from seed 3",
        ),
        WF_EVALUATE_DESIGN: (
            {"benchmark_id": "chute-s0-v1", "design": {"script": {"path": "/parts/arm_design.py"}}},
            "Evaluate the design script arm_design.py against the benchmark chute-s0-v1",
        ),
        WF_ANALYZE_MANUFACTURING: (
            {
                "part": {"path": "/parts/bracket.step"},
                "method": "cnc",
                "material": "aluminum_6061",
                "quantity": 100,
            },
            "Manufacturing analysis of bracket.step: cnc_milling, aluminum_6061, quantity 100",
        ),
    }
    # The benchmark's lookup runs (a local activity), then it waits for its build; the others wait for their
    # first activity, which nobody serves: what is shown comes from the first workflow task.
    async with (
        _without_heavy_worker(client, test_settings, activities=True) as with_store,
        _without_heavy_worker(client, test_settings, activities=False) as bare,
    ):
        for workflow, (arg, headline) in starts.items():
            queue = with_store if workflow == WF_GENERATE_BENCHMARK else bare
            handle = await client.start_workflow(
                workflow, arg, id=f"explain-{uuid.uuid4().hex[:8]}", task_queue=queue
            )
            try:
                desc = await handle.describe()
                # what a raw `temporal workflow start` gets: no static summary or details in its user metadata
                assert await desc.static_summary() is None and await desc.static_details() is None
                details = await _current_details(handle)
                first, _, stage = details.partition("\n\n")
                assert first.startswith(headline) and stage.startswith("**"), details
            finally:
                await handle.terminate("test over")


def _chain(*errors: BaseException) -> BaseException:
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


def test_a_lost_worker_reason_names_the_timeout_not_the_wrapping() -> None:
    """What a dataset receives when a child's heavy step ran out of attempts on a lost worker."""
    error = _chain(
        ChildWorkflowError(
            "Child Workflow execution failed",
            namespace="default",
            workflow_id="ds--gap-s1-v1",
            run_id="r",
            workflow_type="GenerateBenchmark",
            initiated_event_id=5,
            started_event_id=6,
            retry_state=RetryState.NON_RETRYABLE_FAILURE,
        ),
        ActivityError(
            "Activity task failed",
            scheduled_event_id=7,
            started_event_id=8,
            identity="worker",
            activity_type="simulate_benchmark",
            activity_id="3",
            retry_state=RetryState.MAXIMUM_ATTEMPTS_REACHED,
        ),
        TimeoutError("activity Heartbeat timeout", type=TimeoutType.HEARTBEAT, last_heartbeat_details=[]),
    )
    assert (
        _failure_reason(error) == "simulate_benchmark: TimeoutError (heartbeat): activity Heartbeat timeout"
    )


async def test_a_failed_dataset_entry_carries_the_innermost_cause(temporal_env, test_settings) -> None:
    """A child that ends without an application error (here: terminated while it waits for its build) is
    recorded as failed with that cause in the manifest."""
    client: Client = temporal_env.client
    ds = f"innermost-{uuid.uuid4().hex[:6]}"
    async with _without_heavy_worker(client, test_settings, activities=True) as queue:
        handle = await client.start_workflow(
            WF_GENERATE_DATASET,
            {"families": ["gap"], "count": 1, "base_seed": 40, "dataset_id": ds},
            id=f"ds-{ds}",
            task_queue=queue,
            result_type=DatasetResult,
        )
        for _ in range(400):
            progress = await handle.query("progress", result_type=DatasetProgress)
            if progress.running:
                break
            await asyncio.sleep(0.05)
        assert progress.running, "the child should be waiting for its build"
        child_handle = client.get_workflow_handle(f"ds-{ds}--gap-s40-v{GENERATOR_VERSION}")
        # Running in the progress means the parent asked for the child; on a loaded machine the server may
        # not have started it yet: wait until it exists (a condition, bounded), then terminate it.

        async def child_exists() -> bool:
            try:
                await child_handle.describe()
            except RPCError as e:
                if e.status != RPCStatusCode.NOT_FOUND:
                    raise
                return False
            return True

        assert await until(child_exists, 20.0, 0.05), "the dataset's child never started"
        await child_handle.terminate("stopped by the operator")
        result = await handle.result()
    assert result.failed == 1
    manifest = DatasetManifest.model_validate_json(
        LocalStore(test_settings.local_store_dir).get_ref(result.manifest)
    )
    (entry,) = manifest.entries
    assert entry.verdict == Verdict.FAILED
    assert entry.reason is not None and "Child Workflow execution failed" not in entry.reason, entry.reason
    assert "TerminatedError" in entry.reason, entry.reason
