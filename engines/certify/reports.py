"""The random-design proof's report arithmetic, without the simulation: the solve rate and its bounds, the
best designs kept, and shards merged into one report. Light (no MuJoCo, no CAD), so the main worker's
``assess_certification`` merges shards without importing what the heavy jobs run (:mod:`engines.certify.trials`).
"""

from __future__ import annotations

from collections import Counter

from engines.certify import stats
from shared.models import RandomDesignTrial, RandomProofReport

BEST_KEPT = 5
"""Designs a report keeps, best first (:func:`rank`)."""


def rank(t: RandomDesignTrial) -> tuple[bool, int, float]:
    """Best first: solved, then more goal scenes, then nearer the goal."""
    return (
        not t.solved,
        -t.goal_scenes,
        t.min_goal_distance_mm if t.min_goal_distance_mm is not None else 1e12,
    )


def with_bounds(report: RandomProofReport, confidence: float) -> RandomProofReport:
    """The report with its solve rate and one-sided Clopper–Pearson bounds (none before any design ran)."""
    if report.simulated == 0:
        return report.model_copy(update={"confidence": confidence})
    return report.model_copy(
        update={
            "solve_rate": report.solved / report.simulated,
            "upper_bound": stats.upper_bound(report.solved, report.simulated, confidence),
            "lower_bound": stats.lower_bound(report.solved, report.simulated, confidence),
            "confidence": confidence,
        }
    )


def merge(reports: list[RandomProofReport], confidence: float, threshold: float) -> RandomProofReport:
    """The shards of one benchmark's proof as one report: counts summed, the best five overall."""
    if not reports:
        raise ValueError("no shard reports to merge")
    rejected: Counter[str] = Counter()
    for r in reports:
        rejected.update(r.rejected_draws)
    merged = RandomProofReport(
        sampler_version=reports[0].sampler_version,
        requested=sum(r.requested for r in reports),
        simulated=sum(r.simulated for r in reports),
        solved=sum(r.solved for r in reports),
        next_index=max(r.next_index for r in reports),
        unsampleable=sum(r.unsampleable for r in reports),
        rejected_draws=dict(sorted(rejected.items())),
        stopped_early=any(r.stopped_early for r in reports),
        scenes_run=sum(r.scenes_run for r in reports),
        compile_s=round(sum(r.compile_s for r in reports), 4),
        simulate_s=round(sum(r.simulate_s for r in reports), 4),
        price_s=round(sum(r.price_s for r in reports), 4),
        best=sorted([t for r in reports for t in r.best], key=rank)[:BEST_KEPT],
        threshold=threshold,
    )
    if merged.best:  # the picture of the shard whose best design is the best overall
        top = merged.best[0].index
        picture = next((r.best_picture for r in reports if r.best and r.best[0].index == top), None)
        merged = merged.model_copy(update={"best_picture": picture})
    return with_bounds(merged, confidence)
