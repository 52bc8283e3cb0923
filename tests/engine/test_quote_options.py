"""Request options priced as lines of their own: the ISO 2768-1 tolerance class and the surface finish.

Each rule has a part that shows it and its twin without it: a small part whose ISO 2768-f deviation is finer
than the shop standard pays for it, a large one (f looser than the standard) does not; a finish adds its per-part
line, its lot minimum at small quantities only, and its days; a finish the material cannot take and an unknown
class or finish are typed errors at the boundary, the same words from the catalogue check every entry point
calls.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from pydantic import ValidationError

from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.options import MM2_PER_FT2
from engines.manufacturing.pricing import ladder, quote
from shared.materials import check_analysis
from shared.models import AnalyzeRequest, ManufacturingMethod, MaterialId, SurfaceFinish, ToleranceClass
from tests.engine.test_pricing import block, plate

M = ManufacturingMethod
AL = MaterialId.ALUMINUM_6061
CAT = load_catalog()


def small_block():  # type: ignore[no-untyped-def]
    """The test block scaled to 25 x 15 x 7.5 mm: ISO 2768-f is +-0.1 mm there, finer than +-0.127."""
    b = block()
    k = 0.25
    return dataclasses.replace(
        b,
        volume_mm3=b.volume_mm3 * k**3,
        area_mm2=b.area_mm2 * k**2,
        bbox_max=tuple(v * k for v in b.bbox_max),
        cnc_machined_area_mm2=b.cnc_machined_area_mm2 * k**2,
        wall_min_mm=b.wall_min_mm * k,
        wall_nominal_mm=b.wall_nominal_mm * k,
        wall_max_mm=b.wall_max_mm * k,
        projected_area_z_mm2=b.projected_area_z_mm2 * k**2,
    )


def _line(q, item: str):  # type: ignore[no-untyped-def]
    found = [ln for ln in q.lines if ln.item == item]
    return found[0] if found else None


# ------------------------------------------------------------------------------------------------ tolerance


def test_a_fine_class_on_a_small_part_costs_the_doubling_rule_over_machining() -> None:
    part = small_block()
    fine = quote(part, M.CNC_MILLING, AL, 10, CAT, tolerance_class="f")
    medium = quote(part, M.CNC_MILLING, AL, 10, CAT, tolerance_class="m")
    assert fine.tolerance_class is ToleranceClass.F and medium.tolerance_class is ToleranceClass.M
    grades = 5 * math.log10(0.127 / 0.1)
    machining = _line(fine, "machining").usd
    extra = _line(fine, "tolerance ISO 2768-f").usd
    assert extra == pytest.approx((2 ** (grades / 1.5) - 1) * machining, rel=1e-9)
    assert fine.unit_cost_usd == pytest.approx(medium.unit_cost_usd + extra)
    assert "ISO 2768-1" in _line(fine, "tolerance ISO 2768-f").basis


def test_the_twin_a_large_part_holds_the_fine_class_at_the_shop_standard() -> None:
    """At 100 mm ISO 2768-f is +-0.15 mm, looser than the +-0.127 mm standard: nothing is added."""
    fine = quote(block(), M.CNC_MILLING, AL, 10, CAT, tolerance_class="f")
    assert _line(fine, "tolerance ISO 2768-f").usd == 0
    assert fine.unit_cost_usd == pytest.approx(quote(block(), M.CNC_MILLING, AL, 10, CAT).unit_cost_usd)


def test_the_default_class_is_on_the_quote_and_coarse_classes_are_not_discounted() -> None:
    default = quote(small_block(), M.CNC_MILLING, AL, 10, CAT)
    assert default.tolerance_class is ToleranceClass.M
    assert _line(default, "tolerance ISO 2768-m").usd == 0
    for cls in ("c", "v"):
        q = quote(small_block(), M.CNC_MILLING, AL, 10, CAT, tolerance_class=cls)
        assert q.unit_cost_usd == pytest.approx(default.unit_cost_usd)
        assert "not discounted" in _line(q, f"tolerance ISO 2768-{cls}").basis


@pytest.mark.parametrize(
    ("method", "material"), [(M.INJECTION_MOLDING, MaterialId.ABS), (M.FDM_PRINTING, MaterialId.PLA)]
)
def test_moulding_and_printing_are_outside_iso_2768_and_say_so(method: M, material: MaterialId) -> None:
    part = plate() if method is M.INJECTION_MOLDING else block()
    asked = quote(part, method, material, 100, CAT, tolerance_class="f")
    plain = quote(part, method, material, 100, CAT)
    assert asked.tolerance_class is None and plain.tolerance_class is None
    assert any("ISO 2768-f is not priced" in c for c in asked.caveats)
    assert not any("ISO 2768" in c for c in plain.caveats)
    assert asked.unit_cost_usd == pytest.approx(plain.unit_cost_usd)


# ------------------------------------------------------------------------------------------------ finishes


def test_anodising_adds_its_part_line_its_lot_minimum_and_its_days() -> None:
    part = block()
    row = CAT.options.finishes[SurfaceFinish.ANODISE]
    each = row.per_part_usd + row.usd_per_ft2 * part.area_mm2 / MM2_PER_FT2
    one = quote(part, M.CNC_MILLING, AL, 1, CAT, finish="anodize")
    plain = quote(part, M.CNC_MILLING, AL, 1, CAT)
    margin = one.parameters["margin"]
    assert one.finish is SurfaceFinish.ANODISE and plain.finish is SurfaceFinish.AS_MACHINED
    assert _line(one, "finish: anodise").usd == pytest.approx(each / (1 - margin))
    lot = _line(one, "finish lot minimum: anodise")
    assert lot.per == "order" and lot.usd == pytest.approx((row.lot_minimum_usd - each) / (1 - margin))
    assert one.lead_time_days == pytest.approx(plain.lead_time_days + row.lead_days)
    assert not [ln for ln in plain.lines if ln.item.startswith("finish")]
    many = quote(part, M.CNC_MILLING, AL, 1000, CAT, finish="anodise")
    assert _line(many, "finish lot minimum: anodise") is None  # 1000 parts pay more than the minimum


def test_the_ladder_with_a_finish_stays_monotone() -> None:
    rungs = ladder(block(), M.SHEET_METAL, AL, [1, 10, 100, 1000], CAT, finish="powder_coat")
    units = [r.unit_cost_usd for r in rungs]
    assert units == sorted(units, reverse=True)


def test_a_finish_the_material_cannot_take_is_refused_naming_what_it_takes() -> None:
    msg = check_analysis(MaterialId.STEEL_CARBON, M.CNC_MILLING, "anodise")
    assert (
        msg is not None and "steel_carbon cannot be given the anodise finish" in msg and "powder_coat" in msg
    )
    with pytest.raises(ValueError, match="cannot be given the anodise finish"):
        quote(block(), M.CNC_MILLING, MaterialId.STEEL_CARBON, 1, CAT, finish="anodise")
    assert check_analysis(MaterialId.ABS, M.CNC_MILLING, "bead_blast") is not None
    assert check_analysis(AL, M.CNC_MILLING, "anodise") is None
    assert check_analysis(MaterialId.ALUMINUM_7075, M.CNC_TURNING, "anodise") is None
    assert check_analysis(MaterialId.STAINLESS_304, M.SHEET_METAL, "anodise") is not None
    assert check_analysis(MaterialId.STAINLESS_304, M.SHEET_METAL, "powder_coat") is None
    assert check_analysis(MaterialId.ABS, M.INJECTION_MOLDING, "as_machined") is None


# ------------------------------------------------------------------------------------------------ boundary


def _request(**options: object) -> AnalyzeRequest:
    return AnalyzeRequest.model_validate(
        {
            "part": {"path": "/tmp/part.step"},
            "method": "cnc",
            "material": "aluminum_6061",
            "quantity": 1,
            **options,
        }
    )


def test_classes_and_finishes_are_read_as_people_write_them() -> None:
    r = _request(tolerance_class="ISO 2768-f", finish="Anodized")
    assert r.tolerance_class is ToleranceClass.F and r.finish is SurfaceFinish.ANODISE
    assert _request(tolerance_class="medium", finish="powder-coat").finish is SurfaceFinish.POWDER_COAT


@pytest.mark.parametrize(
    ("option", "value"), [("tolerance_class", "h7"), ("tolerance_class", "x"), ("finish", "chrome")]
)
def test_an_unknown_class_or_finish_is_a_typed_error(option: str, value: str) -> None:
    with pytest.raises(ValidationError) as e:
        _request(**{option: value})
    assert e.value.errors()[0]["loc"] == (option,)


def test_a_request_without_options_dumps_as_before() -> None:
    """Same analysis id for a request that does not use the options."""
    dumped = _request().model_dump(mode="json")
    assert "tolerance_class" not in dumped and "finish" not in dumped
    assert _request(finish="bead_blast").model_dump(mode="json")["finish"] == "bead_blast"
