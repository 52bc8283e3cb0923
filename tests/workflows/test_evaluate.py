"""EvaluateDesign end to end on the dev server: a known-good design passes, known-bad ones fail with the right
outcome, invalid designs get a report naming each offending part, the same design is not simulated twice,
design scripts run in the sandbox, and a cancelled evaluation leaves no job process behind."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError

from engines.cad.export import step_bytes
from engines.cad.primitives import box
from shared.families import GENERATOR_VERSION
from shared.keys import evaluation_result_key, upload_key
from shared.models import (
    BenchmarkResult,
    EvaluationResult,
    EvaluationVerdict,
    GenerateBenchmarkRequest,
    Outcome,
    Verdict,
)
from shared.refs import sha256_hex
from shared.store import LocalStore
from shared.temporal import SA_VERDICT, WF_EVALUATE_DESIGN, WF_GENERATE_BENCHMARK
from tests.helpers import application_error, publish_chute, wait_until_simulating

pytestmark = pytest.mark.temporal

EXAMPLES = Path(__file__).parents[2] / "examples"
BENCHMARK = f"chute-s0-v{GENERATOR_VERSION}"
ALUMINIUM_CNC = {"material": "aluminum_6061", "method": "cnc_milling"}


@pytest.fixture(scope="module")
async def published(temporal_env, worker_queue, test_settings) -> BenchmarkResult:  # type: ignore[no-untyped-def]
    return await publish_chute(temporal_env.client, worker_queue)


@pytest.fixture(scope="module")
def design_dir(test_settings, published) -> Path:  # type: ignore[no-untyped-def]
    """Part files under the worker's part roots: the benchmark's own reference chute, a block off the ball's
    path, and a heavy steel slab."""
    d = test_settings.data_dir / "designs"
    d.mkdir(exist_ok=True)
    store = LocalStore(test_settings.local_store_dir)
    (d / "chute.step").write_bytes(store.get_bytes(f"benchmarks/{BENCHMARK}/parts/chute.step"))
    # chute seed 0: build zone x -47..167, y -43..43, z 0..159; pit |x|,|y| < 22.5; bin from x 74.5, |y| < 23
    (d / "block.step").write_bytes(step_bytes(box((40.0, 26.0, 0.0), (60.0, 40.0, 20.0))))
    (d / "slab.step").write_bytes(step_bytes(box((40.0, -42.0, 0.0), (80.0, -26.0, 60.0))))
    return d


async def _evaluate(client: Client, queue: str, req: dict, wf_id: str | None = None) -> EvaluationResult:
    return await client.execute_workflow(
        WF_EVALUATE_DESIGN,
        req,
        id=wf_id or f"evaluate-test-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
        result_type=EvaluationResult,
    )


def _files(design_dir: Path, *parts: dict) -> dict:
    return {
        "parts": [
            {
                "source": {"path": str(design_dir / p["file"])},
                "metadata": {k: v for k, v in p.items() if k != "file"},
            }
            for p in parts
        ]
    }


async def test_known_good_design_passes_with_evidence_and_is_not_simulated_twice(
    temporal_env, worker_queue, design_dir, test_settings
) -> None:  # type: ignore[no-untyped-def]
    client = temporal_env.client
    req = {
        "benchmark_id": BENCHMARK,
        "design": _files(design_dir, {"file": "chute.step", "label": "ramp", **ALUMINIUM_CNC}),
    }
    wf_id = f"evaluate-test-{uuid.uuid4().hex[:8]}"
    result = await _evaluate(client, worker_queue, req, wf_id)
    assert result.verdict == EvaluationVerdict.PASSED, result.reason
    assert result.evaluation_id.startswith(f"{BENCHMARK}-") and not result.reused
    sim = result.simulation
    assert sim is not None and len(sim.results) == 8 and sim.mode.value == "design"
    assert result.success_share is not None and result.success_share >= 0.75
    assert all(r.outcome in Outcome for r in sim.results)
    cost = result.cost
    assert cost is not None and cost.within_cost_cap and cost.within_weight_cap and cost.manufacturable
    # the reference solution itself, priced by the same engine: exactly the cap's reference cost
    assert cost.unit_cost_usd == pytest.approx(cost.max_unit_cost_usd / 1.5, rel=1e-3)
    assert set(result.timings_s) == {"build", "compile", "simulate", "evidence"}

    store = LocalStore(test_settings.local_store_dir)
    ev = result.evidence
    assert ev is not None and ev.outcome == Outcome.GOAL_REACHED
    assert store.get_ref(ev.trajectory)
    if ev.render_error is None:  # pictures need a GL context (EGL) in the job process
        for ref, magic in ((ev.picture, b"\x89PNG"), (ev.frames, b"\x89PNG"), (ev.animation, b"RIFF")):
            assert ref is not None and store.get_ref(ref).startswith(magic)
    assert (
        store.get_model(evaluation_result_key(result.evaluation_id), EvaluationResult).verdict
        == result.verdict
    )
    desc = await client.get_workflow_handle(wf_id).describe()
    assert desc.typed_search_attributes.get(SA_VERDICT) == "passed"

    # the same design again (another file name, same bytes and metadata): the stored result, no simulation
    (design_dir / "chute-copy.step").write_bytes((design_dir / "chute.step").read_bytes())
    again_req = {
        "benchmark_id": BENCHMARK,
        "design": _files(design_dir, {"file": "chute-copy.step", "label": "ramp", **ALUMINIUM_CNC}),
    }
    again_id = f"evaluate-test-{uuid.uuid4().hex[:8]}"
    again = await _evaluate(client, worker_queue, again_req, again_id)
    assert again.reused and again.evaluation_id == result.evaluation_id and again.verdict == result.verdict
    assert again.result is not None and again.result.key == evaluation_result_key(result.evaluation_id)
    history = await client.get_workflow_handle(again_id).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == ["stage_design"], scheduled


async def test_known_bad_designs_fail_with_the_right_outcome(temporal_env, worker_queue, design_dir) -> None:  # type: ignore[no-untyped-def]
    client = temporal_env.client
    # a block off the ball's path: the ball falls into the forbidden pit in every scene
    missed = await _evaluate(
        client,
        worker_queue,
        {
            "benchmark_id": BENCHMARK,
            "design": _files(design_dir, {"file": "block.step", "label": "block", **ALUMINIUM_CNC}),
            "evidence": False,
        },
    )
    assert missed.verdict == EvaluationVerdict.FAILED and missed.evidence is None
    assert missed.simulation is not None
    assert {r.outcome for r in missed.simulation.results} == {Outcome.FORBIDDEN_ZONE}
    assert missed.success_share == 0.0 and "0 of 8 scenes" in missed.reason

    # the reference chute plus a heavy steel slab: solves it, but over the weight cap
    heavy = await _evaluate(
        client,
        worker_queue,
        {
            "benchmark_id": BENCHMARK,
            "design": _files(
                design_dir,
                {"file": "chute.step", "label": "ramp", **ALUMINIUM_CNC},
                {"file": "slab.step", "label": "slab", "material": "steel_carbon", "method": "cnc"},
            ),
            "evidence": False,
        },
    )
    assert heavy.verdict == EvaluationVerdict.FAILED and heavy.meets_required_share
    assert heavy.cost is not None and not heavy.cost.within_weight_cap and "weight" in heavy.reason


async def test_a_part_that_cannot_be_made_fails_with_the_finding_an_agent_can_act_on(
    temporal_env, worker_queue, design_dir
) -> None:  # type: ignore[no-untyped-def]
    """The reference chute plus a printed 0.3 mm sheet beside the ball's path: it solves the benchmark, but the
    sheet is thinner than a printer's walls. The reason and the cost carry the whole finding."""
    (design_dir / "sheet.step").write_bytes(step_bytes(box((40.0, 30.0, 0.0), (80.0, 30.3, 30.0))))
    thin = await _evaluate(
        temporal_env.client,
        worker_queue,
        {
            "benchmark_id": BENCHMARK,
            "design": _files(
                design_dir,
                {"file": "chute.step", "label": "ramp", **ALUMINIUM_CNC},
                {"file": "sheet.step", "label": "sheet", "material": "pla", "method": "fdm"},
            ),
            "evidence": False,
        },
    )
    assert thin.verdict == EvaluationVerdict.FAILED and thin.cost is not None and not thin.cost.manufacturable
    [sheet] = [p for p in thin.cost.parts if p.label == "sheet"]
    assert sheet.blocking and [f.rule_id for f in sheet.blocking_findings] == sheet.blocking
    finding = sheet.blocking_findings[0]
    assert finding.measured is not None and finding.limit is not None and finding.fix
    assert f"sheet (fdm_printing): {finding.rule_id}" in thin.reason
    assert "against a limit of" in thin.reason and f"fix: {finding.fix}" in thin.reason


