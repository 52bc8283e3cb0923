"""A warm parent for sandboxed scripts: a zygote that imported build123d once and forks one child per run.

Starting ``python -m runtime.sandbox_child`` and importing build123d and OCCT costs about 2.5 s per script
on a quiet machine, nearly all of a design evaluation's build. The zygote pays it once. It is started as a
fresh interpreter (``python -s -B -P -m runtime.sandbox_zygote SOCKET PARENT``), never forked from the
worker or the fork server, with the same scrubbed environment a sandboxed script gets
(:func:`runtime.sandbox_launch.child_env`), and it imports every exporter's modules before it listens.

Per run (:func:`runtime.sandbox.run_script` with a zygote address), over a Unix socket:

1. the caller sends one JSON line ``{"workdir", "env", "config"}`` and, as ``SCM_RIGHTS``, the write end of
   the pipe that will carry the script's output;
2. the zygote forks. The child (:func:`_child`) starts a new session, dies with the zygote
   (``PR_SET_PDEATHSIG``), puts the pipe on fds 1 and 2 and ``/dev/null`` on fd 0, closes every descriptor
   the zygote did not hold when its imports ended (its listener, other runs' connections and pidfds), sets
   the run's ``HOME``/``TMPDIR``/``XDG_CACHE_HOME``, changes into the run's directory and then does exactly
   what a fresh child does (:func:`runtime.sandbox_child.run`): limits, confinement, and only then the
   script;
3. the zygote answers ``{"pid"}`` with a pidfd of the child (``SCM_RIGHTS``), with which the caller waits and
   kills without any pid-reuse race;
4. when the child has exited, the zygote kills its process group (it is a zombie still, so the group cannot
   have been reused), reaps it and sends ``{"status", "cpu_s", "max_rss_mb"}``. If the caller goes away
   first (its connection closes), the zygote kills the child.

What a child inherits from the zygote, and why it is no more than a fresh child gets:

- **Environment**: the zygote's, which is the sandbox's scrubbed one, with the run's own directories
  replacing the zygote's. No ``MECHBENCH_*`` setting, no credential: the zygote never had any.
- **File descriptors**: only those the imports themselves opened (a fresh child opens the same ones when it
  imports build123d after confinement), the output pipe and ``/dev/null``; everything the zygote opened to
  serve is closed before the child confines itself.
- **Memory**: the imported modules, and the zygote's own small state (earlier runs' directory names and
  limits). The zygote never reads a script, a result or a setting, so no other run's data and no secret
  is in it. Each child starts from the same pristine zygote: nothing one script does reaches the next.
- **Threads**: one. A library's helper thread in the zygote (jemalloc's) is not copied by ``fork``, so
  Landlock and seccomp, which bind the calling thread, bind the whole child.

The zygote dies with the process that started it (the fork server, ``PR_SET_PDEATHSIG``; it also checks once
a second), and its children die with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.process import die_with_parent, private_tempdir, reachable_socket_path, remove_tree

MODULE = "runtime.sandbox_zygote"
"""Its command line is ``python ... -m runtime.sandbox_zygote SOCKET PARENT``."""
SOCKET_NAME = "zygote.sock"
DIR_PREFIX = "mechbench-zygote-"
REQUEST_LIMIT = 1 << 20
RUN_DIRS = ("HOME", "TMPDIR", "XDG_CACHE_HOME")
"""The environment variables that name the run's own directories; the rest of the zygote's environment is
the sandbox's fixed one."""


