"""``gate``: a ball rolls down a raised deck past a motorised sweeper arm that knocks it off the deck.

Fixtures: a floor (the forbidden pit: the ball must not touch it), a narrow deck sloping gently down along +x,
with a low kerb on its -y side, an open +y edge and an end wall, and a sweeper: an arm on a hinge whose axis
is normal to the deck, off the deck's -y side, driven by a constant-velocity motor (a moving fixture: the
benchmark drives it in every mode, and a design cannot change it). The arm sweeps over the deck clockwise
seen from above, its underside 1.3 radii above the deck (above the ball's centre, below its top, over the
kerb), and reaches two radii past the open edge. The payload drops onto the deck just ahead of the arm, so
with nothing built the arm catches the ball at once and wipes it off the open edge into the pit; with the arm
held still the ball rolls down the deck into the goal, its far end, beyond the arm's reach. HDPE ball and arm
(MuJoCo mixes friction by the maximum, so both must be slippery): with steel's 0.6 the arm's downward push
jammed the ball against a guard and stalled the motor, where a real sweeper's ball would skid along.

Reference solution: a guard rail along the open edge, from behind the spawn to the end wall, as low as the
kerb (0.8 radius), half a radius under the arm's sweep. The arm passes over the rail but the ball cannot:
the arm's lower edge touches the ball above its centre, so its push presses the ball down onto the deck and
never lifts it over the rail, and the ball is driven along the rail like snow along a plough's wall until it
slips past the arm's tip and rolls, between rail and kerb, down to the goal. A later sweep only drives it
along the rail again. Half a radius (at least 4 mm) keeps the rail clear of the arm under the robustness
proof's ±2 mm / ±1 degree.

Levels: 1 one sweeper at the sampled speed (90-210 deg/s); 2 the sweeper 1.4 times faster (126-294 deg/s),
so the ball is flung harder along the rail; 3 the faster sweeper and a second one further along the deck,
which the ball must also pass (a longer rail).
"""

from __future__ import annotations

import math
from typing import ClassVar

from build123d import Location, Rot, Shape, Vector