async def test_a_design_uploaded_to_the_store_is_evaluated_like_one_on_a_path(
    temporal_env, worker_queue, design_dir, test_settings
) -> None:  # type: ignore[no-untyped-def]
    """What the CLI does: upload the files (content-addressed), then name them as stored artifacts."""
    store = LocalStore(test_settings.local_store_dir)
    data = (design_dir / "chute.step").read_bytes()
    ref = store.put_bytes(upload_key(sha256_hex(data), ".step"), data)
    part = {"source": {"artifact": ref.model_dump(mode="json"), "filename": "ramp.step"}}
    req = {
        "benchmark_id": BENCHMARK,
        "design": {"parts": [{**part, "metadata": {"label": "ramp", **ALUMINIUM_CNC}}]},
        "evidence": False,
    }
    result = await _evaluate(temporal_env.client, worker_queue, req)
    assert result.verdict == EvaluationVerdict.PASSED, result.reason


async def test_fewer_scenes_than_the_benchmark_asks_for_cannot_pass(
    temporal_env, worker_queue, design_dir
) -> None:  # type: ignore[no-untyped-def]
    req = {
        "benchmark_id": BENCHMARK,
        "design": _files(design_dir, {"file": "chute.step", "label": "ramp", **ALUMINIUM_CNC}),
        "n_scenes": 2,
        "evidence": False,
    }
    result = await _evaluate(temporal_env.client, worker_queue, req)
    assert result.success_share == 1.0 and result.verdict == EvaluationVerdict.FAILED
    assert "at least the benchmark's 8" in result.reason


