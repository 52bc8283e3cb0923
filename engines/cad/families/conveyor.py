"""``conveyor``: a ball resting on a flat floor must be moved several hundred mm along it into a bay.

Fixtures: a floor and a bay (a back wall, the backstop, and two short side walls) whose interior is the goal,
``push_distance_mm`` ahead of the ball along +x on the same flat floor. Level 2 pushes 1.6 times as far. Level
3 moves the bay sideways by ``offset_mm`` (its near side open: the ball comes in across it) and puts an
obstacle block on the straight line from the ball to the bay, so the ball must be pushed straight, then turned.

Why nothing passive can do it. The ball spawns resting on the floor (at most 2 mm above it, the spawn jitter)
and its spawn envelope reaches down to the floor, so no part can be built under it: it sits at the bottom of
its potential and a fixed part does no work on it. It needs a push, and a real one. The scene compiler gives
the ball a rolling resistance ``c = 0.003`` (``engines.physics.mjcf.ROLLING_RESISTANCE``), a resisting torque
``c * r * N``, so a ball rolling without slipping decelerates at ``a = (5/7) c g = 0.021 m/s^2`` and stops
after ``v^2 / (2 a)``: nudged at 20 mm/s it rolls 10 mm, at 50 mm/s 60 mm. To cover ``D`` = 300 mm within
a 3 s scene it must start at ``D / t + a t / 2`` = 0.13 m/s or more, the speed a ball gains rolling down
``7 v^2 / (10 g)`` = 1.2 mm of slope, and it has none: no part fits under it, and the build zone, a ball's
height plus 12 mm, has no room for a ramp it could be lifted onto, had anything passive the means to lift it.

Reference solution: a pusher, a U-shaped scoop (an aluminium back plate behind the ball, and two short printed
arms beside it fastened to the plate: an assembly with a fixed joint) on a slide joint along +x, driven by a sinusoidal position motor that makes one smooth stroke from rest to
rest: ``x(t) = A (1 - cos(pi t / T))``, the travel ``2 A`` in ``T``. The scoop meets the ball gently near
the start, pushes it while it accelerates, and the ball, now rolling at the stroke's peak speed
``v = pi A / T``, runs ahead when the scoop slows down; rolling resistance costs it only ``a t``, so it
enters the bay and stops against the backstop (the contacts are critically damped: it does not bounce back
out), while the scoop comes to rest at the bay's mouth. Level 3 adds a second reference part, a guide rail:
a straight wall at ``rail_angle_deg`` to +x beyond the scoop's stroke, which the launched ball meets and
follows sideways into the offset bay (it keeps some two thirds of its speed through the turn).
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
    payload,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box
from shared.cots import linear_for
from shared.materials import props
from shared.models import JointSpec, ManufacturingMethod, MaterialId, MotorSpec, PartRole

WALL_MM = 8.0
"""Thickness of the bay's walls and of the obstacle."""
SCOOP_MM = 5.0
"""Thickness of the scoop's back plate and arms."""
SCOOP_GAP_MM = 3.0
"""Gap between the scoop and the ball's spawn envelope (jitter included)."""
SCOOP_LIFT_MM = 4.0
"""The scoop floats this far above the floor (the slide carries it): more than the robust proof's 2 mm shift plus
its 1 degree tilt, so a perturbed scoop does not rub the floor and stall."""
RAIL_MM = 6.0
RAIL_CLEARANCE_MM = 12.0
"""Gap between the scoop's arm tips at the end of the stroke and the guide rail (level 3): more than the robust
proof can close by moving both parts 2 mm and turning the long rail 1 degree."""
LIMIT_MARGIN_MM = 2.0
"""The slide's hard stops lie this far beyond the stroke's ends."""
LEVEL2_DISTANCE_FACTOR = 1.6
"""Level 2 pushes this much farther."""
CARRIAGE_MATERIAL = MaterialId.ALUMINUM_6061
"""The scoop's back plate: a milled plate on the linear module's carriage; the printed arms (the U's sides) are
fastened to it with ``ARM_FASTENERS`` screws (a fixed joint)."""
ARM_FASTENERS = 4
# The motor: the belt-driven linear module with the shortest rail that covers the stroke (shared.cots
# linear_for); the scoop's peak speed (up to about 460 mm/s) is far beyond a lead screw's.
PUSHER_EFFORT_N = 5.0
"""The reference motor's force limit. Pushing needs little: accelerating scoop and ball (~0.2 kg) at the
stroke's peak ~1 m/s^2 takes ~0.2 N; 5 N makes a stiff servo (2.5 N/mm, a sag under that load of 0.1 mm)
that follows its target within a few millimetres (the runner holds the control per 20 ms chunk). A
belt-driven linear module gives 50 N."""
MIN_DURATION_S, MAX_DURATION_S, SETTLE_MARGIN_S = 3.0, 6.0, 1.5
PUSHER_MATERIAL = MaterialId.ABS
PUSHER_METHOD = ManufacturingMethod.FDM_PRINTING
"""Printed: the scoop's arms meet its back plate in sharp vertical internal corners, which an end mill would
leave at its radius (a CNC.INTERNAL_CORNER_RADIUS warning); printing keeps them sharp."""
RAIL_MATERIAL = MaterialId.ALUMINUM_6061
RAIL_METHOD = ManufacturingMethod.CNC_MILLING
"""Milled: a plain bar up to ~560 mm long, more than a desktop printer's bed, within a mill's travel."""


