"""The ``slide`` family on the engines alone: a block's sliding threshold and acceleration against the
closed form, the reference solving every level and the baseline not, and what makes sliding necessary."""

from __future__ import annotations

import math
from functools import cache

import mujoco
import numpy as np
import pytest
import trimesh

from engines.cad.build import build_benchmark
from engines.cad.families.slide import BLOCK_MATERIALS, PLATE_MM, RAMP_MATERIAL, SlideFamily, pair_friction
from engines.physics.collision_pack import Piece, unpack
from engines.physics.mjcf import compile_scene_xml
from engines.physics.runner import compile_model, simulate
from shared.families import GENERATOR_VERSION
from shared.materials import props
from shared.models import BenchmarkDefinition, Box, MaterialId, Outcome, SimulationMode
from tests.engine.test_physics import FLOOR_PIECE, definition

G = 9.81
FAMILY = SlideFamily()
ACCELERATION_TOLERANCE = 0.05
"""The block's acceleration 2 degrees past the friction angle is within 5 % of ``g (sin - mu cos)`` (MuJoCo's
soft contacts measured 0.4-2 % off)."""
STILL_MM = 0.5
"""2 degrees short of the friction angle the block moves less than this in a second (soft-contact creep)."""


@cache
def built(seed: int) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    d, blobs, _ = build_benchmark("slide", seed, GENERATOR_VERSION, f"slide-s{seed}-v{GENERATOR_VERSION}")
    collision = unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))
    return d, collision


def slide_on_incline(block: MaterialId, plane: MaterialId, theta: float) -> np.ndarray:
    """The block (seed 0's size) resting on a flat ``plane`` floor with gravity tilted by ``theta`` along +x
    (an incline); its x position (m) every step for 1 s."""
    d, col = definition({"floor": FLOOR_PIECE}, start=(0, 0, 0))
    hx, hy, hz = (FAMILY.sample(0)[k] for k in ("half_x_mm", "half_y_mm", "half_z_mm"))
    payload = d.payload.model_validate(
        {"shape": "box", "half_size_mm": (hx, hy, hz), "material": block, "start_mm": (0, 0, hz)}
    )
    fixtures = [d.fixtures[0].model_copy(update={"material": plane})]
    d = d.model_copy(update={"payload": payload, "fixtures": fixtures})
    model = compile_model(compile_scene_xml(d, col, SimulationMode.BASELINE))
    model.opt.gravity[:] = (G * math.sin(theta), 0.0, -G * math.cos(theta))
    data = mujoco.MjData(model)
    xs = []
    for _ in range(500):
        mujoco.mj_step(model, data)
        xs.append(data.qpos[0])
    return np.array(xs)


@pytest.mark.parametrize("block", sorted({m for ms in BLOCK_MATERIALS.values() for m in ms}))
def test_block_slides_past_the_friction_angle_at_the_closed_form_acceleration(block: MaterialId) -> None:
    mu = pair_friction(block, RAMP_MATERIAL)
    assert mu == max(props(block).friction, props(RAMP_MATERIAL).friction)
    friction_angle = math.atan(mu)
    held = slide_on_incline(block, RAMP_MATERIAL, friction_angle - math.radians(2))
    assert abs(held[-1] - held[0]) * 1e3 < STILL_MM
    theta = friction_angle + math.radians(2)
    x = slide_on_incline(block, RAMP_MATERIAL, theta)
    t = np.arange(1, len(x) + 1) * 0.002
    late = t > 0.2  # after the first contact has settled
    measured = 2 * np.polyfit(t[late], x[late], 2)[0]
    expected = G * (math.sin(theta) - mu * math.cos(theta))
    assert measured == pytest.approx(expected, rel=ACCELERATION_TOLERANCE)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_solves_every_level_and_the_baseline_does_not(seed: int) -> None:
    d, collision = built(seed)
    assert d.params["complexity_level"] == FAMILY.level(seed) == seed + 1
    assert d.payload.shape == "box"
    assert d.params["ramp_angle_deg"] > d.params["friction_angle_deg"] + 5
    n = d.simulation.n_scenes
    base = simulate(d, collision, SimulationMode.BASELINE, n)
    assert base.outcome_counts == {Outcome.TIMEOUT.value: n}, base.outcome_counts
    ref = simulate(d, collision, SimulationMode.REFERENCE, n)
    assert ref.success_share >= d.simulation.required_success_share, ref.outcome_counts


def _with_ramp(
    d: BenchmarkDefinition, collision: dict[str, list[Piece]], angle_deg: float, material: MaterialId
):
    """The reference ramp turned about its point under the spawn point to ``angle_deg``, in ``material``, from
    the same upper end down to the floor."""
    p = d.params
    tan_t = math.tan(math.radians(angle_deg))
    x0, z0 = p["ramp_start_x_mm"], p["ramp_top_at_spawn_mm"]  # z0: the ramp's top surface at x = 0
    x1 = (z0 - PLATE_MM) / tan_t
    hw = d.payload.half_extents_mm[1] + 10.0
    corners = [(x, y, z0 - x * tan_t - dz) for x in (x0, x1) for y in (-hw, hw) for dz in (0.0, PLATE_MM)]
    hull = trimesh.convex.convex_hull(np.array(corners))
    piece = (np.asarray(hull.vertices, dtype=np.float64), np.asarray(hull.faces, dtype=np.int32))
    lo, hi = hull.bounds
    ramp = d.reference_solution[0].model_copy(
        update={"material": material, "bbox": Box(min_mm=tuple(lo.tolist()), max_mm=tuple(hi.tolist()))}
    )
    return d.model_copy(update={"reference_solution": [ramp]}), {**collision, ramp.label: [piece]}


def test_a_ramp_shallower_than_the_friction_angle_or_of_a_grippier_material_holds_the_block() -> None:
    d, collision = built(0)
    n = d.simulation.n_scenes
    shallow = d.params["friction_angle_deg"] - 2.0
    for angle, material in ((shallow, RAMP_MATERIAL), (d.params["ramp_angle_deg"], MaterialId.ALUMINUM_6061)):
        assert math.tan(math.radians(angle)) < pair_friction(d.payload.material, material)
        trial, pieces = _with_ramp(d, collision, angle, material)
        report = simulate(trial, pieces, SimulationMode.REFERENCE, n)
        assert report.outcome_counts.get(Outcome.GOAL_REACHED.value, 0) == 0, (angle, material, report)
    same, pieces = _with_ramp(
        d, collision, d.params["ramp_angle_deg"], RAMP_MATERIAL
    )  # the rebuilt reference
    assert simulate(same, pieces, SimulationMode.REFERENCE, n).success_share == 1.0
