"""Build a benchmark from a family and a seed: definition, artifacts (STEP parts, collision pack, GLB scene).

Everything is a pure function of (family, seed, generator version, overrides): building twice, in any
process, gives an identical definition and identical artifact bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from build123d import Shape

from engines.cad.assembly import assembly_findings
from engines.cad.collision import Piece, convex_pieces
from engines.cad.export import glb_bytes, load_step, step_bytes
from engines.cad.families import FAMILIES, CadPart, FamilyDesign
from engines.cad.mesh import closed_surface
from engines.cad.primitives import payload_solid
from engines.physics.collision_pack import pack
from shared.families import unknown_families_message
from shared.keys import collision_key, part_step_key, scene_glb_key, surfaces_key
from shared.materials import mass_kg, props
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BenchmarkDefinition,
    Box,
    PartSpec,
)
from shared.refs import Blob

STEP_MEDIA_TYPE = "model/step"
NPZ_MEDIA_TYPE = "application/x-npz"
GLB_MEDIA_TYPE = "model/gltf-binary"
COLLISION_TOLERANCE_MM = 0.2


STEP_VOLUME_REL_TOLERANCE = 1e-6
STEP_VOLUME_ABS_TOLERANCE_MM3 = 1e-3
"""A part's STEP artifact, read back, must hold the volume of the in-memory part within
``max(STEP_VOLUME_REL_TOLERANCE * volume, STEP_VOLUME_ABS_TOLERANCE_MM3)``."""


class InvalidFamily(ValueError):
    """The requested family does not exist (deterministic: do not retry)."""


class InfeasibleParameters(ValueError):
    """A family's parameters for this seed cannot produce a benchmark (deterministic: do not retry)."""


class ArtifactMismatch(RuntimeError):
    """A part's STEP artifact does not read back as the geometry it was exported from."""


def part_volume_mm3(shape: Shape) -> float:
    """Volume of a part; the solids of a multi-solid part are fused first so touching solids count once."""
    solids = shape.solids()
    if not solids:
        raise ValueError("part has no solids")
    if len(solids) == 1:
        return solids[0].volume
    return solids[0].fuse(*solids[1:]).volume


def _solids_volume_mm3(shape: Shape) -> float:
    return sum(solid.volume for solid in shape.solids())


def check_step_round_trip(label: str, shape: Shape, data: bytes) -> Shape:
    """Re-read the STEP ``data`` exported from ``shape`` and return it; raise :class:`ArtifactMismatch`
    unless it holds as many solids, with the same total volume (see :data:`STEP_VOLUME_REL_TOLERANCE`)."""
    try:
        loaded = load_step(data)
    except ValueError as e:
        raise ArtifactMismatch(f"STEP artifact of part {label!r} cannot be read back: {e}") from e
    expected_n, actual_n = len(shape.solids()), len(loaded.solids())
    if actual_n != expected_n:
        raise ArtifactMismatch(
            f"STEP artifact of part {label!r} reads back as {actual_n} solid(s), the part has {expected_n}"
        )
    expected_v, actual_v = _solids_volume_mm3(shape), _solids_volume_mm3(loaded)
    tolerance = max(STEP_VOLUME_REL_TOLERANCE * abs(expected_v), STEP_VOLUME_ABS_TOLERANCE_MM3)
    if not abs(actual_v - expected_v) <= tolerance:
        raise ArtifactMismatch(
            f"STEP artifact of part {label!r} reads back with volume {actual_v:.6f} mm3, the part has "
            f"{expected_v:.6f} mm3 (difference {abs(actual_v - expected_v):.3g} mm3 > tolerance {tolerance:.3g} mm3)"
        )
    return loaded


def bbox_of(shape: Shape) -> Box:
    bb = shape.bounding_box()
    return Box(
        min_mm=(round(bb.min.X, 6), round(bb.min.Y, 6), round(bb.min.Z, 6)),
        max_mm=(round(bb.max.X, 6), round(bb.max.Y, 6), round(bb.max.Z, 6)),
    )


def _part_spec(part: CadPart, step: ArtifactRef) -> PartSpec:
    volume = part_volume_mm3(part.shape)
    return PartSpec(
        label=part.label,
        role=part.role,
        material=part.material,
        method=part.method,
        fixed=part.fixed,
        volume_mm3=round(volume, 6),
        mass_kg=mass_kg(part.material, volume),
        bbox=bbox_of(part.shape),
        step=step,
        joint=part.joint,
        motor=part.motor,
    )


def build_benchmark(
    family: str,
    seed: int,
    generator_version: int,
    benchmark_id: str,
    n_scenes: int | None = None,
    check_interval_steps: int | None = None,
) -> tuple[BenchmarkDefinition, list[Blob], dict[str, Shape]]:
    """Generate ``family`` at ``seed`` into a definition, its artifact blobs and the part shapes by label.

    Blob keys live under ``benchmarks/{benchmark_id}/``: ``parts/{label}.step`` per part, ``collision.npz``
    (convex pieces per label, for the scene compiler) and ``scene.glb`` (fixtures, payload at its spawn
    point and the reference solution, in millimetres). ``caps`` stays unset until the affordability proof.

    Raises :class:`InvalidFamily` for an unknown family, :class:`InfeasibleParameters` when the family's
    generator rejects the parameters of ``seed`` (both deterministic: retrying cannot help) and
    :class:`ArtifactMismatch` when a part's STEP bytes do not read back as the part.
    """
    return build_from_design(
        family_design(family, seed),
        family,
        seed,
        generator_version,
        benchmark_id,
        n_scenes,
        check_interval_steps,
    )


