"""``relay``: a ball dropped above a pit must be carried into a raised channel and turned round a corner.

Fixtures: a floor, a raised channel running along +x whose entrance stands a gap away from the spawn (a
forbidden pit lies on the floor from under the spawn to the channel), and a branch. Part way along the
channel, its +y wall has an opening into the branch, which runs along +y and holds the goal: the goal lies
round a 90 degree corner in plan view, so the ball must be carried over the gap *and* turned, two different
jobs in two different places. With nothing built the ball falls into the pit; delivered into the channel but
not turned, it rolls straight past the opening into a dead end: the channel's end wall (levels 1 and 3),
far enough on that a ball resting against it lies wholly past the opening, or a forbidden drain (level 2).

Levels: 1, two stages (carry, then turn; the branch is a short roofed tunnel sloping down to its end wall,
the goal inside it); 2, the same with tighter geometry (the channel and the opening keep half their slack)
and the drain at the dead end; 3, three stages: the branch is open, and after a sloping runway a gap the ball
cannot jump even at its loss-free speed separates it from the goal platform, a step lower.

Reference solution, one part per stage:

- ``chute``: an inclined plate with two low side rails, from behind the spawn to just above the channel
  floor in front of its entrance; the ball lands on it and rolls into the channel, straight along +x;
- ``deflector``: a triangular block in plan whose long face crosses the channel at 45 degrees, from its -y
  wall to the opening's far edge. The ball hits the face, loses the velocity along its normal (and some to
  the face's friction, which also checks its spin) and leaves along it, heading about 45 degrees (see the
  closed-form test), into the branch, whose far wall turns it the rest of the way. The opening is wide
  enough that its near corner stands a ball's diameter and a margin off the face;
- ``bridge`` (level 3): a plank across the gap, mounted (like every part) a step below the runway's end and a
  step above the platform, so the ball, slow after the turn, only ever steps down, even with the plank a
  little off its place.

Every part is needed: without the chute the ball falls into the pit, without the deflector it passes the
opening, without the bridge it falls into the gap. A single straight part cannot do two of the jobs: the
chute lies over the pit along +x, the deflector inside the channel across it, the bridge in the branch.
"""

from __future__ import annotations

import math
from typing import ClassVar

from build123d import Face, Location, Rot, Shape, Solid, Vector, Wire

