"""What an evaluation's results say: its verdict with every reason (and the feedback of a blocking DFM
finding), the scene its evidence shows, and its leaderboard entry. Pure functions of the contracts, used
by :mod:`workflows.evaluation` (light imports only: they run in the workflow sandbox)."""

from __future__ import annotations

from shared.models import (
    DesignCost,
    DfmFinding,
    EvaluationResult,
    EvaluationVerdict,
    LeaderboardEntry,
    Outcome,
    SceneResult,
    SimulationReport,
)
from shared.scoring import score


def attempt_of(result: EvaluationResult, submitter: str, started_at: object) -> LeaderboardEntry:
    """The leaderboard's entry of an evaluation's result, scored by the one scorer."""
    cost = result.cost
    return LeaderboardEntry(
        submitter=submitter,
        benchmark_id=result.benchmark_id,
        design_sha256=result.design_sha256,
        evaluation_id=result.evaluation_id,
        started_at=started_at,
        verdict=result.verdict,
        score=score(
            result.verdict == EvaluationVerdict.PASSED,
            result.success_share,
            cost.unit_cost_usd if cost else None,
            cost.max_unit_cost_usd if cost else None,
            cost.weight_kg if cost else None,
            cost.max_weight_kg if cost else None,
        ),
        unit_cost_usd=cost.unit_cost_usd if cost else None,
        weight_kg=cost.weight_kg if cost else None,
    )


def dfm_feedback(f: DfmFinding) -> str:
    """A blocking DFM finding as an agent can act on it: the rule, what was measured against which limit,
    where, and the fix."""
    unit = f" {f.unit}" if f.unit else ""
    said = f"{f.rule_id} ({f.title})"
    if f.measured is not None and f.limit is not None:
        said += f": {f.measured:.3g}{unit} against a limit of {f.limit:.3g}{unit}"
    if f.point_mm is not None:
        said += " at (" + ", ".join(f"{x:.1f}" for x in f.point_mm) + ") mm"
    if f.face_ids:
        said += f", faces {', '.join(str(i) for i in f.face_ids[:5])}" + (
            "..." if len(f.face_ids) > 5 else ""
        )
    return f"{said}; fix: {f.fix}"


def breakage_feedback(scene: SceneResult, scenes: int) -> str:
    """A broken part as an agent can act on it: which part, by how much, where, and the fix."""
    said = f"{scene.detail} (scene {scene.scene_index}; {scenes} scene{'s' if scenes != 1 else ''} broke)"
    stress = next((s for s in scene.structure if s.broke), None)
    if stress is None:
        return said
    if stress.peak_von_mises_mpa > stress.allowable_mpa:
        over = stress.peak_von_mises_mpa / stress.allowable_mpa
        # bending stress goes as 1/h^2: a section that much deeper, or a stronger material
        return (
            f"{said}; fix: make {stress.label} stronger where it peaks: about {over**0.5:.2f}x as thick in "
            f"the bending direction, more supported, or of a material {over:.2f}x as strong"
        )
    return f"{said}; fix: make {stress.label} stiffer (thicker, shorter span, or more supported)"


def verdict_of(
    simulation: SimulationReport, required_share: float, required_scenes: int, cost: DesignCost
) -> tuple[EvaluationVerdict, str]:
    """Passed only when the goal was reached in the required share of at least the benchmark's own number
    of scenes, within both caps, and every part is manufacturable; otherwise failed, with every reason."""
    n = len(simulation.results)
    reached = simulation.outcome_counts.get(Outcome.GOAL_REACHED.value, 0)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(simulation.outcome_counts.items()))
    reasons = []
    if simulation.success_share < required_share:
        reasons.append(
            f"reached the goal in {reached} of {n} scenes, {required_share:.0%} required ({outcomes})"
        )
    broken = [r for r in simulation.results if r.outcome == Outcome.BREAKAGE]
    if broken:
        reasons.append(breakage_feedback(broken[0], len(broken)))
    if n < required_scenes:
        reasons.append(f"ran {n} scenes; passing takes at least the benchmark's {required_scenes}")
    if not cost.within_cost_cap:
        reasons.append(f"unit cost ${cost.unit_cost_usd:.2f} over the cap of ${cost.max_unit_cost_usd:.2f}")
    if not cost.within_weight_cap:
        reasons.append(f"weight {cost.weight_kg:.3f} kg over the cap of {cost.max_weight_kg:.3f} kg")
    if not cost.manufacturable:
        bad = "; ".join(
            f"{p.label} ({p.method.value}): "
            + (", ".join(dfm_feedback(f) for f in p.blocking_findings) or ", ".join(p.blocking))
            for p in cost.parts
            if p.blocking
        )
        reasons.append(f"not manufacturable as designed: {bad}")
    if reasons:
        return EvaluationVerdict.FAILED, "; ".join(reasons)
    summary = (
        f"reached the goal in {reached} of {n} scenes; ${cost.unit_cost_usd:.2f}/unit and "
        f"{cost.weight_kg:.3f} kg within the caps"
    )
    return EvaluationVerdict.PASSED, summary


def representative_scene(simulation: SimulationReport, required_share: float) -> int:
    """What the verdict rests on: when the design reached the goal often enough, the first scene that did;
    otherwise the first scene where a part broke, else the first scene that did not reach the goal."""
    solved = simulation.success_share >= required_share
    if not solved:
        broke = next((r.scene_index for r in simulation.results if r.outcome == Outcome.BREAKAGE), None)
        if broke is not None:
            return broke
    return next(
        (r.scene_index for r in simulation.results if (r.outcome == Outcome.GOAL_REACHED) == solved),
        0,
    )
