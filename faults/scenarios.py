"""The faults, one coroutine each. Every scenario builds its own :class:`~faults.harness.Stack` under a
directory of its own, injects its fault, and returns a :class:`Row`: what was injected, how often the
system survived, and how much work was lost (benchmarks missing, duplicated or failed; half-written
objects; orphaned processes)."""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import RawValue

from faults.harness import (
    ORPHAN_GRACE_S,
    S3Endpoint,
    Stack,
    audit_store,
    descendants,
    forkserver_of,
    rss_kib,
    through_outages,
    wait_closed,
)
from shared.families import GENERATOR_VERSION
from shared.ids import benchmark_id, dataset_item
from shared.keys import benchmark_definition_key, manifest_key, part_step_key
from shared.models import (
    BenchmarkDefinition,
    BenchmarkResult,
    DatasetManifest,
    DatasetProgress,
    DatasetRequest,
    DatasetResult,
    EvaluationResult,
    GenerateBenchmarkRequest,
    PartSource,
    Verdict,
)
from shared.temporal import (
    ACT_SIMULATE_BENCHMARK,
    WF_ANALYZE_MANUFACTURING,
    WF_EVALUATE_DESIGN,
    WF_GENERATE_BENCHMARK,
    WF_GENERATE_DATASET,
)

FAMILIES = ["chute", "gap", "detour", "lift"]
CHUTE = "chute-s0-v1"
RAMP_SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "benchmarks" / "ramp_benchmark.py"
SOAK_MAX_GROWTH_MIB = 24.0
"""Resident memory the worker or its fork server may gain between the end of warm-up and the end of the soak
before the soak calls it a leak."""


@dataclass
class Row:
    fault: str
    injected: int
    survived: int
    work_lost: int
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.injected > 0 and self.survived == self.injected and self.work_lost == 0


@dataclass
class DatasetCheck:
    """What a finished dataset run left behind."""

    entries: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bad_objects: list[str] = field(default_factory=list)
    temp_files: int = 0

    @property
    def lost(self) -> int:
        return len(self.missing) + len(self.duplicated) + len(self.failed) + len(self.bad_objects)

    def notes(self) -> list[str]:
        out = []
        for what, items in (
            ("missing", self.missing),
            ("duplicated", self.duplicated),
            ("failed", self.failed),
            ("bad objects", self.bad_objects),
        ):
            if items:
                out.append(f"{what}: {', '.join(items[:4])}{' ...' if len(items) > 4 else ''}")
        return out


def check_dataset(stack: Stack, req: DatasetRequest) -> DatasetCheck:
    """Every planned benchmark appears exactly once in the manifest, none failed, and every visible object is
    whole (JSON parses; every artifact it references matches its sha256 and size)."""
    assert req.dataset_id is not None
    store = stack.store()
    check = DatasetCheck()
    manifest = store.get_model(manifest_key(req.dataset_id), DatasetManifest)
    ids = [e.benchmark_id for e in manifest.entries]
    check.entries = len(ids)
    planned = [benchmark_id(*dataset_item(req, i), GENERATOR_VERSION) for i in range(req.count)]
    check.missing = sorted(set(planned) - set(ids))
    check.duplicated = sorted({i for i in ids if ids.count(i) > 1})
    check.failed = [f"{e.benchmark_id} ({e.reason})" for e in manifest.entries if e.verdict == Verdict.FAILED]
    audit = audit_store(store)
    check.bad_objects = audit.bad
    check.temp_files = audit.temp_files
    return check


async def _start_dataset(stack: Stack, req: DatasetRequest):  # type: ignore[no-untyped-def]
    assert stack.client is not None
    return await stack.client.start_workflow(
        WF_GENERATE_DATASET,
        req,
        id=f"ds-{req.dataset_id}-{uuid.uuid4().hex[:6]}",
        task_queue=stack.queue,
        result_type=DatasetResult,
    )


async def _closed(handle) -> bool:  # type: ignore[no-untyped-def]
    desc = await handle.describe()
    return desc.status != WorkflowExecutionStatus.RUNNING


async def _completed(stack: Stack, handle, timeout_s: float) -> DatasetResult:  # type: ignore[no-untyped-def]
    await wait_closed(handle, timeout_s)
    return await through_outages(handle.result, 60, "dataset result")


