"""Quotes from part metrics and the pricing catalogue: each method's cost model, then the shared assembly.

Pure functions (stdlib and the catalogue only, no geometry kernel): geometry is measured once into
:class:`~engines.manufacturing.metrics.PartMetrics`; pricing any quantity, ladder or price table is then cheap
and deterministic.

Conventions, the same for every method:

- **Honour the request.** The quote is for the method, material and quantity asked for. A quantity below 1 or
  a material the method does not take raises ``ValueError`` (the message from
  :func:`shared.materials.check_method` names the methods that do take it); there is no fallback method.
- **Lines are prices.** Each line's cost is divided by ``(1 - margin)`` of its process (price = cost / (1 - m)),
  and its basis shows the cost, the margin and the margin's source. So the lines add up to the unit price, and
  a price table with ``margin = 0`` gives pure cost.
- **Lines per part and per order.** ``per="part"`` lines are per part; ``per="order"`` lines (setup,
  programming, tooling, file preparation) are totals for the order.
  ``unit = sum(part lines) + sum(order lines) / quantity`` and ``total = unit x quantity``.
- **Band rule.** ``band_pct = sum_i (contribution_i / unit) x band_i``, where ``contribution_i`` is what line
  *i* adds to the unit price. The line errors are treated as fully correlated, so this is a linear weighted
  mean: it is an upper bound of the root-sum-square of independent errors, on purpose conservative.
  ``unit_cost_low/high = unit x (1 -/+ band/100)`` (low clipped at 0).
- **Parameters are model numbers, before margin** (``tooling_cost_usd`` is the mould's cost; its quote line is
  the price). They echo what the lines were computed from: times, cavities, setups, stock, volumes.
- **An estimate, never a binding quote.** ``binding`` is False on every quote; ``estimate_band_pct`` is the
  larger of the band above and the method's median absolute error against published prices (the catalogue's
  ``estimate.calibration_mdape_pct``, measured by ``tests/engine/test_calibration.py`` on
  ``calibration.toml``); ``estimate_basis`` says so.
- **Review instead of nonsense.** A lead time past the catalogue's review bound (26 weeks) is not printed:
  the quote's ``lead_time_days`` is the bound, ``needs_review`` is set and the reason gives the computed
  time and the capacity it assumed. A caveat that asks for a manual review sets ``needs_review`` too.
- **Every basis names its sources.** Rates come from the catalogue (each method's ``methods/<method>.toml``)
  or the material table (``shared/data/materials.toml``), each with a source string; a user price table
  replaces value and source.

The cost models live in their method's module (``engines/manufacturing/methods/<method>.py``); this module
checks the request, turns costs into priced lines and bands, and builds ladders.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import TypeAdapter

from engines.manufacturing.catalog import Catalog, with_options
from engines.manufacturing.method import CostModel, Rates, usd
from engines.manufacturing.methods import METHODS
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.options import apply_options
from shared.materials import check_finish, check_method
from shared.models import (
    Finish,
    LadderRung,
    ManufacturingMethod,
    Material,
    MaterialId,
    Method,
    Quote,
    QuoteLine,
    SurfaceFinish,
    Tolerance,
    ToleranceClass,
)

_METHOD = TypeAdapter(Method)
_MATERIAL = TypeAdapter(Material)
_TOLERANCE = TypeAdapter(Tolerance | None)
_FINISH = TypeAdapter(Finish | None)


# ------------------------------------------------------------------------------------------------ public API


def _validate(
    metrics: PartMetrics, method: ManufacturingMethod | str, material: MaterialId | str, quantity: int
) -> tuple[ManufacturingMethod, MaterialId]:
    meth = _METHOD.validate_python(method)
    mat = _MATERIAL.validate_python(material)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValueError(f"quantity must be an integer >= 1, got {quantity!r}")
    msg = check_method(mat, meth)
    if msg is not None:
        raise ValueError(msg)
    if not metrics.volume_mm3 > 0 or any(s <= 0 for s in metrics.size_mm):
        raise ValueError(
            f"part metrics need a positive volume and bounding box, got volume {metrics.volume_mm3} mm3 "
            f"and size {metrics.size_mm} mm"
        )
    return meth, mat


def _review(meth: ManufacturingMethod, model: CostModel, catalog: Catalog) -> tuple[float, str, list[str]]:
    """The lead time to print, its basis, and the reasons the quote needs a person's review."""
    bound, reasons = catalog.review.lead_time_days, []
    lead, basis = model.lead_time_days, model.lead_time_basis
    if lead > bound:
        machines = catalog.process(meth).lead_time.parallel_machines
        reasons.append(
            f"lead time {lead / 7:,.0f} weeks at this quantity on {machines} machine(s) exceeds the "
            f"{bound / 7:.0f}-week bound: needs review (more machines, a split order or scheduled deliveries) "
            f"[{catalog.review.source}]"
        )
        basis = f"needs review: computed {lead:,.0f} d, shown as the {bound:g} d bound; {basis}"
        lead = bound
    reasons += [c for c in model.caveats if "manual review" in c]
    return lead, basis, reasons


