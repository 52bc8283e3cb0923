"""What a quote promises a buyer: prices that fall with batch size, mould classes within published ranges,
lead times that say 'needs review' instead of centuries, an estimate band on every quote, and programming time
that does not depend on whether the part came as STEP or STL."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from build123d import Axis, Box, BuildPart, GridLocations, Hole, export_stl, fillet, offset

from engines.cad.export import step_bytes
from engines.manufacturing import samples
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import extract, facts_from_shape
from engines.manufacturing.metrics import PartMetrics, part_metrics
from engines.manufacturing.pricing import ladder, quote
from shared.models import AnalyzeRequest, ManufacturingMethod, MaterialId

M = ManufacturingMethod
CASES = [
    (M.CNC_MILLING, MaterialId.ALUMINUM_6061),
    (M.INJECTION_MOLDING, MaterialId.ABS),
    (M.FDM_PRINTING, MaterialId.PLA),
]


def enclosure() -> object:
    """A hand-sized enclosure half: 100 x 60 x 30 mm, 2 mm walls, R3 outer corners (open top)."""
    with BuildPart() as p:
        Box(100, 60, 30)
        fillet(p.edges().filter_by(Axis.Z), 3)
        offset(amount=-2, openings=p.faces().sort_by(Axis.Z)[-1])
    return p.part


def drilled_plate() -> object:
    with BuildPart() as p:
        Box(120, 80, 8)
        with GridLocations(90, 50, 2, 2):
            Hole(3)
        Hole(10)
    return p.part


@pytest.fixture(scope="module")
def block() -> PartMetrics:
    return part_metrics(facts_from_shape(samples.pocket_block(3.0), "pocket-block"))


@pytest.fixture(scope="module")
def shell() -> PartMetrics:
    return part_metrics(facts_from_shape(enclosure(), "enclosure"))


# ------------------------------------------------------------------------------------------------ CNC batches


def test_cnc_unit_price_falls_more_than_ten_percent_from_100_to_10000(block: PartMetrics) -> None:
    cat = load_catalog()
    q100, q10k = (quote(block, "cnc_milling", "aluminum_6061", q, cat) for q in (100, 10_000))
    print(f"\nCNC pocket block: unit ${q100.unit_cost_usd:.2f} at 100, ${q10k.unit_cost_usd:.2f} at 10,000")
    assert q10k.unit_cost_usd < 0.9 * q100.unit_cost_usd
    # the fall is per-part handling and non-cutting time shared on a multi-part fixture, not setup alone
    assert q10k.parameters["fixture"] == 1 and q10k.parameters["parts_per_load"] > 1
    handling = {q.quantity: next(ln.usd for ln in q.lines if ln.item == "load/unload") for q in (q100, q10k)}
    assert handling[10_000] < handling[100]
    assert any(ln.item == "fixture" and ln.per == "order" for ln in q10k.lines)


def test_cnc_ladder_still_never_rises(block: PartMetrics) -> None:
    rungs = ladder(
        block, "cnc_milling", "aluminum_6061", [1, 10, 50, 100, 200, 500, 1000, 10_000], load_catalog()
    )
    units = [r.unit_cost_usd for r in rungs]
    assert all(b < a for a, b in itertools.pairwise(units)), units


def test_stl_and_its_step_twin_get_about_the_same_programming_time() -> None:
    cat = load_catalog()
    for part in (samples.grooved_block(), drilled_plate(), enclosure()):
        step = part_metrics(extract(step_bytes(part), "step"))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "p.stl"
            export_stl(part, str(path), tolerance=0.01)
            stl = part_metrics(extract(path.read_bytes(), "stl"))
        assert stl.n_faces > step.n_faces  # the mesh has many more patches than the B-rep has faces
        h = [
            quote(m, "cnc_milling", "aluminum_6061", 1, cat).parameters["programming_hours"]
            for m in (step, stl)
        ]
        cap = cat.process(M.CNC_MILLING).programming.hours_max
        assert h[1] < cap and max(h) / min(h) < 1.25, (step.features, stl.features, h)


# ------------------------------------------------------------------------------------------------ tooling


def _in_range(q, cat) -> bool:  # type: ignore[no-untyped-def]
    mould = q.parameters["mould_cost_usd"] / (1 - q.parameters["margin"])  # the mould's price, as published
    lo, hi = cat.process(M.INJECTION_MOLDING).tooling.classes()[q.tooling_class].published_range_usd
    return lo <= mould <= hi


def test_tooling_class_is_chosen_by_quantity_and_priced_in_its_published_range(shell: PartMetrics) -> None:
    cat = load_catalog()
    small, large = (quote(shell, "injection_molding", "abs", q, cat) for q in (500, 1_000_000))
    assert small.tooling_class == "prototype" and large.tooling_class == "production"
    assert _in_range(small, cat) and _in_range(large, cat)
    # the break-even rule: production tooling from the reported quantity on, prototype below it
    be = int(small.parameters["tooling_break_even_quantity"])
    assert be == int(large.parameters["tooling_break_even_quantity"]) and 500 < be < 1_000_000
    assert quote(shell, "im", "abs", be - 1, cat).tooling_class == "prototype"
    assert quote(shell, "im", "abs", be, cat).tooling_class == "production"
    assert "break-even" in next(ln for ln in small.lines if ln.item.startswith("tooling")).basis


@pytest.mark.parametrize(("requested", "quantity"), [("production", 100), ("prototype", 200_000)])
def test_tooling_class_by_request_is_honoured_and_in_range(
    shell: PartMetrics, requested: str, quantity: int
) -> None:
    cat = load_catalog(tooling_class=requested)
    q = quote(shell, "injection_molding", "abs", quantity, cat)
    assert q.tooling_class == requested and _in_range(q, cat)
    assert "requested class" in next(ln for ln in q.lines if ln.item.startswith("tooling")).basis
    if requested == "prototype":  # past one aluminium mould's life the order pays for the moulds it wears out
        assert q.parameters["moulds"] > 1 and any("moulds are priced" in c for c in q.caveats)
    # the same through the pricing call, and methods without tooling classes ignore the option
    assert (
        quote(shell, "im", "abs", quantity, load_catalog(), tooling_class=requested).tooling_class
        == requested
    )
    assert quote(shell, "cnc", "abs", quantity, cat).tooling_class is None


def test_an_unknown_tooling_class_is_refused() -> None:
    with pytest.raises(ValueError, match="prototype"):
        load_catalog(tooling_class="titanium")


def test_the_request_carries_the_tooling_class_and_without_it_dumps_as_before() -> None:
    base = {"part": {"path": "p.step"}, "method": "im", "material": "abs", "quantity": 100}
    plain = AnalyzeRequest.model_validate(base)
    assert plain.tooling_class is None and "tooling_class" not in plain.model_dump(mode="json")
    asked = AnalyzeRequest.model_validate({**base, "tooling_class": "prototype"})
    assert asked.model_dump(mode="json")["tooling_class"] == "prototype"


# ------------------------------------------------------------------------------------------------ lead time


def test_a_huge_quantity_needs_review_instead_of_printing_centuries(block: PartMetrics) -> None:
    cat = load_catalog()
    q = quote(block, "cnc_milling", "aluminum_6061", 10_000_000, cat)
    assert q.needs_review and q.lead_time_days == cat.review.lead_time_days
    assert any("needs review" in r and "weeks" in r for r in q.review_reasons)
    assert q.lead_time_basis.startswith("needs review")
    assert any("needs review" in c for c in q.caveats)
    rung = ladder(block, "cnc_milling", "aluminum_6061", [100, 10_000_000], cat)
    assert [r.needs_review for r in rung] == [False, True]
    assert all(r.lead_time_days <= cat.review.lead_time_days for r in rung)


def test_lead_time_assumes_the_shops_parallel_capacity(block: PartMetrics) -> None:
    one = quote(block, "cnc_milling", "aluminum_6061", 20_000, load_catalog())
    four = quote(block, "cnc_milling", "aluminum_6061", 20_000, load_catalog(parallel_machines=4))
    base = load_catalog().process(M.CNC_MILLING).lead_time.base_days
    assert four.lead_time_days - base == pytest.approx((one.lead_time_days - base) / 4)
    assert "4 machine(s)" in four.lead_time_basis and "capacity setting" in four.lead_time_basis
    assert four.unit_cost_usd == pytest.approx(one.unit_cost_usd)  # capacity changes time, not price
    with pytest.raises(ValueError, match="parallel_machines"):
        load_catalog(parallel_machines=0)


# ------------------------------------------------------------------------------------------------ estimate


@pytest.mark.parametrize(("method", "material"), CASES)
@pytest.mark.parametrize("quantity", [1, 100, 10_000])
def test_every_quote_is_an_estimate_with_its_band(
    block: PartMetrics, shell: PartMetrics, method: M, material: MaterialId, quantity: int
) -> None:
    cat = load_catalog()
    part = shell if method is M.INJECTION_MOLDING else block
    q = quote(part, method, material, quantity, cat)
    assert q.binding is False
    assert q.estimate_band_pct is not None and q.estimate_band_pct >= q.band_pct > 0
    assert q.estimate_band_pct >= cat.estimate.calibration_mdape_pct[method]
    assert q.estimate_basis.startswith(
        "estimate, not a binding quote"
    ) and f"{q.estimate_band_pct:.0f} %" in (q.estimate_basis)
