"""What makes the sandbox child a prison: resource limits, no-new-privs, dropped capabilities, a Landlock
domain and a seccomp filter (Linux, through ctypes; standard library only). :mod:`runtime.sandbox_child`
calls :func:`set_limits` and then :func:`confine` before the untrusted script is compiled; the threat model
is in :mod:`runtime.sandbox`'s docstring.

- :func:`set_limits`: core 0, CPU time (SIGXCPU, SIGKILL a second later), address space, file size, open
  files.
- :func:`confine`, while the process still has a single thread (Landlock domains and seccomp filters bind
  the calling thread and its future threads only): no-new-privs, every capability dropped, a Landlock
  domain (read only the Python installation, the system libraries, the ``engines``, ``runtime`` and
  ``shared`` packages and the work directory - so no ``/proc`` at all; write only in its cache directory,
  or in all of it with ``writable``; with ABI >= 4 no TCP, with ABI >= 6 no signals or abstract sockets
  outside the sandbox) and a seccomp filter (no new processes, no exec, no sockets, no namespaces, no
  ptrace, no signals to other processes, no change of mode/owner/times/xattrs of any file - which Landlock
  does not cover -, no io_uring/bpf/perf/userfaultfd/keyrings, and ENOSYS for every system call newer than
  the table).

Over 400 lines because the system-call table and the Landlock rights are data that must be read next to
the BPF and ruleset code that enforces them.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import sys
import sysconfig
from pathlib import Path

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


def landlock(workdir: Path, cache: Path, abi: int, writable: bool) -> None:
    """Restrict this thread (and its later threads) to reading :func:`_read_only_roots` and ``workdir``, and
    writing only files and directories in ``cache`` (when it is a directory) or (``writable``) in all of
    ``workdir`` - no symlinks, FIFOs, sockets or devices, which could trick the parent reading the
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


def confine(workdir: Path, cache: Path, writable: bool, required: bool) -> tuple[list[str], list[str]]:
    """Confine this process as far as the kernel allows, reading only the read-only roots and ``workdir``,
    writing only in ``cache`` (or, ``writable``, in all of ``workdir``); returns what is in force and what
    is missing. With ``required``, anything missing raises :class:`SetupError` instead."""
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
        landlock(workdir, cache, abi, writable)
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
