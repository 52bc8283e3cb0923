"""The ``relay`` family on the engines alone (no Temporal): the turn its deflector relies on against closed
form, the reference solving one seed of every level while the baseline does not, every reference part being
necessary, and what changes between the levels."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import trimesh

from engines.cad.build import build_benchmark
from engines.cad.families import FAMILIES
from engines.physics.collision_pack import Piece, unpack
from engines.physics.runner import build_model, run_scene, simulate
from shared.families import GENERATOR_VERSION
from shared.models import BenchmarkDefinition, Outcome, SimulationMode
from tests.engine.test_physics import FLOOR_PIECE, box_piece, definition

LEVEL_SEEDS = (0, 1, 2)
"""One seed of each level (level = 1 + seed % 3); seeds 0-9 are proven publishable by test_families.py."""


@cache
def built(seed: int) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    d, blobs, _ = build_benchmark("relay", seed, GENERATOR_VERSION, f"relay-s{seed}-v{GENERATOR_VERSION}")
    return d, unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))


def _guide(phi_deg: float, hit_x: float) -> Piece:
    """A vertical wall 300 mm long whose face passes through (hit_x, 0) at phi_deg to +x, its body on the
    +x/-y side of the face."""
    mesh = trimesh.creation.box(extents=(300.0, 10.0, 40.0))
    mesh.apply_translation((90.0, -5.0, 20.0))
    mesh.apply_transform(trimesh.transformations.rotation_matrix(math.radians(phi_deg), [0, 0, 1]))
    mesh.apply_translation((hit_x, 0.0, 0.0))
    return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int32)


@pytest.mark.parametrize("phi_deg", [30.0, 45.0])
def test_a_guide_turns_a_rolling_ball_along_its_own_direction(phi_deg: float) -> None:
    """Closed form of the turn: a ball rolling at v along +x into a vertical guide at phi to its path loses
    the velocity along the guide's normal and keeps (less the guide's friction) the part along the guide, so
    it leaves along the guide, heading phi, at up to v cos(phi). Measured in a scene the engines compile: a
    12 mm steel ball rolls off a 15 degree ramp onto the floor at ~0.75 m/s. Tolerances: heading within
    7 degrees of phi (measured +0.4 at 30, +5.7 at 45: the wall gives the ball a slight rebound), speed
    between 0.7 and 1.0 of v cos(phi) (measured 0.78 and 0.75: the guide's friction, which also lifts the
    ball ~1 mm, takes the rest)."""
    r, theta = 12.0, math.radians(15.0)
    normal, down = (
        np.array([math.sin(theta), 0, math.cos(theta)]),
        np.array([math.cos(theta), 0, -math.sin(theta)]),
    )
    ramp_v, ramp_f = box_piece((200.0, 200.0, 10.0), tilt_deg=15.0)
    ramp = (ramp_v - down * 100.0 - normal * 5.0, ramp_f)  # top surface meets the floor at x = 0
    start = -down * 170.0 + normal * (r + 0.5)
    d, collision = definition(
        {"floor": FLOOR_PIECE, "ramp": ramp, "guide": _guide(phi_deg, 250.0)},
        start=tuple(start.tolist()),
        radius=r,
        duration_s=1.2,
        check_interval_steps=1,
    )
    _, states = run_scene(build_model(d, collision, SimulationMode.BASELINE), d, 0, trajectory=True)
    t, xy = states[:, 0], states[:, 1:3]
    velocity = np.gradient(xy, t, axis=0)
    before = (xy[:, 0] > 100.0) & (xy[:, 0] < 200.0)  # rolling on the floor, before the guide
    v_in = float(np.linalg.norm(velocity[before], axis=1).mean())
    assert np.abs(velocity[before, 1]).max() < 1.0  # mm/s: straight along +x
    after = t > t[np.argmax(xy[:, 1] > 30.0)]  # well clear of the impact
    heading = np.degrees(np.arctan2(velocity[after, 1], velocity[after, 0]))
    speed = np.linalg.norm(velocity[after], axis=1)
    assert 600.0 < v_in < 900.0
    assert np.abs(heading - phi_deg).max() < 7.0, (heading.min(), heading.max())
    ratio = float(speed.mean()) / (v_in * math.cos(math.radians(phi_deg)))
    assert 0.7 < ratio < 1.0, ratio


@pytest.mark.parametrize("seed", LEVEL_SEEDS)
def test_reference_solves_every_level_and_the_baseline_does_not(seed: int) -> None:
    d, collision = built(seed)
    n = d.simulation.n_scenes
    baseline = simulate(d, collision, SimulationMode.BASELINE, n)
    assert baseline.success_share == 0, baseline.outcome_counts
    assert baseline.outcome_counts == {Outcome.FORBIDDEN_ZONE.value: n}  # the pit under the spawn
    reference = simulate(d, collision, SimulationMode.REFERENCE, n)
    assert reference.success_share >= d.simulation.required_success_share, reference.outcome_counts


@pytest.mark.parametrize("seed", LEVEL_SEEDS)
def test_every_reference_part_is_needed(seed: int) -> None:
    """Each part does a job no other does: without the chute the ball falls into the pit, without the
    deflector it rolls past the opening, without the bridge (level 3) it falls into the gap."""
    d, collision = built(seed)
    labels = [p.label for p in d.reference_solution]
    assert labels == ["chute", "deflector", "bridge"][: 3 if FAMILIES["relay"].level(seed) == 3 else 2]
    for label in labels:
        fewer = d.model_copy(
            update={"reference_solution": [p for p in d.reference_solution if p.label != label]}
        )
        report = simulate(fewer, collision, SimulationMode.REFERENCE, d.simulation.n_scenes)
        assert report.success_share == 0, (label, report.outcome_counts)


def test_the_goal_lies_round_a_corner_and_the_levels_tighten_then_add_a_stage() -> None:
    family = FAMILIES["relay"]
    for seed in LEVEL_SEEDS:
        d, _ = built(seed)
        r, half = d.payload.radius_mm, d.params["channel_width_mm"] / 2
        assert d.params["complexity_level"] == family.level(seed) == seed + 1
        # The ball starts on the channel's axis (y = 0) and must end beyond its +y wall, inside the opening's
        # x range: it must turn 90 degrees in plan view.
        assert d.goal_zone.min_mm[1] > half + r
        assert d.goal_zone.max_mm[0] - d.goal_zone.min_mm[0] == pytest.approx(d.params["opening_width_mm"])
        names = [z.name for z in d.forbidden_zones]
        assert names == {1: ["pit"], 2: ["pit", "drain"], 3: ["pit", "gap_floor"]}[family.level(seed)]
    # Level 2 keeps half the slack of levels 1 and 3: same parameters, a narrower channel and opening.
    # (The channel is two radii, twice the y jitter plus 3 mm, and its share of the slack wide.)
    for seed in LEVEL_SEEDS:
        p, share = built(seed)[0].params, 0.5 if family.level(seed) == 2 else 1.0
        r = p["radius_mm"]
        assert p["channel_width_mm"] == pytest.approx(
            2 * r + 12.0 + share * p["channel_slack_radii"] * r, abs=1e-3
        )
