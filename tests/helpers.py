"""Small helpers shared by the test layers."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError


def application_error(failure: WorkflowFailureError) -> ApplicationError:
    """The innermost typed error behind a failed workflow (through the activity error)."""
    cause = failure.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    assert isinstance(cause, ApplicationError), failure
    return cause


def run_cli(
    *args: str, data_dir: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mechbench ARGS`` in a subprocess, as a user runs it, with a data directory of its own and no server
    (port 1) unless ``env`` names one. It runs in ``cwd`` (default: the data directory), never the
    repository, so a developer's .env cannot change the outcome."""
    env = {
        "PATH": "/usr/bin:/bin",
        "MECHBENCH_DATA_DIR": str(data_dir),
        "MECHBENCH_DEV_PORT": "1",
        "MECHBENCH_TEMPORAL_ADDRESS": "127.0.0.1:1",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd or data_dir,
        check=False,
    )


def session_cli_env(temporal_env, worker_queue: str, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What points a CLI subprocess at the test session's server, its worker's queue, its store and its part
    roots (``run_cli(..., data_dir=settings.data_dir, env=...)``). Run the CLI from a thread
    (``asyncio.to_thread``): the worker serves on the test's event loop."""
    import json

    return {
        "MECHBENCH_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "MECHBENCH_TASK_QUEUE": worker_queue,
        "MECHBENCH_PART_ROOTS": json.dumps([str(r) for r in settings.part_roots]),
    }


async def publish_chute(client, task_queue: str):  # type: ignore[no-untyped-def]
    """``chute-s0-v3`` generated (or reused) and published: the benchmark most workflow tests evaluate against."""
    import uuid

    from shared.models import BenchmarkResult, GenerateBenchmarkRequest, Verdict
    from shared.temporal import WF_GENERATE_BENCHMARK

    result: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="chute", seed=0),
        id=f"bench-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=BenchmarkResult,
    )
    assert result.verdict == Verdict.PUBLISHED and result.benchmark_id == "chute-s0-v3", result.reason
    return result


async def wait_until_simulating(handle, supervisor, timeout_s: float = 120.0):  # type: ignore[no-untyped-def]
    """An evaluation's progress once it is in its simulation stage with a job process running (a condition,
    polled; ``timeout_s`` only bounds a test that went wrong)."""
    import asyncio
    import time

    from shared.models import EvaluationProgress

    deadline = time.monotonic() + timeout_s
    while True:
        progress = await handle.query("progress", result_type=EvaluationProgress)
        if (progress.stage == "simulate" and supervisor.job_pids()) or time.monotonic() > deadline:
            return progress
        await asyncio.sleep(0.05)


def simulated_xml_sha256(xml: str) -> str:
    """SHA-256 of a compiled scene without its ``<visual>`` element: what the scene pins guard is how it
    moves, not how it is drawn (render buffer, shadow map, lighting)."""
    simulated = re.sub(r"\n *<visual>.*?</visual>", "", xml, flags=re.DOTALL)
    assert "<visual" not in simulated
    return hashlib.sha256(simulated.encode()).hexdigest()
