"""``detour``: a ball rolls down a ramp straight at a wall; the goal lies behind the wall.

Fixtures: a floor, a ramp, the blocking wall (its top is a forbidden zone, so going over it does not
count) and an enclosure (two side walls and a back wall). The wall spans from the left side wall to a
few radii past the ball's line, leaving a corridor on the +y side. With nothing built the ball hits the
wall and stays in front of it. The goal is the whole area behind the wall. Reference solution: a straight
deflector fence, angled as little as the approach allows, that steers the ball into the corridor.
"""

from __future__ import annotations

import math
from typing import ClassVar

from build123d import Location, Rot, Vector

from engines.cad.families.base import (
    FIXTURE_MATERIAL,
    SPAWN_JITTER_MM,
    CadPart,
    Family,
    FamilyDesign,
    compound,
    floor_part,
    named_zone,
    payload,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box, prism_xz
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId, PartRole

SIDE_WALL_MM = 10.0
FENCE_MM = 6.0
FENCE_CLEARANCE_MM = 2.0
"""Gap between the fence's far end and the wall's front face."""
CORNER_CLEARANCE_MM = 8.0
"""The ball's centre leaves the fence this far (plus one radius) beyond the wall's end."""


class DetourFamily(Family):
    name = "detour"
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 15.0,
        "ramp_height_mm": 45.0,
        "ramp_angle_deg": 20.0,
        "wall_overhang_radii": 3.5,
        "corridor_radii": 5.0,
        "wall_thickness_mm": 40.0,
        "wall_height_radii": 3.2,
        "approach_factor": 1.4,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        r = p["radius_mm"]
        theta = math.radians(p["ramp_angle_deg"])
        ramp_h = p["ramp_height_mm"]
        ramp_len = ramp_h / math.tan(theta)
        y_end = p["wall_overhang_radii"] * r  # the wall's free end, +y of the ball's line (y = 0)
        y_right = y_end + p["corridor_radii"] * r
        y_left = 3 * r + 30.0
        wall_h = p["wall_height_radii"] * r + 15.0
        jx, jy, jz = SPAWN_JITTER_MM

        # The ball's centre must move sideways from y = -jitter to beyond the wall's end.
        shift = y_end + r + CORNER_CLEARANCE_MM + jy
        approach = p["approach_factor"] * shift / math.tan(math.radians(30.0))
        x_wall = ramp_len + approach
        x_back = x_wall + p["wall_thickness_mm"]
        x_end = x_back + max(100.0, 5 * r)

        ramp = prism_xz([(0.0, 0.0), (ramp_len, 0.0), (0.0, ramp_h)], -y_left, y_right)
        wall = box((x_wall, -y_left, 0.0), (x_back, y_end, wall_h))
        enclosure = compound(
            [
                box((-SIDE_WALL_MM, -y_left - SIDE_WALL_MM, 0.0), (x_end, -y_left, wall_h)),
                box((-SIDE_WALL_MM, y_right, 0.0), (x_end, y_right + SIDE_WALL_MM, wall_h)),
                box(
                    (x_end, -y_left - SIDE_WALL_MM, 0.0),
                    (x_end + SIDE_WALL_MM, y_right + SIDE_WALL_MM, wall_h),
                ),
            ]
        )

        along = r + 5.0
        contact = (along * math.cos(theta), ramp_h - along * math.sin(theta))
        clearance = jx * math.tan(theta) + jz + 1.5
        spawn = (
            contact[0] + (r + clearance) * math.sin(theta),
            0.0,
            contact[1] + (r + clearance) * math.cos(theta),
        )

        # Reference fence: its ball-facing face runs from A to B at angle phi to +x. B sits just before the
        # wall; A lies far enough to the -y side that every jittered ball meets the face, not the end.
        usable = approach - r - 10.0
        phi = math.radians(30.0)
        for _ in range(8):  # y_b depends on phi; a few fixed-point steps settle it
            y_b = y_end + r + CORNER_CLEARANCE_MM - r * math.cos(phi)
            y_a = -(jy + 10.0 + r / math.cos(phi))
            phi = math.atan2(y_b - y_a, usable)
        x_b = x_wall - FENCE_MM * math.sin(phi) - FENCE_CLEARANCE_MM
        fence_len = (y_b - y_a) / math.sin(phi)
        x_a = x_b - fence_len * math.cos(phi)
        fence_h = 2 * r + 5.0
        fence_local = box((0.0, -FENCE_MM, 0.0), (fence_len, 0.0, fence_h))
        fence = Location(Vector(x_a, y_a, 0.0)) * (Rot(0, 0, math.degrees(phi)) * fence_local)

        top = max(wall_h + 2 * r + 20.0, spawn[2] + r + jz + 20.0)
        bounds = simulation_bounds(
            -SIDE_WALL_MM, -y_left - SIDE_WALL_MM, x_end + SIDE_WALL_MM, y_right + SIDE_WALL_MM, top
        )
        params = {
            **p,
            "approach_length_mm": round(approach, 3),
            "wall_height_mm": round(wall_h, 3),
            "fence_angle_deg": round(math.degrees(phi), 3),
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball rolls down a ramp straight at a {wall_h:.0f} mm wall; get it "
                f"into the area behind the wall without going over it."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("ramp", PartRole.FIXTURE, FIXTURE_MATERIAL, None, ramp),
                CadPart("wall", PartRole.FIXTURE, FIXTURE_MATERIAL, None, wall),
                CadPart("enclosure", PartRole.FIXTURE, FIXTURE_MATERIAL, None, enclosure),
            ],
            reference=[
                CadPart(
                    "fence",
                    PartRole.REFERENCE,
                    MaterialId.ALUMINUM_6061,
                    ManufacturingMethod.CNC_MILLING,
                    fence,
                )
            ],
            payload=payload(r, spawn, material),
            goal_zone=zone((x_back, -y_left, 0.0), (x_end, y_right, 3 * r)),
            forbidden_zones=[
                named_zone("wall_top", (x_wall, -y_left, wall_h), (x_back, y_end, wall_h + 2 * r + 20.0))
            ],
            build_zone=zone((0.0, -y_left, 0.0), (x_wall, y_right, top)),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=5.0),
        )
