"""Sample parts with known, planted DFM properties (millimetres, Z up = mould pull = print direction).

Used by the tests (each part has one defect and a twin without it), by the performance benchmark and to
write the example files in ``examples/``. Each builder returns a build123d ``Part``.
"""

from __future__ import annotations

import math

from build123d import (
    Align,
    Axis,
    Box,
    BuildPart,
    BuildSketch,
    Cylinder,
    Locations,
    Mode,
    Plane,
    Polygon,
    Pos,
    Rectangle,
    Rot,
    Select,
    extrude,
    fillet,
    loft,
)


def pocket_block(corner_radius_mm: float = 0.0) -> object:
    """100 x 60 x 30 block with a 60 x 30 x 20 pocket from the top; vertical pocket corners sharp (0) or
    filleted to ``corner_radius_mm``."""
    with BuildPart() as p:
        Box(100, 60, 30)
        with Locations((0, 0, 15)):
            Box(60, 30, 20, mode=Mode.SUBTRACT, align=(Align.CENTER, Align.CENTER, Align.MAX))
        if corner_radius_mm > 0:
            fillet(p.edges(Select.LAST).filter_by(Axis.Z), corner_radius_mm)
    return p.part


def grooved_block() -> object:
    """The pocket block (R4 corners) with a 10 mm wide, 6 mm high through-groove cut into its +X side: an
    undercut for a +-Z mould pull and a second CNC setup (from +X)."""
    with BuildPart() as p:
        Box(100, 60, 30)
        with Locations((0, 0, 15)):
            Box(60, 30, 20, mode=Mode.SUBTRACT, align=(Align.CENTER, Align.CENTER, Align.MAX))
        fillet(p.edges(Select.LAST).filter_by(Axis.Z), 4.0)
        with Locations((50, 0, 0)):
            Box(20, 80, 6, mode=Mode.SUBTRACT)
    return p.part


def plate(thickness_mm: float) -> object:
    """A 100 x 60 plate, ``thickness_mm`` thick."""
    with BuildPart() as p:
        Box(100, 60, thickness_mm)
    return p.part


def open_box(draft_deg: float = 0.0, wall_mm: float = 2.0) -> object:
    """A 60 x 40 x 30 open-top box with ``wall_mm`` walls and floor, every side wall drafted by
    ``draft_deg`` (0: vertical walls without draft), outside narrowing and inside widening upward, so a
    mould pulled along Z releases it: a typical moulded shell."""
    depth = 30.0
    t = math.tan(math.radians(draft_deg))

    def rect(z: float, w: float, d: float):  # type: ignore[no-untyped-def]
        return Plane.XY.offset(z) * Rectangle(w, d)

    outer = loft([rect(0, 60, 40), rect(depth, 60 - 2 * depth * t, 40 - 2 * depth * t)])
    # inner walls stay wall_mm from the outer ones at the top and lean the other way
    top_w, top_d = 60 - 2 * depth * t - 2 * wall_mm, 40 - 2 * depth * t - 2 * wall_mm
    rise = 2 * (depth - wall_mm) * t
    inner = loft([rect(wall_mm, top_w - rise, top_d - rise), rect(depth, top_w, top_d)])
    return outer - inner


def overhang_wedge(angle_from_vertical_deg: float) -> object:
    """A 20 mm deep wedge standing on a 10 mm foot whose underside leans out at ``angle_from_vertical_deg``
    (60: a ceiling that overhangs the layer below by 60 degrees from vertical)."""
    h = 40.0
    w = h * math.tan(math.radians(angle_from_vertical_deg))
    with BuildPart() as p:
        with BuildSketch(Plane.XZ):
            Polygon((0, 0), (10, 0), (10 + w, h), (0, h))
        extrude(amount=20)
    return p.part


def bracket() -> object:
    """A machined bracket: base plate with two bolt holes, an upright with a filleted slot. Used as the
    README's example part."""
    with BuildPart() as p:
        Box(80, 40, 8, align=(Align.CENTER, Align.CENTER, Align.MIN))
        with Locations((-40, 0, 0)):
            Box(8, 40, 50, align=(Align.MIN, Align.CENTER, Align.MIN))
        with Locations((-15, -10, 0), (-15, 10, 0), (25, -10, 0), (25, 10, 0)):
            Cylinder(3.2, 8, align=(Align.CENTER, Align.CENTER, Align.MIN), mode=Mode.SUBTRACT)
        with Locations((-36, 0, 32)):
            Box(8, 16, 20, mode=Mode.SUBTRACT)
    return p.part


def dense_part(target_triangles: int = 20_000) -> object:
    """A plate with a grid of through-holes: about ``target_triangles`` triangles once tessellated (for
    the performance benchmark)."""
    n = max(1, round(math.sqrt(target_triangles / 172)))  # ~172 triangles per hole at the default tolerance
    pitch = 8.0
    with BuildPart() as p:
        Box(n * pitch + 8, n * pitch + 8, 6)
        locs = [((i - (n - 1) / 2) * pitch, (j - (n - 1) / 2) * pitch, 0) for i in range(n) for j in range(n)]
        with Locations(*locs):
            Cylinder(2.5, 6, mode=Mode.SUBTRACT)
    return p.part


def zigzag(bends: int = 10, t: float = 1.5, r: float = 2.0, flat: float = 15.0, w: float = 40.0) -> object:
    """A sheet strip ``t`` thick with ``bends`` alternating 90 deg bends of inner radius ``r`` about Y (a square
    wave profile of ``flat`` mm flats, ``w`` wide): the sheet-metal recognition and unfolding benchmark."""
    part = None
    x, z = 0.0, 0.0
    for i in range(bends + 1):
        up = i % 2 == 1
        seg = Pos(x, -w / 2, z) * (
            Box(t, w, flat, align=(Align.MIN, Align.MIN, Align.MIN))
            if up
            else Box(flat, w, t, align=(Align.MIN, Align.MIN, Align.MIN))
        )
        part = seg if part is None else part + seg
        if i == bends:
            break
        # bend at the segment's end
        if not up:  # horizontal segment ends at x + flat: bend up (centre above the end)
            cx, cz = x + flat, z + t + r
            ring = Pos(cx, 0, cz) * Rot(90, 0, 0) * (Cylinder(r + t, w) - Cylinder(r, w))
            q = Pos(cx, -w / 2, z) * Box(r + t, w, r + t, align=(Align.MIN, Align.MIN, Align.MIN))
            part += ring & q
            x, z = cx + r, cz
        else:  # vertical segment ends at z + flat: bend over to +X (centre right of the top)
            cx, cz = x + t + r, z + flat
            ring = Pos(cx, 0, cz) * Rot(90, 0, 0) * (Cylinder(r + t, w) - Cylinder(r, w))
            q = Pos(x, -w / 2, cz) * Box(r + t, w, r + t, align=(Align.MIN, Align.MIN, Align.MIN))
            part += ring & q
            x, z = cx, cz + r
    return part


def write_examples(directory: str = "examples") -> list[str]:
    """Write the README's example parts (deterministic STEP bytes) into ``directory``."""
    from pathlib import Path

    from engines.cad.export import step_bytes

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, part in (
        ("bracket.step", bracket()),
        ("pocket_sharp.step", pocket_block(0.0)),
        ("grooved_block.step", grooved_block()),
    ):
        (out / name).write_bytes(step_bytes(part, name.split(".")[0]))
        written.append(str(out / name))
    return written


if __name__ == "__main__":
    for path in write_examples():
        print(path)
