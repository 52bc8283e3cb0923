"""A dataset through Temporal (dev server + worker + supervised children) vs the same engines, every proof
included, in a plain sequential loop in one process: one benchmark, one scene after another, on one thread.
Prints the times, the ratio and the CPU each side spends, measured side by side in one run.

The figure is against the one-thread loop: a plain sequential loop on 2 cores leaves one idle, so the best
the orchestration can do is about 2x, and what it costs shows as CPU beyond the loop's (the price of
durability). The same loop with its scenes and random designs stepped on every core is timed too and
printed as a second ratio; it is not sequential, and against it the ceiling on 2 cores is
2 / (cores it keeps busy).

    python -m benchmarks.bench_dataset [--count 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.results import report

CHILD = "THROUGH-TEMPORAL "
"""The marker of the fresh-process child's one line of figures (JSON) on its stdout."""


def busy_core_seconds() -> float:
    """CPU seconds every core of this machine has spent busy since boot (Linux /proc/stat: all but idle and
    iowait), whoever spent them."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def sequential(families: list[str], count: int, base_seed: int, threads: int) -> float:
    """The dataset's benchmarks one after another in this process, each through every proof the workflow
    runs (build, geometry, baseline, reference, affordability and caps, N random designs, perturbations;
    ``benchmarks.study_families.prove``), their scenes on ``threads`` threads."""
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
            threads,
        )
    return time.perf_counter() - t0


def _process_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of this process and each process under it, the children they have reaped included,
    by pid, with the part each plays: the Temporal server, the worker (this process), the jobs (the fork
    server and the job processes it forks)."""
    import psutil

    me = psutil.Process()
    out = {}
    for proc in [me, *me.children(recursive=True)]:
        try:
            t, name = proc.cpu_times(), proc.name()
        except psutil.Error:
            continue
        part = "worker" if proc.pid == me.pid else "server" if name.startswith("temporal") else "jobs"
        out[proc.pid] = (part, t.user + t.system + t.children_user + t.children_system)
    return out


async def through_temporal(families: list[str], count: int, base_seed: int) -> dict[str, float]:
    """Wall, busy core-seconds and each part's CPU seconds of GenerateDataset, from its start to its result
    (the server and the worker start before)."""
    from shared.models import DatasetRequest, DatasetResult
    from shared.settings import Settings
    from shared.temporal import WF_GENERATE_DATASET
    from workers.devstack import throwaway_server
    from workers.worker import running_worker

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), store="local", log_level="WARNING")
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        async with throwaway_server() as env, running_worker(env.client, settings, task_queue=queue):
            t0, c0, p0 = time.perf_counter(), busy_core_seconds(), _process_cpu()
            await env.client.execute_workflow(
                WF_GENERATE_DATASET,
                DatasetRequest(families=families, count=count, base_seed=base_seed),
                id=f"bench-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
                result_type=DatasetResult,
            )
            out = {"wall": time.perf_counter() - t0, "cpu": busy_core_seconds() - c0}
            for pid, (part, cpu) in _process_cpu().items():
                out[part] = out.get(part, 0.0) + cpu - p0.get(pid, (part, 0.0))[1]
            return out


def temporal_in_a_fresh_process(families: list[str], count: int, base_seed: int) -> dict[str, float]:
    """:func:`through_temporal` in a new interpreter, as a worker runs: not in the process whose heap and
    threads the loops have just grown."""
    argv = [sys.executable, "-m", "benchmarks.bench_dataset", "--child"]
    argv += ["--count", str(count), "--seed", str(base_seed), "--families", ",".join(families)]
    lines = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()
    result: dict[str, float] = json.loads(next(x for x in lines if x.startswith(CHILD))[len(CHILD) :])
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--families", default="chute,gap,detour")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    families = args.families.split(",")
    from shared.logging import configure_logging

    configure_logging("WARNING")
    if args.child:
        print(CHILD + json.dumps(asyncio.run(through_temporal(families, args.count, args.seed))), flush=True)
        os._exit(0)
    rows: list[tuple[str, float, float]] = []
    loops = (
        ("plain sequential loop, one thread", 1),
        ("the loop, scenes on every core", os.cpu_count() or 2),
    )
    for label, threads in loops:
        c0 = busy_core_seconds()
        wall = sequential(families, args.count, args.seed, threads)
        rows.append((label, wall, busy_core_seconds() - c0))
    tmp = temporal_in_a_fresh_process(families, args.count, args.seed)
    t_tmp, cpu_tmp = tmp["wall"], tmp["cpu"]
    rows.append(("GenerateDataset through Temporal", t_tmp, cpu_tmp))
    (_, t_seq, cpu_seq), (_, t_par, cpu_par) = rows[0], rows[1]
    print(f"\ndataset of {args.count} benchmarks ({', '.join(families)}), {os.cpu_count()} cores")
    print(f"{'':45s} {'wall':>8s}   {'CPU':>8s}   {'cores busy':>10s}")
    for label, wall, cpu in rows:
        print(f"{label:45s} {wall:8.2f} s {cpu:8.1f} s {cpu / wall:10.2f}")
    for part in ("server", "worker", "jobs"):
        print(f"{f'  of which the {part}':45s} {'':10s} {tmp.get(part, 0.0):8.1f} s")
    print(f"{'ratio one-thread loop / Temporal':45s} {t_seq / t_tmp:8.2f} x")
    print(f"{'CPU: Temporal / the one-thread loop':45s} {cpu_tmp / cpu_seq:8.2f} x")
    # Not sequential: against it the ratio is (cores busy through Temporal / cores the loop keeps busy)
    # / (CPU through Temporal / CPU of the loop), at most 2 / (cores the loop keeps busy).
    print(f"{'ratio every-core loop / Temporal':45s} {t_par / t_tmp:8.2f} x")
    print(f"{'CPU: Temporal / the every-core loop':45s} {cpu_tmp / cpu_par:8.2f} x")
    report("dataset_speedup_vs_sequential", t_seq / t_tmp)
    report("dataset_cpu_vs_sequential", cpu_tmp / cpu_seq)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
