"""Heavy jobs: what runs inside a supervised child process forked from the warm fork server.

Each job takes one contract model, reports :class:`~shared.models.HeavyProgress` through ``progress`` and
returns one contract model. Artifacts go to the object store from here, so payloads stay small.
Importing this module warms the heavy libraries (it is imported once by the fork server).
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from typing import Literal

import build123d  # noqa: F401  (warm import: ~3 s, paid once per worker)
import mujoco  # noqa: F401
from pydantic import BaseModel, ValidationError

from activities.cad.build import ArtifactMismatch, InfeasibleParameters, InvalidFamily, build_benchmark
from activities.cad.validate import validate_geometry
from activities.manufacturing.extract import PartError, extract, facts_from_shape, in_principal_frame
from activities.manufacturing.facts import FACTS_VERSION
from activities.physics import collision_pack
from activities.physics.mjcf import SceneCompileError
from activities.physics.runner import simulate, trajectory_npz
from shared.catalog import GENERATOR_VERSION
from shared.keys import part_facts_key, trajectory_key, upload_key
from shared.models import (
    BuildRequest,
    BuildResult,
    ErrorType,
    FactsRequest,
    FactsResult,
    HeavyJob,
    HeavyProgress,
    Model,
    SceneResult,
    SimulateRequest,
    SimulationReport,
    StagedPart,
)
from shared.settings import Settings, get_settings
from shared.store import ObjectNotFound, ObjectStore, make_ref, make_store, sha256_hex

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
        definition, blobs, shapes = build_benchmark(
            req.family,
            req.seed,
            req.generator_version,
            req.benchmark_id,
            n_scenes=req.n_scenes,
            check_interval_steps=req.check_interval_steps,
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
    return BuildResult(definition=definition, geometry=geometry)


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
    stage = f"simulate:{req.mode.value}"
    # First report before any I/O: the heartbeat keeps carrying the finished scenes of earlier attempts.
    progress(HeavyProgress(stage=stage, done=len(done), total=req.n_scenes, completed=list(done.values())))
    store = _store()
    collision = collision_pack.unpack(store.get_ref(req.definition.artifacts.collision))

    def on_scene_done(r: SceneResult) -> None:
        done[r.scene_index] = r
        progress(
            HeavyProgress(
                stage=stage,
                done=len(done),
                total=req.n_scenes,
                detail=f"scene {r.scene_index}: {r.outcome.value} at {r.time_s:.2f} s",
                completed=sorted(done.values(), key=lambda x: x.scene_index),
            )
        )

    try:
        report = simulate(
            req.definition,
            collision,
            req.mode,
            req.n_scenes,
            threads=_current_settings().scene_threads,
            skip=dict(done),
            on_scene_done=on_scene_done,
        )
        # Evidence: the payload's trajectory in scene 0 (deterministic, so it is the scene just simulated).
        trajectory = trajectory_npz(req.definition, collision, req.mode, scene_index=0)
    except SceneCompileError as e:
        raise JobError(f"the scene does not compile: {e}", ErrorType.INVALID_GEOMETRY) from e
    key = trajectory_key(req.definition.benchmark_id, req.mode.value)
    ref = store.put_bytes(key, trajectory, "application/x-npz")
    return report.model_copy(update={"trajectory": ref})


def part_script_job(req: StagedPart, progress: Progress, resume: HeavyProgress | None) -> StagedPart:
    """Run an untrusted part script in the sandbox (a fresh, confined, resource-limited process) and
    stage the STEP of the solid its ``build()`` returns. A failing, hanging or hostile script is a typed,
    non-retryable ``InvalidPart`` with the script's own error; the job process itself is never at risk."""
    from activities.sandbox import ScriptError, run_script

    if req.format != "script":
        raise JobError(f"part_script: expected a script, got {req.format}", ErrorType.INVALID_REQUEST)
    s = _current_settings()
    store = _store()
    script = store.get_ref(req.artifact)
    progress(HeavyProgress(stage="script", detail=f"{req.filename or 'script'} in the sandbox"))
    try:
        result = run_script(
            script,
            "part_step",
            wall_s=s.sandbox_wall_s,
            cpu_s=s.sandbox_cpu_s,
            memory_mb=s.sandbox_memory_mb,
            file_size_mb=s.sandbox_file_size_mb,
            max_open_files=s.sandbox_max_open_files,
            require_confinement=s.sandbox_require_confinement,
        )
    except ScriptError as e:
        raise JobError(f"part script {req.filename or ''}: {e}".strip(), ErrorType.INVALID_PART) from e
    step = result.data
    ref = store.put_bytes(upload_key(sha256_hex(step), ".step"), step)
    name = f"{req.filename}.step" if req.filename else None
    return StagedPart(artifact=ref, format="step", filename=name)


class DiagnoseRequest(Model):
    action: Literal["echo", "sleep", "crash", "fail"]
    seconds: float = 0.0


class DiagnoseResult(Model):
    action: str
    pid: int


def diagnose_job(req: DiagnoseRequest, progress: Progress, resume: HeavyProgress | None) -> DiagnoseResult:
    """Operator self-test of the isolation guarantees: a crash, a hang or an error inside a job."""
    import os

    if req.action == "crash":
        ctypes.string_at(0)  # SIGSEGV: must fail one attempt, never the worker
    if req.action == "fail":
        raise JobError("diagnose: requested failure", "DiagnoseFailure")
    if req.action == "sleep":
        deadline = time.monotonic() + req.seconds
        i = 0
        while time.monotonic() < deadline:
            progress(HeavyProgress(stage="sleep", done=i, detail="sleeping"))
            time.sleep(0.2)
            i += 1
    return DiagnoseResult(action=req.action, pid=os.getpid())


_JOBS: dict[str, tuple[type[BaseModel], Callable[..., BaseModel]]] = {
    "build": (BuildRequest, build_job),
    "simulate": (SimulateRequest, simulate_job),
    "diagnose": (DiagnoseRequest, diagnose_job),
    "facts": (FactsRequest, facts_job),
    "part_script": (StagedPart, part_script_job),
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
