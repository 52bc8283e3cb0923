"""Solid primitives placed directly in world millimetres."""

from __future__ import annotations

from collections.abc import Sequence

from build123d import Face, Location, Solid, Vector, Wire

from shared.models import Payload

Point3 = tuple[float, float, float]


def box(lo: Point3, hi: Point3) -> Solid:
    """An axis-aligned box solid between two corners."""
    size = [h - l for l, h in zip(lo, hi)]
    if min(size) <= 0:
        raise ValueError(f"degenerate box {lo}..{hi}")
    return Solid.make_box(*size).moved(Location(Vector(*lo)))


def sphere(center: Point3, radius: float) -> Solid:
    return Solid.make_sphere(radius).moved(Location(Vector(*center)))


def prism_xz(points_xz: Sequence[tuple[float, float]], y_min: float, y_max: float) -> Solid:
    """A convex polygon in the XZ plane extruded along +y from ``y_min`` to ``y_max``."""
    wire = Wire.make_polygon([Vector(x, y_min, z) for x, z in points_xz], close=True)
    return Solid.extrude(Face(wire), Vector(0, y_max - y_min, 0))


def cylinder_z(center: Point3, radius: float, half_length: float) -> Solid:
    """A cylinder with its axis along z, centred on ``center``."""
    x, y, z = center
    return Solid.make_cylinder(radius, 2 * half_length).moved(Location(Vector(x, y, z - half_length)))


def payload_solid(payload: Payload, center: Point3) -> Solid:
    """The payload's solid, centred on ``center`` and axis-aligned as it spawns."""
    if payload.shape == "box":
        hx, hy, hz = payload.half_extents_mm
        x, y, z = center
        return box((x - hx, y - hy, z - hz), (x + hx, y + hy, z + hz))
    assert payload.radius_mm is not None
    r = payload.radius_mm
    if payload.shape == "sphere":
        return sphere(center, r)
    assert payload.half_length_mm is not None
    h = payload.half_length_mm
    body = cylinder_z(center, r, h)
    if payload.shape == "cylinder":
        return body
    x, y, z = center
    fused = body.fuse(sphere((x, y, z - h), r), sphere((x, y, z + h), r)).clean()
    solids = fused.solids()
    assert len(solids) == 1
    return solids[0]
