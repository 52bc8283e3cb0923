"""Manufacturing engine: geometry facts, DFM rules on parts with planted defects, and the analysis that
ties them to pricing. Each defect has a twin without it, so a rule that fires on everything fails here."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from build123d import Box, export_stl

from engines.cad.export import step_bytes
from engines.manufacturing import samples
from engines.manufacturing.analysis import analyse, evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import PartError, extract, facts_from_shape
from engines.manufacturing.facts import PartFacts
from engines.manufacturing.metrics import part_metrics
from shared.models import ManufacturingMethod as M
from shared.models import MaterialId, PriceTable, Severity

CNC, IM, FDM = M.CNC_MILLING, M.INJECTION_MOLDING, M.FDM_PRINTING


def facts(part) -> PartFacts:  # type: ignore[no-untyped-def]
    return facts_from_shape(part, "test")


def rules(part, method: M, material: MaterialId = MaterialId.ABS, **options) -> dict[str, list]:  # type: ignore[no-untyped-def]
    _, found, _ = evaluate(facts(part), method, material, 100, load_catalog(), **options)
    out: dict[str, list] = {}
    for f in found:
        out.setdefault(f.rule_id, []).append(f)
    return out


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


# --- facts -----------------------------------------------------------------------------------------


def test_facts_measure_a_plate() -> None:
    f = facts(samples.plate(3.0))
    assert f.has_brep and f.n_faces == 6
    assert f.volume_mm3 == pytest.approx(100 * 60 * 3)
    m = part_metrics(f)
    assert m.wall_min_mm == pytest.approx(3.0, rel=1e-3)
    assert m.wall_max_mm == pytest.approx(3.0, rel=1e-3)  # the 100 mm lengthwise rays are not walls
    assert m.projected_area_z_mm2 == pytest.approx(6000, rel=1e-6)
    assert m.cnc_setups == 1


def test_facts_round_trip_through_npz() -> None:
    f = facts(samples.pocket_block(0))
    g = PartFacts.from_npz(f.to_npz())
    assert g.sha256 == f.sha256 and g.face_kinds == f.face_kinds
    np.testing.assert_array_equal(g.reach, f.reach)
    np.testing.assert_array_equal(g.corner_radius, f.corner_radius)


def test_step_and_stl_give_the_same_walls_and_reach() -> None:
    part = samples.grooved_block()
    from_step = extract(step_bytes(part), "step")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.stl"
        export_stl(part, str(path), tolerance=0.01)
        from_stl = extract(path.read_bytes(), "stl")
    assert not from_stl.has_brep and len(from_stl.corner_radius) == 0
    assert from_stl.volume_mm3 == pytest.approx(from_step.volume_mm3, rel=1e-3)
    a, b = part_metrics(from_step), part_metrics(from_stl)
    assert (a.cnc_setups, a.im_side_actions) == (b.cnc_setups, b.im_side_actions) == (2, 1)
    assert a.wall_min_mm == pytest.approx(b.wall_min_mm, rel=1e-2)


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"", "step", "not a STEP file"),
        (b"hello world, not a part" * 10, "step", "not a STEP file"),
        (b"ISO-10303-21;\nHEADER;\nthis is cut off", "step", "STEP"),
        (b"\x00" * 50, "stl", "too short"),
        (b"solid x\nendsolid x\n" + b" " * 100, "stl", "STL"),
    ],
)
def test_bad_files_are_named_errors(data: bytes, fmt: str, message: str) -> None:
    with pytest.raises(PartError, match=message):
        extract(data, fmt)


def test_step_without_a_solid_is_refused() -> None:
    face_only = step_bytes(Box(10, 10, 10).faces()[0])
    with pytest.raises(PartError, match="no solid"):
        extract(face_only, "step")


def test_open_stl_is_refused() -> None:
    import trimesh

    mesh = trimesh.creation.box((10, 10, 10))
    mesh.update_faces(np.arange(len(mesh.faces) - 2))  # drop two triangles: a hole
    with pytest.raises(PartError, match="not closed"):
        extract(mesh.export(file_type="stl"), "stl")


# --- CNC --------------------------------------------------------------------------------------------


def test_sharp_pocket_corners_are_found_and_fillets_pass() -> None:
    sharp = rules(samples.pocket_block(0.0), CNC, MaterialId.ALUMINUM_6061)
    corner = sharp["CNC.INTERNAL_CORNER_RADIUS"][0]
    # a shop leaves the corner at the tool radius and quotes it (tests/engine/test_dfm_severity.py)
    assert corner.severity == Severity.WARNING and corner.measured == 0.0
    assert corner.limit == load_catalog().process(CNC).limits.tool_radius_standard_mm
    assert len(corner.face_ids) >= 4 and corner.point_mm is not None
    assert corner.point_mm[2] > 0  # a vertical pocket corner, in the upper half of the block
    filleted = rules(samples.pocket_block(4.0), CNC, MaterialId.ALUMINUM_6061)
    assert "CNC.INTERNAL_CORNER_RADIUS" not in filleted
    assert not any(f.severity == Severity.BLOCKING for fs in filleted.values() for f in fs)


def test_a_fillet_below_the_standard_tool_is_a_warning() -> None:
    small = rules(samples.pocket_block(1.0), CNC, MaterialId.ALUMINUM_6061)["CNC.INTERNAL_CORNER_RADIUS"][0]
    assert small.severity == Severity.WARNING and small.measured == pytest.approx(1.0)


def test_side_groove_needs_a_second_setup() -> None:
    found = rules(samples.grooved_block(), CNC, MaterialId.ALUMINUM_6061)
    setups = found["CNC.SETUPS"][0]
    assert setups.measured == 2 and "+z" in setups.title and "+x" in setups.title
    assert "CNC.UNDERCUT" not in found  # a side groove is reachable from the side
    assert "CNC.SETUPS" not in rules(samples.pocket_block(4.0), CNC, MaterialId.ALUMINUM_6061)


# --- Injection molding ------------------------------------------------------------------------------


def test_side_groove_is_an_undercut_for_a_z_pull() -> None:
    undercut = rules(samples.grooved_block(), IM)["IM.UNDERCUT"][0]
    assert undercut.measured == 1 and "+x" in undercut.title
    assert undercut.area_mm2 and undercut.area_mm2 > 0
    assert "IM.UNDERCUT" not in rules(samples.pocket_block(4.0), IM)


def test_vertical_walls_without_draft_are_found() -> None:
    no_draft = rules(samples.open_box(draft_deg=0.0), IM)["IM.DRAFT"]
    assert no_draft[0].severity == Severity.WARNING and no_draft[0].measured == 0.0
    drafted = rules(samples.open_box(draft_deg=2.0), IM)
    assert "IM.DRAFT" not in drafted


def test_cooling_time_grows_with_the_square_of_the_wall(catalog) -> None:  # type: ignore[no-untyped-def]
    cooling = {}
    for t in (1.0, 5.0):
        _, _, quote = evaluate(facts(samples.plate(t)), IM, MaterialId.ABS, 1000, catalog)
        cooling[t] = quote.parameters["cooling_time_s"]
    assert cooling[5.0] / cooling[1.0] == pytest.approx(25.0, rel=1e-3)


def test_thin_and_thick_walls(catalog) -> None:  # type: ignore[no-untyped-def]
    thin = rules(samples.plate(0.5), IM)["IM.WALL_MIN"][0]
    assert thin.severity == Severity.BLOCKING and thin.measured == pytest.approx(0.5, rel=1e-2)
    thick = rules(samples.plate(8.0), IM)["IM.WALL_MAX"][0]
    assert thick.measured == pytest.approx(8.0, rel=1e-2)
    assert set(rules(samples.plate(2.0), IM)) == {"IM.DRAFT"}  # a good moulding but for its 2 mm edges


# --- FDM --------------------------------------------------------------------------------------------


def test_60_degree_overhang_needs_support_and_30_does_not() -> None:
    steep = rules(samples.overhang_wedge(60.0), FDM)["FDM.OVERHANG"][0]
    assert steep.measured == pytest.approx(60.0, abs=0.5)
    assert steep.limit == load_catalog().process(FDM).slicing.overhang_limit_deg
    assert "FDM.OVERHANG" not in rules(samples.overhang_wedge(30.0), FDM)
    m60 = part_metrics(facts(samples.overhang_wedge(60.0)))
    assert m60.fdm_support_volume_mm3 > 0


def test_fdm_thin_wall_and_build_volume() -> None:
    assert rules(samples.plate(0.3), FDM)["FDM.MIN_WALL"][0].severity == Severity.BLOCKING
    big = Box(400, 300, 300)
    assert rules(big, FDM)["FDM.BUILD_VOLUME"][0].severity == Severity.BLOCKING


# --- the analysis ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "material"), [(CNC, MaterialId.ALUMINUM_6061), (IM, MaterialId.ABS), (FDM, MaterialId.PLA)]
)
def test_requested_method_and_quantity_are_honoured(method: M, material: MaterialId, catalog) -> None:  # type: ignore[no-untyped-def]
    a = analyse(facts(samples.bracket()), method, material, 250, catalog)
    assert (a.quote.method, a.quote.material, a.quote.quantity) == (method, material, 250)
    assert a.quote.total_cost_usd == pytest.approx(a.quote.unit_cost_usd * 250, rel=1e-6)
    assert 250 in [r.quantity for r in a.ladder]
    assert method not in [alt.method for alt in a.alternatives]
    assert {alt.method for alt in a.alternatives} == set(M) - {method}
    for alt in a.alternatives:
        if alt.available:  # priced, unless the part is not of the method's kind (not a sheet, not turned)
            assert (alt.unit_cost_usd is not None) != ("not priced" in alt.note)
        else:
            assert material.value in alt.note


@pytest.mark.parametrize("method", [CNC, IM])
def test_unit_cost_falls_along_the_ladder(method: M, catalog) -> None:  # type: ignore[no-untyped-def]
    a = analyse(facts(samples.open_box(2.0)), method, MaterialId.ABS, 5000, catalog)
    units = [r.unit_cost_usd for r in a.ladder]
    assert [r.quantity for r in a.ladder] == [1, 10, 100, 1000, 5000, 10000]
    assert all(later < earlier for earlier, later in itertools.pairwise(units)), units


def test_a_method_the_material_does_not_take_is_an_error_not_another_quote(catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="aluminum_6061 is made by: cnc_milling"):
        analyse(facts(samples.plate(2.0)), IM, MaterialId.ALUMINUM_6061, 1000, catalog)


def test_blocking_findings_make_the_part_not_manufacturable_and_say_so(catalog) -> None:  # type: ignore[no-untyped-def]
    part = facts(samples.pocket_block(0.0))
    a = analyse(part, CNC, MaterialId.ALUMINUM_6061, 10, catalog, sharp_corners=True)
    assert not a.manufacturable
    assert any("CNC.INTERNAL_CORNER_RADIUS" in c for c in a.quote.caveats)
    quoted = analyse(part, CNC, MaterialId.ALUMINUM_6061, 10, catalog)  # the corners left at the tool radius
    assert quoted.manufacturable and not any("not manufacturable" in c for c in quoted.quote.caveats)


def test_a_user_price_table_changes_the_quote_and_its_basis() -> None:
    table = PriceTable.model_validate(
        {
            "name": "acme",
            "materials": {"aluminum_6061": {"price_usd_per_kg": 60.0, "source": "acme list 2026"}},
        }
    )
    f = facts(samples.pocket_block(4.0))
    base = analyse(f, CNC, MaterialId.ALUMINUM_6061, 10, load_catalog())
    mine = analyse(f, CNC, MaterialId.ALUMINUM_6061, 10, load_catalog(table))
    assert mine.quote.unit_cost_usd > base.quote.unit_cost_usd
    material_line = next(line for line in mine.quote.lines if "material" in line.item.lower())
    assert "acme list 2026" in material_line.basis


def test_a_large_part_tessellates_to_the_benchmark_size() -> None:
    f = facts(samples.dense_part(20_000))
    assert 15_000 <= f.n_triangles <= 30_000
    assert math.isfinite(part_metrics(f).wall_min_mm)
