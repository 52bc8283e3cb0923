"""Run an untrusted build123d script in a throw-away, confined child process and get bytes back.

A *design script* (a person's or an agent's) is Python that defines ``build()``; :func:`run_script` starts
``python -m runtime.sandbox_child`` in a fresh process, which confines itself (:mod:`runtime.confine`),
imports the script, calls ``build()`` and hands the returned object to a trusted *exporter* of our own
(chosen by name, see :data:`runtime.sandbox_exports.EXPORTERS`: ``part_step``, a Part/Solid/Compound or a
list of them as deterministic STEP bytes; ``design``, labelled parts with metadata; ``benchmark``,
fixtures, a reference solution and objectives; the last two as a ZIP bundle read by
:mod:`engines.cad.bundle`). The caller gets :class:`ScriptResult` or a :class:`ScriptError`.

Over 400 lines because this docstring is the threat model of the whole sandbox (parent, child and
confinement), kept next to the parent side that starts the child (fresh or from the zygote), enforces the
wall clock and reads the result.

Threat model
------------
The script is arbitrary Python running as the worker's user (possibly root in development). It may loop
forever, allocate without bound, fork-bomb, fill the disk, crash the interpreter, print gigabytes, return
garbage, or try to read the worker's secrets (environment, ``.env``, the object store, the fork server's
socket), signal or trace other processes, or change files outside its directory. Goals: it ends within
its limits, its failure is reported as a typed error with its own traceback, it leaves no process or file
behind, it learns no secret and changes nothing outside its directory.

What is confined, and how
-------------------------
- **Process**: never a fork of the worker, which holds threads, sockets and secrets. Either a fresh
  ``subprocess``, or a fork of the sandbox zygote (:mod:`runtime.sandbox_zygote`): a fresh interpreter
  with this same scrubbed environment that imported build123d once, never runs a script itself, and
  hands each child only the descriptors its imports opened (that module says what a child inherits).
  The child runs in its own session; on timeout, cancellation or any exception in the caller it is
  SIGKILLed and its process group too; ``PR_SET_PDEATHSIG`` kills it when the thread that started it
  (or the zygote) dies, and the zygote kills it when its caller goes away.
- **Resources** (``setrlimit`` before the script exists in the process): CPU seconds (SIGXCPU, SIGKILL a
  second later), address space, size of any one file, open files, no core dumps; wall clock enforced
  here. Output goes to a pipe of which only the tail is kept; the result is size-limited.
- **Environment**: only ``PATH``, ``HOME``/``TMPDIR`` (= its directory), ``XDG_CACHE_HOME`` (its
  ``cache/``), ``LANG``, ``PYTHONPATH`` (our
  packages), one-thread settings for OpenMP/BLAS, ``MALLOC_ARENA_MAX``, ``JOBLIB_MULTIPROCESSING=0`` and
  ``PYTHONHASHSEED=0`` (set iteration order, hence geometry, is reproducible). No ``MECHBENCH_*`` setting,
  no credential.
- **Files** (Landlock: unprivileged, binds root too): reading only the Python installation, the system
  libraries, our own ``engines``/``runtime``/``shared`` packages and its directory - not the project root
  (``.env``, data), not ``/proc`` (so no ``/proc/<pid>/environ`` of anyone), not ``/sys``, ``/home`` or
  ``/etc`` (but the loader cache, localtime and fonts).
  Writing only in its cache directory (``cache/`` in its directory, ``XDG_CACHE_HOME``, where libraries
  such as ezdxf keep their caches): regular files and directories, each file capped by the file-size
  limit; no symlinks, FIFOs or devices. The result and error report go through files opened before
  confinement. With ``writable_workdir`` it may create, write and delete the same in all of its own
  directory. The directory is
  private (0700) and removed afterwards whatever happened (a caller killed by SIGKILL cannot: the next run
  removes directories of dead callers). Changing modes, owners, times or xattrs - which Landlock does not
  cover - is refused by seccomp, anywhere.
- **Other processes** (seccomp, plus Landlock scoping from ABI 6): no new processes (``clone`` without
  ``CLONE_THREAD`` is refused, so a fork bomb fails at its first fork and nothing can outlive the run), no
  ``exec``, no new session/process group, signals only to itself, no ``ptrace``/``process_vm_*``/pidfds.
- **Network**: no sockets at all (seccomp; so no UNIX-socket path to the fork server either), and no TCP
  bind/connect (Landlock ABI >= 4).
- **Privileges**: no-new-privs; every capability dropped (matters when the worker runs as root).
- Also refused: namespaces and mounts, io_uring, bpf, perf events, userfaultfd, keyrings, file handles,
  and (ENOSYS) every system call newer than the filter's table.

What is *not* confined
----------------------
- What the allowed trees contain is readable (our source code, the installed packages): nothing secret.
- ``stat`` of any path works (Landlock does not cover metadata reads): the script can learn which files
  exist and their sizes, not their contents.
- Threads: their number is bounded only by the address-space limit (each reserves stack); RLIMIT_NPROC is
  not used - it counts every process and thread of the uid (worker, fork server, other jobs) and is ignored
  for root - and is unnecessary once process creation is refused.
- Total disk use and the number of files (inodes) in the cache directory (and, with
  ``writable_workdir``, in the whole directory) are not bounded, only the size of each file; all of it is
  removed with the directory. Keep ``writable_workdir`` off unless scripts need scratch files.
- CPU and memory bandwidth: a script may slow its neighbours within its limits (the worker's concurrency
  and the container's cgroup limits cover that).
- The result is whatever the script made the process write (it runs in the same interpreter as the
  exporter): treat it as untrusted input - parse it (:func:`engines.cad.export.load_step`), validate
  the geometry.
- Kernel bugs: this is an unprivileged sandbox in the worker's kernel, not a VM.
- If the kernel or a container's seccomp profile lacks Landlock (Linux < 5.13, Landlock not in the LSM
  list, an old Docker default seccomp profile), file confinement is missing; with ``require_confinement`` (the
  default) the run then fails with :class:`SandboxUnavailable` rather than run the script unconfined.
- Processes of the same uid *outside* the sandbox can read each other's ``/proc/<pid>/environ`` unless
  they are non-dumpable (``prctl(PR_SET_DUMPABLE, 0)``, see :func:`make_undumpable`); run_script does
  that for the calling process (``protect_parent``), the worker and the fork server should do it too.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runtime import sandbox_child as child
from runtime.sandbox_exports import EXPORTERS
from runtime.sandbox_launch import Ended, start
from shared.boundary import MAX_SCRIPT_BYTES
from shared.process import private_tempdir, remove_tree, sweep_stale_tempdirs

DEFAULT_WALL_S = 120.0
DEFAULT_CPU_S = 90
DEFAULT_MEMORY_MB = 3072
"""Address space (RLIMIT_AS). Importing build123d and exporting a small part peaks at ~1.05 GiB of
address space (~440 MiB resident); the import fails below ~1 GiB."""
DEFAULT_FILE_SIZE_MB = 64
"""Largest file the child may write: the STEP result, or a scratch file with ``writable_workdir``."""
DEFAULT_MAX_OPEN_FILES = 64
OUTPUT_TAIL_CHARS = 8000
CONFINED_PREFIX = "sandbox: confined by "
WORKDIR_PREFIX = "mechbench-sandbox-"
"""Private directories are named ``mechbench-sandbox-<pid of the caller>-<random>``."""

PR_SET_DUMPABLE = 4


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ScriptError(Exception):
    """The script (not the sandbox) failed. ``kind`` names the failure; the message ends with the tail of
    the script's output (its traceback, for exceptions)."""

    kind = "error"

    def __init__(self, summary: str, output_tail: str = "") -> None:
        self.summary = summary
        self.output_tail = output_tail
        message = summary
        if output_tail.strip():
            message += f"\n--- script output (tail) ---\n{output_tail.rstrip()}"
        super().__init__(message)


