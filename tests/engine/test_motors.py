"""Joints and motors: the scene compiler's joint bodies and actuators, the runner's controls, the overload
outcome and full-state replays, each checked against closed-form motion where there is one."""

from __future__ import annotations

import math
import re

import mujoco
import numpy as np
import pytest

from engines.physics.collision_pack import Piece
from engines.physics.mjcf import (
    EVIDENCE_CAMERA,
    POSITION_SERVO_DAMPING_S,
    POSITION_SERVO_FULL_ERROR,
    SERVO_ARMATURE_STEPS,
    VELOCITY_SERVO_FULL_ERROR,
    compile_scene_xml,
)
from engines.physics.runner import (
    STALL_SPEED,
    SceneCompileError,
    build_model,
    replay_scene,
    run_scene,
    simulate,
)
from shared import cots
from shared.materials import props
from shared.models import (
    BenchmarkDefinition,
    JointSpec,
    JointType,
    MotorSpec,
    Outcome,
    SimulationMode,
)
from tests.engine.test_physics import FLOOR_PIECE, G, box_piece, definition, part, world_vertices

REFERENCE = SimulationMode.REFERENCE
LABEL = "drive"


def motor_scene(
    piece: Piece,
    joint: JointSpec | None,
    motor: MotorSpec | None = None,
    *,
    fixtures: dict[str, Piece] | None = None,
    material: str = "aluminum_6061",
    **sim: float,
) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """A floor (plus ``fixtures``), a ball resting on it far from the action (so scenes run to their
    timeout unless a motor overloads) and one reference part ``drive`` with ``joint`` and ``motor``."""
    d, collision = definition(
        {"floor": FLOOR_PIECE, **(fixtures or {})}, reference={LABEL: piece}, start=(-800, 0, 20), **sim
    )
    spec = part(LABEL, piece, role="reference", material=material).model_copy(
        update={"joint": joint, "motor": motor}
    )
    return d.model_copy(update={"reference_solution": [spec]}), collision


def joint_trace(
    d: BenchmarkDefinition, collision: dict[str, list[Piece]], every_s: float = 0.0
) -> tuple[Outcome, float, np.ndarray, np.ndarray]:
    """Outcome, end time, sample times and the ``drive`` joint's position (deg or mm) of scene 0."""
    model = build_model(d, collision, REFERENCE)
    result, t, qpos = replay_scene(model, d, 0, sample_every_s=every_s or d.simulation.timestep_s)
    joint = model.joint(LABEL)
    scale = 1000.0 if joint.type[0] == mujoco.mjtJoint.mjJNT_SLIDE else math.degrees(1.0)
    return result.outcome, result.time_s, t, qpos[:, int(joint.qposadr[0])] * scale


def hinge(**kw: object) -> JointSpec:
    return JointSpec.model_validate({"type": "hinge", **kw})


def slide(**kw: object) -> JointSpec:
    return JointSpec.model_validate({"type": "slide", **kw})


def motor(mode: str, max_effort: float, **kw: float) -> MotorSpec:
    return MotorSpec.model_validate({"mode": mode, "max_effort": max_effort, **kw})


ARM = box_piece((200, 20, 10), (100, 0, 300))
"""An arm along +x from a vertical hinge at (0, 0, 300), well above the floor."""
ARM_HINGE = hinge(axis=(0, 0, 1), anchor_mm=(0, 0, 300))
PLATE = box_piece((100, 100, 5), (0, 0, 100))
"""A 100 x 100 x 5 mm plate 100 mm above the floor, for vertical and horizontal slides."""


# --------------------------------------------------------------------------------------------
# Scene compiler
# --------------------------------------------------------------------------------------------


