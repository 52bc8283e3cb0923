"""Hostile input: fuzzed and valid-shaped hostile workflow input sent to a live worker (:mod:`faults.fuzz`),
and the escape properties of ``tests/engine/test_escapes.py`` (ids, keys and file names that try to leave
their root)."""

from __future__ import annotations

import asyncio
import re
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowFailureError

from faults.harness import Stack
from faults.scenarios.common import REPO, Row
from shared.temporal import WF_ANALYZE_MANUFACTURING

BRACKET = REPO / "examples" / "bracket.step"


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


ESCAPE_TESTS = REPO / "tests" / "engine" / "test_escapes.py"


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
        cwd=REPO,
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
