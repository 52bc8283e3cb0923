"""The random-design proof's measurement: simulate designs ``start..stop-1`` of a benchmark's sampler on its
jittered scenes and count those that solve it.

A design solves the benchmark by the rule a submitted design passes by: the goal reached in the required
share of the benchmark's scenes, within both caps, every part manufacturable. The scenes of one design stop
as soon as that is decided either way (with 6 of 8 required, after its third miss or its sixth goal), and a
design that reached the goal often enough is quoted by the manufacturing engine then, at the caps' quantity.

Designs run in batches of :data:`BATCH` indices (in threads: MuJoCo steps without the GIL); after each batch
the report is handed to ``on_batch`` (a heartbeat: a retry resumes after the last batch), and the run stops
early when the benchmark is already decided trivial (the lower confidence bound of the solve rate at or above
the threshold: more designs could only confirm it). Batches keep the result a pure function of the inputs:
the same designs are simulated, and the same stopping point is reached, with any number of threads.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import mujoco
import trimesh

from engines.certify.primitives import local_vertices
from engines.certify.reports import BEST_KEPT, rank, with_bounds
from engines.certify.sampler import RandomDesign, Sampler
from engines.manufacturing.analysis import evaluate
from engines.manufacturing.catalog import Catalog
from engines.manufacturing.extract import facts_from_mesh
from engines.physics.collision_pack import Piece
from engines.physics.mjcf import SceneCompileError
from engines.physics.runner import build_model, run_scene
from engines.physics.structure_check import SceneStructure, held_labels, scene_structure
from engines.structure import StructureError, elastic_for
from shared.cots import bought_totals
from shared.models import (
    SAMPLER_VERSION,
    BenchmarkDefinition,
    Caps,
    Outcome,
    RandomDesignTrial,
    RandomProofReport,
    Severity,
    SimulationMode,
)

BATCH = 25
"""Designs between heartbeats and between checks of the early stop."""
SETTLE_S = 0.5
"""A random design's scene ends as a miss once nothing has moved for this long (see ``runner.run_scene``)."""


@dataclass(frozen=True)
class TrialRule:
    n_scenes: int
    required_share: float
    threshold: float
    confidence: float = 0.95
    stop_when_trivial: bool = True
    safety_factor: float | None = None
    """The structural check's (``MECHBENCH_STRUCTURE_SAFETY_FACTOR``): needed for a structural benchmark,
    whose random designs break like any design."""

    @property
    def needed(self) -> int:
        """Goal scenes a design needs (the evaluation's rule: share of scenes >= required share)."""
        return max(1, math.ceil(self.required_share * self.n_scenes - 1e-9))


def quote_design(design: RandomDesign, caps: Caps, catalog: Catalog) -> tuple[float, list[str]]:
    """The design's unit cost at the caps' quantity (each part by its method and material, in its own frame,
    as evaluations price parts, plus its bought parts) and the blocking DFM rules."""
    total, blocking = 0.0, []
    for part in design.parts:
        vertices = local_vertices(part.kind, part.dims_mm)
        mesh = trimesh.convex.convex_hull(vertices)
        facts = facts_from_mesh(mesh, f"{design.index:064x}")
        _, findings, quote = evaluate(facts, part.method, part.material, caps.target_quantity, catalog)
        total += quote.unit_cost_usd
        blocking += [f"{part.label}: {f.rule_id}" for f in findings if f.severity == Severity.BLOCKING]
    return total + bought_totals(design.parts)[0], blocking


