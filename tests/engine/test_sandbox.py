"""Script sandbox: results, typed failures, limits and confinement of untrusted build123d scripts.

Every case runs twice: in a fresh interpreter, and in a fork of the warm zygote (``launcher``). A fresh run
imports build123d (~2.5 s), so the cases share runs where they can: one good run, one "probe" run that
tries every escape at once and reports what it saw. What only the zygote does is at the end.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import runtime
from engines.cad.export import load_step
from runtime import confine, sandbox
from runtime.sandbox import (
    SandboxCancelled,
    ScriptCrashed,
    ScriptFailed,
    ScriptInvalidResult,
    ScriptResourceLimit,
    ScriptResult,
    ScriptTimeout,
    run_script,
)
from runtime.sandbox_zygote import Zygote

LANDLOCK_ABI = confine.landlock_abi()
needs_landlock = pytest.mark.skipif(
    LANDLOCK_ABI == 0,
    reason="Landlock is unavailable in this kernel/container (not built in, not in the LSM list, or blocked "
    "by the container's seccomp profile); without it an unprivileged process cannot be kept from reading "
    "or writing the worker's files (user namespaces are no substitute: Docker's default profile refuses "
    "them too)",
)

GOOD_SCRIPT = """
from build123d import *

def build():
    with BuildPart() as part:
        Box(20, 20, 5)
        Hole(radius=3)
    return part.part
"""
GOOD_VOLUME = 20 * 20 * 5 - math.pi * 3**2 * 5
LOOP_SCRIPT = "def build():\n    while True:\n        pass\n"

PROBE_MARK = "PROBE-RESULT:"
PROBE_SCRIPT = """
import json, os

TARGETS = {targets!r}

def attempt(fn):
    try:
        return "ok: " + repr(fn())[:200]
    except Exception as e:
        return "refused: " + type(e).__name__

def write(path):
    with open(path, "w") as fh:
        fh.write("escaped")

def build():
    parent = os.getppid()
    seen = {{
        "mechbench_env": sorted(k for k in os.environ if k.upper().startswith("MECHBENCH")),
        "env_keys": sorted(os.environ),
        "parent_environ": attempt(lambda: open(f"/proc/{{parent}}/environ", "rb").read()),
        "secret_in_parent_environ": False,
        "writes": {{path: attempt(lambda p=path: write(p)) for path in TARGETS}},
        "kill_parent": attempt(lambda: os.kill(parent, 0)),
        "socket": attempt(lambda: __import__("socket").socket()),
        "read_dotenv_dir": attempt(lambda: os.listdir({project!r})),
    }}
    try:
        seen["secret_in_parent_environ"] = b"MECHBENCH" in open(f"/proc/{{parent}}/environ", "rb").read()
    except OSError:
        pass
    raise RuntimeError({mark!r} + json.dumps(seen))
"""


@pytest.fixture(scope="module", params=["fresh", "zygote"])
def launcher(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """How the script's process starts: a fresh interpreter, or a fork of a warm zygote."""
    if request.param == "fresh":
        yield "fresh"
        return
    zygote = Zygote(tmp_path_factory.mktemp("zygote"))
    try:
        zygote.wait_ready()
        sandbox.use_zygote(zygote.address)
        yield "zygote"
    finally:
        sandbox.use_zygote(None)
        zygote.close()


@pytest.fixture(autouse=True)
def _every_case_in_both_launchers(launcher: str) -> None:
    """Runs every case of this module once per launcher."""


@pytest.fixture
def sandbox_root(tmp_path: Path) -> Iterator[Path]:
    """Where run_script makes its private directories; must be empty again after every run."""
    root = tmp_path / "sandbox-root"
    root.mkdir()
    yield root
    assert list(root.iterdir()) == [], "run_script left its directory behind"


def _run(script: str, root: Path, **kwargs: object) -> ScriptResult:
    kwargs.setdefault("require_confinement", LANDLOCK_ABI > 0)
    try:
        return run_script(script, tmp_root=root, **kwargs)  # type: ignore[arg-type]
    finally:
        assert list(root.iterdir()) == [], "run_script left its directory behind"