async def test_an_invalid_design_gets_a_report_naming_each_offending_part(
    temporal_env, worker_queue, design_dir, test_settings
) -> None:  # type: ignore[no-untyped-def]
    design = _files(
        design_dir,
        {"file": "block.step", "label": "far", **ALUMINIUM_CNC, "placement": {"position_mm": [5000, 0, 0]}},
        {"file": "block.step", "label": "gold", "material": "unobtainium", "method": "cnc"},
        {
            "file": "block.step",
            "label": "flap",
            **ALUMINIUM_CNC,
            "joint": {"type": "hinge", "axis": [0, 0, 0]},
        },
        {
            "file": "block.step",
            "label": "lift",
            **ALUMINIUM_CNC,
            "motor": {"mode": "constant_velocity", "max_effort": 0},
        },
        {"file": "chute.step", "label": "ramp", **ALUMINIUM_CNC},
        {"file": "chute.step", "label": "ramp2", **ALUMINIUM_CNC},
        # assemblies and bought motors: a joint to a part that is not there, an unknown catalogue motor, a
        # servo asked for more than it gives, a cycle of fastened parts
        {
            "file": "block.step",
            "label": "orphan",
            **ALUMINIUM_CNC,
            "joint": {"type": "fixed", "parent": "ghost"},
        },
        {
            "file": "block.step",
            "label": "spin",
            **ALUMINIUM_CNC,
            "joint": {"type": "hinge", "axis": [0, 0, 1]},
            "motor": {"mode": "constant_velocity", "item": "warp_drive", "max_effort": 1, "velocity": 10},
        },
        {
            "file": "block.step",
            "label": "strong",
            **ALUMINIUM_CNC,
            "joint": {"type": "hinge", "axis": [0, 0, 1]},
            "motor": {"mode": "constant_velocity", "item": "servo_hs422", "max_effort": 5, "velocity": 10},
        },
        {
            "file": "block.step",
            "label": "loop-a",
            **ALUMINIUM_CNC,
            "joint": {"type": "fixed", "parent": "loop-b"},
        },
        {
            "file": "block.step",
            "label": "loop-b",
            **ALUMINIUM_CNC,
            "joint": {"type": "fixed", "parent": "loop-a"},
        },
    )
    result = await _evaluate(temporal_env.client, worker_queue, {"benchmark_id": BENCHMARK, "design": design})
    assert result.verdict == EvaluationVerdict.INVALID and result.simulation is None
    rules = {(f.rule, part) for f in result.findings for part in f.parts}
    for expected in (
        ("design.outside_build_zone", "far"),
        ("part.unknown_material", "gold"),
        ("joint.invalid_axis", "flap"),
        ("motor.without_joint", "lift"),
        ("motor.invalid_limit", "lift"),
        ("part.interference", "ramp2"),
        ("joint.unknown_parent", "orphan"),
        ("motor.unknown_item", "spin"),
        ("motor.over_item_limit", "strong"),
        ("joint.cycle", "loop-a"),
        ("joint.cycle", "loop-b"),
    ):
        assert expected in rules, (expected, sorted(rules))
    over = next(f for f in result.findings if f.rule == "motor.over_item_limit")
    assert "servo_hs422" in over.message and over.limit == 0.4
    for name in ("far", "gold", "flap", "lift", "ramp2"):
        assert name in result.reason
    # the picture of the invalid design: the scene with the offending parts drawn red
    if result.invalid_picture is not None:  # rendering needs a GL context (EGL) in the job process
        png = LocalStore(test_settings.local_store_dir).get_ref(result.invalid_picture)
        assert png.startswith(b"\x89PNG") and result.invalid_picture.key.endswith("/evidence/invalid.png")


