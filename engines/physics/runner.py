"""Scene runner: compile a benchmark scene once, run jittered scenes in threads, judge each one.

Every scene ends with exactly one terminal outcome. After each chunk of ``check_interval_steps`` steps
(``mj_step(model, data, nstep=k)``; the last chunk is shorter so a scene runs exactly
``round(duration_s / timestep_s)`` steps) the checks run in this order, and the first that holds wins:

1. ``physics_instability``: a non-finite value in ``qpos``/``qvel``, or a free body whose linear speed
   exceeds ``max_speed_m_s``;
2. ``forbidden_zone``: the payload's world AABB (``engines.physics.extent``) overlaps a forbidden box's interior;
3. ``goal_reached``: the payload centre lies inside the goal box (boundary included);
4. ``out_of_bounds``: the payload centre lies outside the simulation bounds;
5. ``motor_overload``: a motor has given at least ``OVERLOAD_EFFORT_SHARE`` (98 %) of its ``max_effort``
   while its joint moved slower than ``STALL_SPEED`` (2 deg/s or 2 mm/s) at every check for at least its
   ``stall_s`` of simulated time. The stall is timed from the first check that sees it (at most one chunk
   after it began) and reported at the first check at least ``stall_s`` later: never before ``stall_s`` of
   stall, at most two chunks after. The detail names the part.

A caller may also end a scene early as ``timeout`` once it has settled (``settle_s``, used by the random-design
proof, see :data:`SETTLED_SPEED_M_S`): no motor in the scene, the payload and every free body slower than that
speed at every check for ``settle_s`` of simulated time, and the payload farther from the goal than that speed
carries it in the time left (so a creeping ball cannot creep in later). Assumed: a scene without motors, at
rest for ``settle_s``, stays at rest.

With several payloads (``BenchmarkDefinition.payloads``: a sorter's) each is checked as above, in order, and
a payload that has reached its goal is done (only the instability check still sees it): the scene is
``goal_reached`` at the check where the last payload reaches its own goal (``Payload.goal_zone``, else the
benchmark's), whatever the order they arrive in; any payload not yet done that touches a forbidden zone or
leaves the bounds ends it first. Details then name the payload. The checks live in
:mod:`engines.physics.judge`.

If none held after the last step, the outcome is ``timeout``; the last step counts toward the goal, so a
goal reached in the final chunk is a goal. Checks read the state once per chunk (``qpos``/``qvel``, which
after ``mj_step`` describe the new state, unlike ``xpos``) and compare Python floats: a few comparisons
cost less than one numpy call on these tiny arrays, and nothing iterates over contacts except, in a structural
benchmark, the load recorder (only the contacts on the parts it checks; :mod:`engines.physics.loads`).

Motor control (scenes with actuators only; see ``engines.physics.mjcf`` for the actuators and gains):
before each chunk every actuator's ``ctrl`` is set for the chunk's start time ``t`` and held for the whole
chunk, so control is piecewise constant per chunk of ``check_interval_steps``. A benchmark whose motions
are fast relative to its chunk chooses a smaller ``check_interval_steps``. In joint coordinates relative to
the placed pose (``qpos = 0`` as placed), degrees and millimetres converted to radians and metres:

- ``constant_velocity``: ``velocity``;
- ``sinusoidal``: ``offset + amplitude * sin(2 pi frequency_hz t + phase)``, plus the target's speed times
  ``POSITION_SERVO_DAMPING_S`` (the servo's ``kv / kp``, so the servo acts on the speed error too);
- ``on_off``: ``effort`` while ``(t mod period_s) < duty * period_s``, else 0.

The actuators are resolved once per scene; a scene without motors runs no control code at all. Every scene
is a pure function of (model, definition, scene index): the controls depend on simulated time only.

Over 400 lines because the motor control, the terminal checks and the stepping loop are one hot loop whose
order is the outcome contract above; in one module that order can be read, and timed, in one place.
"""

from __future__ import annotations

import io
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Literal, overload

import mujoco
import numpy as np

