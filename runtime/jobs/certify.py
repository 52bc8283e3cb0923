"""Heavy jobs of the certification proofs: one shard of the random-design proof, and the perturbed reference.

Both read the benchmark's collision pieces from the store and call :mod:`engines.certify`; the random job
keeps its counts in its heartbeat (a retry resumes after the last finished batch) and stores a picture of the
best design it simulated.
"""

from __future__ import annotations

from engines.certify.robust import run_perturbations
from engines.certify.trials import TrialRule, design_scene, run_trials, sampler_for, seed_of
from engines.manufacturing.catalog import Catalog, load_catalog
from engines.physics import collision_pack
from engines.physics.collision_pack import Piece
from engines.physics.mjcf import EVIDENCE_CAMERA
from engines.physics.runner import build_model
from runtime.jobs import JobError, Progress, current_settings, open_store
from runtime.jobs.generation import THUMBNAIL_SIZE
from runtime.jobs.structure import scene_structure_of
from shared.keys import random_best_key
from shared.logging import get_logger
from shared.models import (
    ErrorType,
    HeavyProgress,
    RandomProofReport,
    RandomProofRequest,
    RobustProofReport,
    RobustProofRequest,
    SimulationMode,
)

log = get_logger(__name__)


def random_job(
    req: RandomProofRequest, progress: Progress, resume: HeavyProgress | None
) -> RandomProofReport:
    """Designs ``req.start..req.stop-1`` of the benchmark's sampler, simulated and counted."""
    d, plan = req.definition, req.plan
    if d.caps is None:
        raise JobError("the random-design proof needs the benchmark's caps", ErrorType.INVALID_REQUEST)
    if req.stop < req.start:
        raise JobError(f"empty shard {req.start}..{req.stop}", ErrorType.INVALID_REQUEST)
    stage, total = "random designs", req.stop - req.start
    earlier = resume.random if resume is not None else None
    if earlier is not None and not req.start <= earlier.next_index <= req.stop:
        earlier = None  # the details of another shard: start this one afresh
    progress(
        HeavyProgress(
            stage=stage,
            done=(earlier.next_index - req.start) if earlier else 0,
            total=total,
            random=earlier,
        )
    )
    store = open_store()
    collision = collision_pack.unpack(store.get_ref(d.artifacts.collision))
    catalog = load_catalog()
    settings = current_settings()
    sim = d.simulation
    rule = TrialRule(
        n_scenes=sim.n_scenes,
        required_share=sim.required_success_share,
        threshold=plan.trivial_threshold,
        confidence=plan.confidence,
        safety_factor=settings.structure_safety_factor,
    )
    seed = seed_of(d.benchmark_id)

    def on_batch(report: RandomProofReport) -> None:
        progress(
            HeavyProgress(
                stage=stage,
                done=report.next_index - req.start,
                total=total,
                detail=f"{report.solved} of {report.simulated} solved",
                random=report,
            )
        )

    report = run_trials(
        d,
        collision,
        d.caps,
        catalog,
        rule,
        seed,
        req.start,
        req.stop,
        threads=settings.scene_threads,
        resume=earlier,
        on_batch=on_batch,
    )
    if report.best and report.best_picture is None and settings.mujoco_gl != "disabled":
        report = _with_best_picture(req, collision, catalog, seed, report, progress)
    return report


def _with_best_picture(
    req: RandomProofRequest,
    collision: dict[str, list[Piece]],
    catalog: Catalog,
    seed: int,
    report: RandomProofReport,
    progress: Progress,
) -> RandomProofReport:
    """The report with a picture of its best design in the scene, from the evidence camera (none without GL)."""
    from engines.physics.render import RenderUnavailable, picture_png

    d = req.definition
    assert d.caps is not None
    best = report.best[0]
    progress(HeavyProgress(stage="random designs", detail=f"picture of design {best.index}", random=report))
    design, _ = sampler_for(d, collision, d.caps, catalog, seed).draw(best.index)
    if design is None:  # cannot happen: the index was drawn and simulated
        return report
    scene, pieces = design_scene(d, collision, design)
    width, height = THUMBNAIL_SIZE
    try:
        png = picture_png(
            build_model(scene, pieces, SimulationMode.DESIGN),
            width=width,
            height=height,
            camera=EVIDENCE_CAMERA,
        )
    except RenderUnavailable as e:
        log.warning("random_best.unavailable", benchmark_id=d.benchmark_id, error=str(e))
        return report
    ref = open_store().put_bytes(random_best_key(d.benchmark_id, req.start), png, "image/png")
    return report.model_copy(update={"best_picture": ref})


def robust_job(
    req: RobustProofRequest, progress: Progress, resume: HeavyProgress | None
) -> RobustProofReport:
    """The reference solution perturbed ``plan.perturbations`` times, each on the jittered scenes."""
    d, plan = req.definition, req.plan
    stage = "perturbed reference"
    progress(HeavyProgress(stage=stage, total=plan.perturbations))
    store = open_store()
    collision = collision_pack.unpack(store.get_ref(d.artifacts.collision))
    structure = scene_structure_of(d, collision, store)

    def on_done(k: int, share: float) -> None:
        progress(
            HeavyProgress(
                stage=stage,
                done=k + 1,
                total=plan.perturbations,
                detail=f"perturbation {k}: goal in {share:.0%} of scenes",
            )
        )

    return run_perturbations(
        d,
        collision,
        plan.perturbations,
        plan.robust_required_share,
        seed_of(d.benchmark_id),
        threads=current_settings().scene_threads,
        on_done=on_done,
        structure=structure,
    )
