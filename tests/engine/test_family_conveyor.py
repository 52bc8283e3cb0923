"""The conveyor family: the pusher's stroke and the ball's roll against their closed forms, the reference
solving every level while the baseline does not, and why a motor is needed (engines only, no Temporal)."""

from __future__ import annotations

import dataclasses
import math
from functools import cache

import numpy as np
import pytest

from engines.cad.assembly import assembly_findings
from engines.cad.build import build_benchmark, build_from_design
from engines.cad.families import FAMILIES
from engines.cad.families.base import floor_part, zone
from engines.physics.collision_pack import Piece, unpack
from engines.physics.mjcf import GRAVITY_M_S2, ROLLING_RESISTANCE
from engines.physics.runner import build_model, replay_scene, simulate
from shared import cots
from shared.models import BenchmarkDefinition, Box, JointType, MaterialId, MotorMode, Outcome, SimulationMode

FAMILY = FAMILIES["conveyor"]
LEVEL_SEEDS = (0, 1, 2, 3, 4, 5)
"""Two seeds of each level (1 + seed % 3)."""
ROLL_DECELERATION_M_S2 = 5 / 7 * ROLLING_RESISTANCE * GRAVITY_M_S2
"""A ball rolling without slipping under the compiler's rolling-resistance torque ``c * r * N``."""
UNREACHABLE = Box(min_mm=(0, 0, -19), max_mm=(1, 1, -18))


def _collision(blobs: list) -> dict[str, list[Piece]]:
    return unpack(next(b.data for b in blobs if b.key.endswith("/collision.npz")))


@cache
def built(seed: int) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    definition, blobs, _ = build_benchmark("conveyor", seed, 1, f"conveyor-s{seed}-v1")
    return definition, _collision(blobs)


@cache
def long_floor_run(seed: int) -> tuple[BenchmarkDefinition, np.ndarray, np.ndarray, int, int]:
    """Scene 0 of the reference on a 7 m floor without the bay, the goal out of reach, for 30 s: the ball is
    launched by the scoop and rolls until rolling resistance stops it. The ball is steel whatever the seed
    drew: the closed forms hold for a heavy ball (seed 4's steel ball leaves the scoop 2 % above the peak
    speed, its aluminium one 7 %: the soft contact flings a light ball ahead as the scoop slows)."""
    design = FAMILY.generate(seed)
    design = dataclasses.replace(
        design, payload=design.payload.model_copy(update={"material": MaterialId.STEEL_CARBON})
    )
    b = design.simulation_bounds
    floor = zone(b.min_mm, (b.min_mm[0] + 7000.0, b.max_mm[1], b.max_mm[2]))
    design = dataclasses.replace(
        design,
        fixtures=[floor_part(floor)],
        simulation_bounds=floor,
        goal_zone=UNREACHABLE,
        simulation=design.simulation.model_copy(update={"duration_s": 30.0}),
    )
    definition, blobs, _ = build_from_design(design, "conveyor", seed, 1, f"conveyor-s{seed}-v1")
    model = build_model(definition, _collision(blobs), SimulationMode.REFERENCE)
    result, t, qpos = replay_scene(model, definition, 0, sample_every_s=0.02)
    assert result.outcome is Outcome.TIMEOUT, result.detail
    return definition, t, qpos, int(model.joint("scoop").qposadr[0]), int(model.joint("payload").qposadr[0])


def test_the_stroke_and_the_roll_follow_their_closed_forms() -> None:
    """The scoop follows ``A (1 - cos(pi t / T))`` (within 6 mm: control is held per 20 ms chunk); the ball
    leaves it near mid-stroke at the peak speed ``pi A / T`` (within 4 %), then decelerates at ``(5/7) c g``
    (within 2 %) and stops ``v^2 / (2 a)`` after the end of the stroke (within 3 %)."""
    definition, t, qpos, scoop, ball = long_floor_run(4)  # level 2: a slow, long stroke
    motor = definition.reference_solution[0].motor
    assert motor is not None
    amplitude_m, stroke_s = motor.amplitude * 1e-3, 1.0 / (2.0 * motor.frequency_hz)
    stroke = t <= stroke_s
    target = amplitude_m * (1.0 - np.cos(np.pi * t[stroke] / stroke_s))
    assert np.abs(qpos[stroke, scoop] - target).max() < 6e-3

    x = qpos[:, ball]
    v = np.gradient(x, t)
    peak = math.pi * amplitude_m / stroke_s
    assert v.max() == pytest.approx(peak, rel=0.04)
    assert t[int(np.argmax(v))] == pytest.approx(stroke_s / 2, rel=0.3)
    k = int(np.searchsorted(t, stroke_s))  # the scoop has stopped; the ball rolls free
    free = (t > stroke_s) & (t < stroke_s + 5.0)
    deceleration = -np.polyfit(t[free], v[free], 1)[0]
    assert deceleration == pytest.approx(ROLL_DECELERATION_M_S2, rel=0.02)
    assert abs(v[-1]) < 1e-3  # at rest after 30 s
    predicted_stop = x[k] + v[k] ** 2 / (2 * ROLL_DECELERATION_M_S2)
    assert x[-1] == pytest.approx(predicted_stop, rel=0.03)