def _dataset_request(name: str, count: int, base_seed: int) -> DatasetRequest:
    return DatasetRequest(
        families=FAMILIES, count=count, base_seed=base_seed, dataset_id=name, max_parallel=4, n_scenes=4
    )


# --- workers killed with SIGKILL ---------------------------------------------------------------------


async def worker_kills(root: Path, *, benchmarks: int, kills: int, seed: int = 7) -> list[Row]:
    """Two workers serve a dataset run; at random moments one of them is SIGKILLed and a new one started."""
    started = time.monotonic()
    rng = random.Random(seed)
    stack = Stack(root / "worker-kills")
    notes: list[str] = []
    orphans: list[str] = []
    try:
        await stack.start_server()
        stack.spawn_worker()
        stack.spawn_worker()
        await stack.wait_workers_ready()
        req = _dataset_request("faults-kills", benchmarks, base_seed=100)
        handle = await _start_dataset(stack, req)
        done = 0
        while done < kills:
            await asyncio.sleep(rng.uniform(0.5, 4.0))
            # kill a worker in the middle of a job (killing an idle or starting one proves little)
            busy: list = []
            while not busy and not await _closed(handle):
                busy = [w for w in stack.workers if stack.job_processes_of(w)]
                await asyncio.sleep(0.1)
            if not busy:
                notes.append(f"the run ended after {done} of {kills} kills: make it longer")
                break
            victim = rng.choice(busy)
            roles = {pid: "one of its jobs" for pid in stack.job_processes_of(victim)}
            roles[forkserver_of(victim.pid) or -1] = "its fork server"
            killed_at = time.monotonic()
            stack.kill_worker(victim)
            done += 1
            for pid in await stack.orphans_after(ORPHAN_GRACE_S):
                orphans.append(await stack.orphan_fate(pid, roles.get(pid, "not its own"), killed_at))
            stack.spawn_worker()
        result = await _completed(stack, handle, timeout_s=1800)
        check = check_dataset(stack, req)
        retried = await failed_attempts(stack, req.dataset_id or "")
    finally:
        leftover = await stack.close()
    notes += check.notes()
    if orphans:
        notes.append(f"orphaned processes after kills: {len(orphans)} ({'; '.join(orphans[:3])})")
    if leftover:
        notes.append(f"processes left after stopping the stack: {len(leftover)}")
    notes.append(
        f"{result.published} published, {result.rejected} rejected, {result.failed} failed; "
        f"{retried} interrupted activity attempts retried; "
        f"{check.temp_files} unlisted store temp files (writes cut short)"
    )
    lost = check.lost + len(orphans) + len(leftover)
    survived = done if lost == 0 and check.entries == benchmarks and done == kills else 0
    fault = "worker SIGKILL during a dataset run"
    return [Row(fault, done, survived, lost, notes, time.monotonic() - started)]


async def _wait_progress(handle, completed: int, timeout_s: float = 600) -> DatasetProgress:  # type: ignore[no-untyped-def]
    """Until at least ``completed`` benchmarks of the dataset are done (server outages tolerated)."""
    deadline = time.monotonic() + timeout_s
    while True:
        p: DatasetProgress = await through_outages(
            lambda: handle.query("progress", result_type=DatasetProgress), 60, "progress"
        )
        if p.completed >= completed or time.monotonic() > deadline:
            return p
        await asyncio.sleep(0.5)


async def failed_attempts(stack: Stack, dataset_id: str) -> int:
    """Activity attempts that failed or timed out and were retried, in the dataset's workflows. History keeps
    only an activity's last attempt: its ``ActivityTaskStarted`` event carries the attempt number."""
    assert stack.client is not None
    n = 0
    async for wf in stack.client.list_workflows(f'MechbenchDataset = "{dataset_id}"'):
        history = await stack.client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        for e in history.events:
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                n += e.activity_task_started_event_attributes.attempt - 1
    return n


def _dataset_row(
    fault: str, injected: int, check: DatasetCheck, leftover: list[int], notes: list[str], started: float
) -> Row:
    notes = [*notes, *check.notes()]
    if leftover:
        notes.append(f"processes left after stopping the stack: {len(leftover)}")
    lost = check.lost + len(leftover)
    return Row(fault, injected, injected if lost == 0 else 0, lost, notes, time.monotonic() - started)


