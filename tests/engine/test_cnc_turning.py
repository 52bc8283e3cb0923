"""CNC turning: axisymmetric recognition with its axis, the DFM rules, bar-stock cost and the alternative."""

from __future__ import annotations

import pytest
from build123d import Box, Cylinder, Pos, Rot

from engines.manufacturing.analysis import analyse, evaluate
from engines.manufacturing.catalog import default_catalog
from engines.manufacturing.extract import facts_from_shape
from engines.manufacturing.metrics import part_metrics
from shared.models import ManufacturingMethod, MaterialId, Severity

AL = MaterialId.ALUMINUM_6061
TURN = ManufacturingMethod.CNC_TURNING


def stepped_shaft(bore: float = 0.0):
    """Along X: D 30 x 40, D 20 x 50, D 12 x 30 (length 120); ``bore``: a central bore diameter."""
    part = Pos(20, 0, 0) * Rot(0, 90, 0) * Cylinder(15, 40)
    part += Pos(65, 0, 0) * Rot(0, 90, 0) * Cylinder(10, 50)
    part += Pos(105, 0, 0) * Rot(0, 90, 0) * Cylinder(6, 30)
    if bore:
        part -= Pos(20, 0, 0) * Rot(0, 90, 0) * Cylinder(bore / 2, 40)
    return part


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def _rules(part, catalog):
    _, found, q = evaluate(facts_from_shape(part, "test"), TURN, AL, 10, catalog)
    return {f.rule_id: f for f in found}, q


def test_stepped_shaft_recognised_with_axis(catalog):
    g = part_metrics(facts_from_shape(stepped_shaft(), "test")).turned
    assert g.recognised, g.reason
    assert abs(g.axis[0]) == pytest.approx(1.0)
    assert g.point_mm[1] == pytest.approx(0, abs=0.05) and g.point_mm[2] == pytest.approx(0, abs=0.05)
    assert g.length_mm == pytest.approx(120.0, rel=1e-3)
    assert g.max_diameter_mm == pytest.approx(30.0, rel=1e-3)
    assert g.min_diameter_mm == pytest.approx(12.0, rel=0.02)
    rules, q = _rules(stepped_shaft(), catalog)
    assert not [r for r in rules.values() if r.severity == Severity.BLOCKING]
    assert q.parameters["bar_diameter_mm"] == 35.0  # next standard bar >= 30 + 1 mm
    assert q.parameters["bar_length_mm"] == pytest.approx(124.0, rel=1e-3)
    assert any(ln.item == "material (bar)" for ln in q.lines)


def test_shaft_with_flat_is_refused(catalog):
    flat = stepped_shaft() - Pos(20, 0, 15) * Box(30, 40, 6)  # a 3 mm deep flat on the D 30 step
    rules, q = _rules(flat, catalog)
    f = rules["TURN.NOT_AXISYMMETRIC"]
    assert f.severity == Severity.BLOCKING and f.title.startswith("not axisymmetric")
    assert q.unit_cost_usd > 0


def test_box_is_refused(catalog):
    rules, _ = _rules(Box(40, 30, 20), catalog)
    assert rules["TURN.NOT_AXISYMMETRIC"].severity == Severity.BLOCKING


def test_length_to_diameter(catalog):
    slender = Rot(0, 90, 0) * Cylinder(5, 60)  # L/D 6: tailstock
    f = _rules(slender, catalog)[0]["TURN.LENGTH_TO_DIAMETER"]
    assert f.severity == Severity.WARNING and f.measured == pytest.approx(6.0, rel=1e-3)
    needle = Rot(0, 90, 0) * Cylinder(4, 120)  # L/D 15: steady rest
    assert _rules(needle, catalog)[0]["TURN.LENGTH_TO_DIAMETER"].severity == Severity.BLOCKING
    assert "TURN.LENGTH_TO_DIAMETER" not in _rules(Rot(0, 90, 0) * Cylinder(10, 60), catalog)[0]


def test_bore_reach(catalog):
    deep = Rot(0, 90, 0) * (Cylinder(15, 100) - Cylinder(3, 100))  # D 6 through bore, 100 long
    assert _rules(deep, catalog)[0]["TURN.BORE_REACH"].severity == Severity.WARNING
    shallow = Rot(0, 90, 0) * (Cylinder(15, 40) - Cylinder(8, 40))
    assert "TURN.BORE_REACH" not in _rules(shallow, catalog)[0]


def test_turned_shaft_cheaper_than_milling(catalog):
    facts = facts_from_shape(stepped_shaft(), "test")
    a = analyse(facts, ManufacturingMethod.CNC_MILLING, AL, 10, catalog)
    alt = {x.method: x for x in a.alternatives}[TURN]
    assert alt.available and alt.manufacturable
    assert alt.unit_cost_usd < a.quote.unit_cost_usd
    rungs = analyse(facts, TURN, AL, 10, catalog, ladder_quantities=[1, 10, 100]).ladder
    units = [r.unit_cost_usd for r in rungs]
    assert units == sorted(units, reverse=True)


def test_stl_shaft_recognised(catalog):
    import trimesh

    from engines.manufacturing.extract import facts_from_mesh

    mesh = trimesh.creation.cylinder(radius=10, height=50, sections=64)
    g = part_metrics(facts_from_mesh(mesh, "stl")).turned
    assert g.recognised, g.reason
    assert abs(g.axis[2]) == pytest.approx(1.0)
    box = trimesh.creation.box((40, 30, 20))
    assert not part_metrics(facts_from_mesh(box, "stl")).turned.recognised


def test_an_alternative_that_cannot_take_the_part_is_not_priced(catalog):
    """The shaft is no sheet: the sheet-metal alternative names why and shows no price (a price "as if
    fixed" would undercut every method that can make it); its twin, turning, is priced."""
    facts = facts_from_shape(stepped_shaft(), "test")
    alts = {
        x.method: x for x in analyse(facts, ManufacturingMethod.CNC_MILLING, AL, 100, catalog).alternatives
    }
    sheet = alts[ManufacturingMethod.SHEET_METAL]
    assert sheet.available and not sheet.manufacturable and "SHEET.NOT_SHEET" in sheet.blocking
    assert sheet.unit_cost_usd is None and "not priced" in sheet.note
    assert alts[TURN].unit_cost_usd is not None and alts[TURN].manufacturable
