"""The sandbox zygote: what a child forked from it inherits, and how the zygote behaves as a server.

``test_sandbox.py`` runs every limit and escape case through the zygote as well as fresh; these cases are
about the zygote itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import confine
from runtime.sandbox import ScriptCrashed, ScriptFailed, run_script
from runtime.sandbox_zygote import Zygote

REQUIRE = confine.landlock_abi() > 0
GOOD_SCRIPT = "from build123d import Box\n\ndef build():\n    return Box(10, 20, 30)\n"
MARK = "INHERITED:"
INHERITANCE_SCRIPT = """
import json, os

def build():
    fds = []
    for fd in range(1024):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    raise RuntimeError({mark!r} + json.dumps({{"fds": fds, "env": dict(os.environ)}}))
"""


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    z = Zygote(tmp_path_factory.mktemp("zygote"))
    try:
        z.wait_ready()
        yield z
    finally:
        z.close()


def _seen(zygote: str | None, root: Path) -> dict:
    with pytest.raises(ScriptFailed) as info:
        run_script(
            INHERITANCE_SCRIPT.format(mark=MARK), zygote=zygote, tmp_root=root, require_confinement=REQUIRE
        )
    return json.loads(str(info.value).split(MARK, 1)[1].splitlines()[0].rsplit(" (script.py", 1)[0])


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def _gone(pid: int) -> bool:
    """Exited (a zombie waiting for whoever reaps orphans counts: it runs nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def _wait_until(condition, bound_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_child_inherits_the_same_descriptors_and_environment_as_a_fresh_one(
    zygote: Zygote, tmp_path: Path
) -> None:
    forked, fresh = _seen(zygote.address, tmp_path), _seen(None, tmp_path)
    assert forked["fds"] == fresh["fds"]
    assert set(forked["env"]) == set(fresh["env"])
    for name in ("HOME", "TMPDIR", "XDG_CACHE_HOME"):  # its own directory, not the zygote's
        assert forked["env"][name].startswith(str(tmp_path)), (name, forked["env"][name])
    assert not any(k.upper().startswith("MECHBENCH") for k in forked["env"])


def test_the_zygote_holds_no_setting_or_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MECHBENCH_S3_SECRET_KEY", "not-for-scripts")
    z = Zygote(tmp_path)
    try:
        environ = Path(f"/proc/{z.pid}/environ").read_bytes()
        assert b"MECHBENCH" not in environ and b"not-for-scripts" not in environ
    finally:
        z.close()


def test_same_script_same_bytes_as_a_fresh_interpreter(zygote: Zygote, tmp_path: Path) -> None:
    forked = run_script(GOOD_SCRIPT, zygote=zygote.address, tmp_root=tmp_path, require_confinement=REQUIRE)
    fresh = run_script(GOOD_SCRIPT, tmp_root=tmp_path, require_confinement=REQUIRE)
    assert forked.data == fresh.data
    assert forked.confinement == fresh.confinement
    assert forked.cpu_s < fresh.cpu_s  # no interpreter start, no build123d import


def test_what_a_script_changes_does_not_reach_the_next_run(zygote: Zygote, tmp_path: Path) -> None:
    taint = (
        "import build123d, sys\n\n"
        "def build():\n"
        "    build123d.TAINTED = True\n"
        "    sys.modules['tainted_by_a_script'] = build123d\n"
        "    return build123d.Box(1, 1, 1)\n"
    )
    check = (
        "import build123d, sys\n\n"
        "def build():\n"
        "    assert not hasattr(build123d, 'TAINTED') and 'tainted_by_a_script' not in sys.modules\n"
        "    return build123d.Box(1, 1, 1)\n"
    )
    run_script(taint, zygote=zygote.address, tmp_root=tmp_path, require_confinement=REQUIRE)
    run_script(check, zygote=zygote.address, tmp_root=tmp_path, require_confinement=REQUIRE)


def test_a_crashing_script_leaves_the_zygote_serving(zygote: Zygote, tmp_path: Path) -> None:
    with pytest.raises(ScriptCrashed, match="SIGSEGV"):
        run_script(
            "import ctypes\n\ndef build():\n    ctypes.string_at(0)\n",
            zygote=zygote.address,
            tmp_root=tmp_path,
            require_confinement=REQUIRE,
        )
    assert zygote.alive()
    assert run_script(GOOD_SCRIPT, zygote=zygote.address, tmp_root=tmp_path, require_confinement=REQUIRE).data
    assert _wait_until(lambda: not _children(zygote.pid), 10)


def test_a_caller_that_dies_takes_its_script_with_it(zygote: Zygote, tmp_path: Path) -> None:
    """The zygote is the script's parent, so ``PR_SET_PDEATHSIG`` cannot tie it to the caller: the zygote
    kills the script when the caller's connection closes."""
    caller = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys; from runtime.sandbox import run_script; "
                "run_script('def build():\\n    while True:\\n        pass\\n', zygote=sys.argv[1], "
                f"tmp_root=sys.argv[2], require_confinement={REQUIRE})"
            ),
            zygote.address,
            str(tmp_path),
        ],
        cwd=Path(__file__).parents[2],
    )
    try:
        assert _wait_until(lambda: bool(_children(zygote.pid)), 60), "the script never started"
        os.kill(caller.pid, signal.SIGKILL)
        caller.wait()
        assert _wait_until(lambda: not _children(zygote.pid), 10), "the zygote kept the orphaned script"
    finally:
        caller.kill()
        caller.wait()
    assert zygote.alive()


def test_an_unreachable_zygote_means_a_fresh_interpreter(tmp_path: Path) -> None:
    result = run_script(
        GOOD_SCRIPT, zygote=str(tmp_path / "nobody.sock"), tmp_root=tmp_path, require_confinement=REQUIRE
    )
    assert result.data.startswith(b"ISO-10303-21;")


def test_the_zygote_dies_with_its_owner(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from runtime.sandbox_zygote import Zygote; "
                "z = Zygote(Path(sys.argv[1])); z.wait_ready(); print(z.pid, flush=True); time.sleep(600)"
            ),
            str(tmp_path),
        ],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
    )
    try:
        assert owner.stdout is not None
        pid = int(owner.stdout.readline())
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait()
        assert _wait_until(lambda: _gone(pid), 10), "the zygote outlived its owner"
    finally:
        owner.kill()
        owner.wait()
