"""The ``sorter`` family on the engines alone: a ball passes a gap in the rails exactly when the gap is wider
than the ball (closed form, measured in the family's own MuJoCo scene), the reference sorts every level and
the baseline reaches at most one goal, and a track that does not sort (a gap too narrow or too wide for
every ball) solves nothing."""

from __future__ import annotations

import math
from functools import cache

import mujoco
import numpy as np
import pytest

from engines.cad.build import build_benchmark
from engines.cad.families.sorter import RAIL_DEPTH_MM, SorterFamily
from engines.physics.collision_pack import Piece, unpack
from engines.physics.mjcf import compile_scene_xml, payload_body
from engines.physics.runner import compile_model, scene_jitters, simulate, total_steps
from shared.families import GENERATOR_VERSION
from shared.models import BenchmarkDefinition, Outcome, SimulationMode

FAMILY = SorterFamily()
GAP_TOLERANCE_MM = 1.0
"""The closed form ``drops through iff w > d``: tested at ``w = d - 1 mm`` (the ball rides the rails to their
end) and ``w = d + 1 mm`` (it drops through), for every ball size of a level-1 and a level-3 seed, at the
speed the reference track gives it."""
SAMPLE_STEPS = 5


@cache
def built(seed: int) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    d, blobs, _ = build_benchmark("sorter", seed, GENERATOR_VERSION, f"sorter-s{seed}-v{GENERATOR_VERSION}")
    collision = unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))
    return d, collision


def surface_mm(d: BenchmarkDefinition, x: float) -> float:
    """The track's top surface at ``x``."""
    p = d.params
    return p["track_end_height_mm"] + (p["track_end_x_mm"] - x) * math.tan(math.radians(p["track_angle_deg"]))


def with_gap(
    d: BenchmarkDefinition, collision: dict[str, list[Piece]], segment: int, gap_mm: float
) -> dict[str, list[Piece]]:
    """The collision pieces with rail pair ``segment`` (0-based) moved apart in y to leave ``gap_mm``."""
    suffix = "" if "rail_left" in collision else f"_{segment + 1}"
    shift = (gap_mm - d.params[f"gap_{segment + 1}_mm"]) / 2
    pieces = dict(collision)
    for side, sign in (("left", -1.0), ("right", 1.0)):
        label = f"rail_{side}{suffix}"
        pieces[label] = [(v + np.array([0.0, sign * shift, 0.0]), f) for v, f in collision[label]]
    return pieces


def paths(
    d: BenchmarkDefinition, collision: dict[str, list[Piece]], mode: SimulationMode, scene: int | None
) -> np.ndarray:
    """Every payload's centre (mm) every few steps over the whole duration: ``[sample, payload, xyz]``; scene
    ``None`` runs without spawn jitter."""
    model = compile_model(compile_scene_xml(d, collision, mode))
    data = mujoco.MjData(model)
    adr = [int(model.joint(payload_body(d, i)).qposadr[0]) for i in range(len(d.payloads))]
    if scene is not None:
        for a, offset in zip(adr, scene_jitters(d, scene), strict=True):
            data.qpos[a : a + 3] += np.asarray(offset) * 1e-3
    out = []
    for _ in range(total_steps(d) // SAMPLE_STEPS):
        mujoco.mj_step(model, data, nstep=SAMPLE_STEPS)
        out.append([data.qpos[a : a + 3] * 1e3 for a in adr])
    return np.array(out)


def goals_reached(d: BenchmarkDefinition, path: np.ndarray) -> list[bool]:
    """Whether each payload's centre was ever inside its own goal."""
    reached = []
    for i, p in enumerate(d.payloads):
        g = d.goal_of(p)
        lo, hi = np.array(g.min_mm), np.array(g.max_mm)
        reached.append(bool(((path[:, i] >= lo) & (path[:, i] <= hi)).all(axis=1).any()))
    return reached


def alone(d: BenchmarkDefinition, index: int) -> BenchmarkDefinition:
    """``d`` with payload ``index`` as its only payload."""
    ball = d.payloads[index].model_copy(update={"label": "payload", "goal_zone": None})
    return d.model_copy(update={"payload": ball, "extra_payloads": []})


@pytest.mark.parametrize("seed", [0, 2])
def test_a_ball_drops_through_a_gap_exactly_when_the_gap_is_wider_than_the_ball(seed: int) -> None:
    """Each ball alone, on the reference track with one rail pair's gap set to its diameter -1 mm and +1 mm:
    it drops through that pair (its centre below the rails' underside between the pair's start and end) only
    at +1 mm; at -1 mm the rails hold it (deep in the gap it rolls slowly, or sticks). Every ball that
    reaches the pair is tried."""
    d, collision = built(seed)
    n = len(d.payloads)
    ends = [d.params[f"drop_{k + 2}_x_mm"] for k in range(n - 2)] + [d.params["track_end_x_mm"]]
    for segment in range(n - 1):
        start, end = d.params[f"drop_{segment + 1}_x_mm"], ends[segment]
        for index in range(segment, n):
            single = alone(d, index)
            diameter = 2 * single.payload.radius_mm
            for gap in (diameter - GAP_TOLERANCE_MM, diameter + GAP_TOLERANCE_MM):
                path = paths(single, with_gap(d, collision, segment, gap), SimulationMode.REFERENCE, None)
                x, z = path[:, 0, 0], path[:, 0, 2]
                under = np.array([surface_mm(d, xi) - RAIL_DEPTH_MM for xi in x])
                dropped = bool(((x > start - diameter) & (x < end) & (z < under)).any())
                assert dropped == (gap > diameter), (seed, segment, index, diameter, gap)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_sorts_every_level_and_the_baseline_reaches_at_most_one_goal(seed: int) -> None:
    d, collision = built(seed)
    level = FAMILY.level(seed)
    assert d.params["complexity_level"] == level == seed + 1
    assert len(d.payloads) == (3 if level == 3 else 2)
    assert len({d.goal_of(p) for p in d.payloads}) == len(d.payloads)
    radii = [p.radius_mm for p in d.payloads]
    assert radii == sorted(radii) and len(set(radii)) == len(radii)
    n = d.simulation.n_scenes
    base = simulate(d, collision, SimulationMode.BASELINE, n)
    assert base.outcome_counts.get(Outcome.GOAL_REACHED.value, 0) == 0, base.outcome_counts
    for scene in range(2):
        assert sum(goals_reached(d, paths(d, collision, SimulationMode.BASELINE, scene))) <= 1
    ref = simulate(d, collision, SimulationMode.REFERENCE, n)
    assert ref.success_share >= d.simulation.required_success_share, ref.outcome_counts
    assert all(goals_reached(d, paths(d, collision, SimulationMode.REFERENCE, 0)))


def test_a_track_whose_gap_passes_every_ball_or_none_sorts_nothing() -> None:
    """Rails too narrow for the small ball carry both balls to the far goal; rails wider than the large
    ball drop both into the near goal, and the large one, rolling on along the floor, touches the forbidden
    floor before the far goal. Neither solves a scene."""
    d, collision = built(0)
    n = d.simulation.n_scenes
    small, large = (2 * p.radius_mm for p in d.payloads)
    for gap in (small - 3.0, large + 3.0):
        pieces = with_gap(d, collision, 0, gap)
        report = simulate(d, pieces, SimulationMode.REFERENCE, n)
        assert report.outcome_counts.get(Outcome.GOAL_REACHED.value, 0) == 0, (gap, report.outcome_counts)
    narrow = with_gap(d, collision, 0, small - 3.0)
    assert goals_reached(d, paths(d, narrow, SimulationMode.REFERENCE, 0)) == [False, True]