from engines.physics.collision_pack import Piece
from engines.physics.judge import (
    FULL_STATE_CHECK_EVERY,
    OVERLOAD_EFFORT_SHARE,
    SETTLED_SPEED_M_S,
    STALL_SPEED,
    Judge,
    Motors,
)
from engines.physics.loads import LoadCase, LoadRecorder
from engines.physics.mjcf import (
    MM_TO_M,
    PAYLOAD_BODY,
    SceneCompileError,
    compile_scene_xml,
)
from shared.models import (
    BenchmarkDefinition,
    Outcome,
    PartStress,
    SceneResult,
    SimulationMode,
    SimulationReport,
)

if TYPE_CHECKING:  # the structural engine is imported only where a benchmark has a structure
    from engines.physics.structure_check import SceneStructure

__all__ = [
    "FULL_STATE_CHECK_EVERY",
    "OVERLOAD_EFFORT_SHARE",
    "SETTLED_SPEED_M_S",
    "STALL_SPEED",
    "SceneCompileError",
    "breakage_detail",
    "build_model",
    "compile_model",
    "install_process_hooks",
    "replay_scene",
    "run_scene",
    "scene_jitter",
    "scene_jitters",
    "simulate",
    "total_steps",
    "trajectory_npz",
]

_M_TO_MM = 1e3
_log = logging.getLogger(__name__)


_hooks_lock = threading.Lock()
_hooks_installed = False


def install_process_hooks() -> None:
    """Install MuJoCo's process-wide hooks, once: its warnings go to logging instead of stdout and
    ``MUJOCO_LOG.TXT`` in the working directory (an unstable scene is reported through its outcome anyway).

    Runs when this module is imported, so on the importing thread and before any scene thread exists: the first
    ``mujoco.set_mju_user_warning`` call of a process initialises MuJoCo's callback module, and two first calls
    on two threads can deadlock each other inside it (they did, in a job's scene thread pool). The lock makes
    a concurrent call wait for the first one instead of racing it; later calls do nothing."""
    global _hooks_installed
    with _hooks_lock:
        if _hooks_installed:
            return
        mujoco.set_mju_user_warning(lambda message: _log.warning("mujoco: %s", message))
        _hooks_installed = True


install_process_hooks()


def scene_jitter(definition: BenchmarkDefinition, scene_index: int) -> tuple[float, float, float]:
    """The (first) payload's spawn offset (mm) of scene ``scene_index``: uniform in ``±jitter_mm`` per axis,
    seeded."""
    return scene_jitters(definition, scene_index)[0]


def scene_jitters(definition: BenchmarkDefinition, scene_index: int) -> list[tuple[float, float, float]]:
    """Every payload's spawn offset (mm) of scene ``scene_index``, in order: three uniform draws in
    ``±1`` per payload from one generator seeded by ``(jitter_seed, scene_index)``, times its ``jitter_mm``
    (so the first payload's offset is what it was before extra payloads existed)."""
    rng = np.random.default_rng([definition.simulation.jitter_seed, scene_index])
    out = []
    for payload in definition.payloads:
        x, y, z = (rng.uniform(-1.0, 1.0, size=3) * np.asarray(payload.jitter_mm, dtype=np.float64)).tolist()
        out.append((x, y, z))
    return out


def total_steps(definition: BenchmarkDefinition) -> int:
    """Steps of one scene: ``round(duration_s / timestep_s)``, at least one."""
    sim = definition.simulation
    return max(1, round(sim.duration_s / sim.timestep_s))


def compile_model(xml: str) -> mujoco.MjModel:
    """Compile MJCF text; MuJoCo's error becomes a :class:`SceneCompileError`."""
    try:
        return mujoco.MjModel.from_xml_string(xml)
    except ValueError as exc:
        raise SceneCompileError(f"MuJoCo could not compile the scene: {exc}") from exc


def build_model(
    definition: BenchmarkDefinition, collision: dict[str, list[Piece]], mode: SimulationMode
) -> mujoco.MjModel:
    return compile_model(compile_scene_xml(definition, collision, mode))


STEPS_EVERY_S = 5.0
"""How often :func:`simulate` reports the steps run so far (``on_steps``) while scenes are running."""


@overload
def run_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    trajectory: Literal[False] = ...,
    data: mujoco.MjData | None = ...,
    settle_s: float | None = ...,
    structure: SceneStructure | None = ...,
) -> SceneResult: ...


