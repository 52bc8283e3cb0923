"""The ``launch`` family on the engines alone (no Temporal): the ballistics the reference is computed from, the
measured throw against them, the three levels solved by the reference and not by the baseline, and why a
motor (and the right throw) is needed."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from build123d import Shape

from engines.cad.assembly import assembly_findings
from engines.cad.build import build_benchmark
from engines.cad.families.base import GRAVITY_M_S2
from engines.cad.families.launch import ARM_SPEED_DEG_S, release_radius_mm, trajectory_z
from engines.cad.validate import validate_geometry
from engines.physics.collision_pack import Piece, unpack
from engines.physics.runner import build_model, run_scene, simulate
from shared import families
from shared.models import BenchmarkDefinition, JointType, MotorMode, Outcome, SimulationMode

SEEDS = (0, 1, 2)
"""One seed of each level (level = 1 + seed % 3)."""
THROW_TOLERANCE = 0.05
"""The measured throw against the formula: release speed and landing point within 5 %."""
ANGLE_TOLERANCE_DEG = 1.5


@cache
def built(seed: int) -> tuple[BenchmarkDefinition, dict[str, list[Piece]], dict[str, Shape]]:
    definition, blobs, shapes = build_benchmark(
        "launch", seed, families.GENERATOR_VERSION, f"launch-s{seed}-v1"
    )
    collision = unpack(next(b for b in blobs if b.key.endswith("/collision.npz")).data)
    return definition, collision, shapes


def test_trajectory_is_the_range_formula_and_the_release_radius_hits_its_target() -> None:
    # Equal heights: the ball comes back to its start height at R = v^2 sin(2 theta) / g.
    for v, deg in ((1.0, 45.0), (1.4, 20.0), (0.8, 60.0)):
        theta = math.radians(deg)
        reach_mm = v * v * math.sin(2 * theta) / GRAVITY_M_S2 * 1e3
        assert trajectory_z(10.0 + reach_mm, (10.0, 200.0), v, theta) == pytest.approx(200.0, abs=1e-9)
    # The arm radius found for a target: released on the arm's circle at omega R, the ball passes through it.
    omega = math.radians(ARM_SPEED_DEG_S)
    for x, z, deg in ((150.0, 0.0, 20.0), (250.0, -30.0, 14.0), (120.0, 20.0, 30.0)):
        theta = math.radians(deg)
        radius = release_radius_mm(x, z, theta, omega)
        start = (-radius * math.sin(theta), radius * math.cos(theta))
        assert trajectory_z(x, start, omega * radius * 1e-3, theta) == pytest.approx(z, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_measured_throw_matches_the_ballistic_prediction(seed: int) -> None:
    """Release speed and angle, free flight and landing of the reference's throw against the closed form."""
    definition, collision, _ = built(seed)
    p = definition.params
    hub, arm = definition.reference_solution  # the servo drives the hub; the arm is fastened to it
    assert hub.motor is not None and arm.joint is not None and arm.joint.parent == "hub"
    stop_s = 1 / (4 * hub.motor.frequency_hz)  # the servo's target passes the stop, at its top speed
    model = build_model(definition, collision, SimulationMode.REFERENCE)
    result, states = run_scene(model, definition, 0, trajectory=True)
    assert result.outcome is Outcome.GOAL_REACHED, result.detail
    t, x, z = states[:, 0], states[:, 1], states[:, 3]

    # Free flight from just after the stop to the bin's rim: a parabola under g.
    flight = t > stop_s + 0.02
    cx, cz = np.polyfit(t[flight], x[flight], 1), np.polyfit(t[flight], z[flight], 2)
    assert -2 * cz[0] * 1e-3 == pytest.approx(GRAVITY_M_S2, rel=0.01)
    assert np.abs(np.polyval(cz, t[flight]) - z[flight]).max() < 0.5

    # Released at the stop with the arm's speed, omega R, at the launch angle.
    vx, vz = cx[0] * 1e-3, (2 * cz[0] * stop_s + cz[1]) * 1e-3
    assert math.hypot(vx, vz) == pytest.approx(p["release_speed_m_s"], rel=THROW_TOLERANCE)
    assert math.degrees(math.atan2(vz, vx)) == pytest.approx(p["launch_angle_deg"], abs=ANGLE_TOLERANCE_DEG)

    # It lands where the formula says: through the bin's centre at rim height, within 5 % of the throw.
    rim, target = p["rim_height_mm"], (p["bin_near_mm"] + p["bin_far_mm"]) / 2
    i = int(np.argmax((z <= rim) & (t > stop_s)))
    x_rim = float(np.interp(rim, [z[i], z[i - 1]], [x[i], x[i - 1]]))
    throw = target - p["release_x_mm"]
    assert abs(x_rim - target) <= THROW_TOLERANCE * throw, (x_rim, target, throw)


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_solves_every_level_and_the_baseline_does_not(seed: int) -> None:
    definition, collision, shapes = built(seed)
    assert definition.params["complexity_level"] == 1 + seed % 3
    geometry = validate_geometry(definition, shapes)
    assert geometry.valid, geometry.findings
    n = definition.simulation.n_scenes
    baseline = simulate(definition, collision, SimulationMode.BASELINE, n, threads=1)
    assert baseline.success_share == 0 and Outcome.PHYSICS_INSTABILITY.value not in baseline.outcome_counts
    reference = simulate(definition, collision, SimulationMode.REFERENCE, n, threads=1)
    assert reference.success_share == 1.0, reference.outcome_counts