def _simulate(
    definition: BenchmarkDefinition,
    fixtures: Mapping[str, list[Piece]],
    design: RandomDesign,
    rule: TrialRule,
) -> tuple[RandomDesignTrial | None, float, float]:
    """One design's scenes, stopped once decided; ``None`` when MuJoCo cannot compile it (an invalid draw)."""
    scene, pieces = design_scene(definition, fixtures, design)
    surfaces = {label: parts[0] for label, parts in design.pieces.items()}  # convex primitives: one piece
    scene = _unheld_parts_free(scene, pieces, surfaces)
    started = time.perf_counter()
    try:
        model = build_model(scene, pieces, SimulationMode.REFERENCE)
    except SceneCompileError:
        return None, time.perf_counter() - started, 0.0
    structure = _structure(scene, pieces, surfaces, rule)
    compiled = time.perf_counter()
    data = mujoco.MjData(model)
    goals = misses = 0
    nearest = math.inf
    outcomes: Counter[str] = Counter()
    for i in range(rule.n_scenes):
        result = run_scene(model, scene, i, data=data, settle_s=SETTLE_S, structure=structure)
        outcomes[result.outcome.value] += 1
        if result.outcome is Outcome.GOAL_REACHED:
            goals += 1
            nearest = 0.0
        else:
            misses += 1
            if result.min_goal_distance_mm is not None:
                nearest = min(nearest, result.min_goal_distance_mm)
        if goals >= rule.needed or misses > rule.n_scenes - rule.needed:
            break
    trial = RandomDesignTrial(
        index=design.index,
        parts=design.summary,
        goal_scenes=goals,
        scenes_run=goals + misses,
        min_goal_distance_mm=round(nearest, 3) if math.isfinite(nearest) else None,
        detail=", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
    )
    return trial, compiled - started, time.perf_counter() - compiled


def _unheld_parts_free(
    scene: BenchmarkDefinition, pieces: Mapping[str, list[Piece]], surfaces: Mapping[str, Piece]
) -> BenchmarkDefinition:
    """In a structural benchmark a random part that nothing holds (:func:`held_labels`) is free: it falls, as
    such a part would. (A submitted design with one is invalid instead, ``part.unsupported``.)"""
    if scene.structure is None:
        return scene
    held = held_labels(scene, surfaces, pieces)
    parts = [
        p if p.label in held or not p.fixed else p.model_copy(update={"fixed": False})
        for p in scene.reference_solution
    ]
    return scene.model_copy(update={"reference_solution": parts})


def _elastic(design: RandomDesign) -> bool:
    """Every part fixed to the world has elastic data (its material and method)."""
    try:
        for spec in design.specs:
            if spec.fixed and spec.joint is None:
                elastic_for(str(spec.material), str(spec.method) if spec.method is not None else None)
    except StructureError:
        return False
    return True


def _structure(
    scene: BenchmarkDefinition,
    pieces: Mapping[str, list[Piece]],
    surfaces: Mapping[str, Piece],
    rule: TrialRule,
) -> SceneStructure | None:
    """A structural benchmark's check of a random design (``surfaces``: each part's one convex piece)."""
    if scene.structure is None:
        return None
    if rule.safety_factor is None:
        raise ValueError("a structural benchmark's random designs need the rule's safety_factor")
    return scene_structure(scene, surfaces, pieces, rule.safety_factor)


def seed_of(benchmark_id: str) -> int:
    """The sampler seed of a benchmark: from its id, so every shard, retry and worker draws the same designs."""
    return int(hashlib.sha256(benchmark_id.encode()).hexdigest()[:8], 16)


def _fixtures(
    definition: BenchmarkDefinition, collision: Mapping[str, list[Piece]]
) -> dict[str, list[Piece]]:
    return {p.label: list(collision[p.label]) for p in definition.fixtures}


def sampler_for(
    definition: BenchmarkDefinition,
    collision: Mapping[str, list[Piece]],
    caps: Caps,
    catalog: Catalog,
    seed: int,
) -> Sampler:
    """The benchmark's sampler (the catalogue's material prices bound the draws' material cost)."""
    prices = {m: price for m, (price, _) in catalog.material_prices().items()}
    return Sampler(definition, _fixtures(definition, collision), caps, prices, seed)


def design_scene(
    definition: BenchmarkDefinition, collision: Mapping[str, list[Piece]], design: RandomDesign
) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """The benchmark's scene with ``design`` in place of the reference solution (to simulate or picture)."""
    scene = definition.model_copy(update={"reference_solution": design.specs})
    return scene, {**_fixtures(definition, collision), **design.pieces}


