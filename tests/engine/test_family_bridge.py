"""The ``bridge`` family on the engines alone: the deck's closed form and the loads the simulation puts on it,
the reference solving every level and the baseline not, what makes a deck from top to top necessary, and (with
``engines.structure``) the reference carrying the design load in a linear-elastic check while a plank at the
closed form's breaking thickness does not."""

from __future__ import annotations

import dataclasses
import math
from functools import cache

import numpy as np
import pytest

from engines.cad.build import build_benchmark, build_from_design
from engines.cad.families.bridge import (
    BEVEL_RATIO,
    DECK_MATERIAL,
    DECK_METHOD,
    BridgeFamily,
    clamped_coefficients,
    simply_supported_coefficients,
)
from engines.cad.families.shelf import DYNAMIC_FACTOR, MARGIN, SAFETY, bending_stress_mpa
from engines.cad.primitives import box, prism_xz
from engines.physics.collision_pack import Piece, unpack
from engines.physics.runner import build_model, replay_scene, simulate
from shared.families import GENERATOR_VERSION
from shared.materials import props
from shared.models import BenchmarkDefinition, Outcome, PartRole, SimulationMode
from tests.engine.test_family_shelf import G, peak_loads

FAMILY = BridgeFamily()
LEVEL_SEEDS = (0, 1, 2, 3, 4, 5)
"""Two seeds of each level (1 + seed % 3)."""


@cache
def built(seed: int) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    d, blobs, _ = build_benchmark("bridge", seed, GENERATOR_VERSION, f"bridge-s{seed}-v{GENERATOR_VERSION}")
    return d, unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))


def near_edge_mm(p: dict[str, float]) -> float:
    """Where the near abutment's top ends (x)."""
    r = p["ball_radius_mm"]
    return (p["ramp_length_radii"] + p["runway_length_radii"]) * r


def with_deck(seed: int, shape) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    design = FAMILY.generate(seed)
    part = dataclasses.replace(design.reference[0], shape=shape, role=PartRole.REFERENCE)
    d, blobs, _ = build_from_design(
        dataclasses.replace(design, reference=[part]), "bridge", seed, GENERATOR_VERSION, "bridge-trial"
    )
    return d, unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))


def plank(p: dict[str, float], x0: float, x1: float, bottom: float, h: float):
    hw = p["plate_width_mm"] / 2
    bevel = BEVEL_RATIO * h
    return prism_xz([(x0, bottom), (x1, bottom), (x1 - bevel, bottom + h), (x0 + bevel, bottom + h)], -hw, hw)


# --------------------------------------------------------------------------------------------
# Closed forms: the deck's thickness, the gap, and the loads the simulation measures
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_the_reference_meets_the_closed_form_with_margin_2_and_a_thinner_plank_does_not(seed: int) -> None:
    p = FAMILY.generate(seed).params
    h, b, span = p["reference_thickness_mm"], p["plate_width_mm"], p["span_at_level_mm"]
    load = p["design_load_n"]
    assert load == pytest.approx(DYNAMIC_FACTOR * p["ball_mass_kg_at_level"] * G, rel=1e-4)
    density = props(DECK_MATERIAL).density_kg_m3
    coeffs = simply_supported_coefficients(load, span, b, density)
    # sigma = 3 F S / (2 b h^2) for the load alone
    assert bending_stress_mpa(h, coeffs[0], 0.0, b) == pytest.approx(3 * load * span / (2 * b * h * h))
    design_allowable = p["allowable_mpa"] / SAFETY
    assert bending_stress_mpa(h, *coeffs, b) == pytest.approx(p["reference_stress_mpa"], rel=1e-3)
    assert p["reference_stress_mpa"] <= design_allowable / MARGIN
    hb, hc = p["break_thickness_mm"], p["clamped_break_thickness_mm"]
    assert bending_stress_mpa(hb, *coeffs, b) == pytest.approx(design_allowable, rel=1e-3)
    clamped = clamped_coefficients(load, span, b, density)
    assert bending_stress_mpa(hc, *clamped, b) == pytest.approx(design_allowable, rel=1e-3)
    assert hc < hb < h / math.sqrt(MARGIN) * 1.02
    assert span >= p["min_gap_mm"] and span + 2 * (BEVEL_RATIO * h + 10.0) <= 245.0 + 1e-6


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_the_measured_load_over_the_span_stays_under_the_design_load_and_its_moment(seed: int) -> None:
    """In every scene the check's load case on the reference puts at most ``DYNAMIC_FACTOR`` times the ball's
    weight on the span, and its largest bending moment as a simply supported beam is under the design's
    ``F S / 4``."""
    d, collision = built(seed)
    p = d.params
    weight = p["ball_mass_kg_at_level"] * G
    x_near, span = near_edge_mm(p), p["span_at_level_mm"]
    xs = np.linspace(0.0, span, 201)
    for scene in range(d.simulation.n_scenes):
        case, verdict = peak_loads(d, collision, scene)
        assert verdict is not None and verdict[0] is Outcome.GOAL_REACHED
        a = case.points_mm[:, 0] - x_near
        inside = (a > 0) & (a < span)
        fz = -case.forces_n[inside, 2]
        assert fz.sum() < DYNAMIC_FACTOR * weight, (scene, case)
        moment = [
            float((fz * np.where(a[inside] > x, x * (span - a[inside]), a[inside] * (span - x))).sum()) / span
            for x in xs
        ]
        assert max(moment) < p["design_load_n"] * span / 4, (scene, case)


