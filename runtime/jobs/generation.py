"""Heavy jobs of benchmark generation: build a benchmark (a family's seed or a sandboxed benchmark script),
validate and store it, and simulate its scenes (a design's scenes too, for an evaluation)."""

from __future__ import annotations

from engines.structure import StructureError

from engines.cad.build import (
    ArtifactMismatch,
    InfeasibleParameters,
    InvalidFamily,
    build_from_design,
    family_design,
)
from engines.cad.families import FamilyDesign
from engines.cad.validate import validate_geometry
from engines.manufacturing.extract import facts_from_shape, in_principal_frame
from engines.manufacturing.facts import FACTS_VERSION
from engines.physics import collision_pack
from engines.physics.mjcf import EVIDENCE_CAMERA, SceneCompileError
from engines.physics.runner import STEPS_EVERY_S, build_model, simulate, trajectory_npz
from runtime.jobs import NPZ, JobError, Progress, current_settings, open_store, sandbox_limits
from runtime.jobs.structure import scene_structure_of
from shared.families import GENERATOR_VERSION
from shared.keys import evaluation_trajectory_key, part_facts_key, thumbnail_key, trajectory_key
from shared.logging import get_logger
from shared.models import (
    BenchmarkDefinition,
    BuildRequest,
    BuildResult,
    ErrorType,
    HeavyProgress,
    ProofBasis,
    SceneResult,
    SimulateRequest,
    SimulationMode,
    SimulationReport,
    StagedPart,
)
from shared.refs import Blob
from shared.store import ObjectStore

log = get_logger(__name__)


def build_job(req: BuildRequest, progress: Progress, resume: HeavyProgress | None) -> BuildResult:
    """Build the benchmark, validate its geometry while the shapes are in memory, store the artifacts."""
    if req.generator_version != GENERATOR_VERSION:
        raise JobError(
            f"generator_version: this worker builds version {GENERATOR_VERSION}, not {req.generator_version}",
            ErrorType.INVALID_REQUEST,
        )
    progress(HeavyProgress(stage="build", detail=f"{req.family} seed {req.seed}"))
    try:
        if req.script is not None:
            design = _script_benchmark(req.script, progress)
        else:
            design = family_design(req.family, req.seed)
        # what the request asks for, resolved against the family's (or script's) own settings, both recorded
        basis = ProofBasis.asked(req.n_scenes, req.check_interval_steps, own=design.simulation)
        definition, blobs, shapes = build_from_design(
            design,
            req.family,
            req.seed,
            req.generator_version,
            req.benchmark_id,
            n_scenes=basis.n_scenes,
            check_interval_steps=basis.check_interval_steps,
        )
    except InvalidFamily as e:
        raise JobError(str(e), ErrorType.INVALID_FAMILY) from e
    except InfeasibleParameters as e:
        raise JobError(str(e), ErrorType.INFEASIBLE_PARAMETERS) from e
    except ArtifactMismatch as e:  # deterministic for this seed: the exported geometry is not the part
        raise JobError(str(e), ErrorType.INVALID_GEOMETRY) from e
    progress(HeavyProgress(stage="validate", detail=f"{len(shapes)} parts"))
    geometry = validate_geometry(definition, shapes)
    store = open_store()
    progress(HeavyProgress(stage="store", detail=f"{len(blobs)} artifacts"))
    store.put_many(blobs)
    if geometry.valid:
        # Geometry facts of the reference parts, keyed by their STEP's hash: the affordability proof prices
        # them with the manufacturing engine without re-reading any CAD.
        progress(HeavyProgress(stage="facts", detail=f"{len(definition.reference_solution)} reference parts"))
        for part in definition.reference_solution:
            if part.step is None:
                continue
            key = part_facts_key(part.step.sha256, FACTS_VERSION, principal_frame=True)
            if not store.exists(key):
                shape = in_principal_frame(shapes[part.label])
                facts = facts_from_shape(shape, part.step.sha256, "step")
                store.put_bytes(key, facts.to_npz(), NPZ)
        definition = _with_thumbnail(definition, blobs, store, progress)
    return BuildResult(definition=definition, geometry=geometry, basis=basis)


THUMBNAIL_SIZE = (320, 240)


