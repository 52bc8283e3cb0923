"""Child side of the script sandbox: ``python -s -B -P -m runtime.sandbox_child``, started only by
:func:`runtime.sandbox.run_script` (read that module's docstring for the threat model).

The parent starts this process in a fresh session, with a scrubbed environment, its cwd a private 0700
directory holding ``script.py``, and one JSON line on stdin: ``{"parent", "exporter", "cpu_s",
"memory_mb", "file_size_mb", "max_open_files", "writable_workdir", "require_confinement"}``.

Order of business:

1. ``PR_SET_PDEATHSIG`` (SIGKILL) and a check that the parent did not die first;
2. resource limits: core 0, CPU time, address space, file size, open files; then ``result.bin`` and
   ``error.json`` are created and kept open, so the answer can be written even if the directory is
   read-only to the script;
3. confinement, while the process still has a single thread (Landlock domains and seccomp filters bind
   the calling thread and its future threads only): no-new-privs, every capability dropped, a Landlock
   domain (read only the Python installation, the system libraries, our own packages and the cwd - so no
   ``/proc`` at all; write only in the cwd's ``cache/`` (``XDG_CACHE_HOME``), or in all of the cwd with
   ``writable_workdir``; with ABI >= 4 no TCP,
   with ABI >= 6 no signals or abstract sockets outside the sandbox) and a seccomp filter (no new
   processes, no exec, no sockets, no namespaces, no ptrace, no signals to other processes, no change of
   mode/owner/times/xattrs of any file - which Landlock does not cover -, no io_uring/bpf/perf/
   userfaultfd/keyrings, and ENOSYS for every system call newer than the table);
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
import ctypes
import errno
import json
import math
import os
import platform
import re
import resource
import signal
import sys
import sysconfig
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

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


class InvalidResult(Exception):
    """Raised by an exporter for a value it cannot turn into bytes."""


# =============================================================================================
# Exporters: trusted code that turns what build() returned into bytes. The parent chooses one by name.
# =============================================================================================


def _warm_part_step() -> None:
    import engines.cad.export  # noqa: F401 - build123d, OCP, the STEP writer


def _warm_bundle() -> None:
    import engines.cad.bundle  # the bundle writer (standard library only)
    import engines.cad.export  # noqa: F401 - build123d, OCP, the STEP writer


def _checked_shape(item: object, where: str) -> Any:
    """``item`` (a build123d Shape or a ``BuildPart`` builder) as a Shape holding only valid solids with
    volume; :class:`InvalidResult` naming ``where`` otherwise."""
    from build123d import BuildPart, Shape

    if isinstance(item, BuildPart):
        item = item.part
    if not isinstance(item, Shape):
        raise InvalidResult(f"{where} is a {type(item).__name__}, not a build123d Part/Solid/Compound")
    if item.wrapped is None:
        raise InvalidResult(f"{where} is an empty shape")
    found = item.solids()
    if not found:
        raise InvalidResult(f"{where} ({type(item).__name__}) contains no solid")
    for solid in found:
        if not solid.is_valid:
            raise InvalidResult(f"{where} contains an invalid solid")
        if not solid.volume > 0:
            raise InvalidResult(f"{where} contains a solid without volume")
    return item


def part_step(value: object) -> bytes:
    """A build123d Part/Solid/Compound (or a ``BuildPart`` builder, or a non-empty list/tuple of them) as
    deterministic STEP bytes: every solid, in order, under one Compound labelled ``part``."""
    from build123d import Compound

    from engines.cad.export import step_bytes

    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise InvalidResult("build() returned an empty list")
    solids = []
    for i, item in enumerate(items):
        where = f"item {i} of the returned list" if isinstance(value, list | tuple) else "build()'s result"
        solids.extend(_checked_shape(item, where).solids())
    return step_bytes(Compound(solids), label="part")


# --- design and benchmark bundles (format: engines.cad.bundle) ---------------------------------------

JSON_MAX_DEPTH = 32
JSON_MAX_INT = 2**63
_STEP_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A part's label names its STEP root only when it is this tame; otherwise the root is ``part``."""


