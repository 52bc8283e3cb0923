"""Bad input is rejected at the boundary with a message naming the field, and nothing is written;
a failed proof is a recorded verdict with its numbers; heavy activities resume from heartbeats."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.heavy import HeavyActivities
from runtime.supervisor import HeavySupervisor
from shared.families import GENERATOR_VERSION
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
from tests.helpers import application_error, run_cli
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
            BuildRequest(
                benchmark_id=f"gap-s4-v{GENERATOR_VERSION}",
                family="gap",
                seed=4,
                generator_version=GENERATOR_VERSION,
                n_scenes=4,
            ),
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


# --- the shared input boundary: the CLI checks what the worker checks, before anything is uploaded ------

STEP_OK = (Path(__file__).parents[2] / "examples" / "bracket.step").read_bytes()
NOT_A_PART = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


@pytest.fixture
def part_tree(tmp_path: Path) -> dict[str, Path]:
    """A part root with a good part, a file outside it, symlinks that leave it and a mislabelled file."""
    root, outside, data = tmp_path / "parts", tmp_path / "outside", tmp_path / "data"
    for d in (root, outside, data):
        d.mkdir()
    (root / "good.step").write_bytes(STEP_OK)
    (outside / "secret.step").write_bytes(STEP_OK)
    (outside / "secret.py").write_text("def build():\n    return None\n")
    (root / "passwd.step").symlink_to("/etc/passwd")
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "via_dir").symlink_to(outside, target_is_directory=True)
    (root / "passwd_copy.step").write_bytes(NOT_A_PART)
    (root / "image.stl").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (root / "notes.py").write_bytes(b"\xff\xfe not utf-8")
    for name, file in (("design_out.json", "via_dir/secret.step"), ("design_link.json", "passwd.step")):
        (root / name).write_text(json.dumps({"parts": [{"file": file, "label": "a", "material": "abs"}]}))
    return {"root": root, "outside": outside, "data": data}


ANALYZE = ["--method", "cnc", "--material", "aluminum_6061", "--quantity", "10"]


@pytest.mark.parametrize(
    ("command", "says", "error_type"),
    [
        (["analyze", "{outside}/secret.step", *ANALYZE], "is outside the directories parts are read from", "InvalidRequest"),
        (["analyze", "{root}/passwd.step", *ANALYZE], "resolves to '/etc/passwd'", "InvalidRequest"),
        (["analyze", "{root}/via_dir/secret.step", *ANALYZE], "outside the directories", "InvalidRequest"),
        (["analyze", "{root}/passwd_copy.step", *ANALYZE], "is not a STEP file", "InvalidPart"),
        (["analyze", "{root}/image.stl", *ANALYZE], "is not an STL file", "InvalidPart"),
        (["analyze", "{root}/notes.py", *ANALYZE], "is not UTF-8", "InvalidPart"),
        (["benchmark", "{root}/escape.py"], "outside the directories", "InvalidRequest"),
        (["benchmark", "{outside}/secret.py"], "outside the directories", "InvalidRequest"),
        (["evaluate", "chute-s0-v1", "{root}/escape.py"], "outside the directories", "InvalidRequest"),
        (["evaluate", "chute-s0-v1", "{root}/design_out.json"], "outside the directories", "InvalidRequest"),
        (["evaluate", "chute-s0-v1", "{root}/design_link.json"], "resolves to '/etc/passwd'", "InvalidRequest"),
    ],
)  # fmt: skip
def test_cli_refuses_files_outside_the_part_roots_or_mislabelled_and_uploads_nothing(
    part_tree: dict[str, Path], command: list[str], says: str, error_type: str
) -> None:
    """MECHBENCH_PART_ROOTS binds the CLI as it binds the worker: no path or symlink out of the roots, and a
    file must be what its name says, all checked before any byte is uploaded or a server is asked."""
    args = [a.format(root=part_tree["root"], outside=part_tree["outside"]) for a in command]
    env = {"MECHBENCH_PART_ROOTS": json.dumps([str(part_tree["root"])])}
    proc = run_cli(*args, data_dir=part_tree["data"], cwd=part_tree["root"], env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {error_type}: "), proc.stderr
    assert says in lines[0], proc.stderr
    assert not (part_tree["data"] / "store" / "uploads").exists(), "nothing may be uploaded"


def test_cli_reads_a_part_inside_the_roots_through_a_symlink_that_stays_inside(
    part_tree: dict[str, Path],
) -> None:
    (part_tree["root"] / "alias.step").symlink_to(part_tree["root"] / "good.step")
    env = {"MECHBENCH_PART_ROOTS": json.dumps([str(part_tree["root"])])}
    proc = run_cli(
        "analyze", "alias.step", *ANALYZE, data_dir=part_tree["data"], cwd=part_tree["root"], env=env
    )
    # every check passed; then there is no server to run it
    assert proc.returncode == 1 and "ServerUnreachable" in proc.stderr, proc.stderr


async def test_the_worker_refuses_a_mislabelled_part_before_writing_it(
    temporal_env, worker_queue, test_settings
) -> None:  # type: ignore[no-untyped-def]
    """The workflow path goes through the same boundary: a mislabelled file is an InvalidPart at staging,
    and its bytes never reach the store."""
    from shared.keys import upload_key
    from shared.refs import sha256_hex
    from shared.temporal import WF_ANALYZE_MANUFACTURING

    d = test_settings.data_dir / f"mislabelled-{uuid.uuid4().hex[:6]}"
    d.mkdir()
    (d / "passwd.step").write_bytes(NOT_A_PART)
    (d / "link.step").symlink_to("/etc/passwd")
    store = LocalStore(test_settings.local_store_dir)
    for name, error_type, says in (
        ("passwd.step", "InvalidPart", "'passwd.step' is not a STEP file"),
        ("link.step", "InvalidRequest", "resolves to '/etc/passwd'"),
    ):
        req = {"part": {"path": str(d / name)}, "method": "cnc", "material": "aluminum_6061", "quantity": 1}
        with pytest.raises(WorkflowFailureError) as info:
            await temporal_env.client.execute_workflow(
                WF_ANALYZE_MANUFACTURING,
                req,
                id=f"mislabelled-{uuid.uuid4().hex[:8]}",
                task_queue=worker_queue,
            )
        cause = application_error(info.value)
        assert cause.type == error_type and cause.non_retryable and says in cause.message, cause
    assert not store.exists(upload_key(sha256_hex(NOT_A_PART), ".step")), "the bytes were written"