@overload
def run_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    trajectory: Literal[True],
    data: mujoco.MjData | None = ...,
    settle_s: float | None = ...,
    structure: SceneStructure | None = ...,
) -> tuple[SceneResult, np.ndarray]: ...


def run_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    trajectory: bool = False,
    data: mujoco.MjData | None = None,
    settle_s: float | None = None,
    structure: SceneStructure | None = None,
) -> SceneResult | tuple[SceneResult, np.ndarray]:
    """Run one jittered scene to its terminal outcome.

    With ``trajectory=True`` also returns the payload state at t=0 and after every check, an ``(K, 8)``
    array of ``[t_s, x_mm, y_mm, z_mm, qw, qx, qy, qz]``. ``data`` is an ``MjData`` of ``model`` to reuse
    (it is reset first; allocating one costs ~0.5 ms, resetting ~4 us); a fresh one is made when omitted.
    ``settle_s`` ends a settled scene early (see the module's docstring); ``structure`` checks its parts
    (:mod:`engines.physics.structure_check`).
    """
    if data is None:
        data = mujoco.MjData(model)
    if not trajectory:
        return _run(model, definition, scene_index, data, None, settle_s=settle_s, structure=structure)
    adr = int(model.joint(PAYLOAD_BODY).qposadr[0])
    samples: list[list[float]] = []

    def sample(final: bool) -> None:
        samples.append([data.time, *data.qpos[adr : adr + 7].tolist()])

    result = _run(model, definition, scene_index, data, sample, settle_s=settle_s, structure=structure)
    states = np.array(samples, dtype=np.float64)
    states[:, 1:4] *= _M_TO_MM
    return result, states


def replay_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    sample_every_s: float = 1 / 30,
    structure: SceneStructure | None = None,
    on_loads: Callable[[dict[str, LoadCase]], None] | None = None,
) -> tuple[SceneResult, np.ndarray, np.ndarray]:
    """Run scene ``scene_index`` exactly as :func:`run_scene` does (same jitter, controls and checks, so the
    same result) and record the whole state, e.g. to render evidence.

    Returns the result, the sample times ``t_s`` (K,) and ``qpos`` (K, ``model.nq``) in MuJoCo's units
    (metres, radians, unit quaternions; set ``data.qpos`` and call ``mj_forward`` to pose the scene). Samples
    are taken at t=0, at the first chunk boundary at or after every multiple of ``sample_every_s``, and at
    the terminal event (or the last step). ``structure`` and ``on_loads``: as :func:`_run` takes them (the
    evidence's stress map is drawn from the load cases)."""
    if not (math.isfinite(sample_every_s) and sample_every_s > 0):
        raise ValueError(f"sample_every_s must be a positive number, got {sample_every_s!r}")
    data = mujoco.MjData(model)
    times: list[float] = []
    states: list[np.ndarray] = []
    next_t = 0.0
    eps = 1e-9

    def sample(final: bool) -> None:
        nonlocal next_t
        t = data.time
        if final or t + eps >= next_t:
            times.append(t)
            states.append(data.qpos.copy())
            next_t = (math.floor((t + eps) / sample_every_s) + 1) * sample_every_s

    result = _run(model, definition, scene_index, data, sample, structure=structure, on_loads=on_loads)
    return result, np.array(times, dtype=np.float64), np.array(states, dtype=np.float64).reshape(-1, model.nq)