class ScriptTimeout(ScriptError):
    """Wall-clock limit reached; the process group was killed."""

    kind = "timeout"


class ScriptResourceLimit(ScriptError):
    """A resource limit ended the script; ``resource`` is ``cpu``, ``memory``, ``file_size`` or
    ``open_files``."""

    kind = "resource_limit"

    def __init__(self, summary: str, output_tail: str = "", resource: str = "") -> None:
        self.resource = resource
        super().__init__(summary, output_tail)


class ScriptCrashed(ScriptError):
    """The interpreter died from a signal (SIGSEGV in native code, SIGABRT, ...)."""

    kind = "crashed"


class ScriptFailed(ScriptError):
    """Exception in the script, syntax error, no ``build()``, or it exited without a result."""

    kind = "failed"


class ScriptInvalidResult(ScriptError):
    """``build()`` returned something the exporter cannot turn into bytes."""

    kind = "invalid_result"


class SandboxUnavailable(RuntimeError):
    """The sandbox itself could not be set up (missing kernel feature, broken install): not the script's
    fault, so not a :class:`ScriptError`."""


class SandboxCancelled(RuntimeError):
    """``should_stop`` asked to stop; the process group was killed."""


@dataclass(frozen=True)
class ScriptResult:
    data: bytes
    output_tail: str
    """Last characters the script printed (stdout and stderr interleaved)."""
    wall_s: float
    cpu_s: float
    """User + system CPU time of the child: the build123d import (~2 s) included in a fresh interpreter, not
    in a fork of the zygote."""
    max_rss_mb: float
    confinement: str
    """What the child reported in force, e.g. ``capabilities, landlock-abi7, seccomp``."""


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def make_undumpable() -> None:
    """``prctl(PR_SET_DUMPABLE, 0)`` for this process: its ``/proc/<pid>/environ``, ``mem`` etc. become
    unreadable (and it un-ptrace-able) for other processes of the same uid without CAP_SYS_PTRACE.
    Also disables core dumps. Reset by ``execve``, so every long-lived process holding secrets must call
    it itself. No-op off Linux."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class _Output:
    """Drains the child's stdout+stderr pipe in a thread, keeping the first 4 KiB and the last ``limit``
    bytes: a script printing gigabytes costs nothing but the copying."""

    HEAD = 4096

    def __init__(self, fd: int, limit: int) -> None:
        self._fd = fd
        self._limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self._thread = threading.Thread(target=self._drain, name="sandbox-output", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            if len(self._head) < self.HEAD:
                self._head += chunk[: self.HEAD - len(self._head)]
            self._tail += chunk
            if len(self._tail) > 2 * self._limit:
                del self._tail[: len(self._tail) - self._limit]

    def finish(self, timeout: float = 2.0) -> tuple[str, str]:
        """(first line, tail) once the pipe is closed (or ``timeout`` passed)."""
        self._thread.join(timeout)
        first = bytes(self._head).split(b"\n", 1)[0].decode("utf-8", errors="replace")
        tail = bytes(self._tail[-self._limit :]).decode("utf-8", errors="replace")
        return first, tail


def _read_limited(path: Path, limit: int) -> bytes | None:
    """Up to ``limit + 1`` bytes of a regular file the child left; never follows a symlink or blocks on a
    FIFO put in its place."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fh.read(limit + 1)


