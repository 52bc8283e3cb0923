"""``funnel``: a ball dropped from anywhere in a wide spawn area must end in a small cup off to one side.

Fixtures: a floor and an open cup (a base and four walls) whose interior is only a little wider than the
ball. The payload spawns with a wide position jitter (``jitter_mm`` per axis, tens of millimetres, not the
usual ±3 mm) above the floor; the cup stands beside the spawn area, outside its footprint, so with nothing
built every ball lands on the bare floor. The goal is the cup's interior. Levels: 1, a square jitter and the
cup along +x; 2, a wider jitter and the cup offset diagonally (along +x and +y); 3, as 2 with a tighter cup
and a forbidden moat on the floor around the cup (where the balls a single slope drops beside the cup
land).

Reference solution: a hopper of four flat plates, the faces of a skewed inverted frustum whose mouth (a
rectangle at the top) covers the whole spawn footprint plus a margin and whose outlet (a rectangle at the
bottom, the cup's inner size) sits just above the cup's rim. Two parallel edges always span a plane, so
each face is a flat trapezoid; the far face (+x, beyond the cup) is a vertical wall that stops a fast
ball over the outlet. The frustum is convex, so from any landing point the ball rolls down a face or a
valley between two faces to the outlet; the depth makes every valley (the shallowest paths) descend at
``valley_angle_deg``. A single plank cannot do it: on a plank a ball keeps its lateral position, so it
delivers only the spawns in a strip as wide as the cup (see :func:`strip_share`).
"""

from __future__ import annotations

import math
from typing import ClassVar

from build123d import Face, Solid, Vector, Wire

