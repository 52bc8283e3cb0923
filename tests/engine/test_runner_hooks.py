"""MuJoCo's process-wide hooks are installed once, on the importing thread, never from a scene thread.

The first ``mujoco.set_mju_user_warning`` call of a process initialises MuJoCo's callback module; two first
calls on two threads can deadlock each other inside it (seen in a job whose scene thread pool installed the
hook from each scene: the job stayed at ``done: 0/8`` with its heartbeat beating). Each check runs in fresh
processes (the hazard exists only until the first call) with a timeout, so a hang fails instead of hanging.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SPY = """
import json, threading
import mujoco

calls = []
real = mujoco.set_mju_user_warning

def spy(handler):
    calls.append(threading.current_thread().name)
    real(handler)

mujoco.set_mju_user_warning = spy
from engines.physics import runner
at_import = list(calls)
from tests.engine.test_physics import BASELINE, FLOOR_PIECE, definition
d, collision = definition({"floor": FLOOR_PIECE}, start=(0, 0, 20), duration_s=0.5)
runner.simulate(d, collision, BASELINE, 4, threads=2)
print(json.dumps({"at_import": at_import, "all": calls}))
"""

RACE = """
import sys, threading
sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race needs it
import mujoco
from engines.physics import runner
from tests.engine.test_physics import BASELINE, FLOOR_PIECE, definition
d, collision = definition({"floor": FLOOR_PIECE}, start=(0, 0, 20), duration_s=0.05)
model = runner.build_model(d, collision, BASELINE)
start = threading.Barrier(8)

def scene(i):
    start.wait()
    runner.run_scene(model, d, i)

threads = [threading.Thread(target=scene, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
"""


def _python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_the_warning_hook_is_installed_once_at_import_on_the_importing_thread() -> None:
    proc = _python(SPY)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    calls = json.loads(out.strip().splitlines()[-1])
    assert calls == {"at_import": ["MainThread"], "all": ["MainThread"]}, calls


@pytest.mark.timeout(900)
def test_eight_scene_threads_starting_at_once_never_deadlock() -> None:
    """Twelve fresh processes, eight scene threads each started together under a tiny GIL switch interval.
    When each scene installed the hook, about one process in six hung here. A batch takes about 2.5 s on a
    quiet machine; a deadlock never ends, so the generous deadline only costs time when the test fails."""
    hung, failed = 0, []
    for _batch in range(3):
        procs = [_python(RACE) for _ in range(4)]
        try:
            deadline = time.monotonic() + 180
            for proc in procs:
                try:
                    out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    hung += 1
                    continue
                if proc.returncode != 0 or out.strip() != "ok":
                    failed.append(err[-2000:])
        finally:  # a hung process (or this test interrupted) leaves nothing running
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
    assert not failed, failed[0]
    assert hung == 0, f"{hung} of 12 processes deadlocked"
