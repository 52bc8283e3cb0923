"""Sheet metal: recognition of a bent constant-thickness sheet, its flat blank, its DFM rules and its cost."""

from __future__ import annotations

import math
import time

import pytest
from build123d import Align, Box, Cylinder, Pos, Rot

from engines.manufacturing.analysis import analyse, evaluate
from engines.manufacturing.catalog import default_catalog
from engines.manufacturing.extract import facts_from_shape
from engines.manufacturing.metrics import part_metrics
from engines.manufacturing.samples import zigzag
from shared.models import ManufacturingMethod, MaterialId, Severity

AL = MaterialId.ALUMINUM_6061
SHEET = ManufacturingMethod.SHEET_METAL
A = Align.MIN


def l_bracket(t=2.0, r=2.0, l1=40.0, l2=30.0, w=30.0, holes=((20.0, 0.0, 2.5),)):
    """Base flange along +X (x in [0, l1], z in [0, t]); a 90 deg bend about Y of inner radius r; upright
    flange of straight length l2. ``holes``: (x, y, radius) through the base."""
    base = Pos(0, -w / 2, 0) * Box(l1, w, t, align=(A, A, A))
    ring = Pos(0, 0, t + r) * Rot(90, 0, 0) * (Cylinder(r + t, w) - Cylinder(r, w))
    bend = ring & (Pos(-(r + t), -w / 2, 0) * Box(r + t, w, r + t, align=(A, A, A)))
    part = base + bend + Pos(-(r + t), -w / 2, t + r) * Box(t, w, l2, align=(A, A, A))
    for x, y, d in holes:
        part -= Pos(x, y, t / 2) * Cylinder(d, 4 * t)
    return part


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def _sheet(part):
    facts = facts_from_shape(part, "test")
    return facts, part_metrics(facts)


def _rules(part, catalog, material=AL):
    facts = facts_from_shape(part, "test")
    _, found, q = evaluate(facts, SHEET, material, 10, catalog)
    return {f.rule_id: f for f in found}, q


def test_l_bracket_recognised_and_unfolded(catalog):
    _, m = _sheet(l_bracket())
    s = m.sheet
    assert s.recognised, s.reason
    assert s.thickness_mm == pytest.approx(2.0, abs=0.02)
    assert len(s.bends) == 1
    assert s.bends[0].radius_mm == pytest.approx(2.0, abs=1e-6)
    assert s.bends[0].angle_deg == pytest.approx(90.0, abs=0.01)
    assert len(s.holes) == 1
    k = catalog.params(SHEET, AL).k_factor
    closed = 40.0 + 30.0 + math.pi / 2 * (2.0 + k * 2.0)  # flats + BA = theta (R + K t)
    assert s.blank_length_mm(k) == pytest.approx(closed, rel=0.01)
    assert s.blank_width_mm == pytest.approx(30.0, rel=0.01)
    net = closed * 30.0 - math.pi * 2.5**2
    assert s.blank_area_mm2(k) == pytest.approx(net, rel=0.01)
    perimeter = 2 * (closed + 30.0) + 2 * math.pi * 2.5
    assert s.cut_length_mm == pytest.approx(perimeter, rel=0.02)
    rules, q = _rules(l_bracket(), catalog)
    assert not [r for r in rules.values() if r.severity == Severity.BLOCKING], rules
    assert q.parameters["blank_length_mm"] == pytest.approx(closed, rel=0.01)
    assert q.parameters["bends"] == 1


def test_bend_radius_rule(catalog):
    tight, _ = _rules(l_bracket(r=0.5), catalog)
    assert tight["SHEET.BEND_RADIUS"].severity == Severity.BLOCKING
    assert tight["SHEET.BEND_RADIUS"].measured == pytest.approx(0.5)
    ok, _ = _rules(l_bracket(r=2.0), catalog)
    assert "SHEET.BEND_RADIUS" not in ok
    # steel takes 0.5 t: the same 1 mm radius on 2 mm sheet passes in steel and fails in aluminium
    assert "SHEET.BEND_RADIUS" in _rules(l_bracket(r=1.0), catalog)[0]
    assert "SHEET.BEND_RADIUS" not in _rules(l_bracket(r=1.0), catalog, MaterialId.STEEL_CARBON)[0]


