"""Design validation (no Temporal): every problem is a finding that names the offending part."""

from __future__ import annotations

import io

import pytest
import trimesh
from build123d import Shape

from engines.cad.build import build_benchmark
from engines.cad.design import MAX_FINDINGS, MAX_MESSAGE_CHARS, DesignInput, check_design, mesh_solid
from engines.cad.export import step_bytes
from engines.cad.primitives import box
from engines.manufacturing.extract import PartError
from shared.models import BenchmarkDefinition, PartRole

ALU = {"material": "aluminum_6061", "method": "cnc"}


@pytest.fixture(scope="module")
def chute() -> tuple[BenchmarkDefinition, dict[str, Shape], bytes]:
    """chute seed 0 (build zone x -49..196, y -47..47, z 0..187; pit |x|, |y| < 24; bin from x 92), its
    fixtures and its reference chute's STEP."""
    definition, _, shapes = build_benchmark("chute", 0, 1, "chute-s0-v1")
    fixtures = {p.label: shapes[p.label] for p in definition.fixtures}
    return definition, fixtures, step_bytes(shapes["chute"], "chute")


def _step(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> bytes:
    return step_bytes(box(lo, hi))


def _stl_cube(size: float) -> bytes:
    buf = io.BytesIO()
    trimesh.creation.box((size, size, size)).export(buf, file_type="stl")
    return buf.getvalue()


def test_the_reference_chute_as_a_design_is_valid(chute) -> None:  # type: ignore[no-untyped-def]
    definition, fixtures, data = chute
    check = check_design(
        definition, [DesignInput({"label": "ramp", **ALU}, data, "step", "ramp.step")], fixtures
    )
    assert check.valid and check.findings == []
    (part,) = check.parts
    assert part.spec.role == PartRole.DESIGN and part.spec.mass_kg > 0
    assert part.spec.bbox == definition.reference_solution[0].bbox


def test_each_problem_names_its_part(chute) -> None:  # type: ignore[no-untyped-def]
    definition, fixtures, data = chute
    z = definition.payload.start_mm[2]  # a box around the ball's spawn point
    block = _step((40.0, 30.0, 0.0), (60.0, 45.0, 20.0))
    inputs = [
        DesignInput({"label": "far", **ALU, "placement": {"position_mm": [5000, 0, 0]}}, block, "step", "a"),
        DesignInput({"label": "gold", "material": "unobtainium", "method": "cnc"}, block, "step", "b"),
        DesignInput({"label": "Bad Label", **ALU}, block, "step", "c"),
        DesignInput({"label": "moulded", "material": "aluminum_6061", "method": "im"}, block, "step", "d"),
        DesignInput(
            {"label": "flap", **ALU, "joint": {"type": "hinge", "axis": [0, 0, 0], "range": [10, -10]}},
            block,
            "step",
            "e",
        ),
        DesignInput(
            {"label": "lift", **ALU, "motor": {"mode": "on_off", "max_effort": 1, "effort": 3, "duty": 2}},
            block,
            "step",
            "f",
        ),
        DesignInput({"label": "floor", **ALU}, block, "step", "g"),
        DesignInput({"label": "ramp", **ALU}, data, "step", "h"),
        DesignInput({"label": "ramp", **ALU}, data, "step", "i"),
        DesignInput({"label": "pit", **ALU}, _step((-10.0, -10.0, 0.0), (10.0, 10.0, 5.0)), "step", "j"),
        DesignInput({"label": "broken", **ALU}, b"ISO-10303-21;\nnot really", "step", "k"),
        DesignInput({"label": "ball", **ALU}, _step((-5.0, -5.0, z - 5.0), (5.0, 5.0, z + 5.0)), "step", "l"),
    ]
    check = check_design(definition, inputs, fixtures)
    assert not check.valid
    found = {(f.rule, p) for f in check.findings for p in f.parts}
    for expected in (
        ("design.outside_build_zone", "far"),
        ("part.unknown_material", "gold"),
        ("part.invalid_label", "Bad Label"),
        ("part.method_material", "moulded"),
        ("joint.invalid_axis", "flap"),
        ("joint.invalid_range", "flap"),
        ("motor.without_joint", "lift"),
        ("motor.invalid_limit", "lift"),
        ("motor.invalid_parameter", "lift"),
        ("part.label_clash", "floor"),
        ("part.duplicate_label", "ramp"),
        ("design.in_forbidden_zone", "pit"),
        ("part.unreadable", "broken"),
        ("payload.design_interference", "ball"),
    ):
        assert expected in found, (expected, sorted(found))
    assert all(f.parts for f in check.findings)


def test_no_parts_is_a_finding_not_a_crash(chute) -> None:  # type: ignore[no-untyped-def]
    definition, fixtures, _ = chute
    check = check_design(definition, [], fixtures)
    assert not check.valid and [f.rule for f in check.findings] == ["design.no_parts"]


def test_an_stl_part_becomes_a_solid_and_is_checked_like_a_step(chute) -> None:  # type: ignore[no-untyped-def]
    definition, fixtures, _ = chute
    stl = _stl_cube(20.0)
    solid = mesh_solid(stl)
    assert solid.volume == pytest.approx(8000.0, rel=1e-6)
    placed = {"label": "cube", "material": "abs", "method": "fdm", "placement": {"position_mm": [50, 0, 40]}}
    check = check_design(definition, [DesignInput(placed, stl, "stl", "cube.stl")], fixtures)
    assert check.valid, check.findings
    assert check.parts[0].spec.bbox.min_mm == pytest.approx((40.0, -10.0, 30.0))
    sunk = {**placed, "label": "sunk", "placement": {"position_mm": [50, 0, 0]}}  # half inside the floor slab
    check = check_design(definition, [DesignInput(sunk, stl, "stl", "sunk.stl")], fixtures)
    assert ("part.interference", "sunk") in {(f.rule, p) for f in check.findings for p in f.parts}
    with pytest.raises(PartError):
        mesh_solid(stl[:200])


def test_a_report_stays_small_whatever_the_design_holds(chute) -> None:  # type: ignore[no-untyped-def]
    definition, fixtures, _ = chute
    block = _step((40.0, 30.0, 0.0), (60.0, 45.0, 20.0))
    noisy = {"label": "noisy", **ALU, **{f"extra_{i:04d}_{'x' * 150}": i for i in range(2000)}}
    parts = [DesignInput({**noisy, "label": f"noisy{j}"}, block, "step", "n") for j in range(32)]
    check = check_design(definition, parts, fixtures)
    assert not check.valid and len(check.findings) <= MAX_FINDINGS
    assert all(len(f.message) <= MAX_MESSAGE_CHARS for f in check.findings)
    assert sum(len(f.model_dump_json()) for f in check.findings) < 64 * 1024
