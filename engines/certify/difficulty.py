"""A benchmark's difficulty card and its level, 0 to 5: the one place the level formula lives.

``level = random_points + mechanism_points``, at most 5, where

- ``random_points`` come from the upper confidence bound ``u`` of the random designs' solve rate: 0 when
  ``u >= threshold`` (trivial), 1 when ``u >= 3 %``, 2 when ``u >= 1 %``, 3 below 1 %;
- ``mechanism_points``: 1 when the reference needs two or more parts, 1 more when it needs a joint or a motor.

A benchmark whose random proof did not run (it was rejected before) gets no random points. The bound falls
with the number of random designs simulated, so a level measured with a small N is a lower level than the
same benchmark can earn with the dataset default: the card records N beside it.
"""

from __future__ import annotations

from shared.models import BenchmarkDefinition, Caps, DifficultyCard, RandomProofReport, RobustProofReport

RANDOM_STEPS = (0.03, 0.01)
"""Upper bounds of the random solve rate below which a benchmark earns a second and a third random point."""
FORMULA = (
    "level = min(5, random + mechanism); random: 0 if the random solve rate's 95% upper bound >= the trivial "
    "threshold, 1 if >= 3%, 2 if >= 1%, else 3; mechanism: +1 for a reference of 2+ parts, +1 for a joint or motor"
)


def random_points(upper_bound: float | None, threshold: float | None) -> int:
    if upper_bound is None or threshold is None or upper_bound >= threshold:
        return 0
    return 1 + sum(upper_bound < step for step in RANDOM_STEPS)


def level(upper_bound: float | None, threshold: float | None, parts: int, mechanism: bool) -> int:
    return min(5, random_points(upper_bound, threshold) + (parts >= 2) + mechanism)


def card(
    definition: BenchmarkDefinition,
    reference_share: float | None,
    caps: Caps | None,
    random: RandomProofReport | None,
    robust: RobustProofReport | None,
    structural_margin: float | None = None,
) -> DifficultyCard:
    ref = definition.reference_solution
    joint = any(p.joint is not None for p in ref)
    motor = any(p.motor is not None for p in ref)
    upper = random.upper_bound if random is not None else None
    threshold = random.threshold if random is not None else None
    return DifficultyCard(
        level=level(upper, threshold, len(ref), joint or motor),
        formula=FORMULA,
        random_designs=random.simulated if random is not None else None,
        random_solve_rate=random.solve_rate if random is not None else None,
        random_upper_bound=upper,
        reference_success_share=reference_share,
        robust_share=robust.share if robust is not None else None,
        cost_slack=round(caps.max_unit_cost_usd / caps.reference_unit_cost_usd - 1, 4)
        if caps is not None and caps.reference_unit_cost_usd > 0
        else None,
        weight_slack=round(caps.max_weight_kg / caps.reference_weight_kg - 1, 4)
        if caps is not None and caps.reference_weight_kg > 0
        else None,
        reference_parts=len(ref),
        needs_joint=joint,
        needs_motor=motor,
        structural_margin=structural_margin,
    )
