"""The material catalogue: its size, its sources, and that every material is quoted by every method it lists.

The second group of materials (alloys and engineering plastics) is for the manufacturing and structural
engines only; the random-design sampler keeps drawing from the seven materials it was pinned with.
"""

from __future__ import annotations

import pytest
from build123d import Box

from engines.certify.sampler import RANDOM_DESIGN_MATERIALS
from engines.manufacturing.analysis import evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import facts_from_shape
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.pricing import quote
from engines.structure.materials import elastic_for
from shared.materials import MATERIALS, MaterialClass, methods_for, props
from shared.models import ManufacturingMethod, MaterialId

REQUIRED = (
    "aluminum_6061",
    "aluminum_5052",
    "aluminum_7075",
    "steel_cold_rolled",
    "stainless_304",
    "brass_360",
    "abs",
    "pla",
    "petg",
    "nylon_pa12",
    "polycarbonate",
    "pom",
)
"""The ids the catalogue must offer (the issue that grew it from seven materials)."""

FIRST_SEVEN = {"aluminum_6061", "steel_carbon", "abs", "pla", "hdpe", "hardwood", "rubber_generic"}
NEW = sorted(m for m in MaterialId if m.value not in FIRST_SEVEN)
PAIRS = [(m, meth) for m in NEW for meth in methods_for(m)]


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def box(x: float = 100.0, y: float = 60.0, z: float = 3.0) -> PartMetrics:
    """An x by y by z mm box with uniform walls (z), described directly, as ``test_pricing`` describes parts."""
    return PartMetrics(
        volume_mm3=x * y * z,
        area_mm2=2 * (x * y + x * z + y * z),
        bbox_min=(0.0, 0.0, 0.0),
        bbox_max=(x, y, z),
        n_faces=6,
        n_triangles=12,
        cnc_setups=2,
        cnc_machined_area_mm2=x * y,
        wall_min_mm=z,
        wall_nominal_mm=z,
        wall_max_mm=z,
        projected_area_z_mm2=x * y,
        im_side_actions=0,
        fdm_support_volume_mm3=0.0,
    )


def test_the_catalogue_has_at_least_twenty_materials_and_the_required_ids() -> None:
    assert len(MATERIALS) >= 20
    assert set(MATERIALS) == set(MaterialId)
    assert set(REQUIRED) <= {m.value for m in MaterialId}
    assert len(NEW) == 14


def test_every_row_names_its_sources(catalog) -> None:  # type: ignore[no-untyped-def]
    """Properties, price and elastic data each have a source (an elastomer has no elastic data), and so has
    every per-method table; nothing cites a document outside the repository."""
    for mid in MaterialId:
        row = props(mid)
        assert row.properties_source.strip(), mid
        assert row.price_source.strip(), mid
        if row.material_class is MaterialClass.ELASTOMER:
            assert row.youngs_modulus_mpa is None, mid
        else:
            assert row.elastic_source.strip() and row.youngs_modulus_mpa, mid
        for method in row.methods:
            assert catalog.params(method, mid).source.strip(), (mid, method)
        text = " ".join(
            [row.properties_source, row.price_source, row.elastic_source]
            + [catalog.params(m, mid).source for m in row.methods]
        ).lower()
        assert "research notes" not in text, mid


def test_new_materials_have_structural_data_for_every_method() -> None:
    """The structural engine takes each new material as stock and as made by each of its methods (a printed
    one needs its layer knock-down)."""
    for mid in NEW:
        stock = elastic_for(mid.value)
        assert stock.youngs_modulus_mpa > 0 and stock.allowable_mpa > 0
        for method in methods_for(mid):
            assert elastic_for(mid.value, method.value).allowable_mpa > 0


@pytest.mark.parametrize(("material", "method"), PAIRS, ids=[f"{m.value}-{meth.value}" for m, meth in PAIRS])
def test_every_new_material_is_quoted_by_every_method_it_lists(
    material: MaterialId, method: ManufacturingMethod, catalog
) -> None:  # type: ignore[no-untyped-def]
    q = quote(box(), method, material, 10, catalog)
    assert (q.method, q.material, q.quantity) == (method, material, 10)
    assert q.unit_cost_usd > 0 and all(ln.usd >= 0 for ln in q.lines)
    assert q.lead_time_days > 0


def test_a_box_solid_is_analysed_in_every_new_material_and_method(catalog) -> None:  # type: ignore[no-untyped-def]
    """From geometry facts to findings and a quote, for each new (material, method) pair."""
    facts = facts_from_shape(Box(60, 40, 3), "box")
    metrics = None
    for material, method in PAIRS:
        metrics, _, q = evaluate(facts, method, material, 10, catalog, metrics=metrics)
        assert q.unit_cost_usd > 0, (material, method)


def test_a_dearer_faster_cutting_alloy_prices_as_its_rows_say(catalog) -> None:  # type: ignore[no-untyped-def]
    """Rates and prices reach the quote: titanium mills slower than aluminium and costs more per kg."""
    al = quote(box(), ManufacturingMethod.CNC_MILLING, MaterialId.ALUMINUM_5052, 10, catalog)
    ti = quote(box(), ManufacturingMethod.CNC_MILLING, MaterialId.TITANIUM_6AL4V, 10, catalog)
    assert ti.unit_cost_usd > al.unit_cost_usd


def test_random_designs_keep_drawing_from_the_first_seven_materials() -> None:
    assert {m.value for m in RANDOM_DESIGN_MATERIALS} == FIRST_SEVEN
    assert list(RANDOM_DESIGN_MATERIALS) == sorted(RANDOM_DESIGN_MATERIALS)