def _run(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    data: mujoco.MjData,
    observe: Callable[[bool], None] | None,
    tally: list[int] | None = None,
    settle_s: float | None = None,
    structure: SceneStructure | None = None,
    on_loads: Callable[[dict[str, LoadCase]], None] | None = None,
) -> SceneResult:
    """The scene loop. ``observe(final)`` runs at t=0 and after every chunk; ``final`` on the last one.
    ``tally[scene_index]`` holds the steps run so far (one list store per chunk; read by another thread).
    With ``structure`` the loads on its parts are recorded; a scene that reached its goal runs on for the
    structure's ``hold_s`` (loads only), each loaded part is checked in its most critical load case
    (:meth:`~engines.physics.structure_check.SceneStructure.worst`), and a part that breaks makes the
    outcome ``breakage``; ``on_loads`` receives each checked part's critical case."""
    jitter = scene_jitter(definition, scene_index)
    mujoco.mj_resetData(model, data)
    judge = Judge(model, definition, data, settle_s)
    motors = judge.motors
    adr = judge.qpos_adr
    for p, offset in zip(judge.payloads, scene_jitters(definition, scene_index), strict=True):
        data.qpos[p.qpos : p.qpos + 3] += np.asarray(offset) * MM_TO_M

    loads = LoadRecorder(model, structure.labels) if structure is not None else None
    if observe is not None:
        observe(False)
    total, chunk = total_steps(definition), definition.simulation.check_interval_steps
    steps, verdict = 0, None
    while verdict is None and steps < total:
        n = min(chunk, total - steps)
        if motors is not None:
            motors.control(data.time)
        mujoco.mj_step(model, data, nstep=n)
        steps += n
        if tally is not None:
            tally[scene_index] = steps
        if loads is not None:
            loads.sample(data)
        verdict = judge.check(final=steps >= total)
        if observe is not None:
            observe(verdict is not None or steps >= total)
    outcome, detail = verdict or (Outcome.TIMEOUT, f"no terminal event in {data.time:.4g} s ({steps} steps)")
    time_s = data.time
    final = data.qpos[adr : adr + 3] * _M_TO_MM
    stresses: list[PartStress] = []
    if structure is not None and loads is not None and outcome is Outcome.GOAL_REACHED:
        # A scene that failed fails anyway; one that reached its goal must also have held its payload.
        _hold(model, definition, data, motors, loads, structure.spec.hold_s)
        worst = {label: structure.worst(label, cases) for label, cases in sorted(loads.cases.items())}
        stresses = [stress for stress, _ in worst.values()]
        if on_loads is not None:
            on_loads({label: case for label, (_, case) in worst.items()})
        broken = [s for s in stresses if s.broke]
        if broken:
            outcome, detail = Outcome.BREAKAGE, breakage_detail(broken[0])

    return SceneResult(
        scene_index=scene_index,
        jitter_mm=jitter,
        outcome=outcome,
        time_s=time_s,
        steps=steps,
        final_payload_mm=tuple(final.tolist()) if np.isfinite(final).all() else None,
        max_payload_speed_m_s=math.sqrt(judge.max_payload_speed2),
        min_goal_distance_mm=math.sqrt(judge.min_goal_dist2) * _M_TO_MM
        if math.isfinite(judge.min_goal_dist2)
        else None,
        detail=detail,
        structure=stresses,
    )


def _hold(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    data: mujoco.MjData,
    motors: Motors | None,
    loads: LoadRecorder,
    hold_s: float,
) -> None:
    """Run on ``hold_s`` past the goal, recording loads only: the structure carrying its payload at rest."""
    chunk = definition.simulation.check_interval_steps
    left = round(hold_s / definition.simulation.timestep_s)
    while left > 0:
        n = min(chunk, left)
        if motors is not None:
            motors.control(data.time)
        mujoco.mj_step(model, data, nstep=n)
        left -= n
        if not (np.isfinite(data.qpos).all() and np.isfinite(data.qvel).all()):
            return
        loads.sample(data)


def breakage_detail(stress: PartStress) -> str:
    """What a ``breakage`` outcome says: the part, its stress or sag against the limit, and where."""
    if stress.unheld:
        return f"part {stress.label} is not held: {stress.unheld}"
    where = ", ".join(f"{c:.0f}" for c in stress.location_mm)
    limit = stress.max_displacement_limit_mm
    if stress.peak_von_mises_mpa > stress.allowable_mpa:
        return (
            f"part {stress.label} breaks: peak von Mises stress {stress.peak_von_mises_mpa:.3g} MPa exceeds its "
            f"allowable {stress.allowable_mpa:.3g} MPa at ({where}) mm under {stress.load_n:.3g} N "
            f"at t={stress.load_time_s:.2f} s"
        )
    return (
        f"part {stress.label} sags {stress.max_displacement_mm:.3g} mm, more than the {limit:.3g} mm allowed, "
        f"under {stress.load_n:.3g} N at t={stress.load_time_s:.2f} s"
    )


