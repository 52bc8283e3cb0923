"""The operator self-test of the isolation guarantees (no workflow runs it; the supervisor's tests and the
fault suite do)."""

from __future__ import annotations

import ctypes
import time

from runtime.jobs import JobError, Progress
from shared.heavy import DiagnoseRequest, DiagnoseResult
from shared.models import HeavyProgress


def diagnose_job(req: DiagnoseRequest, progress: Progress, resume: HeavyProgress | None) -> DiagnoseResult:
    """Operator self-test of the isolation guarantees: a crash, a hang or an error inside a job. ``sleep``
    reports progress every 0.2 s for ``seconds``; ``busy`` computes for ``seconds`` without a report (as one long
    native call does); ``deadlock`` reports once, then two threads take two locks in opposite orders and the
    job waits for them forever (no progress, no CPU)."""
    import os
    import tempfile

    if req.action == "deadlock":
        progress(HeavyProgress(stage="deadlock", detail="two threads, two locks"))
        _deadlock()
    if req.action == "crash":
        ctypes.string_at(0)  # SIGSEGV: must fail one attempt, never the worker
    if req.action == "fail":
        raise JobError("diagnose: requested failure", "DiagnoseFailure")
    if req.action == "busy":
        deadline = time.monotonic() + req.seconds
        while time.monotonic() < deadline:
            pass
    if req.action == "sleep":
        deadline = time.monotonic() + req.seconds
        i = 0
        while time.monotonic() < deadline:
            progress(HeavyProgress(stage="sleep", done=i, detail="sleeping"))
            time.sleep(0.2)
            i += 1
    from runtime import sandbox
    from runtime.sandbox_zygote import listening

    address = sandbox.zygote_address()
    return DiagnoseResult(
        action=req.action,
        pid=os.getpid(),
        tmp=tempfile.gettempdir(),
        sandbox_zygote=address is not None and listening(address),
    )


def _deadlock() -> None:
    import threading

    a, b = threading.Lock(), threading.Lock()
    both = threading.Barrier(2)

    def take(first: threading.Lock, second: threading.Lock) -> None:
        with first:
            both.wait()
            with second:
                pass

    threads = [threading.Thread(target=take, args=pair) for pair in ((a, b), (b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
