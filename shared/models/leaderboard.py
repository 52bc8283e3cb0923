"""The leaderboard: one recorded attempt per submitter, benchmark and design, and the standings read from
them; the per-submitter admission of evaluations."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.models.common import Identifier, Model, Sha256, Submitter
from shared.models.evaluation import EvaluationVerdict
from shared.scoring import Score


class LeaderboardEntry(Model):
    """An evaluation with a submitter, as the leaderboard records it (once per submitter, benchmark and
    design: the same design sent again is the same attempt). Its attempt number is its place, by
    ``started_at``, among the submitter's entries for the benchmark (:func:`shared.standings.numbered`),
    so two evaluations sent at once can never get the same number."""

    submitter: Submitter
    benchmark_id: Identifier
    design_sha256: Sha256
    evaluation_id: Identifier
    started_at: datetime
    """When the submitter's evaluation workflow started: the order of attempts."""
    verdict: EvaluationVerdict
    score: Score
    """By the scorer version it records; a leaderboard counts only entries of its own version."""
    unit_cost_usd: float | None = None
    weight_kg: float | None = None
    held_out: bool = True
    """Run on the benchmark's held-out scenes (every evaluation with a submitter is)."""


class RecordAttemptRequest(Model):
    entry: LeaderboardEntry


class AdmissionRequest(Model):
    """May this evaluation start its heavy work: fewer than the limit of the submitter's evaluations that
    started before it are still running."""

    submitter: Submitter
    workflow_id: str
    started_at: datetime


class Admission(Model):
    admitted: bool
    earlier_running: int
    """The submitter's evaluations, started before this one, still running."""
    limit: int


class Attempt(Model):
    """A leaderboard entry with its attempt number (1-based)."""

    attempt: int
    entry: LeaderboardEntry


class Standing(Model):
    """One submitter on a set of benchmarks."""

    submitter: Submitter
    benchmarks: int
    """In the set (the denominator of AUCCESS: a benchmark never attempted counts as unsolved)."""
    attempted: int
    """Benchmarks with at least one attempt."""
    evaluations: int
    solved: int
    auccess: float
    mean_cost_ratio: float | None = None
    """Mean over the solved benchmarks of the unit cost of the cheapest passing design over the cost cap."""


class FrontPoint(Model):
    submitter: Submitter
    attempt: int
    design_sha256: Sha256
    passed: bool
    success_share: float
    cost_fraction: float


class BenchmarkFront(Model):
    """The cost-performance Pareto front of a benchmark's priced attempts: no other attempt has a higher
    success share at a lower or equal cost fraction (or the same share more cheaply)."""

    benchmark_id: Identifier
    front: list[FrontPoint]


class Leaderboard(Model):
    dataset_id: Identifier
    split: str | None = None
    fold: int | None = None
    scorer_version: int
    benchmarks: int
    standings: list[Standing] = Field(default_factory=list)
    """Best first: by AUCCESS, then by solved, then by mean cost ratio."""
    fronts: list[BenchmarkFront] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    other_scorer_versions: dict[int, int] = Field(default_factory=dict)
    """Entries left out because another scorer version scored them (version: count)."""
