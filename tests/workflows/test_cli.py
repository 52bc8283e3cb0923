"""The mechbench CLI as a user runs it (a subprocess), against the test session's server and worker or
against no server at all: a failure is one line with the innermost typed error (one JSON object on stdout
with --json) and the README's exit code; commands say which workflow runs and where the Web UI shows it;
--version, the dev and worker options, schedule intervals and the hint when no server answers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import trimesh

from engines.cad.export import step_bytes
from shared.models import DatasetRequest, ManufacturingReport
from tests.helpers import run_cli, session_cli_env
from workers.cli.common import temporal_cli_flags
from workers.schedules import create_dataset_schedule, existing, format_every

pytestmark = pytest.mark.temporal

EXAMPLES = Path(__file__).parents[2] / "examples"
ANALYZE = ["--method", "cnc", "--material", "aluminum_6061", "--quantity", "10"]


@pytest.fixture(scope="module")
def parts(test_settings) -> Path:  # type: ignore[no-untyped-def]
    """Parts under the session worker's part roots: good, cut off, open, a shell without a solid, a script
    whose build() raises with a multi-line message."""
    from build123d import Face

    d = test_settings.data_dir / "cli-parts"
    d.mkdir(exist_ok=True)
    good = (EXAMPLES / "bracket.step").read_bytes()
    (d / "bracket.step").write_bytes(good)
    (d / "cut.step").write_bytes(good[: len(good) // 2])
    box = trimesh.creation.box(extents=(10.0, 10.0, 10.0))
    holed = trimesh.Trimesh(vertices=box.vertices, faces=box.faces[:-2], process=False)  # one side open
    (d / "holed.stl").write_bytes(holed.export(file_type="stl"))
    (d / "shell.step").write_bytes(step_bytes(Face.make_rect(20.0, 10.0)))
    (d / "raises.py").write_text("def build():\n    raise OSError('stat /root:\\nOK 16832')\n")
    return d


@pytest.fixture
def cli(temporal_env, worker_queue, test_settings):  # type: ignore[no-untyped-def]
    """``await cli(*args)``: the CLI on the session's server, queue, store and part roots."""
    env = session_cli_env(temporal_env, worker_queue, test_settings)

    async def run(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            run_cli, *args, data_dir=test_settings.data_dir, env={**env, **(extra or {})}
        )

    return run


def _one_error_line(proc: subprocess.CompletedProcess[str], error_type: str) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {error_type}: "), proc.stderr
    return lines[0]


# --- a rejected part: its typed error in one line, exit 2 -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("cut.step", "is not a whole STEP file"),  # the boundary: refused before it is uploaded
        ("holed.stl", "the STL mesh is not closed"),  # the worker, after the upload
        ("shell.step", "holds no solid"),
        ("raises.py", "build() failed: OSError: stat /root: OK 16832 (script.py, line 2)"),
    ],
)
async def test_analyze_of_a_rejected_part_prints_its_typed_error_in_one_line_and_exits_2(
    cli, parts, name, says
) -> None:  # type: ignore[no-untyped-def]
    proc = await cli("analyze", str(parts / name), *ANALYZE)
    assert proc.returncode == 2, proc.stderr
    assert says in _one_error_line(proc, "InvalidPart")
    assert "error" not in proc.stdout.lower()

    as_json = await cli("analyze", str(parts / name), *ANALYZE, "--json")
    assert as_json.returncode == 2, as_json.stderr
    error = json.loads(as_json.stdout)["error"]
    assert error["type"] == "InvalidPart" and error["exit_code"] == 2 and says in error["message"]


