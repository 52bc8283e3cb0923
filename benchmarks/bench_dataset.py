"""A dataset through Temporal (dev server + worker + supervised children) vs the same engines, every proof
included, in a plain sequential loop in one process. Prints both times and the ratio, measured side by side
in one run.

    python -m benchmarks.bench_dataset [--count 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.results import report


def busy_core_seconds() -> float:
    """CPU seconds every core of this machine has spent busy since boot (Linux /proc/stat: all but idle and
    iowait), whoever spent them."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def sequential(families: list[str], count: int, base_seed: int) -> float:
    """The dataset's benchmarks one after another in this process, each through every proof the workflow
    runs (build, geometry, baseline, reference, affordability and caps, N random designs, perturbations;
    ``benchmarks.study_families.prove``), on as many threads as the worker's scenes get."""
    from benchmarks.bench_certify import build
    from benchmarks.study_families import prove
    from engines.manufacturing.catalog import load_catalog
    from shared.ids import dataset_item
    from shared.models import DatasetRequest
    from shared.settings import Settings

    settings, catalog = Settings(), load_catalog()
    req = DatasetRequest(families=families, count=count, base_seed=base_seed)
    t0 = time.perf_counter()
    for i in range(count):
        family, seed = dataset_item(req, i)
        prove(
            build(family, settings, catalog, seed),
            settings,
            catalog,
            settings.random_designs,
            os.cpu_count() or 2,
        )
    return time.perf_counter() - t0


async def through_temporal(families: list[str], count: int, base_seed: int) -> tuple[float, float]:
    """Wall and busy core-seconds of GenerateDataset, from its start to its result (the server and the worker
    start before)."""
    from shared.models import DatasetRequest, DatasetResult
    from shared.settings import Settings
    from shared.temporal import WF_GENERATE_DATASET
    from workers.devstack import throwaway_server
    from workers.worker import running_worker

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), store="local", log_level="WARNING")
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        async with throwaway_server() as env, running_worker(env.client, settings, task_queue=queue):
            t0, c0 = time.perf_counter(), busy_core_seconds()
            await env.client.execute_workflow(
                WF_GENERATE_DATASET,
                DatasetRequest(families=families, count=count, base_seed=base_seed),
                id=f"bench-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
                result_type=DatasetResult,
            )
            return time.perf_counter() - t0, busy_core_seconds() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--seed", type=int, default=100)
    args = ap.parse_args()
    families = ["chute", "gap", "detour"]
    from shared.logging import configure_logging

    configure_logging("WARNING")
    c0 = busy_core_seconds()
    t_seq = sequential(families, args.count, args.seed)
    cpu_seq = busy_core_seconds() - c0
    t_tmp, cpu_tmp = asyncio.run(through_temporal(families, args.count, args.seed))
    print(f"\ndataset of {args.count} benchmarks ({', '.join(families)}), {os.cpu_count()} cores")
    print(f"{'':45s} {'wall':>8s}   {'CPU':>8s}   {'cores busy':>10s}")
    print(
        f"{'plain sequential loop (one process)':45s} {t_seq:8.2f} s {cpu_seq:8.1f} s {cpu_seq / t_seq:10.2f}"
    )
    print(f"{'GenerateDataset through Temporal':45s} {t_tmp:8.2f} s {cpu_tmp:8.1f} s {cpu_tmp / t_tmp:10.2f}")
    print(f"{'ratio sequential / Temporal':45s} {t_seq / t_tmp:8.2f} x")
    # The loop already steps its scenes and random designs on every core. Through Temporal the ratio is
    # (cores busy through Temporal / cores the loop keeps busy) / (CPU through Temporal / CPU of the loop).
    print(f"{'cores busy: Temporal / the loop':45s} {(cpu_tmp / t_tmp) / (cpu_seq / t_seq):8.2f} x")
    print(f"{'CPU: Temporal / the loop':45s} {cpu_tmp / cpu_seq:8.2f} x")
    report("dataset_speedup_vs_sequential", t_seq / t_tmp)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
