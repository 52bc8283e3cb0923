"""The contracts at the workflow boundary, on the dev server: a request whose derived values (a dataset's
seeds) leave their range, and a lax JSON form (a boolean or a string for a number, a string for a boolean),
fail the workflow at once with a non-retryable ``InvalidRequest`` naming the field, without a single failed
workflow task; a design placed 1e308 mm away is an ``invalid`` verdict with a finding naming the part, its
build activity run once."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from engines.cad.export import step_bytes
from engines.cad.primitives import box
from shared.families import GENERATOR_VERSION
from shared.models import (
    EvaluationResult,
    EvaluationVerdict,
)
from shared.temporal import (
    ACT_BUILD_DESIGN,
    WF_ANALYZE_MANUFACTURING,
    WF_EVALUATE_DESIGN,
    WF_GENERATE_BENCHMARK,
    WF_GENERATE_DATASET,
)
from tests.helpers import application_error, publish_chute

pytestmark = pytest.mark.temporal

BENCHMARK = f"chute-s0-v{GENERATOR_VERSION}"
ALUMINIUM_CNC = {"material": "aluminum_6061", "method": "cnc_milling"}
FAR = {"position_mm": [1e308, 0.0, 0.0]}


async def _events(handle: WorkflowHandle[Any, Any]) -> list[Any]:
    return list((await handle.fetch_history()).events)


async def _fails_at_once(client: Client, queue: str, workflow: str, request: dict[str, Any]) -> str:
    """The workflow's failure message; it must be a non-retryable InvalidRequest and no workflow task may
    have failed on the way (a task failing on input retries forever)."""
    handle = await client.start_workflow(
        workflow, request, id=f"contract-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    cause = application_error(info.value)
    assert cause.type == "InvalidRequest" and cause.non_retryable, cause
    events = await _events(handle)
    assert not [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert not [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    return cause.message


async def test_a_dataset_whose_seeds_pass_the_largest_fails_at_once(temporal_env, worker_queue) -> None:  # type: ignore[no-untyped-def]
    """The issue's repro: the second child's seed would be 2**31, which a child request refuses."""
    message = await _fails_at_once(
        temporal_env.client,
        worker_queue,
        WF_GENERATE_DATASET,
        {"families": ["gap"], "count": 2, "base_seed": 2147483647},
    )
    assert "base_seed:" in message and "2147483648" in message, message


ANALYSIS = {"part": {"path": "/nowhere/part.step"}, "method": "cnc", "material": "aluminum_6061"}


@pytest.mark.parametrize(
    ("workflow", "request_", "field"),
    [
        (WF_GENERATE_DATASET, {"families": ["gap"], "count": True}, "count"),
        (WF_GENERATE_DATASET, {"families": ["gap"], "count": "1"}, "count"),
        (WF_GENERATE_DATASET, {"families": ["gap"], "count": 1.0}, "count"),
        (WF_GENERATE_BENCHMARK, {"family": "gap", "seed": "1"}, "seed"),
        (WF_ANALYZE_MANUFACTURING, {**ANALYSIS, "quantity": "10"}, "quantity"),
        (
            WF_EVALUATE_DESIGN,
            {"benchmark_id": BENCHMARK, "design": {"script": {"path": "/nowhere/d.py"}}, "evidence": "no"},
            "evidence",
        ),
    ],
)
async def test_lax_json_is_an_invalid_request_naming_the_field(
    temporal_env, worker_queue, workflow: str, request_: dict[str, Any], field: str
) -> None:  # type: ignore[no-untyped-def]
    message = await _fails_at_once(temporal_env.client, worker_queue, workflow, request_)
    assert f"{field}:" in message, message


@pytest.fixture(scope="module")
async def far_designs(temporal_env, worker_queue, test_settings) -> Path:  # type: ignore[no-untyped-def]
    """chute seed 0 published, and a block and a design script under the worker's part roots, both placing a
    part 1e308 mm away."""
    await publish_chute(temporal_env.client, worker_queue)
    d = test_settings.data_dir / "far-designs"
    d.mkdir(exist_ok=True)
    (d / "block.step").write_bytes(step_bytes(box((40.0, 30.0, 0.0), (60.0, 45.0, 20.0))))
    (d / "far_design.py").write_text(
        "from build123d import Box\n\n\n"
        "def build():\n"
        f"    return [{{'shape': Box(20, 15, 20), 'label': 'far', 'material': 'aluminum_6061',\n"
        f"             'method': 'cnc_milling', 'placement': {FAR!r}}}]\n"
    )
    return d


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", ["metadata", "script"])
async def test_a_placement_1e308_mm_away_is_an_invalid_verdict_without_a_retry(
    temporal_env, worker_queue, far_designs: Path, kind: str
) -> None:  # type: ignore[no-untyped-def]
    design: dict[str, Any]
    if kind == "metadata":
        meta = {"label": "far", **ALUMINIUM_CNC, "placement": FAR}
        design = {"parts": [{"source": {"path": str(far_designs / "block.step")}, "metadata": meta}]}
    else:
        design = {"script": {"path": str(far_designs / "far_design.py")}}
    handle = await temporal_env.client.start_workflow(
        WF_EVALUATE_DESIGN,
        {"benchmark_id": BENCHMARK, "design": design, "evidence": False},
        id=f"evaluate-far-{uuid.uuid4().hex[:8]}",
        task_queue=worker_queue,
        result_type=EvaluationResult,
    )
    result = await handle.result()
    assert result.verdict == EvaluationVerdict.INVALID and result.simulation is None
    (finding,) = [f for f in result.findings if "far" in f.parts]
    assert finding.rule == "part.invalid_metadata", finding
    assert "placement.position_mm.0" in finding.message and "far" in result.reason

    events = await _events(handle)
    scheduled = {
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == ACT_BUILD_DESIGN
    }
    assert len(scheduled) == 1
    (started,) = [
        e
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]
    assert started.activity_task_started_event_attributes.attempt == 1, "the build ran once"
    assert not [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]
