"""Faults injected while a dataset runs: workers SIGKILLed mid-job, the Temporal server SIGKILLed and
restarted on the same database, the S3 endpoint stopped and started again; afterwards every planned
benchmark is in the manifest exactly once and every visible object is whole."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from faults.harness import (
    ORPHAN_GRACE_S,
    S3Endpoint,
    Stack,
    audit_store,
    forkserver_of,
    through_outages,
    wait_closed,
)
from faults.scenarios.common import Row
from shared.families import GENERATOR_VERSION
from shared.ids import benchmark_id, dataset_item
from shared.keys import manifest_key
from shared.models import DatasetManifest, DatasetProgress, DatasetRequest, DatasetResult, Verdict
from shared.temporal import WF_GENERATE_DATASET

FAMILIES = ["chute", "gap", "detour", "lift"]
"""The families the dataset scenarios generate: a fixed choice (quick to build), not the list of every
family (``shared.families.FAMILIES``), so the suite's work and timing stay the same as families are added."""


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


async def start_dataset(stack: Stack, req: DatasetRequest):  # type: ignore[no-untyped-def]
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
        handle = await start_dataset(stack, req)
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
    handle = await start_dataset(stack, req)
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