def test_flange_length_rule(catalog):
    short, _ = _rules(l_bracket(l2=6.0), catalog)
    f = short["SHEET.FLANGE_LENGTH"]
    assert f.severity == Severity.BLOCKING
    assert f.measured == pytest.approx(6.0, abs=0.01) and f.limit == pytest.approx(8.0)
    assert "SHEET.FLANGE_LENGTH" not in _rules(l_bracket(l2=10.0), catalog)[0]


def test_hole_to_bend_rule(catalog):
    # hole radius 2.5 at x = 6: edge 3.5 mm from the bend's start, below 2.5 t = 5 mm
    close, _ = _rules(l_bracket(holes=((6.0, 0.0, 2.5),)), catalog)
    f = close["SHEET.HOLE_TO_BEND"]
    assert f.severity == Severity.WARNING
    assert f.measured == pytest.approx(3.5 + 2.0, abs=0.01) and f.limit == pytest.approx(5.0 + 2.0)
    assert "SHEET.HOLE_TO_BEND" not in _rules(l_bracket(holes=((9.0, 0.0, 2.5),)), catalog)[0]


def test_block_is_not_a_sheet(catalog):
    rules, q = _rules(Box(40, 30, 20), catalog)
    f = rules["SHEET.NOT_SHEET"]
    assert f.severity == Severity.BLOCKING
    assert f.title.startswith("not a constant-thickness sheet: ")
    assert q.unit_cost_usd > 0  # priced as a plate, with the blocking caveat: no crash


def test_two_thicknesses_are_not_a_sheet(catalog):
    part = Pos(0, 0, 1) * Box(60, 30, 2) + Pos(40, 0, 2.5) * Box(20, 30, 5)
    rules, _ = _rules(part, catalog)
    assert rules["SHEET.NOT_SHEET"].severity == Severity.BLOCKING


def test_ladder_monotone(catalog):
    facts = facts_from_shape(l_bracket(), "test")
    a = analyse(facts, SHEET, AL, 10, catalog, ladder_quantities=[1, 10, 100, 1000])
    units = [r.unit_cost_usd for r in a.ladder]
    assert units == sorted(units, reverse=True)


def test_milled_l_bracket_lists_cheaper_sheet_metal(catalog):
    facts = facts_from_shape(l_bracket(), "test")
    a = analyse(facts, ManufacturingMethod.CNC_MILLING, AL, 10, catalog)
    alt = {x.method: x for x in a.alternatives}[SHEET]
    assert alt.available and alt.manufacturable
    assert alt.unit_cost_usd < a.quote.unit_cost_usd


def test_ten_bends_unfold_fast(catalog):
    part = zigzag(bends=10)
    started = (
        time.process_time()
    )  # this process's CPU seconds: the machine's other load does not inflate them
    facts = facts_from_shape(part, "test")
    m = part_metrics(facts)
    elapsed = time.process_time() - started
    s = m.sheet
    assert s.recognised, s.reason
    assert len(s.bends) == 10
    k = catalog.params(SHEET, AL).k_factor
    closed = 11 * 15.0 + 10 * math.pi / 2 * (2.0 + k * 1.5)
    assert s.blank_length_mm(k) == pytest.approx(closed, rel=0.01)
    print(f"10-bend part: facts + unfold in {elapsed:.3f} CPU s (make bench times the wall clock)")
    assert elapsed <= 1.0


def test_stl_sheet_is_a_finding_not_a_crash(catalog):
    import trimesh

    from engines.manufacturing.extract import facts_from_mesh

    mesh = trimesh.creation.box((60, 30, 2))
    _, found, q = evaluate(facts_from_mesh(mesh, "stl"), SHEET, AL, 10, catalog)
    f = {x.rule_id: x for x in found}["SHEET.NOT_SHEET"]
    assert f.severity == Severity.BLOCKING and "mesh input" in f.title
    assert q.unit_cost_usd > 0
