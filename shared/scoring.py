"""The scorer: what an evaluation is worth, and what a run of attempts at a set of benchmarks is worth.

One spec, one version (:data:`SCORER_VERSION`); a change to either formula bumps it, and every score says
which version made it, so an old score is never silently read on a new scale.

- **The score of one evaluation** (:func:`score`): whether it passed; the share of its jittered scenes in
  which the payload reached the goal; its unit cost and its weight as fractions of the benchmark's caps
  (1.0 is at the cap; none when the design was never priced).
- **AUCCESS** (:func:`auccess`), as PHYRE defines it (Bakhtin et al., "PHYRE: A New Benchmark for Physical
  Reasoning", NeurIPS 2019, section 3.2): with ``s_k`` the share of benchmarks solved within ``k`` attempts,
  ``AUCCESS = sum_k w_k s_k / sum_k w_k`` over ``k = 1..100`` with ``w_k = log(k + 1) - log(k)``. Solving
  every benchmark at the first attempt scores 1; a benchmark first solved at attempt ``a`` contributes
  ``sum_{k >= a} w_k / sum_k w_k`` (``1 - log(a) / log(101)``); one never solved within 100 attempts, 0.

Standard library and pydantic only: the Gymnasium environment, the MCP server and, later, the workflows
all score with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

SCORER_VERSION = 1
MAX_ATTEMPTS = 100
"""AUCCESS counts attempts 1..100, as PHYRE does."""
_WEIGHTS = [math.log(k + 1) - math.log(k) for k in range(1, MAX_ATTEMPTS + 1)]


class Score(BaseModel):
    model_config = ConfigDict(frozen=True)

    scorer_version: int = SCORER_VERSION
    passed: bool
    success_share: float
    cost_fraction: float | None = None
    """Unit cost over the cap (at or below 1.0 is within it)."""
    weight_fraction: float | None = None

    @property
    def reward(self) -> float:
        """The reward of one attempt: 1 for a pass, 0 otherwise (PHYRE's success, which AUCCESS counts)."""
        return 1.0 if self.passed else 0.0


def score(
    passed: bool,
    success_share: float | None,
    unit_cost_usd: float | None = None,
    max_unit_cost_usd: float | None = None,
    weight_kg: float | None = None,
    max_weight_kg: float | None = None,
) -> Score:
    """The score of one evaluation from its verdict, its success share and its cost and weight against the
    caps (a fraction is None when either side is missing or the cap is not positive)."""

    def fraction(value: float | None, cap: float | None) -> float | None:
        return value / cap if value is not None and cap is not None and cap > 0 else None

    return Score(
        passed=passed,
        success_share=success_share or 0.0,
        cost_fraction=fraction(unit_cost_usd, max_unit_cost_usd),
        weight_fraction=fraction(weight_kg, max_weight_kg),
    )


def solved_within(first_solved: Iterable[int | None]) -> list[float]:
    """``s_k`` for k = 1..100: the share of benchmarks whose first pass came at attempt k or earlier
    (``first_solved``: one entry per benchmark, its first passing attempt, 1-based, or None)."""
    firsts = list(first_solved)
    if not firsts:
        raise ValueError("AUCCESS needs at least one benchmark")
    for a in firsts:
        if a is not None and a < 1:
            raise ValueError(f"attempts count from 1, got {a}")
    return [sum(a is not None and a <= k for a in firsts) / len(firsts) for k in range(1, MAX_ATTEMPTS + 1)]


def auccess(first_solved: Iterable[int | None]) -> float:
    """PHYRE's AUCCESS of a set of benchmarks, each given as its first passing attempt (or None)."""
    shares = solved_within(first_solved)
    return sum(w * s for w, s in zip(_WEIGHTS, shares, strict=True)) / sum(_WEIGHTS)
