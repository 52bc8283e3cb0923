"""The ``lever`` family on the engines alone: the lever's torque balance against its closed form, the reference
solving every level while the baseline does not, and what makes the counterweight necessary."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from engines.cad.build import build_benchmark, build_from_design
from engines.cad.families.base import CadPart, FamilyDesign, compound, floor_part, simulation_settings, zone
from engines.cad.families.lever import LEVER_MATERIAL
from engines.cad.primitives import box
from engines.physics.collision_pack import Piece, unpack
from engines.physics.runner import build_model, replay_scene, simulate
from shared.materials import props
from shared.models import (
    BenchmarkDefinition,
    JointSpec,
    JointType,
    MaterialId,
    Outcome,
    PartRole,
    Payload,
    SimulationMode,
)

REFERENCE = SimulationMode.REFERENCE
LEVEL_SEEDS = (0, 1, 2, 3, 4, 5)
"""Two seeds of each level (1 + seed % 3)."""


@cache
def built(seed: int) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    definition, blobs, _ = build_benchmark("lever", seed, 1, f"lever-s{seed}-v1")
    collision = unpack(next(b.data for b in blobs if b.key.endswith("/collision.npz")))
    return definition, collision


# --------------------------------------------------------------------------------------------
# Closed form: a lever tips exactly when M b > m a
# --------------------------------------------------------------------------------------------

BALL_R = 12.0
ARM_A = 120.0
"""The ball's arm: its centre sits between two edges at x = -ARM_A +- EDGE_SPREAD * BALL_R."""
ARM_B = 60.0
"""The counterweight's arm: a steel block centred at x = +ARM_B, so it must weigh about twice the ball."""
EDGE_SPREAD = 0.8
PLANK = (160.0, 20.0, 6.0)
"""Half length, half width and thickness of the plank; its top is the hinge's height."""
HINGE_Z = 100.0
STOP_DEG = 10.0
CW_FOOTPRINT = (30.0, 30.0)
TIP_TOLERANCE = 0.03
"""The balance is tested 3 % either side of M b = m a."""


def balance_scene(mass_ratio: float) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """A plank on a hinge (axis +y, range 0..STOP_DEG, no motor, no damping), mirror-symmetric about the hinge
    so its own weight gives no torque, the ball resting between two edges at -ARM_A and a steel block at
    +ARM_B whose mass is ``mass_ratio * m a / b``; both spawn 0.2 mm above their rest."""
    hl, hw, t = PLANK
    edge = EDGE_SPREAD * BALL_R
    cup_h = 0.5 * BALL_R
    solids = [box((-hl, -hw, HINGE_Z - t), (hl, hw, HINGE_Z))]
    for side in (-1.0, 1.0):  # the cup's edges at -ARM_A and their mirror images
        for lo, hi in ((-edge - 4.0, -edge), (edge, edge + 4.0)):
            x0, x1 = sorted((side * (ARM_A + lo), side * (ARM_A + hi)))
            solids.append(box((x0, -hw, HINGE_Z), (x1, hw, HINGE_Z + cup_h)))
    ball_m = props(MaterialId.STEEL_CARBON).density_kg_m3 * 4 / 3 * math.pi * BALL_R**3 * 1e-9
    cw_m = mass_ratio * ball_m * ARM_A / ARM_B
    lx, wy = CW_FOOTPRINT
    cw_h = cw_m / (props(MaterialId.STEEL_CARBON).density_kg_m3 * 1e-9) / (lx * wy)
    cw = box((ARM_B - lx / 2, -wy / 2, HINGE_Z + 0.2), (ARM_B + lx / 2, wy / 2, HINGE_Z + 0.2 + cw_h))
    ball_z = HINGE_Z + cup_h + math.sqrt(BALL_R**2 - edge**2) + 0.2
    bounds = zone((-400.0, -200.0, -20.0), (400.0, 200.0, 400.0))
    joint = JointSpec(
        type="hinge", axis=(0.0, 1.0, 0.0), anchor_mm=(0.0, 0.0, HINGE_Z), range=(0.0, STOP_DEG)
    )
    design = FamilyDesign(
        params={},
        description="balance",
        fixtures=[floor_part(bounds)],
        reference=[
            CadPart(
                "lever", PartRole.REFERENCE, LEVER_MATERIAL, None, compound(solids), fixed=False, joint=joint
            ),
            CadPart("counterweight", PartRole.REFERENCE, MaterialId.STEEL_CARBON, None, cw, fixed=False),
        ],
        payload=Payload(radius_mm=BALL_R, material=MaterialId.STEEL_CARBON, start_mm=(-ARM_A, 0.0, ball_z)),
        goal_zone=zone((380.0, 180.0, 380.0), (390.0, 190.0, 390.0)),
        forbidden_zones=[],
        build_zone=bounds,
        simulation_bounds=bounds,
        simulation=simulation_settings(0, duration_s=2.0).model_copy(update={"n_scenes": 1}),
    )
    definition, blobs, _ = build_from_design(design, "lever", 0, 1, "lever-balance")
    return definition, unpack(next(b.data for b in blobs if b.key.endswith("/collision.npz")))


