"""Warm fork server for heavy jobs.

Started once per worker as ``python -m runtime.forkserver SOCKET``. It imports the module of every job the
registry (:mod:`shared.heavy`) names once, and with them build123d, MuJoCo and the engines (~4 s), then forks
one fresh child per job, so each job starts warm and a native crash in a job (OCCT or MuJoCo segfault) kills
only that child.

Protocol (newline-delimited JSON over a Unix socket, one connection per job):
- the worker sends one :class:`~shared.models.HeavyJob` line;
- the child answers ``{"pid": N}``, then any number of ``{"progress": HeavyProgress}``, then exactly one
  ``{"result": ...}`` or ``{"error": {"type", "message", "non_retryable"}}``;
- the fork server, which reaps children, finally sends ``{"exit": code}`` (negative: killed by that signal)
  and closes the connection.

The fork server dies with its worker (``PR_SET_PDEATHSIG``; it also checks its parent after asking, and once a
second while it serves), and jobs die with the fork server (the same, checked after asking), so a killed worker
never leaves orphans behind. The fork server leaves through ``os._exit`` once its jobs are reaped: the
interpreter's finalisation would keep it alive for seconds on a busy machine.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
import tempfile
import time
from typing import Any

from shared.process import (
    JOB_PROCESS_NAME,
    die_with_parent,
    reachable_socket_path,
    remove_tree,
    set_process_name,
)


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall((json.dumps(message, separators=(",", ":")) + "\n").encode())


def _read_line(conn: socket.socket, limit: int = 16 * 1024 * 1024) -> bytes:
    buf = bytearray()
    while not buf.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit:
            raise ValueError("job request too large")
    return bytes(buf)


def _run_job(conn: socket.socket) -> int:
    """Body of a forked child: run one job and report on ``conn``. Returns the exit code."""
    import logging

    import structlog
    from pydantic import ValidationError

    from runtime.jobs import JobError, run_job
    from shared.models import ErrorType, HeavyJob, HeavyProgress

    _send(conn, {"pid": os.getpid()})
    try:
        job = HeavyJob.model_validate_json(_read_line(conn))
    except ValidationError as e:
        _send(conn, {"error": {"type": ErrorType.INVALID_REQUEST, "message": str(e), "non_retryable": True}})
        return 0
    structlog.contextvars.bind_contextvars(job=job.job, pid=os.getpid(), **job.context)
    try:

        def progress(p: HeavyProgress) -> None:
            _send(conn, {"progress": p.model_dump(mode="json")})

        started = time.perf_counter()
        result = run_job(job, progress)
        _send(conn, {"result": result.model_dump(mode="json")})
        structlog.get_logger("runtime.jobs").info(
            "heavy_job.finished", seconds=round(time.perf_counter() - started, 4)
        )
        return 0
    except JobError as e:
        _send(conn, {"error": {"type": e.type, "message": str(e), "non_retryable": e.non_retryable}})
        return 0
    except Exception as e:
        logging.getLogger("runtime.jobs").exception("heavy_job.failed")
        message = f"{type(e).__name__}: {e}"
        _send(conn, {"error": {"type": type(e).__name__, "message": message[:2000], "non_retryable": False}})
        return 1


def _child(
    conn: socket.socket,
    others: list[socket.socket],
    listener: socket.socket,
    selector: selectors.BaseSelector,
    wake_fds: tuple[int, int],
    server: int,
) -> None:
    selector.close()
    listener.close()
    for other in others:  # other jobs' connections: not ours to hold open
        other.close()
    for fd in wake_fds:  # the fork server's signal plumbing is not the job's
        os.close(fd)
    signal.set_wakeup_fd(-1)
    set_process_name(JOB_PROCESS_NAME)
    die_with_parent()
    if os.getppid() != server:  # the fork server died before PR_SET_PDEATHSIG took effect: nobody to answer
        os._exit(1)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    code = 1
    try:
        code = _run_job(conn)
    except BaseException:  # noqa: BLE001 - the connection itself failed; nothing more can be reported
        code = 2
    finally:
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(socket_path: str, parent: int | None = None) -> None:
    """Serve jobs on ``socket_path`` until SIGTERM or until ``parent`` (the worker's pid) is gone."""
    die_with_parent(signal.SIGTERM)
    parent = parent or os.getppid()
    if os.getppid() != parent:  # the worker died before PR_SET_PDEATHSIG took effect: nobody to serve
        sys.exit(1)
    # One thread per job process; MuJoCo scene threads are set per job. Must precede numpy's import.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

    from shared.settings import Settings

    # The worker hands over its settings (with secrets) on stdin, so jobs use the same store and limits.
    settings = Settings.model_validate_json(sys.stdin.readline())
    # MuJoCo picks its GL backend (evidence pictures) when first imported: set it before that import.
    settings.export_library_environment()

    from runtime import jobs
    from shared.logging import configure_logging

    jobs.job_table()  # warm: every registered job's module (build123d, OCP, MuJoCo, trimesh, the engines)
    jobs.use_settings(settings)
    configure_logging(settings.log_level, settings.log_json)

    # Jobs keep their temporary files (sandbox directories, STEP exports) beside the socket, in the directory
    # the worker owns: a SIGKILLed worker's leftovers are removed with it when the next worker starts.
    tempfile.tempdir = os.path.join(os.path.dirname(socket_path), "tmp")
    os.makedirs(tempfile.tempdir, mode=0o700, exist_ok=True)

    if os.path.exists(socket_path):
        os.unlink(socket_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bind_path, dir_fd = reachable_socket_path(socket_path)  # short, however long TMPDIR is
    listener.bind(bind_path)
    listener.listen(64)
    listener.setblocking(False)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "wake")
    jobs: dict[int, socket.socket] = {}
    server = os.getpid()

    zygote = _Zygotes(settings.sandbox_zygote)
    zygote.ensure()  # its imports overlap the first jobs; until it listens, scripts start fresh
    print("READY", flush=True)
    # Nobody reads our stdout after READY: send it (and every job's) to stderr so chatty native code can
    # never fill the pipe and block.
    os.dup2(2, 1)
    while not stopping:
        for key, _ in selector.select(timeout=1.0):
            if key.data == "accept":
                try:
                    conn, _addr = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(True)
                pid = os.fork()
                if pid == 0:
                    _child(conn, list(jobs.values()), listener, selector, (wake_r, wake_w), server)
                jobs[pid] = conn
            else:
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
        _reap(jobs)
        zygote.ensure()
        if os.getppid() != parent:
            break
    zygote.close()

    for pid in list(jobs):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in list(jobs):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    listener.close()
    os.close(dir_fd)
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    remove_tree(tempfile.gettempdir())  # the jobs' temporary files (every job has ended)
    try:
        os.rmdir(os.path.dirname(socket_path))  # the supervisor's private directory, if now empty
    except OSError:
        pass


ZYGOTE_MIN_LIFE_S = 60.0


class _Zygotes:
    """The sandbox zygote this fork server keeps for its jobs' scripts (:mod:`runtime.sandbox_zygote`),
    started again if it dies; jobs forked afterwards use the new one. One that dies within
    :data:`ZYGOTE_MIN_LIFE_S` of its start is not started again (a broken install would only loop): scripts
    then run fresh."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.current: Any = None
        self.started_at = 0.0

    def ensure(self) -> None:
        if not self.enabled or (self.current is not None and self.current.alive()):
            return
        from runtime import sandbox
        from runtime.sandbox_zygote import Zygote

        if self.current is not None:
            self.current.close()
            sandbox.use_zygote(None)
            if time.monotonic() - self.started_at < ZYGOTE_MIN_LIFE_S:
                print(
                    "forkserver: the sandbox zygote died at start; scripts run fresh",
                    file=sys.stderr,
                    flush=True,
                )
                self.enabled, self.current = False, None
                return
            print("forkserver: the sandbox zygote died; starting another", file=sys.stderr, flush=True)
        self.current, self.started_at = Zygote(), time.monotonic()
        sandbox.use_zygote(self.current.address)

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


def _reap(jobs: dict[int, socket.socket]) -> None:
    while jobs:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = jobs.pop(pid, None)
        if conn is None:
            continue
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        try:
            _send(conn, {"exit": code})
        except OSError:
            pass
        conn.close()


def main(argv: list[str]) -> None:
    serve(argv[0], int(argv[1]) if len(argv) > 1 else None)
    # Every job has ended and the directory is gone: leave without the interpreter's finalisation. With OCCT,
    # MuJoCo and the engines loaded it costs about 0.8 s of CPU, which on a machine whose cores are busy
    # stretched the fork server's exit past its worker's death by several seconds (the fault suite counted
    # it as an orphan). Nothing is left to flush but stdio.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
