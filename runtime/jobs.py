"""Heavy jobs: what runs inside a supervised child process forked from the warm fork server.

Each job takes one contract model, reports :class:`~shared.models.HeavyProgress` through ``progress`` and
returns one contract model. Artifacts go to the object store from here, so payloads stay small.
Importing this module warms the heavy libraries (it is imported once by the fork server). It holds every
heavy job (about 600 lines) because the fork server's one import must warm them all; splitting it by
domain needs one registry of heavy jobs that the fork server imports instead.
"""

from __future__ import annotations

import ctypes
import io
import time
from collections.abc import Callable
from typing import Any, Literal

import build123d  # noqa: F401  (warm import: ~3 s, paid once per worker)
import mujoco  # noqa: F401
import numpy as np
from build123d import Shape
from pydantic import BaseModel, ValidationError

from engines.cad.build import (
    COLLISION_TOLERANCE_MM,
    ArtifactMismatch,
    InfeasibleParameters,
    InvalidFamily,
    build_from_design,
    family_design,
)
from engines.cad.collision import convex_pieces
from engines.cad.design import CheckedPart, DesignInput, check_design, design_scene
from engines.cad.export import load_step, step_bytes
from engines.cad.families import FamilyDesign
from engines.cad.validate import validate_geometry
from engines.manufacturing.extract import (
    PartError,
    extract,
    facts_from_mesh,
    facts_from_shape,
    in_principal_frame,
    load_stl,
)
from engines.manufacturing.facts import FACTS_VERSION
from engines.physics import collision_pack
from engines.physics.mjcf import EVIDENCE_CAMERA, PAYLOAD_BODY, SceneCompileError
from engines.physics.runner import STEPS_EVERY_S, build_model, replay_scene, simulate, trajectory_npz
from shared.families import GENERATOR_VERSION
from shared.keys import (
    design_pieces_key,
    evaluation_collision_key,
    evaluation_evidence_key,
    evaluation_trajectory_key,
    part_facts_key,
    thumbnail_key,
    trajectory_key,
    upload_key,
)
from shared.logging import get_logger
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BenchmarkDefinition,
    BuildDesignRequest,
    BuildRequest,
    BuildResult,
    BuiltDesign,
    ErrorType,
    Evidence,
    EvidenceRequest,
    FactsRequest,
    FactsResult,
    HeavyJob,
    HeavyProgress,
    Model,
    PartSpec,
    ProofBasis,
    SceneResult,
    SimulateRequest,
    SimulationMode,
    SimulationReport,
    StagedPart,
)
from shared.refs import Blob, make_ref, sha256_hex
from shared.settings import Settings, get_settings
from shared.store import IntegrityError, ObjectNotFound, ObjectStore, make_store

log = get_logger(__name__)
Progress = Callable[[HeavyProgress], None]
NPZ = "application/x-npz"
_settings: Settings | None = None


def use_settings(settings: Settings) -> None:
    """Called once by the fork server with the worker's settings; forked jobs inherit them."""
    global _settings
    _settings = settings


def _current_settings() -> Settings:
    return _settings or get_settings()


def _store() -> ObjectStore:
    return make_store(_current_settings())


class JobError(Exception):
    """A job failure with a Temporal error type; deterministic failures are non-retryable."""

    def __init__(self, message: str, type: str, non_retryable: bool = True):
        super().__init__(message)
        self.type = type
        self.non_retryable = non_retryable


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
    store = _store()
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

    if _current_settings().mujoco_gl == "disabled":
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
        result = run_script(_store().get_ref(script.artifact), "benchmark", **_sandbox_limits())
        return benchmark_design_from_bytes(result.data)
    except ScriptError as e:
        raise JobError(f"{name}: {e}", ErrorType.INVALID_PART) from e
    except InvalidBenchmarkScript as e:
        raise JobError(f"{name}: {e}", ErrorType.INVALID_PART) from e


