"""Pricing engine: data-driven catalogue, user price tables, and the cost models' invariants.

The parts are described directly as :class:`PartMetrics` (no geometry kernel), so these tests pin the pricing
stage alone: what the numbers add up to, how they move with quantity, and that requests are honoured exactly.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import pytest

from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.methods import METHODS
from engines.manufacturing.methods.injection_molding import cooling_time_s
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.pricing import ladder, quote
from shared.materials import MATERIALS, MATERIALS_TOML, check_method, load_materials, methods_for, props
from shared.models import DEFAULT_QUANTITY_LADDER, ManufacturingMethod, MaterialId, PriceTable

M = ManufacturingMethod
CASES = [
    (M.CNC_MILLING, MaterialId.ALUMINUM_6061),
    (M.INJECTION_MOLDING, MaterialId.ABS),
    (M.FDM_PRINTING, MaterialId.PLA),
]


def block() -> PartMetrics:
    """100 x 60 x 30 mm block with a 60 x 30 x 15 mm pocket, machined from one side."""
    pocket_walls = 2 * (60 + 30) * 15
    return PartMetrics(
        volume_mm3=100 * 60 * 30 - 60 * 30 * 15,
        area_mm2=2 * (100 * 60 + 100 * 30 + 60 * 30) + pocket_walls,
        bbox_min=(0.0, 0.0, 0.0),
        bbox_max=(100.0, 60.0, 30.0),
        n_faces=11,
        n_triangles=40,
        cnc_setups=1,
        cnc_machined_area_mm2=60 * 30 + pocket_walls,
        wall_min_mm=15.0,
        wall_nominal_mm=15.0,
        wall_max_mm=20.0,
        projected_area_z_mm2=6000.0,
        im_side_actions=0,
        fdm_support_volume_mm3=0.0,
    )


def plate(thickness_mm: float = 2.0) -> PartMetrics:
    """100 x 60 mm plate: the moulding test part (uniform wall = thickness)."""
    t = thickness_mm
    return PartMetrics(
        volume_mm3=100 * 60 * t,
        area_mm2=2 * 6000 + 2 * (100 + 60) * t,
        bbox_min=(0.0, 0.0, 0.0),
        bbox_max=(100.0, 60.0, t),
        n_faces=6,
        n_triangles=12,
        cnc_setups=2,
        cnc_machined_area_mm2=0.0,
        wall_min_mm=t,
        wall_nominal_mm=t,
        wall_max_mm=t,
        projected_area_z_mm2=6000.0,
        im_side_actions=0,
        fdm_support_volume_mm3=0.0,
    )


def part_for(method: ManufacturingMethod) -> PartMetrics:
    return plate() if method is M.INJECTION_MOLDING else block()


# ------------------------------------------------------------------------------------------ catalogue


def test_catalogue_loads_and_every_material_has_a_row() -> None:
    cat = load_catalog()
    assert cat.label == cat.catalog_version == "mfg-4"
    assert set(MATERIALS) == set(MaterialId) == set(cat.materials)
    for mid in MaterialId:
        row = props(mid)
        assert row.price_usd_per_kg > 0 and row.price_source
        for method in row.methods:  # a method a material takes always has its parameters, with a source
            assert cat.params(method, mid).source
    for method in M:
        rates = cat.process(method).rates
        assert (
            rates.machine_rate_source
            and rates.labour_rate_source
            and rates.setup_source
            and rates.margin_source
        )


def test_every_method_is_a_registered_module_with_its_own_data_file() -> None:
    """A method is one module plus its data: the catalogue holds each method's own rows, read from its file."""
    cat = load_catalog()
    assert set(METHODS) == set(M) == set(cat.processes)
    for method, plugin in METHODS.items():
        assert Path(plugin.data_file).is_file() and Path(plugin.data_file).stem == method.value
        assert isinstance(cat.process(method), plugin.process)
        for mid in MaterialId:
            if method in methods_for(mid):
                assert isinstance(cat.params(method, mid), plugin.material_params)
            else:
                assert mid not in cat.material_params[method]


