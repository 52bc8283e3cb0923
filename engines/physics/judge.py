"""The runner's per-chunk judge of a scene and its motors: the terminal checks, in the order the runner's
module docstring (:mod:`engines.physics.runner`) gives as the outcome contract, and the motor controls and
overload timers. One ``Judge`` per scene, with every index and limit resolved once.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from engines.physics.extent import PayloadExtent
from engines.physics.mjcf import MM_TO_M, POSITION_SERVO_DAMPING_S, SceneCompileError, payload_body
from shared.cots import motor as cots_motor
from shared.models import BenchmarkDefinition, Box, JointType, MotorMode, Outcome

OVERLOAD_EFFORT_SHARE = 0.98
"""A motor giving at least this share of its ``max_effort`` is at its limit (a saturated servo gives exactly
its limit; 2 % allows for a torque motor set to just under it)."""
STALL_SPEED = {JointType.HINGE: math.radians(2.0), JointType.SLIDE: 2.0 * MM_TO_M}
"""A joint slower than this (rad/s, m/s: 2 deg/s or 2 mm/s) is stalled, for the overload check."""
_UNIT = {JointType.HINGE: math.radians(1.0), JointType.SLIDE: MM_TO_M}
"""Joint units of the contracts (deg, mm) in MuJoCo's (rad, m)."""
_EFFORT_UNIT = {JointType.HINGE: "N*m", JointType.SLIDE: "N"}


class Motors:
    """The scene's actuators, resolved once: their controls and their overload (stall) timers.

    Actuators are named after their part (see ``engines.physics.mjcf``); the part's spec in the
    definition gives the motor's mode and numbers."""

    def __init__(self, model: mujoco.MjModel, definition: BenchmarkDefinition, data: mujoco.MjData) -> None:
        specs = {p.label: p for p in definition.fixtures + definition.reference_solution}
        self.ctrl, self.force, self.qvel = data.ctrl, data.actuator_force, data.qvel
        self.bias, self.passive = data.qfrc_bias, data.qfrc_passive
        # per actuator: (mode, a, b, c, d) in MuJoCo units, see control()
        self.laws: list[tuple[MotorMode, float, float, float, float]] = []
        # per actuator: (label, dof address, force threshold, stall speed, stall_s, max_effort, effort unit)
        self.limits: list[tuple[str, int, float, float, float, float, str]] = []
        self.dofs: list[int] = []
        """Per actuator: the address of its joint's speed in ``qvel``."""
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
                item = cots_motor(motor.item)
                no_load = item.max_speed * unit if item is not None else 0.0  # 0: no speed limit
                law = (motor.mode, motor.effort, motor.period_s, motor.duty * motor.period_s, no_load)
            self.laws.append(law)
            dof = int(model.jnt_dofadr[int(model.actuator_trnid[i, 0])])
            self.dofs.append(dof)
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
        """Set every actuator's ``ctrl`` for time ``t`` (held until the next call).

        An ``on_off`` motor follows its item's torque-speed line while on, as a DC motor does: its effort
        falls linearly with the joint's speed in the effort's direction, to nothing at the item's
        ``max_speed`` (its no-load speed), and it never brakes; off, it gives nothing and the joint coasts.
        A motor without an item (stored before the catalogue) has no speed limit."""
        ctrl, qvel = self.ctrl, self.qvel
        for i, (mode, a, b, c, d) in enumerate(self.laws):
            if mode is MotorMode.CONSTANT_VELOCITY:
                ctrl[i] = a
            elif mode is MotorMode.SINUSOIDAL:
                phase = c * t + d
                ctrl[i] = a + b * math.sin(phase) + POSITION_SERVO_DAMPING_S * b * c * math.cos(phase)
            elif math.fmod(t, b) >= c:
                ctrl[i] = 0.0
            elif d > 0.0:
                speed = float(qvel[self.dofs[i]])
                along = speed if a >= 0.0 else -speed  # the joint's speed in the effort's direction
                ctrl[i] = a * min(1.0, max(0.0, 1.0 - along / d))
            else:
                ctrl[i] = a

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
                    # What gravity and motion ask of the joint (contacts and limits are reactions to it).
                    load = abs(float(self.bias[dof]) - float(self.passive[dof]))
                    detail = (
                        f"motor of part {label!r} stalled at {f:.3g} {unit} (max_effort {max_effort:g} {unit}) "
                        f"for {t - start:.3g} s >= stall_s {stall_s:g} s; gravity and motion load its joint with "
                        f"{load:.3g} {unit}, and contacts or limits held the rest: give it a motor with more "
                        "effort, move less mass, or keep its path clear"
                    )
                    return Outcome.MOTOR_OVERLOAD, detail
            else:
                since[i] = None
        return None


