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

If none held after the last step, the outcome is ``timeout``; the last step counts toward the goal, so a
goal reached in the final chunk is a goal. Checks read the state once per chunk (``qpos``/``qvel``, which
after ``mj_step`` describe the new state, unlike ``xpos``) and compare Python floats: a few comparisons
cost less than one numpy call on these tiny arrays, and nothing iterates over contacts.

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
from typing import Literal, overload

import mujoco
import numpy as np

from engines.physics.collision_pack import Piece
from engines.physics.extent import PayloadExtent
from engines.physics.mjcf import (
    MM_TO_M,
    PAYLOAD_BODY,
    POSITION_SERVO_DAMPING_S,
    SceneCompileError,
    compile_scene_xml,
)
from shared.models import (
    BenchmarkDefinition,
    Box,
    JointType,
    MotorMode,
    Outcome,
    SceneResult,
    SimulationMode,
    SimulationReport,
)

__all__ = [
    "SceneCompileError",
    "build_model",
    "compile_model",
    "install_process_hooks",
    "replay_scene",
    "run_scene",
    "scene_jitter",
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
    """Payload spawn offset (mm) of scene ``scene_index``: uniform in ``±jitter_mm`` per axis, seeded."""
    rng = np.random.default_rng([definition.simulation.jitter_seed, scene_index])
    jitter = np.asarray(definition.payload.jitter_mm, dtype=np.float64)
    x, y, z = (rng.uniform(-1.0, 1.0, size=3) * jitter).tolist()
    return x, y, z


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

FULL_STATE_CHECK_EVERY = 8
"""A NaN anywhere reaches the payload within a few steps; the whole-state scan need not run every check."""

OVERLOAD_EFFORT_SHARE = 0.98
"""A motor giving at least this share of its ``max_effort`` is at its limit (a saturated servo gives exactly
its limit; 2 % allows for a torque motor set to just under it)."""
STALL_SPEED = {JointType.HINGE: math.radians(2.0), JointType.SLIDE: 2.0 * MM_TO_M}
"""A joint slower than this (rad/s, m/s: 2 deg/s or 2 mm/s) is stalled, for the overload check."""
_UNIT = {JointType.HINGE: math.radians(1.0), JointType.SLIDE: MM_TO_M}
"""Joint units of the contracts (deg, mm) in MuJoCo's (rad, m)."""
_EFFORT_UNIT = {JointType.HINGE: "N*m", JointType.SLIDE: "N"}


class _Motors:
    """The scene's actuators, resolved once: their controls and their overload (stall) timers.

    Actuators are named after their part (see ``engines.physics.mjcf``); the part's spec in the
    definition gives the motor's mode and numbers."""

    def __init__(self, model: mujoco.MjModel, definition: BenchmarkDefinition, data: mujoco.MjData) -> None:
        specs = {p.label: p for p in definition.fixtures + definition.reference_solution}
        self.ctrl, self.force, self.qvel = data.ctrl, data.actuator_force, data.qvel
        # per actuator: (mode, a, b, c, d) in MuJoCo units, see control()
        self.laws: list[tuple[MotorMode, float, float, float, float]] = []
        # per actuator: (label, dof address, force threshold, stall speed, stall_s, max_effort, effort unit)
        self.limits: list[tuple[str, int, float, float, float, float, str]] = []
        for i in range(model.nu):
            label = model.actuator(i).name
            spec = specs.get(label)
            if spec is None or spec.motor is None or spec.joint is None:
                raise SceneCompileError(f"actuator {label!r} has no motor and joint in the definition")
            motor, kind = spec.motor, spec.joint.type
            unit = _UNIT[kind]
            if motor.mode is MotorMode.CONSTANT_VELOCITY:
                law = (motor.mode, motor.velocity * unit, 0.0, 0.0, 0.0)
            elif motor.mode is MotorMode.SINUSOIDAL:
                omega = 2.0 * math.pi * motor.frequency_hz
                law = (
                    motor.mode,
                    motor.offset * unit,
                    motor.amplitude * unit,
                    omega,
                    math.radians(motor.phase_deg),
                )
            else:
                law = (motor.mode, motor.effort, motor.period_s, motor.duty * motor.period_s, 0.0)
            self.laws.append(law)
            dof = int(model.jnt_dofadr[int(model.actuator_trnid[i, 0])])
            self.limits.append(
                (
                    label,
                    dof,
                    OVERLOAD_EFFORT_SHARE * motor.max_effort,
                    STALL_SPEED[kind],
                    motor.stall_s,
                    motor.max_effort,
                    _EFFORT_UNIT[kind],
                )
            )
        self.stalled_since: list[float | None] = [None] * model.nu

    def control(self, t: float) -> None:
        """Set every actuator's ``ctrl`` for time ``t`` (held until the next call)."""
        ctrl = self.ctrl
        for i, (mode, a, b, c, d) in enumerate(self.laws):
            if mode is MotorMode.CONSTANT_VELOCITY:
                ctrl[i] = a
            elif mode is MotorMode.SINUSOIDAL:
                phase = c * t + d
                ctrl[i] = a + b * math.sin(phase) + POSITION_SERVO_DAMPING_S * b * c * math.cos(phase)
            else:
                ctrl[i] = a if math.fmod(t, b) < c else 0.0

    def overload(self, t: float) -> tuple[Outcome, str] | None:
        """``motor_overload`` once a motor has been at its limit and stalled for its ``stall_s``."""
        force, qvel, since = self.force, self.qvel, self.stalled_since
        for i, (label, dof, threshold, stall_speed, stall_s, max_effort, unit) in enumerate(self.limits):
            f = abs(float(force[i]))
            if f >= threshold and abs(float(qvel[dof])) < stall_speed:
                start = since[i]
                if start is None:
                    since[i] = t
                elif t - start >= stall_s:
                    detail = (
                        f"motor of part {label!r} stalled at {f:.3g} {unit} (max_effort {max_effort:g} {unit}) "
                        f"for {t - start:.3g} s >= stall_s {stall_s:g} s"
                    )
                    return Outcome.MOTOR_OVERLOAD, detail
            else:
                since[i] = None
        return None


SETTLED_SPEED_M_S = 1e-3
"""Bodies slower than this (1 mm/s) count as at rest for ``settle_s``."""


class _Judge:
    """The per-chunk checks of one scene on one ``MjData``, with indices and limits resolved once."""

    def __init__(
        self,
        model: mujoco.MjModel,
        definition: BenchmarkDefinition,
        data: mujoco.MjData,
        settle_s: float | None = None,
    ) -> None:
        joint = model.joint(PAYLOAD_BODY)
        self.qpos, self.qvel = data.qpos, data.qvel  # views on MjData's buffers, valid as long as ``data``
        self.qpos_adr = int(joint.qposadr[0])
        self.dof_adr = int(joint.dofadr[0])
        self.extent = PayloadExtent(definition.payload)
        self.max_speed = definition.simulation.max_speed_m_s
        self.max_speed2 = self.max_speed**2
        free = [
            j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE and j != joint.id
        ]
        self.other_names = [model.joint(j).name for j in free]
        self.other_lin = (
            np.array([np.arange(3) + model.jnt_dofadr[j] for j in free], dtype=np.intp) if free else None
        )
        self.goal = _box_m(definition.goal_zone)
        self.bounds = _box_m(definition.simulation_bounds)
        self.forbidden = [(z.name, _box_m(z)) for z in definition.forbidden_zones]
        self.max_payload_speed2 = 0.0
        self.min_goal_dist2 = math.inf
        self.checks = 0
        self.data = data
        self.motors = _Motors(model, definition, data) if model.nu else None
        self.settle_s = settle_s if self.motors is None else None
        self.still_since: float | None = None
        self.duration_s = definition.simulation.duration_s

    def check(self, final: bool = False) -> tuple[Outcome, str] | None:
        """One check after a chunk of steps. The payload is checked every time; the whole state (every
        body's position and velocity) every :data:`FULL_STATE_CHECK_EVERY` checks and on the final one."""
        qpos, qvel = self.qpos, self.qvel
        x, y, z = qpos[self.qpos_adr : self.qpos_adr + 3].tolist()
        vx, vy, vz = qvel[self.dof_adr : self.dof_adr + 3].tolist()
        self.checks += 1
        if not math.isfinite(x + y + z + vx + vy + vz) or (
            (final or self.checks % FULL_STATE_CHECK_EVERY == 0)
            and not math.isfinite(qpos.dot(qpos) + qvel.dot(qvel))
        ):
            return Outcome.PHYSICS_INSTABILITY, "non-finite position or velocity"
        speed2 = vx * vx + vy * vy + vz * vz
        self.max_payload_speed2 = max(self.max_payload_speed2, speed2)
        if speed2 > self.max_speed2:
            return (
                Outcome.PHYSICS_INSTABILITY,
                f"payload at {math.sqrt(speed2):.3g} m/s > {self.max_speed:g} m/s",
            )
        if self.other_lin is not None:
            lin = qvel[self.other_lin]
            speeds2 = (lin * lin).sum(axis=1)
            fastest = int(speeds2.argmax())
            if speeds2[fastest] > self.max_speed2:
                speed = math.sqrt(speeds2[fastest])
                detail = f"body {self.other_names[fastest]!r} at {speed:.3g} m/s > {self.max_speed:g} m/s"
                return Outcome.PHYSICS_INSTABILITY, detail
        if self.forbidden:
            rx, ry, rz = self.extent(self.qpos[self.qpos_adr + 3 : self.qpos_adr + 7])
        for name, (x0, y0, z0, x1, y1, z1) in self.forbidden:
            if x - rx < x1 and x0 < x + rx and y - ry < y1 and y0 < y + ry and z - rz < z1 and z0 < z + rz:
                return Outcome.FORBIDDEN_ZONE, f"payload touched forbidden zone {name!r}"
        x0, y0, z0, x1, y1, z1 = self.goal
        dx, dy, dz = max(x0 - x, 0.0, x - x1), max(y0 - y, 0.0, y - y1), max(z0 - z, 0.0, z - z1)
        dist2 = dx * dx + dy * dy + dz * dz
        self.min_goal_dist2 = min(self.min_goal_dist2, dist2)
        if dist2 == 0.0:
            return Outcome.GOAL_REACHED, "payload centre inside the goal zone"
        x0, y0, z0, x1, y1, z1 = self.bounds
        if not (x0 <= x <= x1 and y0 <= y <= y1 and z0 <= z <= z1):
            return Outcome.OUT_OF_BOUNDS, "payload centre left the simulation bounds"
        if self.motors is not None:
            return self.motors.overload(self.data.time)
        if self.settle_s is not None:
            return self._settled(speed2, dist2)
        return None

    def _settled(self, speed2: float, goal_dist2: float) -> tuple[Outcome, str] | None:
        limit2 = SETTLED_SPEED_M_S**2
        still = speed2 < limit2
        if still and self.other_lin is not None:
            lin = self.qvel[self.other_lin]
            still = float((lin * lin).sum(axis=1).max()) < limit2
        t = self.data.time
        reach = SETTLED_SPEED_M_S * (self.duration_s - t)  # how far a creeping payload still gets
        if not still:
            self.still_since = None
        elif self.still_since is None:
            self.still_since = t
        elif t - self.still_since >= self.settle_s and goal_dist2 > reach * reach:  # type: ignore[operator]
            return (
                Outcome.TIMEOUT,
                f"settled outside the goal at {t:.3g} s (nothing moves faster than 1 mm/s)",
            )
        return None


def _box_m(box: Box) -> tuple[float, float, float, float, float, float]:
    """``(x0, y0, z0, x1, y1, z1)`` in metres."""
    x0, y0, z0 = (v * MM_TO_M for v in box.min_mm)
    x1, y1, z1 = (v * MM_TO_M for v in box.max_mm)
    return x0, y0, z0, x1, y1, z1


@overload
def run_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    trajectory: Literal[False] = ...,
    data: mujoco.MjData | None = ...,
    settle_s: float | None = ...,
) -> SceneResult: ...


