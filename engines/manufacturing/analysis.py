"""One analysis: facts + method + material + quantity -> findings, quote, ladder and alternatives.

Pure and quick (numpy over cached facts): this is what re-runs when only the quantity, the prices or the
method change. The requested method and quantity are always the ones priced; other methods appear only
in ``alternatives``, priced at the same quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.manufacturing.catalog import Catalog
from engines.manufacturing.facts import PartFacts
from engines.manufacturing.methods import METHODS
from engines.manufacturing.metrics import PartMetrics, part_metrics
from engines.manufacturing.pricing import ladder, quote
from engines.manufacturing.pull import pulled_metrics
from engines.manufacturing.rules import DfmOptions, ordered, resolution_parameters
from shared.materials import check_method
from shared.models import (
    DEFAULT_QUANTITY_LADDER,
    DfmFinding,
    LadderRung,
    ManufacturingMethod,
    MaterialId,
    MethodAlternative,
    Quote,
    Severity,
    SurfaceFinish,
    ToleranceClass,
)


@dataclass(frozen=True)
class Analysis:
    metrics: PartMetrics
    findings: list[DfmFinding]
    quote: Quote
    ladder: list[LadderRung]
    alternatives: list[MethodAlternative]

    @property
    def manufacturable(self) -> bool:
        return not any(f.severity == Severity.BLOCKING for f in self.findings)


def _metrics(facts: PartFacts, catalog: Catalog) -> PartMetrics:
    overhang = catalog.process(ManufacturingMethod.FDM_PRINTING).slicing.overhang_limit_deg
    return part_metrics(facts, overhang_limit_deg=overhang)


def assess(
    facts: PartFacts,
    metrics: PartMetrics,
    method: ManufacturingMethod,
    material: MaterialId,
    catalog: Catalog,
    sharp_corners: bool = False,
    pull_axis: tuple[float, float, float] | None = None,
) -> list[DfmFinding]:
    """All findings of ``method``'s rules for this part in ``material`` (a material it takes), blocking first.

    ``sharp_corners``: the request says internal corners must stay sharp (``AnalyzeRequest.sharp_corners``);
    by default a corner a cutter leaves at its radius is a warning, as a shop's quote treats it.
    ``pull_axis``: the request's fixed mould pull axis (``AnalyzeRequest.pull_axis``); unset, moulding
    picks it (:mod:`engines.manufacturing.pull`); ``ValueError`` when the facts did not measure it."""
    found = METHODS[method].findings(
        facts,
        metrics,
        catalog.process(method),
        catalog.params(method, material),
        DfmOptions(sharp_corners=sharp_corners, pull_axis=pull_axis),
    )
    return ordered(found)


def evaluate(
    facts: PartFacts,
    method: ManufacturingMethod,
    material: MaterialId,
    quantity: int,
    catalog: Catalog,
    metrics: PartMetrics | None = None,
    sharp_corners: bool = False,
    pull_axis: tuple[float, float, float] | None = None,
    tolerance_class: ToleranceClass | str | None = None,
    finish: SurfaceFinish | str | None = None,
) -> tuple[PartMetrics, list[DfmFinding], Quote]:
    """Findings and the quote for exactly this method, material and quantity (``metrics``: the part's, if
    already computed; they do not depend on the method; ``sharp_corners``: see :func:`assess`;
    ``tolerance_class``, ``finish``: priced as lines of the quote, :mod:`engines.manufacturing.options`). The
    quote's ``parameters`` state the resolution the rules compared measurements with limits to.

    ``ValueError`` when the method does not take the material (never another method's quote)."""
    catalog.material(material)
    problem = check_method(material, method)  # first: a method the material does not take is a request error
    if problem:
        raise ValueError(problem)
    metrics = metrics or _metrics(facts, catalog)
    findings = assess(facts, metrics, method, material, catalog, sharp_corners, pull_axis)
    if method is ManufacturingMethod.INJECTION_MOLDING:
        metrics = pulled_metrics(facts, metrics, pull_axis)  # the mould is priced along the pull reported
    q = quote(metrics, method, material, quantity, catalog, tolerance_class=tolerance_class, finish=finish)
    q = q.model_copy(update={"parameters": {**q.parameters, **resolution_parameters()}})
    if any(f.severity == Severity.BLOCKING for f in findings):
        blocking = ", ".join(sorted({f.rule_id for f in findings if f.severity == Severity.BLOCKING}))
        q = q.model_copy(
            update={
                "caveats": [
                    *q.caveats,
                    (
                        f"not manufacturable as designed ({blocking}): this prices the part as if the "
                        "blocking findings were fixed"
                    ),
                ]
            }
        )
    return metrics, findings, q


def analyse(
    facts: PartFacts,
    method: ManufacturingMethod,
    material: MaterialId,
    quantity: int,
    catalog: Catalog,
    ladder_quantities: list[int] | None = None,
    alternatives: bool = True,
    sharp_corners: bool = False,
    pull_axis: tuple[float, float, float] | None = None,
    tolerance_class: ToleranceClass | str | None = None,
    finish: SurfaceFinish | str | None = None,
) -> Analysis:
    """``sharp_corners``, ``pull_axis``, ``tolerance_class``, ``finish``: the request's options of those names
    (see :func:`assess` and :func:`evaluate`); the ladder and the alternatives are priced with them too."""
    options = {"tolerance_class": tolerance_class, "finish": finish}
    metrics, findings, q = evaluate(
        facts,
        method,
        material,
        quantity,
        catalog,
        sharp_corners=sharp_corners,
        pull_axis=pull_axis,
        **options,
    )
    quantities = sorted({*(ladder_quantities or DEFAULT_QUANTITY_LADDER), quantity})
    rungs = ladder(metrics, method, material, quantities, catalog, **options)
    others: list[MethodAlternative] = []
    if alternatives:
        for other in ManufacturingMethod:
            if other == method:
                continue
            problem = check_method(material, other)
            if problem:
                others.append(MethodAlternative(method=other, available=False, note=problem))
                continue
            _, alt_findings, alt_quote = evaluate(
                facts, other, material, quantity, catalog, metrics, sharp_corners, pull_axis, **options
            )
            blocking = sorted({f.rule_id for f in alt_findings if f.severity == Severity.BLOCKING})
            if METHODS[other].not_this_kind in blocking:
                others.append(
                    MethodAlternative(
                        method=other,
                        available=True,
                        blocking=blocking,
                        note=f"not priced: the part is not one {other.value} makes ({METHODS[other].not_this_kind})",
                    )
                )
                continue
            others.append(
                MethodAlternative(
                    method=other,
                    available=True,
                    manufacturable=not blocking,
                    blocking=blocking,
                    unit_cost_usd=alt_quote.unit_cost_usd,
                    total_cost_usd=alt_quote.total_cost_usd,
                    band_pct=alt_quote.band_pct,
                    lead_time_days=alt_quote.lead_time_days,
                    note=f"same part, {material.value}, quantity {quantity}",
                )
            )
    return Analysis(metrics=metrics, findings=findings, quote=q, ladder=rungs, alternatives=others)
