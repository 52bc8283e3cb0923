"""Heavy activities have two attempt budgets, tested against the real dev server with workers as separate
processes: a worker lost in the middle of a job (SIGKILL; the heartbeat timeout ends the attempt) does not use
up the attempts of the job itself, and a job that fails retryably every time still stops after its own budget.

The probe workflow below runs the real ``build_benchmark`` activity with the production retry policy's attempt
limit and non-retryable types, but a shorter heartbeat timeout and backoff, so that many kills fit in a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from faults.harness import jobs_of
from shared.families import GENERATOR_VERSION
from shared.ids import benchmark_id
from shared.models import BuildRequest, BuildResult, Model
from shared.temporal import ACT_BUILD_BENCHMARK, HEAVY, HEAVY_JOB_ATTEMPTS, heavy_queue_for
from tests.helpers import application_error

pytestmark = pytest.mark.temporal
REPO = Path(__file__).resolve().parents[2]
PROBE_HEARTBEAT = timedelta(seconds=8)
"""Above the worker's 5 s re-beat, so a live attempt never times out; short enough for many kills."""


class ProbeInput(Model):
    heavy_queue: str
    request: BuildRequest


@workflow.defn(name="AttemptBudgetProbe", sandboxed=False)
class AttemptBudgetProbe:
    @workflow.run
    async def run(self, probe: ProbeInput) -> BuildResult:
        return await workflow.execute_activity(
            ACT_BUILD_BENCHMARK,
            probe.request,
            task_queue=probe.heavy_queue,
            result_type=BuildResult,
            start_to_close_timeout=HEAVY.start_to_close,
            heartbeat_timeout=PROBE_HEARTBEAT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200),
                backoff_coefficient=1.0,
                maximum_attempts=HEAVY.retry.maximum_attempts,
                non_retryable_error_types=HEAVY.retry.non_retryable_error_types,
            ),
        )


class Workers:
    """``mechbench worker`` processes on one task queue, each started as a user starts one."""

    def __init__(self, client: Client, root: Path, store_dir: Path) -> None:
        self.queue = f"budget-{uuid.uuid4().hex[:8]}"
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True)
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(root),
            "TMPDIR": str(self.tmp),
            "MECHBENCH_TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "MECHBENCH_TASK_QUEUE": self.queue,
            "MECHBENCH_DATA_DIR": str(root / "data"),
            "MECHBENCH_STORE": "local",
            "MECHBENCH_STORE_DIR": str(store_dir),
            "MECHBENCH_WORKER_CONCURRENCY": "1",
            "MECHBENCH_SIM_THREADS": "1",
            "MECHBENCH_LOG_LEVEL": "WARNING",
            "MECHBENCH_GRACEFUL_SHUTDOWN_S": "2",
            "MECHBENCH_PART_ROOTS": json.dumps([str(root)]),
            "PYTHONPATH": str(REPO),  # this checkout's code, whatever the environment's install points at
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log = root / "workers.log"

    def spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as fh:
            proc = subprocess.Popen(
                # dies with this test process (PR_SET_PDEATHSIG), whatever happens to the test
                [sys.executable, "-m", "shared.process", sys.executable, "-m", "workers.cli", "worker"],
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.root,
            )
        self.procs.append(proc)
        return proc

    async def ready(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(any(self.tmp.glob(f"mechbench-fork-{p.pid}-*/jobs.sock")) for p in self.procs):
            assert all(p.poll() is None for p in self.procs), self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "workers not ready"
            await asyncio.sleep(0.2)

    def busy(self) -> subprocess.Popen[bytes] | None:
        """A worker with a job process running."""
        for p in self.procs:
            if jobs_of(p.pid):
                return p
        return None

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.procs.remove(proc)

    def close(self) -> None:
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait()


@contextlib.asynccontextmanager
async def probe_worker(client: Client) -> AsyncIterator[str]:
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[AttemptBudgetProbe]):
        yield queue


async def running(handle: WorkflowHandle) -> bool:  # type: ignore[type-arg]
    return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


async def attempts_of(handle: WorkflowHandle) -> int:  # type: ignore[type-arg]
    """The attempt number of the activity's last attempt (history keeps only the last one)."""
    history = await handle.fetch_history()
    return max(
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    )


def _build(seed: int) -> BuildRequest:
    return BuildRequest(
        benchmark_id=benchmark_id("gap", seed, GENERATOR_VERSION),
        family="gap",
        seed=seed,
        generator_version=GENERATOR_VERSION,
    )


@pytest.mark.timeout(900)
async def test_lost_workers_do_not_use_up_the_jobs_attempts(temporal_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The worker running the job is SIGKILLed more times than the job may fail; the job still succeeds on a
    later attempt. Before, the heartbeat timeouts used up the heavy profile's 6 attempts and it failed."""
    client = temporal_env.client
    workers = Workers(client, tmp_path, tmp_path / "store")
    kills = HEAVY_JOB_ATTEMPTS + 1
    try:
        workers.spawn()
        workers.spawn()  # a standby: the next attempt need not wait for a new worker to start
        await workers.ready()
        async with probe_worker(client) as queue:
            handle = await client.start_workflow(
                AttemptBudgetProbe.run,
                ProbeInput(heavy_queue=heavy_queue_for(workers.queue), request=_build(11)),
                id=f"budget-kills-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
            for done in range(kills):
                deadline, polls = time.monotonic() + 300, 0
                while (victim := workers.busy()) is None:
                    assert time.monotonic() < deadline, "no job started"
                    polls += 1
                    if polls % 50 == 0 and not await running(handle):
                        await handle.result()  # raises the activity's failure when it gave up
                        pytest.fail(f"the job finished between two kills, after {done} of {kills}")
                    await asyncio.sleep(0.02)
                workers.kill(victim)
                workers.spawn()  # not awaited: the standby takes the next attempt meanwhile
            result = await handle.result()
            assert result.definition.benchmark_id == _build(11).benchmark_id
            assert await attempts_of(handle) > kills
    finally:
        workers.close()


@pytest.mark.timeout(600)
async def test_a_job_failing_retryably_every_time_stops_after_its_own_budget(temporal_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The store cannot take the build's artifacts (``benchmarks`` is a file): every attempt fails with a
    retryable OSError. The retry policy would allow more attempts (for lost workers); the activity counts the
    job's failures in its heartbeat details, which each attempt reads from the one before, and the failure
    that uses up the job's budget is final."""
    client = temporal_env.client
    store = tmp_path / "store"
    store.mkdir()
    (store / "benchmarks").write_text("not a directory")
    workers = Workers(client, tmp_path, store)
    try:
        workers.spawn()
        await workers.ready()
        async with probe_worker(client) as queue:
            handle = await client.start_workflow(
                AttemptBudgetProbe.run,
                ProbeInput(heavy_queue=heavy_queue_for(workers.queue), request=_build(12)),
                id=f"budget-fails-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
            )
            with pytest.raises(WorkflowFailureError) as info:
                await handle.result()
            error = application_error(info.value)
            assert error.non_retryable and error.type in ("NotADirectoryError", "FileExistsError"), error
            assert f"failed {HEAVY_JOB_ATTEMPTS} of its {HEAVY_JOB_ATTEMPTS} attempts" in error.message, error
            assert await attempts_of(handle) == HEAVY_JOB_ATTEMPTS < HEAVY.retry.maximum_attempts
    finally:
        workers.close()
    assert os.path.isfile(store / "benchmarks")