def final_angle_deg(definition: BenchmarkDefinition, collision: dict[str, list[Piece]], label: str) -> float:
    model = build_model(definition, collision, REFERENCE)
    result, _, qpos = replay_scene(model, definition, 0)
    assert result.outcome is Outcome.TIMEOUT, result.detail
    return math.degrees(float(qpos[-1, int(model.joint(label).qposadr[0])]))


@pytest.mark.parametrize("side", [-1, 1])
def test_the_lever_tips_exactly_when_the_counterweight_moment_exceeds_the_ball_moment(side: int) -> None:
    """M b = (1 -+ 3 %) m a: 3 % under the balance the plank stays on its lower stop, 3 % over it turns
    all the way to its upper stop (the balance is unstable: turning lengthens b's lever and shortens a's)."""
    definition, collision = balance_scene(1.0 + side * TIP_TOLERANCE)
    masses = {p.label: p.mass_kg for p in definition.reference_solution}
    ball_m = props(MaterialId.STEEL_CARBON).density_kg_m3 * 4 / 3 * math.pi * BALL_R**3 * 1e-9
    assert masses["counterweight"] * ARM_B / (ball_m * ARM_A) == pytest.approx(1.0 + side * TIP_TOLERANCE)
    angle = final_angle_deg(definition, collision, "lever")
    if side < 0:
        assert angle < 0.5, angle
    else:
        assert angle > STOP_DEG - 0.5, angle


# --------------------------------------------------------------------------------------------
# The family
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", LEVEL_SEEDS)
def test_reference_solves_every_level_and_the_baseline_does_not(seed: int) -> None:
    definition, collision = built(seed)
    n = definition.simulation.n_scenes
    baseline = simulate(definition, collision, SimulationMode.BASELINE, n)
    assert baseline.outcome_counts.get(Outcome.GOAL_REACHED.value, 0) == 0, baseline.outcome_counts
    assert baseline.outcome_counts.get(Outcome.PHYSICS_INSTABILITY.value, 0) == 0, baseline.outcome_counts
    reference = simulate(definition, collision, REFERENCE, n)
    assert reference.success_share >= definition.simulation.required_success_share, reference.outcome_counts
    assert definition.params["complexity_level"] == 1 + seed % 3