def _descendants(pid: int | None = None) -> set[int]:
    """Every live descendant of this test process (Linux /proc)."""
    found: set[int] = set()
    todo = [pid or os.getpid()]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = {int(x) for x in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += sorted(children - found)
            found |= children
    return found


# --------------------------------------------------------------------------------------------
# The good path
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_run(launcher: str, tmp_path_factory: pytest.TempPathFactory) -> ScriptResult:
    root = tmp_path_factory.mktemp("good")
    return _run(GOOD_SCRIPT, root)


def test_good_script_returns_step_of_the_part(good_run: ScriptResult) -> None:
    assert good_run.data.startswith(b"ISO-10303-21;")
    shape = load_step(good_run.data)
    assert len(shape.solids()) == 1
    assert shape.volume == pytest.approx(GOOD_VOLUME, rel=1e-6)
    assert good_run.wall_s < 30 and good_run.cpu_s > 0 and good_run.max_rss_mb > 50


@needs_landlock
def test_good_run_reports_its_confinement(good_run: ScriptResult) -> None:
    assert "capabilities" in good_run.confinement
    assert "landlock" in good_run.confinement
    assert "seccomp" in good_run.confinement


def test_a_real_script_output_carries_no_cache_warning(good_run: ScriptResult) -> None:
    """build123d imports ezdxf, which keeps a font cache under XDG_CACHE_HOME: the sandbox gives it one."""
    assert "Cannot create cache" not in good_run.output_tail, good_run.output_tail
    assert "cache" not in good_run.output_tail.lower(), good_run.output_tail


CACHE_MARK = "CACHE-PROBE:"
CACHE_SCRIPT = """
import json, os
from build123d import Box

def build():
    cache = os.environ["XDG_CACHE_HOME"]
    with open(os.path.join(cache, "mine.txt"), "w") as fh:
        fh.write("cached")
    try:
        open("scratch.txt", "w")
        workdir = "writable"
    except OSError as e:
        workdir = type(e).__name__
    print({mark!r} + json.dumps({{"cache": cache, "cwd": os.getcwd(), "entries": sorted(os.listdir(cache)),
                                "workdir": workdir}}))
    return Box(1, 1, 1)
"""


@needs_landlock
def test_a_script_has_a_writable_cache_directory_inside_its_own(sandbox_root: Path, launcher: str) -> None:
    result = _run(CACHE_SCRIPT.format(mark=CACHE_MARK), sandbox_root)
    line = next(x for x in result.output_tail.splitlines() if x.startswith(CACHE_MARK))
    seen = json.loads(line[len(CACHE_MARK) :])
    assert Path(seen["cache"]).parent == Path(seen["cwd"]) and seen["cwd"].startswith(str(sandbox_root))
    # a fresh child's build123d import makes ezdxf's font cache there; the zygote made its own before forking
    assert ({"ezdxf", "mine.txt"} if launcher == "fresh" else {"mine.txt"}) <= set(seen["entries"]), seen
    assert seen["workdir"] == "PermissionError", "only the cache directory is writable"
    assert "Cannot create cache" not in result.output_tail, result.output_tail
    # the fixture checks the directory, cache included, is gone


def test_same_script_same_bytes(good_run: ScriptResult, sandbox_root: Path) -> None:
    again = _run(GOOD_SCRIPT.replace("Box(20, 20, 5)", "Box(20.0, 20.0, 5.0)"), sandbox_root)
    assert again.data == good_run.data


# --------------------------------------------------------------------------------------------
# Failures of the script
# --------------------------------------------------------------------------------------------


def test_syntax_error_names_the_line(sandbox_root: Path) -> None:
    script = "from build123d import *\n\ndef build(:\n    return Box(1, 1, 1)\n"
    started = time.monotonic()
    with pytest.raises(ScriptFailed) as info:
        _run(script, sandbox_root)
    assert "SyntaxError" in str(info.value) and "line 3" in str(info.value)
    assert info.value.kind == "failed"
    assert time.monotonic() - started < 10  # compiled before the build123d import


def test_exception_in_build_carries_the_traceback(sandbox_root: Path) -> None:
    script = "def helper():\n    raise ValueError('wall too thin')\n\ndef build():\n    return helper()\n"
    with pytest.raises(ScriptFailed) as info:
        _run(script, sandbox_root)
    message = str(info.value)
    assert "ValueError: wall too thin" in message and "line 2" in message
    assert 'File "script.py", line 5, in build' in info.value.output_tail


def test_a_multi_line_exception_is_one_headline_with_its_type_and_whole_message(sandbox_root: Path) -> None:
    script = "def build():\n    raise OSError('stat /root:\\nOK 16832')\n"
    with pytest.raises(ScriptFailed) as info:
        _run(script, sandbox_root)
    assert info.value.summary == "build() failed: OSError: stat /root: OK 16832 (script.py, line 2)"
    assert "\n" not in info.value.summary


def test_missing_build_fails(sandbox_root: Path) -> None:
    with pytest.raises(ScriptFailed, match=r"no build\(\) function"):
        _run("x = 1\n", sandbox_root)


def test_garbage_result_is_invalid(sandbox_root: Path) -> None:
    with pytest.raises(ScriptInvalidResult, match="str, not a build123d") as info:
        _run("def build():\n    return 'hello'\n", sandbox_root)
    assert info.value.kind == "invalid_result"


def test_segfault_is_a_crash(sandbox_root: Path) -> None:
    with pytest.raises(ScriptCrashed, match="SIGSEGV"):
        _run("import ctypes\n\ndef build():\n    ctypes.string_at(0)\n", sandbox_root)


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


def test_infinite_loop_times_out(sandbox_root: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptTimeout) as info:
        _run("def build():\n    while True:\n        pass\n", sandbox_root, wall_s=5, cpu_s=60)
    assert info.value.kind == "timeout"
    assert time.monotonic() - started < 5 + 3


def test_cpu_limit(sandbox_root: Path) -> None:
    script = "import time\n\ndef build():\n    while True:\n        pass\n"
    with pytest.raises(ScriptResourceLimit) as info:
        _run(script, sandbox_root, wall_s=30, cpu_s=4)
    assert info.value.resource == "cpu"


def test_memory_bomb_hits_the_limit(sandbox_root: Path) -> None:
    script = "def build():\n    hoard = []\n    while True:\n        hoard.append(bytearray(64 << 20))\n"
    with pytest.raises(ScriptResourceLimit) as info:
        _run(script, sandbox_root, memory_mb=1536)
    assert info.value.resource == "memory" and info.value.kind == "resource_limit"
    assert "MemoryError" in str(info.value)


def test_big_file_hits_the_file_size_limit(sandbox_root: Path) -> None:
    script = (
        "def build():\n"
        "    with open('big.bin', 'wb') as fh:\n"
        "        for _ in range(64):\n"
        "            fh.write(b'x' * (1 << 20))\n"
    )
    with pytest.raises(ScriptResourceLimit) as info:
        _run(script, sandbox_root, file_size_mb=4, writable_workdir=True)
    assert info.value.resource == "file_size"


@needs_landlock
def test_workdir_is_read_only_by_default(sandbox_root: Path) -> None:
    script = "def build():\n    open('scratch.txt', 'w')\n"
    with pytest.raises(ScriptFailed, match="PermissionError"):
        _run(script, sandbox_root)


def test_fork_bomb_fails_and_leaves_no_process(sandbox_root: Path) -> None:
    script = (
        "import os, subprocess, time\n\n"
        "def build():\n"
        "    for _ in range(200):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "    subprocess.Popen(['sleep', '60'])\n"
    )
    before = _descendants()
    with pytest.raises((ScriptFailed, ScriptInvalidResult)) as info:
        _run(script, sandbox_root)
    if LANDLOCK_ABI:  # the seccomp filter is in force: the very first fork is refused
        assert "Operation not permitted" in str(info.value)
    time.sleep(0.2)
    assert _descendants() <= before


def test_cancel_kills_the_child(sandbox_root: Path) -> None:
    before = _descendants()
    started = time.monotonic()
    with pytest.raises(SandboxCancelled):
        _run(LOOP_SCRIPT, sandbox_root, should_stop=lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 3
    assert _descendants() <= before


# --------------------------------------------------------------------------------------------
# Confinement: one probe run tries every escape and reports what it saw
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def probe(launcher: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("probe-root")
    project = Path(runtime.__file__).resolve().parent.parent
    tag = uuid.uuid4().hex[:8]
    targets = [
        str(project / f"sandbox-escape-{tag}.txt"),  # the project (and .env) directory
        str(Path.cwd() / f"sandbox-escape-cwd-{tag}.txt"),  # the parent's cwd
        str(root / f"sandbox-escape-{tag}.txt"),  # next to its own directory
        f"/tmp/sandbox-escape-{tag}.txt",
    ]
    script = PROBE_SCRIPT.format(targets=targets, project=str(project), mark=PROBE_MARK)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MECHBENCH_SANDBOX_TEST_SECRET", "hunter2")
        mp.setenv("MECHBENCH_S3_SECRET_KEY", "not-for-scripts")
        with pytest.raises(ScriptFailed) as info:
            _run(script, root)
    message = str(info.value)
    assert PROBE_MARK in message, message
    seen = json.loads(message.split(PROBE_MARK, 1)[1].splitlines()[0].rsplit(" (script.py", 1)[0])
    seen["targets"] = targets
    yield seen
    for target in targets:
        Path(target).unlink(missing_ok=True)


def test_script_sees_no_mechbench_environment(probe: dict) -> None:
    assert probe["mechbench_env"] == []
    assert set(probe["env_keys"]) <= {
        "PATH", "HOME", "TMPDIR", "XDG_CACHE_HOME", "LANG", "PYTHONPATH", "PYTHONHASHSEED", "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MALLOC_ARENA_MAX", "JOBLIB_MULTIPROCESSING",
        "KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK",  # set by the OpenMP runtime at import
    }  # fmt: skip


def test_parent_environ_is_unreadable(probe: dict) -> None:
    assert probe["secret_in_parent_environ"] is False
    if LANDLOCK_ABI:
        assert probe["parent_environ"].startswith("refused")


@needs_landlock
def test_writes_outside_are_refused(probe: dict) -> None:
    for target in probe["targets"]:
        assert probe["writes"][target].startswith("refused"), target
        assert not Path(target).exists(), target
    assert probe["read_dotenv_dir"].startswith("refused")


@needs_landlock
def test_no_signals_or_sockets(probe: dict) -> None:
    assert probe["kill_parent"].startswith("refused")
    assert probe["socket"].startswith("refused")
