"""Worker-side supervisor of heavy jobs.

:class:`HeavySupervisor` owns one warm fork server (see :mod:`runtime.forkserver`) per worker process and
runs each job in a fresh forked child:

- progress lines from the child become activity heartbeats;
- cancellation (from the workflow, the UI, a timeout or worker shutdown) kills the child with SIGKILL;
- a child that dies without answering (segfault, OOM kill) becomes a *retryable* ``ApplicationError`` of type
  ``WorkerChildCrashed``; the worker itself lives on;
- while the child shows signs of progress, the last progress is re-sent as a heartbeat every few seconds, so a
  job that is silent inside a long native call can still be cancelled;
- a job that shows no sign of progress for ``stall_timeout_s`` (no report, and no CPU spent by its processes:
  a deadlock) is killed, and its attempt fails with the *retryable* ``JobStalled`` error naming its stage;
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
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel
from temporalio.exceptions import ApplicationError

from shared.logging import get_logger
from shared.models import ErrorType, HeavyJob, HeavyProgress
from shared.process import (
    is_job_process,
    private_tempdir,
    reachable_socket_path,
    remove_tree,
    sweep_stale_tempdirs,
    tree_cpu_seconds,
)
from shared.settings import Settings

R = TypeVar("R", bound=BaseModel)
log = get_logger(__name__)

READY_TIMEOUT_S = 120.0
HEARTBEAT_EVERY_S = 5.0
"""Re-send the last progress this often while a child shows signs of progress: the SDK delivers cancellation
and timeouts to an activity only through heartbeat responses, and some native calls stay silent for a long
time. Liveness is checked as often (more often under a stall bound below four times this)."""
STALL_CPU_SHARE = 0.02
"""Between two checks, a job whose processes spent at least this share of one core is working (a long native
call: OCCT, facts of a large part, a sandboxed script); a deadlocked job spends none."""
STREAM_LIMIT = 64 * 1024 * 1024
FORK_DIR_PREFIX = "mechbench-fork-"
"""``<tmp>/mechbench-fork-<worker pid>-XXXX``: the fork server's socket, and ``tmp/`` for its jobs."""