def _with_thumbnail(
    definition: BenchmarkDefinition, blobs: list[Blob], store: ObjectStore, progress: Progress
) -> BenchmarkDefinition:
    """The definition with a picture of its scene (fixtures, reference solution, payload at its start) from the
    evidence camera, stored beside it. Without GL (or with rendering disabled) the benchmark has none."""
    from engines.physics.render import RenderUnavailable, picture_png

    if current_settings().mujoco_gl == "disabled":
        return definition
    progress(HeavyProgress(stage="thumbnail", detail=definition.benchmark_id))
    pack = next(b.data for b in blobs if b.key == definition.artifacts.collision.key)
    # the design-mode scene is the reference scene plus the evidence camera, which frames the build zone, the
    # goal and the spawn (the overview camera frames the whole simulation bounds: the puzzle comes out tiny)
    model = build_model(definition, collision_pack.unpack(pack), SimulationMode.DESIGN)
    width, height = THUMBNAIL_SIZE
    try:
        png = picture_png(model, width=width, height=height, camera=EVIDENCE_CAMERA)
    except RenderUnavailable as e:
        log.warning("thumbnail.unavailable", benchmark_id=definition.benchmark_id, error=str(e))
        return definition
    ref = store.put_bytes(thumbnail_key(definition.benchmark_id), png, "image/png")
    artifacts = definition.artifacts.model_copy(update={"thumbnail": ref})
    return definition.model_copy(update={"artifacts": artifacts})


def _script_benchmark(script: StagedPart, progress: Progress) -> FamilyDesign:
    """Run a benchmark script in the sandbox and read what its ``build()`` returned; a failing, hostile or
    malformed script is a non-retryable ``InvalidPart`` naming the problem."""
    from engines.cad.script_benchmark import InvalidBenchmarkScript, benchmark_design_from_bytes
    from runtime.sandbox import ScriptError, run_script

    name = script.filename or "benchmark script"
    progress(HeavyProgress(stage="script", detail=f"{name} in the sandbox"))
    try:
        result = run_script(open_store().get_ref(script.artifact), "benchmark", **sandbox_limits())
        return benchmark_design_from_bytes(result.data)
    except ScriptError as e:
        raise JobError(f"{name}: {e}", ErrorType.INVALID_PART) from e
    except InvalidBenchmarkScript as e:
        raise JobError(f"{name}: {e}", ErrorType.INVALID_PART) from e


def simulate_job(req: SimulateRequest, progress: Progress, resume: HeavyProgress | None) -> SimulationReport:
    """Runs the jittered scenes; scenes finished by an earlier attempt (heartbeat details) are not re-run."""
    done: dict[int, SceneResult] = {r.scene_index: r for r in (resume.completed if resume else [])}
    done = {i: r for i, r in done.items() if i < req.n_scenes}
    resumed = len(done)
    stage = f"simulate:{req.mode.value}"
    # First report before any I/O: the heartbeat keeps carrying the finished scenes of earlier attempts.
    progress(HeavyProgress(stage=stage, done=len(done), total=req.n_scenes, completed=list(done.values())))
    store = open_store()
    collision = collision_pack.unpack(store.get_ref(req.definition.artifacts.collision))

    steps = 0

    def send(detail: str) -> None:
        completed = sorted(done.values(), key=lambda x: x.scene_index)
        progress(
            HeavyProgress(
                stage=stage,
                done=len(done),
                total=req.n_scenes,
                detail=detail,
                completed=completed,
                steps=steps,
            )
        )

    def on_scene_done(r: SceneResult) -> None:
        done[r.scene_index] = r
        send(f"scene {r.scene_index}: {r.outcome.value} at {r.time_s:.2f} s")

    def on_steps(n: int) -> None:  # a long scene proves it advances before it ends (see the supervisor)
        nonlocal steps
        steps = n
        send(f"{n} steps")

    settings = current_settings()
    structure = scene_structure_of(req.definition, collision, store)
    try:
        report = simulate(
            req.definition,
            collision,
            req.mode,
            req.n_scenes,
            threads=settings.scene_threads,
            skip=dict(done),
            on_scene_done=on_scene_done,
            on_steps=on_steps,
            steps_every_s=min(STEPS_EVERY_S, settings.stall_timeout_s / 4),
            structure=structure,
        )
        # Evidence: the payload's trajectory in scene 0 (deterministic, so it is the scene just simulated).
        trajectory = trajectory_npz(req.definition, collision, req.mode, scene_index=0, structure=structure)
    except SceneCompileError as e:
        raise JobError(f"the scene does not compile: {e}", ErrorType.INVALID_GEOMETRY) from e
    except StructureError as e:  # a part that cannot be meshed or supported (designs are checked before)
        raise JobError(f"the structural check cannot run: {e}", ErrorType.INVALID_PART) from e
    if req.evaluation_id is not None:
        key = evaluation_trajectory_key(req.evaluation_id)
    else:
        key = trajectory_key(req.definition.benchmark_id, req.mode.value)
    ref = store.put_bytes(key, trajectory, NPZ)
    return report.model_copy(update={"trajectory": ref, "resumed_scenes": resumed})