def simulate(
    definition: BenchmarkDefinition,
    collision: dict[str, list[Piece]],
    mode: SimulationMode,
    n_scenes: int,
    threads: int = 2,
    skip: dict[int, SceneResult] | None = None,
    on_scene_done: Callable[[SceneResult], None] | None = None,
    on_steps: Callable[[int], None] | None = None,
    steps_every_s: float = STEPS_EVERY_S,
    structure: SceneStructure | None = None,
) -> SimulationReport:
    """Compile the scene once and run scenes ``0..n_scenes-1`` on ``threads`` threads.

    ``skip`` holds results of scenes already finished (e.g. by an earlier attempt); they are reused, not
    re-run. ``on_scene_done`` is called from the calling thread as each newly run scene finishes, and
    ``on_steps(steps)`` every ``steps_every_s`` while the count of steps run (by finished and running scenes)
    grows: a long scene shows that it advances before it finishes, and a scene thread that stops stepping
    stops the reports. ``structure`` checks the parts of every scene (a broken part: ``breakage``).
    """
    if n_scenes < 1:
        raise ValueError("n_scenes must be >= 1")
    if threads < 1:
        raise ValueError("threads must be >= 1")
    skip = skip or {}
    for index, result in skip.items():
        if result.scene_index != index:
            raise ValueError(f"skip[{index}] holds the result of scene {result.scene_index}")
    compile_started = time.perf_counter()
    model = build_model(definition, collision, mode)
    compile_s = time.perf_counter() - compile_started
    results = {i: r for i, r in skip.items() if i < n_scenes}
    todo = [i for i in range(n_scenes) if i not in results]

    per_thread = threading.local()
    tally = [0] * n_scenes

    def run(scene_index: int) -> SceneResult:
        if not hasattr(per_thread, "data"):
            per_thread.data = mujoco.MjData(model)
        return _run(model, definition, scene_index, per_thread.data, None, tally, structure=structure)

    started = time.perf_counter()
    stepped = 0
    if todo:
        with ThreadPoolExecutor(max_workers=min(threads, len(todo)), thread_name_prefix="mujoco") as pool:
            futures = [pool.submit(run, i) for i in todo]
            pending = set(futures)
            reported, next_report = 0, time.monotonic() + steps_every_s
            try:
                while pending:
                    timeout = max(0.0, next_report - time.monotonic()) if on_steps is not None else None
                    finished, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                    for future in finished:
                        result = future.result()
                        results[result.scene_index] = result
                        stepped += result.steps
                        if on_scene_done is not None:
                            on_scene_done(result)
                    if on_steps is not None and time.monotonic() >= next_report:
                        next_report = time.monotonic() + steps_every_s
                        now = sum(tally)
                        if now > reported:
                            reported = now
                            on_steps(now)
            finally:
                for future in futures:
                    future.cancel()
    elapsed = time.perf_counter() - started

    ordered = [results[i] for i in range(n_scenes)]
    counts = Counter(r.outcome for r in ordered)
    return SimulationReport(
        mode=mode,
        results=ordered,
        success_share=counts[Outcome.GOAL_REACHED] / n_scenes,
        outcome_counts={o.value: counts[o] for o in Outcome if counts[o]},
        steps_per_s=stepped / elapsed if stepped and elapsed > 0 else 0.0,
        compile_s=round(compile_s, 4),
        simulate_s=round(elapsed, 4),
    )


def trajectory_npz(
    definition: BenchmarkDefinition,
    collision: dict[str, list[Piece]],
    mode: SimulationMode,
    scene_index: int = 0,
    structure: SceneStructure | None = None,
) -> bytes:
    """Payload trajectory of one scene as ``.npz`` bytes, for storing next to the report.

    Arrays: ``t_s`` (K,), ``payload_mm`` (K, 3), ``payload_quat`` (K, 4, wxyz), ``outcome`` (0-d str).
    Scenes are deterministic, so this replays exactly what :func:`simulate` ran for that scene.
    """
    model = build_model(definition, collision, mode)
    result, states = run_scene(model, definition, scene_index, trajectory=True, structure=structure)
    buf = io.BytesIO()
    np.savez(
        buf,
        t_s=states[:, 0],
        payload_mm=states[:, 1:4],
        payload_quat=states[:, 4:8],
        outcome=np.array(result.outcome.value),
    )
    return buf.getvalue()