async def test_analyze_names_its_workflow_and_links_the_web_ui(cli, parts, temporal_env) -> None:  # type: ignore[no-untyped-def]
    """The printed id is the workflow's, so `temporal workflow describe -w analyze-<analysis id>` finds it;
    settings that point at the local dev server's port get its Web UI link."""
    port = temporal_env.client.service_client.config.target_host.rpartition(":")[2]
    proc = await cli(
        "analyze", str(parts / "bracket.step"), *ANALYZE,
        extra={"MECHBENCH_DEV_PORT": port, "MECHBENCH_DEV_UI_PORT": "8999"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    started = re.search(r"started AnalyzeManufacturing (analyze-\S+) on ", proc.stdout)
    assert started, proc.stdout
    wf_id = started.group(1)
    assert f"Web UI: http://127.0.0.1:8999/namespaces/default/workflows/{wf_id}" in proc.stdout
    report_key = re.search(r"manufacturing/reports/(\S+)\.json", proc.stdout)
    assert report_key and wf_id == f"analyze-{report_key.group(1)}", proc.stdout
    result = await temporal_env.client.get_workflow_handle(wf_id, result_type=ManufacturingReport).result()
    assert result.analysis_id == report_key.group(1)


# --- conventions ----------------------------------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    proc = run_cli("--version", data_dir=tmp_path)
    assert proc.returncode == 0 and re.fullmatch(
        r"mechbench \d+\.\d+\.\d+ \(generator version \d+\)\n", proc.stdout
    )


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "bracket.step", *ANALYZE],
        ["benchmark", "gap", "3"],
        ["generate", "--families", "gap", "--count", "1", "--wait"],
        ["schedule", "list"],
    ],
)
def test_no_server_is_a_one_line_hint_and_nothing_is_uploaded(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "bracket.step").write_bytes((EXAMPLES / "bracket.step").read_bytes())
    proc = run_cli(*args, data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    line = _one_error_line(proc, "ServerUnreachable")
    assert "cannot reach the Temporal server at 127.0.0.1:1" in line and "mechbench dev" in line
    assert "tonic" not in proc.stderr
    assert not (tmp_path / "data" / "store" / "uploads").exists(), "uploaded before a server took the work"


@pytest.mark.parametrize(
    ("args", "error_type", "code"),
    [
        (["generate", "--families", "gap", "--count", "0"], "InvalidRequest", 2),
        (["analyze", "missing.step", *ANALYZE], "InvalidRequest", 2),
        (["analyze", "bracket.step"], "InvalidRequest", 2),  # a usage error: --method missing
        (["evaluate", "chute-s0-v1", "design.py"], "InvalidRequest", 2),  # no such benchmark here
        (["benchmark", "warp-drive"], "InvalidRequest", 2),
        (["benchmark", "gap", "2147483648"], "InvalidRequest", 2),
        (["benchmark", "gap", "2147483647"], "ServerUnreachable", 1),  # the contract's largest seed passes
        (["generate", "--families", "gap", "--count", "1", "--random-designs", "0"], "InvalidRequest", 2),
        (["benchmark", "gap", "3", "--random-designs", "100001"], "InvalidRequest", 2),
        (["benchmark", "gap", "3", "--trivial-threshold", "1"], "InvalidRequest", 2),
        (["benchmark", "gap", "3", "--trivial-threshold", "0"], "InvalidRequest", 2),
        (["benchmark", "gap", "3", "--random-designs", "1"], "ServerUnreachable", 1),  # N = 1 passes
        (["report", "nope"], "InvalidRequest", 2),
        (["schedule", "list"], "ServerUnreachable", 1),
    ],
)
def test_every_json_command_prints_one_json_object_for_an_error(
    args: list[str], error_type: str, code: int, tmp_path: Path
) -> None:
    (tmp_path / "bracket.step").write_bytes((EXAMPLES / "bracket.step").read_bytes())
    (tmp_path / "design.py").write_text("def build():\n    return []\n")
    proc = run_cli(*args, "--json", data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    error = json.loads(proc.stdout)["error"]  # the whole of stdout is one object
    assert error["type"] == error_type and error["exit_code"] == code and error["message"], error


async def test_schedule_list_writes_intervals_as_written(cli, temporal_env, worker_queue) -> None:  # type: ignore[no-untyped-def]
    name = f"cli-{uuid.uuid4().hex[:6]}"
    request = DatasetRequest(families=["gap"], count=1)
    await create_dataset_schedule(
        temporal_env.client, name, request, timedelta(days=1), worker_queue, paused=True
    )
    try:
        table = await cli("schedule", "list")
        assert table.returncode == 0, table.stderr
        (row,) = [line for line in table.stdout.splitlines() if name in line]
        assert " 24h " in row, table.stdout
        rows = json.loads((await cli("schedule", "list", "--json")).stdout)
        (mine,) = [r for r in rows if r["schedule_id"] == name]
        assert mine["every"] == "24h" and mine["paused"] is True
    finally:
        await (await existing(temporal_env.client, name)).delete()


@pytest.mark.parametrize(
    ("every", "text"),
    [(timedelta(days=1), "24h"), (timedelta(minutes=90), "1h30m"), (timedelta(seconds=90), "1m30s")],
)
def test_intervals_are_written_as_parse_every_reads_them(every: timedelta, text: str) -> None:
    from workers.schedules import parse_every

    assert format_every(every) == text and parse_every(text) == every


def test_temporal_cli_flags_only_when_not_the_defaults() -> None:
    assert temporal_cli_flags("127.0.0.1:7233", "default") == ""
    assert temporal_cli_flags("localhost:7233", "default") == ""
    assert temporal_cli_flags("127.0.0.1:7300", "default") == " --address 127.0.0.1:7300"
    assert temporal_cli_flags("127.0.0.1:7233", "lab") == " --namespace lab"


def _popen(args: list[str], data_dir: Path) -> subprocess.Popen[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "MECHBENCH_DATA_DIR": str(data_dir),
        "MECHBENCH_TEMPORAL_ADDRESS": "127.0.0.1:1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "workers.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=data_dir,
    )  # fmt: skip


def _read_until(proc: subprocess.Popen[str], marker: str) -> str:
    """Lines of ``proc`` up to the one holding ``marker`` (the test's own timeout bounds the wait)."""
    assert proc.stdout is not None
    seen = ""
    for line in proc.stdout:
        seen += line
        if marker in line:
            return seen
    raise AssertionError(f"{marker!r} never came; output:\n{seen}")


def _stop(proc: subprocess.Popen[str], sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_dev_takes_port_ui_port_and_task_queue_and_its_banner_says_so(tmp_path: Path) -> None:
    from faults.harness import free_port

    port, ui_port = free_port(), free_port()
    proc = _popen(["dev", "--port", str(port), "--ui-port", str(ui_port), "--task-queue", "q-cli"], tmp_path)
    try:
        banner = _read_until(proc, "Ctrl-C stops everything.")
    finally:
        code = _stop(proc, signal.SIGINT)
    assert (
        f"Temporal dev server: 127.0.0.1:{port}" in banner and f"Web UI: http://127.0.0.1:{ui_port}" in banner
    )
    assert "task queue: q-cli" in banner
    assert (
        f"try: temporal workflow start --address 127.0.0.1:{port} --type GenerateDataset --task-queue q-cli"
        in banner
    )
    assert code == 0, banner


def test_worker_takes_port_and_waits_for_that_server(tmp_path: Path) -> None:
    from faults.harness import free_port

    port = free_port()  # nothing listens there
    proc = _popen(["worker", "--port", str(port), "--task-queue", "q-cli"], tmp_path)
    try:
        seen = _read_until(proc, f"127.0.0.1:{port}")
    finally:
        code = _stop(proc, signal.SIGTERM)
    assert "waiting_for_server" in seen and code == 0, seen


def test_a_task_queue_must_not_be_empty(tmp_path: Path) -> None:
    proc = run_cli("worker", "--task-queue", " ", data_dir=tmp_path)
    assert proc.returncode == 2 and "--task-queue" in _one_error_line(proc, "InvalidRequest")


def test_parts_are_not_left_open(parts: Path) -> None:
    """The fixture's open mesh really is open (so the worker's verdict is about the file, not the test)."""
    mesh = trimesh.load(parts / "holed.stl", file_type="stl")
    assert not mesh.is_watertight and len(mesh.faces) == 10 and np.isfinite(mesh.vertices).all()
    assert os.path.getsize(parts / "holed.stl") == 84 + 50 * 10


async def test_families_lists_every_family_with_what_its_reference_needs(cli) -> None:  # type: ignore[no-untyped-def]
    from engines.cad.families import FAMILIES

    proc = await cli("families", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {f["name"]: f for f in json.loads(proc.stdout)}
    assert list(listed) == list(FAMILIES)
    for name, info in listed.items():
        assert info["idea"] and not info["idea"].startswith("``"), name
        assert [n["level"] for n in info["needs"]] == list(range(1, FAMILIES[name].levels + 1))
        assert all(n["reference_parts"] >= 1 and n["payloads"] >= 1 for n in info["needs"])
    lift = listed["lift"]["needs"][0]
    assert lift["motors"] == ["linear_belt_nema17"] and lift["part_to_part_joints"] == 1
    assert lift["bought"] == {"linear_belt_nema17": 1, "screw_m4x12_iso4762": 4}
    text = await cli("families")
    assert text.returncode == 0 and "level 1:" in text.stdout and "lift" in text.stdout