@overload
def run_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    trajectory: Literal[True],
    data: mujoco.MjData | None = ...,
    settle_s: float | None = ...,
) -> tuple[SceneResult, np.ndarray]: ...


def run_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    trajectory: bool = False,
    data: mujoco.MjData | None = None,
    settle_s: float | None = None,
) -> SceneResult | tuple[SceneResult, np.ndarray]:
    """Run one jittered scene to its terminal outcome.

    With ``trajectory=True`` also returns the payload state at t=0 and after every check, an ``(K, 8)``
    array of ``[t_s, x_mm, y_mm, z_mm, qw, qx, qy, qz]``. ``data`` is an ``MjData`` of ``model`` to reuse
    (it is reset first; allocating one costs ~0.5 ms, resetting ~4 us); a fresh one is made when omitted.
    ``settle_s`` ends a settled scene early (see the module's docstring).
    """
    if data is None:
        data = mujoco.MjData(model)
    if not trajectory:
        return _run(model, definition, scene_index, data, None, settle_s=settle_s)
    adr = int(model.joint(PAYLOAD_BODY).qposadr[0])
    samples: list[list[float]] = []

    def sample(final: bool) -> None:
        samples.append([data.time, *data.qpos[adr : adr + 7].tolist()])

    result = _run(model, definition, scene_index, data, sample, settle_s=settle_s)
    states = np.array(samples, dtype=np.float64)
    states[:, 1:4] *= _M_TO_MM
    return result, states