@pytest.mark.parametrize("seed", SEEDS)
def test_no_passive_part_can_carry_the_ball_over_the_wall(seed: int) -> None:
    """The wall spans the whole scene across y and stands above the build zone; the ball starts lower than
    its centre must pass over the wall, so without a motor adding energy it cannot clear the wall."""
    definition, _, _ = built(seed)
    wall = next(f for f in definition.fixtures if f.label == "wall")
    bounds, zone = definition.simulation_bounds, definition.build_zone
    assert wall.bbox.min_mm[1] <= bounds.min_mm[1] and wall.bbox.max_mm[1] >= bounds.max_mm[1]
    top = wall.bbox.max_mm[2]
    assert zone.max_mm[2] < top and zone.max_mm[0] <= wall.bbox.min_mm[0]
    assert definition.payload.envelope.max_mm[2] < top  # every spawn centre lies over a radius below the top
    assert definition.goal_zone.min_mm[0] > wall.bbox.max_mm[0]
    level = definition.params["complexity_level"]
    assert len(definition.forbidden_zones) == (2 if level == 3 else 0)


def test_reference_motor_is_a_hobby_servo_swinging_onto_its_stop() -> None:
    for seed in SEEDS:
        definition, _, _ = built(seed)
        hub, arm = definition.reference_solution
        assert arm.joint is not None and arm.joint.type is JointType.FIXED and arm.joint.parent == "hub"
        assert assembly_findings(definition.reference_solution) == []
        joint, motor = hub.joint, hub.motor
        assert joint is not None and motor is not None and joint.type is JointType.HINGE
        assert motor.mode is MotorMode.SINUSOIDAL and motor.phase_deg == -90.0
        assert joint.range is not None and joint.range[1] == motor.amplitude == motor.offset
        peak_deg_s = 2 * math.pi * motor.frequency_hz * motor.amplitude
        assert peak_deg_s == pytest.approx(ARM_SPEED_DEG_S, rel=1e-3) and peak_deg_s <= 300.0
        assert motor.max_effort <= 1.5 and motor.item == "servo_ds3218"
        assert 1 / (2 * motor.frequency_hz) < motor.stall_s  # pressed on the stop for half a period


@pytest.mark.parametrize("factor", (0.85, 1.15))
def test_a_throw_off_by_fifteen_percent_misses(factor: float) -> None:
    """The same arm and stop with the servo 15 % slower or faster lands short of or past the level-3 bin
    (into a forbidden zone), in every scene: the throw must be computed, not guessed."""
    definition, collision, _ = built(2)
    hub, arm = definition.reference_solution
    assert hub.motor is not None
    motor = hub.motor.model_copy(update={"frequency_hz": hub.motor.frequency_hz * factor})
    changed = definition.model_copy(
        update={"reference_solution": [hub.model_copy(update={"motor": motor}), arm]}
    )
    report = simulate(changed, collision, SimulationMode.REFERENCE, changed.simulation.n_scenes, threads=1)
    assert report.success_share == 0, report.outcome_counts
    assert report.outcome_counts.get(Outcome.FORBIDDEN_ZONE.value, 0) == changed.simulation.n_scenes
