"""The leaderboard's arithmetic: attempt numbers by start time, AUCCESS and cost per submitter, the Pareto
front per benchmark, other scorer versions left out; the held-out jitter seed."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from shared.ids import evaluation_id, evaluation_workflow_id, held_out_seed
from shared.models import EvaluationVerdict, LeaderboardEntry
from shared.scoring import SCORER_VERSION, Score, score
from shared.standings import front, leaderboard, numbered

T0 = datetime(2026, 12, 7, tzinfo=UTC)


def entry(
    submitter: str, benchmark: str, n: int, passed: bool, cost: float | None, share: float | None = None
) -> LeaderboardEntry:
    return LeaderboardEntry(
        submitter=submitter,
        benchmark_id=benchmark,
        design_sha256=f"{n:064x}",
        evaluation_id=f"{benchmark}-{n:016x}",
        started_at=T0 + timedelta(seconds=n),
        verdict=EvaluationVerdict.PASSED if passed else EvaluationVerdict.FAILED,
        score=score(passed, share if share is not None else float(passed), cost, 10.0 if cost else None),
        unit_cost_usd=cost,
    )


def test_attempts_are_numbered_by_start_time_per_submitter_and_benchmark() -> None:
    entries = [
        entry("bob", "b1", 5, False, 3.0),
        entry("bob", "b1", 2, False, 4.0),
        entry("bob", "b2", 9, True, 1.0),
    ]
    got = {(a.entry.benchmark_id, a.entry.design_sha256[-1], a.attempt) for a in numbered(entries)}
    assert got == {("b1", "2", 1), ("b1", "5", 2), ("b2", "9", 1)}


def test_standings_count_unattempted_benchmarks_as_unsolved_and_rank_best_first() -> None:
    entries = [
        entry("alice", "b1", 1, True, 5.0),  # solved at attempt 1
        entry("bob", "b1", 2, False, 2.0),
        entry("bob", "b1", 3, True, 8.0),  # solved at attempt 2
        entry("bob", "b2", 4, True, 6.0),
        entry("bob", "b1", 7, True, 4.0),  # a cheaper pass later: the cost ratio takes the cheapest
        entry("carol", "elsewhere", 5, True, 1.0),  # not in the set
    ]
    board = leaderboard("ds", ["b1", "b2"], entries)
    by = {s.submitter: s for s in board.standings}
    assert set(by) == {"alice", "bob"} and board.benchmarks == 2
    a = by["alice"]
    assert (a.attempted, a.solved, a.evaluations) == (1, 1, 1)
    assert a.auccess == pytest.approx(0.5)  # one of two benchmarks at the first attempt
    assert a.mean_cost_ratio == pytest.approx(0.5)
    b = by["bob"]
    assert (b.attempted, b.solved, b.evaluations) == (2, 2, 4)
    assert b.auccess == pytest.approx((1 - math.log(2) / math.log(101) + 1) / 2)
    assert b.mean_cost_ratio == pytest.approx((0.4 + 0.6) / 2)
    assert [s.submitter for s in board.standings] == ["bob", "alice"]
    assert board.scorer_version == SCORER_VERSION and not board.other_scorer_versions


def test_the_front_keeps_what_no_other_attempt_beats() -> None:
    attempts = numbered(
        [
            entry("a", "b", 1, True, 5.0),
            entry("a", "b", 2, False, 2.0, share=0.5),
            entry("b", "b", 3, False, 6.0, share=0.5),  # dominated: dearer and no better
            entry("b", "b", 4, True, 9.0),  # dominated: the same share, dearer
            entry("c", "b", 5, False, None),  # never priced: not on the front
        ]
    )
    f = front("b", attempts)
    assert [(p.submitter, p.attempt) for p in f.front] == [("a", 2), ("a", 1)]
    assert [p.cost_fraction for p in f.front] == [0.2, 0.5]


def test_another_scorer_version_is_left_out_not_rescaled() -> None:
    old = entry("alice", "b1", 1, True, 5.0)
    old = old.model_copy(
        update={"score": Score(scorer_version=SCORER_VERSION + 1, passed=True, success_share=1.0)}
    )
    board = leaderboard("ds", ["b1"], [old, entry("bob", "b1", 2, False, 1.0)])
    assert [s.submitter for s in board.standings] == ["bob"]
    assert board.other_scorer_versions == {SCORER_VERSION + 1: 1}


def test_held_out_scenes_are_another_evaluation_with_a_seed_only_the_secret_gives() -> None:
    seed = held_out_seed(b"secret", "chute-s0-v3")
    assert 0 <= seed < 2**31 and seed == held_out_seed(b"secret", "chute-s0-v3")
    assert seed != held_out_seed(b"other", "chute-s0-v3") != held_out_seed(b"secret", "chute-s1-v3")
    public = evaluation_id("chute-s0-v3", "d" * 64, None, True, "basis")
    assert public == evaluation_id("chute-s0-v3", "d" * 64, None, True, "basis", held_out=False)
    assert public != evaluation_id("chute-s0-v3", "d" * 64, None, True, "basis", held_out=True)
    assert evaluation_workflow_id(public) == f"evaluate-{public}"
    assert evaluation_workflow_id(public, "alice") == f"evaluate-{public}-by-alice"