# --- the Temporal server restarted on the same database ----------------------------------------------


async def server_restart(root: Path, *, benchmarks: int, restarts: int, down_s: float = 5.0) -> list[Row]:
    """SIGKILL the embedded dev server mid-run and start it again on the same SQLite file and port."""
    started = time.monotonic()
    stack = Stack(root / "server-restart")
    try:
        req = _dataset_request("faults-restart", benchmarks, base_seed=200)
        done, check, notes = await _dataset_through_outages(
            stack, req, restarts, down_s, stack.kill_server, stack.restart_server, "server"
        )
    finally:
        leftover = await stack.close()
    fault = "Temporal server SIGKILL + restart on the same DB"
    return [_dataset_row(fault, done, check, leftover, notes, started)]


# --- the object store unreachable -------------------------------------------------------------------


async def store_outage(root: Path, *, benchmarks: int, outages: int, down_s: float) -> list[Row]:
    """An S3 endpoint (moto) stopped mid-run and started again on the same port: activities retry with
    backoff, the run completes, and every visible object is whole."""
    started = time.monotonic()
    s3 = S3Endpoint()
    s3.start()
    stack = Stack(root / "store-outage", s3=s3)

    async def start() -> None:
        s3.start()

    try:
        req = _dataset_request("faults-store", benchmarks, base_seed=300)
        done, check, notes = await _dataset_through_outages(
            stack, req, outages, down_s, s3.stop, start, "store"
        )
    finally:
        leftover = await stack.close()
        s3.stop()
    return [_dataset_row("S3 endpoint stopped, then started again", done, check, leftover, notes, started)]


async def _dataset_through_outages(
    stack: Stack,
    req: DatasetRequest,
    outages: int,
    down_s: float,
    stop: Callable[[], None],
    start: Callable[[], Awaitable[None]],
    what: str,
) -> tuple[int, DatasetCheck, list[str]]:
    """Two workers serve ``req``; at evenly spaced points of its progress ``stop()``, wait ``down_s``, then
    ``start()``. Returns the outages made, the check of what the run left, and notes."""
    await stack.start_server()
    stack.spawn_worker()
    stack.spawn_worker()
    await stack.wait_workers_ready()
    handle = await _start_dataset(stack, req)
    done = 0
    for i in range(outages):
        await _wait_progress(handle, completed=1 + i * max(1, req.count // (outages + 1)))
        stop()
        done += 1
        await asyncio.sleep(down_s)
        await start()
    await _completed(stack, handle, timeout_s=1800)
    check = check_dataset(stack, req)
    check.failed += [f"{w.name} exited during an outage" for w in stack.workers if not w.alive()]
    retried = await failed_attempts(stack, req.dataset_id or "")
    return done, check, [f"{what} down {down_s:.0f} s each time; {retried} failed activity attempts retried"]


# --- cancellations ------------------------------------------------------------------------------------


async def _history_has(handle, *types: EventType) -> list[str]:  # type: ignore[no-untyped-def]
    """The event types among ``types`` that the workflow's history lacks."""
    seen = {e.event_type for e in (await handle.fetch_history()).events}
    return [EventType.Name(t) for t in types if t not in seen]


async def _until(predicate, timeout_s: float, every_s: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(every_s)
    return await predicate()


async def publish_chute(stack: Stack) -> Path:
    """Publish chute seed 0 and put its reference part where the worker may read design files."""
    assert stack.client is not None
    result = await stack.client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="chute", seed=0),
        id=f"publish-chute-{uuid.uuid4().hex[:6]}",
        task_queue=stack.queue,
        result_type=BenchmarkResult,
    )
    if result.verdict != Verdict.PUBLISHED:
        raise RuntimeError(f"chute seed 0 was not published: {result.reason}")
    part = stack.root / "designs" / "chute.step"
    part.parent.mkdir(exist_ok=True)
    part.write_bytes(stack.store().get_bytes(part_step_key(CHUTE, "chute")))
    return part


async def publish_slow_ramp(stack: Stack) -> str:
    """The example ramp benchmark script with 20 s scenes: a design that holds the ball makes every scene run
    to its timeout, so one 64-scene simulation lasts seconds (long enough to cancel in the middle)."""
    assert stack.client is not None
    script = RAMP_SCRIPT.read_text().replace('"duration_s": 3.0', '"duration_s": 20.0')
    path = stack.root / "designs" / "slow_ramp.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(script)
    result = await stack.client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(script=PartSource(path=str(path))),
        id=f"publish-ramp-{uuid.uuid4().hex[:6]}",
        task_queue=stack.queue,
        result_type=BenchmarkResult,
    )
    if result.verdict != Verdict.PUBLISHED:
        raise RuntimeError(f"the slow ramp was not published: {result.reason}")
    return result.benchmark_id