from engines.cad.families.base import (
    FIXTURE_MATERIAL,
    GRAVITY_M_S2,
    SPAWN_JITTER_MM,
    CadPart,
    Family,
    FamilyDesign,
    compound,
    floor_part,
    named_zone,
    payload,
    rolling_speed_bound_m_s,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId, NamedBox, PartRole

WALL_MM = 8.0
PLATE_MM = 5.0
RAIL_MM = 4.0
BRIDGE_MM = 8.0
PLATFORM_DROP_MM = 6.0
"""Level 3: the goal platform lies this far below the runway's end."""
BRIDGE_STEP_MM = 2.0
"""Level 3: the bridge lies this far below the runway's end and above the platform."""
CLEARANCE_MM = 2.0
"""Gap between a reference part and the fixture next to it."""
CHUTE_STEP_MM = 4.0
"""The chute's lower end lies this far above the channel floor."""
FENCE_LIFT_MM = 1.0
"""Gap between the deflector's underside and the channel floor."""
CHANNEL_MIN_SLACK_MM = 3.0
"""The channel is at least two radii plus twice (the y jitter plus this) wide."""
OPENING_MARGIN_MM = 6.0
"""Extra opening width beyond the narrowest a ball turned by the deflector passes through."""
FALL_MARGIN_MM = 10.0
"""Gap width rule: at the far edge the ball's centre is at least this far plus one radius below the edge."""
TIGHT_SLACK = 0.5
"""Level 2 keeps this share of the channel's and the opening's slack."""


def prism_yz(points_yz: list[tuple[float, float]], x_min: float, x_max: float) -> Solid:
    """A convex polygon in the YZ plane extruded along +x from ``x_min`` to ``x_max``."""
    wire = Wire.make_polygon([Vector(x_min, y, z) for y, z in points_yz], close=True)
    return Solid.extrude(Face(wire), Vector(x_max - x_min, 0, 0))


def prism_xy(points_xy: list[tuple[float, float]], z_min: float, z_max: float) -> Solid:
    """A convex polygon in the XY plane extruded along +z from ``z_min`` to ``z_max``."""
    wire = Wire.make_polygon([Vector(x, y, z_min) for x, y in points_xy], close=True)
    return Solid.extrude(Face(wire), Vector(0, 0, z_max - z_min))


def _aluminium(label: str, shape: Shape) -> CadPart:
    return CadPart(
        label, PartRole.REFERENCE, MaterialId.ALUMINUM_6061, ManufacturingMethod.CNC_MILLING, shape
    )


class RelayFamily(Family):
    name = "relay"
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 12.0,
        "chute_angle_deg": 18.0,
        "fall_gap_mm": 30.0,
        "pit_gap_mm": 150.0,
        "channel_height_mm": 80.0,
        "run_length_mm": 130.0,
        "channel_slack_radii": 0.8,
        "opening_slack_radii": 1.0,
        "overrun_radii": 1.5,
        "branch_slope_deg": 5.0,
        "branch_length_radii": 5.0,
        "gap_margin": 0.4,
        "platform_length_mm": 100.0,
    }
    levels = 3

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        level = self.level(seed)
        r = p["radius_mm"]
        theta = math.radians(p["chute_angle_deg"])
        sin_t, cos_t, tan_t = math.sin(theta), math.cos(theta), math.tan(theta)
        jx, jy, jz = SPAWN_JITTER_MM
        slack = TIGHT_SLACK if level == 2 else 1.0

        # Channel (along +x, floor top at z_c): inner width w, entrance at x0, an opening from xo0 to xo1 in its
        # +y wall, then a dead end (an end wall, or on level 2 a drain) far enough on that a ball stopping there
        # lies wholly past the opening.
        w = 2 * r + 2 * (jy + CHANNEL_MIN_SLACK_MM) + slack * p["channel_slack_radii"] * r
        half = w / 2
        z_c = p["channel_height_mm"]
        wall_top = z_c + 2 * r + 5.0
        x0 = p["pit_gap_mm"]
        xo0 = x0 + p["run_length_mm"]
        # The ball leaves the deflector's face at the opening's far edge and passes the opening's near edge
        # (its wall's corner) between it and the face: the corner lies at least a diameter off the face.
        w_o = 2 * math.sqrt(2) * r + CLEARANCE_MM + OPENING_MARGIN_MM + slack * p["opening_slack_radii"] * r
        xo1 = xo0 + w_o
        x_end = xo1 + WALL_MM + (2 + p["overrun_radii"]) * r

        # Branch (along +y, x from xo0 to xo1): its floor descends from z_c at the opening by the branch slope.
        beta = math.tan(math.radians(p["branch_slope_deg"]))

        def branch_z(y: float) -> float:
            return z_c - (y - half) * beta

        # Chute: top surface z(x) = cz1 + (cx1 - x) tan(theta) from cx0 behind the spawn to cx1 just before the
        # channel's entrance (the rails' top ends, the chute's point nearest it, clear it by the clearance).
        inner = w - 6.0
        rail_h = 0.6 * r
        cx1 = x0 - CLEARANCE_MM - rail_h * sin_t
        cx0 = -(r + jx + 15.0)
        cz1 = z_c + CHUTE_STEP_MM

        def chute_z(x: float) -> float:
            return cz1 + (cx1 - x) * tan_t

        spawn_z = chute_z(0.0) + r / cos_t + p["fall_gap_mm"]
        length = (cx1 - cx0) / cos_t
        chute_local = compound(
            [
                box((0.0, -inner / 2 - RAIL_MM, -PLATE_MM), (length, inner / 2 + RAIL_MM, 0.0)),
                box((0.0, -inner / 2 - RAIL_MM, 0.0), (length, -inner / 2, rail_h)),
                box((0.0, inner / 2, 0.0), (length, inner / 2 + RAIL_MM, rail_h)),
            ]
        )
        chute = Location(Vector(cx0, 0.0, chute_z(cx0))) * (Rot(0, p["chute_angle_deg"], 0) * chute_local)

        # Deflector: a triangular block in plan whose long face runs at 45 degrees from the -y wall to the
        # opening's far edge, blocking the channel there; clear of the walls and just above the floor.
        fx1 = xo1 - CLEARANCE_MM
        fy0 = -half + CLEARANCE_MM
        triangle = [(fx1 - (half - fy0), fy0), (fx1, fy0), (fx1, half)]
        fz0 = z_c + FENCE_LIFT_MM
        fence = prism_xy(triangle, fz0, fz0 + 1.5 * r + 5.0)

        channel = [
            box((x0, -half, 0.0), (x_end, half, z_c)),
            box((x0, -half - WALL_MM, 0.0), (x_end, -half, wall_top)),
            box((x0, half, 0.0), (xo0, half + WALL_MM, wall_top)),
            box((xo1 + WALL_MM, half, 0.0), (x_end, half + WALL_MM, wall_top)),
        ]
        if level != 2:
            channel.append(box((x_end, -half - WALL_MM, 0.0), (x_end + WALL_MM, half + WALL_MM, wall_top)))

        # Branch fixture: per level a roofed dead end holding the goal, or a runway, a gap and a platform with
        # an end stop; then its two side walls.
        forbidden: list[NamedBox] = []
        extra: dict[str, float] = {}
        if level == 3:
            # Runway (sloping), then the gap, then a flat platform a step lower. The bridge floats in the gap
            # (mounted like every part), a step below the runway's end and a step above the platform, so the
            # ball only ever steps down, even with the bridge a little off its place.
            yg0 = half + (2 + p["branch_length_radii"] / 2) * r
            z_g = branch_z(yg0)
            z_p = z_g - PLATFORM_DROP_MM
            v = rolling_speed_bound_m_s(spawn_z - z_g - r)
            flight_s = math.sqrt(2 * (r + FALL_MARGIN_MM + PLATFORM_DROP_MM) * 1e-3 / GRAVITY_M_S2)
            gap = (r + v * flight_s * 1e3) * (1.0 + p["gap_margin"])
            yg1 = yg0 + gap
            y_end = yg1 + p["platform_length_mm"]
            branch = [
                prism_yz([(half, 0.0), (yg0, 0.0), (yg0, z_g), (half, z_c)], xo0, xo1),
                box((xo0, yg1, 0.0), (xo1, y_end, z_p)),
                box((xo0, y_end, 0.0), (xo1, y_end + WALL_MM, z_p + 2 * r)),
            ]
            by0, by1 = yg0 + CLEARANCE_MM, yg1 - CLEARANCE_MM
            bz0, bz1 = z_g - BRIDGE_STEP_MM, z_p + BRIDGE_STEP_MM
            bridge = prism_yz(
                [(by0, bz0 - BRIDGE_MM), (by1, bz1 - BRIDGE_MM), (by1, bz1), (by0, bz0)],
                xo0 + CLEARANCE_MM,
                xo1 - CLEARANCE_MM,
            )
            goal = zone((xo0, yg1 + r + 5.0, z_p), (xo1, y_end, z_p + 3 * r))
            forbidden.append(named_zone("gap_floor", (xo0, yg0, 0.0), (xo1, yg1, r)))
            extra = {"gap_width_mm": round(gap, 3)}
        else:
            y_end = half + p["branch_length_radii"] * r
            branch = [
                prism_yz([(half, 0.0), (y_end, 0.0), (y_end, branch_z(y_end)), (half, z_c)], xo0, xo1),
                box((xo0, y_end, 0.0), (xo1, y_end + WALL_MM, wall_top)),
                box((xo0 - WALL_MM, half, wall_top), (xo1 + WALL_MM, y_end + WALL_MM, wall_top + WALL_MM)),
            ]
            goal = zone((xo0, half + r + 5.0, branch_z(y_end)), (xo1, y_end, z_c + 2 * r))
        branch += [
            box((xo0 - WALL_MM, half + WALL_MM, 0.0), (xo0, y_end + WALL_MM, wall_top)),
            box((xo1, half, 0.0), (xo1 + WALL_MM, y_end + WALL_MM, wall_top)),
        ]
        if level == 2:
            forbidden.append(
                named_zone(
                    "drain", (x_end, -half - WALL_MM, 0.0), (x_end + r + 20.0, half + WALL_MM, wall_top)
                )
            )

        side = max(half + WALL_MM, inner / 2 + RAIL_MM) + 20.0
        pit_x0 = -(r + jx + 12.0)
        forbidden.insert(0, named_zone("pit", (pit_x0, -side, 0.0), (x0, side, r)))
        top = spawn_z + r + jz + 20.0
        x_max = x_end + (r + 20.0 if level == 2 else WALL_MM)
        y_max = y_end + WALL_MM
        bounds = simulation_bounds(min(cx0, pit_x0), -side, x_max, y_max, top)
        build_zone = zone(
            (cx0 - 20.0, -side, 0.0),
            (x_end, y_end + WALL_MM if level == 3 else half + WALL_MM, top),
        )

        reference = [_aluminium("chute", chute), _aluminium("deflector", fence)]
        if level == 3:
            reference.append(_aluminium("bridge", bridge))
        params = {
            **p,
            "complexity_level": float(level),
            "channel_width_mm": round(w, 3),
            "opening_width_mm": round(w_o, 3),
            "spawn_height_mm": round(spawn_z, 3),
            **extra,
        }
        goal_text = (
            "at the end of a side branch" if level != 3 else "on a platform across a gap in a side branch"
        )
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball is dropped {spawn_z:.0f} mm above a forbidden pit; a raised "
                f"channel starts {x0:.0f} mm away along +x, and the goal lies {goal_text} that leaves the "
                f"channel's +y side through an opening {w_o:.0f} mm wide. Get the ball into the goal."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("channel", PartRole.FIXTURE, FIXTURE_MATERIAL, None, compound(channel)),
                CadPart("branch", PartRole.FIXTURE, FIXTURE_MATERIAL, None, compound(branch)),
            ],
            reference=reference,
            payload=payload(r, (0.0, 0.0, spawn_z), material),
            goal_zone=goal,
            forbidden_zones=forbidden,
            build_zone=build_zone,
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=5.0 if level == 3 else 4.0),
        )