def test_joint_bodies_keep_the_world_pose_and_convert_units() -> None:
    arm = box_piece((200, 20, 10), (100, 50, 300), tilt_deg=15)
    joint = hinge(axis=(0, 0, 2), anchor_mm=(0, 50, 300), range=(-30, 45), damping=0.2)
    d, collision = motor_scene(arm, joint)
    model = build_model(d, collision, REFERENCE)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    np.testing.assert_allclose(model.body(LABEL).pos, [0, 0.05, 0.3], atol=1e-9)
    j = model.joint(LABEL)
    assert j.type[0] == mujoco.mjtJoint.mjJNT_HINGE and bool(j.limited[0])
    np.testing.assert_allclose(j.axis, [0, 0, 1], atol=1e-7)
    np.testing.assert_allclose(j.range, np.radians([-30, 45]), atol=1e-7)
    assert model.dof_damping[int(j.dofadr[0])] == pytest.approx(0.2)
    world = world_vertices(model, data, f"{LABEL}/0")
    np.testing.assert_allclose(world.min(axis=0), arm[0].min(axis=0) / 1000, atol=1e-6)
    np.testing.assert_allclose(world.max(axis=0), arm[0].max(axis=0) / 1000, atol=1e-6)
    aluminium = props("aluminum_6061").density_kg_m3
    assert model.body(LABEL).mass[0] == pytest.approx(aluminium * 0.2 * 0.02 * 0.01, rel=1e-4)
    assert model.nu == 0 and model.dof_armature[int(j.dofadr[0])] == 0

    # A slide sits at its bounding-box centre (an anchor is ignored); its range is in metres.
    d, collision = motor_scene(PLATE, slide(axis=(3, 0, 4), anchor_mm=(9, 9, 9), range=(-10, 25)))
    model = build_model(d, collision, REFERENCE)
    np.testing.assert_allclose(model.body(LABEL).pos, [0, 0, 0.1], atol=1e-9)
    j = model.joint(LABEL)
    assert j.type[0] == mujoco.mjtJoint.mjJNT_SLIDE
    np.testing.assert_allclose(j.axis, [0.6, 0, 0.8], atol=1e-7)
    np.testing.assert_allclose(j.range, [-0.01, 0.025], atol=1e-9)

    # A hinge without an anchor turns about its bounding-box centre; without a range it is unlimited.
    d, collision = motor_scene(ARM, hinge(axis=(1, 0, 0)))
    model = build_model(d, collision, REFERENCE)
    np.testing.assert_allclose(model.body(LABEL).pos, [0.1, 0, 0.3], atol=1e-9)
    assert not bool(model.joint(LABEL).limited[0])


@pytest.mark.parametrize("kind", [JointType.HINGE, JointType.SLIDE])
def test_motors_become_actuators_with_the_documented_gains(kind: JointType) -> None:
    piece, joint = (ARM, ARM_HINGE) if kind is JointType.HINGE else (PLATE, slide(axis=(0, 0, 1)))
    effort, dt = 3.0, 0.002
    cases = {
        "constant_velocity": motor("constant_velocity", effort, velocity=10),
        "sinusoidal": motor("sinusoidal", effort, amplitude=10, frequency_hz=1),
        "on_off": motor("on_off", effort, effort=1),
    }
    for mode, spec in cases.items():
        d, collision = motor_scene(piece, joint, spec, timestep_s=dt)
        xml = compile_scene_xml(d, collision, REFERENCE)
        model = build_model(d, collision, REFERENCE)
        assert model.nu == 1
        act = model.actuator(LABEL)
        assert act.trntype[0] == mujoco.mjtTrn.mjTRN_JOINT and int(act.trnid[0]) == model.joint(LABEL).id
        assert bool(act.forcelimited[0])
        np.testing.assert_allclose(act.forcerange, [-effort, effort])
        armature = model.dof_armature[int(model.joint(LABEL).dofadr[0])]
        if mode == "constant_velocity":
            kv = effort / VELOCITY_SERVO_FULL_ERROR[kind]
            assert "<velocity " in xml
            assert act.gainprm[0] == pytest.approx(kv) and act.biasprm[2] == pytest.approx(-kv)
            assert armature == pytest.approx(SERVO_ARMATURE_STEPS * dt * kv)
        elif mode == "sinusoidal":
            kp = effort / POSITION_SERVO_FULL_ERROR[kind]
            assert "<position " in xml
            assert act.gainprm[0] == pytest.approx(kp) and act.biasprm[1] == pytest.approx(-kp)
            assert act.biasprm[2] == pytest.approx(-kp * POSITION_SERVO_DAMPING_S)
            assert armature == pytest.approx((SERVO_ARMATURE_STEPS * dt) ** 2 * kp)
        else:
            assert "<motor " in xml
            assert act.gainprm[0] == 1 and act.gear[0] == 1 and bool(act.ctrllimited[0])
            np.testing.assert_allclose(act.ctrlrange, [-effort, effort])
            assert armature == 0
    # Full effort at a 2 deg / 2 mm position error and at a 20 deg/s / 20 mm/s speed error.
    unit = math.radians(1) if kind is JointType.HINGE else 1e-3
    assert POSITION_SERVO_FULL_ERROR[kind] == pytest.approx(2 * unit)
    assert VELOCITY_SERVO_FULL_ERROR[kind] == pytest.approx(20 * unit)