class ConveyorFamily(Family):
    name = "conveyor"
    levels = 3
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 12.0,
        "push_distance_mm": 260.0,
        "push_speed_mm_s": 330.0,
        "goal_length_radii": 4.0,
        "goal_clearance_mm": 8.0,
        "offset_mm": 90.0,
        "rail_angle_deg": 30.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        level = self.level(seed)
        r = p["radius_mm"]
        jx, jy, jz = SPAWN_JITTER_MM
        dist = p["push_distance_mm"] * (LEVEL2_DISTANCE_FACTOR if level == 2 else 1.0)
        goal_len = p["goal_length_radii"] * r
        half_w = r + jy + p["goal_clearance_mm"]  # the bay's inner half width

        # Scoop: a back plate behind the spawn envelope and two arms beside it, reaching to the ball's centre.
        x_back = -(r + jx + SCOOP_GAP_MM)  # the back plate's ball-facing face
        inner = r + jy + SCOOP_GAP_MM
        outer = inner + SCOOP_MM
        top = 1.5 * r
        scoop_local = [
            box((x_back - SCOOP_MM, -outer, SCOOP_LIFT_MM), (x_back, outer, top)),
            box((x_back, -outer, SCOOP_LIFT_MM), (0.0, -inner, top)),
            box((x_back, inner, SCOOP_LIFT_MM), (0.0, outer, top)),
        ]
        arm_reach = -x_back  # the arm tips lie this far ahead of the back plate's face

        rail = None
        obstacle = None
        if level < 3:
            gx0, gy = dist, 0.0  # the goal's near edge and centre line
            # The stroke ends with the back plate's face one radius short of the goal's near edge plus 2 mm:
            # the ball it holds is inside the goal, the scoop in the bay's mouth.
            x_back_end = gx0 - r + 2.0
        else:
            alpha = math.radians(p["rail_angle_deg"])
            sin_a, cos_a, tan_a = math.sin(alpha), math.cos(alpha), math.tan(alpha)
            # Rail face: the line y = (x - x0) tan(alpha); the ball (centre on y = 0) first meets it at
            # x = dist, then its centre follows y_c(x) = (x - x0) tan(alpha) + r / cos(alpha).
            x0 = dist + r / sin_a
            gy = p["offset_mm"] + half_w  # the bay's centre line
            x_star = x0 + (gy - r / cos_a) / tan_a  # where the ball's centre reaches the bay's centre line
            gx0 = x_star - goal_len / 2
            y_start = -(outer + 2.0)
            x_start = x0 + y_start / tan_a
            x_end = x_star - (RAIL_MM + 2.0) / sin_a
            rail_len = (x_end - x_start) / cos_a
            rail_local = box((0.0, -RAIL_MM, 0.0), (rail_len, 0.0, 1.4 * r))
            rail = Location(Vector(x_start, y_start, 0.0)) * (Rot(0, 0, math.degrees(alpha)) * rail_local)
            # The scoop's -y arm tip must stop short of the rail's face.
            x_back_end = x0 - outer / tan_a - arm_reach - RAIL_CLEARANCE_MM
            # Obstacle: a block on the straight line from the spawn to the bay's centre, where that line
            # crosses x = dist (where the ball meets the rail), clear of the ball's path.
            y_line = gy * dist / x_star
            oy0 = max(outer, r + (2 * WALL_MM) * tan_a) + 6.0
            oy1 = max(y_line + 2 * r, oy0 + 2 * r)
            obstacle = box((dist - 2 * WALL_MM, oy0, 0.0), (dist, oy1, 2 * r))

        travel = x_back_end - x_back
        amplitude = travel / 2
        speed = p["push_speed_mm_s"]
        stroke_s = math.pi * amplitude / speed
        frequency = 1.0 / (2.0 * stroke_s)
        joint = JointSpec(
            type="slide",
            axis=(1.0, 0.0, 0.0),
            range=(-LIMIT_MARGIN_MM, round(travel + LIMIT_MARGIN_MM, 3)),
        )
        motor = MotorSpec(
            mode="sinusoidal",
            item=linear_for(
                travel + 2 * LIMIT_MARGIN_MM, PUSHER_EFFORT_N, 2 * math.pi * frequency * amplitude
            ),
            max_effort=PUSHER_EFFORT_N,
            amplitude=round(amplitude, 3),
            offset=round(amplitude, 3),
            frequency_hz=round(frequency, 6),
            phase_deg=-90.0,
        )
        scoop = CadPart(
            "scoop",
            PartRole.REFERENCE,
            CARRIAGE_MATERIAL,
            ManufacturingMethod.CNC_MILLING,
            scoop_local[0],
            fixed=False,
            joint=joint,
            motor=motor,
        )
        arms = CadPart(
            "scoop-arms",
            PartRole.REFERENCE,
            PUSHER_MATERIAL,
            PUSHER_METHOD,
            compound(scoop_local[1:]),
            fixed=False,
            joint=JointSpec(type="fixed", parent="scoop", fasteners=ARM_FASTENERS),
        )

        # Bay: a backstop behind the goal and two side walls; the side walls start past the scoop's arm tips
        # (level 1-2), so the scoop ends its stroke in the bay's open mouth.
        gx1 = gx0 + goal_len
        tips_x = x_back_end + arm_reach + LIMIT_MARGIN_MM  # the arm tips at the hard stop
        wall_h = 1.5 * r
        walls = [box((gx1, gy - half_w - WALL_MM, 0.0), (gx1 + WALL_MM, gy + half_w + WALL_MM, wall_h))]
        if level < 3:
            side_x0 = min(tips_x + 3.0, gx1 - 2.0)
            walls += [
                box((side_x0, gy - half_w - WALL_MM, 0.0), (gx1, gy - half_w, wall_h)),
                box((side_x0, gy + half_w, 0.0), (gx1, gy + half_w + WALL_MM, wall_h)),
            ]
        else:  # the rail is the bay's near side; the ball comes in across it
            walls.append(box((gx0, gy + half_w, 0.0), (gx1, gy + half_w + WALL_MM, wall_h)))
        bay = compound(walls)
        fixtures_extra = [CadPart("bay", PartRole.FIXTURE, FIXTURE_MATERIAL, None, bay)]
        if obstacle is not None:
            fixtures_extra.append(CadPart("obstacle", PartRole.FIXTURE, FIXTURE_MATERIAL, None, obstacle))
        reference = [scoop, arms]
        if rail is not None:
            reference.append(CadPart("rail", PartRole.REFERENCE, RAIL_MATERIAL, RAIL_METHOD, rail))

        # Build zone: the scoop over its whole stroke (hard stops included) up to the bay, one ball high.
        zone_top = 2 * r + jz + 1.0 + 10.0
        zx0 = x_back - SCOOP_MM - LIMIT_MARGIN_MM - 10.0
        zx1, zy0, zy1 = tips_x + 1.0, -outer - 10.0, outer + 10.0
        if rail is not None:
            rb = rail.bounding_box()
            zx1, zy0, zy1 = max(zx1, rb.max.X + 1.0), min(zy0, rb.min.Y - 10.0), gy + half_w
        build_zone = zone((zx0, zy0, 0.0), (zx1, zy1, zone_top))
        bounds = simulation_bounds(
            zx0, min(zy0, gy - half_w - WALL_MM), gx1 + WALL_MM, max(zy1, gy + half_w + WALL_MM), zone_top
        )
        duration = round(min(MAX_DURATION_S, max(MIN_DURATION_S, stroke_s + SETTLE_MARGIN_S)), 3)
        params = {
            **p,
            "complexity_level": float(level),
            "goal_distance_mm": round(gx0, 3),
            "stroke_mm": round(travel, 3),
            "stroke_time_s": round(stroke_s, 4),
            "motor_max_effort_n": PUSHER_EFFORT_N,
        }
        where = "straight ahead" if level < 3 else f"{gy:.0f} mm to the side, behind an obstacle,"
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball rests on a flat floor; get it into the bay {where} "
                f"{gx0:.0f} mm away along +x. There is no slope to roll it down: use a motor."
            ),
            fixtures=[floor_part(bounds), *fixtures_extra],
            reference=reference,
            payload=payload(r, (0.0, 0.0, r + jz), material),
            goal_zone=zone((gx0, gy - half_w, 0.0), (gx1, gy + half_w, 2 * r)),
            forbidden_zones=[],
            build_zone=build_zone,
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=duration),
        )
