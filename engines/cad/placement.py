"""Placing a part in the benchmark's world: the one definition of what :class:`~shared.models.Placement` means."""

from __future__ import annotations

from build123d import Location, Rot, Shape, Vector

from shared.models import Placement


def place(shape: Shape, placement: Placement) -> Shape:
    """``shape`` rotated about its own origin by ``placement.rotation_deg`` (build123d ``Rot(x, y, z)``), then
    moved by ``placement.position_mm``. A default placement returns the shape unchanged."""
    if placement == Placement():
        return shape
    return Location(Vector(*placement.position_mm)) * (Rot(*placement.rotation_deg) * shape)