def facts_job(req: FactsRequest, progress: Progress, resume: HeavyProgress | None) -> FactsResult:
    """Geometry facts of a staged part, from the cache when this exact file was analysed before."""
    part = req.part
    if part.format not in ("step", "stl"):
        raise JobError(f"facts: a {part.format} part must be staged as STEP first", ErrorType.INVALID_REQUEST)
    store = _store()
    key = part_facts_key(part.artifact.sha256, FACTS_VERSION)
    try:
        return FactsResult(facts=make_ref(key, store.get_bytes(key), NPZ), cached=True)
    except ObjectNotFound:
        pass
    progress(HeavyProgress(stage="facts", detail=f"{part.format} {part.artifact.size_bytes} bytes"))
    data = store.get_ref(part.artifact)
    try:
        facts = extract(data, part.format)
    except PartError as e:
        raise JobError(f"{part.filename or part.format}: {e}", ErrorType.INVALID_PART) from e
    ref = store.put_bytes(key, facts.to_npz(), NPZ)
    return FactsResult(facts=ref, cached=False)


def simulate_job(req: SimulateRequest, progress: Progress, resume: HeavyProgress | None) -> SimulationReport:
    """Runs the jittered scenes; scenes finished by an earlier attempt (heartbeat details) are not re-run."""
    done: dict[int, SceneResult] = {r.scene_index: r for r in (resume.completed if resume else [])}
    done = {i: r for i, r in done.items() if i < req.n_scenes}
    resumed = len(done)
    stage = f"simulate:{req.mode.value}"
    # First report before any I/O: the heartbeat keeps carrying the finished scenes of earlier attempts.
    progress(HeavyProgress(stage=stage, done=len(done), total=req.n_scenes, completed=list(done.values())))
    store = _store()
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

    settings = _current_settings()
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
        )
        # Evidence: the payload's trajectory in scene 0 (deterministic, so it is the scene just simulated).
        trajectory = trajectory_npz(req.definition, collision, req.mode, scene_index=0)
    except SceneCompileError as e:
        raise JobError(f"the scene does not compile: {e}", ErrorType.INVALID_GEOMETRY) from e
    if req.evaluation_id is not None:
        key = evaluation_trajectory_key(req.evaluation_id)
    else:
        key = trajectory_key(req.definition.benchmark_id, req.mode.value)
    ref = store.put_bytes(key, trajectory, NPZ)
    return report.model_copy(update={"trajectory": ref, "resumed_scenes": resumed})


def _sandbox_limits() -> dict[str, Any]:
    """The sandbox's limits from the worker's settings (one place for part and design scripts)."""
    s = _current_settings()
    return {
        "wall_s": s.sandbox_wall_s,
        "cpu_s": s.sandbox_cpu_s,
        "memory_mb": s.sandbox_memory_mb,
        "file_size_mb": s.sandbox_file_size_mb,
        "max_open_files": s.sandbox_max_open_files,
        "require_confinement": s.sandbox_require_confinement,
    }


def part_script_job(req: StagedPart, progress: Progress, resume: HeavyProgress | None) -> StagedPart:
    """Run an untrusted part script in the sandbox (a fresh, confined, resource-limited process) and
    stage the STEP of the solid its ``build()`` returns. A failing, hanging or hostile script is a typed,
    non-retryable ``InvalidPart`` with the script's own error; the job process itself is never at risk."""
    from runtime.sandbox import ScriptError, run_script

    if req.format != "script":
        raise JobError(f"part_script: expected a script, got {req.format}", ErrorType.INVALID_REQUEST)
    store = _store()
    script = store.get_ref(req.artifact)
    progress(HeavyProgress(stage="script", detail=f"{req.filename or 'script'} in the sandbox"))
    try:
        result = run_script(script, "part_step", **_sandbox_limits())
    except ScriptError as e:
        raise JobError(f"part script {req.filename or ''}: {e}".strip(), ErrorType.INVALID_PART) from e
    step = result.data
    ref = store.put_bytes(upload_key(sha256_hex(step), ".step"), step)
    name = f"{req.filename}.step" if req.filename else None
    return StagedPart(artifact=ref, format="step", filename=name)


