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


async def through_temporal(families: list[str], count: int, base_seed: int) -> float:
    from shared.models import DatasetRequest, DatasetResult
    from shared.settings import Settings
    from shared.temporal import WF_GENERATE_DATASET
    from workers.devstack import throwaway_server
    from workers.worker import running_worker

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), store="local", log_level="WARNING")
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        async with throwaway_server() as env, running_worker(env.client, settings, task_queue=queue):
            t0 = time.perf_counter()
            await env.client.execute_workflow(
                WF_GENERATE_DATASET,
                DatasetRequest(families=families, count=count, base_seed=base_seed),
                id=f"bench-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
                result_type=DatasetResult,
            )
            return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--seed", type=int, default=100)
    args = ap.parse_args()
    families = ["chute", "gap", "detour"]
    from shared.logging import configure_logging

    configure_logging("WARNING")
    t_seq = sequential(families, args.count, args.seed)
    t_tmp = asyncio.run(through_temporal(families, args.count, args.seed))
    print(f"\ndataset of {args.count} benchmarks ({', '.join(families)}), {os.cpu_count()} cores")
    print(f"{'plain sequential loop (one process)':45s} {t_seq:8.2f} s")
    print(f"{'GenerateDataset through Temporal':45s} {t_tmp:8.2f} s")
    print(f"{'ratio sequential / Temporal':45s} {t_seq / t_tmp:8.2f} x")
    report("dataset_speedup_vs_sequential", t_seq / t_tmp)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