def family_design(family: str, seed: int) -> FamilyDesign:
    """What ``family`` generates at ``seed``; :class:`InvalidFamily` or :class:`InfeasibleParameters`."""
    problem = unknown_families_message([family], field="family", known=FAMILIES)
    if problem:
        raise InvalidFamily(problem)
    try:
        return FAMILIES[family].generate(seed)
    except ValueError as e:  # includes pydantic's ValidationError (an impossible zone, payload, ...)
        raise InfeasibleParameters(
            f"family {family!r} at seed {seed} cannot produce a benchmark: {type(e).__name__}: {e}"
        ) from e


def build_from_design(
    design: FamilyDesign,
    family: str,
    seed: int,
    generator_version: int,
    benchmark_id: str,
    n_scenes: int | None = None,
    check_interval_steps: int | None = None,
) -> tuple[BenchmarkDefinition, list[Blob], dict[str, Shape]]:
    """A family's (or a benchmark script's) design into a definition, its artifact blobs and the shapes:
    see :func:`build_benchmark`."""
    blobs: list[Blob] = []
    specs: dict[str, PartSpec] = {}
    shapes: dict[str, Shape] = {}
    collision: dict[str, list[Piece]] = {}
    for part in design.fixtures + design.reference:
        data = step_bytes(part.shape, part.label)
        check_step_round_trip(part.label, part.shape, data)
        step = Blob(part_step_key(benchmark_id, part.label), data, STEP_MEDIA_TYPE)
        blobs.append(step)
        specs[part.label] = _part_spec(part, step.ref)
        shapes[part.label] = part.shape
        collision[part.label] = convex_pieces(part.shape, COLLISION_TOLERANCE_MM)

    collision_blob = Blob(collision_key(benchmark_id), pack(collision), NPZ_MEDIA_TYPE)
    surfaces_blob = None
    if design.structure is not None:  # what the structural check meshes: each reference part's surface
        surfaces = {p.label: [closed_surface(p.shape)] for p in design.reference}
        surfaces_blob = Blob(surfaces_key(benchmark_id), pack(surfaces), NPZ_MEDIA_TYPE)
        blobs.append(surfaces_blob)
    scene = [(p.label, p.shape, props(p.material).rgba) for p in design.fixtures]
    for payload in [design.payload, *design.extra_payloads]:
        scene.append((payload.label, payload_solid(payload, payload.start_mm), props(payload.material).rgba))
    scene += [(p.label, p.shape, props(p.material).rgba) for p in design.reference]
    glb_blob = Blob(scene_glb_key(benchmark_id), glb_bytes(scene), GLB_MEDIA_TYPE)
    blobs += [collision_blob, glb_blob]

    simulation = design.simulation
    overrides = {
        key: value
        for key, value in (("n_scenes", n_scenes), ("check_interval_steps", check_interval_steps))
        if value is not None
    }
    if overrides:
        simulation = simulation.model_validate({**simulation.model_dump(), **overrides})

    fixture_labels = {p.label for p in design.fixtures}
    stray = [
        p.label
        for p in design.fixtures
        if p.joint is not None and p.joint.parent not in (None, *fixture_labels)
    ]
    if stray:
        raise InfeasibleParameters(
            f"{family} seed {seed}: fixtures {stray} are joined to parts that are not fixtures (a design replaces "
            "the reference, so a fixture may only be joined to the world or to another fixture)"
        )
    problems = assembly_findings([specs[p.label] for p in design.reference], design.max_motors)
    if problems:
        raise InfeasibleParameters(
            f"{family} seed {seed}: the reference assembly is invalid: "
            + "; ".join(f.message for f in problems)
        )
    definition = BenchmarkDefinition(
        benchmark_id=benchmark_id,
        family=family,
        seed=seed,
        generator_version=generator_version,
        description=design.description,
        params=design.params,
        fixtures=[specs[p.label] for p in design.fixtures],
        payload=design.payload,
        extra_payloads=design.extra_payloads,
        max_motors=design.max_motors,
        goal_zone=design.goal_zone,
        forbidden_zones=design.forbidden_zones,
        build_zone=design.build_zone,
        simulation_bounds=design.simulation_bounds,
        simulation=simulation,
        reference_solution=[specs[p.label] for p in design.reference],
        caps=None,
        structure=design.structure,
        artifacts=BenchmarkArtifacts(
            collision=collision_blob.ref,
            scene_glb=glb_blob.ref,
            surfaces=surfaces_blob.ref if surfaces_blob is not None else None,
        ),
    )
    return definition, blobs, shapes


def load_shapes(definition: BenchmarkDefinition, fetch: Callable[[ArtifactRef], bytes]) -> dict[str, Shape]:
    """Re-read every part's STEP artifact (e.g. in another process, for validation), by label."""
    shapes: dict[str, Shape] = {}
    for spec in definition.fixtures + definition.reference_solution:
        if spec.step is None:
            raise ValueError(f"part {spec.label!r} has no STEP artifact to load")
        shapes[spec.label] = load_step(fetch(spec.step))
    return shapes