async def test_a_design_without_parts_is_invalid_and_an_unknown_benchmark_is_a_bad_request(
    temporal_env, worker_queue
) -> None:  # type: ignore[no-untyped-def]
    empty = await _evaluate(
        temporal_env.client, worker_queue, {"benchmark_id": BENCHMARK, "design": {"parts": []}}
    )
    assert empty.verdict == EvaluationVerdict.INVALID
    assert [f.rule for f in empty.findings] == ["design.no_parts"]
    with pytest.raises(WorkflowFailureError) as info:
        await _evaluate(
            temporal_env.client, worker_queue, {"benchmark_id": "chute-s999-v1", "design": {"parts": []}}
        )
    cause = application_error(info.value)
    assert cause.type == "InvalidRequest" and cause.non_retryable and "chute-s999-v1" in cause.message


async def test_a_design_script_is_built_in_the_sandbox_and_solves_the_benchmark(
    temporal_env, worker_queue, design_dir
) -> None:  # type: ignore[no-untyped-def]
    script = design_dir / "chute_design.py"
    script.write_text((EXAMPLES / "designs" / "chute_design.py").read_text())
    result = await _evaluate(
        temporal_env.client,
        worker_queue,
        {"benchmark_id": BENCHMARK, "design": {"script": {"path": str(script)}}, "evidence": False},
    )
    assert result.verdict == EvaluationVerdict.PASSED, (result.reason, result.findings)
    assert [p.role.value for p in result.parts] == ["design"] * len(result.parts)


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("def build(:\n    pass\n", "line 1"),
        ("def build():\n    return [{'label': 'x'}]\n", "shape"),
        ("import os\ndef build():\n    return open('/etc/passwd').read()\n", "Permission"),
        ("import os\ndef build():\n    os.fork()\n", "build()"),
    ],
)
async def test_a_hostile_or_broken_design_script_is_a_typed_non_retryable_failure(
    temporal_env, worker_queue, design_dir, source, says
) -> None:  # type: ignore[no-untyped-def]
    script = design_dir / f"bad_{uuid.uuid4().hex[:6]}.py"
    script.write_text(source)
    with pytest.raises(WorkflowFailureError) as info:
        await _evaluate(
            temporal_env.client,
            worker_queue,
            {"benchmark_id": BENCHMARK, "design": {"script": {"path": str(script)}}},
        )
    cause = application_error(info.value)
    assert cause.type == "InvalidPart" and cause.non_retryable
    assert says in cause.message, cause.message