def test_the_gap_is_wider_than_the_ball_flies() -> None:
    """With nothing built the ball falls into the gap in every scene: it touches the gap's floor, never the
    far abutment's top."""
    for seed in range(3):
        d, collision = built(seed)
        model = build_model(d, collision, SimulationMode.BASELINE)
        result, _, qpos = replay_scene(model, d, 0)
        assert result.outcome is Outcome.FORBIDDEN_ZONE, result.detail
        x_far = near_edge_mm(d.params) + d.params["span_at_level_mm"]
        over_far = qpos[:, 0] * 1e3 > x_far
        assert not (over_far & (qpos[:, 2] * 1e3 > d.params["abutment_top_mm"])).any()


# --------------------------------------------------------------------------------------------
# The family
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", LEVEL_SEEDS)
def test_reference_solves_every_level_and_the_baseline_does_not(seed: int) -> None:
    d, collision = built(seed)
    assert d.params["complexity_level"] == FAMILY.level(seed) == 1 + seed % 3
    assert d.structure is not None
    (deck,) = d.reference_solution
    assert deck.fixed and deck.joint is None and deck.material is DECK_MATERIAL and deck.method is DECK_METHOD
    assert deck.bbox.min_mm[2] == pytest.approx(d.params["abutment_top_mm"], abs=1e-6)  # on both tops
    assert d.build_zone.min_mm[2] > d.forbidden_zones[0].max_mm[2] + 2 * d.params["ball_radius_mm"]  # no pier
    n = d.simulation.n_scenes
    base = simulate(d, collision, SimulationMode.BASELINE, n)
    assert base.outcome_counts.get(Outcome.GOAL_REACHED.value, 0) == 0, base.outcome_counts
    assert base.outcome_counts.get(Outcome.PHYSICS_INSTABILITY.value, 0) == 0, base.outcome_counts
    ref = simulate(d, collision, SimulationMode.REFERENCE, n)
    assert ref.success_share >= d.simulation.required_success_share, ref.outcome_counts


def test_levels_carry_heavier_balls() -> None:
    by_level: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for seed in range(30):
        p = FAMILY.generate(seed).params
        by_level[int(p["complexity_level"])].append(p["ball_mass_kg_at_level"] * p["span_at_level_mm"])
    means = [sum(v) / len(v) for _, v in sorted(by_level.items())]
    assert means[0] < means[1] < means[2]