def replay_scene(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    sample_every_s: float = 1 / 30,
) -> tuple[SceneResult, np.ndarray, np.ndarray]:
    """Run scene ``scene_index`` exactly as :func:`run_scene` does (same jitter, controls and checks, so the
    same result) and record the whole state, e.g. to render evidence.

    Returns the result, the sample times ``t_s`` (K,) and ``qpos`` (K, ``model.nq``) in MuJoCo's units
    (metres, radians, unit quaternions; set ``data.qpos`` and call ``mj_forward`` to pose the scene). Samples
    are taken at t=0, at the first chunk boundary at or after every multiple of ``sample_every_s``, and at
    the terminal event (or the last step)."""
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

    result = _run(model, definition, scene_index, data, sample)
    return result, np.array(times, dtype=np.float64), np.array(states, dtype=np.float64).reshape(-1, model.nq)


def _run(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    scene_index: int,
    data: mujoco.MjData,
    observe: Callable[[bool], None] | None,
    tally: list[int] | None = None,
    settle_s: float | None = None,
) -> SceneResult:
    """The scene loop. ``observe(final)`` runs at t=0 and after every chunk; ``final`` on the last one.
    ``tally[scene_index]`` holds the steps run so far (one list store per chunk; read by another thread)."""
    jitter = scene_jitter(definition, scene_index)
    mujoco.mj_resetData(model, data)
    judge = _Judge(model, definition, data, settle_s)
    motors = judge.motors
    adr = judge.qpos_adr
    data.qpos[adr : adr + 3] += np.asarray(jitter) * MM_TO_M

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
        verdict = judge.check(final=steps >= total)
        if observe is not None:
            observe(verdict is not None or steps >= total)
    outcome, detail = verdict or (Outcome.TIMEOUT, f"no terminal event in {data.time:.4g} s ({steps} steps)")

    final = data.qpos[adr : adr + 3] * _M_TO_MM
    return SceneResult(
        scene_index=scene_index,
        jitter_mm=jitter,
        outcome=outcome,
        time_s=data.time,
        steps=steps,
        final_payload_mm=tuple(final.tolist()) if np.isfinite(final).all() else None,
        max_payload_speed_m_s=math.sqrt(judge.max_payload_speed2),
        min_goal_distance_mm=math.sqrt(judge.min_goal_dist2) * _M_TO_MM
        if math.isfinite(judge.min_goal_dist2)
        else None,
        detail=detail,
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
) -> SimulationReport:
    """Compile the scene once and run scenes ``0..n_scenes-1`` on ``threads`` threads.

    ``skip`` holds results of scenes already finished (e.g. by an earlier attempt); they are reused, not
    re-run. ``on_scene_done`` is called from the calling thread as each newly run scene finishes, and
    ``on_steps(steps)`` every ``steps_every_s`` while the count of steps run (by finished and running scenes)
    grows: a long scene shows that it advances before it finishes, and a scene thread that stops stepping
    stops the reports.
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
        return _run(model, definition, scene_index, per_thread.data, None, tally)

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
) -> bytes:
    """Payload trajectory of one scene as ``.npz`` bytes, for storing next to the report.

    Arrays: ``t_s`` (K,), ``payload_mm`` (K, 3), ``payload_quat`` (K, 4, wxyz), ``outcome`` (0-d str).
    Scenes are deterministic, so this replays exactly what :func:`simulate` ran for that scene.
    """
    model = build_model(definition, collision, mode)
    result, states = run_scene(model, definition, scene_index, trajectory=True)
    buf = io.BytesIO()
    np.savez(
        buf,
        t_s=states[:, 0],
        payload_mm=states[:, 1:4],
        payload_quat=states[:, 4:8],
        outcome=np.array(result.outcome.value),
    )
    return buf.getvalue()