from engines.cad.families.base import (
    FIXTURE_MATERIAL,
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
from engines.cad.primitives import Point3, box
from shared.models import (
    JointSpec,
    JointType,
    ManufacturingMethod,
    MaterialId,
    MotorMode,
    MotorSpec,
    PartRole,
)

DECK_MM = 12.0
"""Thickness of the deck slab."""
WALL_MM = 8.0
ARM_THICK_MM = 8.0
ARM_WIDTH_MM = 12.0
HUB_MM = 12.0
"""The arm reaches this far behind its axis (a hub around the shaft)."""
SHAFT_MM = 40.0
"""A stub of the motor shaft above the arm (so the pictures show what drives it)."""
RAIL_MM = 6.0
"""Thickness of the reference guard rail."""
RAIL_HEIGHT_RADII = 0.8
"""The rail's top, above the deck, in ball radii: it stops the ball a little below its equator."""
ARM_UNDERSIDE_RADII = 1.3
"""The arm's underside, above the deck, in ball radii: above the ball's centre (its push presses the ball
down) and half a radius above the rail's top (the ±2 mm / ±1 degree of the robustness proof keep clear)."""
DECK_HEIGHT_MM = 70.0
"""Height of the deck's top above the floor at the first sweeper's axis."""
SWEEPER_EFFORT_NM = 1.0
"""The sweeper motors' torque limit: many times what pushing the ball needs, so they keep their speed."""
START_BEHIND_DEG = 35.0
"""The arm starts this far behind the ball's spawn (seen from its axis), so it sweeps toward the ball."""
LEVEL_SPEED = {1: 1.0, 2: 1.4, 3: 1.4}
"""Sweeper speed per level, times the sampled ``sweep_speed_deg_s``."""
RAIL_MATERIAL = MaterialId.HDPE
RAIL_METHOD = ManufacturingMethod.CNC_MILLING
SWEEPER_MATERIAL = MaterialId.HDPE
BALL_MATERIAL = MaterialId.HDPE


class GateFamily(Family):
    name = "gate"
    levels = 3
    payload_materials = (BALL_MATERIAL,)
    """Only HDPE: the task needs a slippery ball (see the module's docstring), and HDPE is the table's only
    material with friction below 0.45."""
    scale_range = (0.8, 1.0)
    """No larger than nominal: level 3's guard rail, up to 690 mm long at scale 1, must still fit the milling
    machine's 762 mm travel (CNC.STOCK_SIZE)."""
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 14.0,
        "deck_slope_deg": 2.0,
        "sweep_speed_deg_s": 150.0,
        "pivot_offset_mm": 75.0,
        "edge_radii": 0.9,
        "run_out_radii": 6.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        level = self.level(seed)
        r = p["radius_mm"]
        slope = p["deck_slope_deg"]
        a = p["pivot_offset_mm"]
        # The deck's clear half-width from the ball's line y = 0: one radius plus a narrow margin, so a ball the
        # arm pushes even a little outward goes over the open edge.
        edge = (1.0 + p["edge_radii"]) * r
        speed = p["sweep_speed_deg_s"] * LEVEL_SPEED[level]
        clearance = ARM_UNDERSIDE_RADII * r
        reach = a + edge + RAIL_MM + 2.0 * r  # the arm's length from its axis: well past the open edge
        fall_gap = 0.4 * r

        # Everything below is in the deck's frame: x along the deck, z normal to it, the deck's top at z = 0,
        # the first sweeper's axis at x = y = 0 (the axis itself at y = -a); tilted by `slope` to the world.
        tilt = Location(Vector(0.0, 0.0, DECK_HEIGHT_MM)) * Rot(0, slope, 0)
        sin_s, cos_s = math.sin(math.radians(slope)), math.cos(math.radians(slope))

        def world(q: Point3) -> Point3:
            x, y, z = q
            return (x * cos_s + z * sin_s, y, DECK_HEIGHT_MM - x * sin_s + z * cos_s)

        def placed(shape: Shape) -> Shape:
            return tilt * shape

        x_spawn = -0.5 * a
        pivots = [0.0] if level < 3 else [0.0, 2.0 * reach + 2.0 * r]
        x_start = x_spawn - 3.0 * r - 20.0
        x_goal = pivots[-1] + reach + 2.0 * r
        x_end = x_goal + p["run_out_radii"] * r
        # The deck: its clear width is ±edge; a kerb as low as the rail below the arm's sweep on the -y side,
        # and at +y a strip as wide as the rail, open.
        y0, y1, kerb = -edge - RAIL_MM, edge + RAIL_MM, RAIL_HEIGHT_RADII * r
        deck = compound(
            [
                box((x_start, y0, -DECK_MM), (x_end + WALL_MM, y1, 0.0)),
                box((x_start, y0, 0.0), (x_end, -edge, kerb)),
                box((x_end, y0, 0.0), (x_end + WALL_MM, y1, 2.5 * r)),
            ]
        )

        # Sweepers: the arm built pointing along +y from its axis, turned to start START_BEHIND_DEG behind the
        # spawn (angles psi measured from +y toward +x), turning clockwise seen from above (psi increasing).
        spawn_psi = math.degrees(math.atan2(x_spawn, a))
        sweepers: list[CadPart] = []
        for k, x_pivot in enumerate(pivots):
            psi0 = spawn_psi - START_BEHIND_DEG if k == 0 else -90.0
            z0 = clearance
            arm_local = compound(
                [
                    box((-ARM_WIDTH_MM / 2, -HUB_MM, z0), (ARM_WIDTH_MM / 2, reach, z0 + ARM_THICK_MM)),
                    box(
                        (-ARM_WIDTH_MM / 4, -ARM_WIDTH_MM / 4, z0 + ARM_THICK_MM),
                        (ARM_WIDTH_MM / 4, ARM_WIDTH_MM / 4, z0 + ARM_THICK_MM + SHAFT_MM),
                    ),
                ]
            )
            arm = Location(Vector(x_pivot, -a, 0.0)) * (Rot(0, 0, -psi0) * arm_local)
            axis = world((0.0, 0.0, 1.0))
            axis = (axis[0], axis[1], axis[2] - DECK_HEIGHT_MM)
            sweepers.append(
                CadPart(
                    f"sweeper-{k + 1}" if level == 3 else "sweeper",
                    PartRole.FIXTURE,
                    SWEEPER_MATERIAL,
                    None,
                    placed(arm),
                    fixed=False,
                    joint=JointSpec(
                        type=JointType.HINGE,
                        axis=tuple(round(c, 9) for c in axis),  # type: ignore[arg-type]
                        anchor_mm=tuple(round(c, 6) for c in world((x_pivot, -a, z0))),  # type: ignore[arg-type]
                    ),
                    motor=MotorSpec(
                        mode=MotorMode.CONSTANT_VELOCITY,
                        max_effort=SWEEPER_EFFORT_NM,
                        velocity=-round(speed, 3),
                    ),
                )
            )

        # Reference: the guard rail along the open edge, from behind the spawn to the end wall.
        rail = box(
            (x_spawn - 1.5 * r, edge, 0.0),
            (x_end, edge + RAIL_MM, RAIL_HEIGHT_RADII * r),
        )

        lo_x, hi_x = world((x_start, 0, 0))[0], world((x_end + WALL_MM, 0, 0))[0]
        side = a + 2 * HUB_MM
        top = world((x_start, 0.0, clearance + ARM_THICK_MM + SHAFT_MM))[2]
        bounds = simulation_bounds(lo_x - reach, -side - reach, hi_x + reach, side + reach, top)
        (bx0, by0, _), (bx1, by1, _) = bounds.min_mm, bounds.max_mm

        def deck_box(
            x0: float, x1: float, y0: float, y1: float, z0: float, z1: float
        ) -> tuple[Point3, Point3]:
            """The world bounding box of a box of the deck's frame."""
            corners = [world((x, y, z)) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
            lo = (min(c[0] for c in corners), min(c[1] for c in corners), min(c[2] for c in corners))
            return lo, (max(c[0] for c in corners), max(c[1] for c in corners), max(c[2] for c in corners))

        goal_lo, goal_hi = deck_box(x_goal, x_end, -edge, edge, 0.0, 2.0 * r)
        build_lo, build_hi = deck_box(x_start, x_end, y0 - 10.0, y1 + 10.0, 0.0, clearance + 3.0 * r)
        build_lo = (build_lo[0], build_lo[1], world((x_end, 0.0, 0.0))[2])
        spawn = world((x_spawn, 0.0, r + fall_gap))
        duration = 4.0 if level < 3 else 5.0
        params = {
            **p,
            "complexity_level": float(level),
            "sweep_speed_deg_s_level": round(speed, 3),
            "arm_clearance_mm": round(clearance, 3),
            "arm_reach_mm": round(reach, 3),
            "sweepers": float(len(pivots)),
            "rail_height_mm": round(RAIL_HEIGHT_RADII * r, 3),
        }
        many = "two motorised sweeper arms" if level == 3 else "a motorised sweeper arm"
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm HDPE ball rolls down a raised deck past {many} that sweep over it and knock "
                "it off into the pit; get it to the far end of the deck. The sweepers cannot be changed or blocked."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("deck", PartRole.FIXTURE, FIXTURE_MATERIAL, None, placed(deck)),
                *sweepers,
            ],
            reference=[
                CadPart("guard-rail", PartRole.REFERENCE, RAIL_MATERIAL, RAIL_METHOD, placed(rail)),
            ],
            payload=payload(r, spawn, self.payload_material(seed)),
            goal_zone=zone(goal_lo, goal_hi),
            forbidden_zones=[named_zone("pit", (bx0 + 1.0, by0 + 1.0, 0.0), (bx1 - 1.0, by1 - 1.0, r))],
            build_zone=zone(build_lo, build_hi),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=duration),
        )
