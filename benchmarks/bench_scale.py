"""Scale test (``make bench SCALE=1``; not in CI): a large dataset through GenerateDataset on the embedded stack.

A ``--count``-benchmark dataset (default 400, the default ``MECHBENCH_MAX_DATASET_COUNT``) of every family, on
this machine's cores, with one worker. It prints:

- wall time and benchmarks per minute, and how many were published, rejected or failed;
- peak resident memory of the worker process (this one), its fork server and its sandbox zygote (``VmHWM``),
  and the most resident memory its job processes held at once (sampled every second);
- per workflow type: runs, history events and history bytes (mean and largest), from the server's own
  description of every execution;
- events per benchmark: every history event of the dataset's runs and its children, over the count.

``--random-designs`` sets N of the random-design proof (default: the worker's setting, 1000), and the shard
size follows so that each benchmark runs as many shards as with the defaults (4). The history and memory
figures then do not depend on N (shards heartbeat counts, not designs); the wall time does, about linearly.

    .venv/bin/python -m benchmarks.bench_scale [--count 400] [--random-designs 1000] [--max-parallel 4]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")


def _status_kb(pid: int | None, field: str) -> int:
    if pid is None:
        return 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int | None) -> list[int]:
    if pid is None:
        return []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Peaks:
    """Resident memory of the worker's processes, sampled once a second."""

    def __init__(self, supervisor) -> None:  # type: ignore[no-untyped-def]
        self.supervisor = supervisor
        self.jobs_mb = 0.0
        self.forkserver_mb = 0.0
        self.zygote_mb = 0.0

    def sample(self) -> None:
        from runtime.sandbox_zygote import MODULE
        from shared.process import is_job_process

        server = self.supervisor.forkserver_pid
        kids = _children(server)
        jobs = [k for k in kids if is_job_process(k)]
        zygotes = [k for k in kids if k not in jobs and MODULE in _cmdline(k)]
        self.forkserver_mb = max(self.forkserver_mb, _status_kb(server, "VmHWM") / 1024)
        for z in zygotes:
            self.zygote_mb = max(self.zygote_mb, _status_kb(z, "VmHWM") / 1024)
        # Jobs share the fork server's pages copy-on-write: this sum counts those pages once per job, an upper
        # bound of what they held at once.
        self.jobs_mb = max(self.jobs_mb, sum(_status_kb(j, "VmRSS") for j in jobs) / 1024)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass


async def histories(client, queue: str) -> dict[str, list[tuple[int, int]]]:  # type: ignore[no-untyped-def]
    """(events, bytes) of every execution on ``queue``, by workflow type."""
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    async for execution in client.list_workflows(query=f"TaskQueue = '{queue}'"):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        found[execution.workflow_type].append((info.history_length, info.history_size_bytes))
    return found


async def scale(count: int, random_designs: int | None, max_parallel: int, base_seed: int) -> None:
    from shared.families import FAMILIES
    from shared.models import CertifyOptions, DatasetRequest, DatasetResult
    from shared.settings import Settings
    from shared.temporal import WF_GENERATE_DATASET
    from workers.devstack import throwaway_server
    from workers.worker import running_worker

    with tempfile.TemporaryDirectory() as tmp:
        defaults = Settings()
        n = random_designs or defaults.random_designs
        settings = Settings(
            data_dir=Path(tmp),
            store="local",
            log_level="WARNING",
            max_dataset_count=max(count, defaults.max_dataset_count),
            random_shard_size=math.ceil(n * defaults.random_shard_size / defaults.random_designs),
        )
        queue = f"scale-{uuid.uuid4().hex[:6]}"
        async with (
            throwaway_server() as env,
            running_worker(env.client, settings, task_queue=queue) as supervisor,
        ):
            peaks, stop = Peaks(supervisor), asyncio.Event()
            sampler = asyncio.create_task(peaks.run(stop))
            request = DatasetRequest(
                families=["all"],
                count=count,
                base_seed=base_seed,
                max_parallel=max_parallel,
                certify=CertifyOptions(random_designs=random_designs),
            )
            t0 = time.perf_counter()
            result = await env.client.execute_workflow(
                WF_GENERATE_DATASET,
                request,
                id=f"scale-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
                result_type=DatasetResult,
            )
            wall = time.perf_counter() - t0
            stop.set()
            await sampler
            peaks.sample()
            found = await histories(env.client, queue)
    import resource

    worker_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nscale test: {count} benchmarks of {len(FAMILIES)} families, N={n} random designs each, ", end=""
    )
    print(f"{os.cpu_count()} cores, max_parallel {max_parallel}")
    print(f"wall {wall:.0f} s ({60 * count / wall:.1f} benchmarks/min); ", end="")
    print(f"published {result.published}, rejected {result.rejected}, failed {result.failed}")
    print("\npeak resident memory (MiB)")
    print(f"  worker process (this one; main and heavy workers)  {worker_mb:8.0f}")
    print(f"  fork server                                          {peaks.forkserver_mb:8.0f}")
    print(f"  sandbox zygote                                       {peaks.zygote_mb:8.0f}")
    print(f"  job processes at once (shared pages counted each)    {peaks.jobs_mb:8.0f}")
    print(
        f"\n{'workflow type':<22} {'runs':>6} {'events mean':>12} {'events max':>11} {'KiB mean':>9} {'KiB max':>8}"
    )
    total_events = 0
    for wf_type, rows in sorted(found.items()):
        events = [e for e, _ in rows]
        sizes = [b / 1024 for _, b in rows]
        total_events += sum(events)
        print(
            f"{wf_type:<22} {len(rows):>6} {statistics.mean(events):>12.0f} {max(events):>11} "
            f"{statistics.mean(sizes):>9.1f} {max(sizes):>8.1f}"
        )
    print(f"\nevents per benchmark (every run of the dataset and its children): {total_events / count:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--random-designs", type=int, default=None)
    ap.add_argument("--max-parallel", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args()
    from shared.logging import configure_logging

    configure_logging("WARNING")
    asyncio.run(scale(args.count, args.random_designs, args.max_parallel, args.seed))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
