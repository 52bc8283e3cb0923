"""Bad input is rejected at the boundary with a message naming the field, and nothing is written;
a failed proof is a recorded verdict with its numbers; heavy activities resume from heartbeats."""

from __future__ import annotations

import dataclasses
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.benchmark import HeavyActivities
from activities.supervisor import HeavySupervisor
from shared.models import (
    BenchmarkResult,
    BuildRequest,
    GenerateBenchmarkRequest,
    HeavyProgress,
    Outcome,
    Proof,
    SceneResult,
    SimulateRequest,
    SimulationMode,
    Verdict,
)
from shared.store import LocalStore
from shared.temporal import WF_GENERATE_BENCHMARK, WF_GENERATE_DATASET
from tests.helpers import run_cli
from workers.worker import running_worker

pytestmark = pytest.mark.temporal


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, data_dir=data_dir)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--families", "chute,warp-drive", "--count", "2"], "families"),
        (["--families", "../../etc", "--count", "2"], "families.0"),
        (["--families", "chute", "--count", "0"], "count"),
        (["--families", "chute", "--count", "100000"], "count"),
        (["--families", "chute", "--count", "2", "--dataset-id", "../x"], "dataset_id"),
        (["--families", "chute", "--count", "2", "--dataset-id", "/abs/path"], "dataset_id"),
        (["--families", "chute", "--count", "2", "--seed", "-4"], "base_seed"),
    ],
)
def test_cli_rejects_bad_input_before_any_work(args: list[str], field: str, tmp_path: Path) -> None:
    proc = _cli("generate", *args, "--embedded", data_dir=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"{field}:" in proc.stderr.replace("\n", " ")
    assert not any(tmp_path.iterdir()), "nothing may be written (no server started, no store created)"


async def test_malformed_workflow_input_fails_the_workflow_not_a_task_loop(
    temporal_env, worker_queue
) -> None:
    """What `temporal workflow start --input '<json>'` sends: raw JSON that does not match the model."""
    client: Client = temporal_env.client
    with pytest.raises(WorkflowFailureError) as info:
        await client.execute_workflow(
            WF_GENERATE_DATASET,
            {"families": "chute", "count": -1, "surprise": True},
            id=f"bad-{uuid.uuid4().hex[:6]}",
            task_queue=worker_queue,
        )
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest" and cause.non_retryable
    assert "families:" in cause.message and "count:" in cause.message and "surprise:" in cause.message


async def test_failed_proof_is_a_recorded_verdict_with_numbers(temporal_env, test_settings, tmp_path) -> None:
    """A worker configured with a tiny affordability ceiling rejects a valid, solvable benchmark."""
    settings = test_settings.model_copy(update={"data_dir": tmp_path, "max_reference_unit_cost_usd": 0.01})
    queue = f"strict-{uuid.uuid4().hex[:6]}"
    async with running_worker(temporal_env.client, settings, task_queue=queue):
        result: BenchmarkResult = await temporal_env.client.execute_workflow(
            WF_GENERATE_BENCHMARK,
            GenerateBenchmarkRequest(family="gap", seed=2),
            id=f"strict-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
            result_type=BenchmarkResult,
        )
    assert result.verdict == Verdict.REJECTED
    assert result.failed_proof == Proof.AFFORDABLE
    failed = result.proofs[-1]
    assert failed.limit == 0.01 and failed.measured is not None and failed.measured > 0.01
    assert "exceeds" in (result.reason or "")
    assert [p.passed for p in result.proofs[:-1]] == [True] * 4  # geometry, stable, not trivial, solvable
    store = LocalStore(settings.local_store_dir)
    assert store.get_model(f"benchmarks/{result.benchmark_id}/result.json", BenchmarkResult) == result
    assert not store.exists(f"benchmarks/{result.benchmark_id}/definition.json"), "rejected: not published"


async def test_simulation_resumes_after_the_last_finished_scene(test_settings) -> None:
    """A retry gets the last heartbeat's finished scenes and does not simulate them again."""
    supervisor = HeavySupervisor(test_settings)
    heavy = HeavyActivities(supervisor)
    try:
        build = await ActivityEnvironment().run(
            heavy.build_benchmark,
            BuildRequest(benchmark_id="gap-s4-v1", family="gap", seed=4, generator_version=1, n_scenes=4),
        )
        definition = build.definition
        # Pretend attempt 1 finished scenes 0 and 1 before dying; mark them so a re-run would be visible.
        marked = [
            SceneResult(
                scene_index=i,
                jitter_mm=(0.0, 0.0, 0.0),
                outcome=Outcome.TIMEOUT,
                time_s=0.0,
                steps=0,
                detail="from attempt 1",
            )
            for i in (0, 1)
        ]
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info,
            attempt=2,
            heartbeat_details=[
                HeavyProgress(stage="simulate:reference", done=2, total=4, completed=marked).model_dump(
                    mode="json"
                )
            ],
        )
        beats: list[object] = []
        env.on_heartbeat = lambda *d: beats.append(d[0])
        report = await env.run(
            heavy.simulate_benchmark,
            SimulateRequest(definition=definition, mode=SimulationMode.REFERENCE, n_scenes=4),
        )
    finally:
        await supervisor.close()
    by_index = {r.scene_index: r for r in report.results}
    assert [by_index[i].detail for i in (0, 1)] == ["from attempt 1"] * 2
    assert all(by_index[i].outcome == Outcome.GOAL_REACHED for i in (2, 3))
    assert report.success_share == 0.5
    last = HeavyProgress.model_validate(beats[-1])
    assert last.done == 4 and len(last.completed) == 4