def test_modes_place_the_design_where_the_reference_goes() -> None:
    d, collision = motor_scene(ARM, ARM_HINGE, motor("constant_velocity", 1.0, velocity=30))
    design = compile_scene_xml(d, collision, SimulationMode.DESIGN)
    reference = compile_scene_xml(d, collision, REFERENCE)
    # the same scene, plus the evidence camera that only evaluations render from
    evidence_camera = [line for line in design.splitlines() if f'name="{EVIDENCE_CAMERA}"' in line]
    assert len(evidence_camera) == 1
    without_camera = "\n".join(line for line in design.splitlines() if line not in evidence_camera)
    assert without_camera.replace("-design", "-reference", 1) == reference
    baseline = build_model(d, collision, SimulationMode.BASELINE)
    assert baseline.nu == 0 and baseline.njnt == 1  # only the payload's free joint
    assert run_scene(baseline, d, 0).outcome is Outcome.TIMEOUT


@pytest.mark.parametrize(
    "joint, spec, message",
    [
        (None, motor("constant_velocity", 1.0, velocity=10), "has a motor but no joint"),
        (hinge(axis=(0, 0, 0)), None, "axis .* is zero"),
        (slide(axis=(1e-12, 0, 0)), None, "axis .* is zero"),
        (slide(axis=(0, 0, 1), range=(10, 10)), None, "low < high"),
        (hinge(axis=(0, 0, 1), range=(20, -5)), None, "low < high"),
        (slide(axis=(0, 0, 1)), motor("sinusoidal", 0.0, amplitude=5), "max_effort 0 must be > 0"),
        (slide(axis=(0, 0, 1)), motor("on_off", -2.0, effort=1), "max_effort -2 must be > 0"),
        (slide(axis=(0, 0, 1)), motor("constant_velocity", 1.0, stall_s=0), "stall_s 0 must be > 0"),
        (slide(axis=(0, 0, 1)), motor("on_off", 1.0, effort=1, period_s=0), "period_s 0 must be > 0"),
    ],
)
def test_invalid_joints_and_motors_are_scene_compile_errors(
    joint: JointSpec | None, spec: MotorSpec | None, message: str
) -> None:
    d, collision = motor_scene(PLATE, joint, spec)
    with pytest.raises(SceneCompileError, match=rf"part '{LABEL}'.*{message}"):
        compile_scene_xml(d, collision, REFERENCE)
    # Not in the baseline scene, so the baseline still compiles.
    compile_scene_xml(d, collision, SimulationMode.BASELINE)


