"""Assemblies and bought parts: part-to-part joints (validation, the MuJoCo tree, motion through the chain),
the catalogue of bought parts (its rows, the motor limits that come from an item, and what a design buys)."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from engines.cad.assembly import TOUCH_MM, assembly_findings
from engines.physics.mjcf import compile_scene_xml
from engines.physics.runner import SceneCompileError, build_model
from shared import cots
from shared.models import JointSpec, MotorSpec, PartSpec, SimulationMode
from tests.engine.test_physics import FLOOR_PIECE, box_piece, definition, part

REFERENCE = SimulationMode.REFERENCE
BASE = box_piece((40, 40, 20), (0, 0, 50))
"""A block whose top face is z = 60."""
ARM = box_piece((200, 20, 10), (100, 0, 65))
"""A bar lying on the base's top face, reaching 200 mm along +x from the base's centre."""


def spec(label: str, piece, joint: dict | None = None, motor: dict | None = None) -> PartSpec:  # type: ignore[no-untyped-def]
    return part(label, piece, role="reference").model_copy(
        update={
            "joint": JointSpec.model_validate(joint) if joint else None,
            "motor": MotorSpec.model_validate(motor) if motor else None,
        }
    )


SERVO = {"mode": "constant_velocity", "item": "servo_ds3218", "max_effort": 2.0, "velocity": 90.0}


def rules(parts: list[PartSpec]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in assembly_findings(parts):
        out.setdefault(f.rule, []).extend(f.parts)
    return out


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def test_a_motorised_base_with_a_fastened_arm_is_valid() -> None:
    base = spec("base", BASE, {"type": "hinge", "axis": (0, 0, 1), "anchor_mm": (0, 0, 50)}, SERVO)
    arm = spec("arm", ARM, {"type": "fixed", "parent": "base"})
    assert assembly_findings([base, arm]) == []


@pytest.mark.parametrize(
    ("joint", "rule"),
    [
        ({"type": "fixed", "parent": "ghost"}, "joint.unknown_parent"),
        ({"type": "fixed", "parent": "arm"}, "joint.unknown_parent"),
        ({"type": "fixed"}, "joint.fixed_without_parent"),
        ({"type": "fixed", "parent": "base", "fastener": "rivet_9000"}, "joint.unknown_item"),
        ({"type": "hinge", "parent": "base", "bearing": "bearing_x"}, "joint.unknown_item"),
        ({"type": "hinge", "parent": "base", "anchor_mm": (190, 0, 65)}, "joint.anchor_off_part"),
    ],
)
def test_bad_joints_are_named_findings(joint: dict, rule: str) -> None:
    base = spec("base", BASE)
    arm = spec("arm", ARM, joint)
    found = rules([base, arm])
    assert found.get(rule) == ["arm"], found


def test_parts_that_do_not_touch_cannot_be_fastened() -> None:
    far = box_piece((20, 20, 20), (0, 0, 60 + 10 + TOUCH_MM + 5))
    assert rules([spec("base", BASE), spec("far", far, {"type": "fixed", "parent": "base"})]) == {
        "joint.anchor_off_part": ["far"]
    }


def test_a_cycle_of_fixed_joints_is_one_finding_naming_its_parts() -> None:
    a = spec("a", BASE, {"type": "fixed", "parent": "b"})
    b = spec("b", ARM, {"type": "fixed", "parent": "a"})
    found = assembly_findings([a, b])
    assert [(f.rule, f.parts) for f in found] == [("joint.cycle", ["a", "b"])]
    assert "a -> b -> a" in found[0].message


L16 = {"mode": "sinusoidal", "item": "linear_screw_l16_35to1", "max_effort": 40.0, "amplitude": 5.0}


@pytest.mark.parametrize(
    ("joint", "motor", "rule", "limit"),
    [
        ({"type": "hinge"}, {"mode": "constant_velocity", "max_effort": 1.0}, "motor.unknown_item", None),
        ({"type": "hinge"}, {**SERVO, "item": "warp_drive"}, "motor.unknown_item", None),
        ({"type": "slide"}, SERVO, "motor.item_mismatch", None),
        ({"type": "hinge"}, {**SERVO, "max_effort": 2.5}, "motor.over_item_limit", 2.10),
        ({"type": "hinge"}, {**SERVO, "velocity": 500.0}, "motor.over_item_limit", 428.0),
        (
            {"type": "slide", "range": (-21, 21)},
            {
                "mode": "sinusoidal",
                "item": "linear_screw_l16_35to1",
                "max_effort": 40.0,
                "amplitude": 20.0,
                "frequency_hz": 1.0,
            },
            "motor.over_item_limit",
            16.0,
        ),
        # a linear motor's slide must stay within its stroke (the L16-50's 50 mm): too long, or unbounded
        ({"type": "slide", "range": (-30, 30)}, L16, "motor.over_item_limit", 50.0),
        ({"type": "slide"}, L16, "motor.over_item_limit", 50.0),
        ({"type": "fixed", "parent": "base"}, SERVO, "motor.on_fixed_joint", None),
    ],
)
def test_motors_are_catalogue_items_within_their_limits(
    joint: dict, motor: dict, rule: str, limit: float | None
) -> None:
    found = [
        f
        for f in assembly_findings([spec("base", BASE), spec("arm", ARM, joint, motor)])
        if f.parts == ["arm"]
    ]
    assert [f.rule for f in found] == [rule]
    assert found[0].limit == limit
    if rule != "motor.on_fixed_joint":
        assert (motor.get("item") or "motors:") in found[0].message


# --------------------------------------------------------------------------------------------
# Bought parts
# --------------------------------------------------------------------------------------------


def test_every_catalogue_row_cites_its_sources_and_has_positive_limits() -> None:
    c = cots.CATALOGUE
    rows = [*c.motors.values(), *c.fasteners.values(), *c.bearings.values(), *c.springs.values()]
    assert len(c.motors) >= 6 and c.fasteners and c.bearings and c.springs
    kinds = {m.kind for m in c.motors.values()}
    assert kinds == {cots.MotorKind.ROTARY, cots.MotorKind.LINEAR}
    names = " ".join(m.name.lower() for m in c.motors.values())
    assert all(word in names for word in ("servo", "stepper", "gearmotor", "linear"))
    for row in rows:
        assert row.price_usd > 0 and row.mass_kg > 0
        assert len(row.source) > 20 and len(row.price_source) > 20
    for m in c.motors.values():  # a linear motor has a stroke, a rotary one none
        assert (m.stroke_mm is not None) == (m.kind is cots.MotorKind.LINEAR)
    with pytest.raises(ValueError, match="stroke_mm"):
        cots.CatalogueMotor.model_validate({**c.motors["linear_belt_nema17"].model_dump(), "stroke_mm": None})


def test_the_shortest_linear_motor_that_covers_a_travel_is_chosen() -> None:
    assert cots.linear_for(40.0, 30.0, 10.0) == "linear_screw_l16_35to1"
    assert cots.linear_for(40.0, 30.0, 100.0) == "linear_belt_nema17"  # too fast for the lead screw
    assert cots.linear_for(600.0, 5.0, 300.0) == "linear_belt_nema17_1000"
    with pytest.raises(ValueError, match="no linear motor travels 5000 mm"):
        cots.linear_for(5000.0, 5.0, 300.0)


def test_a_design_buys_its_motor_fasteners_and_bearings() -> None:
    base = spec("base", BASE, {"type": "hinge", "anchor_mm": (0, 0, 50), "bearing": "bearing_608_2z"}, SERVO)
    arm = spec("arm", ARM, {"type": "fixed", "parent": "base", "fasteners": 3})
    cost, mass, lines = cots.bought_totals([base, arm])
    by_item = {x.item: x for x in lines}
    assert set(by_item) == {"servo_ds3218", "bearing_608_2z", "screw_m4x12_iso4762"}
    assert by_item["screw_m4x12_iso4762"].count == 3 and by_item["bearing_608_2z"].count == 2
    servo, screw, bearing = (
        cots.motor("servo_ds3218"),
        cots.fastener("screw_m4x12_iso4762"),
        cots.bearing("bearing_608_2z"),
    )
    assert servo and screw and bearing
    assert cost == pytest.approx(servo.price_usd + 3 * screw.price_usd + 2 * bearing.price_usd)
    assert mass == pytest.approx(servo.mass_kg + 3 * screw.mass_kg + 2 * bearing.mass_kg)
    assert by_item["servo_ds3218"].used_by == ["base"]


# --------------------------------------------------------------------------------------------
# Simulation: the MuJoCo tree
# --------------------------------------------------------------------------------------------


def _scene(parts: list[PartSpec], pieces: dict[str, object]):  # type: ignore[no-untyped-def]
    d, collision = definition({"floor": FLOOR_PIECE}, reference=pieces, start=(-800, 0, 20), duration_s=1.0)
    return d.model_copy(update={"reference_solution": parts}), collision


def test_children_nest_under_their_parent_and_move_with_it() -> None:
    """A servo turns the base at 90 deg/s about z; the arm fastened to it sweeps with it, so after 1 s its
    far end has turned 90 degrees about the base's axis (within 3 degrees)."""
    base = spec("base", BASE, {"type": "hinge", "axis": (0, 0, 1), "anchor_mm": (0, 0, 50)}, SERVO)
    arm = spec("arm", ARM, {"type": "fixed", "parent": "base"})
    d, collision = _scene([arm, base], {"base": BASE, "arm": ARM})  # children may come first
    xml = compile_scene_xml(d, collision, REFERENCE)
    assert '<body name="arm" pos="0.1 0 0.015">' in xml  # its centre, relative to the base at its anchor
    model = build_model(d, collision, REFERENCE)
    assert model.body_parentid[model.body("arm").id] == model.body("base").id
    assert model.joint("base").type[0] == mujoco.mjtJoint.mjJNT_HINGE
    assert "arm" not in {model.joint(j).name for j in range(model.njnt)}  # welded: no joint of its own
    data = mujoco.MjData(model)
    for _ in range(int(1.0 / d.simulation.timestep_s)):
        data.ctrl[:] = math.radians(90.0)
        mujoco.mj_step(model, data)
    centre = data.xipos[model.body("arm").id]
    angle = math.degrees(math.atan2(centre[1], centre[0]))
    assert angle == pytest.approx(90.0, abs=3.0)


