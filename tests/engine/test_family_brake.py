"""The ``brake`` family on the engines alone: the lip speed against the rolling-sphere closed form, the
reference catching the ball at every level while the empty scene overshoots, and why the catch must stop the
ball (a low back wall is flown over, a shelf that catches the ball without stopping it lets it roll on into
the pit)."""

from __future__ import annotations

import dataclasses
import math
from functools import cache

import mujoco
import pytest

from engines.cad.build import build_from_design
from engines.cad.families import FAMILIES, CadPart, FamilyDesign
from engines.cad.families.brake import TRAY_BASE_MM, BrakeFamily, lip_speed_m_s
from engines.cad.primitives import box
from engines.physics.collision_pack import Piece, unpack
from engines.physics.mjcf import ROLLING_RESISTANCE
from engines.physics.runner import build_model, simulate
from shared.families import GENERATOR_VERSION
from shared.models import (
    BenchmarkDefinition,
    ManufacturingMethod,
    MaterialId,
    Outcome,
    PartRole,
    SimulationMode,
)

G = 9.81
SEEDS = (0, 1, 2)
"""One seed of each level (the level is 1 + seed % 3)."""
LIP_SPEED_REL_TOLERANCE = 0.015
"""Measured lip speed against the closed form (measured: within 0.1 % on seeds 0-5)."""


def family() -> BrakeFamily:
    f = FAMILIES["brake"]
    assert isinstance(f, BrakeFamily)
    return f


@cache
def built(seed: int, variant: str = "reference") -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """Seed ``seed`` built with its reference, or with the reference replaced by one of the test's parts."""
    design = family().generate(seed)
    if variant != "reference":
        design = dataclasses.replace(design, reference=[_variant_part(design, variant)])
    d, blobs, _ = build_from_design(design, "brake", seed, GENERATOR_VERSION, f"brake-s{seed}-{variant}")
    collision = unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))
    return d, collision


def _variant_part(design: FamilyDesign, variant: str) -> CadPart:
    goal = design.goal_zone
    (x0, y0, _), (x1, y1, rim) = goal.min_mm, goal.max_mm
    p = design.params
    r = p["radius_mm"]
    if variant == "back_wall":
        # The tray's missing back wall, as high again as its rim: the flight passes over it.
        shape = box((x1, y0, 0.0), (x1 + 6.0, y1, 2 * rim))
    elif variant == "shelf":
        # A flat shelf just under the flight over the whole tray: it catches the ball but does not stop it.
        top = p["lip_height_mm"] - 2 * r
        shape = box((x0 + 2.0, y0, top - 5.0), (x1 + 2 * r, y1, top))
    else:
        raise ValueError(variant)
    return CadPart(variant, PartRole.REFERENCE, MaterialId.ABS, ManufacturingMethod.FDM_PRINTING, shape)


def test_levels_cycle_and_are_recorded() -> None:
    for seed in range(6):
        design = family().generate(seed)
        assert design.params["complexity_level"] == 1 + seed % 3
    one, two, three = (family().generate(s) for s in SEEDS)
    assert (
        three.params["tray_length_mm"]
        < 0.8 * family().sample(2)["tray_length_radii"] * three.params["radius_mm"]
    )
    assert [z.name for z in three.forbidden_zones] == ["pit", "gap"]
    assert [z.name for z in one.forbidden_zones] == ["pit"]
    assert two.params["ramp_drop_effective_mm"] == pytest.approx(
        1.9 * family().sample(1)["ramp_drop_mm"], abs=1e-3
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_lip_speed_matches_the_rolling_sphere_closed_form(seed: int) -> None:
    """In the baseline scene (no jitter) the ball leaves the lip at v = sqrt(2 (5/7) g (sin - c cos) s): a
    sphere rolling without slipping a slope distance s = h / sin(theta) down from where it lands on the
    ramp (h the family's ramp drop), c the payload's rolling resistance, within 1.5 %. The centre's short
    drop onto the ramp adds nothing: the (nearly plastic) landing takes that speed away."""
    d, collision = built(seed)
    model = build_model(d, collision, SimulationMode.BASELINE)
    data = mujoco.MjData(model)
    theta = math.radians(d.params["ramp_angle_deg"])
    x_release = d.payload.radius_mm * 1e-3 * math.sin(theta)
    for _ in range(int(2.0 / model.opt.timestep)):
        mujoco.mj_step(model, data)
        if data.qpos[0] >= x_release:
            break
    else:
        pytest.fail("the ball never reached the lip")
    measured = math.sqrt(float(data.qvel[0] ** 2 + data.qvel[1] ** 2 + data.qvel[2] ** 2))
    h_m = d.params["ramp_drop_effective_mm"] * 1e-3
    closed_form = math.sqrt(
        2 * 5 / 7 * G * (math.sin(theta) - ROLLING_RESISTANCE * math.cos(theta)) * h_m / math.sin(theta)
    )
    assert closed_form == pytest.approx(lip_speed_m_s(d.params["ramp_drop_effective_mm"], theta))
    assert measured == pytest.approx(closed_form, rel=LIP_SPEED_REL_TOLERANCE), (measured, closed_form)
    # and it is fast: more than 1 m/s, several tray lengths of flight per second
    assert measured > 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_stops_the_ball_in_the_tray_and_the_empty_scene_overshoots(seed: int) -> None:
    d, collision = built(seed)
    base = simulate(d, collision, SimulationMode.BASELINE, d.simulation.n_scenes, threads=1)
    assert base.success_share == 0, base.outcome_counts
    assert base.outcome_counts == {Outcome.FORBIDDEN_ZONE.value: d.simulation.n_scenes}  # into the pit
    ref = simulate(d, collision, SimulationMode.REFERENCE, d.simulation.n_scenes, threads=1)
    assert ref.success_share == 1, ref.outcome_counts


@pytest.mark.parametrize("variant", ["back_wall", "shelf"])
def test_a_catch_that_does_not_stop_the_ball_fails(variant: str) -> None:
    """A back wall of tray height is flown over; a shelf under the flight catches the ball, which keeps its
    speed along the travel and rolls off the shelf's end into the pit. Only a stop across the flight works."""
    for seed in SEEDS:
        d, collision = built(seed, variant)
        report = simulate(d, collision, SimulationMode.REFERENCE, d.simulation.n_scenes, threads=1)
        assert report.success_share == 0, (seed, variant, report.outcome_counts)
        assert report.outcome_counts.get(Outcome.FORBIDDEN_ZONE.value, 0) == d.simulation.n_scenes


def test_the_flight_clears_the_tray_and_the_goal_sits_under_it() -> None:
    for seed in range(20):
        design = family().generate(seed)
        (_, _, z0), (_, _, z1) = design.goal_zone.min_mm, design.goal_zone.max_mm
        assert z0 == TRAY_BASE_MM
        # a ball resting on the tray's base has its centre inside the goal, with room to spare
        assert z1 >= TRAY_BASE_MM + 1.15 * design.params["radius_mm"]
        assert design.params["lip_height_mm"] > z1 + 2 * design.params["radius_mm"]
        assert design.params["landing_x_mm"] > 2 * design.goal_zone.max_mm[0]