# --------------------------------------------------------------------------------------------
# Motion against closed form
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("velocity_deg_s", [90.0, -240.0])
def test_hinge_with_constant_velocity_motor_turns_at_the_commanded_rate(velocity_deg_s: float) -> None:
    """A vertical-axis arm (no gravity load) with ample torque. It spins up at its full effort against the
    arm's and the motor's (armature) inertia J, alpha = max_effort / J, then holds the commanded rate, so
    angle(t) = v t - v^2 / (2 alpha). Rate within 0.2 % (measured < 0.01 %), angle at 1 s within 0.5 deg
    (measured 0.2 deg: the last 20 deg/s of the spin-up are slower than at full effort)."""
    effort = 1.0
    d, collision = motor_scene(
        ARM, ARM_HINGE, motor("constant_velocity", effort, velocity=velocity_deg_s), duration_s=1.0
    )
    outcome, _, t, angle = joint_trace(d, collision)
    assert outcome is Outcome.TIMEOUT
    late = t > 0.1
    rate = np.polyfit(t[late], angle[late], 1)[0]
    assert rate == pytest.approx(velocity_deg_s, rel=2e-3), f"rate {rate:.4f} deg/s, tolerance 0.2 %"

    model = build_model(d, collision, REFERENCE)
    dof = int(model.joint(LABEL).dofadr[0])
    arm_inertia = model.body(LABEL).mass[0] * (0.2**2 + 0.02**2) / 12 + model.body(LABEL).mass[0] * 0.1**2
    alpha = math.degrees(effort / (arm_inertia + model.dof_armature[dof]))
    expected = velocity_deg_s * t[-1] - math.copysign(velocity_deg_s**2 / (2 * alpha), velocity_deg_s)
    assert angle[-1] == pytest.approx(expected, abs=0.5), "angle at 1 s, tolerance 0.5 deg"


@pytest.mark.parametrize(
    "interval, tolerance_mm",
    [
        # Control every step: the servo's sag under the plate's weight (m g / kp = 0.05 mm) and its
        # discretisation; measured 0.10 mm.
        (1, 0.3),
        # Control held for 20 ms chunks: the target moves up to v_max * 20 ms = 5.0 mm within a chunk;
        # measured 2.8 mm.
        (10, 2 * math.pi * 40 * 0.02),
    ],
)
def test_sinusoidal_slide_follows_its_target(interval: int, tolerance_mm: float) -> None:
    """A vertical slide (gravity load) following 10 + 40 sin(2 pi t + 30 deg) mm relative to its placed
    pose, after the first 0.2 s (it starts 30 mm away from its first target)."""
    spec = motor("sinusoidal", 50.0, amplitude=40, offset=10, frequency_hz=1.0, phase_deg=30)
    d, collision = motor_scene(
        PLATE, slide(axis=(0, 0, 1)), spec, duration_s=2.0, check_interval_steps=interval
    )
    outcome, _, t, z = joint_trace(d, collision, every_s=1e-9)
    assert outcome is Outcome.TIMEOUT
    target = 10 + 40 * np.sin(2 * np.pi * t + math.radians(30))
    error = np.abs(z - target)[t > 0.2].max()
    assert error <= tolerance_mm, f"max tracking error {error:.3f} mm, tolerance {tolerance_mm:.2f} mm"


def test_hinge_targets_are_degrees_relative_to_the_placed_pose() -> None:
    """An arm placed tilted by 15 deg, held at offset 30 deg (amplitude 0): it turns 30 deg from where it
    was placed, within 0.05 deg."""
    arm = box_piece((200, 20, 10), (100, 0, 300), tilt_deg=15)
    spec = motor("sinusoidal", 2.0, offset=30.0, frequency_hz=1.0)
    d, collision = motor_scene(arm, ARM_HINGE, spec, duration_s=1.0)
    outcome, _, _, angle = joint_trace(d, collision)
    assert outcome is Outcome.TIMEOUT
    assert angle[-1] == pytest.approx(30.0, abs=0.05), f"{angle[-1]:.4f} deg, tolerance 0.05 deg"


def test_on_off_motor_pushes_during_its_duty_share() -> None:
    """A floating horizontal slide (no gravity along it, no friction): the speed grows by effort / m while
    the motor is on and stays put while it is off. Control is evaluated at each chunk's start (every step
    here), so the on-time is counted over the steps' start times; final speed within 1e-6 (relative;
    measured 2e-14: no contact, nothing but the motor acts along the slide)."""
    effort, period, duty, dt = 2.0, 0.2, 0.25, 0.002
    spec = motor("on_off", 5.0, effort=effort, period_s=period, duty=duty)
    d, collision = motor_scene(
        PLATE, slide(axis=(1, 0, 0)), spec, duration_s=0.91, check_interval_steps=1, timestep_s=dt
    )
    model = build_model(d, collision, REFERENCE)
    _, _, t, x = joint_trace(d, collision)
    starts = t[:-1]
    on_time = dt * np.count_nonzero(np.fmod(starts, period) < duty * period)
    mass = float(model.body(LABEL).mass[0])
    speed = (x[-1] - x[-2]) / 1000 / (t[-1] - t[-2])  # the last steps are in an off phase
    assert np.fmod(t[-2], period) >= duty * period, "the last step is in an off phase"
    assert speed == pytest.approx(effort * on_time / mass, rel=1e-6), (speed, effort * on_time / mass)
    assert on_time == pytest.approx(5 * duty * period, abs=5 * dt)