def test_a_bad_method_table_in_the_material_table_names_the_row(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each method validates its own material parameters; the error names the file and the row."""
    from engines.manufacturing import catalog as catalog_module

    bad = props("abs").model_copy(
        update={"method_params": {**props("abs").method_params, M.FDM_PRINTING: {"min_wall_mm": 1.0}}}
    )
    monkeypatch.setattr(catalog_module, "MATERIALS", {**MATERIALS, MaterialId.ABS: bad})
    with pytest.raises(ValueError, match=r"(?s)\[materials\.abs\.fdm_printing\].*max_flow_mm3_per_s"):
        catalog_module.default_catalog.__wrapped__()


def test_the_catalogue_cites_only_what_a_reader_can_check() -> None:
    """Every string of the loaded catalogue (sources, labels) cites nothing outside the repository, by the
    forms ``test_rooms`` looks for in every file (the data files and this engine's code included)."""
    from tests.engine.test_rooms import CITATIONS

    sources = _strings(load_catalog().model_dump(mode="json"))
    assert sources and not [s for s in sources if CITATIONS.search(s)]


def _strings(x: object) -> list[str]:
    if isinstance(x, dict):
        return [s for v in x.values() for s in _strings(v)]
    if isinstance(x, list):
        return [s for v in x for s in _strings(v)]
    return [x] if isinstance(x, str) else []


def test_physics_numbers_are_unchanged() -> None:
    """The scene compiler and recorded verdicts depend on these exact values."""
    assert (props("aluminum_6061").density_kg_m3, props("aluminum_6061").friction) == (2700, 0.61)
    assert (props("steel_carbon").density_kg_m3, props("steel_carbon").price_usd_per_kg) == (7850, 1.8)
    assert props("abs").rgba == (0.9, 0.35, 0.2, 1.0)
    assert (props("hdpe").friction, props("rubber_generic").friction) == (0.22, 0.90)


def test_material_methods() -> None:
    assert methods_for("aluminum_6061") == (M.CNC_MILLING, M.SHEET_METAL, M.CNC_TURNING)
    assert set(methods_for("abs")) == {M.CNC_MILLING, M.INJECTION_MOLDING, M.FDM_PRINTING}
    assert methods_for("pla") == (M.FDM_PRINTING,)
    assert set(methods_for("hdpe")) == {M.CNC_MILLING, M.INJECTION_MOLDING}
    assert methods_for("rubber_generic") == ()
    assert check_method("abs", "injection_molding") is None
    assert "no supported method" in (check_method("rubber_generic", "fdm_printing") or "")


def test_a_material_table_without_a_row_is_refused(tmp_path: Path) -> None:
    src = Path(MATERIALS_TOML).read_text(encoding="utf-8")
    broken = tmp_path / "materials.toml"
    broken.write_text(src.replace("[materials.hardwood", "[materials.oak"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing rows \['hardwood'\].*without a MaterialId \['oak'\]"):
        load_materials(str(broken))
    bad_row = tmp_path / "bad_row.toml"
    bad_row.write_text(src.replace('methods = ["fdm_printing"]', 'methods = ["fdm_printing", "cnc_milling"]'))
    with pytest.raises(ValueError, match=r"(?s)\[materials.pla\].*cnc_milling.*parameter table is missing"):
        load_materials(str(bad_row))


def test_price_table_overrides_material_price_and_machine_rate() -> None:
    table = PriceTable.model_validate(
        {
            "name": "acme",
            "materials": {"aluminum_6061": {"price_usd_per_kg": 12.0, "source": "Acme metals quote Q-17"}},
            "processes": {"cnc": {"machine_rate_usd_per_h": 120.0, "source": "Acme shop rate card"}},
        }
    )
    base, user = load_catalog(), load_catalog(table)
    assert user.label == "mfg-4 + price table 'acme'"
    assert user.material_prices()[MaterialId.ALUMINUM_6061][0] == 12.0
    assert base.material("aluminum_6061").price_usd_per_kg == 6.0  # the defaults are not mutated
    assert (
        user.process(M.CNC_MILLING).rates.labour_rate_usd_per_h
        == base.process(M.CNC_MILLING).rates.labour_rate_usd_per_h
    )

    q0, q1 = (quote(block(), "cnc_milling", "aluminum_6061", 1, c) for c in (base, user))
    lines0, lines1 = ({ln.item: ln for ln in q.lines} for q in (q0, q1))
    assert lines1["material (stock)"].usd == pytest.approx(2 * lines0["material (stock)"].usd)
    assert lines1["machining"].usd == pytest.approx(2 * lines0["machining"].usd)
    assert "price table 'acme': Acme metals quote Q-17" in lines1["material (stock)"].basis
    assert "price table 'acme': Acme shop rate card" in lines1["machining"].basis
    assert "Acme" not in lines0["machining"].basis


# ------------------------------------------------------------------------------------------ quotes


@pytest.mark.parametrize(("method", "material"), CASES)
@pytest.mark.parametrize("quantity", [1, 37, 5000])
def test_quote_is_positive_echoes_the_request_and_adds_up(
    method: ManufacturingMethod, material: MaterialId, quantity: int
) -> None:
    q = quote(part_for(method), method, material, quantity, load_catalog())
    assert (q.method, q.material, q.quantity) == (method, material, quantity)
    assert q.unit_cost_usd > 0 and all(ln.usd >= 0 for ln in q.lines)
    per_part = sum(ln.usd for ln in q.lines if ln.per == "part")
    per_order = sum(ln.usd for ln in q.lines if ln.per == "order")
    assert per_part + per_order / quantity == pytest.approx(q.unit_cost_usd, rel=1e-9)
    assert q.total_cost_usd == pytest.approx(q.unit_cost_usd * quantity, rel=1e-9)
    assert q.unit_cost_low_usd <= q.unit_cost_usd <= q.unit_cost_high_usd
    assert 0 < q.band_pct <= max(ln.band_pct for ln in q.lines)
    assert q.lead_time_days > 0 and q.lead_time_basis
    assert all(ln.basis and "margin" in ln.basis for ln in q.lines)


def test_quote_accepts_aliases_and_echoes_canonical_names() -> None:
    q = quote(block(), "CNC", "Aluminum_6061", 3, load_catalog())
    assert (q.method, q.material) == (M.CNC_MILLING, MaterialId.ALUMINUM_6061)


def test_im_cooling_is_quadratic_in_the_thickest_wall() -> None:
    cat = load_catalog()
    q1, q5 = (quote(plate(t), "injection_molding", "abs", 1000, cat) for t in (1.0, 5.0))
    t1, t5 = q1.parameters["cooling_time_s"], q5.parameters["cooling_time_s"]
    assert t5 / t1 == pytest.approx(25.0, rel=1e-6)
    # AnkusDrive's worked example: 2 mm ABS at 230/60/100 C -> 4.50 s x ln 3.45 ~ 5.6 s
    assert cooling_time_s(2.0, cat.params(M.INJECTION_MOLDING, "abs")) == pytest.approx(5.57, abs=0.01)
    assert q5.parameters["cycle_time_s"] > q1.parameters["cycle_time_s"]


def test_im_quote_has_tooling_as_an_order_line_and_lead_time_includes_it() -> None:
    q = quote(plate(), "injection_molding", "abs", 5000, load_catalog())
    tooling = next(ln for ln in q.lines if ln.item.startswith("tooling"))
    assert tooling.per == "order" and tooling.usd > 1000
    assert "NOT verified" in tooling.basis  # the recalled BDK coefficients are flagged
    assert q.parameters["cavities"] in (1, 2, 4, 8)
    assert q.lead_time_days > q.parameters["tooling_days"] >= 15
    assert "tooling" in q.lead_time_basis


def test_im_clamp_force_above_the_largest_press_is_a_caveat() -> None:
    big = dataclasses.replace(plate(), bbox_max=(700.0, 450.0, 2.0), projected_area_z_mm2=700 * 450)
    q = quote(big, "injection_molding", "abs", 100, load_catalog())
    assert q.parameters["cavities"] == 1
    assert any("clamp force" in c for c in q.caveats)


@pytest.mark.parametrize(
    ("method", "material"), [*CASES, (M.FDM_PRINTING, MaterialId.ABS), (M.CNC_MILLING, MaterialId.HDPE)]
)
def test_unit_cost_never_rises_along_the_ladder(method: ManufacturingMethod, material: MaterialId) -> None:
    rungs = ladder(part_for(method), method, material, DEFAULT_QUANTITY_LADDER, load_catalog())
    assert [r.quantity for r in rungs] == list(DEFAULT_QUANTITY_LADDER)
    units = [r.unit_cost_usd for r in rungs]
    assert all(b <= a for a, b in itertools.pairwise(units)), units
    if method is not M.FDM_PRINTING:
        assert all(b < a for a, b in itertools.pairwise(units)), units
    assert all(r.total_cost_usd == pytest.approx(r.unit_cost_usd * r.quantity) for r in rungs)


def test_im_cavities_grow_with_quantity() -> None:
    cat = load_catalog()
    cavities = [quote(plate(), "im", "abs", q, cat).parameters["cavities"] for q in (1, 1_000_000)]
    assert cavities[0] == 1 and cavities[1] > 1


def test_im_in_aluminium_is_refused_naming_the_methods_it_takes() -> None:
    with pytest.raises(ValueError, match="aluminum_6061 is made by: cnc_milling"):
        quote(block(), "injection_molding", "aluminum_6061", 100, load_catalog())
    with pytest.raises(ValueError, match="pla is made by: fdm_printing"):
        quote(block(), "cnc_milling", "pla", 1, load_catalog())


@pytest.mark.parametrize("bad", [0, -5])
def test_quantity_below_one_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="quantity"):
        quote(block(), "cnc_milling", "aluminum_6061", bad, load_catalog())
    with pytest.raises(ValueError, match="quantity"):
        ladder(block(), "cnc_milling", "aluminum_6061", [1, bad], load_catalog())


def test_cnc_charges_stock_not_part_volume() -> None:
    q = quote(block(), "cnc_milling", "aluminum_6061", 1, load_catalog())
    p = q.parameters
    assert (p["stock_x_mm"], p["stock_y_mm"], p["stock_z_mm"]) == (104.0, 64.0, 34.0)
    assert p["stock_mass_kg"] == pytest.approx(104 * 64 * 34 * 1e-9 * 2700)
    assert p["setups"] == 1 and p["machine_hours_per_part"] > 0
    assert math.isclose(p["removed_volume_mm3"], 104 * 64 * 34 - block().volume_mm3)


def test_fdm_prices_support_and_fits_the_build_plate() -> None:
    cat = load_catalog()
    plain = quote(block(), "fdm", "pla", 10, cat)
    supported = quote(dataclasses.replace(block(), fdm_support_volume_mm3=50_000.0), "fdm", "pla", 10, cat)
    assert supported.parameters["support_volume_mm3"] == pytest.approx(50_000 * 0.15)
    assert supported.unit_cost_usd > plain.unit_cost_usd
    assert plain.parameters["parts_per_build"] >= 4
    tall = quote(dataclasses.replace(block(), bbox_max=(100.0, 60.0, 400.0)), "fdm", "pla", 1, cat)
    assert any("build volume" in c for c in tall.caveats)