async def test_cancelling_an_evaluation_stops_the_simulation_within_seconds(
    temporal_env, worker, design_dir
) -> None:  # type: ignore[no-untyped-def]
    client = temporal_env.client
    req = {
        "benchmark_id": BENCHMARK,
        "design": _files(design_dir, {"file": "chute.step", "label": "cancelled", **ALUMINIUM_CNC}),
        "n_scenes": 64,
    }
    handle = await client.start_workflow(
        WF_EVALUATE_DESIGN, req, id=f"evaluate-cancel-{uuid.uuid4().hex[:6]}", task_queue=worker.queue
    )
    progress = await wait_until_simulating(handle, worker.supervisor)
    assert progress.stage == "simulate", progress
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    loop = asyncio.get_running_loop()
    started = loop.time()
    while worker.supervisor.job_pids() and loop.time() - started < 10:
        await asyncio.sleep(0.1)
    assert not worker.supervisor.job_pids(), "the simulation's job process outlived the cancellation"


def test_cli_rejects_a_bad_design_file_before_anything_is_uploaded(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "MECHBENCH_DATA_DIR": str(tmp_path / "data")}
    design = tmp_path / "design.json"
    cases = [
        (json.dumps({"parts": [{"file": "missing.step", "label": "a"}]}), "missing.step"),
        (json.dumps({"parts": [{"label": "a"}]}), "file"),
        ("{not json", "JSON"),
    ]
    for text, says in cases:
        design.write_text(text)
        out = subprocess.run(
            [sys.executable, "-m", "workers.cli", "evaluate", BENCHMARK, str(design)],
            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False,
        )  # fmt: skip
        assert out.returncode == 2, out.stderr
        assert says in out.stderr, out.stderr
    assert not (tmp_path / "data" / "store").exists()


