"""A structural benchmark end to end on the dev server: the shelf family's seed 0 publishes with its
structural margin on the difficulty card; a design plate as thick as the reference passes, and its thin twin
fails with ``breakage``, naming the part, its stress against its allowable and the fix, with a stress map in
its evidence."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from engines.cad.export import step_bytes
from engines.cad.primitives import box
from shared.models import (
    BenchmarkDefinition,
    BenchmarkResult,
    EvaluationResult,
    EvaluationVerdict,
    GenerateBenchmarkRequest,
    Outcome,
    Verdict,
)
from shared.store import LocalStore
from shared.temporal import WF_EVALUATE_DESIGN, WF_GENERATE_BENCHMARK

pytestmark = pytest.mark.temporal


@pytest.fixture(scope="module")
async def shelf(temporal_env, worker_queue, test_settings) -> BenchmarkDefinition:  # type: ignore[no-untyped-def]
    client: Client = temporal_env.client
    result: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="shelf", seed=0),
        id=f"bench-shelf-{uuid.uuid4().hex[:8]}",
        task_queue=worker_queue,
        result_type=BenchmarkResult,
    )
    assert result.verdict == Verdict.PUBLISHED, result.reason
    card = result.difficulty
    assert card is not None and card.structural_margin is not None and card.structural_margin > 1, card
    assert result.definition is not None
    store = LocalStore(test_settings.local_store_dir)
    return BenchmarkDefinition.model_validate_json(store.get_ref(result.definition))


def _plate(definition: BenchmarkDefinition, thickness_mm: float, path: Path) -> dict:
    """The reference plate's footprint at ``thickness_mm``, its top where the reference's is, as a design
    part file with the reference's material and method."""
    (ref,) = definition.reference_solution
    lo, hi = ref.bbox.min_mm, ref.bbox.max_mm
    path.write_bytes(step_bytes(box((lo[0], lo[1], hi[2] - thickness_mm), (hi[0], hi[1], hi[2]))))
    meta = {
        "label": "plate",
        "material": ref.material.value,
        "method": ref.method.value if ref.method else None,
    }
    return {"source": {"path": str(path)}, "metadata": meta}


async def _evaluate(
    client: Client, queue: str, definition: BenchmarkDefinition, part: dict
) -> EvaluationResult:
    return await client.execute_workflow(
        WF_EVALUATE_DESIGN,
        {"benchmark_id": definition.benchmark_id, "design": {"parts": [part]}},
        id=f"evaluate-test-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        result_type=EvaluationResult,
    )


async def test_a_too_thin_shelf_breaks_while_its_thicker_twin_passes(
    temporal_env, worker_queue, test_settings, shelf: BenchmarkDefinition
) -> None:  # type: ignore[no-untyped-def]
    client = temporal_env.client
    params = shelf.params
    designs = test_settings.data_dir / "designs"
    designs.mkdir(exist_ok=True)
    thick = await _evaluate(
        client, worker_queue, shelf, _plate(shelf, params["reference_thickness_mm"], designs / "thick.step")
    )
    thin = await _evaluate(
        client, worker_queue, shelf, _plate(shelf, 0.6 * params["break_thickness_mm"], designs / "thin.step")
    )

    assert thick.verdict == EvaluationVerdict.PASSED, thick.reason
    assert thick.simulation is not None
    checked = [s for r in thick.simulation.results for s in r.structure]
    assert checked and not any(s.broke for s in checked) and all(s.label == "plate" for s in checked)

    assert thin.verdict == EvaluationVerdict.FAILED
    sim = thin.simulation
    assert sim is not None and sim.outcome_counts.get(Outcome.BREAKAGE.value, 0) >= 1, sim.outcome_counts
    broken = next(r for r in sim.results if r.outcome == Outcome.BREAKAGE)
    (stress,) = [s for s in broken.structure if s.broke]
    limit = stress.max_displacement_limit_mm
    overstressed = stress.peak_von_mises_mpa > stress.allowable_mpa
    assert stress.label == "plate" and (
        overstressed or (limit is not None and stress.max_displacement_mm > limit)
    )
    said = "part plate breaks" if overstressed else "part plate sags"
    assert said in broken.detail and said in thin.reason and "fix:" in thin.reason, thin.reason
    ev = thin.evidence
    assert ev is not None and ev.scene_index == broken.scene_index and ev.outcome == Outcome.BREAKAGE
    if ev.render_error is None:  # pictures need a GL context in the job process
        store = LocalStore(test_settings.local_store_dir)
        assert ev.stress_map is not None and store.get_ref(ev.stress_map).startswith(b"\x89PNG")
