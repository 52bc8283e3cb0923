"""Boxes and zones in world millimetres, and where a part is placed."""

from __future__ import annotations

from pydantic import model_validator

from shared.models.common import Identifier, Model, Point, Rotation, Vec3


class Box(Model):
    """Axis-aligned box in world millimetres."""

    min_mm: Vec3
    max_mm: Vec3

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if any(lo > hi for lo, hi in zip(self.min_mm, self.max_mm)):
            raise ValueError(f"box min {self.min_mm} must be <= max {self.max_mm} on every axis")
        return self

    @property
    def size_mm(self) -> tuple[float, float, float]:
        return tuple(hi - lo for lo, hi in zip(self.min_mm, self.max_mm))  # type: ignore[return-value]

    @property
    def center_mm(self) -> tuple[float, float, float]:
        return tuple((lo + hi) / 2 for lo, hi in zip(self.min_mm, self.max_mm))  # type: ignore[return-value]

    def contains_point(self, p: Vec3) -> bool:
        return all(lo <= x <= hi for lo, x, hi in zip(self.min_mm, p, self.max_mm))

    def contains_box(self, other: Box) -> bool:
        return self.contains_point(other.min_mm) and self.contains_point(other.max_mm)

    def overlaps(self, other: Box) -> bool:
        """True when the interiors intersect (touching faces do not count)."""
        return all(
            a_lo < b_hi and b_lo < a_hi
            for a_lo, a_hi, b_lo, b_hi in zip(self.min_mm, self.max_mm, other.min_mm, other.max_mm)
        )

    def expanded(self, margin_mm: Vec3) -> Box:
        return Box(
            min_mm=tuple(v - m for v, m in zip(self.min_mm, margin_mm)),  # type: ignore[arg-type]
            max_mm=tuple(v + m for v, m in zip(self.max_mm, margin_mm)),  # type: ignore[arg-type]
        )


class NamedBox(Box):
    name: Identifier


class Zone(Box):
    """A box people give (a benchmark script's goal, build and simulation zones): corners within ±10 m
    (:data:`MAX_LENGTH_MM`). A :class:`Box` measured from geometry is only finite."""

    min_mm: Point
    max_mm: Point


class NamedZone(NamedBox):
    """A named :class:`Zone` (a benchmark script's forbidden zones)."""

    min_mm: Point
    max_mm: Point


class Placement(Model):
    """Where a part goes in the benchmark's world: rotated about its own origin by ``rotation_deg``
    (build123d ``Rot(x, y, z)``), then moved by ``position_mm`` (within ±10 m, :data:`MAX_LENGTH_MM`)."""

    position_mm: Point = (0.0, 0.0, 0.0)
    rotation_deg: Rotation = (0.0, 0.0, 0.0)