@pytest.mark.parametrize("effort", [1.0, -0.6])
def test_on_off_motor_follows_its_items_torque_speed_line(effort: float) -> None:
    """An arm on a vertical hinge (gravity does not act about it), driven by the DC gearmotor: with the
    effort falling linearly to nothing at the item's no-load speed w0, ``I dw/dt = T (1 - w / w0)``, so
    ``w(t) = w0 (1 - exp(-t T / (I w0)))``. Checked every step against that curve (within 1 % of w0), and
    the speed never passes w0, whichever way the motor turns. Without an item (a motor stored before the
    catalogue) the same arm spins far past it."""
    item = cots.motor("dc_gear_37d_30to1")
    assert item is not None
    w0 = item.max_speed  # deg/s
    dc = motor("on_off", item.max_effort, effort=effort, duty=1.0).model_copy(
        update={"item": "dc_gear_37d_30to1"}
    )
    d, collision = motor_scene(ARM, ARM_HINGE, dc, duration_s=0.6, check_interval_steps=1)
    model = build_model(d, collision, REFERENCE)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, full)
    dof = int(model.joint(LABEL).dofadr[0])
    inertia = float(full[dof, dof])  # about the hinge, kg m^2 (rotor inertia included)
    _, _, t, angle = joint_trace(d, collision)
    speed = np.diff(angle) / np.diff(t)  # deg/s, over each step
    sign = 1.0 if effort > 0 else -1.0
    tau = inertia * math.radians(w0) / abs(effort)
    expected = sign * w0 * (1.0 - np.exp(-t[1:] / tau))
    assert np.abs(speed - expected).max() < 0.01 * w0, np.abs(speed - expected).max()
    assert (sign * speed).max() <= w0 * 1.001

    # The default check interval (controls held 10 steps) still keeps it at its no-load speed.
    d10, _ = motor_scene(ARM, ARM_HINGE, dc, duration_s=0.6)
    _, _, t10, angle10 = joint_trace(d10, collision)
    speed10 = sign * np.diff(angle10) / np.diff(t10)  # over each 10-step chunk
    late = speed10[t10[1:] > 0.4]
    assert speed10.max() <= 1.001 * w0 and late.min() >= 0.97 * w0, (speed10.max(), late.min())

    unlimited = dc.model_copy(update={"item": None})
    d0, _ = motor_scene(ARM, ARM_HINGE, unlimited, duration_s=0.6, check_interval_steps=1)
    _, _, t0, angle0 = joint_trace(d0, collision)
    assert sign * (angle0[-1] - angle0[-2]) / (t0[-1] - t0[-2]) > 3 * w0


# --------------------------------------------------------------------------------------------
# Overload
# --------------------------------------------------------------------------------------------

PLATE_MASS_KG = props("aluminum_6061").density_kg_m3 * 0.1 * 0.1 * 0.005
BLOCK = box_piece((40, 40, 40), (180, 100, 300))
"""A fixed block in the way of the arm: touched when the arm has turned about 20 deg (counter-clockwise)."""