async def test_a_retried_design_simulation_resumes_after_the_last_finished_scene(
    test_settings, published, design_dir
) -> None:  # type: ignore[no-untyped-def]
    """The second attempt gets the first one's last heartbeat (scenes 0-2 done) and runs only the rest."""
    import dataclasses

    from temporalio.testing import ActivityEnvironment

    from activities.evaluation import published_definition
    from activities.heavy import HeavyActivities
    from runtime.supervisor import HeavySupervisor
    from shared.models import (
        BuildDesignRequest,
        HeavyProgress,
        SceneResult,
        SimulateRequest,
        SimulationMode,
        StagedDesign,
        StagedDesignPart,
        StagedPart,
    )

    store = LocalStore(test_settings.local_store_dir)
    definition, _ = published_definition(store, BENCHMARK)
    data = (design_dir / "chute.step").read_bytes()
    ref = store.put_bytes("uploads/resume-test.step", data)
    staged = StagedDesign(
        design_sha256="1" * 64,
        parts=[
            StagedDesignPart(
                part=StagedPart(artifact=ref, format="step"), metadata={"label": "ramp", **ALUMINIUM_CNC}
            )
        ],
    )
    supervisor = HeavySupervisor(test_settings)
    heavy = HeavyActivities(supervisor)
    try:
        built = await ActivityEnvironment().run(
            heavy.build_design,
            BuildDesignRequest(evaluation_id="resume-test", definition=definition, design=staged),
        )
        assert built.valid and built.scene is not None
        marked = [
            SceneResult(
                scene_index=i,
                jitter_mm=(0.0, 0.0, 0.0),
                outcome=Outcome.TIMEOUT,
                time_s=0.0,
                steps=0,
                detail="attempt 1",
            )
            for i in range(3)
        ]
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info,
            attempt=2,
            heartbeat_details=[
                HeavyProgress(stage="simulate:design", done=3, total=6, completed=marked).model_dump(
                    mode="json"
                )
            ],
        )
        report = await env.run(
            heavy.simulate_benchmark,
            SimulateRequest(
                definition=built.scene, mode=SimulationMode.DESIGN, n_scenes=6, evaluation_id="resume-test"
            ),
        )
    finally:
        await supervisor.close()
    assert report.resumed_scenes == 3
    assert [r.detail for r in report.results[:3]] == ["attempt 1"] * 3
    assert all(r.outcome == Outcome.GOAL_REACHED for r in report.results[3:])


async def test_motors_end_to_end_a_lift_is_published_and_a_weak_motor_overloads(
    temporal_env, worker_queue, test_settings
) -> None:  # type: ignore[no-untyped-def]
    """The motor-driven family's benchmark passes every proof (its reference solution is an assembly on a
    motorised slide); the same two parts submitted as a design file, the tray fastened to the platform, pass
    with their bought motor and screws priced; with a motor too weak to lift them it stalls at its hard stop:
    motor_overload in every scene."""
    client = temporal_env.client
    published: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="lift", seed=0),
        id=f"bench-{uuid.uuid4().hex[:8]}",
        task_queue=worker_queue,
        result_type=BenchmarkResult,
    )
    assert published.verdict == Verdict.PUBLISHED, published.reason
    store = LocalStore(test_settings.local_store_dir)
    from activities.evaluation import published_definition

    definition, _ = published_definition(store, published.benchmark_id)
    # The reference is an assembly: the plate on the motorised slide, the printed tray fastened on it.
    reference, tray = definition.reference_solution
    assert reference.joint is not None and reference.motor is not None and reference.step is not None
    assert tray.joint is not None and tray.joint.parent == "platform" and tray.step is not None
    parts_dir = test_settings.data_dir / "designs"
    parts_dir.mkdir(exist_ok=True)

    def part(spec, label, **changes):  # type: ignore[no-untyped-def]
        path = parts_dir / f"lift-{label}.step"
        path.write_bytes(store.get_ref(spec.step))
        meta = {
            "label": label,
            "material": spec.material.value,
            "method": spec.method.value if spec.method else "cnc",
            "joint": spec.joint.model_dump(mode="json"),
            **({"motor": spec.motor.model_dump(mode="json")} if spec.motor else {}),
            **changes,
        }
        return {"source": {"path": str(path)}, "metadata": meta}

    design = {"parts": [part(reference, "platform"), part(tray, "tray")]}
    result = await _evaluate(
        client, worker_queue, {"benchmark_id": published.benchmark_id, "design": design, "evidence": False}
    )
    assert result.verdict == EvaluationVerdict.PASSED, result.reason
    assert result.parts[0].motor is not None and result.parts[1].joint is not None
    assert result.cost is not None
    assert {b.item: b.count for b in result.cost.bought} == {
        "linear_belt_nema17": 1,
        "screw_m4x12_iso4762": 4,
    }

    weak_motor = {**reference.motor.model_dump(mode="json"), "max_effort": 0.05}
    failed = await _evaluate(
        client,
        worker_queue,
        {
            "benchmark_id": published.benchmark_id,
            "design": {"parts": [part(reference, "platform", motor=weak_motor), part(tray, "tray")]},
            "evidence": False,
        },
    )
    assert failed.verdict == EvaluationVerdict.FAILED and failed.simulation is not None
    assert {r.outcome for r in failed.simulation.results} == {Outcome.MOTOR_OVERLOAD}, failed.reason
    assert all("platform" in r.detail for r in failed.simulation.results)