@pytest.mark.parametrize("seed", LEVEL_SEEDS)
def test_design_is_a_passive_counterweight_lever_and_the_shelf_is_out_of_gravitys_reach(seed: int) -> None:
    definition, _ = built(seed)
    p = definition.params
    lever, counterweight = definition.reference_solution
    assert lever.joint is not None and lever.joint.type is JointType.HINGE and lever.motor is None
    assert lever.joint.damping > 0 and lever.joint.range == (0.0, p["sweep_deg"])
    assert counterweight.joint is None and counterweight.motor is None and not counterweight.fixed
    assert counterweight.mass_kg == pytest.approx(p["counterweight_mass_kg"], rel=1e-3)
    # Gravity only takes the ball down: the goal lies wholly above every spawn position.
    assert definition.goal_zone.min_mm[2] > definition.payload.envelope.max_mm[2]
    # The lever alone rests on its lower stop (its own moment on the tray's side); with the ball on the tray
    # the counterweight's moment exceeds the balance by the torque margin.
    ball_moment = p["ball_mass_kg"] * p["ball_arm_mm"]
    assert p["lever_moment_kg_mm"] < -0.1 * ball_moment
    k = p["counterweight_mass_kg"] * p["counterweight_arm_mm"] / (ball_moment - p["lever_moment_kg_mm"])
    assert k == pytest.approx(1.0 + p["torque_margin"], rel=1e-3)
    # Level 1 lifts with mechanical advantage (b > a), levels 2 and 3 against it (b < a).
    ratio = p["counterweight_arm_mm"] / p["ball_arm_mm"]
    assert ratio > 1.0 if p["complexity_level"] == 1 else ratio < 1.0
    assert bool(definition.forbidden_zones) == (p["complexity_level"] == 3)


def without_counterweight(definition: BenchmarkDefinition) -> BenchmarkDefinition:
    lever = definition.reference_solution[0]
    return definition.model_copy(update={"reference_solution": [lever]})


def with_counterweight_scaled(
    definition: BenchmarkDefinition, collision: dict[str, list[Piece]], share: float
) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """The counterweight made ``share`` times as heavy by scaling its height about its bottom face."""
    pieces = dict(collision)
    scaled: list[Piece] = []
    for vertices, faces in collision["counterweight"]:
        v = np.array(vertices, dtype=np.float64)
        bottom = v[:, 2].min()
        v[:, 2] = bottom + (v[:, 2] - bottom) * share
        scaled.append((v, faces))
    pieces["counterweight"] = scaled
    return definition, pieces


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_the_counterweight_is_what_lifts_the_ball(seed: int) -> None:
    """The lever without the counterweight stays down with the ball on it; a counterweight 10 % under the
    balance (M b = 0.9 (m a - m_l x_l)) does not lift it either, whatever the damping."""
    definition, collision = built(seed)
    p = definition.params
    alone = without_counterweight(definition)
    model = build_model(alone, collision, REFERENCE)
    for index in range(2):
        result, _, qpos = replay_scene(model, alone, index)
        assert result.outcome is not Outcome.GOAL_REACHED, result.detail
        assert math.degrees(qpos[:, int(model.joint("lever").qposadr[0])].max()) < 1.0
    light, pieces = with_counterweight_scaled(definition, collision, 0.9 / (1.0 + p["torque_margin"]))
    report = simulate(light, pieces, REFERENCE, 2)
    assert report.outcome_counts.get(Outcome.GOAL_REACHED.value, 0) == 0, report.outcome_counts


def test_no_motor_is_allowed_and_random_designs_draw_none() -> None:
    """The benchmark allows no motor (``max_motors`` 0), and the random-design sampler, whose designs must be
    valid, never puts one on a part (its reference has a joint, which would otherwise draw motorised parts)."""
    from engines.certify.sampler import Sampler
    from shared.materials import MATERIALS
    from shared.models import Caps

    definition, collision = built(0)
    assert definition.max_motors == 0
    caps = Caps(
        max_unit_cost_usd=1e4, max_weight_kg=1e3, headroom_factor=1.5, reference_unit_cost_usd=1.0,
        reference_weight_kg=1.0, cost_basis="test",
    )  # fmt: skip
    fixtures = {p.label: collision[p.label] for p in definition.fixtures}
    sampler = Sampler(definition, fixtures, caps, {m: 4.0 for m in MATERIALS}, seed=0)
    drawn = [d for d in (sampler.draw(i)[0] for i in range(200)) if d is not None]
    assert len(drawn) > 100 and all(p.motor is None for d in drawn for p in d.parts)
