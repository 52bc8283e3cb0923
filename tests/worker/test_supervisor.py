"""Supervised heavy jobs: crash isolation, cancellation kills the child, typed errors, warm children."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from runtime.supervisor import HeavySupervisor
from shared.heavy import DiagnoseRequest, DiagnoseResult
from shared.models import HeavyProgress


@pytest.fixture(scope="module")
async def supervisor(test_settings):  # type: ignore[no-untyped-def]
    sup = HeavySupervisor(test_settings)
    await sup.start()
    yield sup
    await sup.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); the fork server reaps quickly
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_each_job_runs_in_a_fresh_warm_child(supervisor: HeavySupervisor) -> None:
    progress: list[HeavyProgress] = []
    a = await supervisor.run("diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, progress.append)
    b = await supervisor.run("diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, progress.append)
    assert a.pid != b.pid != os.getpid()


async def test_jobs_run_scripts_through_the_fork_servers_sandbox_zygote(supervisor: HeavySupervisor) -> None:
    """The fork server starts the zygote as it becomes ready; its imports take seconds, so wait for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while True:
        seen = await supervisor.run(
            "diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, lambda p: None
        )
        if seen.sandbox_zygote or loop.time() > deadline:
            break
        await asyncio.sleep(0.5)
    assert seen.sandbox_zygote, "no job saw a listening zygote"
    while supervisor.job_pids() and loop.time() < deadline:  # the last job is exiting
        await asyncio.sleep(0.05)
    assert supervisor.job_pids() == [], "the zygote is not counted as a job"