def _design_inputs(req: BuildDesignRequest, store: ObjectStore, progress: Progress) -> list[DesignInput]:
    """The submitted parts with their raw metadata: from the design script run in the sandbox, or from
    the staged files."""
    from engines.cad.bundle import BundleError, read_design_bundle
    from runtime.sandbox import ScriptError, run_script

    design = req.design
    if design.script is None:
        return [
            DesignInput(
                p.metadata, store.get_ref(p.part.artifact), p.part.format, p.part.filename or p.part.format
            )
            for p in design.parts
            if p.part.format in ("step", "stl")
        ]
    name = design.script.filename or "design script"
    progress(HeavyProgress(stage="script", detail=f"{name} in the sandbox"))
    try:
        result = run_script(store.get_ref(design.script.artifact), "design", **_sandbox_limits())
        parts = read_design_bundle(result.data)
    except ScriptError as e:
        raise JobError(f"{name}: {e}", ErrorType.INVALID_PART) from e
    except BundleError as e:
        raise JobError(f"{name}: its result is unusable: {e}", ErrorType.INVALID_PART) from e
    return [DesignInput(p.metadata, p.step, "step", f"{name}, part #{i}") for i, p in enumerate(parts)]


def _pieces(store: ObjectStore, part: CheckedPart) -> list[collision_pack.Piece]:
    """Convex pieces of a placed design part, cached by its file's hash and its placement."""
    digest = sha256_hex(
        f"{COLLISION_TOLERANCE_MM}:{sha256_hex(part.data)}:{part.meta.placement.model_dump_json()}".encode()
    )
    key = design_pieces_key(digest)
    try:
        return collision_pack.unpack(store.get_bytes(key))["part"]
    except (ObjectNotFound, KeyError, ValueError):
        pass
    pieces = convex_pieces(part.shape, COLLISION_TOLERANCE_MM)
    store.put_bytes(key, collision_pack.pack({"part": pieces}), NPZ)
    return pieces


def _facts(store: ObjectStore, part: CheckedPart) -> ArtifactRef:
    """Geometry facts of a design part as modelled, in its principal frame (as benchmark reference parts
    are priced, so a design and the cap it is held to are measured alike); cached by the file's hash."""
    sha = sha256_hex(part.data)
    key = part_facts_key(sha, FACTS_VERSION, principal_frame=True)
    try:
        return make_ref(key, store.get_bytes(key), NPZ)
    except ObjectNotFound:
        pass
    if part.format == "step":
        facts = facts_from_shape(in_principal_frame(part.modelled), sha, "step")
    else:
        mesh = load_stl(part.data)
        mesh.apply_obb()
        facts = facts_from_mesh(mesh, sha)
    return store.put_bytes(key, facts.to_npz(), NPZ)


def build_design_job(
    req: BuildDesignRequest, progress: Progress, resume: HeavyProgress | None
) -> BuiltDesign:
    """Run the design's script (sandboxed) or read its files, validate it against the benchmark, and make
    the scene to simulate: collision pieces of fixtures and design parts, and each part's geometry facts."""
    started = time.perf_counter()
    store = _store()
    definition = req.definition
    inputs = _design_inputs(req, store, progress)
    progress(HeavyProgress(stage="validate", detail=f"{len(inputs)} parts"))
    fixtures: dict[str, Shape] = {}
    try:
        for spec in definition.fixtures:
            if spec.step is None:
                raise ValueError(f"fixture {spec.label} has no STEP artifact")
            fixtures[spec.label] = load_step(store.get_ref(spec.step))
        benchmark_pieces = collision_pack.unpack(store.get_ref(definition.artifacts.collision))
        fixture_pieces = {spec.label: benchmark_pieces[spec.label] for spec in definition.fixtures}
    except (ObjectNotFound, IntegrityError, KeyError, ValueError) as e:
        raise JobError(
            f"benchmark {definition.benchmark_id}: its stored artifacts are missing or damaged ({e}); "
            "generate it again",
            ErrorType.INVALID_REQUEST,
        ) from e
    check = check_design(definition, inputs, fixtures)
    specs = [p.spec for p in check.parts]
    if not check.valid:
        return BuiltDesign(
            valid=False, findings=check.findings, parts=specs, build_s=time.perf_counter() - started
        )

    progress(HeavyProgress(stage="collision", detail=f"{len(check.parts)} parts"))
    pieces = dict(fixture_pieces)
    facts: dict[str, ArtifactRef] = {}
    stored: list[PartSpec] = []
    for part in check.parts:
        try:
            pieces[part.spec.label] = _pieces(store, part)
            progress(HeavyProgress(stage="facts", detail=part.spec.label))
            facts[part.spec.label] = _facts(store, part)
            placed = step_bytes(part.shape, part.spec.label)  # PartSpec geometry is in world millimetres
        except ValueError as e:  # PartError included: a solid the mesher or the facts cannot handle
            raise JobError(f"design part {part.spec.label!r}: {e}", ErrorType.INVALID_PART) from e
        step = store.put_bytes(upload_key(sha256_hex(placed), ".step"), placed, "model/step")
        stored.append(part.spec.model_copy(update={"step": step}))
    collision = store.put_bytes(evaluation_collision_key(req.evaluation_id), collision_pack.pack(pieces), NPZ)
    scene = design_scene(definition, stored).model_copy(
        update={"artifacts": BenchmarkArtifacts(collision=collision)}
    )
    return BuiltDesign(
        valid=True,
        findings=check.findings,
        parts=stored,
        scene=scene,
        facts=facts,
        build_s=time.perf_counter() - started,
    )