def run_trials(
    definition: BenchmarkDefinition,
    collision: Mapping[str, list[Piece]],
    caps: Caps,
    catalog: Catalog,
    rule: TrialRule,
    seed: int,
    start: int,
    stop: int,
    threads: int = 1,
    resume: RandomProofReport | None = None,
    on_batch: Callable[[RandomProofReport], None] | None = None,
) -> RandomProofReport:
    """Simulate random designs ``start..stop-1`` (or from ``resume.next_index``) and count the solvers."""
    if not 0 <= start <= stop:
        raise ValueError(f"need 0 <= start <= stop, got {start}..{stop}")
    fixtures = _fixtures(definition, collision)
    sampler = sampler_for(definition, collision, caps, catalog, seed)
    report = resume or RandomProofReport(
        sampler_version=SAMPLER_VERSION, requested=stop - start, next_index=start
    )
    report = report.model_copy(update={"requested": stop - start, "threshold": rule.threshold})
    rejected = Counter(report.rejected_draws)
    best = list(report.best)

    def one(index: int) -> tuple[int, RandomDesignTrial | None, Counter[str], float, float, float]:
        """Design ``index`` simulated (and quoted when it reached the goal often enough); ``None`` when the
        sampler found no valid draw for the index or MuJoCo could not compile the one it found."""
        design, why = sampler.draw(index)
        if design is None:
            return index, None, why, 0.0, 0.0, 0.0
        if definition.structure is not None and not _elastic(design):
            why["no_elastic_data"] += (
                1  # a part a structural check cannot judge, as a design's would be refused
            )
            return index, None, why, 0.0, 0.0, 0.0
        trial, compile_s, simulate_s = _simulate(definition, fixtures, design, rule)
        if trial is None:
            why["scene_compile"] += 1
            return index, None, why, compile_s, 0.0, 0.0
        price_s = 0.0
        if trial.goal_scenes >= rule.needed:
            t0 = time.perf_counter()
            cost, blocking = quote_design(design, caps, catalog)
            price_s = time.perf_counter() - t0
            within = cost <= caps.max_unit_cost_usd and not blocking
            detail = trial.detail + (
                "" if within else f"; over the caps or not manufacturable: ${cost:.2f}, {', '.join(blocking)}"
            )
            trial = trial.model_copy(
                update={"solved": within, "unit_cost_usd": round(cost, 4), "detail": detail}
            )
        return index, trial, why, compile_s, simulate_s, price_s

    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="random-designs") as pool:
        while report.next_index < stop and not report.stopped_early:
            batch = range(report.next_index, min(report.next_index + BATCH, stop))
            simulated, solved, unsampleable, scenes = report.simulated, report.solved, report.unsampleable, 0
            compile_s, simulate_s, price_s = report.compile_s, report.simulate_s, report.price_s
            for _, trial, why, c_s, s_s, p_s in sorted(pool.map(one, batch), key=lambda r: r[0]):
                rejected.update(why)
                compile_s, simulate_s, price_s = compile_s + c_s, simulate_s + s_s, price_s + p_s
                if trial is None:
                    unsampleable += 1
                    continue
                simulated += 1
                solved += trial.solved
                scenes += trial.scenes_run
                best = sorted([*best, trial], key=rank)[:BEST_KEPT]
            report = report.model_copy(
                update={
                    "simulated": simulated,
                    "solved": solved,
                    "unsampleable": unsampleable,
                    "next_index": batch.stop,
                    "rejected_draws": dict(sorted(rejected.items())),
                    "scenes_run": report.scenes_run + scenes,
                    "compile_s": round(compile_s, 4),
                    "simulate_s": round(simulate_s, 4),
                    "price_s": round(price_s, 4),
                    "best": best,
                }
            )
            report = with_bounds(report, rule.confidence)
            if (
                rule.stop_when_trivial
                and report.lower_bound is not None
                and report.lower_bound >= rule.threshold
                and report.next_index < stop
            ):
                report = report.model_copy(update={"stopped_early": True})
            if on_batch is not None:
                on_batch(report)
    return report
