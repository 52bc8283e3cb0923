"""``slide``: slide, don't roll. A block resting on a shelf must slide down into a goal zone along +x.

The payload is a box (it cannot roll): on an incline it stays put while ``tan(theta) < mu`` and slides, at
``g (sin theta - mu cos theta)``, once the incline is steeper than the friction angle ``atan(mu)``, where
``mu`` is the larger friction coefficient of the pair (block and ramp, see ``engines.physics.mjcf``). The
block is dropped a short way onto a flat aluminium shelf, so with nothing built it lands there and stays.

Fixtures: a floor and the shelf (a pedestal just wider than the block). Levels:

1. an HDPE block; the goal zone lies on the floor along +x;
2. a hardwood, ABS or PLA block (a grippier pair: ``mu`` 0.45-0.5 against an HDPE ramp, instead of 0.22, so
   a steeper ramp), a taller shelf so the goal is farther away, and a forbidden strip of floor between shelf and goal;
3. as 2, but the goal is on top of a table and all the floor between the shelf and the table is forbidden.

Reference solution: one HDPE ramp (a plate of constant vertical thickness) passing under the spawn point,
clear of the shelf, inclined at ``atan(mu) + margin_deg`` and running straight down to the goal (the floor,
or the table's top edge). Its upper end is just under the block, so the block lands on it flat, and the
margin keeps it sliding all the way despite the landing and a ±1 degree perturbation. A ramp of an
aluminium or any grippier material, or one shallower than the friction angle, holds the block still.
"""

from __future__ import annotations

import math
from typing import ClassVar

from build123d import Solid