class _TooLarge(Exception):
    pass


def _json(value: object, where: str, budget: list[int], depth: int = 0) -> Any:
    """``value`` as plain JSON types (dict with str keys, list, str, int, float, bool, None; a tuple becomes
    a list, subclasses such as str enums or numpy floats their base type). :class:`InvalidResult` naming
    ``where`` for anything else, a non-finite float, nesting deeper than :data:`JSON_MAX_DEPTH` or more
    than ``budget[0]`` bytes (a lower bound of the JSON size, counted as it goes, so a huge value is
    refused early)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if depth > JSON_MAX_DEPTH:
        raise InvalidResult(f"{where}: nested more than {JSON_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -JSON_MAX_INT <= value <= JSON_MAX_INT:
            raise InvalidResult(f"{where}: integer out of range (at most 2**63 in magnitude)")
        return int.__int__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidResult(f"{where} is {value!r}, not a finite number")
        return float.__float__(value)
    if isinstance(value, str):
        budget[0] -= len(value) + 1
        if budget[0] < 0:
            raise _TooLarge
        return str.__str__(value)
    if isinstance(value, list | tuple):
        return [_json(v, f"{where}[{i}]", budget, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise InvalidResult(
                    f"{where} has a key {key!r} of type {type(key).__name__}; keys must be str"
                )
            budget[0] -= len(key) + 3
            result[str.__str__(key)] = _json(v, f"{where}[{key!r}]", budget, depth + 1)
        return result
    raise InvalidResult(
        f"{where} is a {type(value).__name__}, not a JSON value (dict, list, str, int, float, bool or None)"
    )


def _json_limited(value: object, where: str, limit: int) -> Any:
    from engines.cad.bundle import canonical_json

    try:
        plain = _json(value, where, [limit])
    except _TooLarge:
        raise InvalidResult(f"{where}: more than {limit // 1024} KiB of JSON") from None
    size = len(canonical_json(plain))
    if size > limit:
        raise InvalidResult(f"{where}: {size} bytes of JSON, more than {limit // 1024} KiB")
    return plain


def _bundle_parts(value: object, name: str, directory: str) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Manifest entries and STEP members of the parts in ``value`` (a list or tuple of dicts, each with a
    ``shape`` and JSON metadata). ``name`` is how messages call the list (``item``, ``fixtures``)."""
    from engines.cad.bundle import MAX_METADATA_BYTES, MAX_PARTS, step_member
    from engines.cad.export import step_bytes

    what = "build()'s result" if name == "item" else f"build()[{name!r}]"
    if not isinstance(value, list | tuple):
        raise InvalidResult(
            f"{what} is a {type(value).__name__}, not a list of parts (dicts with a 'shape' and metadata)"
        )
    if not value:
        raise InvalidResult(f"{what} is an empty list; give at least one part")
    if len(value) > MAX_PARTS:
        raise InvalidResult(f"{what} has {len(value)} parts; at most {MAX_PARTS} are allowed")
    checked = []
    for i, item in enumerate(value):
        where = f"{name} {i}" if name == "item" else f"{name}[{i}]"
        if not isinstance(item, dict):
            raise InvalidResult(f"{where} is a {type(item).__name__}, not a dict with a 'shape' and metadata")
        label = item.get("label")
        if isinstance(label, str):
            where += f" (label {label[:64]!r})"
        for key in item:
            if not isinstance(key, str):
                raise InvalidResult(
                    f"{where} has a key {key!r} of type {type(key).__name__}; keys must be str"
                )
        if "shape" not in item:
            raise InvalidResult(f"{where} has no 'shape' (the part's build123d Part/Solid/Compound)")
        metadata = {k: v for k, v in item.items() if k != "shape"}
        metadata = _json_limited(metadata, f"{where}: metadata", MAX_METADATA_BYTES)
        checked.append((where, item["shape"], metadata))
    entries, members = [], {}
    for i, (where, shape, metadata) in enumerate(checked):
        shape = _checked_shape(shape, f"{where}: 'shape'")
        label = metadata.get("label")
        step_label = label if isinstance(label, str) and _STEP_LABEL.fullmatch(label) else "part"
        member = step_member(directory, i)
        members[member] = step_bytes(shape, step_label)
        entries.append({"metadata": metadata, "step": member})
    return entries, members