def _overload_cases() -> dict[str, tuple[BenchmarkDefinition, dict[str, list[Piece]]]]:
    """name -> (definition, collision): each motor ends up stalled at its full effort."""
    stall = 0.5
    return {
        # A velocity servo drives a horizontal slide 20 mm into its hard stop at 50 mm/s (stops at 0.48 s).
        "velocity servo at a hard stop": motor_scene(
            PLATE,
            slide(axis=(1, 0, 0), range=(-5, 20)),
            motor("constant_velocity", 2.0, velocity=50, stall_s=stall),
        ),
        # A velocity servo too weak to lift its plate (half its weight) sinks onto its lower stop (0.2 s).
        "velocity servo too weak for its load": motor_scene(
            PLATE,
            slide(axis=(0, 0, 1), range=(-10, 100)),
            motor("constant_velocity", 0.5 * PLATE_MASS_KG * G, velocity=30, stall_s=stall),
        ),
        # A position servo swinging the arm through 90 deg runs into a fixed block (0.18 s).
        "position servo blocked by a part": motor_scene(
            ARM,
            ARM_HINGE,
            motor("sinusoidal", 1.0, amplitude=90, frequency_hz=0.25, stall_s=stall),
            fixtures={"block": BLOCK},
        ),
        # A torque motor at its full effort, always on, against a hard stop 10 mm away (0.18 s).
        "torque motor at a hard stop": motor_scene(
            PLATE,
            slide(axis=(1, 0, 0), range=(-5, 10)),
            motor("on_off", 1.0, effort=1.0, duty=1.0, stall_s=stall),
        ),
    }


@pytest.mark.parametrize("case", list(_overload_cases()))
def test_blocked_or_weak_motor_overloads_after_stall_s(case: str) -> None:
    """The scene ends with motor_overload stall_s (0.5 s) after the joint stopped for good (its speed, from
    the replayed positions, below the stall speed from then on), within one timestep early (the replay's
    speed is a difference over one step) and two check intervals (40 ms) late: the stall timer starts at
    the first check that sees the stall and the overload is seen at the first check after stall_s
    (measured 0-20 ms late)."""
    d, collision = _overload_cases()[case]
    stall_s = d.reference_solution[0].motor.stall_s  # type: ignore[union-attr]
    sim = d.simulation
    result = run_scene(build_model(d, collision, REFERENCE), d, 0)
    assert result.outcome is Outcome.MOTOR_OVERLOAD, result.detail
    assert f"part '{LABEL}'" in result.detail and "stalled" in result.detail

    outcome, end, t, q = joint_trace(d, collision)
    assert outcome is Outcome.MOTOR_OVERLOAD and end == result.time_s
    speed = np.abs(np.diff(q) / np.diff(t))  # deg/s or mm/s
    stopped = t[np.nonzero(speed >= 2.0)[0][-1] + 1]
    assert 0.1 < stopped < 0.5, f"stopped at {stopped:.3f} s"
    late = end - stopped - stall_s
    chunk_s = sim.check_interval_steps * sim.timestep_s
    assert -sim.timestep_s - 1e-9 <= late <= 2 * chunk_s + 1e-9, (
        f"overload {late * 1000:.1f} ms after stall_s"
    )


@pytest.mark.parametrize(
    "case, joint, spec, fixtures",
    [
        ("velocity servo with ample torque", ARM_HINGE, motor("constant_velocity", 1.0, velocity=120), None),
        (
            "position servo lifting its plate",
            slide(axis=(0, 0, 1)),
            motor("sinusoidal", 10 * PLATE_MASS_KG * G, amplitude=50, frequency_hz=0.5, stall_s=0.2),
            None,
        ),
        (
            "torque motor below 98 % of its limit at a hard stop",
            slide(axis=(1, 0, 0), range=(-5, 10)),
            motor("on_off", 1.0, effort=0.95, duty=1.0, stall_s=0.2),
            None,
        ),
        (
            "velocity servo held at a slow commanded speed (force = kv * 10 deg/s = max_effort / 2)",
            ARM_HINGE,
            motor("constant_velocity", 1.0, velocity=10, stall_s=0.2),
            {"block": BLOCK},
        ),
        (
            "torque motor stalled 0.5 s at a time, stall_s 0.6 s",
            slide(axis=(1, 0, 0), range=(-5, 5)),
            motor("on_off", 1.0, effort=1.0, period_s=1.0, duty=0.7, stall_s=0.6),
            None,
        ),
    ],
)
def test_motor_within_its_limits_never_overloads(
    case: str, joint: JointSpec, spec: MotorSpec, fixtures: dict[str, Piece] | None
) -> None:
    piece = ARM if joint.type is JointType.HINGE else PLATE
    d, collision = motor_scene(piece, joint, spec, fixtures=fixtures, duration_s=3.0)
    result = run_scene(build_model(d, collision, REFERENCE), d, 0)
    assert result.outcome is Outcome.TIMEOUT, (case, result.detail)


