"""The scorer: one evaluation's score, and AUCCESS over attempts as PHYRE defines it."""

from __future__ import annotations

import math

import pytest

from shared.scoring import MAX_ATTEMPTS, SCORER_VERSION, auccess, score, solved_within


def test_a_score_carries_its_version_and_its_fractions_of_the_caps() -> None:
    s = score(True, 0.9, unit_cost_usd=30.0, max_unit_cost_usd=60.0, weight_kg=0.5, max_weight_kg=2.0)
    assert s.scorer_version == SCORER_VERSION
    assert (s.passed, s.success_share, s.cost_fraction, s.weight_fraction) == (True, 0.9, 0.5, 0.25)
    assert s.reward == 1.0
    unpriced = score(False, None)
    assert unpriced.reward == 0.0 and unpriced.success_share == 0.0 and unpriced.cost_fraction is None
    assert score(False, 0.5, unit_cost_usd=1.0, max_unit_cost_usd=0.0).cost_fraction is None


def test_auccess_of_first_attempt_solves_is_one_and_of_no_solves_is_zero() -> None:
    assert auccess([1, 1, 1]) == pytest.approx(1.0)
    assert auccess([None, None]) == 0.0
    assert auccess([MAX_ATTEMPTS + 1]) == 0.0  # solved only after the counted attempts


@pytest.mark.parametrize("attempt", [1, 2, 3, 10, 50, 100])
def test_a_benchmark_first_solved_at_attempt_a_scores_one_minus_log_a_over_log_101(attempt: int) -> None:
    """sum_{k >= a} (log(k+1) - log(k)) / sum_{k = 1..100} (...) telescopes to 1 - log(a) / log(101)."""
    assert auccess([attempt]) == pytest.approx(1 - math.log(attempt) / math.log(MAX_ATTEMPTS + 1))


def test_auccess_averages_over_benchmarks_and_shares_count_solves_within_k() -> None:
    firsts = [1, 3, None, 10]
    expected = sum(1 - math.log(a) / math.log(101) for a in (1, 3, 10)) / 4
    assert auccess(firsts) == pytest.approx(expected)
    shares = solved_within(firsts)
    assert shares[0] == 0.25 and shares[2] == 0.5 and shares[9] == 0.75 and shares[-1] == 0.75
    with pytest.raises(ValueError, match="at least one"):
        auccess([])
    with pytest.raises(ValueError, match="from 1"):
        auccess([0])