def catcher_part(stack: Stack, benchmark: str) -> Path:
    """A plate just below the payload's spawn envelope: the ball lands on it and stays, so every scene runs to
    its timeout."""
    from engines.cad.export import step_bytes
    from engines.cad.primitives import box

    definition = stack.store().get_model(benchmark_definition_key(benchmark), BenchmarkDefinition)
    env = definition.payload.envelope
    (x0, y0, z0), (x1, y1, _) = env.min_mm, env.max_mm
    path = stack.root / "designs" / "catcher.step"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(step_bytes(box((x0 - 10, y0 - 10, z0 - 12), (x1 + 10, y1 + 10, z0 - 2))))
    return path


def design_request(part: Path, label: str, benchmark: str = CHUTE, **options: object) -> dict[str, object]:
    meta = {"label": label, "material": "aluminum_6061", "method": "cnc_milling"}
    return {
        "benchmark_id": benchmark,
        "design": {"parts": [{"source": {"path": str(part)}, "metadata": meta}]},
        **options,
    }


async def cancellations(root: Path) -> list[Row]:
    """A dataset cancelled mid-fan-out and an evaluation cancelled mid-simulation: the workflows end
    CANCELED with the request in history, every child stops, and no job process keeps running."""
    stack = Stack(root / "cancel", worker_concurrency=2)
    rows: list[Row] = []
    try:
        await stack.start_server()
        stack.spawn_worker()
        await stack.wait_workers_ready()
        assert stack.client is not None
        client = stack.client

        started = time.monotonic()
        req = DatasetRequest(
            families=["detour", "gap"],
            count=8,
            base_seed=500,
            max_parallel=2,
            n_scenes=64,
            check_interval_steps=1,
            dataset_id="faults-cancel",
        )
        handle = await _start_dataset(stack, req)

        async def fanned_out() -> bool:
            p = await handle.query("progress", result_type=DatasetProgress)
            return bool(p.running) and bool(stack.job_processes())

        notes: list[str] = []
        if not await _until(fanned_out, 120):
            notes.append("no child was running a job to cancel")
        await handle.cancel()
        status = await wait_closed(handle, 60)
        notes += [f"status {status.name}"] if status != WorkflowExecutionStatus.CANCELED else []
        notes += await _history_has(
            handle,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        )

        async def children_stopped() -> bool:
            running = [
                w
                async for w in client.list_workflows(
                    f'MechbenchDataset = "{req.dataset_id}" AND ExecutionStatus = "Running"'
                )
            ]
            return not running and not stack.job_processes()

        if not await _until(children_stopped, 30):
            notes.append(f"still running 30 s later: children or {len(stack.job_processes())} job processes")
        lost = len(notes)
        rows.append(
            Row(
                "dataset cancelled mid-fan-out",
                1,
                1 if not lost else 0,
                lost,
                notes,
                time.monotonic() - started,
            )
        )

        started = time.monotonic()
        ramp = await publish_slow_ramp(stack)
        catcher = catcher_part(stack, ramp)
        notes = []
        for attempt in range(3):  # retried should the cancellation ever miss the simulation
            ev = await client.start_workflow(
                WF_EVALUATE_DESIGN,
                design_request(catcher, f"catcher{attempt}", ramp, n_scenes=64, evidence=False),
                id=f"evaluate-cancel-{uuid.uuid4().hex[:6]}",
                task_queue=stack.queue,
            )

            async def simulating(ev=ev) -> bool:  # type: ignore[no-untyped-def]
                desc = await ev.describe()
                return any(
                    a.activity_type.name == ACT_SIMULATE_BENCHMARK
                    and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                    for a in desc.raw_description.pending_activities
                ) and bool(stack.job_processes())

            if await _until(simulating, 120, every_s=0.02):
                await ev.cancel()
            status = await wait_closed(ev, 60)
            missing = await _history_has(
                ev,
                EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
                EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
            )
            if not missing:
                break
            notes.append(f"attempt {attempt}: the simulation ended before the cancellation ({status.name})")
        else:
            notes.append("no cancellation landed during a simulation")
        notes += [f"status {status.name}"] if status != WorkflowExecutionStatus.CANCELED else []

        async def no_jobs() -> bool:
            return not stack.job_processes()

        if not await _until(no_jobs, 10):
            notes.append("the simulation's job process outlived the cancellation by 10 s")
        lost = len([n for n in notes if not n.startswith("attempt")])
        rows.append(
            Row(
                "evaluation cancelled mid-simulation",
                1,
                1 if not lost else 0,
                lost,
                notes,
                time.monotonic() - started,
            )
        )
    finally:
        leftover = await stack.close()
    if leftover:
        rows[-1].notes.append(f"processes left after stopping the stack: {len(leftover)}")
        rows[-1].work_lost += len(leftover)
    return rows


