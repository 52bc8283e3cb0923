"""The mechbench worker: one process serving the workflow queue and the heavy queue.

- ``<task_queue>``: GenerateDataset, GenerateBenchmark, AnalyzeManufacturing, EvaluateDesign and the quick
  store and pricing activities;
- ``<task_queue>-heavy``: CAD, validation, simulation, geometry facts, part and design scripts and evidence
  pictures, each job in a supervised warm child process, at most ``worker_concurrency`` at once (defaults
  to the machine's cores).

More machines run the same process against the same Temporal cluster and object store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from activities import activities_of
from activities.analysis import AnalysisActivities
from activities.dataset import DatasetActivities
from activities.evaluation import EvaluationActivities
from activities.generation import GenerationActivities
from activities.heavy import HeavyActivities
from activities.leaderboard import LeaderboardActivities
from activities.notify import NotifyActivities, http_client
from engines.manufacturing.catalog import default_catalog
from runtime.supervisor import HeavySupervisor
from shared.logging import get_logger
from shared.settings import Settings
from shared.store import make_store
from shared.temporal import connect_client, heavy_queue_for, unreachable
from workflows._input import OneInputInterceptor
from workflows.benchmark import GenerateBenchmark
from workflows.dataset import GenerateDataset
from workflows.evaluation import EvaluateDesign
from workflows.manufacturing import AnalyzeManufacturing

WORKFLOWS = [GenerateDataset, GenerateBenchmark, AnalyzeManufacturing, EvaluateDesign]
INTERCEPTORS = [OneInputInterceptor()]
"""Worker interceptors; the Replayers use the same."""
HEARTBEAT_THROTTLE = timedelta(seconds=2)
log = get_logger(__name__)


@contextlib.asynccontextmanager
async def running_worker(
    client: Client,
    settings: Settings,
    task_queue: str | None = None,
    supervisor: HeavySupervisor | None = None,
) -> AsyncIterator[HeavySupervisor]:
    """Run both workers until the block exits; then shut down gracefully and stop every child process.
    Yields the heavy-job supervisor (its fork server's pid identifies this worker's job processes); a
    ``supervisor`` given (already warming its fork server) is used, and its owner closes it.

    The heavy jobs' child processes receive ``settings`` too, so everything uses the same object store."""
    queue = task_queue or settings.task_queue
    default_catalog()  # a malformed price or parameter row stops the worker here, naming the file and row
    store = make_store(settings)
    owned = supervisor is None
    supervisor = supervisor or HeavySupervisor(settings)
    http = http_client(settings)  # one per worker: webhooks reuse its connections
    try:
        await supervisor.start()  # warm the fork server before taking work (~4 s)
        main_worker = Worker(
            client,
            task_queue=queue,
            workflows=WORKFLOWS,
            interceptors=INTERCEPTORS,
            activities=activities_of(
                GenerationActivities(store, settings),
                DatasetActivities(store, settings),
                AnalysisActivities(store, settings),
                EvaluationActivities(store, settings),
                LeaderboardActivities(store, settings),
                NotifyActivities(http, settings.webhook_targets),
            ),
            graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_s),
        )
        heavy_worker = Worker(
            client,
            task_queue=heavy_queue_for(queue),
            activities=activities_of(HeavyActivities(supervisor)),  # one per entry of shared.heavy
            max_concurrent_activities=settings.worker_concurrency,
            graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_s),
            # Heartbeats reach the server at least this often, and with them cancellation reaches the job:
            # a cancelled simulation stops within seconds (the SDK default throttles to 0.8 x timeout).
            max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
            default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        )
        limit, needed = memory_limit_mb(), memory_needed_mb(settings)
        if limit is not None and limit < needed:
            log.warning(
                "worker.memory_short",
                limit_mb=limit,
                needed_mb=needed,
                detail=f"{settings.worker_concurrency} heavy slots x {settings.sandbox_memory_mb} MB "
                f"(MECHBENCH_SANDBOX_MEMORY_MB) + {WORKER_OVERHEAD_MB} MB exceed the memory limit: raise the "
                "limit or lower MECHBENCH_WORKER_CONCURRENCY",
            )
        log.info(
            "worker.started",
            task_queue=queue,
            heavy_task_queue=heavy_queue_for(queue),
            concurrency=settings.worker_concurrency,
            scene_threads=settings.scene_threads,
            store=store.describe(),
        )
        async with main_worker, heavy_worker:
            yield supervisor
    finally:
        if owned:
            await supervisor.close()
        await http.aclose()
        log.info("worker.stopped", task_queue=queue)


WORKER_OVERHEAD_MB = 1536
"""Memory of a worker besides its jobs, rounded up: the warm fork server (build123d, OCP and MuJoCo loaded:
about 530 MB at its peak), its sandbox zygote (build123d and OCP: about 470 MB) and the worker process with
the Temporal SDK (about 140 MB), measured by ``benchmarks/bench_scale.py``."""


def memory_needed_mb(settings: Settings) -> int:
    """What a worker may use at once: every heavy slot at the sandbox's memory limit, plus the fork server.
    A container limit below it lets the kernel kill a job (or the worker) that stays within its own limit."""
    return settings.worker_concurrency * settings.sandbox_memory_mb + WORKER_OVERHEAD_MB


def memory_limit_mb(cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """This process's cgroup memory limit (v2 ``memory.max``, or v1), None when unlimited or unknown."""
    for name in ("memory.max", "memory/memory.limit_in_bytes"):
        try:
            text = (cgroup / name).read_text().strip()
        except OSError:
            continue
        if text == "max" or not text.isdigit() or int(text) >= 2**60:  # v1 writes a huge number for none
            return None
        return int(text) // 2**20
    return None


CONNECT_RETRY_S = (1.0, 10.0)
"""First and longest wait between attempts to reach a server that is down (doubling in between): a worker
started before its server serves within 10 s of the server coming up."""
REPORT_EVERY_S = 60.0
"""While the server stays unreachable, one log line a minute (and one at the first failure)."""


async def connect_when_up(settings: Settings, stop: asyncio.Event) -> Client | None:
    """The client of a long-running worker: waits for the server with backoff while it cannot be reached,
    logging ``worker.waiting_for_server`` at the first failure and then once a minute (every attempt at
    DEBUG). None when ``stop`` is set first. Errors that waiting does not cure are raised at once."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    reported_at: float | None = None
    delay, attempt = CONNECT_RETRY_S[0], 0
    while not stop.is_set():
        attempt += 1
        try:
            client = await connect_client(settings, metrics=True)
        except Exception as e:
            reason = unreachable(e)
            if reason is None:
                raise
            waited = loop.time() - started
            fields = {"address": settings.temporal_address, "attempt": attempt, "reason": reason}
            log.debug("worker.connect_retry", retry_in_s=delay, **fields)
            if reported_at is None or loop.time() - reported_at >= REPORT_EVERY_S:
                reported_at = loop.time()
                log.warning(
                    "worker.waiting_for_server",
                    namespace=settings.temporal_namespace,
                    waited_s=round(waited),
                    detail=f"Temporal at {settings.temporal_address} is unreachable ({reason}); "
                    "retrying until it answers",
                    **fields,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, CONNECT_RETRY_S[1])
            continue
        if attempt > 1:
            log.info(
                "worker.connected",
                address=settings.temporal_address,
                attempts=attempt,
                waited_s=round(loop.time() - started),
            )
        return client
    return None


async def serve_forever(client: Client, settings: Settings, stop: asyncio.Event) -> None:
    async with running_worker(client, settings):
        await stop.wait()
