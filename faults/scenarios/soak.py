"""The soak: many evaluations through one worker, watching its memory and what it leaves behind."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from faults.harness import Stack, audit_store, forkserver_of, jobs_of, rss_kib
from faults.scenarios.common import Row, design_request, publish_chute
from runtime.sandbox_zygote import DIR_PREFIX as ZYGOTE_DIR_PREFIX
from shared.models import EvaluationResult
from shared.temporal import WF_EVALUATE_DESIGN

SOAK_MAX_GROWTH_MIB = 24.0
"""Resident memory the worker or its fork server may gain between the end of warm-up and the end of the soak
before the soak calls it a leak."""


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

        jobs = jobs_of(worker.pid)
        own_dir = {p.name for p in stack.tmp.iterdir() if p.name.startswith(f"mechbench-fork-{worker.pid}-")}
        temp = [name for name in stack.temp_leftovers() if name not in own_dir]
        for d in own_dir:  # the live worker's directory: only its socket and its sandbox zygote's may remain
            temp += [
                str(p.relative_to(stack.tmp))
                for p in (stack.tmp / d / "tmp").iterdir()
                if not p.name.startswith(ZYGOTE_DIR_PREFIX)
            ]
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