SETTLED_SPEED_M_S = 1e-3
"""Bodies slower than this (1 mm/s) count as at rest for ``settle_s``."""
FULL_STATE_CHECK_EVERY = 8
"""A NaN anywhere reaches a payload within a few steps; the whole-state scan need not run every check."""


class _Payload:
    """One payload's addresses, extent and goal, and whether it has reached its goal yet."""

    __slots__ = ("dof", "extent", "goal", "label", "min_goal_dist2", "name", "qpos", "reached")

    def __init__(
        self, model: mujoco.MjModel, definition: BenchmarkDefinition, index: int, many: bool
    ) -> None:
        payload = definition.payloads[index]
        joint = model.joint(payload_body(definition, index))
        self.qpos, self.dof = int(joint.qposadr[0]), int(joint.dofadr[0])
        self.extent = PayloadExtent(payload)
        self.goal = box_m(definition.goal_of(payload))
        self.label = payload.label
        self.name = f"payload {payload.label!r}" if many else "payload"
        self.min_goal_dist2 = math.inf
        self.reached = False


class Judge:
    """The per-chunk checks of one scene on one ``MjData``, with indices and limits resolved once.

    With several payloads each is checked as a single one is (the module docstring of
    :mod:`engines.physics.runner`), in the order of :attr:`BenchmarkDefinition.payloads`: a payload that
    reaches its goal is done (later checks skip it, except for instability), and the scene is
    ``goal_reached`` at the check where the last payload reaches its own; a forbidden zone or the bounds by any
    payload not yet done end it first."""

    def __init__(
        self,
        model: mujoco.MjModel,
        definition: BenchmarkDefinition,
        data: mujoco.MjData,
        settle_s: float | None = None,
    ) -> None:
        many = len(definition.payloads) > 1
        self.payloads = [_Payload(model, definition, i, many) for i in range(len(definition.payloads))]
        self.qpos, self.qvel = data.qpos, data.qvel  # views on MjData's buffers, valid as long as ``data``
        self.qpos_adr = self.payloads[0].qpos
        self.max_speed = definition.simulation.max_speed_m_s
        self.max_speed2 = self.max_speed**2
        payload_joints = {model.joint(payload_body(definition, i)).id for i in range(len(self.payloads))}
        free = [
            j
            for j in range(model.njnt)
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE and j not in payload_joints
        ]
        self.other_names = [model.joint(j).name for j in free]
        self.other_lin = (
            np.array([np.arange(3) + model.jnt_dofadr[j] for j in free], dtype=np.intp) if free else None
        )
        self.bounds = box_m(definition.simulation_bounds)
        self.forbidden = [(z.name, box_m(z)) for z in definition.forbidden_zones]
        self.max_payload_speed2 = 0.0
        self.checks = 0
        self.data = data
        self.motors = Motors(model, definition, data) if model.nu else None
        self.settle_s = settle_s if self.motors is None else None
        self.still_since: float | None = None
        self.duration_s = definition.simulation.duration_s

    @property
    def min_goal_dist2(self) -> float:
        """The largest of the payloads' closest approaches to their goals (0 for one that reached it)."""
        return max(0.0 if p.reached else p.min_goal_dist2 for p in self.payloads)

    def check(self, final: bool = False) -> tuple[Outcome, str] | None:
        """One check after a chunk of steps. The payloads are checked every time; the whole state (every
        body's position and velocity) every :data:`FULL_STATE_CHECK_EVERY` checks and on the final one."""
        qpos, qvel = self.qpos, self.qvel
        self.checks += 1
        states = []
        for p in self.payloads:
            x, y, z = qpos[p.qpos : p.qpos + 3].tolist()
            vx, vy, vz = qvel[p.dof : p.dof + 3].tolist()
            if not math.isfinite(x + y + z + vx + vy + vz):
                return Outcome.PHYSICS_INSTABILITY, "non-finite position or velocity"
            states.append((p, x, y, z, vx * vx + vy * vy + vz * vz))
        if (final or self.checks % FULL_STATE_CHECK_EVERY == 0) and not math.isfinite(
            qpos.dot(qpos) + qvel.dot(qvel)
        ):
            return Outcome.PHYSICS_INSTABILITY, "non-finite position or velocity"
        fastest2 = 0.0
        for p, _, _, _, speed2 in states:
            fastest2 = max(fastest2, speed2)
            self.max_payload_speed2 = max(self.max_payload_speed2, speed2)
            if speed2 > self.max_speed2:
                return (
                    Outcome.PHYSICS_INSTABILITY,
                    f"{p.name} at {math.sqrt(speed2):.3g} m/s > {self.max_speed:g} m/s",
                )
        if self.other_lin is not None:
            lin = qvel[self.other_lin]
            speeds2 = (lin * lin).sum(axis=1)
            fastest = int(speeds2.argmax())
            if speeds2[fastest] > self.max_speed2:
                speed = math.sqrt(speeds2[fastest])
                detail = f"body {self.other_names[fastest]!r} at {speed:.3g} m/s > {self.max_speed:g} m/s"
                return Outcome.PHYSICS_INSTABILITY, detail
        far2 = 0.0  # the farthest pending payload's distance to its goal, for the settle check
        pending = 0
        for p, x, y, z, _ in states:
            if p.reached:
                continue
            if self.forbidden:
                rx, ry, rz = p.extent(qpos[p.qpos + 3 : p.qpos + 7])
                for name, (x0, y0, z0, x1, y1, z1) in self.forbidden:
                    if (
                        x - rx < x1
                        and x0 < x + rx
                        and y - ry < y1
                        and y0 < y + ry
                        and z - rz < z1
                        and z0 < z + rz
                    ):
                        return Outcome.FORBIDDEN_ZONE, f"{p.name} touched forbidden zone {name!r}"
            x0, y0, z0, x1, y1, z1 = p.goal
            dx, dy, dz = max(x0 - x, 0.0, x - x1), max(y0 - y, 0.0, y - y1), max(z0 - z, 0.0, z - z1)
            dist2 = dx * dx + dy * dy + dz * dz
            p.min_goal_dist2 = min(p.min_goal_dist2, dist2)
            if dist2 == 0.0:
                p.reached = True
                continue
            x0, y0, z0, x1, y1, z1 = self.bounds
            if not (x0 <= x <= x1 and y0 <= y <= y1 and z0 <= z <= z1):
                return Outcome.OUT_OF_BOUNDS, f"{p.name} centre left the simulation bounds"
            pending += 1
            far2 = max(far2, dist2)
        if not pending:
            if len(self.payloads) == 1:
                return Outcome.GOAL_REACHED, "payload centre inside the goal zone"
            return Outcome.GOAL_REACHED, "every payload's centre reached its goal zone"
        if self.motors is not None:
            return self.motors.overload(self.data.time)
        if self.settle_s is not None:
            return self._settled(fastest2, far2)
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


def box_m(box: Box) -> tuple[float, float, float, float, float, float]:
    """``(x0, y0, z0, x1, y1, z1)`` in metres."""
    x0, y0, z0 = (v * MM_TO_M for v in box.min_mm)
    x1, y1, z1 = (v * MM_TO_M for v in box.max_mm)
    return x0, y0, z0, x1, y1, z1