EVIDENCE_FPS = 25.0
"""Samples per simulated second in the evidence trajectory and animation."""
STRIP_FRAMES = 8
ANIMATION_FRAMES = 150
"""Frames of the animation at most: 6 s at 25 fps; longer scenes are shown faster than real time."""


def evidence_job(req: EvidenceRequest, progress: Progress, resume: HeavyProgress | None) -> Evidence:
    """Replay the representative scene, store its full trajectory, and render a frame strip, an animation and
    a picture of the design in the scene. Pictures are optional: without a GL context the evidence says why."""
    from engines.physics.render import (
        RenderUnavailable,
        animation_webp,
        frame_strip_png,
        pick_frames,
        picture_png,
        render_frames,
    )

    started = time.perf_counter()
    store = _store()
    eid = req.evaluation_id
    progress(HeavyProgress(stage="evidence", detail=f"scene {req.scene_index}"))
    collision = collision_pack.unpack(store.get_ref(req.scene.artifacts.collision))
    model = build_model(req.scene, collision, SimulationMode.DESIGN)
    result, t_s, qpos = replay_scene(model, req.scene, req.scene_index, sample_every_s=1.0 / EVIDENCE_FPS)
    buf = io.BytesIO()
    adr = int(model.joint(PAYLOAD_BODY).qposadr[0])
    np.savez(
        buf,
        t_s=t_s,
        qpos=qpos,
        payload_mm=qpos[:, adr : adr + 3] * 1e3,
        body_names=np.array([model.body(i).name for i in range(model.nbody)]),
        joint_names=np.array([model.joint(i).name for i in range(model.njnt)]),
        joint_qposadr=np.asarray(model.jnt_qposadr),
        outcome=np.array(result.outcome.value),
        scene_index=np.array(req.scene_index),
    )
    trajectory = store.put_bytes(evaluation_evidence_key(eid, "scene.npz"), buf.getvalue(), NPZ)
    evidence = Evidence(scene_index=req.scene_index, outcome=result.outcome, trajectory=trajectory)
    if _current_settings().mujoco_gl == "disabled":
        return evidence.model_copy(
            update={
                "render_error": "rendering is disabled (MECHBENCH_MUJOCO_GL=disabled)",
                "evidence_s": time.perf_counter() - started,
            }
        )
    progress(HeavyProgress(stage="render", detail=f"{len(t_s)} samples"))
    try:
        picture = picture_png(model, qpos[0], camera=EVIDENCE_CAMERA)
        strip_at = pick_frames(len(t_s), STRIP_FRAMES)
        strip = frame_strip_png(
            render_frames(model, qpos[strip_at], camera=EVIDENCE_CAMERA),
            columns=4,
            labels=[f"t={t_s[i]:.2f} s" for i in strip_at],
        )
        # At most ANIMATION_FRAMES frames, whatever the scene's length (memory and size stay bounded).
        frames_at = pick_frames(len(t_s), ANIMATION_FRAMES)
        animation = animation_webp(
            render_frames(model, qpos[frames_at], camera=EVIDENCE_CAMERA), fps=EVIDENCE_FPS
        )
    except RenderUnavailable as e:
        return evidence.model_copy(
            update={"render_error": str(e), "evidence_s": time.perf_counter() - started}
        )
    return evidence.model_copy(
        update={
            "evidence_s": time.perf_counter() - started,
            "picture": store.put_bytes(evaluation_evidence_key(eid, "picture.png"), picture, "image/png"),
            "frames": store.put_bytes(evaluation_evidence_key(eid, "frames.png"), strip, "image/png"),
            "animation": store.put_bytes(
                evaluation_evidence_key(eid, "animation.webp"), animation, "image/webp"
            ),
        }
    )