from engines.cad.families.base import (
    FIXTURE_MATERIAL,
    SPAWN_JITTER_MM,
    CadPart,
    Family,
    FamilyDesign,
    box_payload,
    floor_part,
    named_zone,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box, prism_xz
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId, PartRole

PLATE_MM = 5.0
"""The ramp's vertical thickness."""
SHELF_MARGIN_MM = 8.0
"""The shelf reaches this far beyond the block's jittered footprint."""
SHELF_CLEARANCE_MM = 1.0
"""Gap between the ramp's underside and the shelf's top edge."""
LANDING_CLEARANCE_MM = 3.0
"""Gap between the ramp (its highest point under the block) and the block's lowest spawn position."""
TABLE_CLEARANCE_MM = 1.0
"""Level 3: gap between the ramp's lower end (underside) and the table top."""
RAMP_MATERIAL = MaterialId.HDPE
RAMP_METHOD = ManufacturingMethod.CNC_MILLING
BLOCK_MATERIALS = {
    1: (MaterialId.HDPE,),
    2: (MaterialId.HARDWOOD, MaterialId.ABS, MaterialId.PLA),
    3: (MaterialId.HARDWOOD, MaterialId.ABS, MaterialId.PLA),
}
"""The block materials a seed of each level draws from: level 1 the slipperiest (0.22), levels 2 and 3 the
grippier ones with friction 0.45-0.5 (a steeper ramp)."""
SHELF_SCALE = {1: 1.0, 2: 1.5, 3: 1.5}
"""Shelf height over its sampled value per level: a grippier pair needs a steeper ramp, so a taller shelf
keeps the goal farther away."""
DURATION_S = 4.0


def pair_friction(block: MaterialId, ramp: MaterialId = RAMP_MATERIAL) -> float:
    """The friction coefficient MuJoCo uses for the pair: the larger of the two."""
    return max(props(block).friction, props(ramp).friction)


def ramp_solid(x_start: float, x_end: float, z0: float, tan_t: float, half_width: float) -> Solid:
    """A plate whose top surface is ``z = z0 - x tan_t`` from ``x_start`` to ``x_end``, ``PLATE_MM`` thick
    (vertically), spanning ``±half_width`` in y."""
    top = [(x, z0 - x * tan_t) for x in (x_start, x_end)]
    pts = [top[0], (x_start, top[0][1] - PLATE_MM), (x_end, top[1][1] - PLATE_MM), top[1]]
    return prism_xz(pts, -half_width, half_width)


class SlideFamily(Family):
    name = "slide"
    nominal: ClassVar[dict[str, float]] = {
        "half_x_mm": 20.0,
        "half_y_mm": 15.0,
        "half_z_mm": 10.0,
        "shelf_height_mm": 120.0,
        "margin_deg": 9.0,
        "goal_length_mm": 90.0,
        "table_share": 0.4,
    }
    levels = 3
    payload_materials = tuple(dict.fromkeys(m for ms in BLOCK_MATERIALS.values() for m in ms))

    def materials_for(self, seed: int) -> tuple[MaterialId, ...]:
        """The seed's level's :data:`BLOCK_MATERIALS`."""
        return BLOCK_MATERIALS[self.level(seed)]

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        level = self.level(seed)
        hx, hy, hz = p["half_x_mm"], p["half_y_mm"], p["half_z_mm"]
        jx, jy, jz = SPAWN_JITTER_MM
        block = self.payload_material(seed)
        mu = pair_friction(block)
        theta = math.atan(mu) + math.radians(p["margin_deg"])
        tan_t = math.tan(theta)
        shelf_h = p["shelf_height_mm"] * SHELF_SCALE[level]

        # Shelf under the spawn point; the ramp's surface z(x) = z0 - x tan(theta) clears its far top edge.
        sx, sy = hx + jx + SHELF_MARGIN_MM, hy + jy + SHELF_MARGIN_MM
        z0 = shelf_h + SHELF_CLEARANCE_MM + PLATE_MM + sx * tan_t
        bottom = z0 + (hx + jx) * tan_t + jz + LANDING_CLEARANCE_MM  # the block's lowest point at spawn
        spawn_z = bottom + hz
        x_start = -(hx + jx + 10.0)

        # Where the ramp ends: its underside on the floor (levels 1, 2) or just above the table (level 3).
        table_h = p["table_share"] * shelf_h if level == 3 else 0.0
        end_z = table_h + TABLE_CLEARANCE_MM if level == 3 else 0.0
        x_end = (z0 - PLATE_MM - end_z) / tan_t
        xg = x_end - hx
        goal_len = p["goal_length_mm"]
        gy = hy + 15.0
        goal_top = table_h + PLATE_MM + hx * tan_t + 3.0 * hz
        goal = zone((xg, -gy, table_h), (xg + goal_len, gy, goal_top))

        side = max(sy, gy) + 40.0
        fixtures = [
            CadPart(
                "shelf", PartRole.FIXTURE, FIXTURE_MATERIAL, None, box((-sx, -sy, 0.0), (sx, sy, shelf_h))
            )
        ]
        forbidden = []
        if level == 2:
            pit_end = xg - 2.0 * hx - hz - 10.0  # clear of the block's (tilted) box as it nears the goal
            forbidden.append(named_zone("floor", (sx + 5.0, -side, 0.0), (pit_end, side, hz)))
        elif level == 3:
            table = box((x_end, -side, 0.0), (xg + goal_len + 20.0, side, table_h))
            fixtures.append(CadPart("table", PartRole.FIXTURE, FIXTURE_MATERIAL, None, table))
            forbidden.append(named_zone("floor", (sx + 5.0, -side, 0.0), (x_end - 5.0, side, hz)))

        x_far = xg + goal_len + 20.0
        bounds = simulation_bounds(x_start, -side, x_far, side, spawn_z)
        ramp = ramp_solid(x_start, x_end, z0, tan_t, hy + 10.0)
        params = {
            **p,
            "complexity_level": float(level),
            "pair_friction": mu,
            "friction_angle_deg": round(math.degrees(math.atan(mu)), 3),
            "ramp_angle_deg": round(math.degrees(theta), 3),
            "ramp_top_at_spawn_mm": round(z0, 3),
            "ramp_start_x_mm": round(x_start, 3),
            "ramp_end_x_mm": round(x_end, 3),
            "shelf_top_mm": round(shelf_h, 3),
            "spawn_height_mm": round(spawn_z, 3),
            "goal_distance_mm": round(xg, 3),
        }
        where = f"on a table {table_h:.0f} mm high" if level == 3 else "on the floor"
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * hx:.0f} x {2 * hy:.0f} x {2 * hz:.0f} mm {props(block).name} block is dropped onto a shelf "
                f"{shelf_h:.0f} mm high; get it into the goal zone {where}, {xg:.0f} mm away along +x. "
                "It slides but cannot roll."
            ),
            fixtures=[floor_part(bounds), *fixtures],
            reference=[CadPart("ramp", PartRole.REFERENCE, RAMP_MATERIAL, RAMP_METHOD, ramp)],
            payload=box_payload((hx, hy, hz), (0.0, 0.0, spawn_z), block),
            goal_zone=goal,
            forbidden_zones=forbidden,
            build_zone=zone((x_start - 10.0, -side, 0.0), (x_far, side, spawn_z + hz + jz + 20.0)),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=DURATION_S),
        )
