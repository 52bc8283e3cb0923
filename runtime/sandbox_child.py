"""Child side of the script sandbox: ``python -s -B -P -m runtime.sandbox_child``, started only by
:func:`runtime.sandbox.run_script` (read that module's docstring for the threat model). The confinement
itself is :mod:`runtime.confine`; the exporters that turn ``build()``'s result into bytes are
:mod:`runtime.sandbox_exports`.

The parent starts this process in a fresh session, with a scrubbed environment, its cwd a private 0700
directory holding ``script.py``, and one JSON line on stdin: ``{"parent", "exporter", "cpu_s",
"memory_mb", "file_size_mb", "max_open_files", "writable_workdir", "require_confinement"}``.

Order of business:

1. ``PR_SET_PDEATHSIG`` (SIGKILL) and a check that the parent did not die first;
2. resource limits (:func:`runtime.confine.set_limits`); then ``result.bin`` and ``error.json`` are created
   and kept open, so the answer can be written even if the directory is read-only to the script;
3. confinement (:func:`runtime.confine.confine`), while the process still has a single thread: reading
   only the Python installation, the system libraries, our own packages and the cwd; writing only in the
   cwd's ``cache/`` (``XDG_CACHE_HOME``), or in all of the cwd with ``writable_workdir``;
4. compile ``script.py`` (a syntax error fails fast, before the slow build123d import);
5. import what the exporter needs, run the script as module ``design_script`` and call its ``build()``;
6. the exporter turns the returned object into bytes, written to ``result.bin`` (rewound and truncated
   first: the script could have written to the open file), and the process leaves through ``os._exit`` so
   nothing the script registered runs after.

Failures fill ``error.json`` (``{"kind", "message"}``, best effort) and exit with a code from
:data:`EXIT_CODES`; the traceback goes to stderr, which the parent keeps the tail of.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sys
import traceback
import types
from pathlib import Path
from typing import Any, NoReturn

from runtime import sandbox_exports
from runtime.confine import SetupError, confine, set_limits
from runtime.sandbox_exports import EXPORTERS, InvalidResult

SCRIPT_NAME = "script.py"
CACHE_DIR = "cache"
"""The script's cache directory (``XDG_CACHE_HOME``) inside its directory: writable even when the directory
itself is not, so libraries that keep a cache (ezdxf's font cache, imported by build123d) work quietly."""
RESULT_NAME = "result.bin"
ERROR_NAME = "error.json"
MODULE_NAME = "design_script"
"""The script runs as this module (``__name__``), so ``if __name__ == "__main__":`` blocks do not run."""

EXIT_OK = 0
EXIT_FAILED = 65  # the script raised, did not compile, has no build(), called sys.exit ...
EXIT_INVALID_RESULT = 66  # build() returned something the exporter cannot use
EXIT_MEMORY = 67  # MemoryError (address-space limit)
EXIT_FILE_SIZE = 68  # EFBIG (file-size limit; Python ignores SIGXFSZ and raises instead)
EXIT_OPEN_FILES = 69  # EMFILE (open-files limit)
EXIT_SETUP = 70  # the sandbox could not be set up (our problem, not the script's)
EXIT_CODES = {
    EXIT_FAILED: "failed",
    EXIT_INVALID_RESULT: "invalid_result",
    EXIT_MEMORY: "memory",
    EXIT_FILE_SIZE: "file_size",
    EXIT_OPEN_FILES: "open_files",
    EXIT_SETUP: "setup",
}


_files: dict[str, int] = {}
"""``result.bin`` and ``error.json``, opened before confinement."""


def _write(name: str, data: bytes) -> None:
    fd = _files[name]
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fail(code: int, kind: str, message: str) -> NoReturn:
    with contextlib.suppress(BaseException):  # best effort: the exit code carries the verdict
        _write(ERROR_NAME, json.dumps({"kind": kind, "message": message[-4000:]}).encode())
    _exit(code)


def _exit(code: int) -> NoReturn:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


HEADLINE_CHARS = 1000
"""An exception's message is cut to this many characters in the one-line headline (the traceback, in the
output tail, keeps it whole)."""


def _describe(e: BaseException) -> str:
    """One line for an exception: its type and its whole message (a multi-line message joined into one
    line), with the script's line number when the traceback reaches the script."""
    try:
        message = " ".join(str(e).split())
    except Exception:  # noqa: BLE001 - a __str__ that raises is the script's too
        message = ""
    if len(message) > HEADLINE_CHARS:
        message = message[: HEADLINE_CHARS - 3] + "..."
    line = f"{type(e).__name__}: {message}" if message else type(e).__name__
    if isinstance(e, SyntaxError):
        return f"{type(e).__name__}: {e.msg} ({SCRIPT_NAME}, line {e.lineno})"
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == SCRIPT_NAME]
    return f"{line} ({SCRIPT_NAME}, line {frames[-1].lineno})" if frames else line