def _send(conn: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
    if fds:
        socket.send_fds(conn, [data], fds)
    else:
        conn.sendall(data)


def _recv_line(conn: socket.socket, limit: int = REQUEST_LIMIT) -> tuple[bytes, list[int]]:
    """One newline-terminated message and the descriptors that came with its first part."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 4)
    buf = bytearray(data)
    while buf and not buf.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > limit:
            for fd in fds:
                os.close(fd)
            raise ValueError("message too large")
    return bytes(buf), list(fds)


# --------------------------------------------------------------------------------------------
# The zygote process
# --------------------------------------------------------------------------------------------


def _open_fds() -> set[int]:
    """This process's open descriptors (not the one the listing itself used, which is closed again)."""
    found = set()
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            os.fstat(int(name))
            found.add(int(name))
    return found


def _child(request: dict[str, Any], out_fd: int, keep: set[int], zygote: int) -> None:
    """Body of a forked child: become what a fresh ``runtime.sandbox_child`` is, then run the script."""
    from runtime import sandbox_child

    try:
        os.setsid()
        die_with_parent(signal.SIGKILL)
        if os.getppid() != zygote:  # the zygote died before PR_SET_PDEATHSIG took effect
            os._exit(sandbox_child.EXIT_SETUP)
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        for fd in _open_fds() - keep - {0, 1, 2}:
            with contextlib.suppress(OSError):
                os.close(fd)
        for name in RUN_DIRS:
            os.environ[name] = str(request["env"][name])
        tempfile.tempdir = None  # computed again from the run's TMPDIR
        os.chdir(request["workdir"])
    except BaseException:  # noqa: BLE001 - our setup failed; the parent reads the exit code
        os._exit(sandbox_child.EXIT_SETUP)
    try:
        sandbox_child.run(request["config"])
    finally:
        os._exit(sandbox_child.EXIT_SETUP)  # run() leaves through os._exit; this is never reached


@dataclass
class _Run:
    pid: int
    pidfd: int
    conn: socket.socket
    gone: bool = False


def _start_run(conn: socket.socket, runs: dict[int, _Run], others: list[Any], keep: set[int]) -> _Run | None:
    fds: list[int] = []
    try:
        conn.settimeout(10.0)
        line, fds = _recv_line(conn)
        request = json.loads(line)
        if len(fds) != 1 or not isinstance(request, dict):
            raise ValueError("a run needs one request line and one output descriptor")
    except (OSError, ValueError) as e:
        for fd in fds:  # nothing a refused request brought stays open here
            os.close(fd)
        with contextlib.suppress(OSError):
            _send(conn, {"error": f"{type(e).__name__}: {e}"})
        conn.close()
        return None
    out_fd = fds[0]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        # What the zygote serves with is closed by its objects, whatever descriptor numbers it reused.
        for thing in (*others, conn):
            with contextlib.suppress(Exception):
                thing.close()
        for other in runs.values():
            with contextlib.suppress(OSError):
                os.close(other.pidfd)
        _child(request, out_fd, keep, os.getppid())
    os.close(out_fd)
    pidfd = os.pidfd_open(pid)
    run = _Run(pid, pidfd, conn)
    try:
        _send(conn, {"pid": pid}, [pidfd])
    except OSError:
        run.gone = True
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    return run


def _finish(run: _Run) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(run.pid, signal.SIGKILL)  # a zombie still holds its group: nothing else can be in it
    _, status, usage = os.wait4(run.pid, 0)
    if not run.gone:
        with contextlib.suppress(OSError):
            _send(
                run.conn,
                {
                    "status": status,
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                    "max_rss_mb": usage.ru_maxrss / 1024,
                },
            )
    os.close(run.pidfd)
    run.conn.close()


def serve(socket_path: str, parent: int) -> None:
    """Import the exporters, then serve runs on ``socket_path`` until SIGTERM or until ``parent`` is gone
    (then its children are killed)."""
    die_with_parent(signal.SIGKILL)
    if os.getppid() != parent:
        sys.exit(1)
    from runtime.sandbox_exports import EXPORTERS

    for warm, _convert in EXPORTERS.values():
        warm()
    keep = _open_fds()  # what the imports opened: a fresh child has these too

    # SIGTERM ends it at once (the default action): its children die with it (PR_SET_PDEATHSIG), and its
    # owner removes its directory.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    bind_path, dir_fd = reachable_socket_path(socket_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(bind_path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    runs: dict[int, _Run] = {}
    while os.getppid() == parent:
        for key, _ in selector.select(timeout=1.0):
            if key.data is None:
                conn, _addr = listener.accept()
                others = [listener, selector, *(r.conn for r in runs.values())]
                run = _start_run(conn, runs, others, keep)
                if run is not None:
                    runs[run.pidfd] = run
                    selector.register(run.pidfd, selectors.EVENT_READ, ("exit", run))
                    selector.register(run.conn, selectors.EVENT_READ, ("gone", run))
                continue
            what, run = key.data
            if what == "gone":  # the caller hung up (or sent more than it should): it wants no result
                selector.unregister(run.conn)
                run.gone = True
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(run.pidfd, signal.SIGKILL)
            else:
                selector.unregister(run.pidfd)
                if not run.gone:
                    selector.unregister(run.conn)
                runs.pop(run.pidfd)
                _finish(run)
    for run in runs.values():
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(run.pidfd, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(run.pid, 0)
    listener.close()
    os.close(dir_fd)
    with contextlib.suppress(OSError):
        os.unlink(socket_path)


def main(argv: list[str]) -> None:
    serve(argv[0], int(argv[1]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no interpreter finalisation with OCCT loaded: it only costs time


# --------------------------------------------------------------------------------------------
# The owner's handle, and the caller's side of one run
# --------------------------------------------------------------------------------------------


class Zygote:
    """A running zygote, owned by the process that started it (the fork server, a test, a bench)."""

    def __init__(self, root: Path | None = None) -> None:
        from runtime.sandbox_launch import child_env

        self.directory = private_tempdir(DIR_PREFIX, root)
        self.address = str(self.directory / SOCKET_NAME)
        env = child_env(str(self.directory))
        (self.directory / "cache").mkdir(mode=0o700)
        command = [sys.executable, "-s", "-B", "-P", "-m", MODULE, self.address, str(os.getpid())]
        self._proc = subprocess.Popen(
            command,
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            close_fds=True,
        )

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Block until the zygote accepts connections (its imports take seconds); raise if it died first or
        took longer than ``timeout_s``. Callers need not wait: until then, scripts run fresh."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.alive():
            if listening(self.address):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the sandbox zygote did not become ready (exit {self._proc.poll()})")

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> None:
        """SIGTERM ends it at once (its children die with it); then its directory goes."""
        if self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait()
        remove_tree(self.directory)


def listening(address: str) -> bool:
    """Whether a zygote accepts connections at ``address``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dir_fd = -1
    try:
        bind_path, dir_fd = reachable_socket_path(address)
        probe.connect(bind_path)
        return True
    except OSError:
        return False
    finally:
        probe.close()
        if dir_fd >= 0:
            os.close(dir_fd)


class ZygoteUnreachable(OSError):
    """Nothing listens at the zygote's address (not started yet, or gone): run in a fresh interpreter."""


class RemoteChild:
    """The caller's view of one run in the zygote: its pid, a pidfd to wait on and kill with, and the
    status the zygote reports once it has reaped the child."""

    def __init__(self, address: str, workdir: str, env: dict[str, str], config: dict[str, Any], out_fd: int):
        bind_path, dir_fd = None, -1
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            bind_path, dir_fd = reachable_socket_path(address)
            self._conn.connect(bind_path)
        except OSError as e:
            self._conn.close()
            raise ZygoteUnreachable(f"no sandbox zygote at {address}: {e}") from e
        finally:
            if dir_fd >= 0:
                os.close(dir_fd)
        request = {"workdir": workdir, "env": {k: env[k] for k in RUN_DIRS}, "config": config}
        try:
            self._conn.settimeout(30.0)
            _send(self._conn, request, [out_fd])
            line, fds = _recv_line(self._conn)
            reply = json.loads(line) if line else {"error": "the zygote closed the connection"}
        except (
            OSError,
            ValueError,
        ) as e:  # it died or hung meanwhile; a child it forked dies with the connection
            self._conn.close()
            raise ZygoteUnreachable(f"the sandbox zygote at {address} stopped answering: {e}") from e
        if "pid" not in reply or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            self._conn.close()
            raise ZygoteUnreachable(f"the sandbox zygote refused the run: {reply.get('error', reply)}")
        self.pid: int = int(reply["pid"])
        self.pidfd: int = fds[0]

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)

    def reap(self) -> tuple[int | None, float, float]:
        """(wait status, CPU seconds, peak resident MiB) from the zygote, after the child exited; the status
        is None if the zygote died first."""
        self._conn.settimeout(30.0)
        try:
            line, fds = _recv_line(self._conn)
            for fd in fds:
                os.close(fd)
            reply = json.loads(line) if line else {}
        except (OSError, ValueError):
            reply = {}
        finally:
            self._conn.close()
            os.close(self.pidfd)
        if "status" not in reply:
            return None, 0.0, 0.0
        return int(reply["status"]), float(reply["cpu_s"]), float(reply["max_rss_mb"])


if __name__ == "__main__":
    main(sys.argv[1:])