def design(value: object) -> bytes:
    """A design script's parts as a ``design`` bundle (see :mod:`engines.cad.bundle`): ``build()``
    returns a non-empty list (or tuple) of at most 32 dicts, each with a ``shape`` and JSON metadata
    (``label``, ``material``, ``method``, ``placement``, ``fixed``, ``joint``, ``motor``; other keys are
    kept too: what they mean is checked by the caller)."""
    from engines.cad.bundle import DESIGN_KIND, PART_DIRS, write_bundle

    entries, members = _bundle_parts(value, "item", PART_DIRS["parts"])
    return write_bundle({"kind": DESIGN_KIND, "parts": entries}, members)


BENCHMARK_PART_LISTS = ("fixtures", "reference_solution")


def benchmark(value: object) -> bytes:
    """A benchmark script's result as a ``benchmark`` bundle: ``build()`` returns a dict with ``fixtures``
    and ``reference_solution`` (non-empty lists of part dicts, as for :func:`design`) and JSON-able keys
    (``payload``, ``goal_zone``, ``build_zone``, ``simulation_bounds``, ``forbidden_zones``,
    ``simulation``, ``description``, ``params``; checked by the caller)."""
    from engines.cad.bundle import BENCHMARK_KIND, MAX_BENCHMARK_JSON_BYTES, PART_DIRS, write_bundle

    if not isinstance(value, dict):
        raise InvalidResult(
            f"build()'s result is a {type(value).__name__}, not a dict with 'fixtures', "
            "'reference_solution', 'payload' and the zones"
        )
    for key in value:
        if not isinstance(key, str):
            raise InvalidResult(
                f"build()'s dict has a key {key!r} of type {type(key).__name__}; keys must be str"
            )
    for key in BENCHMARK_PART_LISTS:
        if key not in value:
            raise InvalidResult(f"build()'s dict has no {key!r} (a non-empty list of parts)")
    rest = {k: v for k, v in value.items() if k not in BENCHMARK_PART_LISTS}
    rest = _json_limited(rest, "build()'s dict", MAX_BENCHMARK_JSON_BYTES)
    manifest: dict[str, Any] = {"kind": BENCHMARK_KIND, "benchmark": rest}
    members: dict[str, bytes] = {}
    for key in BENCHMARK_PART_LISTS:
        entries, files = _bundle_parts(value[key], key, PART_DIRS[key])
        manifest[key] = entries
        members.update(files)
    return write_bundle(manifest, members)


EXPORTERS: dict[str, tuple[Callable[[], None], Callable[[object], bytes]]] = {
    "part_step": (_warm_part_step, part_step),
    "design": (_warm_bundle, design),
    "benchmark": (_warm_bundle, benchmark),
}
"""Exporter name -> (import what it needs, convert). Only names listed here can be chosen."""