@pytest.mark.parametrize("seed", LEVEL_SEEDS)
def test_the_reference_solves_every_level_and_the_baseline_does_not(seed: int) -> None:
    definition, collision = built(seed)
    assert definition.params["complexity_level"] == 1 + seed % 3
    n = definition.simulation.n_scenes
    baseline = simulate(definition, collision, SimulationMode.BASELINE, n, threads=1)
    assert baseline.outcome_counts == {Outcome.TIMEOUT.value: n}, baseline.outcome_counts
    reference = simulate(definition, collision, SimulationMode.REFERENCE, n, threads=1)
    assert reference.success_share >= definition.simulation.required_success_share, reference.outcome_counts


@pytest.mark.parametrize("seed", (0, 2))
def test_the_ball_stays_in_the_bay(seed: int) -> None:
    """With the goal out of reach the scene runs to its end: the ball ends inside the goal zone."""
    definition, collision = built(seed)
    unreachable = definition.model_copy(update={"goal_zone": UNREACHABLE})
    model = build_model(unreachable, collision, SimulationMode.REFERENCE)
    result, _, _ = replay_scene(model, unreachable, 0)
    assert result.outcome is Outcome.TIMEOUT, result.detail
    assert definition.goal_zone.contains_point(result.final_payload_mm), result.final_payload_mm


@pytest.mark.parametrize("seed", LEVEL_SEEDS)
def test_the_reference_fits_its_motor_and_the_build_zone(seed: int) -> None:
    definition, _ = built(seed)
    level = 1 + seed % 3
    parts = {p.label: p for p in definition.reference_solution}
    assert set(parts) == ({"scoop", "scoop-arms", "rail"} if level == 3 else {"scoop", "scoop-arms"})
    arms = parts["scoop-arms"].joint
    assert arms is not None and arms.type is JointType.FIXED and arms.parent == "scoop"
    assert assembly_findings(definition.reference_solution) == []
    scoop = parts["scoop"]
    joint, motor = scoop.joint, scoop.motor
    assert joint is not None and motor is not None and joint.type is JointType.SLIDE
    assert joint.axis == (1.0, 0.0, 0.0) and joint.range is not None
    # A belt-driven linear module: at most 50 N and 500 mm/s; one stroke from rest to rest.
    assert motor.mode is MotorMode.SINUSOIDAL and motor.phase_deg == -90.0 and motor.offset == motor.amplitude
    assert motor.max_effort <= 50.0
    assert 2 * math.pi * motor.frequency_hz * motor.amplitude <= 500.0
    low, high = joint.range
    moving = [scoop.bbox, parts["scoop-arms"].bbox]  # the arms ride on the plate
    lo = tuple(min(b.min_mm[k] for b in moving) for k in range(3))
    hi = tuple(max(b.max_mm[k] for b in moving) for k in range(3))
    for travel in (low, high):
        moved = Box(min_mm=(lo[0] + travel, lo[1], lo[2]), max_mm=(hi[0] + travel, hi[1], hi[2]))
        assert definition.build_zone.contains_box(moved), (travel, moved, definition.build_zone)
        assert moved.max_mm[0] < definition.goal_zone.max_mm[0]
    # The flat floor is far: the goal lies at least 150 mm ahead, on the floor the ball rests on.
    assert definition.goal_zone.min_mm[0] - definition.payload.start_mm[0] >= 150.0
    assert definition.goal_zone.min_mm[2] == 0.0


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_nothing_passive_moves_the_ball(seed: int) -> None:
    """What makes the motor necessary: the ball rests on the floor with no room under it (its spawn
    envelope reaches the floor), and the reference scoop held still, the same part without its motor,
    leaves it where it is. At level 3 the scoop alone cannot reach the offset bay: the rail turns the ball."""
    definition, collision = built(seed)
    assert definition.payload.envelope.min_mm[2] <= 0.0
    still = [
        p.model_copy(update={"joint": None, "motor": None, "fixed": True})
        for p in definition.reference_solution
    ]
    passive = definition.model_copy(update={"reference_solution": still})
    report = simulate(passive, collision, SimulationMode.REFERENCE, 4, threads=1)
    assert report.outcome_counts == {Outcome.TIMEOUT.value: 4}, report.outcome_counts
    if 1 + seed % 3 == 3:
        no_rail = [p for p in definition.reference_solution if p.label != "rail"]
        alone = definition.model_copy(update={"reference_solution": no_rail})
        report = simulate(alone, collision, SimulationMode.REFERENCE, 4, threads=1)
        assert report.success_share == 0.0, report.outcome_counts


def test_a_stroke_longer_than_the_short_rail_gets_the_long_one() -> None:
    """The scoop rides the linear module with the shortest rail that covers its stroke: seed 0's 263 mm fits
    the 500 mm rail's 420 mm stroke, seed 58's 649 mm needs the 1000 mm rail (920 mm)."""
    for seed, item in ((0, "linear_belt_nema17"), (58, "linear_belt_nema17_1000")):
        scoop = FAMILY.generate(seed).reference[0]
        assert scoop.motor is not None and scoop.joint is not None and scoop.joint.range is not None
        assert scoop.motor.item == item
        low, high = scoop.joint.range
        row = cots.motor(item)
        assert row is not None and row.stroke_mm is not None and high - low <= row.stroke_mm
