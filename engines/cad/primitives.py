"""Solid primitives placed directly in world millimetres."""

from __future__ import annotations

from collections.abc import Sequence

from build123d import Face, Location, Solid, Vector, Wire

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