def test_a_hinge_on_a_fastened_chain_swings_about_its_anchor() -> None:
    """A post held by the world, a beam fastened to it and a bar hinged to the beam's end, released
    horizontally: the bar swings down under gravity about the anchor, so its centre stays 50 mm from the
    anchor (within 1 mm) while it falls."""
    post = box_piece((20, 20, 300), (0, 0, 150))
    beam = box_piece((200, 20, 20), (100, 0, 310))
    bar = box_piece((100, 10, 10), (245, 0, 295))
    anchor = (195.0, 0.0, 300.0)
    parts = [
        spec("post", post),
        spec("beam", beam, {"type": "fixed", "parent": "post"}),
        spec("bar", bar, {"type": "hinge", "axis": (0, 1, 0), "parent": "beam", "anchor_mm": anchor}),
    ]
    assert assembly_findings(parts) == []
    d, collision = _scene(parts, {"post": post, "beam": beam, "bar": bar})
    model = build_model(d, collision, REFERENCE)
    assert model.body_parentid[model.body("bar").id] == model.body("beam").id
    data = mujoco.MjData(model)
    drops = []
    for _ in range(150):
        mujoco.mj_step(model, data)
        centre = data.xipos[model.body("bar").id] * 1000.0
        assert float(np.linalg.norm(centre - anchor)) == pytest.approx(50.0, abs=1.0)
        drops.append(295.0 - centre[2])
    assert drops[-1] > 20.0  # it swung down