class HeavySupervisor:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # The fork server's socket and every job's temporary files live in this directory (see
        # runtime.forkserver); directories left by SIGKILLed workers are removed first.
        sweep_stale_tempdirs(FORK_DIR_PREFIX)
        self._dir = private_tempdir(FORK_DIR_PREFIX)
        self._socket = str(self._dir / "jobs.sock")
        # connect through a short /proc/self/fd path: sun_path holds 108 bytes, TMPDIR can be longer
        self._connect_path, self._dir_fd = reachable_socket_path(self._socket)
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    @property
    def forkserver_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    def job_pids(self) -> list[int]:
        """Job processes running right now (the fork server's children named as jobs; Linux /proc)."""
        pid = self.forkserver_pid
        if pid is None:
            return []
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as fh:
                children = [int(x) for x in fh.read().split()]
        except OSError:
            return []
        return [child for child in children if is_job_process(child)]

    async def start(self) -> None:
        async with self._lock:
            await self._ensure_started()

    async def _ensure_started(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            return
        log.info("forkserver.starting", socket=self._socket)
        # The fork server asks for PR_SET_PDEATHSIG itself first thing (no preexec_fn: this process has
        # threads) and also exits when it notices its parent is gone.
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "runtime.forkserver",
            self._socket,
            str(os.getpid()),  # checked after PR_SET_PDEATHSIG: a worker killed during the start is noticed
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Its own session: a Ctrl-C in the worker's terminal must not kill running jobs; the worker's
            # graceful shutdown decides. PR_SET_PDEATHSIG still ends it with the worker.
            start_new_session=True,
        )
        self._proc = proc
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdin.write(self._settings.to_private_json().encode() + b"\n")
        await proc.stdin.drain()
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), READY_TIMEOUT_S)
        except TimeoutError:
            line = b""
        if line.strip() != b"READY":
            await self._kill_server()
            raise RuntimeError("heavy-job fork server failed to start (see the worker's stderr)")
        log.info("forkserver.ready", pid=proc.pid)

    async def _restart_if(self, failed: asyncio.subprocess.Process | None) -> None:
        """Restart the fork server, unless another job already replaced the one that failed."""
        async with self._lock:
            if self._proc is failed:
                await self._kill_server()
            await self._ensure_started()

    async def close(self) -> None:
        async with self._lock:
            await self._kill_server()
        with contextlib.suppress(OSError):
            os.close(self._dir_fd)
        remove_tree(self._dir)

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

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the fork server (one per job); restarts the server once if it died."""
        await self.start()
        proc = self._proc
        try:
            return await asyncio.open_unix_connection(self._connect_path, limit=STREAM_LIMIT)
        except OSError:
            # The fork server died: restart it once and retry the connection.
            log.warning("forkserver.restarting")
            await self._restart_if(proc)
            return await asyncio.open_unix_connection(self._connect_path, limit=STREAM_LIMIT)

    async def run(
        self,
        job: str,
        payload: BaseModel,
        result_type: type[R],
        heartbeat: Callable[[HeavyProgress], None],
        resume: HeavyProgress | None = None,
        context: dict[str, str] | None = None,
    ) -> R:
        """Run ``job`` in a fresh child; ``heartbeat`` gets every progress report, and the last one again
        every :data:`HEARTBEAT_EVERY_S` while the child shows signs of progress (so cancellation reaches silent
        jobs). A child without any for ``stall_timeout_s`` is killed: ``JobStalled``."""
        request = HeavyJob(
            job=job, input=payload.model_dump(mode="json"), resume=resume, context=context or {}
        )
        result: dict | None = None
        error: dict | None = None
        exit_code: int | None = None
        # An attempt that resumes keeps re-sending the earlier attempts' progress until the job reports.
        last = resume or HeavyProgress(stage=job, detail="starting")
        live = _Liveness(self._settings.stall_timeout_s)
        writer: asyncio.StreamWriter | None = None
        beating = asyncio.create_task(self._watch(heartbeat, lambda: last, live, lambda: writer))
        try:
            reader, writer = await self._connect()
            live.reported()  # the stall clock starts with the connection (connecting has its own bound)
            # The child announces its pid before it reads the request: once the request is sent, a
            # cancellation always knows which process to kill.
            first = await reader.readline()
            if first:
                live.pid = int(json.loads(first)["pid"])
                writer.write(request.model_dump_json().encode() + b"\n")
                await writer.drain()
            while first:
                line = await reader.readline()
                if not line:
                    break
                msg = json.loads(line)
                if "progress" in msg:
                    last = HeavyProgress.model_validate(msg["progress"])
                    live.reported()
                    heartbeat(last)
                elif "result" in msg:
                    result = msg["result"]
                elif "error" in msg:
                    error = msg["error"]
                elif "exit" in msg:
                    exit_code = int(msg["exit"])
                    break
        except BaseException as e:
            # Cancelled (workflow cancel, timeout, worker shutdown) or the connection broke: never leave the
            # child running.
            if live.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(live.pid, signal.SIGKILL)
                log.info("heavy_job.killed", job=job, pid=live.pid)
            if live.stalled_s is None or isinstance(e, asyncio.CancelledError):
                raise  # (a connection dropped because the job stalled is reported as the stall, below)
        finally:
            beating.cancel()
            if writer is not None:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

        if result is not None:
            return result_type.model_validate(result)
        if error is not None:
            raise ApplicationError(
                f"{job}: {error['message']}", type=error["type"], non_retryable=bool(error["non_retryable"])
            )
        if live.stalled_s is not None:
            where = f"stage {last.stage}" + (f" ({last.detail})" if last.detail else "")
            log.warning("heavy_job.stalled", job=job, pid=live.pid, stage=last.stage, seconds=live.stalled_s)
            raise ApplicationError(
                f"{job}: stalled in {where}: no progress for {live.stalled_s:.0f} s (no report, no CPU time; "
                f"MECHBENCH_STALL_TIMEOUT_S={live.bound_s:g}); the job process was killed",
                type=ErrorType.JOB_STALLED,
            )
        how = (
            f"killed by {signal.Signals(-exit_code).name}"
            if exit_code is not None and exit_code < 0 and -exit_code in signal.valid_signals()
            else f"exit code {exit_code}"
        )
        raise ApplicationError(
            f"{job}: worker child process crashed ({how}) before answering",
            type=ErrorType.WORKER_CHILD_CRASHED,
        )

    @staticmethod
    async def _watch(
        heartbeat: Callable[[HeavyProgress], None],
        last: Callable[[], HeavyProgress],
        live: _Liveness,
        writer: Callable[[], asyncio.StreamWriter | None],
    ) -> None:
        """Re-send the last progress while the job shows signs of progress; once it has shown none for the
        stall bound, stop beating and end the job (the child is killed; without a child yet, the connection is
        dropped), which ends :meth:`run`'s read loop. Until the fork server is connected the stall clock does
        not run: starting it has its own timeout, and a stall there would stop the heartbeat and leave
        :meth:`run` waiting."""
        while True:
            await asyncio.sleep(live.every_s)
            if writer() is None:  # still starting or reaching the fork server, bounded by READY_TIMEOUT_S
                heartbeat(last())
                continue
            if live.stalled():
                if live.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(live.pid, signal.SIGKILL)
                elif (w := writer()) is not None:
                    w.transport.abort()
                return
            heartbeat(last())


class _Liveness:
    """Signs that a job is progressing: its reports, and between them the CPU time its processes spend."""

    def __init__(self, bound_s: float) -> None:
        self.bound_s = bound_s
        self.every_s = min(HEARTBEAT_EVERY_S, bound_s / 4)
        self.pid: int | None = None
        self.stalled_s: float | None = None
        """Set when the job was found stalled: how long it had shown no sign of progress."""
        self._since = time.monotonic()  # the last sign of progress
        self._checked = self._since
        self._cpu: float | None = None

    def reported(self) -> None:
        self._since = time.monotonic()

    def stalled(self) -> bool:
        now = time.monotonic()
        cpu = tree_cpu_seconds(self.pid) if self.pid is not None else None
        if (
            cpu is not None
            and self._cpu is not None
            and cpu - self._cpu >= STALL_CPU_SHARE * (now - self._checked)
        ):
            self._since = now
        self._cpu, self._checked = cpu, now
        if now - self._since >= self.bound_s:
            self.stalled_s = now - self._since
            return True
        return False
