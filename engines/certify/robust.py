"""The robustness proof's measurement: the reference solution with each part moved by up to ±``position_mm``
per axis and turned by up to ``rotation_deg`` about a random axis through its bounding-box centre, ``K``
times, each perturbation simulated on the benchmark's jittered scenes.

A part on a joint keeps its joint: the anchor and the axis move and turn with the part. Perturbation ``k`` is
drawn from its own generator seeded by ``(seed, k)``, so it is the same in every process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from engines.certify.primitives import axis_angle
from engines.physics.collision_pack import Piece
from engines.physics.runner import simulate
from engines.physics.structure_check import Motion, SceneStructure
from shared.models import BenchmarkDefinition, Box, PartSpec, RobustProofReport, SimulationMode

POSITION_MM = 2.0
ROTATION_DEG = 1.0


def perturbed(
    definition: BenchmarkDefinition,
    collision: Mapping[str, list[Piece]],
    rng: np.random.Generator,
    position_mm: float = POSITION_MM,
    rotation_deg: float = ROTATION_DEG,
    motions: dict[str, Motion] | None = None,
) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """The definition and collision pieces with every reference part moved and turned a little; ``motions``,
    when given, receives each part's rigid motion (for the structural check, which carries loads back)."""
    pieces = dict(collision)
    parts: list[PartSpec] = []
    for part in definition.reference_solution:
        axis = rng.normal(size=3)
        rot = axis_angle(axis, float(rng.uniform(-rotation_deg, rotation_deg)))
        shift = rng.uniform(-position_mm, position_mm, size=3)
        centre = np.array(part.bbox.center_mm)

        def move(
            p: np.ndarray, rot: np.ndarray = rot, shift: np.ndarray = shift, c: np.ndarray = centre
        ) -> np.ndarray:
            return (np.asarray(p, dtype=np.float64) - c) @ rot.T + c + shift

        if motions is not None:
            motions[part.label] = (rot, centre, shift)
        pieces[part.label] = [(move(v), f) for v, f in collision[part.label]]
        allv = np.concatenate([v for v, _ in pieces[part.label]])
        update: dict = {
            "bbox": Box(min_mm=tuple(allv.min(axis=0).tolist()), max_mm=tuple(allv.max(axis=0).tolist()))
        }
        if part.joint is not None:
            anchor = part.joint.anchor_mm if part.joint.anchor_mm is not None else part.bbox.center_mm
            joint = part.joint.model_copy(
                update={
                    "anchor_mm": tuple(move(np.array([anchor]))[0].tolist()),
                    "axis": tuple((np.asarray(part.joint.axis, dtype=np.float64) @ rot.T).tolist()),
                }
            )
            update["joint"] = joint
        parts.append(part.model_copy(update=update))
    return definition.model_copy(update={"reference_solution": parts}), pieces


def run_perturbations(
    definition: BenchmarkDefinition,
    collision: Mapping[str, list[Piece]],
    perturbations: int,
    required_share: float,
    seed: int,
    threads: int = 1,
    on_done: Callable[[int, float], None] | None = None,
    structure: SceneStructure | None = None,
) -> RobustProofReport:
    """Simulate ``perturbations`` perturbed references; one solves when it reaches the goal in the benchmark's
    required share of scenes. ``required_share`` is the share of perturbations that must solve. The report's
    ``worst_detail`` names the perturbation with the lowest success share below the benchmark's required one
    (the first of equals), with its scenes' outcomes; it is empty when every perturbation solved. With
    ``structure`` (a structural benchmark's) each perturbed part is checked as it was moved."""
    if perturbations < 1:
        raise ValueError(f"perturbations must be at least 1, got {perturbations}")
    sim = definition.simulation
    shares: list[float] = []
    worst, worst_share = "", sim.required_success_share
    for k in range(perturbations):
        motions: dict[str, Motion] = {}
        scene, pieces = perturbed(definition, collision, np.random.default_rng([seed, k]), motions=motions)
        moved = structure.moved(motions) if structure is not None else None
        report = simulate(
            scene, pieces, SimulationMode.REFERENCE, sim.n_scenes, threads=threads, structure=moved
        )
        shares.append(report.success_share)
        if report.success_share < worst_share:
            worst_share = report.success_share
            worst = f"perturbation {k} (success share {report.success_share:.0%}): " + ", ".join(
                f"{o} {n}" for o, n in sorted(report.outcome_counts.items())
            )
        if on_done is not None:
            on_done(k, report.success_share)
    solved = sum(s >= sim.required_success_share for s in shares)
    return RobustProofReport(
        perturbations=perturbations,
        position_mm=POSITION_MM,
        rotation_deg=ROTATION_DEG,
        solved=solved,
        share=solved / perturbations,
        required_share=required_share,
        success_shares=[round(s, 4) for s in shares],
        worst_detail=worst,
    )
