"""Reuse of finished benchmarks on a real dev server: every family's benchmark is reused when asked for again,
and a benchmark whose stored artifacts are damaged is proven again and repaired instead of reused."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory

from shared.families import FAMILIES
from shared.models import (
    ArtifactRef,
    BenchmarkDefinition,
    BenchmarkResult,
    EvaluationResult,
    EvaluationVerdict,
    GenerateBenchmarkRequest,
    Verdict,
)
from shared.store import LocalStore
from shared.temporal import WF_EVALUATE_DESIGN, WF_GENERATE_BENCHMARK
from tests.helpers import application_error

pytestmark = pytest.mark.temporal


async def _generate(client: Client, queue: str, req: GenerateBenchmarkRequest) -> BenchmarkResult:
    return await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        req,
        id=f"reuse-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        result_type=BenchmarkResult,
    )


@pytest.mark.parametrize("family", FAMILIES)
async def test_every_family_is_reused_the_second_time(temporal_env, worker_queue, family: str) -> None:
    """The family's own scene count and check interval (lift checks every 2 steps, the others every 10) are
    what a request that names none asks for, so the second run reuses the first one's verdict."""
    client: Client = temporal_env.client
    req = GenerateBenchmarkRequest(family=family, seed=71)
    first = await _generate(client, worker_queue, req)
    assert not first.reused
    again = await _generate(client, worker_queue, req)
    assert again.reused, f"{first.benchmark_id} proven again on {first.basis}"
    assert again.verdict == first.verdict and again.definition == first.definition


def _damage(path: Path) -> None:
    """Overwrite 5 bytes in the middle of a stored file (its size stays the same)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 5] = bytes(b ^ 0xFF for b in data[middle : middle + 5])
    path.write_bytes(bytes(data))


def _lookup_not_reused(history: WorkflowHistory) -> list[str]:
    """What the recorded lookup (a local activity's marker) says about why the stored verdict was not reused."""
    found = []
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            for payload in event.marker_recorded_event_attributes.details["result"].payloads:
                data = json.loads(payload.data)
                if isinstance(data, dict) and data.get("not_reused"):
                    found.append(data["not_reused"])
    return found


def _artifacts(store: LocalStore, result: BenchmarkResult) -> dict[str, ArtifactRef]:
    """Every artifact a published benchmark refers to, by kind."""
    assert result.definition is not None
    definition = BenchmarkDefinition.model_validate_json(store.get_ref(result.definition))
    a = definition.artifacts
    assert a.scene_glb is not None and a.thumbnail is not None
    kinds = {
        "definition": result.definition,
        "collision": a.collision,
        "scene": a.scene_glb,
        "thumbnail": a.thumbnail,
    }
    kinds |= {f"{mode} trajectory": ref for mode, ref in result.trajectories.items()}
    for spec in definition.fixtures + definition.reference_solution:
        assert spec.step is not None
        kinds[f"{spec.role.value} STEP {spec.label}"] = spec.step
    return kinds


async def _evaluate_reference(client: Client, queue: str, store: LocalStore, part_dir: Path, bid: str):  # type: ignore[no-untyped-def]
    """The benchmark's own reference chute submitted as a design."""
    chute = part_dir / f"{bid}-chute.step"
    chute.write_bytes(store.get_bytes(f"benchmarks/{bid}/parts/chute.step"))
    design = {
        "parts": [
            {
                "source": {"path": str(chute)},
                "metadata": {"label": "ramp", "material": "aluminum_6061", "method": "cnc_milling"},
            }
        ]
    }
    return await client.execute_workflow(
        WF_EVALUATE_DESIGN,
        {"benchmark_id": bid, "design": design, "evidence": False},
        id=f"reuse-eval-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        result_type=EvaluationResult,
    )


async def test_damaged_artifacts_are_proven_again_and_repaired(
    temporal_env, worker_queue, test_settings
) -> None:
    """Each artifact a published benchmark refers to (definition, STEP parts, collision pieces, scene,
    thumbnail, both trajectories), damaged in 5 bytes: the next generate does not reuse it, says in its history
    which artifact was damaged, proves the benchmark again (which repairs it), and an evaluation against it
    works. Before, the damaged copy was reused forever and the evaluation failed with "damaged"."""
    client: Client = temporal_env.client
    store = LocalStore(test_settings.local_store_dir)
    req = GenerateBenchmarkRequest(family="chute", seed=1)
    first = await _generate(client, worker_queue, req)
    assert first.verdict == Verdict.PUBLISHED, first.reason
    assert set(first.trajectories) == {"baseline", "reference"}, (
        "trajectories are recorded by sha256 and size"
    )
    kinds = _artifacts(store, first)
    assert len(kinds) >= 8, kinds

    # the case: a damaged collision.npz makes the evaluation fail; generating again repairs it
    _damage(store.path_of(kinds["collision"].key))
    with pytest.raises(WorkflowFailureError) as info:
        await _evaluate_reference(client, worker_queue, store, test_settings.data_dir, first.benchmark_id)
    assert "damaged" in application_error(info.value).message

    for kind in ["collision", *(k for k in kinds if k != "collision")]:
        ref = kinds[kind]
        if kind != "collision":  # damaged above
            _damage(store.path_of(ref.key))
        wf_id = f"reuse-repair-{uuid.uuid4().hex[:8]}"
        repaired: BenchmarkResult = await client.execute_workflow(
            WF_GENERATE_BENCHMARK, req, id=wf_id, task_queue=worker_queue, result_type=BenchmarkResult
        )
        assert not repaired.reused, f"a damaged {kind} was reused"
        assert repaired.verdict == Verdict.PUBLISHED, repaired.reason
        (why,) = _lookup_not_reused(await client.get_workflow_handle(wf_id).fetch_history())
        assert ref.key in why and "damaged" in why, why
        for other in _artifacts(store, repaired).values():
            store.verify(other)  # every artifact intact again
        again = await _generate(client, worker_queue, req)
        assert again.reused, f"not reused after repairing the {kind}"

    evaluation = await _evaluate_reference(
        client, worker_queue, store, test_settings.data_dir, first.benchmark_id
    )
    assert evaluation.verdict == EvaluationVerdict.PASSED, evaluation.reason
