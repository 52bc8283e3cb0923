"""Build a benchmark from a family and a seed: definition, artifacts (STEP parts, collision pack, GLB scene).

Everything is a pure function of (family, seed, generator version, overrides): building twice, in any
process, gives an identical definition and identical artifact bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from build123d import Shape

from activities.cad.collision import Piece, convex_pieces
from activities.cad.export import glb_bytes, load_step, step_bytes
from activities.cad.families import FAMILIES, CadPart
from activities.cad.primitives import sphere
from activities.physics.collision_pack import pack
from shared.materials import mass_kg, props
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BenchmarkDefinition,
    Box,
    PartSpec,
)
from shared.store import Blob

STEP_MEDIA_TYPE = "model/step"
NPZ_MEDIA_TYPE = "application/x-npz"
GLB_MEDIA_TYPE = "model/gltf-binary"
COLLISION_TOLERANCE_MM = 0.2


class InvalidFamily(ValueError):
    """The requested family does not exist (deterministic: do not retry)."""


def benchmark_prefix(benchmark_id: str) -> str:
    return f"benchmarks/{benchmark_id}"


def part_volume_mm3(shape: Shape) -> float:
    """Volume of a part; the solids of a multi-solid part are fused first so touching solids count once."""
    solids = shape.solids()
    if not solids:
        raise ValueError("part has no solids")
    if len(solids) == 1:
        return solids[0].volume
    return solids[0].fuse(*solids[1:]).volume


def _bbox(shape: Shape) -> Box:
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
        bbox=_bbox(part.shape),
        step=step,
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
    """
    generator = FAMILIES.get(family)
    if generator is None:
        raise InvalidFamily(f"unknown family {family!r}; known families: {sorted(FAMILIES)}")
    design = generator.generate(seed)
    prefix = benchmark_prefix(benchmark_id)

    blobs: list[Blob] = []
    specs: dict[str, PartSpec] = {}
    shapes: dict[str, Shape] = {}
    collision: dict[str, list[Piece]] = {}
    for part in design.fixtures + design.reference:
        step = Blob(f"{prefix}/parts/{part.label}.step", step_bytes(part.shape, part.label), STEP_MEDIA_TYPE)
        blobs.append(step)
        specs[part.label] = _part_spec(part, step.ref)
        shapes[part.label] = part.shape
        collision[part.label] = convex_pieces(part.shape, COLLISION_TOLERANCE_MM)

    collision_blob = Blob(f"{prefix}/collision.npz", pack(collision), NPZ_MEDIA_TYPE)
    ball = sphere(design.payload.start_mm, design.payload.radius_mm)
    scene = [(p.label, p.shape, props(p.material).rgba) for p in design.fixtures]
    scene.append((design.payload.label, ball, props(design.payload.material).rgba))
    scene += [(p.label, p.shape, props(p.material).rgba) for p in design.reference]
    glb_blob = Blob(f"{prefix}/scene.glb", glb_bytes(scene), GLB_MEDIA_TYPE)
    blobs += [collision_blob, glb_blob]

    simulation = design.simulation
    overrides = {
        key: value
        for key, value in (("n_scenes", n_scenes), ("check_interval_steps", check_interval_steps))
        if value is not None
    }
    if overrides:
        simulation = simulation.model_validate({**simulation.model_dump(), **overrides})

    definition = BenchmarkDefinition(
        benchmark_id=benchmark_id,
        family=family,
        seed=seed,
        generator_version=generator_version,
        description=design.description,
        params=design.params,
        fixtures=[specs[p.label] for p in design.fixtures],
        payload=design.payload,
        goal_zone=design.goal_zone,
        forbidden_zones=design.forbidden_zones,
        build_zone=design.build_zone,
        simulation_bounds=design.simulation_bounds,
        simulation=simulation,
        reference_solution=[specs[p.label] for p in design.reference],
        caps=None,
        artifacts=BenchmarkArtifacts(collision=collision_blob.ref, scene_glb=glb_blob.ref),
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