@pytest.mark.parametrize("variant", ["cantilever", "sunk"])
def test_a_deck_short_of_the_far_abutment_or_under_the_tops_fails(variant: str) -> None:
    """A plank from the near abutment reaching only 60 % of the gap drops the ball into it; one across the gap
    but 20 mm under the tops catches the ball, which then cannot climb onto the far abutment."""
    seed = 0
    p = FAMILY.generate(seed).params
    x_near, span, top, h = (
        near_edge_mm(p),
        p["span_at_level_mm"],
        p["abutment_top_mm"],
        p["reference_thickness_mm"],
    )
    overlap = BEVEL_RATIO * h + 10.0
    if variant == "cantilever":
        shape = plank(p, x_near - overlap, x_near + 0.6 * span, top, h)
    else:
        hw = p["plate_width_mm"] / 2
        shape = box((x_near, -hw, top - 20.0 - h), (x_near + span, hw, top - 20.0))
    d, collision = with_deck(seed, shape)
    report = simulate(d, collision, SimulationMode.REFERENCE, d.simulation.n_scenes)
    assert report.outcome_counts.get(Outcome.GOAL_REACHED.value, 0) == 0, report.outcome_counts
    same, collision = with_deck(seed, plank(p, x_near - overlap, x_near + span + overlap, top, h))
    assert simulate(same, collision, SimulationMode.REFERENCE, same.simulation.n_scenes).success_share == 1.0


# --------------------------------------------------------------------------------------------
# The structural check (engines.structure)
# --------------------------------------------------------------------------------------------


def deck_response(seed: int, thickness: float):
    """The linear-elastic response of seed ``seed``'s reference plank made ``thickness`` thick, held where it
    touches either abutment (within 0.5 mm, as the check holds it), under the design load spread over a 6 mm
    patch at mid-span and its own weight."""
    structure = pytest.importorskip("engines.structure")
    if not hasattr(structure, "solve"):
        pytest.skip("engines.structure is not complete yet")
    from engines.cad.mesh import triangulate
    from engines.physics.structure_check import SUPPORT_TOLERANCE_MM, supported_nodes

    d0, collision = built(seed)
    p = d0.params
    x_near, span, top = near_edge_mm(p), p["span_at_level_mm"], p["abutment_top_mm"]
    overlap = BEVEL_RATIO * thickness + 10.0
    vertices, faces = triangulate(plank(p, x_near - overlap, x_near + span + overlap, top, thickness), 0.05)
    mesh = structure.tet_mesh(np.asarray(vertices, dtype=np.float64), np.asarray(faces))
    abutments = [piece for f in d0.fixtures if f.label.endswith("abutment") for piece in collision[f.label]]
    held = supported_nodes(mesh.nodes, abutments, SUPPORT_TOLERANCE_MM)
    assert held.any() and np.allclose(mesh.nodes[held, 2], top, atol=SUPPORT_TOLERANCE_MM)
    elastic = structure.elastic_for(DECK_MATERIAL.value, DECK_METHOD.value)
    assert elastic.allowable_mpa == pytest.approx(p["allowable_mpa"])
    part = structure.prepare(mesh, elastic, held)
    mid = x_near + span / 2
    patch = [(mid + dx, dy, top + thickness) for dx in (-3.0, 0.0, 3.0) for dy in (-3.0, 0.0, 3.0)]
    share = (0.0, 0.0, -p["design_load_n"] / len(patch))
    rho_g = props(DECK_MATERIAL).density_kg_m3 * G * 1e-9
    return structure.solve(part, loads=[(q, share) for q in patch], body_force_n_per_mm3=(0.0, 0.0, -rho_g))


@pytest.mark.parametrize("seed", (0, 2))
def test_the_reference_carries_the_design_load_and_a_plank_at_the_breaking_thickness_does_not(
    seed: int,
) -> None:
    """Held flat on both tops the plank is nearly clamped there: it breaks at the clamped closed form's
    thickness, and the reference (sized simply supported) holds with margin 2."""
    p = FAMILY.generate(seed).params
    design_allowable = p["allowable_mpa"] / SAFETY
    ref = deck_response(seed, p["reference_thickness_mm"])
    assert ref.peak_von_mises_mpa < design_allowable / MARGIN, ref
    thin = deck_response(seed, p["clamped_break_thickness_mm"])
    assert thin.peak_von_mises_mpa > design_allowable, thin
