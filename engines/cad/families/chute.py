"""``chute``: a ball dropped above a forbidden pit must be guided into a bin further along +x.

Fixtures: a floor and an open bin (a base and four walls). The payload spawns high above the pit, a
forbidden zone on the floor directly under it, so with nothing built it falls straight into the pit. The
goal is the bin's interior. Reference solution: an inclined chute (a plate with two low side rails)
passing under the spawn point and ending above the bin, sized so the ball leaving its lower end cannot
overshoot the bin's far wall.
"""

from __future__ import annotations

import math
from typing import ClassVar

from build123d import Location, Rot, Vector

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
from shared.models import ManufacturingMethod, MaterialId, PartRole

BIN_WALL_MM = 5.0
BIN_BASE_MM = 5.0
PLATE_MM = 4.0
RAIL_MM = 4.0
RIM_CLEARANCE_MM = 3.0
"""Gap between the chute's underside at its lower end and the bin rim."""


class ChuteFamily(Family):
    name = "chute"
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 15.0,
        "chute_angle_deg": 22.0,
        "bin_offset_mm": 160.0,
        "rim_height_mm": 60.0,
        "bin_width_radii": 6.0,
        "fall_gap_mm": 40.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        r = p["radius_mm"]
        theta = math.radians(p["chute_angle_deg"])
        tan_t, cos_t, sin_t = math.tan(theta), math.cos(theta), math.sin(theta)
        d = p["bin_offset_mm"]  # spawn axis (x = 0) to the bin's near inner wall face
        rim = p["rim_height_mm"]
        bin_w = p["bin_width_radii"] * r
        jx, jy, jz = SPAWN_JITTER_MM

        # Chute: top surface z(x) = z_end + (x_end - x) tan(theta), from x_start (behind the spawn) to x_end
        # (over the bin, clear of the near wall).
        x_start = -(r + 20.0)
        x_end = d + r + 10.0
        z_end = rim + RIM_CLEARANCE_MM + PLATE_MM / cos_t

        def surface_z(x: float) -> float:
            return z_end + (x_end - x) * tan_t

        spawn_z = surface_z(0.0) + r / cos_t + p["fall_gap_mm"]

        # Bin length: the ball leaves the chute at most at the loss-free speed and must be below the rim
        # before it reaches the far wall.
        release_z = z_end + r / cos_t
        v = rolling_speed_bound_m_s(spawn_z - release_z)
        vx, vz = v * cos_t, v * sin_t
        drop_m = (release_z - (rim - r)) * 1e-3
        t = (-vz + math.sqrt(vz * vz + 2 * GRAVITY_M_S2 * drop_m)) / GRAVITY_M_S2
        bin_len = (x_end - d) + r * sin_t + vx * t * 1e3 + r + 10.0

        # Bin: base plus four walls, touching but not overlapping.
        bx0, bx1 = d - BIN_WALL_MM, d + bin_len + BIN_WALL_MM
        by = bin_w / 2
        bin_shape = compound(
            [
                box((bx0, -by - BIN_WALL_MM, 0.0), (bx1, by + BIN_WALL_MM, BIN_BASE_MM)),
                box((bx0, -by - BIN_WALL_MM, BIN_BASE_MM), (bx1, -by, rim)),
                box((bx0, by, BIN_BASE_MM), (bx1, by + BIN_WALL_MM, rim)),
                box((bx0, -by, BIN_BASE_MM), (d, by, rim)),
                box((d + bin_len, -by, BIN_BASE_MM), (bx1, by, rim)),
            ]
        )

        # Reference chute, built along +x with its top surface at z = 0, then tilted down by theta.
        inner = 1.6 * r
        rail_h = 0.7 * r
        length = (x_end - x_start) / cos_t
        chute_local = compound(
            [
                box((0.0, -inner - RAIL_MM, -PLATE_MM), (length, inner + RAIL_MM, 0.0)),
                box((0.0, -inner - RAIL_MM, 0.0), (length, -inner, rail_h)),
                box((0.0, inner, 0.0), (length, inner + RAIL_MM, rail_h)),
            ]
        )
        chute = Location(Vector(x_start, 0.0, surface_z(x_start))) * (
            Rot(0, p["chute_angle_deg"], 0) * chute_local
        )

        pit = r + max(jx, jy) + 12.0
        side = max(by + BIN_WALL_MM, pit)
        bounds = simulation_bounds(x_start, -side, bx1, side, spawn_z)
        params = {
            **p,
            "bin_inner_length_mm": round(bin_len, 3),
            "spawn_height_mm": round(spawn_z, 3),
            "chute_length_mm": round(length, 3),
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball is dropped {spawn_z:.0f} mm above a forbidden pit; get it into "
                f"the bin whose near wall stands {d:.0f} mm away along +x."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("bin", PartRole.FIXTURE, FIXTURE_MATERIAL, None, bin_shape),
            ],
            reference=[
                CadPart(
                    "chute",
                    PartRole.REFERENCE,
                    MaterialId.ALUMINUM_6061,
                    ManufacturingMethod.CNC_MILLING,
                    chute,
                )
            ],
            payload=payload(r, (0.0, 0.0, spawn_z), material),
            goal_zone=zone((d, -by, BIN_BASE_MM), (d + bin_len, by, rim)),
            forbidden_zones=[named_zone("pit", (-pit, -pit, 0.0), (pit, pit, r))],
            build_zone=zone(
                (x_start - 20.0, -side - 20.0, 0.0),
                (bx1, side + 20.0, spawn_z + r + jz + 20.0),
            ),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=3.0),
        )
