"""Every workflow input model is fuzzed: malformed input (lax forms such as ``"count": "1"`` included) is
rejected at the workflow boundary (the strict JSON parse of what the client sends) with a
``ValidationError``, and sent raw to its workflow it fails the workflow at once with a typed non-retryable
error; valid-shaped hostile input fails typed too; no workflow task retries, the worker keeps serving. Part
metadata out of its physical bounds is rejected by the contract design validation uses."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, find, given, settings
from pydantic import BaseModel, ValidationError

from faults.fuzz import (
    TARGETS,
    bad_bool,
    bad_value,
    design_part_metadata,
    fuzz_workflows,
    hostile_inputs,
    limits,
    malformed_analyze_request,
    malformed_dataset_request,
    malformed_design_part_metadata,
    malformed_evaluate_request,
    malformed_generate_benchmark_request,
    model_rejects,
)
from shared import temporal
from shared.models import (
    AnalyzeRequest,
    DatasetRequest,
    DesignPartMeta,
    EvaluateRequest,
    GenerateBenchmarkRequest,
    ManufacturingReport,
    SceneCount,
    parse_json_value,
)

PROPERTY = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def assert_rejected(model: type[BaseModel], value: object) -> None:
    """Rejected with a ValidationError (anything else propagates and fails the test) by the workflow
    boundary: the strict parse of the JSON the client sends."""
    assert model_rejects(model, value), f"{model.__name__} accepted {value!r:.300}"


@PROPERTY
@given(malformed_generate_benchmark_request())
def test_generate_benchmark_request_rejects_malformed_input(value: object) -> None:
    assert_rejected(GenerateBenchmarkRequest, value)


@PROPERTY
@given(malformed_dataset_request())
def test_dataset_request_rejects_malformed_input(value: object) -> None:
    assert_rejected(DatasetRequest, value)


@PROPERTY
@given(malformed_analyze_request())
def test_analyze_request_rejects_malformed_input(value: object) -> None:
    assert_rejected(AnalyzeRequest, value)


@PROPERTY
@given(malformed_evaluate_request())
def test_evaluate_request_rejects_malformed_input(value: object) -> None:
    assert_rejected(EvaluateRequest, value)


@PROPERTY
@given(malformed_design_part_metadata())
def test_design_part_metadata_rejects_malformed_input(value: object) -> None:
    """What design validation turns into ``part.invalid_metadata`` findings: out-of-range placements,
    joints and motors, lax forms, unknown fields."""
    with pytest.raises(ValidationError):
        parse_json_value(DesignPartMeta, value)


@PROPERTY
@given(design_part_metadata())
def test_design_part_metadata_in_range_is_accepted(value: object) -> None:
    parse_json_value(DesignPartMeta, value)


def test_the_fuzzer_generates_the_lax_forms() -> None:
    """Booleans, numeric strings and integral floats for integers; words and 0/1 for booleans. Each form is
    searched for (``hypothesis.find``), not expected among a fixed sample: what one sample holds depends on
    hypothesis' state in the session."""
    search = settings(max_examples=20_000, database=None, suppress_health_check=list(HealthCheck))

    def produces(strategy, condition) -> None:  # type: ignore[no-untyped-def]
        find(strategy, condition, settings=search)  # raises NoSuchExample when the form is never drawn

    produces(bad_value(SceneCount), lambda v: v is True or v is False)
    scenes = limits(SceneCount)
    assert scenes.lo is not None and scenes.hi is not None
    lo, hi = scenes.lo, scenes.hi
    produces(
        bad_value(SceneCount), lambda v: isinstance(v, str) and v.strip().isdigit() and lo <= int(v) <= hi
    )
    produces(bad_value(SceneCount), lambda v: isinstance(v, float) and v.is_integer() and lo <= v <= hi)
    produces(bad_bool(), lambda v: v == "no")
    produces(bad_bool(), lambda v: v == 1 and type(v) is int)
    produces(malformed_dataset_request(), lambda d: isinstance(d, dict) and d.get("count") is True)
    produces(malformed_dataset_request(), lambda d: isinstance(d, dict) and isinstance(d.get("count"), str))


def test_targets_are_the_four_workflows_and_their_input_models() -> None:
    assert {(t.name, t.model) for t in TARGETS} == {
        (temporal.WF_GENERATE_BENCHMARK, GenerateBenchmarkRequest),
        (temporal.WF_GENERATE_DATASET, DatasetRequest),
        (temporal.WF_ANALYZE_MANUFACTURING, AnalyzeRequest),
        (temporal.WF_EVALUATE_DESIGN, EvaluateRequest),
    }


