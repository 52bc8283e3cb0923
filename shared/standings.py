"""The leaderboard read from its recorded attempts: attempt numbers, each submitter's standing and each
benchmark's cost-performance Pareto front. Pure functions of the entries (standard library and pydantic),
scored by the one scorer (:mod:`shared.scoring`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from shared.models import Attempt, BenchmarkFront, FrontPoint, Leaderboard, LeaderboardEntry, Standing
from shared.scoring import SCORER_VERSION, auccess


def numbered(entries: Iterable[LeaderboardEntry]) -> list[Attempt]:
    """Each entry with its attempt number: its place by start time (then design hash, for a tie) among the
    same submitter's entries for the same benchmark."""
    groups: dict[tuple[str, str], list[LeaderboardEntry]] = defaultdict(list)
    for e in entries:
        groups[(e.submitter, e.benchmark_id)].append(e)
    attempts = [
        Attempt(attempt=i, entry=e)
        for group in groups.values()
        for i, e in enumerate(sorted(group, key=lambda e: (e.started_at, e.design_sha256)), start=1)
    ]
    return sorted(attempts, key=lambda a: (a.entry.submitter, a.entry.benchmark_id, a.attempt))


def standing(submitter: str, attempts: list[Attempt], benchmark_ids: list[str]) -> Standing:
    """One submitter's standing on ``benchmark_ids`` (``attempts``: theirs)."""
    first_pass: dict[str, int] = {}
    cheapest: dict[str, float] = {}
    for a in attempts:
        s, b = a.entry.score, a.entry.benchmark_id
        if s.passed:
            first_pass[b] = min(first_pass.get(b, a.attempt), a.attempt)
            if s.cost_fraction is not None:
                cheapest[b] = min(cheapest.get(b, s.cost_fraction), s.cost_fraction)
    firsts = [first_pass.get(b) for b in benchmark_ids]  # past attempt 100 counts as unsolved
    return Standing(
        submitter=submitter,
        benchmarks=len(benchmark_ids),
        attempted=len({a.entry.benchmark_id for a in attempts}),
        evaluations=len(attempts),
        solved=len(first_pass),
        auccess=auccess(firsts),
        mean_cost_ratio=sum(cheapest.values()) / len(cheapest) if cheapest else None,
    )


def front(benchmark_id: str, attempts: list[Attempt]) -> BenchmarkFront:
    """The priced attempts on one benchmark that no other beats: a higher success share at no more cost, or
    the same share for less. Cheapest first."""
    points = [
        FrontPoint(
            submitter=a.entry.submitter,
            attempt=a.attempt,
            design_sha256=a.entry.design_sha256,
            passed=a.entry.score.passed,
            success_share=a.entry.score.success_share,
            cost_fraction=a.entry.score.cost_fraction or 0.0,
        )
        for a in attempts
        if a.entry.score.cost_fraction is not None
    ]

    def beaten(p: FrontPoint) -> bool:
        return any(
            (q.cost_fraction <= p.cost_fraction and q.success_share > p.success_share)
            or (q.cost_fraction < p.cost_fraction and q.success_share >= p.success_share)
            for q in points
        )

    kept = sorted((p for p in points if not beaten(p)), key=lambda p: (p.cost_fraction, p.submitter))
    return BenchmarkFront(benchmark_id=benchmark_id, front=kept)


def leaderboard(
    dataset_id: str,
    benchmark_ids: list[str],
    entries: Iterable[LeaderboardEntry],
    split: str | None = None,
    fold: int | None = None,
) -> Leaderboard:
    """The leaderboard of a dataset's benchmarks (or a split's test fold of them). Entries on other
    benchmarks are ignored; entries scored by another scorer version are counted in
    ``other_scorer_versions`` and left out, never rescaled."""
    chosen = set(benchmark_ids)
    ours: list[LeaderboardEntry] = []
    others: dict[int, int] = defaultdict(int)
    for e in entries:
        if e.benchmark_id not in chosen:
            continue
        if e.score.scorer_version != SCORER_VERSION:
            others[e.score.scorer_version] += 1
            continue
        ours.append(e)
    attempts = numbered(ours)
    by_submitter: dict[str, list[Attempt]] = defaultdict(list)
    by_benchmark: dict[str, list[Attempt]] = defaultdict(list)
    for a in attempts:
        by_submitter[a.entry.submitter].append(a)
        by_benchmark[a.entry.benchmark_id].append(a)
    standings = sorted(
        (standing(s, theirs, sorted(chosen)) for s, theirs in by_submitter.items()),
        key=lambda s: (
            -s.auccess,
            -s.solved,
            s.mean_cost_ratio if s.mean_cost_ratio is not None else float("inf"),
            s.submitter,
        ),
    )
    return Leaderboard(
        dataset_id=dataset_id,
        split=split,
        fold=fold,
        scorer_version=SCORER_VERSION,
        benchmarks=len(chosen),
        standings=standings,
        fronts=[front(b, by_benchmark[b]) for b in sorted(by_benchmark)],
        attempts=attempts,
        other_scorer_versions=dict(others),
    )