# =============================================================================================
# Resource limits
# =============================================================================================


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def set_limits(cpu_s: int, memory_mb: int, file_size_mb: int, max_open_files: int) -> None:
    _limit(resource.RLIMIT_CORE, 0)
    # SIGXCPU at the soft limit (Python keeps the default action: die), SIGKILL one second later.
    _limit(resource.RLIMIT_CPU, cpu_s, cpu_s + 1)
    _limit(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    _limit(resource.RLIMIT_FSIZE, file_size_mb * 1024 * 1024)
    _limit(resource.RLIMIT_NOFILE, max_open_files)


# =============================================================================================
# Confinement: no-new-privs, capabilities, Landlock, seccomp (Linux; via ctypes)
# =============================================================================================

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on x86_64 and aarch64
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
_WRITE_TREE = (
    FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG | FS_REFER | FS_TRUNCATE
)
"""Creating, writing and deleting regular files and directories (no symlinks, FIFOs, sockets, devices)."""
FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
"""The only rights a rule on a file (not a directory) may carry."""
NET_ALL = 0b11  # bind + connect TCP (ABI 4)
SCOPE_ALL = 0b11  # abstract UNIX sockets + signals (ABI 6)


SYSTEM_READ_ONLY = (
    *("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib"),  # shared libraries
    *("/usr/share", "/usr/local/share", "/etc/fonts"),  # fonts (build123d text), locale data
    *("/etc/ld.so.cache", "/etc/localtime", "/sys/devices/system/cpu"),
    *("/dev/urandom", "/dev/random", "/dev/zero"),
)


class SetupError(Exception):
    """The sandbox could not be set up as required."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def landlock_abi() -> int:
    """Landlock ABI version of the running kernel, 0 if Landlock is unavailable (not built in, not enabled,
    or blocked by a container's seccomp profile)."""
    version = _libc.syscall(
        SYS_LANDLOCK_CREATE_RULESET,
        None,
        ctypes.c_size_t(0),
        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION),
    )
    return max(0, int(version))


def _read_only_roots() -> list[Path]:
    """What the sandbox may read: the Python installation (stdlib, extension modules, site-packages), the
    system libraries, and our own packages - not the project root, which can hold ``.env`` and data."""
    paths = sysconfig.get_paths()
    roots = [Path(paths[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths]
    roots += [Path(sys.base_prefix) / "lib", Path(sys.prefix) / "lib"]
    roots += [Path(p) for p in SYSTEM_READ_ONLY]
    import engines
    import runtime
    import shared

    roots += [Path(m.__file__).parent for m in (engines, runtime, shared)]
    return roots


def _add_rule(ruleset: int, path: Path, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # does not exist here: nothing to grant
    try:
        if not os.path.isdir(path):
            access &= FS_FILE_RIGHTS
        attr = _PathBeneathAttr(access, fd)
        _check(
            _libc.syscall(
                SYS_LANDLOCK_ADD_RULE,
                ctypes.c_int(ruleset),
                ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                ctypes.byref(attr),
                ctypes.c_uint32(0),
            ),
            f"landlock_add_rule({path})",
        )
    finally:
        os.close(fd)


def landlock(workdir: Path, abi: int, writable: bool) -> None:
    """Restrict this thread (and its later threads) to reading :func:`_read_only_roots` and ``workdir``, and
    writing only files and directories in its cache directory (:data:`CACHE_DIR`) or (``writable``) in all
    of ``workdir`` - no symlinks, FIFOs, sockets or devices, which could trick the parent reading the
    result; no TCP, and (ABI 6) no signals or abstract sockets outside the domain."""
    handled_fs = (1 << 13) - 1
    if abi >= 2:
        handled_fs |= FS_REFER  # rename/link across directories
    if abi >= 3:
        handled_fs |= FS_TRUNCATE
    if abi >= 5:
        handled_fs |= FS_IOCTL_DEV
    attr = _RulesetAttr(handled_fs, NET_ALL if abi >= 4 else 0, SCOPE_ALL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(
        _libc.syscall(
            SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
        ),
        "landlock_create_ruleset",
    )
    try:
        read = (FS_READ_FILE | FS_READ_DIR) & handled_fs
        for root in _read_only_roots():
            _add_rule(ruleset, root, read)
        _add_rule(
            ruleset,
            Path("/dev/null"),
            (FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV) & handled_fs,
        )
        work = FS_READ_FILE | FS_READ_DIR
        if writable:
            work |= _WRITE_TREE
        _add_rule(ruleset, workdir, work & handled_fs)
        cache = workdir / CACHE_DIR
        if cache.is_dir():
            _add_rule(ruleset, cache, (work | _WRITE_TREE) & handled_fs)
        _check(
            _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
            "landlock_restrict_self",
        )
    finally:
        os.close(ruleset)


def drop_capabilities() -> None:
    """Drop every capability (matters when the worker runs as root: no CAP_DAC_OVERRIDE, CAP_KILL,
    CAP_SYS_PTRACE, CAP_SYS_ADMIN ...; Landlock and seccomp apply to root as well)."""
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):  # the bounding set; needs CAP_SETPCAP, harmless to skip without it
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EPERM:
            break
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


# --- seccomp --------------------------------------------------------------------------------------------

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_MACHINES = ("x86_64", "aarch64")
_SYSCALLS: tuple[tuple[str, str, int | None, int | None], ...] = (
    # name, rule, number on x86_64 (<asm/unistd_64.h>), on aarch64 (<asm-generic/unistd.h>)
    ("clone3", "enosys", 435, 435),  # its flags live in memory a filter cannot read: make libc use clone
    ("clone", "threads_only", 56, 220),
    ("fork", "deny", 57, None),
    ("vfork", "deny", 58, None),
    ("execve", "deny", 59, 221),
    ("execveat", "deny", 322, 281),
    ("setsid", "deny", 112, 157),
    ("setpgid", "deny", 109, 154),
    ("socket", "deny", 41, 198),
    ("socketpair", "deny", 53, 199),
    ("ptrace", "deny", 101, 117),
    ("process_vm_readv", "deny", 310, 270),
    ("process_vm_writev", "deny", 311, 271),
    ("pidfd_open", "deny", 434, 434),
    ("pidfd_getfd", "deny", 438, 438),
    ("pidfd_send_signal", "deny", 424, 424),
    ("tkill", "deny", 200, 130),
    ("kill", "own_pid", 62, 129),
    ("tgkill", "own_pid", 234, 131),
    ("rt_sigqueueinfo", "own_pid", 129, 138),
    ("rt_tgsigqueueinfo", "own_pid", 297, 240),
    ("unshare", "deny", 272, 97),
    ("setns", "deny", 308, 268),
    ("mount", "deny", 165, 40),
    ("umount2", "deny", 166, 39),
    ("pivot_root", "deny", 155, 41),
    ("chroot", "deny", 161, 51),
    ("open_tree", "deny", 428, 428),
    ("move_mount", "deny", 429, 429),
    ("fsopen", "deny", 430, 430),
    ("fsconfig", "deny", 431, 431),
    ("fsmount", "deny", 432, 432),
    ("fspick", "deny", 433, 433),
    ("mount_setattr", "deny", 442, 442),
    ("bpf", "deny", 321, 280),
    ("perf_event_open", "deny", 298, 241),
    ("userfaultfd", "deny", 323, 282),
    ("keyctl", "deny", 250, 219),
    ("add_key", "deny", 248, 217),
    ("request_key", "deny", 249, 218),
    ("io_uring_setup", "deny", 425, 425),
    ("io_uring_enter", "deny", 426, 426),
    ("io_uring_register", "deny", 427, 427),
    ("chmod", "deny", 90, None),
    ("fchmod", "deny", 91, 52),
    ("fchmodat", "deny", 268, 53),
    ("chown", "deny", 92, None),
    ("fchown", "deny", 93, 55),
    ("lchown", "deny", 94, None),
    ("fchownat", "deny", 260, 54),
    ("utime", "deny", 132, None),
    ("utimes", "deny", 235, None),
    ("futimesat", "deny", 261, None),
    ("utimensat", "deny", 280, 88),
    ("setxattr", "deny", 188, 5),
    ("lsetxattr", "deny", 189, 6),
    ("fsetxattr", "deny", 190, 7),
    ("removexattr", "deny", 197, 14),
    ("lremovexattr", "deny", 198, 15),
    ("fremovexattr", "deny", 199, 16),
    ("truncate", "deny", 76, 45),  # by path: Landlock checks it only from ABI 3
    ("link", "deny", 86, None),
    ("linkat", "deny", 265, 37),
    ("open_by_handle_at", "deny", 304, 265),
)
"""Rules: ``deny`` answers EPERM; ``enosys`` answers ENOSYS; ``threads_only`` allows ``clone`` with
``CLONE_THREAD`` (threads) and refuses new processes; ``own_pid`` allows a signal only to this process
(first argument our pid, or 0 for our own process group, which holds nothing else). Everything else is
allowed."""
FIRST_UNKNOWN_SYSCALL = 452
"""fchmodat2 and every later system call (the same numbers on both architectures from 403 on) answer ENOSYS,
as an older kernel would: the C library falls back, and calls added after this table cannot slip past it."""

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000


def _errno(code: int) -> int:
    return 0x00050000 | code


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def seccomp_program(machine: str, own_pid: int) -> list[tuple[int, int, int, int]]:
    """The BPF program for :data:`_SYSCALLS`, as (code, jt, jf, k) tuples."""
    column = 2 + _MACHINES.index(machine)
    prog = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 1, 0, _AUDIT_ARCH[machine]),
        (_RET_K, 0, 0, _RET_KILL_PROCESS),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":  # the x32 ABI would reach the same calls under other numbers
        prog += [(_JGE_K, 0, 1, _X32_BIT), (_RET_K, 0, 0, _errno(errno.ENOSYS))]
    prog += [(_JGE_K, 0, 1, FIRST_UNKNOWN_SYSCALL), (_RET_K, 0, 0, _errno(errno.ENOSYS))]
    for row in _SYSCALLS:
        rule, nr = row[1], row[column]
        if nr is None:
            continue
        if rule in ("deny", "enosys"):
            code = errno.EPERM if rule == "deny" else errno.ENOSYS
            prog += [(_JEQ_K, 0, 1, nr), (_RET_K, 0, 0, _errno(code))]
        elif rule == "threads_only":
            prog += [
                (_JEQ_K, 0, 4, nr),
                (_LD_W_ABS, 0, 0, 16),  # low half of args[0]: the clone flags
                (_JSET_K, 1, 0, _CLONE_THREAD),
                (_RET_K, 0, 0, _errno(errno.EPERM)),
                (_RET_K, 0, 0, _RET_ALLOW),
            ]
        elif rule == "own_pid":
            prog += [
                (_JEQ_K, 0, 5, nr),
                (_LD_W_ABS, 0, 0, 16),  # low half of args[0]: the target pid
                (_JEQ_K, 2, 0, own_pid),
                (_JEQ_K, 1, 0, 0),
                (_RET_K, 0, 0, _errno(errno.EPERM)),
                (_RET_K, 0, 0, _RET_ALLOW),
            ]
        else:
            raise ValueError(f"unknown seccomp rule {rule!r}")
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    return prog


def seccomp(machine: str) -> None:
    prog = seccomp_program(machine, os.getpid())
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), filters)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp filter")


def confine(workdir: Path, writable: bool, required: bool) -> tuple[list[str], list[str]]:
    """Confine this process as far as the kernel allows; returns what is in force and what is missing.
    With ``required``, anything missing raises :class:`SetupError` instead."""
    threads = os.listdir("/proc/self/task")
    if len(threads) != 1:
        raise SetupError(f"confinement needs a single-threaded process, found {len(threads)} threads")
    done: list[str] = []
    missing: list[str] = []
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    drop_capabilities()
    done.append("capabilities")
    abi = landlock_abi()
    if abi >= 1:
        landlock(workdir, abi, writable)
        done.append(f"landlock-abi{abi}")  # below ABI 4/6 seccomp still refuses sockets and foreign signals
    else:
        missing.append("landlock (unavailable in this kernel or container)")
    machine = platform.machine()
    if machine in _AUDIT_ARCH:
        seccomp(machine)
        done.append("seccomp")
    else:
        missing.append(f"seccomp filter (no syscall table for {machine})")
    if missing and required:
        raise SetupError("sandbox confinement incomplete: missing " + "; ".join(missing))
    return done, missing


# =============================================================================================
# Running the script
# =============================================================================================


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


def _report(e: BaseException, default: int, stage: str) -> NoReturn:
    code = _classify(e)
    if code == EXIT_FAILED:
        code = default
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:  # our frames: noise to the author
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
            workdir, bool(config["writable_workdir"]), bool(config["require_confinement"])
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
