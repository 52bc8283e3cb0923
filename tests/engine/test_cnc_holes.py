"""CNC milling's hole and fin checks, as quote services make them: drilled-hole depth over diameter
(``CNC.HOLE_DEPTH``), holes sized as a metric tap drill (``CNC.TAPPABLE_HOLE``) and tall thin walls
(``CNC.FIN_ASPECT``). Each part has a twin without the finding."""

from __future__ import annotations

import numpy as np
import pytest
from build123d import Align, Box, BuildPart, Hole, Locations, export_stl

from engines.manufacturing.analysis import evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import extract, facts_from_shape
from engines.manufacturing.facts import PartFacts
from shared.models import DfmFinding, MaterialId, Severity
from shared.models import ManufacturingMethod as M

HOLE, TAP, FIN = "CNC.HOLE_DEPTH", "CNC.TAPPABLE_HOLE", "CNC.FIN_ASPECT"


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def found(part, catalog) -> dict[str, list[DfmFinding]]:  # type: ignore[no-untyped-def]
    return by_rule(facts_from_shape(part, "test"), catalog)


def by_rule(facts: PartFacts, catalog) -> dict[str, list[DfmFinding]]:  # type: ignore[no-untyped-def]
    _, findings, _ = evaluate(facts, M.CNC_MILLING, MaterialId.ALUMINUM_6061, 10, catalog)
    out: dict[str, list[DfmFinding]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def drilled_block(diameter: float, depth: float, height: float = 40.0):  # type: ignore[no-untyped-def]
    """A 40 x 40 block with one blind hole drilled from the top."""
    with BuildPart() as p:
        Box(40, 40, height, align=(Align.CENTER, Align.CENTER, Align.MIN))
        with Locations((0, 0, height)):
            Hole(diameter / 2, depth=depth)
    return p.part


def fin_on_base(thickness: float, height: float = 20.0):  # type: ignore[no-untyped-def]
    """A 40 x 40 x 10 base with a wall ``thickness`` thick, ``height`` tall, 30 long in its middle."""
    with BuildPart() as p:
        Box(40, 40, 10, align=(Align.CENTER, Align.CENTER, Align.MIN))
        with Locations((0, 0, 10)):
            Box(thickness, 30, height, align=(Align.CENTER, Align.CENTER, Align.MIN))
    return p.part


# --- hole recognition -----------------------------------------------------------------------------------


def test_a_drilled_hole_is_recognised_with_its_diameter_axis_and_depth() -> None:
    f = facts_from_shape(drilled_block(3.0, 30.0), "t")
    assert len(f.hole_diameter) == 1
    assert f.hole_diameter[0] == pytest.approx(3.0)
    assert f.hole_depth[0] == pytest.approx(30.0)
    assert abs(f.hole_axis[0] @ np.array([0, 0, 1])) == pytest.approx(1.0)
    assert sorted([f.hole_p0[0][2], f.hole_p1[0][2]]) == pytest.approx([10.0, 40.0])
    assert f.face_kinds[int(f.hole_faces[0][0])] == "cylinder"
    # the facts round-trip through the cache with the holes
    g = PartFacts.from_npz(f.to_npz())
    assert np.array_equal(g.hole_diameter, f.hole_diameter) and np.array_equal(g.hole_faces, f.hole_faces)


def test_a_boss_and_a_fillet_are_not_holes() -> None:
    from build123d import Cylinder

    from engines.manufacturing import samples

    with BuildPart() as p:
        Box(40, 40, 10, align=(Align.CENTER, Align.CENTER, Align.MIN))
        with Locations((0, 0, 10)):
            Cylinder(5, 10, align=(Align.CENTER, Align.CENTER, Align.MIN))
    assert len(facts_from_shape(p.part, "t").hole_diameter) == 0  # convex: a boss
    filleted = facts_from_shape(samples.pocket_block(4.0), "t")  # concave quarter turns: corner fillets
    assert "cylinder" in filleted.face_kinds and len(filleted.hole_diameter) == 0


# --- CNC.HOLE_DEPTH -----------------------------------------------------------------------------------------


def test_a_hole_ten_diameters_deep_warns_and_a_three_diameter_twin_is_drilled(catalog) -> None:  # type: ignore[no-untyped-def]
    [deep] = found(drilled_block(3.0, 30.0), catalog)[HOLE]
    assert deep.severity == Severity.WARNING and "peck drilling" in deep.title
    assert deep.measured == pytest.approx(10.0) and deep.limit == 4.0 and deep.unit == "depth/diameter"
    assert deep.face_ids and deep.point_mm is not None
    [shallow] = found(drilled_block(3.0, 9.0), catalog)[HOLE]
    assert shallow.severity == Severity.INFO and "drilled" in shallow.title
    assert shallow.measured == pytest.approx(3.0)


def test_beyond_ten_diameters_is_deep_hole_drilling(catalog) -> None:  # type: ignore[no-untyped-def]
    [deep] = found(drilled_block(3.0, 36.0), catalog)[HOLE]
    assert deep.severity == Severity.WARNING and "deep-hole drilling" in deep.title
    assert deep.measured == pytest.approx(12.0) and deep.limit == 10.0


def test_stl_input_gets_no_hole_finding(catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "block.stl"
    export_stl(drilled_block(3.0, 30.0), str(path))
    rules = by_rule(extract(path.read_bytes(), "stl"), catalog)
    assert HOLE not in rules and TAP not in rules


# --- CNC.TAPPABLE_HOLE --------------------------------------------------------------------------------------


def test_a_2_5_mm_hole_can_be_threaded_m3_and_a_2_7_mm_twin_cannot(catalog) -> None:  # type: ignore[no-untyped-def]
    [tap] = found(drilled_block(2.5, 6.0), catalog)[TAP]
    assert tap.severity == Severity.INFO and "can be threaded M3" in tap.title
    assert tap.limit == 2.5 and tap.measured == pytest.approx(2.5) and tap.face_ids
    assert TAP not in found(drilled_block(2.7, 6.0), catalog)


# --- CNC.FIN_ASPECT -----------------------------------------------------------------------------------------


def test_a_1_mm_fin_20_mm_tall_warns_and_a_5_mm_wall_does_not(catalog) -> None:  # type: ignore[no-untyped-def]
    [fin] = found(fin_on_base(1.0), catalog)[FIN]
    assert fin.severity == Severity.WARNING
    assert fin.measured == pytest.approx(20.0, rel=0.05) and fin.limit == 8.0
    assert fin.unit == "height/thickness" and len(fin.face_ids) >= 2
    assert FIN not in found(fin_on_base(5.0), catalog)


def test_a_plain_block_has_no_hole_or_fin_finding(catalog) -> None:  # type: ignore[no-untyped-def]
    with BuildPart() as p:
        Box(40, 30, 20)
    rules = found(p.part, catalog)
    assert not {HOLE, TAP, FIN} & set(rules)
