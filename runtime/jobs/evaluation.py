"""Heavy jobs of design evaluation: build and validate a submitted design in its benchmark's scene (with a
picture of an invalid one), and render the evidence of its representative scene. (Its scenes are simulated
by the generation's ``simulate_job``.)"""

from __future__ import annotations

import io
import time

import numpy as np
from build123d import Shape

from engines.cad.build import COLLISION_TOLERANCE_MM
from engines.cad.collision import convex_pieces
from engines.cad.design import CheckedPart, DesignInput, check_design, design_scene
from engines.cad.export import load_step, step_bytes
from engines.cad.mesh import closed_surface, triangulate
from engines.manufacturing.extract import facts_from_mesh, facts_from_shape, in_principal_frame, load_stl
from engines.manufacturing.facts import FACTS_VERSION
from engines.physics import collision_pack
from engines.physics.loads import LoadCase
from engines.physics.mjcf import EVIDENCE_CAMERA, PAYLOAD_BODY
from engines.physics.render import (
    RenderUnavailable,
    animation_webp,
    frame_strip_png,
    pick_frames,
    picture_png,
    render_frames,
)
from engines.physics.render_invalid import invalid_picture_png, offending_parts
from engines.physics.runner import build_model, replay_scene
from runtime.jobs import NPZ, JobError, Progress, current_settings, open_store, sandbox_limits
from runtime.jobs.structure import scene_structure_of, stress_map
from shared.keys import (
    EVIDENCE_ANIMATION,
    EVIDENCE_FRAMES,
    EVIDENCE_INVALID,
    EVIDENCE_PICTURE,
    EVIDENCE_SCENE,
    EVIDENCE_STRESS,
    design_pieces_key,
    evaluation_collision_key,
    evaluation_evidence_key,
    evaluation_surfaces_key,
    part_facts_key,
    upload_key,
)
from shared.logging import get_logger
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BuildDesignRequest,
    BuiltDesign,
    ErrorType,
    Evidence,
    EvidenceRequest,
    Finding,
    HeavyProgress,
    PartSpec,
    SimulationMode,
)
from shared.refs import make_ref, sha256_hex
from shared.store import IntegrityError, ObjectNotFound, ObjectStore

log = get_logger(__name__)


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
        result = run_script(store.get_ref(design.script.artifact), "design", **sandbox_limits())
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


PICTURE_TOLERANCE_SHARE = 1e-3
"""Chordal deflection of a design part's picture mesh, as a share of its bounding box's diagonal (0.1 mm for a
100 mm part: finer than a pixel of the picture)."""
MAX_PICTURE_TRIANGLES = 200_000
"""A design part whose picture mesh has more triangles than this is left out of the invalid-design picture."""


def _picture_mesh(part: CheckedPart) -> collision_pack.Piece | None:
    """The placed part's tessellation, fine enough for a picture (MuJoCo draws a mesh geom's own triangles,
    not its convex hull); ``None`` when it cannot be meshed or has too many triangles."""
    bb = part.spec.bbox
    diagonal = float(np.linalg.norm(np.subtract(bb.max_mm, bb.min_mm)))
    try:
        vertices, faces = triangulate(part.shape, max(PICTURE_TOLERANCE_SHARE * diagonal, 0.01))
    except Exception as e:  # noqa: BLE001 - OCCT's failures are not all ValueErrors; the part is left out
        log.info("invalid_picture.part_not_meshed", part=part.spec.label, error=f"{type(e).__name__}: {e}")
        return None
    if len(faces) > MAX_PICTURE_TRIANGLES:
        log.info("invalid_picture.part_too_fine", part=part.spec.label, triangles=len(faces))
        return None
    return vertices, faces


def _invalid_picture(
    req: BuildDesignRequest,
    store: ObjectStore,
    parts: list[CheckedPart],
    findings: list[Finding],
    fixture_pieces: dict[str, list[collision_pack.Piece]],
    progress: Progress,
) -> ArtifactRef | None:
    """The invalid design's picture (``evidence/invalid.png``): the scene at t = 0 with the parts that
    blocking findings name in red (:mod:`engines.physics.render_invalid`). ``None``, logged with the reason,
    when no part could be read and meshed, rendering is disabled or anything fails: an invalid design's report
    never depends on its picture."""
    eid = req.evaluation_id
    if current_settings().mujoco_gl == "disabled":
        log.info("invalid_picture.skipped", evaluation_id=eid, reason="rendering is disabled")
        return None
    started = time.perf_counter()
    progress(HeavyProgress(stage="picture", detail=f"{len(parts)} parts"))
    try:
        meshes = {p.spec.label: mesh for p in parts if (mesh := _picture_mesh(p)) is not None}
        if not meshes:
            log.info("invalid_picture.skipped", evaluation_id=eid, reason="no design part could be meshed")
            return None
        offenders = offending_parts(findings, req.definition)
        png = invalid_picture_png(
            req.definition,
            {**fixture_pieces, **{label: [mesh] for label, mesh in meshes.items()}},
            [p.spec for p in parts],
            offenders,
        )
        ref = store.put_bytes(evaluation_evidence_key(eid, EVIDENCE_INVALID), png, "image/png")
    except Exception as e:  # noqa: BLE001 - GL, MuJoCo, the store: a picture never fails the job
        log.warning("invalid_picture.unavailable", evaluation_id=eid, error=f"{type(e).__name__}: {e}")
        return None
    log.info(
        "invalid_picture.rendered",
        evaluation_id=eid,
        offenders=offenders,
        drawn=len(meshes),
        seconds=round(time.perf_counter() - started, 3),
    )
    return ref