def _classify(e: BaseException) -> int:
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, MemoryError):
            return EXIT_MEMORY
        if isinstance(cur, OSError) and cur.errno == errno.EFBIG:
            return EXIT_FILE_SIZE
        if isinstance(cur, OSError) and cur.errno == errno.EMFILE:
            return EXIT_OPEN_FILES
        cur = cur.__cause__ or cur.__context__
    return EXIT_FAILED


_OWN_FILES = frozenset({__file__, sandbox_exports.__file__})
"""The outermost frames of a traceback in these files (the runner and the exporters) are left out of the
traceback the script's author sees."""


def _report(e: BaseException, default: int, stage: str) -> NoReturn:
    code = _classify(e)
    if code == EXIT_FAILED:
        code = default
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in _OWN_FILES:  # our frames: noise to the author
        tb = tb.tb_next
    with contextlib.suppress(BaseException):  # e.g. MemoryError while formatting
        traceback.print_exception(type(e), e, tb or e.__traceback__, file=sys.stderr)
    try:
        message = f"{stage}: {_describe(e)}"
    except BaseException:  # noqa: BLE001
        message = f"{stage}: {type(e).__name__}"
    _fail(code, EXIT_CODES[code], message)


def run(config: dict[str, Any]) -> None:
    exporter = config["exporter"]
    if exporter not in EXPORTERS:
        _fail(EXIT_SETUP, "setup", f"unknown exporter {exporter!r}")
    warm, convert = EXPORTERS[exporter]
    workdir = Path.cwd()
    try:
        set_limits(
            int(config["cpu_s"]),
            int(config["memory_mb"]),
            int(config["file_size_mb"]),
            int(config["max_open_files"]),
        )
        for name in (RESULT_NAME, ERROR_NAME):
            _files[name] = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        done, missing = confine(
            workdir,
            workdir / CACHE_DIR,
            bool(config["writable_workdir"]),
            bool(config["require_confinement"]),
        )
    except (SetupError, OSError) as e:
        _fail(EXIT_SETUP, "setup", f"{type(e).__name__}: {e}")
    # The parent reads this first line (before the script can print anything) as the confinement report.
    print(f"sandbox: confined by {', '.join(done) or 'nothing'}", file=sys.stderr, flush=True)
    for item in missing:
        print(f"sandbox: WARNING: running without {item}", file=sys.stderr, flush=True)

    try:
        source = (workdir / SCRIPT_NAME).read_bytes()
        code = compile(source, SCRIPT_NAME, "exec", dont_inherit=True)
    except BaseException as e:  # noqa: BLE001
        _report(e, EXIT_FAILED, "the script does not compile")
    try:
        warm()
    except BaseException as e:  # noqa: BLE001
        _report(e, EXIT_SETUP, f"preparing exporter {exporter!r}")

    module = types.ModuleType(MODULE_NAME)
    module.__file__ = SCRIPT_NAME
    sys.modules[MODULE_NAME] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the script is the point
    except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        _report(e, EXIT_FAILED, "the script failed while loading")
    build = module.__dict__.get("build")
    if not callable(build):
        _fail(EXIT_FAILED, "failed", f"the script defines no build() function ({SCRIPT_NAME})")
    try:
        value = build()
    except BaseException as e:  # noqa: BLE001
        _report(e, EXIT_FAILED, "build() failed")
    try:
        data = convert(value)
        if not isinstance(data, bytes):
            raise InvalidResult(f"exporter {exporter!r} produced {type(data).__name__}, not bytes")
    except InvalidResult as e:
        _fail(EXIT_INVALID_RESULT, "invalid_result", str(e))
    except BaseException as e:  # noqa: BLE001 - an export that chokes on the geometry: still the result's fault
        _report(e, EXIT_INVALID_RESULT, "exporting build()'s result failed")
    try:
        _write(RESULT_NAME, data)
    except BaseException as e:  # noqa: BLE001
        _report(e, EXIT_FAILED, "writing the result")
    _exit(EXIT_OK)


def main() -> None:
    from shared.process import die_with_parent

    die_with_parent(signal.SIGKILL)
    config = json.loads(sys.stdin.readline())
    if os.getppid() != int(config["parent"]):  # the parent died before the request took effect
        os._exit(EXIT_SETUP)
    sys.stdin.close()
    with contextlib.suppress(OSError):
        os.close(0)
        os.open(os.devnull, os.O_RDONLY)  # fd 0 again, so nothing else lands there
    run(config)


if __name__ == "__main__":
    main()
