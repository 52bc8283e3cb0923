"""CAD engine: broadphase, geometry validation rules, convex decomposition and deterministic exports."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
import trimesh
from build123d import Face, Location, Rot, Shape, Vector, Wire

from engines.cad.broadphase import sweep_and_prune
from engines.cad.collision import convex_pieces
from engines.cad.export import STEP_TIMESTAMP, glb_bytes, load_step, step_bytes
from engines.cad.primitives import box, prism_xz, sphere
from engines.cad.validate import spawn_points, validate_geometry
from shared.models import (
    BenchmarkArtifacts,
    BenchmarkDefinition,
    Box,
    GeometryReport,
    NamedBox,
    PartRole,
    PartSpec,
    Payload,
)
from shared.refs import make_ref

# --------------------------------------------------------------------------------------------
# Broadphase
# --------------------------------------------------------------------------------------------


def _brute_force(boxes: list[tuple[tuple[float, ...], tuple[float, ...]]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if all(boxes[i][0][k] <= boxes[j][1][k] and boxes[j][0][k] <= boxes[i][1][k] for k in range(3))
    ]


@pytest.mark.parametrize("n", [0, 1, 2, 50, 300])
def test_sweep_and_prune_matches_brute_force(n: int) -> None:
    rng = np.random.default_rng(n)
    lo = rng.uniform(0, 200, size=(n, 3))
    hi = lo + rng.uniform(0, 25, size=(n, 3))
    boxes = [(tuple(a), tuple(b)) for a, b in zip(lo.tolist(), hi.tolist())]
    assert sweep_and_prune(boxes) == _brute_force(boxes)


def test_sweep_and_prune_reports_touching_and_degenerate_boxes() -> None:
    boxes = [
        ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
        ((1.0, 0.0, 0.0), (2.0, 1.0, 1.0)),  # shares a face with 0
        ((2.0, 1.0, 1.0), (2.0, 1.0, 1.0)),  # a point on 1's corner
        ((5.0, 5.0, 5.0), (6.0, 6.0, 6.0)),
        ((0.5, 2.0, 0.0), (0.6, 3.0, 1.0)),  # overlaps 0 on x and z only
    ]
    assert sweep_and_prune(boxes) == [(0, 1), (1, 2)]
    with pytest.raises(ValueError, match="box 0"):
        sweep_and_prune([((1.0, 0.0, 0.0), (0.0, 1.0, 1.0))])


# --------------------------------------------------------------------------------------------
# Validation rules on small, hand-made scenes
# --------------------------------------------------------------------------------------------

BOUNDS = Box(min_mm=(-500, -500, -50), max_mm=(500, 500, 500))
GOAL = Box(min_mm=(200, -50, 0), max_mm=(300, 50, 100))
BUILD = Box(min_mm=(-200, -200, 0), max_mm=(200, 200, 300))
REF = make_ref("benchmarks/test/collision.npz", b"")


def _spec(label: str, shape: Shape, role: PartRole = PartRole.FIXTURE) -> PartSpec:
    bb = shape.bounding_box()
    return PartSpec(
        label=label,
        role=role,
        material="aluminum_6061",
        method="cnc" if role is PartRole.REFERENCE else None,
        volume_mm3=max(shape.volume, 1e-6),
        mass_kg=1e-3,
        bbox=Box(min_mm=(bb.min.X, bb.min.Y, bb.min.Z), max_mm=(bb.max.X, bb.max.Y, bb.max.Z)),
    )


def _validate(
    fixtures: dict[str, Shape],
    reference: dict[str, Shape] | None = None,
    *,
    start: tuple[float, float, float] = (0.0, 0.0, 100.0),
    radius: float = 10.0,
    goal: Box = GOAL,
    forbidden: list[NamedBox] | None = None,
    build: Box = BUILD,
    bounds: Box = BOUNDS,
    shapes: dict[str, Shape] | None = None,
    tolerance_mm3: float = 1.0,
    jitter: tuple[float, float, float] = (3, 3, 1),
) -> GeometryReport:
    reference = reference or {}
    definition = BenchmarkDefinition(
        benchmark_id="planted",
        family="chute",
        seed=0,
        generator_version=1,
        fixtures=[_spec(k, v) for k, v in fixtures.items()],
        reference_solution=[_spec(k, v, PartRole.REFERENCE) for k, v in reference.items()],
        payload=Payload(radius_mm=radius, material="steel_carbon", start_mm=start, jitter_mm=jitter),
        goal_zone=goal,
        forbidden_zones=forbidden or [],
        build_zone=build,
        simulation_bounds=bounds,
        artifacts=BenchmarkArtifacts(collision=REF),
    )
    return validate_geometry(
        definition, shapes if shapes is not None else {**fixtures, **reference}, tolerance_mm3=tolerance_mm3
    )


def _rules(report: GeometryReport) -> list[str]:
    return [f.rule for f in report.findings]


FLOOR = box((-400, -400, -10), (400, 400, 0))


def test_clean_scene_is_valid_and_counts_its_work() -> None:
    report = _validate({"floor": FLOOR, "block": box((50, -20, 0), (90, 20, 40))})
    assert report.valid, report.findings
    assert report.n_solids == 2
    assert report.candidate_pairs == 1  # the block stands on the floor: touching boxes are candidates
    assert report.exact_checks == 1


def test_planted_interference_names_both_parts_and_the_volume() -> None:
    a = box((0, 0, 0), (20, 20, 20))
    b = box((10, 10, 10), (40, 40, 40))  # overlaps a by 10 x 10 x 10
    far = box((200, 200, 200), (210, 210, 210))
    report = _validate({"alpha": a, "beta": b, "gamma": far}, start=(-100, -100, 100))
    assert not report.valid
    [finding] = report.findings
    assert finding.rule == "part.interference"
    assert finding.parts == ["alpha", "beta"]
    assert finding.measured == pytest.approx(1000.0, rel=1e-6)
    assert finding.limit == 1.0 and finding.unit == "mm3"
    assert report.candidate_pairs == 1 and report.exact_checks == 1  # gamma never reached the exact check


def test_touching_parts_pass_and_small_overlaps_obey_the_tolerance() -> None:
    runway = box((0, -30, 0), (200, 30, 50))
    plank = prism_xz([(150, 50), (300, 50), (280, 55), (170, 55)], -30, 30)  # rests on the runway
    wide = Box(min_mm=(-200, -200, 0), max_mm=(400, 200, 300))
    touching = _validate(
        {"floor": FLOOR, "runway": runway}, {"plank": plank}, start=(-100, 0, 100), build=wide
    )
    assert touching.valid, touching.findings
    assert touching.exact_checks >= 2

    sliver = box((199.9, -30, 10), (210, 30, 20))  # overlaps the runway by 0.1 x 60 x 10 = 60 mm3
    strict = _validate({"runway": runway, "sliver": sliver}, start=(-100, 0, 100))
    assert _rules(strict) == ["part.interference"]
    assert strict.findings[0].measured == pytest.approx(60.0, rel=1e-3)
    assert _validate({"runway": runway, "sliver": sliver}, start=(-100, 0, 100), tolerance_mm3=100.0).valid


def test_payload_spawned_inside_a_fixture_is_found() -> None:
    report = _validate({"floor": FLOOR, "block": box((-20, -20, 0), (20, 20, 40))}, start=(0, 0, 45))
    [finding] = report.findings
    assert finding.rule == "payload.fixture_interference"
    assert finding.parts == ["payload", "block"]
    assert finding.measured is not None and finding.measured > 100


def test_spawn_points_are_the_start_and_the_distinct_jitter_corners() -> None:
    def points(jitter: tuple[float, float, float]) -> list[tuple[float, float, float]]:
        return spawn_points(Payload(radius_mm=5, material="abs", start_mm=(10, 20, 30), jitter_mm=jitter))

    assert points((0, 0, 0)) == [(10, 20, 30)]
    assert points((2, 0, 0)) == [(10, 20, 30), (8, 20, 30), (12, 20, 30)]
    assert len(points((2, 0, 1))) == 5
    full = points((3, 3, 1))
    assert full[0] == (10, 20, 30) and len(full) == 9
    assert set(full[1:]) == {
        (10 + dx, 20 + dy, 30 + dz) for dx in (-3, 3) for dy in (-3, 3) for dz in (-1, 1)
    }


def test_payload_overlapping_a_fixture_only_at_a_jittered_corner_is_found() -> None:
    # The wall starts 2 mm beyond the ball at its nominal start (0, 0, 100), radius 10; the jitter is
    # (3, 3, 1), so at the +x corners the ball reaches 1 mm into it: a cap of height 1 mm.
    wall = box((12, -60, 0), (40, 60, 200))
    fixtures = {"floor": FLOOR, "wall": wall}
    report = _validate(fixtures, start=(0, 0, 100), radius=10.0, tolerance_mm3=1.0)
    assert not report.valid
    [finding] = report.findings
    assert finding.rule == "payload.fixture_interference"
    assert finding.parts == ["payload", "wall"]
    cap = math.pi * 1**2 * (3 * 10 - 1) / 3
    assert finding.measured == pytest.approx(cap, rel=1e-3)
    assert finding.limit == 1.0 and finding.unit == "mm3"
    # Any of the four +x corners (they overlap equally); the message names the point and the jitter box.
    assert re.search(
        r"jittered spawn point \(3\.0, -?3\.0, (99|101)\.0\) \(start \(0\.0, 0\.0, 100\.0\)", finding.message
    )
    assert "3 more of its 9 spawn points" in finding.message
    assert "its nominal spawn point" not in finding.message

    # Moved 3 mm further away, the wall is clear of every corner (the spheres only touch it at most).
    clear = _validate({"floor": FLOOR, "wall": box((13, -60, 0), (40, 60, 200))}, start=(0, 0, 100))
    assert clear.valid, clear.findings


def test_payload_jitter_corner_overlapping_a_reference_part_is_found() -> None:
    # A small block near the (-x, -y, -z) corner of the jitter box only.
    block = box((-20, -20, 80), (-5, -5, 91))
    report = _validate({"floor": FLOOR}, {"shelf": block}, start=(0, 0, 100))
    assert _rules(report) == ["payload.reference_interference"]
    assert "(-3.0, -3.0, 99.0)" in report.findings[0].message


def test_a_part_between_the_checked_spawn_points_is_found_by_the_sweep() -> None:
    """With a wide jitter (±50 mm) a 5 mm cube halfway between the nominal start and a corner misses the
    ball at all nine checked points, yet balls spawned near it would hit it: the swept space finds it, by
    the depth it reaches in. 11 mm farther from the box of spawn centres than the radius, it is clear."""
    cube = box((22.5, 22.5, 97.5), (27.5, 27.5, 102.5))
    report = _validate({"floor": FLOOR}, {"pin": cube}, start=(0, 0, 100), jitter=(50, 50, 0))
    assert _rules(report) == ["payload.reference_in_envelope"]
    assert report.findings[0].unit == "mm" and report.findings[0].measured == pytest.approx(10.0, abs=1e-3)
    clear = box((61.0, -5, 97.5), (66.0, 5, 102.5))  # 11 mm past the centres' box edge at x = 50
    assert _validate({"floor": FLOOR}, {"pin": clear}, start=(0, 0, 100), jitter=(50, 50, 0)).valid


def test_payload_spawned_inside_a_reference_part_is_found() -> None:
    report = _validate({"floor": FLOOR}, {"ramp": box((-20, -20, 80), (20, 20, 95))}, start=(0, 0, 100))
    assert _rules(report) == ["payload.reference_interference"]


def test_reference_outside_build_zone_is_found_with_its_protrusion() -> None:
    report = _validate({"floor": FLOOR}, {"plank": box((150, -10, 10), (230, 10, 20))})
    [finding] = report.findings
    assert finding.rule == "reference.outside_build_zone"
    assert finding.parts == ["plank", "build_zone"]
    assert finding.measured == pytest.approx(30.0, abs=1e-3)
    assert "30.00 mm past +x" in finding.message and "shrink it" in finding.message  # which side, how far


def test_reference_in_forbidden_zone_uses_the_exact_solid() -> None:
    pit = NamedBox(name="pit", min_mm=(100, -50, 0), max_mm=(150, 50, 30))
    inside = box((90, -10, 20), (120, 10, 40))  # 20 x 20 x 10 inside the pit
    # A plate rising at 45 degrees from (70, 20) to (110, 60) in XZ: its bounding box reaches into the pit's
    # upper corner (100, 30), the solid passes above it.
    plate = Location(Vector(70, 0, 20)) * (Rot(0, -45, 0) * box((0, -10, 0), (40 * math.sqrt(2), 10, 3)))
    assert plate.bounding_box().max.X > 100 and plate.bounding_box().min.Z < 30
    report = _validate({"floor": FLOOR}, {"bad": inside, "tilted": plate}, forbidden=[pit])
    [finding] = report.findings
    assert finding.rule == "reference.in_forbidden_zone"
    assert finding.parts == ["bad", "forbidden_zone:pit"]
    assert finding.measured == pytest.approx(4000.0, rel=1e-6)


def test_zone_rules() -> None:
    overlapping = NamedBox(name="lava", min_mm=(250, -10, 0), max_mm=(260, 10, 10))
    outside = NamedBox(name="far", min_mm=(450, 0, 0), max_mm=(600, 10, 10))
    report = _validate({"floor": FLOOR}, forbidden=[overlapping, outside])
    assert sorted(_rules(report)) == ["zone.goal_forbidden_overlap", "zone.outside_bounds"]
    out = next(f for f in report.findings if f.rule == "zone.outside_bounds")
    assert out.parts == ["forbidden_zone:far"] and out.measured == pytest.approx(100.0)

    report = _validate({"floor": FLOOR}, start=(195, 0, 100))  # envelope 195 + 10 + 3 > 200
    [finding] = report.findings
    assert finding.rule == "payload.envelope_outside_build_zone"
    assert finding.measured == pytest.approx(8.0)

    plane = NamedBox(name="plane", min_mm=(-300, -300, 0), max_mm=(-250, -250, 0))
    warned = _validate({"floor": FLOOR, "post": box((-290, -290, 0), (-260, -260, 5))}, forbidden=[plane])
    assert warned.valid and _rules(warned) == ["zone.empty"]
    assert warned.findings[0].severity == "warning"

    spawn_zone = NamedBox(name="spawn", min_mm=(-5, 12, 90), max_mm=(5, 20, 110))  # within radius + jitter
    assert _rules(_validate({"floor": FLOOR}, forbidden=[spawn_zone])) == [
        "payload.envelope_in_forbidden_zone"
    ]


def test_missing_and_invalid_shapes() -> None:
    face = Face(Wire.make_polygon([Vector(0, 0, 0), Vector(10, 0, 0), Vector(0, 10, 0)]))
    report = _validate(
        {"floor": FLOOR, "sheet": face, "ghost": box((0, 0, 0), (1, 1, 1))}, shapes={"sheet": face}
    )
    assert sorted(_rules(report)) == ["part.missing_shape", "part.missing_shape", "solid.invalid"]
    assert {tuple(f.parts) for f in report.findings} == {("floor",), ("ghost",), ("sheet",)}


# --------------------------------------------------------------------------------------------
# Convex decomposition
# --------------------------------------------------------------------------------------------


def _inside_hull(points: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    hull = trimesh.Trimesh(vertices=vertices, process=False).convex_hull
    normals, origins = hull.face_normals, hull.triangles[:, 0, :]
    return (np.einsum("fk,pk->pf", normals, points) - (normals * origins).sum(axis=1) <= 1e-9).all(axis=1)


def test_convex_solids_give_exactly_one_piece() -> None:
    for shape, volume in (
        (box((0, 0, 0), (10, 20, 30)), 6000.0),
        (sphere((5, 5, 5), 8.0), 4 / 3 * math.pi * 512),
    ):
        [(vertices, faces)] = convex_pieces(shape)
        assert vertices.dtype == np.float64 and faces.dtype == np.int32
        hull = trimesh.Trimesh(vertices=vertices, faces=faces)
        assert hull.is_watertight and hull.volume == pytest.approx(volume, rel=0.03)


def test_concave_l_bracket_decomposes_into_pieces_covering_its_volume() -> None:
    leg = box((0, 0, 0), (60, 10, 10))
    upright = box((0, 0, 10), (10, 10, 60))
    bracket = leg.fuse(upright).clean()
    assert len(bracket.solids()) == 1
    pieces = convex_pieces(bracket)
    assert len(pieces) >= 2
    assert convex_pieces(bracket)[0][0].tobytes() == pieces[0][0].tobytes()  # seeded: reproducible

    # Monte Carlo over the bracket's bounding box: the union of the pieces matches the solid within 3 %.
    rng = np.random.default_rng(0)
    points = rng.uniform((0, 0, 0), (60, 10, 60), size=(40_000, 3))
    in_solid = (points[:, 2] <= 10) | (points[:, 0] <= 10)
    in_pieces = np.zeros(len(points), dtype=bool)
    for vertices, _ in pieces:
        in_pieces |= _inside_hull(points, vertices)
    box_volume = 60 * 10 * 60
    union_volume = in_pieces.mean() * box_volume
    assert union_volume == pytest.approx(bracket.volume, rel=0.03)
    assert (in_pieces ^ in_solid).mean() * box_volume < 0.03 * bracket.volume


def test_every_solid_of_a_compound_is_covered() -> None:
    two = box((0, 0, 0), (10, 10, 10)).fuse(box((50, 0, 0), (60, 10, 10)))
    assert len(convex_pieces(two)) == 2


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def test_step_bytes_are_deterministic_and_round_trip() -> None:
    shape = box((1, 2, 3), (11, 22, 33)).fuse(sphere((30, 0, 0), 5))
    first, second = step_bytes(shape, "thing"), step_bytes(shape, "thing")
    assert first == second
    assert STEP_TIMESTAMP.encode() in first
    assert re.search(rb"\d{4}-\d{2}-\d{2}T", first.replace(STEP_TIMESTAMP.encode(), b"")) is None
    loaded = load_step(first)
    assert loaded.volume == pytest.approx(shape.volume, rel=1e-6)
    assert len(loaded.solids()) == len(shape.solids())
    with pytest.raises(ValueError):
        load_step(b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n")


def test_glb_bytes_are_deterministic_and_viewable() -> None:
    parts = [
        ("floor", box((-50, -50, -5), (50, 50, 0)), (0.7, 0.7, 0.7, 1.0)),
        ("ball", sphere((0, 0, 10), 10), (0.2, 0.3, 0.9, 1.0)),
    ]
    data = glb_bytes(parts)
    assert data == glb_bytes(parts)
    assert data[:4] == b"glTF"
    scene = trimesh.load(io.BytesIO(data), file_type="glb")
    assert sorted(scene.geometry) == ["ball", "floor"]
    assert scene.bounds.ravel().tolist() == pytest.approx([-50, -50, -5, 50, 50, 20], abs=0.2)
