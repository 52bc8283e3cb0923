"""Every workflow input model is fuzzed: malformed input is rejected by the model (the client and CLI
boundary) with a ``ValidationError``, and sent raw to its workflow it fails the workflow at once with a typed
non-retryable error; valid-shaped hostile input fails typed too; no workflow task retries, the worker keeps
serving."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

from faults.fuzz import (
    TARGETS,
    fuzz_workflows,
    hostile_inputs,
    malformed_analyze_request,
    malformed_dataset_request,
    malformed_evaluate_request,
    malformed_generate_benchmark_request,
    model_rejects,
    on_the_wire,
)
from shared import temporal
from shared.models import (
    AnalyzeRequest,
    DatasetRequest,
    EvaluateRequest,
    GenerateBenchmarkRequest,
    ManufacturingReport,
)

PROPERTY = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def assert_rejected(model: type[BaseModel], value: object) -> None:
    """Rejected with a ValidationError (anything else propagates and fails the test), both as given and as
    a workflow decodes it from the client's JSON."""
    assert model_rejects(model, value), f"{model.__name__} accepted {value!r:.300}"
    _, decoded, problem = on_the_wire(value)
    if problem is None:
        assert model_rejects(model, decoded), f"{model.__name__} accepted {decoded!r:.300} (as decoded)"


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