def test_hostile_inputs_are_valid_shaped() -> None:
    """They get past the model, so they test what the workflow and its activities do with them."""
    models = {t.name: t.model for t in TARGETS}
    cases = hostile_inputs("/srv/parts", sdk_limits=True)
    assert set(cases) == set(models)
    for name, items in cases.items():
        assert len(items) >= 5
        for case in items:
            if len(case.args) == 1:
                models[name].model_validate(case.args[0])
            else:
                assert case.label.startswith(("no input", "two inputs"))


@pytest.mark.temporal
@pytest.mark.timeout(240)
async def test_fuzzed_workflows_fail_typed_and_the_worker_keeps_serving(
    temporal_env, worker_queue, test_settings
) -> None:  # type: ignore[no-untyped-def]
    client = temporal_env.client
    report = await fuzz_workflows(
        client,
        worker_queue,
        per_type=50,
        seed=20_240_611,
        concurrency=32,
        timeout_s=15.0,
        part_root=str(test_settings.data_dir),
    )
    print(report.format())

    # The worker still serves a valid request after all that: a small STL analysed end to end.
    import trimesh

    part = test_settings.data_dir / f"fuzz-cube-{uuid.uuid4().hex[:6]}.stl"
    part.write_bytes(trimesh.creation.box(extents=(20.0, 15.0, 10.0)).export(file_type="stl"))
    served: ManufacturingReport = await client.execute_workflow(
        temporal.WF_ANALYZE_MANUFACTURING,
        {"part": {"path": str(part)}, "method": "fdm", "material": "pla", "quantity": 3},
        id=f"fuzz-after-{uuid.uuid4().hex[:8]}",
        task_queue=worker_queue,
        result_type=ManufacturingReport,
        execution_timeout=timedelta(seconds=120),
    )
    assert served.quote.unit_cost_usd > 0 and served.part.format == "stl"

    for t in report.types:
        assert t.generated == 50 and t.rejected_by_model == 50, t
        assert t.sent + t.rejected_at_client == 50, t
        assert t.hostile_sent >= 5, t
    assert report.workflow_task_failures == 0, report.format()
    assert report.bad == 0, report.format()
    assert sum(t.failed_typed for t in report.types) == sum(t.sent for t in report.types)


@pytest.mark.temporal
@pytest.mark.timeout(120)
async def test_a_workflow_task_that_timed_out_is_load_and_one_that_failed_is_a_retry_loop(
    temporal_env,
) -> None:  # type: ignore[no-untyped-def]
    """The fuzz tells the machine being slow from the input being mishandled: workflow tasks are polled by
    hand on a queue no worker serves, one left to time out (``WorkflowTaskTimedOut``) and one answered
    ``RespondWorkflowTaskFailed``. Both workflows then have a pending task at attempt 2; only the failed one is
    reported as retrying; the timed-out one is reported slow, so its deadline is extended."""
    from temporalio.api.enums.v1 import EventType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import (
        PollWorkflowTaskQueueRequest,
        RespondWorkflowTaskFailedRequest,
    )

    from faults.fuzz.runner import _retrying

    client = temporal_env.client
    service = client.workflow_service
    queue = f"fuzz-hand-{uuid.uuid4().hex[:8]}"

    async def started_and_polled(kind: str):  # type: ignore[no-untyped-def]
        handle = await client.start_workflow(
            "NoSuchWorkflow",
            id=f"fuzz-{kind}-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            task_timeout=timedelta(seconds=1),
            execution_timeout=timedelta(seconds=90),
        )
        task = await service.poll_workflow_task_queue(
            PollWorkflowTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=queue), identity="fuzz-test"
            )
        )
        assert task.workflow_execution.workflow_id == handle.id
        return handle, task

    async def second_attempt(handle) -> None:  # type: ignore[no-untyped-def]
        async def pending() -> int:
            return (await handle.describe()).raw_description.pending_workflow_task.attempt

        for _ in range(600):  # condition polled, no fixed sleep: at most 60 s
            if await pending() > 1:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the workflow task never reached attempt 2")

    timed_out, _ = await started_and_polled("timeout")  # never answered: times out after 1 s
    failed, task = await started_and_polled("failed")
    await service.respond_workflow_task_failed(
        RespondWorkflowTaskFailedRequest(
            namespace=client.namespace, task_token=task.task_token, identity="fuzz-test"
        )
    )
    try:
        await second_attempt(timed_out)
        await second_attempt(failed)
        kinds = {e.event_type for e in (await timed_out.fetch_history()).events}
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT in kinds
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds
        assert await _retrying(timed_out) == (None, 2)
        assert await _retrying(failed) == ("workflow task retrying (attempt 2)", 0)
    finally:
        for h in (timed_out, failed):
            await h.terminate(reason="test done")