def test_stall_speed_is_two_degrees_or_millimetres_per_second() -> None:
    assert STALL_SPEED[JointType.HINGE] == pytest.approx(math.radians(2.0))
    assert STALL_SPEED[JointType.SLIDE] == pytest.approx(0.002)


# --------------------------------------------------------------------------------------------
# Replay and determinism
# --------------------------------------------------------------------------------------------


def _lift_like_scene() -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """A ball dropped onto a plate that a position servo lifts and lowers, jittered per scene."""
    spec = motor("sinusoidal", 20.0, amplitude=60, offset=60, frequency_hz=0.5, phase_deg=-90)
    d, collision = motor_scene(PLATE, slide(axis=(0, 0, 1)), spec, duration_s=1.5)
    payload = d.payload.model_copy(update={"start_mm": (0.0, 0.0, 140.0), "jitter_mm": (5.0, 5.0, 2.0)})
    return d.model_copy(update={"payload": payload}), collision


def test_replay_scene_equals_run_scene_and_samples_the_whole_state() -> None:
    d, collision = _lift_like_scene()
    model = build_model(d, collision, REFERENCE)
    for index in range(3):
        result, t, qpos = replay_scene(model, d, index, sample_every_s=0.05)
        assert result == run_scene(model, d, index)
        assert qpos.shape == (len(t), model.nq) and t[0] == 0.0 and t[-1] == pytest.approx(result.time_s)
        steps = np.round(t / d.simulation.timestep_s)
        np.testing.assert_allclose(t, steps * d.simulation.timestep_s, atol=1e-9)
        assert np.all(steps[1:-1] % d.simulation.check_interval_steps == 0), "samples at chunk boundaries"
        chunk_s = d.simulation.check_interval_steps * d.simulation.timestep_s
        grid = np.arange(1, len(t) - 1) * 0.05  # the k-th sample: the first chunk end at or after k * 0.05 s
        assert np.all(grid - 1e-9 <= t[1:-1]) and np.all(t[1:-1] < grid + chunk_s - 1e-9)
        payload = int(model.joint("payload").qposadr[0])
        np.testing.assert_allclose(qpos[-1, payload : payload + 3] * 1000, result.final_payload_mm, atol=1e-9)
    # The ball rides the plate up: it is lifted ~120 mm, so the controls ran.
    lifted = qpos[:, int(model.joint(LABEL).qposadr[0])].max() * 1000
    assert lifted == pytest.approx(120, abs=2)
    with pytest.raises(ValueError, match="sample_every_s"):
        replay_scene(model, d, 0, sample_every_s=0.0)


def test_motor_scenes_are_deterministic_across_threads_and_reuse() -> None:
    d, collision = _lift_like_scene()
    one = simulate(d, collision, REFERENCE, 4, threads=1)
    two = simulate(d, collision, REFERENCE, 4, threads=2)
    assert one.results == two.results
    model = build_model(d, collision, REFERENCE)
    data = mujoco.MjData(model)
    mujoco.mj_step(model, data, nstep=77)
    data.ctrl[:] = 123.0  # leftovers of an earlier scene
    assert run_scene(model, d, 1, data=data) == one.results[1]


def test_an_overload_says_the_load_on_the_joint_beside_the_effort_it_had() -> None:
    """A servo with half the effort its plate's weight needs: the detail gives the weight as the load."""
    d, collision = _overload_cases()["velocity servo too weak for its load"]
    result = run_scene(build_model(d, collision, REFERENCE), d, 0)
    assert result.outcome is Outcome.MOTOR_OVERLOAD
    load = re.search(r"load its joint with ([0-9.e+-]+) N\b", result.detail)
    assert load is not None, result.detail
    assert float(load[1]) == pytest.approx(PLATE_MASS_KG * G, rel=0.02)
    assert "max_effort" in result.detail and "more effort" in result.detail
