"""How a sandboxed script's process starts and ends: a fresh ``python -m runtime.sandbox_child``, or a fork of the
sandbox zygote (:mod:`runtime.sandbox_zygote`). Either way the caller (:func:`runtime.sandbox.run_script`) gets
the child's pid, a pidfd to wait on, the read end of its output, and at the end its wait status and usage.
The threat model is in :mod:`runtime.sandbox`'s docstring.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from runtime import sandbox_child as child

CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"


def child_env(workdir: str) -> dict[str, str]:
    """The whole environment of a sandboxed script whose directory is ``workdir`` (and of the zygote)."""
    import runtime

    return {
        "PATH": CHILD_PATH,
        "HOME": workdir,
        "TMPDIR": workdir,
        "XDG_CACHE_HOME": str(Path(workdir) / child.CACHE_DIR),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(Path(runtime.__file__).resolve().parent.parent),
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "JOBLIB_MULTIPROCESSING": "0",  # no semaphores in /dev/shm (not writable here); no warning
    }


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class Ended:
    status: int | None
    """The wait status; None when it was lost (someone else reaped the child, or the zygote died)."""
    cpu_s: float = 0.0
    max_rss_mb: float = 0.0


class _FreshChild:
    """``python -m runtime.sandbox_child`` in a new session: the child of this process."""

    def __init__(self, workdir: str, config: dict[str, object]) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-s", "-B", "-P", "-m", "runtime.sandbox_child"],
            cwd=workdir,
            env=child_env(workdir),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self.output_fd = self._proc.stdout.fileno()
        self.pid = self._proc.pid
        self.pidfd = -1
        try:
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.write(json.dumps(config).encode() + b"\n")
                self._proc.stdin.close()
            self.pidfd = os.pidfd_open(self.pid)
        except BaseException:
            self.end()
            raise

    def end(self) -> Ended:
        """Kill what is left of its process group, reap it and close its descriptors."""
        # The child is a zombie (or about to be killed) but not reaped: its pid, hence its process group,
        # cannot be reused yet, so the group kill hits only what it started.
        _kill_group(self.pid)
        try:
            try:
                _, status, usage = os.wait4(self.pid, 0)
            except ChildProcessError:  # a SIGCHLD handler elsewhere reaped it with waitpid(-1)
                return Ended(None)
            self._proc.returncode = os.waitstatus_to_exitcode(status)
            return Ended(status, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
        finally:
            if self.pidfd >= 0:
                os.close(self.pidfd)

    def close_output(self) -> None:
        assert self._proc.stdout is not None
        self._proc.stdout.close()


class _ZygoteChild:
    """A fork of the zygote (:mod:`runtime.sandbox_zygote`), which reaps it and reports how it ended."""

    def __init__(self, address: str, workdir: str, config: dict[str, object]) -> None:
        from runtime.sandbox_zygote import RemoteChild

        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            self._remote = RemoteChild(address, workdir, child_env(workdir), config, write_fd)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # the child holds it now: the pipe ends when the child does
        self.output_fd = read_fd
        self.pid = self._remote.pid
        self.pidfd = self._remote.pidfd

    def end(self) -> Ended:
        self._remote.kill()  # a no-op if it exited; the zygote kills its group before it reaps it
        status, cpu_s, max_rss_mb = self._remote.reap()
        return Ended(status, cpu_s, max_rss_mb)

    def close_output(self) -> None:
        os.close(self.output_fd)


def start(workdir: str, config: dict[str, object], zygote: str | None) -> _FreshChild | _ZygoteChild:
    if zygote:
        from runtime.sandbox_zygote import ZygoteUnreachable

        try:
            return _ZygoteChild(zygote, workdir, config)
        except ZygoteUnreachable as e:  # not started yet, or gone (the fork server starts another)
            logging.getLogger("runtime.sandbox").warning(
                "sandbox.zygote_unreachable: %s; running the script fresh", e
            )
    return _FreshChild(workdir, config)
