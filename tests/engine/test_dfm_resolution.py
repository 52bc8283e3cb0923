"""Every DFM comparison with a limit allows the measurement's resolution, stated once in
``engines.manufacturing.rules`` and in every quote's parameters: a value within it of its limit is not a
finding, one beyond it is. Each part has a twin just past the resolution."""

from __future__ import annotations

import math

import pytest
from build123d import Align, Axis, Box, BuildPart, chamfer

from engines.manufacturing import samples
from engines.manufacturing.analysis import analyse, evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import facts_from_shape
from engines.manufacturing.metrics import part_metrics
from engines.manufacturing.rules import (
    ANGULAR_RESOLUTION_DEG,
    MEASUREMENT_RESOLUTION_MM,
    above,
    below,
    fits,
)
from shared.models import DfmFinding, MaterialId, Severity
from shared.models import ManufacturingMethod as M


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def found(part, method: M, material: MaterialId, catalog) -> dict[str, list[DfmFinding]]:  # type: ignore[no-untyped-def]
    _, findings, _ = evaluate(facts_from_shape(part, "test"), method, material, 10, catalog)
    out: dict[str, list[DfmFinding]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def test_the_resolution_is_one_setting_and_the_comparisons_allow_it() -> None:
    assert 0 < MEASUREMENT_RESOLUTION_MM < 0.1 and 0 < ANGULAR_RESOLUTION_DEG < 0.5
    assert not below(0.799, 0.8) and below(0.7, 0.8)
    assert not above(45.05, 45.0, ANGULAR_RESOLUTION_DEG) and above(45.5, 45.0, ANGULAR_RESOLUTION_DEG)
    assert fits((250.005, 10, 10), (250, 210, 220)) and not fits((250.5, 10, 10), (250, 210, 220))


def test_the_report_states_the_resolution(catalog) -> None:  # type: ignore[no-untyped-def]
    a = analyse(
        facts_from_shape(samples.plate(2.0), "t"), M.CNC_MILLING, MaterialId.ALUMINUM_6061, 10, catalog
    )
    assert a.quote.parameters["dfm_resolution_mm"] == MEASUREMENT_RESOLUTION_MM
    assert a.quote.parameters["dfm_resolution_deg"] == ANGULAR_RESOLUTION_DEG


# --- lengths --------------------------------------------------------------------------------------------


def test_a_wall_within_the_resolution_of_the_minimum_is_not_thin(catalog) -> None:  # type: ignore[no-untyped-def]
    limit = catalog.params(M.CNC_MILLING, MaterialId.ALUMINUM_6061).min_wall_mm
    assert limit == pytest.approx(0.8)
    assert "CNC.THIN_WALL" not in found(
        samples.plate(0.799), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog
    )
    [thin] = found(samples.plate(0.7), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog)["CNC.THIN_WALL"]
    assert thin.measured == pytest.approx(0.7) and thin.limit == limit


def test_a_moulded_wall_within_the_resolution_of_the_target_is_fine(catalog) -> None:  # type: ignore[no-untyped-def]
    target = catalog.params(M.INJECTION_MOLDING, MaterialId.ABS).wall_target_min_mm
    assert "IM.WALL_MIN" not in found(
        samples.plate(target - 0.005), M.INJECTION_MOLDING, MaterialId.ABS, catalog
    )
    [thin] = found(samples.plate(target - 0.1), M.INJECTION_MOLDING, MaterialId.ABS, catalog)["IM.WALL_MIN"]
    assert thin.severity == Severity.WARNING


def test_a_fillet_within_the_resolution_of_the_tool_radius_is_fine(catalog) -> None:  # type: ignore[no-untyped-def]
    r = catalog.process(M.CNC_MILLING).limits.tool_radius_standard_mm
    near = found(samples.pocket_block(r - 0.005), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog)
    assert "CNC.INTERNAL_CORNER_RADIUS" not in near
    below_r = found(samples.pocket_block(r - 0.2), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog)
    assert below_r["CNC.INTERNAL_CORNER_RADIUS"][0].measured == pytest.approx(r - 0.2)


# --- angles ---------------------------------------------------------------------------------------------


def chamfered_block(from_horizontal_deg: float) -> object:
    """A 40 x 20 x 20 block on the bed whose bottom +X edge is chamfered 10 mm along the bottom, its face
    ``from_horizontal_deg`` above horizontal (45: the classic self-supporting chamfer)."""
    run = 10.0
    rise = run * math.tan(math.radians(from_horizontal_deg))
    with BuildPart() as p:
        Box(40, 20, 20, align=(Align.CENTER, Align.CENTER, Align.MIN))
        edge = p.edges().filter_by(Axis.Y).group_by(Axis.Z)[0].sort_by(Axis.X)[-1]
        chamfer(edge, length=rise, length2=run)
    return p.part


@pytest.mark.parametrize("from_horizontal_deg", [45.0, 45.0 - 0.5 * ANGULAR_RESOLUTION_DEG])
def test_a_45_degree_chamfer_is_self_supporting(from_horizontal_deg: float, catalog) -> None:  # type: ignore[no-untyped-def]
    """The overhang limit is 45 deg from vertical; a chamfer at 45 deg (or within the angular resolution of
    it) needs no support, as the rule's own fix says."""
    assert catalog.process(M.FDM_PRINTING).slicing.overhang_limit_deg == 45.0
    part = chamfered_block(from_horizontal_deg)
    assert "FDM.OVERHANG" not in found(part, M.FDM_PRINTING, MaterialId.PLA, catalog)
    assert part_metrics(facts_from_shape(part, "t")).fdm_support_volume_mm3 == 0.0


def test_a_30_degree_from_horizontal_overhang_needs_support(catalog) -> None:  # type: ignore[no-untyped-def]
    part = chamfered_block(30.0)
    [overhang] = found(part, M.FDM_PRINTING, MaterialId.PLA, catalog)["FDM.OVERHANG"]
    assert overhang.measured == pytest.approx(60.0, abs=0.1)  # degrees from vertical
    assert part_metrics(facts_from_shape(part, "t")).fdm_support_volume_mm3 > 0


def test_a_draft_within_the_resolution_of_the_minimum_is_not_a_warning(catalog) -> None:  # type: ignore[no-untyped-def]
    resin = catalog.params(M.INJECTION_MOLDING, MaterialId.ABS)
    near = found(
        samples.open_box(draft_deg=resin.min_draft_deg - 0.05), M.INJECTION_MOLDING, MaterialId.ABS, catalog
    )
    assert all(f.severity == Severity.INFO for f in near.get("IM.DRAFT", []))
    none = found(samples.open_box(draft_deg=0.0), M.INJECTION_MOLDING, MaterialId.ABS, catalog)["IM.DRAFT"]
    assert none[0].severity == Severity.WARNING


def _drafted_boss(draft_deg: float) -> object:
    """A 60 x 40 x 3 plate with a 20 mm tall round boss, drafted ``draft_deg`` (its sides a cone), on top;
    the plate's own sides drafted 2 deg by a chamfer-free taper are left out: they are on the parting line."""
    from build123d import Cone, Pos

    r = 5.0
    top = r - 20 * math.tan(math.radians(draft_deg))
    plate = Box(60, 40, 3, align=(Align.CENTER, Align.CENTER, Align.MIN))
    return plate + Pos(0, 0, 3) * Cone(r, top, 20, align=(Align.CENTER, Align.CENTER, Align.MIN))


def test_a_drafted_cone_is_measured_as_the_cone_not_its_facets(catalog) -> None:  # type: ignore[no-untyped-def]
    """A boss drafted 1 deg is not flagged (its facets tilt 0.2-1.8 deg either way, the face is 1 deg); its
    twin drafted 0.3 deg is (the plate's square sides, 0 deg, are flagged in both)."""
    from build123d import GeomType

    def drafts(draft: float) -> tuple[int, dict[Severity, DfmFinding]]:
        part = _drafted_boss(draft)
        [cone] = [i for i, face in enumerate(part.faces()) if face.geom_type == GeomType.CONE]
        facts = facts_from_shape(part, "boss")
        _, found, _ = evaluate(facts, M.INJECTION_MOLDING, MaterialId.ABS, 1000, catalog, pull_axis=(0, 0, 1))
        return cone, {f.severity: f for f in found if f.rule_id == "IM.DRAFT"}

    cone, fine = drafts(1.0)
    assert all(cone not in f.face_ids for f in fine.values()) and fine[Severity.WARNING].measured == 0
    cone, low = drafts(0.3)
    assert cone in low[Severity.WARNING].face_ids