_zygote_address: str | None = None


def use_zygote(address: str | None) -> None:
    """Run scripts through the zygote listening at ``address`` (:mod:`runtime.sandbox_zygote`) from now on,
    in this process and the processes it forks; ``None`` goes back to a fresh interpreter per script. A
    zygote that is not (yet, or any longer) listening is not an error: the script runs fresh."""
    global _zygote_address
    _zygote_address = address


def zygote_address() -> str | None:
    """The zygote :func:`run_script` uses by default (set by :func:`use_zygote`)."""
    return _zygote_address


def run_script(
    script: bytes | str,
    exporter: str = "part_step",
    *,
    wall_s: float = DEFAULT_WALL_S,
    cpu_s: int = DEFAULT_CPU_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    file_size_mb: int = DEFAULT_FILE_SIZE_MB,
    max_open_files: int = DEFAULT_MAX_OPEN_FILES,
    writable_workdir: bool = False,
    require_confinement: bool = True,
    protect_parent: bool = True,
    tmp_root: Path | None = None,
    should_stop: Callable[[], bool] | None = None,
    output_tail_chars: int = OUTPUT_TAIL_CHARS,
    zygote: str | None = None,
) -> ScriptResult:
    """Run ``script``'s ``build()`` in a confined child and return the ``exporter``'s bytes.

    Blocks until the child ends (call it from a thread or a heavy-job process). ``should_stop`` is polled
    every 0.2 s; when it returns true the child is killed and :class:`SandboxCancelled` raised. Any
    exception in this function (KeyboardInterrupt included) kills the child too. The child dies with the
    *thread* that started it (``PR_SET_PDEATHSIG``), so do not call this from a thread that ends early.

    The child is a fork of the zygote at ``zygote`` (default: the one :func:`use_zygote` named), which
    imported build123d already, or else a fresh interpreter; either way it is confined the same way before
    the script is read.

    Raises a :class:`ScriptError` subclass for failures of the script, :class:`SandboxUnavailable` if
    the sandbox cannot be set up (e.g. no Landlock with ``require_confinement``). ``tmp_root`` is where
    the private directory is made (default: the system's temporary directory).
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r}; known: {sorted(EXPORTERS)}")
    source = script.encode() if isinstance(script, str) else bytes(script)
    if len(source) > MAX_SCRIPT_BYTES:
        raise ScriptFailed(f"the script is {len(source)} bytes, more than {MAX_SCRIPT_BYTES}")
    if protect_parent:
        make_undumpable()

    sweep_stale_tempdirs(WORKDIR_PREFIX, tmp_root)
    workdir = str(private_tempdir(WORKDIR_PREFIX, tmp_root))  # mode 0700
    try:
        (Path(workdir) / child.SCRIPT_NAME).write_bytes(source)
        (Path(workdir) / child.CACHE_DIR).mkdir(mode=0o700)
        config = {
            "parent": os.getpid(),
            "exporter": exporter,
            "cpu_s": int(cpu_s),
            "memory_mb": int(memory_mb),
            "file_size_mb": int(file_size_mb),
            "max_open_files": int(max_open_files),
            "writable_workdir": writable_workdir,
            "require_confinement": require_confinement,
        }
        return _run_child(workdir, config, wall_s, should_stop, output_tail_chars, zygote or _zygote_address)
    finally:
        remove_tree(workdir)


def _run_child(
    workdir: str,
    config: dict[str, object],
    wall_s: float,
    should_stop: Callable[[], bool] | None,
    tail_chars: int,
    zygote: str | None,
) -> ScriptResult:
    started = time.monotonic()
    proc = start(workdir, config, zygote)
    ended: Ended | None = None
    timed_out = cancelled = False
    output = _Output(proc.output_fd, tail_chars * 4)
    try:
        deadline = started + wall_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([proc.pidfd], [], [], min(left, 0.2))
            if ready:
                break
            if should_stop is not None and should_stop():
                cancelled = True
                break
        ended = proc.end()
    finally:
        if ended is None:  # interrupted (KeyboardInterrupt, cancellation of the caller, ...)
            with contextlib.suppress(Exception):
                proc.end()
        first, tail = output.finish()
        proc.close_output()
    if ended.status is None and not (cancelled or timed_out):
        raise SandboxUnavailable(
            "the sandbox child was reaped by someone else, or its zygote died; status lost"
        )
    wall = time.monotonic() - started
    tail = tail[-tail_chars:]
    confinement = first[len(CONFINED_PREFIX) :] if first.startswith(CONFINED_PREFIX) else ""
    if cancelled:
        raise SandboxCancelled("the script run was cancelled")
    if timed_out:
        raise ScriptTimeout(f"the script ran longer than {wall_s:g} s (wall clock) and was killed", tail)
    assert ended.status is not None
    return _outcome(workdir, config, os.waitstatus_to_exitcode(ended.status), ended, wall, tail, confinement)


def _outcome(
    workdir: str,
    config: dict[str, object],
    code: int,
    ended: Ended,
    wall: float,
    output: str,
    confinement: str,
) -> ScriptResult:
    """The result of a child that ended by itself, or the exception that describes how it ended."""
    if code == child.EXIT_OK:
        limit = int(config["file_size_mb"]) * 1024 * 1024  # type: ignore[call-overload]
        data = _read_limited(Path(workdir) / child.RESULT_NAME, limit)
        if not data:
            raise ScriptFailed("the script's process exited without producing a result", output)
        if len(data) > limit:
            raise ScriptResourceLimit(
                f"the result is larger than {config['file_size_mb']} MB", output, "file_size"
            )
        return ScriptResult(
            data=data,
            output_tail=output,
            wall_s=wall,
            cpu_s=ended.cpu_s,
            max_rss_mb=ended.max_rss_mb,
            confinement=confinement,
        )
    if code < 0:
        _raise_for_signal(-code, config, output)
    kind = child.EXIT_CODES.get(code)
    message = _error_message(Path(workdir), kind)
    if kind == "setup" or (kind is None and not confinement):
        # The script never ran (our setup failed, or Python could not even start the child).
        raise SandboxUnavailable(
            f"the script sandbox could not be set up: {message or f'exit code {code}'}\n{output.rstrip()}"
        )
    if kind == "invalid_result":
        raise ScriptInvalidResult(message or "build() returned an unusable value", output)
    if kind == "memory":
        raise ScriptResourceLimit(
            f"out of memory (limit {config['memory_mb']} MB of address space): {message}", output, "memory"
        )
    if kind == "file_size":
        raise ScriptResourceLimit(
            f"file size limit ({config['file_size_mb']} MB) exceeded: {message}", output, "file_size"
        )
    if kind == "open_files":
        raise ScriptResourceLimit(
            f"open files limit ({config['max_open_files']}) exceeded: {message}", output, "open_files"
        )
    if kind == "failed":
        raise ScriptFailed(message or "the script failed", output)
    raise ScriptFailed(f"the script exited with code {code}", output)


def _error_message(workdir: Path, kind: str | None) -> str:
    raw = _read_limited(workdir / child.ERROR_NAME, 64 * 1024)
    if not raw:
        return ""
    try:
        report = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(report, dict) or report.get("kind") != kind:
        return ""
    return str(report.get("message", ""))[:4000]


def _raise_for_signal(sig: int, config: dict[str, object], output: str) -> None:
    name = signal.Signals(sig).name if sig in signal.valid_signals() else f"signal {sig}"
    if sig == signal.SIGXCPU:
        raise ScriptResourceLimit(f"CPU time limit ({config['cpu_s']} s) exceeded", output, "cpu")
    if sig == signal.SIGXFSZ:
        raise ScriptResourceLimit(
            f"file size limit ({config['file_size_mb']} MB) exceeded", output, "file_size"
        )
    if sig == signal.SIGKILL:  # not ours (timeouts are handled before): CPU hard limit or the OOM killer
        raise ScriptResourceLimit(
            "killed by SIGKILL (CPU hard limit or the kernel's out-of-memory killer)", output, "memory"
        )
    raise ScriptCrashed(f"the script's process crashed ({name})", output)