def build_design_job(
    req: BuildDesignRequest, progress: Progress, resume: HeavyProgress | None
) -> BuiltDesign:
    """Run the design's script (sandboxed) or read its files, validate it against the benchmark, and make
    the scene to simulate: collision pieces of fixtures and design parts, and each part's geometry facts.
    An invalid design gets its findings and, when its parts could be read, a picture of them in the scene
    with the offending ones red (``BuiltDesign.picture``)."""
    started = time.perf_counter()
    store = open_store()
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
        picture = _invalid_picture(req, store, check.parts, check.findings, fixture_pieces, progress)
        return BuiltDesign(
            valid=False,
            findings=check.findings,
            parts=specs,
            picture=picture,
            build_s=time.perf_counter() - started,
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
    surfaces = None
    if definition.structure is not None:  # what the structural check meshes: each design part's surface
        from engines.physics.structure_check import structure_findings

        progress(HeavyProgress(stage="surfaces", detail=f"{len(check.parts)} parts"))
        try:
            closed = {p.spec.label: closed_surface(p.shape) for p in check.parts}
        except ValueError as e:  # a solid that does not triangulate into a closed surface
            raise JobError(f"a design part has no closed surface: {e}", ErrorType.INVALID_PART) from e
        blocked = structure_findings(design_scene(definition, stored), closed, pieces)
        if blocked:  # it cannot be checked: nothing held, unmeshable, no elastic data
            findings = [*check.findings, *blocked]
            picture = _invalid_picture(req, store, check.parts, findings, fixture_pieces, progress)
            return BuiltDesign(
                valid=False,
                findings=findings,
                parts=specs,
                picture=picture,
                build_s=time.perf_counter() - started,
            )
        packed = collision_pack.pack({label: [surface] for label, surface in closed.items()})
        surfaces = store.put_bytes(evaluation_surfaces_key(req.evaluation_id), packed, NPZ)
    scene = design_scene(definition, stored).model_copy(
        update={"artifacts": BenchmarkArtifacts(collision=collision, surfaces=surfaces)}
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
    started = time.perf_counter()
    store = open_store()
    eid = req.evaluation_id
    progress(HeavyProgress(stage="evidence", detail=f"scene {req.scene_index}"))
    collision = collision_pack.unpack(store.get_ref(req.scene.artifacts.collision))
    model = build_model(req.scene, collision, SimulationMode.DESIGN)
    structure = scene_structure_of(req.scene, collision, store)
    peaks: dict[str, LoadCase] = {}
    result, t_s, qpos = replay_scene(
        model,
        req.scene,
        req.scene_index,
        sample_every_s=1.0 / EVIDENCE_FPS,
        structure=structure,
        on_loads=peaks.update,
    )
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
    trajectory = store.put_bytes(evaluation_evidence_key(eid, EVIDENCE_SCENE), buf.getvalue(), NPZ)
    evidence = Evidence(scene_index=req.scene_index, outcome=result.outcome, trajectory=trajectory)
    if current_settings().mujoco_gl == "disabled":
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
        # At most ANIMATION_FRAMES frames, whatever the scene's length (memory and size stay bounded).
        frames_at = pick_frames(len(t_s), ANIMATION_FRAMES)
        # The strip and the animation share their size: one renderer draws every frame either needs, once.
        wanted = sorted({*strip_at, *frames_at})
        drawn = dict(zip(wanted, render_frames(model, qpos[wanted], camera=EVIDENCE_CAMERA), strict=True))
        strip = frame_strip_png(
            [drawn[i] for i in strip_at], columns=4, labels=[f"t={t_s[i]:.2f} s" for i in strip_at]
        )
        animation = animation_webp([drawn[i] for i in frames_at], fps=EVIDENCE_FPS)
        stress = stress_map(structure, result.structure, peaks) if structure is not None else None
    except RenderUnavailable as e:
        return evidence.model_copy(
            update={"render_error": str(e), "evidence_s": time.perf_counter() - started}
        )
    return evidence.model_copy(
        update={
            "evidence_s": time.perf_counter() - started,
            "picture": store.put_bytes(evaluation_evidence_key(eid, EVIDENCE_PICTURE), picture, "image/png"),
            "frames": store.put_bytes(evaluation_evidence_key(eid, EVIDENCE_FRAMES), strip, "image/png"),
            "animation": store.put_bytes(
                evaluation_evidence_key(eid, EVIDENCE_ANIMATION), animation, "image/webp"
            ),
            "stress_map": store.put_bytes(evaluation_evidence_key(eid, EVIDENCE_STRESS), stress, "image/png")
            if stress is not None
            else None,
        }
    )
