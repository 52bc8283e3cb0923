"""The affordability proof on the engines alone: the reference solution's manufacturing quote at the
benchmark's target quantity (each part by its own method and material, plus its bought parts), its weight,
and the caps they set. ``assess_affordability`` (reading each part's geometry facts from the store) and the
study tools (extracting them from the shapes) both judge here, so a study's verdict is the pipeline's.

A reference part with a blocking DFM finding, or a total over the ceilings, fails the proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engines.manufacturing.analysis import evaluate
from engines.manufacturing.catalog import Catalog
from engines.manufacturing.facts import PartFacts
from shared.cots import bought_totals, describe
from shared.models import Caps, ManufacturingMethod, PartSpec, Proof, ProofResult, Severity


class _Settings(Protocol):
    """The settings this proof reads (``shared.settings.Settings``; engines do not import the settings)."""

    max_reference_unit_cost_usd: float
    max_reference_weight_kg: float
    caps_headroom: float
    benchmark_target_quantity: int


@dataclass(frozen=True)
class Ceilings:
    """What the proof holds a reference to, and the caps' headroom (from the settings)."""

    max_unit_cost_usd: float
    max_weight_kg: float
    headroom: float
    quantity: int

    @classmethod
    def of(cls, s: _Settings) -> Ceilings:
        return cls(
            s.max_reference_unit_cost_usd,
            s.max_reference_weight_kg,
            s.caps_headroom,
            s.benchmark_target_quantity,
        )


@dataclass(frozen=True)
class Priced:
    cost_usd: float
    weight_kg: float
    lines: list[str]
    """One line per part (label, method, material, unit price) and per bought item."""
    blocked: list[str]
    """``label (method): RULE, ...`` for each part with a blocking finding."""


def price_reference(
    parts: Sequence[PartSpec], facts_of: Callable[[PartSpec], PartFacts], quantity: int, catalog: Catalog
) -> Priced:
    """Quote every part (default method: CNC milling) at ``quantity``, add the bought parts.

    Raises ``ValueError`` when a part's material cannot be made by its method."""
    total, lines, blocked = 0.0, [], []
    for part in parts:
        method = part.method or ManufacturingMethod.CNC_MILLING
        _, findings, quote = evaluate(facts_of(part), method, part.material, quantity, catalog)
        blocking = sorted({f.rule_id for f in findings if f.severity == Severity.BLOCKING})
        if blocking:
            blocked.append(f"{part.label} ({method.value}): {', '.join(blocking)}")
        total += quote.unit_cost_usd
        lines.append(f"{part.label} {method.value} {part.material.value} ${quote.unit_cost_usd:.2f}")
    bought_usd, bought_kg, bought = bought_totals(parts)
    lines += [f"bought {text}" for text in describe(bought)]
    weight = sum(p.mass_kg for p in parts) + bought_kg
    return Priced(total + bought_usd, weight, lines, blocked)


def judge(priced: Priced, ceilings: Ceilings, catalog_label: str) -> tuple[ProofResult, Caps | None]:
    """The proof, and the caps when it passes: the reference's cost and weight times the headroom."""

    def fail(detail: str, measured: float | None = None, limit: float | None = None) -> ProofResult:
        return ProofResult(
            proof=Proof.AFFORDABLE, passed=False, detail=detail, measured=measured, limit=limit
        )

    if priced.blocked:
        return fail(
            "reference solution is not manufacturable as designed: " + "; ".join(priced.blocked)
        ), None
    for measured, limit, what, unit in (
        (priced.cost_usd, ceilings.max_unit_cost_usd, "reference unit cost", "USD"),
        (priced.weight_kg, ceilings.max_weight_kg, "reference weight", "kg"),
    ):
        if measured > limit:
            detail = f"{what} {measured:.3f} {unit} exceeds the ceiling of {limit:.3f} {unit}"
            return fail(detail, measured, limit), None
    h, q = ceilings.headroom, ceilings.quantity
    caps = Caps(
        max_unit_cost_usd=round(priced.cost_usd * h, 4),
        max_weight_kg=round(priced.weight_kg * h, 6),
        headroom_factor=h,
        reference_unit_cost_usd=round(priced.cost_usd, 4),
        reference_weight_kg=round(priced.weight_kg, 6),
        target_quantity=q,
        cost_basis=f"manufacturing quote ({catalog_label}) at quantity {q}: " + "; ".join(priced.lines),
        bought_parts=True,
    )
    proof = ProofResult(
        proof=Proof.AFFORDABLE,
        passed=True,
        detail=f"reference ${priced.cost_usd:.2f}/unit at {q}, {priced.weight_kg:.3f} kg; caps x{h}",
        measured=priced.cost_usd,
        limit=ceilings.max_unit_cost_usd,
    )
    return proof, caps