# --- soak ----------------------------------------------------------------------------------------------


async def soak(root: Path, *, simulations: int, in_flight: int = 4) -> list[Row]:
    """``simulations`` evaluations (each one simulation job, no pictures) through one worker. Reports the
    worker's and its fork server's memory after warm-up and at the end, and what is left over: temporary
    files, job processes, store temp files."""
    started = time.monotonic()
    stack = Stack(root / "soak", worker_concurrency=2)
    notes: list[str] = []
    lost = 0
    try:
        await stack.start_server()
        worker = stack.spawn_worker()
        await stack.wait_workers_ready()
        assert stack.client is not None
        client = stack.client
        part = await publish_chute(stack)
        verdicts: dict[str, int] = {}
        errors: list[str] = []
        gate = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with gate:
                try:
                    result = await client.execute_workflow(
                        WF_EVALUATE_DESIGN,
                        design_request(part, f"soak{i}", evidence=False),
                        id=f"soak-{i}-{uuid.uuid4().hex[:6]}",
                        task_queue=stack.queue,
                        result_type=EvaluationResult,
                    )
                except Exception as e:  # noqa: BLE001 - counted and reported
                    errors.append(f"{i}: {e}")
                    return
                if result.simulation is None or result.reused:
                    errors.append(f"{i}: no new simulation ({result.verdict})")
                verdicts[result.verdict.value] = verdicts.get(result.verdict.value, 0) + 1

        def sample(done: int) -> tuple[int, int, int]:
            fork = forkserver_of(worker.pid)
            return done, rss_kib(worker.pid), rss_kib(fork) if fork else 0

        warm = max(5, simulations // 5)
        await asyncio.gather(*(one(i) for i in range(warm)))
        samples = [sample(warm)]
        step = max(1, (simulations - warm) // 4)
        done = warm
        while done < simulations:
            n = min(step, simulations - done)
            await asyncio.gather(*(one(i) for i in range(done, done + n)))
            done += n
            samples.append(sample(done))
        await asyncio.sleep(2.0)  # let the last job processes exit

        fork = forkserver_of(worker.pid)
        jobs = [p for p in descendants(worker.pid) if p != fork]
        own_dir = {p.name for p in stack.tmp.iterdir() if p.name.startswith(f"mechbench-fork-{worker.pid}-")}
        temp = [name for name in stack.temp_leftovers() if name not in own_dir]
        for d in own_dir:  # the live worker's directory: only its socket and an empty tmp/ may remain
            temp += [str(p.relative_to(stack.tmp)) for p in (stack.tmp / d / "tmp").iterdir()]
        store_temp = audit_store(stack.store()).temp_files

        (_, w0, f0), (_, w1, f1) = samples[0], samples[-1]
        per100 = lambda a, b: (b - a) / 1024 / max(1, simulations - warm) * 100
        notes.append(
            "RSS MiB after "
            + ", ".join(f"{d}: worker {w / 1024:.0f} / fork server {f / 1024:.0f}" for d, w, f in samples)
        )
        notes.append(
            f"growth after warm-up: worker {(w1 - w0) / 1024:+.1f} MiB ({per100(w0, w1):+.1f} per 100), "
            f"fork server {(f1 - f0) / 1024:+.1f} MiB"
        )
        notes.append(
            f"left over: {len(temp)} temp files, {len(jobs)} job processes, {store_temp} store temp files; "
            f"verdicts {verdicts}"
        )
        if errors:
            notes.append(f"errors: {errors[:3]}")
        leak = max(w1 - w0, f1 - f0) / 1024 > SOAK_MAX_GROWTH_MIB
        if leak:
            notes.append(f"memory grew more than {SOAK_MAX_GROWTH_MIB:.0f} MiB after warm-up")
        lost = len(errors) + len(temp) + len(jobs) + store_temp + int(leak)
        ok = simulations - len(errors)
    finally:
        leftover = await stack.close()
    if leftover:
        notes.append(f"processes left after stopping the stack: {len(leftover)}")
        lost += len(leftover)
    return [
        Row(
            f"soak: {simulations} simulations through one worker",
            simulations,
            ok if lost == 0 else 0,
            lost,
            notes,
            time.monotonic() - started,
        )
    ]


# --- replay -----------------------------------------------------------------------------------------------

HISTORIES = Path(__file__).resolve().parents[1] / "tests" / "replay" / "histories"


def _unpatched(original: type) -> type:
    """``original`` with one change made without ``workflow.patched``: a timer before everything else."""
    from temporalio import workflow

    name = original.__name__  # every mechbench workflow is registered under its class name

    async def run(self: object, raw: RawValue) -> object:
        await workflow.sleep(timedelta(seconds=1))
        return await original().run(raw)

    cls_name = f"Unpatched{original.__name__}"
    run.__qualname__ = f"{cls_name}.run"  # the SDK refuses local classes; this one is never imported by name
    cls = type(cls_name, (), {"run": workflow.run(run), "__module__": __name__, "__qualname__": cls_name})
    return workflow.defn(name=name, sandboxed=False)(cls)


async def replay_guard(root: Path) -> list[Row]:
    """Every committed history replays against today's code, and the same replay catches an unpatched
    command-sequence change in each of them."""
    from temporalio.client import WorkflowHistory
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
    from temporalio.worker import Replayer
    from temporalio.workflow import NondeterminismError

    from shared.temporal import DATA_CONVERTER
    from workers.worker import INTERCEPTORS, WORKFLOWS

    started = time.monotonic()
    paths = sorted(HISTORIES.glob("*.json"))
    replayer = Replayer(workflows=WORKFLOWS, interceptors=INTERCEPTORS, data_converter=DATA_CONVERTER)
    # the nondeterminism it must find would otherwise be logged by the SDK core as a warning per history
    quiet = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )
    changed = Replayer(
        workflows=[_unpatched(w) for w in WORKFLOWS],
        interceptors=INTERCEPTORS,
        data_converter=DATA_CONVERTER,
        runtime=quiet,
    )
    replayed, caught, notes, missed = 0, 0, [], []
    for path in paths:
        history = WorkflowHistory.from_json(path.stem.rsplit("-run", 1)[0], path.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is None:
            replayed += 1
        else:
            notes.append(f"{path.name} does not replay: {result.replay_failure}")
        result = await changed.replay_workflow(history, raise_on_replay_failure=False)
        if isinstance(result.replay_failure, NondeterminismError):
            caught += 1
        else:
            missed.append(path.name)
    types = sorted(
        {
            json.loads(p.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"][
                "name"
            ]
            for p in paths
        }
    )
    shipped = sorted(w.__name__ for w in WORKFLOWS)
    if types != shipped:
        notes.append(f"histories cover {types}, shipped types are {shipped}")
    seconds = time.monotonic() - started
    return [
        Row(
            "committed histories replay on today's code",
            len(paths),
            replayed,
            len(paths) - replayed + int(types != shipped),
            notes,
            seconds,
        ),
        Row(
            "unpatched command change caught by replay",
            len(paths),
            caught,
            len(missed),
            [f"not caught: {missed}"] if missed else [],
            seconds,
        ),
    ]


# --- fuzzed workflow input -------------------------------------------------------------------------------

BRACKET = Path(__file__).resolve().parents[1] / "examples" / "bracket.step"


async def fuzz(root: Path, *, per_type: int, seed: int = 20261121) -> list[Row]:
    """``per_type`` malformed inputs per workflow input model, each checked to be rejected by the model and
    then sent raw to its workflow (as ``temporal workflow start --input`` could), plus hostile valid-shaped
    requests: every one must fail with a typed non-retryable error, no workflow task may retry, and the
    worker must still serve real work afterwards."""
    from faults.fuzz import fuzz_workflows

    started = time.monotonic()
    parts = root / "fuzz" / "parts"
    parts.mkdir(parents=True)
    stack = Stack(root / "fuzz", worker_concurrency=2, part_roots=[parts])
    rows: list[Row] = []
    try:
        await stack.start_server()
        worker = stack.spawn_worker()
        await stack.wait_workers_ready()
        assert stack.client is not None
        report = await fuzz_workflows(stack.client, stack.queue, per_type, seed, part_root=str(parts))
        for t in report.types:
            summary = (
                f"rejected by the model {t.rejected_by_model}/{t.generated}; sent raw {t.sent}, failed typed "
                f"and non-retryable {t.failed_typed}; hostile valid-shaped {t.hostile_failed_typed}/"
                f"{t.hostile_sent}; workflow task failures {t.workflow_task_failures}; slowest {t.slowest_s:.1f} s"
            )
            notes = [summary, *t.bad_examples]
            injected = t.generated + t.hostile_sent
            lost = t.bad + t.workflow_task_failures
            rows.append(Row(f"malformed {t.model} ({t.workflow})", injected, injected - t.bad, lost, notes))
        # the worker survived all of it and still does real work
        (parts / "bracket.step").write_bytes(BRACKET.read_bytes())
        after: list[str] = []
        if not worker.alive():
            after.append("the worker died during fuzzing")
        else:
            try:
                result = await stack.client.execute_workflow(
                    WF_ANALYZE_MANUFACTURING,
                    {
                        "part": {"path": str(parts / "bracket.step")},
                        "method": "cnc",
                        "material": "aluminum_6061",
                        "quantity": 100,
                    },
                    id=f"after-fuzz-{uuid.uuid4().hex[:6]}",
                    task_queue=stack.queue,
                    execution_timeout=timedelta(minutes=3),
                )
            except WorkflowFailureError as e:
                result = None
                after.append(f"the analysis after fuzzing failed: {e.cause}")
            if result is None and not after:
                after.append("the analysis after fuzzing returned nothing")
        if after:
            rows[-1].notes += after
            rows[-1].work_lost += len(after)
        else:
            rows[-1].notes.append("afterwards the same worker completed a real analysis")
    finally:
        leftover = await stack.close()
    if leftover and rows:
        rows[-1].notes.append(f"processes left after stopping the stack: {len(leftover)}")
        rows[-1].work_lost += len(leftover)
    elapsed = time.monotonic() - started
    for r in rows:
        r.seconds = elapsed / max(1, len(rows))
    return rows


# --- escaping ids, keys and file names --------------------------------------------------------------------

ESCAPE_TESTS = Path(__file__).resolve().parents[1] / "tests" / "engine" / "test_escapes.py"


async def escapes(root: Path) -> list[Row]:
    """The hypothesis properties of ``tests/engine/test_escapes.py``: ids, object keys, store paths and uploaded
    file names that try to escape (``..``, absolute paths, NUL, very long names, odd unicode) are rejected, and
    whatever is accepted stays inside its root."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(ESCAPE_TESTS),
        cwd=ESCAPE_TESTS.parents[2],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out = (await proc.communicate())[0].decode(errors="replace")
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|error)", out)}
    passed, failed = counts.get("passed", 0), counts.get("failed", 0) + counts.get("error", 0)
    notes = [f"{passed + failed} properties, each over 1000 generated values"]
    if proc.returncode != 0:
        notes.append(out.strip().splitlines()[-1] if out.strip() else f"pytest exited {proc.returncode}")
    lost = failed + int(proc.returncode != 0 and not failed)
    return [
        Row(
            "escaping ids, keys and file names",
            passed + failed,
            passed,
            lost,
            notes,
            time.monotonic() - started,
        )
    ]
