"""Worker-side supervisor of heavy jobs (DESIGN section 5).

:class:`HeavySupervisor` owns one warm fork server (see :mod:`activities.forkserver`) per worker process and
runs each job in a fresh forked child:

- progress lines from the child become activity heartbeats (a hung child stops heartbeating, so Temporal's
  heartbeat timeout catches it);
- cancellation (from the workflow, the UI, a timeout or worker shutdown) kills the child with SIGKILL;
- a child that dies without answering (segfault, OOM kill) becomes a *retryable* ``ApplicationError`` of type
  ``WorkerChildCrashed``; the worker itself lives on;
- a job error marked non-retryable (invalid input, infeasible parameters) stays non-retryable.

If the fork server itself dies it is restarted on the next job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel
from temporalio.exceptions import ApplicationError

from activities.forkserver import die_with_parent
from shared.logging import get_logger
from shared.models import HeavyJob, HeavyProgress
from shared.settings import Settings

R = TypeVar("R", bound=BaseModel)
log = get_logger(__name__)

READY_TIMEOUT_S = 120.0


class HeavySupervisor:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._dir = Path(tempfile.mkdtemp(prefix="mechbench-fork-"))
        self._socket = str(self._dir / "jobs.sock")
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._lock:
            if self._proc is not None and self._proc.returncode is None:
                return
            log.info("forkserver.starting", socket=self._socket)
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "activities.forkserver",
                self._socket,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                preexec_fn=die_with_parent,
            )
            assert self._proc.stdout is not None and self._proc.stdin is not None
            self._proc.stdin.write(self._settings.to_private_json().encode() + b"\n")
            await self._proc.stdin.drain()
            try:
                line = await asyncio.wait_for(self._proc.stdout.readline(), READY_TIMEOUT_S)
            except TimeoutError:
                line = b""
            if line.strip() != b"READY":
                await self._kill_server()
                raise RuntimeError("heavy-job fork server failed to start (see the worker's stderr)")
            log.info("forkserver.ready", pid=self._proc.pid)

    async def close(self) -> None:
        async with self._lock:
            await self._kill_server()
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)

    async def _kill_server(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def run(
        self,
        job: str,
        payload: BaseModel,
        result_type: type[R],
        on_progress: Callable[[HeavyProgress], None],
        resume: HeavyProgress | None = None,
    ) -> R:
        await self.start()
        request = HeavyJob(job=job, input=payload.model_dump(mode="json"), resume=resume)
        try:
            reader, writer = await asyncio.open_unix_connection(self._socket, limit=64 * 1024 * 1024)
        except OSError:
            # The fork server died: restart it once and retry the connection.
            await self._kill_server()
            await self.start()
            reader, writer = await asyncio.open_unix_connection(self._socket, limit=64 * 1024 * 1024)
        pid: int | None = None
        result: dict | None = None
        error: dict | None = None
        exit_code: int | None = None
        try:
            writer.write(request.model_dump_json().encode() + b"\n")
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    break
                msg = json.loads(line)
                if "pid" in msg:
                    pid = int(msg["pid"])
                elif "progress" in msg:
                    on_progress(HeavyProgress.model_validate(msg["progress"]))
                elif "result" in msg:
                    result = msg["result"]
                elif "error" in msg:
                    error = msg["error"]
                elif "exit" in msg:
                    exit_code = int(msg["exit"])
                    break
        except BaseException:
            # Cancelled (workflow cancel, timeout, worker shutdown) or the connection broke: never leave the
            # child running.
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                log.info("heavy_job.killed", job=job, pid=pid)
            raise
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

        if result is not None:
            return result_type.model_validate(result)
        if error is not None:
            raise ApplicationError(
                f"{job}: {error['message']}", type=error["type"], non_retryable=bool(error["non_retryable"])
            )
        how = (
            f"killed by {signal.Signals(-exit_code).name}"
            if exit_code is not None and exit_code < 0 and -exit_code in signal.valid_signals()
            else f"exit code {exit_code}"
        )
        raise ApplicationError(f"{job}: worker child process crashed ({how}) before answering", type="WorkerChildCrashed")