class DiagnoseRequest(Model):
    action: Literal["echo", "sleep", "busy", "crash", "fail", "deadlock"]
    seconds: float = 0.0


class DiagnoseResult(Model):
    action: str
    pid: int
    tmp: str = ""
    """The job's temporary directory (inside its worker's private directory)."""


def diagnose_job(req: DiagnoseRequest, progress: Progress, resume: HeavyProgress | None) -> DiagnoseResult:
    """Operator self-test of the isolation guarantees: a crash, a hang or an error inside a job. ``sleep``
    reports progress every 0.2 s for ``seconds``; ``busy`` computes for ``seconds`` without a report (as one long
    native call does); ``deadlock`` reports once, then two threads take two locks in opposite orders and the
    job waits for them forever (no progress, no CPU)."""
    import os
    import tempfile

    if req.action == "deadlock":
        progress(HeavyProgress(stage="deadlock", detail="two threads, two locks"))
        _deadlock()
    if req.action == "crash":
        ctypes.string_at(0)  # SIGSEGV: must fail one attempt, never the worker
    if req.action == "fail":
        raise JobError("diagnose: requested failure", "DiagnoseFailure")
    if req.action == "busy":
        deadline = time.monotonic() + req.seconds
        while time.monotonic() < deadline:
            pass
    if req.action == "sleep":
        deadline = time.monotonic() + req.seconds
        i = 0
        while time.monotonic() < deadline:
            progress(HeavyProgress(stage="sleep", done=i, detail="sleeping"))
            time.sleep(0.2)
            i += 1
    return DiagnoseResult(action=req.action, pid=os.getpid(), tmp=tempfile.gettempdir())


def _deadlock() -> None:
    import threading

    a, b = threading.Lock(), threading.Lock()
    both = threading.Barrier(2)

    def take(first: threading.Lock, second: threading.Lock) -> None:
        with first:
            both.wait()
            with second:
                pass

    threads = [threading.Thread(target=take, args=pair) for pair in ((a, b), (b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


_JOBS: dict[str, tuple[type[BaseModel], Callable[..., BaseModel]]] = {
    "build": (BuildRequest, build_job),
    "simulate": (SimulateRequest, simulate_job),
    "diagnose": (DiagnoseRequest, diagnose_job),
    "facts": (FactsRequest, facts_job),
    "part_script": (StagedPart, part_script_job),
    "build_design": (BuildDesignRequest, build_design_job),
    "evidence": (EvidenceRequest, evidence_job),
}


def run_job(job: HeavyJob, progress: Progress) -> BaseModel:
    try:
        input_type, fn = _JOBS[job.job]
    except KeyError:
        raise JobError(f"unknown job {job.job!r}", ErrorType.INVALID_REQUEST) from None
    try:
        payload = input_type.model_validate(job.input)
    except ValidationError as e:  # only the job's own input: engine-internal validation errors are bugs
        raise JobError(f"{job.job}: invalid input: {e}", ErrorType.INVALID_REQUEST) from e
    return fn(payload, progress, job.resume)