# --- the CLI against the session's server: ids, one JSON object, one error line -------------------------


@pytest.fixture
def cli(temporal_env, worker_queue, test_settings):  # type: ignore[no-untyped-def]
    from tests.helpers import run_cli, session_cli_env

    env = session_cli_env(temporal_env, worker_queue, test_settings)

    async def run(*args: str):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(run_cli, *args, data_dir=test_settings.data_dir, env=env)

    return run


async def test_cli_evaluate_names_the_workflow_after_the_evaluation_id(cli, temporal_env, design_dir) -> None:  # type: ignore[no-untyped-def]
    """`temporal workflow cancel -w evaluate-<evaluation id>` must find the run the CLI started."""
    design = design_dir / f"far-{uuid.uuid4().hex[:6]}.json"
    part = {"file": "block.step", "label": "far", **ALUMINIUM_CNC, "placement": {"position_mm": [5000, 0, 0]}}
    design.write_text(json.dumps({"parts": [part]}))
    proc = await cli("evaluate", BENCHMARK, str(design), "--json")
    assert proc.returncode == 3, proc.stderr  # invalid: outside the build zone
    result = EvaluationResult.model_validate_json(proc.stdout)
    assert result.verdict == EvaluationVerdict.INVALID
    handle = temporal_env.client.get_workflow_handle(f"evaluate-{result.evaluation_id}")
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    again = await cli("evaluate", BENCHMARK, str(design))  # the stored result, under the same id
    assert again.returncode == 3, again.stderr
    assert f"started EvaluateDesign evaluate-{result.evaluation_id} on " in again.stdout, again.stdout
    assert f"{result.evaluation_id} (stored result" in again.stdout


async def test_cli_evaluate_json_of_a_design_that_cannot_be_built_is_one_json_object(cli, design_dir) -> None:  # type: ignore[no-untyped-def]
    script = design_dir / f"raises_{uuid.uuid4().hex[:6]}.py"
    script.write_text("def build():\n    raise OSError('stat /root:\\nOK 16832')\n")
    proc = await cli("evaluate", BENCHMARK, str(script), "--json")
    assert proc.returncode == 3, proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "InvalidPart" and error["exit_code"] == 3
    assert "build() failed: OSError: stat /root: OK 16832 (script.py, line 2)" in error["message"], error
    assert error["workflow_id"].startswith(f"evaluate-{BENCHMARK}-")
    assert "Cannot create cache" not in error.get("detail", ""), error  # the script's output tail
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: InvalidPart: "), proc.stderr


async def test_cli_benchmark_prints_a_table_or_json_and_its_workflow(cli, published) -> None:  # type: ignore[no-untyped-def]
    table = await cli("benchmark", "chute", "0")
    assert table.returncode == 0, table.stderr
    assert f"started GenerateBenchmark benchmark-{BENCHMARK} on " in table.stdout
    assert "PUBLISHED" in table.stdout and "proofs" in table.stdout and "solvable" in table.stdout
    as_json = await cli("benchmark", "chute", "0", "--json")
    assert as_json.returncode == 0, as_json.stderr
    result = BenchmarkResult.model_validate_json(as_json.stdout)  # nothing but the verdict on stdout
    assert result.benchmark_id == BENCHMARK and result.reused
