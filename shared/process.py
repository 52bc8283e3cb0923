"""Child processes that never outlive their parent.

``python -m shared.process CMD [ARGS...]`` asks the kernel to SIGTERM it when its parent dies, then execs
``CMD`` (the request survives ``exec``). Used to start the Temporal dev server without a ``preexec_fn``,
which is unsafe in a process that already runs threads.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent exits (Linux only; no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


JOB_PROCESS_NAME = "mechbench-job"
"""The name (``/proc/<pid>/comm``) a heavy job's process takes as it starts: jobs are forks of the fork server
and keep its command line, and so does, for an instant, any process the fork server starts (its sandbox
zygote) before that one executes its own program; the name tells a job from both."""
PR_SET_NAME = 15


def set_process_name(name: str) -> None:
    """This process's ``comm`` (at most 15 bytes; Linux only; no-op elsewhere)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        pass


def is_job_process(pid: int) -> bool:
    """Whether ``pid`` is a heavy job's process (see :data:`JOB_PROCESS_NAME`)."""
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip() == JOB_PROCESS_NAME
    except OSError:
        return False


def private_tempdir(prefix: str, root: Path | None = None) -> Path:
    """A new 0700 directory ``<root>/<prefix><pid>-XXXX``; the pid lets :func:`sweep_stale_tempdirs` tell
    whether its owner still runs. ``root`` defaults to the system's temporary directory."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=root))


def sweep_stale_tempdirs(prefix: str, root: Path | None = None) -> int:
    """Remove the :func:`private_tempdir` directories whose owner process is gone (a SIGKILL skips every
    ``finally``). Returns how many were removed. A directory whose pid now belongs to another process is
    kept: a leak is better than deleting a live process's files."""
    base = Path(root or tempfile.gettempdir())
    try:
        entries = list(base.glob(f"{prefix}*-*"))
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        pid = entry.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and entry.is_dir() and not entry.is_symlink():
            remove_tree(entry)
            removed += 1
    return removed


def remove_tree(path: Path | str) -> None:
    """``rm -rf``; falls back to rm(1), which copes with trees too deep for :func:`shutil.rmtree`'s recursion."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except (OSError, RecursionError):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], check=False, capture_output=True)


def reachable_socket_path(path: Path | str) -> tuple[str, int]:
    """A short path to the Unix socket ``path`` and the directory descriptor it goes through (keep it open
    while the path is in use, then close it). ``sun_path`` holds only 108 bytes, and a socket inside a
    temporary directory under a long ``TMPDIR`` exceeds that; ``/proc/self/fd/<dir fd>/<name>`` never does."""
    path = Path(path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    return f"/proc/self/fd/{fd}/{path.name}", fd


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                found += [int(x) for x in fh.read().split()]
        except OSError:
            pass
    return found


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) spent so far by process ``pid``, its live descendants and the children they
    have reaped (Linux /proc); None when ``pid`` is gone."""
    total, todo, first = 0, [pid], True
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            if first:
                return None
            continue
        first = False
        total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        todo += _children(current)
    return total / _CLOCK_TICKS


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m shared.process CMD [ARGS...]")
    parent = os.getppid()
    die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit(1)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