def test_the_compiler_refuses_what_validation_reports() -> None:
    d, collision = _scene([spec("arm", ARM, {"type": "fixed", "parent": "ghost"})], {"arm": ARM})
    with pytest.raises(SceneCompileError, match="ghost"):
        compile_scene_xml(d, collision, REFERENCE)
    a = spec("a", BASE, {"type": "hinge", "parent": "b"})
    b = spec("b", ARM, {"type": "hinge", "parent": "a"})
    d, collision = _scene([a, b], {"a": BASE, "b": ARM})
    with pytest.raises(SceneCompileError, match="cycle"):
        compile_scene_xml(d, collision, REFERENCE)


def test_a_benchmark_that_allows_no_motor_refuses_a_motorised_design() -> None:
    base = spec("base", BASE, {"type": "hinge", "axis": (0, 0, 1), "anchor_mm": (0, 0, 50)}, SERVO)
    arm = spec("arm", ARM, {"type": "fixed", "parent": "base"})
    found = assembly_findings([base, arm], max_motors=0)
    assert [(f.rule, f.parts, f.limit) for f in found] == [("design.too_many_motors", ["base"], 0.0)]
    assert "allows no motor" in found[0].message
    assert assembly_findings([base, arm], max_motors=1) == [] == assembly_findings([base, arm])


def test_joints_and_motors_stored_before_assemblies_dump_as_they_did() -> None:
    """A joint to the world and a motor without an item (a definition stored before this catalogue) dump the
    same keys as then, so its bytes, and the ids that hash them, do not change on a re-dump."""
    old_joint = {
        "type": "slide",
        "axis": [0.0, 0.0, 1.0],
        "anchor_mm": None,
        "range": [-2.0, 100.0],
        "damping": 0.0,
    }
    assert JointSpec.model_validate(old_joint).model_dump(mode="json") == old_joint
    old_motor = MotorSpec.model_validate({"mode": "on_off", "max_effort": 2.0, "effort": 1.0})
    assert "item" not in old_motor.model_dump(mode="json")
    fixed = JointSpec.model_validate({"type": "fixed", "parent": "base"}).model_dump(mode="json")
    assert fixed["parent"] == "base" and fixed["fasteners"] == 2 and "bearing" not in fixed
    assert JointSpec.model_validate(fixed).model_dump(mode="json") == fixed