async def test_unknown_family_in_a_benchmark_request_is_a_typed_failure(temporal_env, worker_queue) -> None:
    with pytest.raises(WorkflowFailureError) as info:
        await temporal_env.client.execute_workflow(
            WF_GENERATE_BENCHMARK,
            GenerateBenchmarkRequest(family="nope", seed=1),
            id=f"bad-{uuid.uuid4().hex[:6]}",
            task_queue=worker_queue,
        )
    assert isinstance(info.value.cause, ApplicationError) and info.value.cause.type == "InvalidRequest"


async def test_resume_cursor_from_outside_is_rejected(temporal_env, worker_queue) -> None:
    """The continue-as-new cursor cannot be used to skip the boundary checks."""
    with pytest.raises(WorkflowFailureError) as info:
        await temporal_env.client.execute_workflow(
            WF_GENERATE_DATASET,
            {
                "families": ["gap"],
                "count": 100000,
                "resume": {"dataset_id": "sneaky", "generator_version": 1, "chain": "0123456789ab"},
            },
            id=f"bad-{uuid.uuid4().hex[:6]}",
            task_queue=worker_queue,
        )
    cause = info.value.cause
    assert (
        isinstance(cause, ApplicationError) and cause.type == "InvalidRequest" and "resume" in cause.message
    )


async def test_a_verdict_is_reused_only_on_the_same_proof_basis(temporal_env, worker_queue) -> None:
    async def generate(n_scenes: int | None) -> BenchmarkResult:
        return await temporal_env.client.execute_workflow(
            WF_GENERATE_BENCHMARK,
            GenerateBenchmarkRequest(family="detour", seed=77, n_scenes=n_scenes),
            id=f"basis-{uuid.uuid4().hex[:6]}",
            task_queue=worker_queue,
            result_type=BenchmarkResult,
        )

    weak = await generate(2)
    assert not weak.reused and weak.basis is not None and weak.basis.n_scenes == 2
    assert (await generate(2)).reused
    default = await generate(None)
    assert not default.reused, "proven on 2 scenes is not proven on the default 8"
    assert default.basis is not None and default.basis.n_scenes == 8
    assert (await generate(None)).reused
    assert (await generate(8)).reused, "the default scene count, asked for explicitly, is the same basis"


@pytest.mark.parametrize(
    "name", ["ramp\u202egnp.py", "zero\u200bwidth.py", "ful\uff0fslash.py", "tab\there.py"]
)
def test_cli_rejects_a_script_file_name_with_control_or_invisible_characters(
    name: str, tmp_path: Path
) -> None:
    script = tmp_path / "in" / name
    script.parent.mkdir()
    script.write_text("def build():\n    return {}\n")
    data = tmp_path / "data"
    data.mkdir()
    proc = _cli("benchmark", str(script), data_dir=data)
    assert proc.returncode == 2, proc.stderr
    assert "control characters" in proc.stderr.replace("\n", " ")
    assert not any(data.iterdir()), "nothing may be uploaded"
