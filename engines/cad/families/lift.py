"""``lift``: a ball dropped low next to a tower must be lifted onto the shelf on top of the tower.

Fixtures: a floor and a tower whose top is a shelf, gently sloping down to a back wall, with side walls. The
payload spawns a short way above the floor in front of the tower, well below the shelf, so with nothing built
it lands on the floor and stays there: gravity only takes it down. The goal is the shelf (the ball's centre
over it, at least one radius in from its front edge). Reference solution: a platform, an assembly of a milled
aluminium plate and a printed tray (two low side rails and a back rim) fastened on it, on a vertical slide
joint driven by a sinusoidal position motor (a belt-driven linear module) whose phase makes it start at the
bottom at rest and reach the top after ``rise_time_s``. The platform is inclined toward the tower, so the
ball rolls against the tower's front face and, once the platform's front edge has risen above the shelf,
rolls over the edge onto the shelf.
"""

from __future__ import annotations

import math
from typing import ClassVar

from build123d import Location, Rot, Vector

from engines.cad.families.base import (
    FIXTURE_MATERIAL,
    GRAVITY_M_S2,
    PAYLOAD_MATERIALS,
    SPAWN_JITTER_MM,
    CadPart,
    Family,
    FamilyDesign,
    compound,
    floor_part,
    payload,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box, prism_xz
from shared.materials import props
from shared.models import JointSpec, ManufacturingMethod, MaterialId, MotorSpec, PartRole

PLATE_MM = 5.0
RAIL_MM = 4.0
WALL_MM = 8.0
"""Thickness of the shelf's lip walls."""
TOWER_GAP_MM = 3.0
"""Horizontal gap between the platform (any point of it) and the tower's front face."""
FLOOR_CLEARANCE_MM = 6.0
"""Gap between the floor and the platform's lowest point in its placed (bottom) pose."""
LIMIT_MARGIN_MM = 2.0
"""The slide's hard stops lie this far beyond the motion's ends."""
SHELF_SLOPE_DEG = 3.0
"""The shelf descends toward its back wall by this angle."""
LANDING_SETBACK_MM = 8.0
"""The ball spawns above a point of the platform one radius and this much from its front end."""
PLATFORM_MATERIAL = MaterialId.ALUMINUM_6061
PLATFORM_METHOD = ManufacturingMethod.CNC_MILLING
"""The platform is a flat milled plate on the linear module's carriage."""
TRAY_MATERIAL = MaterialId.ABS
TRAY_METHOD = ManufacturingMethod.FDM_PRINTING
"""The tray (two side rails and a back rim, fastened on the plate) is printed: its parts meet in sharp vertical
internal corners, which an end mill would leave at its radius (a CNC.INTERNAL_CORNER_RADIUS warning)."""
TRAY_FASTENERS = 4
MOTOR_EFFORT_FACTOR = 4.0
"""The reference motor's ``max_effort``: this many times the weight of platform and ball (rounded up to
the next newton), so it lifts them with a wide margin and never stalls at its limit."""
MOTOR_ITEM = "linear_belt_nema17"
"""A belt-driven linear module: the platform's peak speed (``pi * travel / (2 * rise_time_s)``, up to about
330 mm/s) is far beyond a lead-screw actuator's, and its force limit is far above ``max_effort``."""
CHECK_INTERVAL_STEPS = 2
"""Motor control is piecewise constant per check interval. The platform moves at up to ~330 mm/s, so at the
default 20 ms its stiff servo would follow a staircase of ~7 mm steps; 4 ms makes them ~1 mm, for a smooth
lift. (The reference also succeeds at 20 ms; this is for the quality of the motion, at ~10 ms per scene.)"""


class LiftFamily(Family):
    name = "lift"
    payload_materials = tuple(m for m in PAYLOAD_MATERIALS if m is not MaterialId.RUBBER_GENERIC)
    """Not rubber: with rubber's friction of 0.9 the reference does not deliver the ball, which the platform
    rolls against the tower's face (seeds 0, 4 and 5 in rubber: every scene timed out below the shelf; in
    other materials every scene reached it)."""
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 12.0,
        "lift_height_mm": 100.0,
        "platform_angle_deg": 7.0,
        "rise_time_s": 1.5,
        "platform_length_radii": 5.0,
        "shelf_depth_radii": 5.0,
        "fall_gap_mm": 15.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        r = p["radius_mm"]
        angle = p["platform_angle_deg"]
        theta = math.radians(angle)
        sin_t, cos_t = math.sin(theta), math.cos(theta)
        jx, _, jz = SPAWN_JITTER_MM

        # Platform, built along +x with its top surface at z = 0 and its front (tower) end at x = length, then
        # tilted by theta so that it descends toward +x (the tower, whose front face is x = 0).
        length = p["platform_length_radii"] * r + 2 * r + LANDING_SETBACK_MM + 2 * RAIL_MM
        inner = 1.6 * r
        half_w = inner + RAIL_MM
        rail_h = 0.6 * r
        plate_local = box((0.0, -half_w, -PLATE_MM), (length, half_w, 0.0))
        tray_local = compound(
            [
                box((0.0, -half_w, 0.0), (length, -inner, rail_h)),
                box((0.0, inner, 0.0), (length, half_w, rail_h)),
                box((0.0, -inner, 0.0), (RAIL_MM, inner, rail_h)),
            ]
        )
        # The rails' front top corners are the platform's point nearest the tower.
        x_front_top = -TOWER_GAP_MM - rail_h * sin_t
        z_front_top = FLOOR_CLEARANCE_MM + PLATE_MM * cos_t  # the plate's front top edge, placed pose
        origin = (x_front_top - length * cos_t, 0.0, z_front_top + length * sin_t)
        platform = Location(Vector(*origin)) * (Rot(0, angle, 0) * plate_local)
        tray = Location(Vector(*origin)) * (Rot(0, angle, 0) * tray_local)

        def surface_z(x: float) -> float:
            """The platform's top surface (placed pose) at world x."""
            return z_front_top + (x_front_top - x) * sin_t / cos_t

        # Spawn: above a point of the platform one radius and a setback from its front end.
        x_spawn = x_front_top - (r + LANDING_SETBACK_MM) * cos_t
        spawn_z = surface_z(x_spawn) + r / cos_t + p["fall_gap_mm"]

        # Tower and shelf: the ball must be lifted by lift_height_mm (spawn centre to the shelf's front edge).
        # The shelf descends gently to its back wall, so a ball that rebounds off the wall rolls back to it.
        shelf_z = spawn_z + p["lift_height_mm"]
        depth = p["shelf_depth_radii"] * r
        shelf_back_z = shelf_z - depth * math.tan(math.radians(SHELF_SLOPE_DEG))
        tower_half_w = half_w + 10.0
        lip_h = 1.2 * r
        shelf_xz = [(0.0, 0.0), (depth, 0.0), (depth, shelf_back_z), (0.0, shelf_z)]
        side_xz = [
            (0.0, shelf_z),
            (depth, shelf_back_z),
            (depth, shelf_back_z + lip_h),
            (0.0, shelf_z + lip_h),
        ]
        tower = compound(
            [
                prism_xz(shelf_xz, -tower_half_w, tower_half_w),
                box((depth, -tower_half_w, 0.0), (depth + WALL_MM, tower_half_w, shelf_back_z + lip_h)),
                prism_xz(side_xz, -tower_half_w, -tower_half_w + WALL_MM),
                prism_xz(side_xz, tower_half_w - WALL_MM, tower_half_w),
            ]
        )

        # Motion: target(t) = A (1 - cos(pi t / T)) = A + A sin(2 pi f t - 90 deg) with f = 1 / (2 T): at rest
        # at the bottom at t = 0, at the top (2 A) at t = T. At the top the plate's front edge is one radius
        # above the shelf, so the ball rolls over the edge while the platform dwells near the top.
        travel = shelf_z + r - z_front_top
        amplitude = travel / 2
        rise_s = p["rise_time_s"]
        frequency = 1.0 / (2.0 * rise_s)

        # Motor: lift platform and ball with a wide margin.
        plate_volume_mm3 = 2 * half_w * length * PLATE_MM
        tray_volume_mm3 = (2 * RAIL_MM * length + 2 * inner * RAIL_MM) * rail_h
        ball_volume_mm3 = 4.0 / 3.0 * math.pi * r**3
        weight_n = (
            (
                props(PLATFORM_MATERIAL).density_kg_m3 * plate_volume_mm3
                + props(TRAY_MATERIAL).density_kg_m3 * tray_volume_mm3
                + props(material).density_kg_m3 * ball_volume_mm3
            )
            * 1e-9
            * GRAVITY_M_S2
        )
        max_effort = float(math.ceil(MOTOR_EFFORT_FACTOR * weight_n))
        joint = JointSpec(
            type="slide", axis=(0.0, 0.0, 1.0), range=(-LIMIT_MARGIN_MM, round(travel + LIMIT_MARGIN_MM, 3))
        )
        motor = MotorSpec(
            mode="sinusoidal",
            item=MOTOR_ITEM,
            max_effort=max_effort,
            amplitude=round(amplitude, 3),
            offset=round(amplitude, 3),
            frequency_hz=round(frequency, 6),
            phase_deg=-90.0,
        )

        # Zones. The build zone holds the platform over its whole travel (hard stops included) and the spawn.
        x_back = origin[0] - PLATE_MM * sin_t
        platform_top = origin[2] + rail_h * cos_t + travel + LIMIT_MARGIN_MM
        build_zone = zone(
            (min(x_back, x_spawn - r - jx) - 20.0, -half_w - 20.0, 0.0),
            (0.0, half_w + 20.0, max(platform_top, spawn_z + r + jz) + 20.0),
        )
        top = max(shelf_z + lip_h, build_zone.max_mm[2])
        bounds = simulation_bounds(build_zone.min_mm[0], -tower_half_w, depth + WALL_MM, tower_half_w, top)
        duration = round(rise_s + 2.5, 3)
        params = {
            **p,
            "shelf_height_mm": round(shelf_z, 3),
            "spawn_height_mm": round(spawn_z, 3),
            "platform_travel_mm": round(travel, 3),
            "motor_max_effort_n": max_effort,
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball is dropped next to a tower; get it onto the shelf on top, "
                f"{p['lift_height_mm']:.0f} mm above where it starts. Passive parts cannot lift it: use a motor."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("tower", PartRole.FIXTURE, FIXTURE_MATERIAL, None, tower),
            ],
            reference=[
                CadPart(
                    "platform",
                    PartRole.REFERENCE,
                    PLATFORM_MATERIAL,
                    PLATFORM_METHOD,
                    platform,
                    fixed=False,
                    joint=joint,
                    motor=motor,
                ),
                CadPart(
                    "tray",
                    PartRole.REFERENCE,
                    TRAY_MATERIAL,
                    TRAY_METHOD,
                    tray,
                    fixed=False,
                    joint=JointSpec(type="fixed", parent="platform", fasteners=TRAY_FASTENERS),
                ),
            ],
            payload=payload(r, (x_spawn, 0.0, spawn_z), material),
            goal_zone=zone(
                (r, -tower_half_w + WALL_MM, shelf_back_z), (depth, tower_half_w - WALL_MM, shelf_z + 2 * r)
            ),
            forbidden_zones=[],
            build_zone=build_zone,
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=duration).model_copy(
                update={"check_interval_steps": CHECK_INTERVAL_STEPS}
            ),
        )