def _assemble(
    meth: ManufacturingMethod,
    mat: MaterialId,
    q: int,
    model: CostModel,
    rates: Rates,
    catalog: Catalog,
    tolerance_class: ToleranceClass | None = None,
    finish: SurfaceFinish = SurfaceFinish.AS_MACHINED,
) -> Quote:
    margin = rates.margin
    lines = [
        QuoteLine(
            item=c.item,
            usd=c.cost_usd / (1 - margin),
            per=c.per,
            basis=(
                f"{c.basis}; cost {usd(c.cost_usd)}{' per order' if c.per == 'order' else ''}, "
                f"price = cost / (1 - margin {margin:g}) [margin: {rates.margin_source}]"
            ),
            band_pct=c.band_pct,
        )
        for c in model.costs
    ]
    contrib = [ln.usd if ln.per == "part" else ln.usd / q for ln in lines]
    unit = sum(contrib)
    band = sum(c * ln.band_pct for c, ln in zip(contrib, lines)) / unit if unit > 0 else 0.0
    calibrated = catalog.estimate.calibration_mdape_pct.get(meth, 0.0)
    lead, lead_basis, reasons = _review(meth, model, catalog)
    caveats = [*model.caveats, *(r for r in reasons if r not in model.caveats)]
    tooling = model.parameters.get("prototype_tooling")
    return Quote(
        method=meth,
        material=mat,
        quantity=q,
        lines=lines,
        unit_cost_usd=unit,
        total_cost_usd=unit * q,
        band_pct=band,
        unit_cost_low_usd=max(0.0, unit * (1 - band / 100)),
        unit_cost_high_usd=unit * (1 + band / 100),
        lead_time_days=lead,
        lead_time_basis=lead_basis,
        parameters={**model.parameters, "margin": margin},
        caveats=caveats,
        binding=False,
        estimate_band_pct=max(band, calibrated),
        estimate_basis=(
            f"estimate, not a binding quote: +-{max(band, calibrated):.0f} % = max(line bands weighted by share "
            f"{band:.0f} %, {meth.value} median error against published prices {calibrated:.0f} %); "
            f"{catalog.estimate.basis}"
        ),
        needs_review=bool(reasons),
        review_reasons=reasons,
        tooling_class=None if tooling is None else ("prototype" if tooling else "production"),
        tolerance_class=tolerance_class,
        finish=finish,
    )


def quote(
    metrics: PartMetrics,
    method: ManufacturingMethod | str,
    material: MaterialId | str,
    quantity: int,
    catalog: Catalog,
    *,
    tooling_class: str | None = None,
    parallel_machines: int | None = None,
    tolerance_class: ToleranceClass | str | None = None,
    finish: SurfaceFinish | str | None = None,
) -> Quote:
    """Price ``quantity`` parts by ``method`` in ``material``; raise ``ValueError`` for an impossible request.

    The request is honoured exactly: a material the method does not take is an error, never a reason to quote
    another method (the caller can price alternatives separately). ``tooling_class`` and
    ``parallel_machines`` override the catalogue's (:func:`engines.manufacturing.catalog.with_options`);
    ``tolerance_class`` and ``finish`` are priced as lines of their own (:mod:`engines.manufacturing.options`;
    a finish the material does not take is a ``ValueError``).
    """
    meth, mat = _validate(metrics, method, material, quantity)
    tolerance_class, finish = _TOLERANCE.validate_python(tolerance_class), _FINISH.validate_python(finish)
    msg = check_finish(mat, finish)
    if msg is not None:
        raise ValueError(msg)
    catalog = with_options(catalog, parallel_machines=parallel_machines, tooling_class=tooling_class)
    proc = catalog.process(meth)
    model = METHODS[meth].cost(metrics, catalog.material(mat), catalog.params(meth, mat), quantity, proc)
    model, tol, fin = apply_options(model, meth, metrics, quantity, catalog.options, tolerance_class, finish)
    return _assemble(meth, mat, quantity, model, proc.rates, catalog, tol, fin)


def ladder(
    metrics: PartMetrics,
    method: ManufacturingMethod | str,
    material: MaterialId | str,
    quantities: Iterable[int],
    catalog: Catalog,
    *,
    tooling_class: str | None = None,
    parallel_machines: int | None = None,
    tolerance_class: ToleranceClass | str | None = None,
    finish: SurfaceFinish | str | None = None,
) -> list[LadderRung]:
    """One rung per distinct quantity, ascending: the same model as :func:`quote` at each quantity."""
    qs = list(quantities)
    if not qs:
        raise ValueError("a ladder needs at least one quantity")
    rungs = []
    for q in sorted(set(qs)):
        qt = quote(
            metrics,
            method,
            material,
            q,
            catalog,
            tooling_class=tooling_class,
            parallel_machines=parallel_machines,
            tolerance_class=tolerance_class,
            finish=finish,
        )
        rungs.append(
            LadderRung(
                quantity=q,
                unit_cost_usd=qt.unit_cost_usd,
                total_cost_usd=qt.total_cost_usd,
                band_pct=qt.band_pct,
                lead_time_days=qt.lead_time_days,
                needs_review=qt.needs_review,
            )
        )
    return rungs