async def test_native_crash_fails_the_job_not_the_worker(supervisor: HeavySupervisor) -> None:
    with pytest.raises(ApplicationError) as info:
        await supervisor.run("diagnose", DiagnoseRequest(action="crash"), DiagnoseResult, lambda p: None)
    assert info.value.type == "WorkerChildCrashed"
    assert not info.value.non_retryable  # a crash may be transient: Temporal retries it
    assert "SIGSEGV" in info.value.message
    ok = await supervisor.run("diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, lambda p: None)
    assert ok.action == "echo"


async def test_job_errors_keep_their_type_and_retryability(supervisor: HeavySupervisor) -> None:
    with pytest.raises(ApplicationError) as info:
        await supervisor.run("diagnose", DiagnoseRequest(action="fail"), DiagnoseResult, lambda p: None)
    assert info.value.type == "DiagnoseFailure" and info.value.non_retryable
    with pytest.raises(ApplicationError) as info:
        await supervisor.run("no-such-job", DiagnoseRequest(action="echo"), DiagnoseResult, lambda p: None)
    assert info.value.type == "InvalidRequest" and info.value.non_retryable


async def test_cancellation_kills_the_child(supervisor: HeavySupervisor) -> None:
    progress: list[HeavyProgress] = []
    task = asyncio.create_task(
        supervisor.run(
            "diagnose", DiagnoseRequest(action="sleep", seconds=60), DiagnoseResult, progress.append
        )
    )
    for _ in range(100):
        if progress:
            break
        await asyncio.sleep(0.05)
    assert progress, "the child reports progress (which the activity turns into heartbeats)"
    children = supervisor.job_pids()
    assert children
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(50):
        if not any(_pid_alive(p) for p in children):
            break
        await asyncio.sleep(0.1)
    assert not any(_pid_alive(p) for p in children), "cancelled job's child must be gone"


async def test_jobs_keep_temporary_files_in_the_workers_private_directory(test_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A SIGKILLed worker's directory (socket and the jobs' temporary files) is removed when the next worker
    on the machine starts; a live worker's is left alone."""
    import tempfile

    from runtime.supervisor import FORK_DIR_PREFIX
    from shared.process import private_tempdir

    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    stale = Path(tempfile.gettempdir()) / f"{FORK_DIR_PREFIX}{dead.pid}-stale"
    (stale / "tmp" / "mechbench-sandbox-1-x").mkdir(parents=True)
    live = private_tempdir(FORK_DIR_PREFIX)  # this process is alive: not stale
    sup = HeavySupervisor(test_settings)
    try:
        assert not stale.exists() and live.exists()
        await sup.start()
        result = await sup.run("diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, lambda p: None)
        assert Path(result.tmp).parent.name.startswith(f"{FORK_DIR_PREFIX}{os.getpid()}-")
        assert Path(result.tmp).is_dir()
    finally:
        await sup.close()
        live.rmdir()
    assert not Path(result.tmp).parent.exists(), "a graceful close removes the directory"


def test_a_fork_server_whose_worker_died_before_it_started_exits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "runtime.forkserver", str(tmp_path / "jobs.sock"), "1"],  # not our parent
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert not (tmp_path / "jobs.sock").exists()


async def test_a_worker_under_a_very_long_tmpdir_still_serves_jobs(
    test_settings, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The fork server's socket lives in the worker's temporary directory; a Unix socket path holds 108 bytes."""
    import tempfile

    long_tmp = tmp_path / ("t" * 100) / ("u" * 100)
    long_tmp.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    sup = HeavySupervisor(test_settings)
    try:
        await sup.start()
        result = await sup.run("diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, lambda p: None)
        assert Path(result.tmp).is_relative_to(long_tmp)
    finally:
        await sup.close()
    assert not any(long_tmp.iterdir())


@pytest.fixture(scope="module")
async def strict_supervisor(test_settings):  # type: ignore[no-untyped-def]
    """A supervisor whose jobs stall after 2 s without a sign of progress."""
    sup = HeavySupervisor(test_settings.model_copy(update={"stall_timeout_s": 2.0, "sandbox_wall_s": 1.0}))
    await sup.start()
    yield sup
    await sup.close()


@pytest.mark.timeout(120)
async def test_a_deadlocked_job_fails_its_attempt_as_stalled(strict_supervisor: HeavySupervisor) -> None:
    """A real deadlock in the child (two threads, two locks): no report and no CPU. Its attempt fails with the
    retryable JobStalled error naming the stage, long before any start-to-close timeout, and the child is
    gone. Before, the last heartbeat was re-sent for as long as the child lived."""
    beats: list[HeavyProgress] = []
    with pytest.raises(ApplicationError) as info:
        await strict_supervisor.run(
            "diagnose", DiagnoseRequest(action="deadlock"), DiagnoseResult, beats.append
        )
    assert info.value.type == "JobStalled" and not info.value.non_retryable
    assert "stalled in stage deadlock" in info.value.message, info.value.message
    assert "MECHBENCH_STALL_TIMEOUT_S=2" in info.value.message
    assert beats and beats[0].stage == "deadlock"
    assert not strict_supervisor.job_pids(), "the stalled job's process is killed"


@pytest.mark.timeout(120)
async def test_slow_jobs_that_show_progress_are_not_stalled(strict_supervisor: HeavySupervisor) -> None:
    """Three times the stall bound, twice: a job that keeps reporting while using no CPU, and a job that
    reports nothing while it computes (one long native call)."""
    reported: list[HeavyProgress] = []
    slow = await strict_supervisor.run(
        "diagnose", DiagnoseRequest(action="sleep", seconds=6), DiagnoseResult, reported.append
    )
    assert slow.action == "sleep" and len(reported) > 10
    silent: list[HeavyProgress] = []
    busy = await strict_supervisor.run(
        "diagnose", DiagnoseRequest(action="busy", seconds=6), DiagnoseResult, silent.append
    )
    assert busy.action == "busy"
    assert {p.detail for p in silent} == {"starting"}, "only the supervisor's own re-sent heartbeat"


@pytest.mark.timeout(120)
async def test_a_slow_start_of_the_fork_server_is_not_a_stall(
    strict_supervisor: HeavySupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reaching the fork server (bounded by its own start timeout) takes three stall bounds: the heartbeat goes
    on meanwhile, and the job then runs. Before, the watcher stopped beating at the bound and returned, leaving
    the attempt to a heartbeat timeout while it went on running."""
    connect = strict_supervisor._connect

    async def slow_connect():  # type: ignore[no-untyped-def]
        await asyncio.sleep(6)
        return await connect()

    monkeypatch.setattr(strict_supervisor, "_connect", slow_connect)
    beats: list[HeavyProgress] = []
    result = await strict_supervisor.run(
        "diagnose", DiagnoseRequest(action="sleep", seconds=0.1), DiagnoseResult, beats.append
    )
    assert result.action == "sleep"
    assert sum(1 for b in beats if b.detail == "starting") >= 6, "beating while the fork server is reached"


def test_a_fork_server_told_to_stop_leaves_without_finalising(test_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SIGTERM, which PR_SET_PDEATHSIG sends when its worker dies: the fork server removes its socket and leaves
    through os._exit. The interpreter's finalisation with OCCT and MuJoCo loaded costs about 0.8 s of CPU, and
    on a machine whose cores were busy it kept the fork server alive for seconds after its worker's SIGKILL
    (the fault suite found it as an orphan). Measured in CPU time, which a busy machine does not stretch."""
    import signal
    import subprocess
    import sys

    sock = tmp_path / "srv" / "jobs.sock"
    sock.parent.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.forkserver", str(sock), str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(test_settings.to_private_json().encode() + b"\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == b"READY"
    with open(f"/proc/{proc.pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    cpu_before = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    proc.send_signal(signal.SIGTERM)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    assert not sock.parent.exists(), "the socket and its directory are removed"
    spent = usage.ru_utime + usage.ru_stime - cpu_before
    assert spent < 0.3, f"{spent:.2f} s of CPU between SIGTERM and exit"


@pytest.mark.timeout(300)
async def test_a_simulation_reports_its_steps_while_its_first_scenes_run(
    strict_supervisor: HeavySupervisor, test_settings
) -> None:  # type: ignore[no-untyped-def]
    """Slow progress is still progress: a simulation job whose scenes each run longer than a step report's
    interval (600000 steps of a ball resting on a floor) heartbeats its growing step count before any scene
    has finished."""
    from engines.physics.collision_pack import pack
    from shared.models import SimulateRequest, SimulationMode, SimulationReport
    from shared.store import make_store
    from tests.engine.test_physics import FLOOR_PIECE, definition

    d, collision = definition({"floor": FLOOR_PIECE}, start=(0, 0, 20), duration_s=120.0, timestep_s=0.0002)
    ref = make_store(test_settings).put_bytes("test/steps/collision.npz", pack(collision))
    d = d.model_copy(update={"artifacts": d.artifacts.model_copy(update={"collision": ref})})
    beats: list[HeavyProgress] = []
    report = await strict_supervisor.run(
        "simulate",
        SimulateRequest(definition=d, mode=SimulationMode.BASELINE, n_scenes=2),
        SimulationReport,
        beats.append,
    )
    assert [r.steps for r in report.results] == [600000, 600000]
    early = [b.steps for b in beats if b.done == 0 and b.steps > 0]  # (with the supervisor's re-sent beats)
    assert len(set(early)) >= 2 and early == sorted(early), [(b.done, b.steps) for b in beats]


def test_every_registered_job_is_its_engine_function() -> None:
    """The registry names each job's function by a dotted path (so it imports nothing heavy): each resolves,
    and takes and returns the entry's models."""
    import typing

    from runtime import jobs
    from shared.heavy import HEAVY_JOBS

    found = jobs.job_table()
    assert sorted(found) == sorted(spec.job for spec in HEAVY_JOBS)
    for spec in HEAVY_JOBS:
        request, fn = found[spec.job]
        hints = typing.get_type_hints(fn)
        assert request is spec.request is hints["req"] and hints["return"] is spec.result, spec.job


def test_the_heavy_worker_serves_each_registered_activity_with_its_models() -> None:
    """One activity per registry entry that has one, under its type name, decoding its argument into the
    entry's request model (the data converter reads the activity's type hints): not a dict."""
    from temporalio.activity import _Definition

    from activities import activities_of
    from activities.heavy import HeavyActivities
    from shared.heavy import EXTRACT_PART_FACTS, HEAVY_JOBS
    from shared.models import FactsRequest, StagedPart
    from shared.refs import make_ref
    from shared.temporal import DATA_CONVERTER

    heavy = HeavyActivities(None)  # type: ignore[arg-type]
    definitions = {d.name: d for d in map(_Definition.must_from_callable, activities_of(heavy))}
    assert sorted(definitions) == sorted(spec.activity for spec in HEAVY_JOBS if spec.activity)
    for spec in HEAVY_JOBS:
        if spec.activity:
            assert definitions[spec.activity].arg_types == [spec.request], spec.activity
            assert definitions[spec.activity].ret_type is spec.result, spec.activity
    part = StagedPart(artifact=make_ref("uploads/part.step", b"solid"), format="step")
    payloads = DATA_CONVERTER.payload_converter.to_payloads([FactsRequest(part=part)])
    arg_types = definitions[EXTRACT_PART_FACTS.activity].arg_types
    (decoded,) = DATA_CONVERTER.payload_converter.from_payloads(payloads, arg_types)
    assert isinstance(decoded, FactsRequest) and decoded.part == part