from engines.cad.families.base import (
    FIXTURE_MATERIAL,
    CadPart,
    Family,
    FamilyDesign,
    compound,
    floor_part,
    named_zone,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import Point3, box
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId, NamedBox, PartRole, Payload

CUP_WALL_MM = 5.0
CUP_BASE_MM = 5.0
PLATE_MM = 4.0
RIM_CLEARANCE_MM = 3.0
"""Gap between the plates' lowest points and the cup's rim."""
MOUTH_MARGIN_MM = 10.0
"""The mouth reaches this far (plus one radius) beyond the spawn footprint's centres."""
FALL_GAP_MM = 5.0
"""Gap between the lowest spawn position's ball and the mouth."""
BASELINE_CLEARANCE_MM = 10.0
"""Floor gap between the spawn footprint (centres plus a radius) and the cup's outer wall."""
MIN_JITTER_MM = 30.0
JITTER_Z_MM = 2.0
LEVEL_JITTER = {1: 1.0, 2: 1.2, 3: 1.25}
"""The jitter per level as a multiple of ``jitter_radii * radius``."""
LEVEL_GAP = {1: 1.0, 2: 1.0, 3: 0.7}
"""The cup's clearance per level as a multiple of ``cup_gap_radii * radius``."""
PLATES = ("west", "east", "south", "north")


def strip_share(half_width: float, jitter: float) -> float:
    """The largest share of a square spawn area ``±jitter`` that a strip ``2 * half_width`` wide covers
    (along a diagonal): ``1 - (1 - u / sqrt 2)^2`` with ``u = half_width / jitter``; along an axis it is
    ``u``, less."""
    u = min(half_width / jitter, math.sqrt(2.0))
    return 1.0 - (1.0 - u / math.sqrt(2.0)) ** 2


def plate(inner: list[Point3], interior: Point3) -> Solid:
    """A flat plate whose ball-facing face is the planar polygon ``inner``, ``PLATE_MM`` thick away from
    ``interior`` (a point inside the funnel). Plates of a convex funnel meet along their inner edges and
    leave a wedge-shaped gap outside, so they touch without overlapping."""
    a, b, c = (Vector(*p) for p in inner[:3])
    n = (b - a).cross(c - a).normalized()
    if n.dot(Vector(*interior) - a) > 0:
        n = -n
    face = Face(Wire.make_polygon([Vector(*p) for p in inner], close=True))
    return Solid.extrude(face, n * PLATE_MM)


class FunnelFamily(Family):
    name = "funnel"
    levels = 3
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 10.0,
        "jitter_radii": 6.5,
        "cup_gap_radii": 0.4,
        "cup_depth_radii": 2.5,
        "valley_angle_deg": 30.0,
        "cup_offset_radii": 1.5,
        "side_offset_share": 0.5,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        level = self.level(seed)
        r = p["radius_mm"]
        j = max(p["jitter_radii"] * r * LEVEL_JITTER[level], MIN_JITTER_MM)
        jx = jy = j
        c = r * (1.0 + p["cup_gap_radii"] * LEVEL_GAP[level])  # the cup's inner half-width
        rim = CUP_BASE_MM + p["cup_depth_radii"] * r

        # The cup stands outside the spawn footprint (baseline balls land on the floor), offset along +x
        # (and, from level 2, along +y).
        gx = jx + r + BASELINE_CLEARANCE_MM + CUP_WALL_MM + c + p["cup_offset_radii"] * r
        gy = 0.0 if level == 1 else p["side_offset_share"] * jy

        # Funnel: mouth [X0, X1] x [Y0, Y1] at z_top, outlet (the cup's interior) at z_out. The east face is
        # vertical (X1 = x1); the depth gives every valley (corner edge) at least the valley angle.
        x0, x1, y0, y1 = gx - c, gx + c, gy - c, gy + c
        reach_x, reach_y = jx + r + MOUTH_MARGIN_MM, jy + r + MOUTH_MARGIN_MM
        mx0, mx1 = -reach_x, max(reach_x, x1)
        my0, my1 = min(-reach_y, y0), max(reach_y, y1)
        z_out = rim + PLATE_MM + RIM_CLEARANCE_MM
        runs = [
            math.hypot(mx - ox, my - oy)
            for mx, ox in ((mx0, x0), (mx1, x1))
            for my, oy in ((my0, y0), (my1, y1))
        ]
        depth = max(runs) * math.tan(math.radians(p["valley_angle_deg"]))
        z_top = z_out + depth
        spawn_z = z_top + FALL_GAP_MM + JITTER_Z_MM + r

        top = [(mx0, my0, z_top), (mx1, my0, z_top), (mx1, my1, z_top), (mx0, my1, z_top)]
        low = [(x0, y0, z_out), (x1, y0, z_out), (x1, y1, z_out), (x0, y1, z_out)]
        corners = top + low
        interior: Point3 = (
            sum(q[0] for q in corners) / 8,
            sum(q[1] for q in corners) / 8,
            sum(q[2] for q in corners) / 8,
        )
        faces = {
            "west": [top[0], top[3], low[3], low[0]],
            "east": [top[1], top[2], low[2], low[1]],
            "south": [top[0], top[1], low[1], low[0]],
            "north": [top[3], top[2], low[2], low[3]],
        }
        plates = [
            CadPart(
                f"funnel_{name}",
                PartRole.REFERENCE,
                MaterialId.ALUMINUM_6061,
                ManufacturingMethod.CNC_MILLING,
                plate(faces[name], interior),
            )
            for name in PLATES
        ]

        # Cup: base plus four walls, touching but not overlapping.
        w = CUP_WALL_MM
        cup = compound(
            [
                box((x0 - w, y0 - w, 0.0), (x1 + w, y1 + w, CUP_BASE_MM)),
                box((x0 - w, y0 - w, CUP_BASE_MM), (x1 + w, y0, rim)),
                box((x0 - w, y1, CUP_BASE_MM), (x1 + w, y1 + w, rim)),
                box((x0 - w, y0, CUP_BASE_MM), (x0, y1, rim)),
                box((x1, y0, CUP_BASE_MM), (x1 + w, y1, rim)),
            ]
        )

        forbidden = self._moat(
            level, (x0 - w, y0 - w, x1 + w, y1 + w), jx + r + BASELINE_CLEARANCE_MM / 2, j, r
        )
        ex0, ey0, ex1, ey1 = mx0 - PLATE_MM, my0 - PLATE_MM, mx1 + PLATE_MM, my1 + PLATE_MM
        for z in forbidden:
            ex0, ey0 = min(ex0, z.min_mm[0]), min(ey0, z.min_mm[1])
            ex1, ey1 = max(ex1, z.max_mm[0]), max(ey1, z.max_mm[1])
        bounds = simulation_bounds(ex0, ey0, ex1, ey1, spawn_z)
        params = {
            **p,
            "complexity_level": float(level),
            "jitter_mm": round(j, 3),
            "cup_inner_width_mm": round(2 * c, 3),
            "cup_x_mm": round(gx, 3),
            "cup_y_mm": round(gy, 3),
            "rim_height_mm": round(rim, 3),
            "funnel_depth_mm": round(depth, 3),
            "spawn_height_mm": round(spawn_z, 3),
        }
        moat = " without touching the floor around the cup" if forbidden else ""
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball is dropped from anywhere within ±{jx:.0f} mm (x) and ±{jy:.0f} mm "
                f"(y) of a point {spawn_z:.0f} mm above the floor; get it into the cup centred at "
                f"({gx:.0f}, {gy:.0f}) mm, only {2 * c:.0f} mm wide inside{moat}, from every spawn position."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("cup", PartRole.FIXTURE, FIXTURE_MATERIAL, None, cup),
            ],
            reference=plates,
            payload=Payload(
                radius_mm=r,
                material=material,
                start_mm=(0.0, 0.0, round(spawn_z, 3)),
                jitter_mm=(round(jx, 3), round(jy, 3), JITTER_Z_MM),
            ),
            goal_zone=zone((x0, y0, CUP_BASE_MM), (x1, y1, rim)),
            forbidden_zones=forbidden,
            build_zone=zone(
                (mx0 - PLATE_MM - 20.0, my0 - PLATE_MM - 20.0, 0.0),
                (mx1 + PLATE_MM + 20.0, my1 + PLATE_MM + 20.0, spawn_z + r + JITTER_Z_MM + 20.0),
            ),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=4.0),
        )

    @staticmethod
    def _moat(
        level: int, cup: tuple[float, float, float, float], x_min: float, width: float, r: float
    ) -> list[NamedBox]:
        """Level 3: four floor strips ``width`` wide around the cup's outer walls (one radius high), the west
        one starting beyond the spawn footprint so that baseline balls land on the plain floor."""
        if level < 3:
            return []
        cx0, cy0, cx1, cy1 = cup
        wx0 = max(cx0 - width, x_min)
        return [
            named_zone("moat_west", (wx0, cy0, 0.0), (cx0, cy1, r)),
            named_zone("moat_east", (cx1, cy0, 0.0), (cx1 + width, cy1, r)),
            named_zone("moat_south", (wx0, cy0 - width, 0.0), (cx1 + width, cy0, r)),
            named_zone("moat_north", (wx0, cy1, 0.0), (cx1 + width, cy1 + width, r)),
        ]
