"""``brake``: a fast ball flies off the foot of a long ramp over a short tray; it must be stopped in the tray.

Fixtures: a floor, a long ramp whose lower end is a launch lip high above the floor, and a short open tray (a
base and two side walls; its back wall is missing). The payload spawns near the top of the ramp, rolls down
and leaves the lip at ``v = sqrt(10/7 g h (1 - c cot theta))`` (``c`` the rolling resistance), so with
nothing built it flies over the whole tray and lands in the pit beyond it (a forbidden zone on the floor).
The goal is the tray's interior below its rim, which a ball only enters once it has lost its speed along the
travel: the flight passes well above it. Levels: 1, a moderate ramp and the tray at the ramp's foot (the
ramp's support face is its front wall); 2, a ramp 1.9 times as high (a faster ball, a longer flight);
3, a ramp 1.3 times as high, a tray a quarter shorter standing a gap away from the ramp, the gap's floor
forbidden, so a ball bounced back out of the tray fails too.

Reference solution: a backstop, the tray's missing back wall built tall: a printed plate standing on the
tray's base at its far end, between the side walls, up to above the band the ball's centre crosses there,
from the slowest ball the family allows for (``SPEED_FLOOR`` of the rolling speed) to the fastest (the highest
jittered spawn), plus a margin. MuJoCo's contacts here are critically damped (nearly plastic: a steel ball
dropped 300 mm rebounds about 10 mm), so the plate takes away the ball's speed along the travel; the ball
falls into the tray in front of it and stays there. The lip height is derived from the tray (the slowest
ball passes over the rim with a margin and ``flight_clearance_mm`` to spare), so every seed is feasible.

The build zone reaches from the spawn to past the landing point and is a third as wide as it is long, so
random parts of any yaw fit; the ball's path is a narrow line along its middle, and a part that stops the
ball anywhere but over the short tray drops it on the ramp, into the pit or (level 3) into the gap.
"""

from __future__ import annotations

import math
from typing import ClassVar

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
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box, prism_xz
from engines.physics.mjcf import ROLLING_RESISTANCE
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId, PartRole

TRAY_BASE_MM = 5.0
TRAY_WALL_MM = 6.0
PLATE_MM = 6.0
"""Backstop thickness."""
SIDE_CLEARANCE_MM = 0.5
"""Gap between the backstop and each of the tray's side walls."""
FLIGHT_FLOOR_MM = 5.0
"""The slowest ball's lowest point over the tray stays this far (plus the margin and the clearance) above the rim."""
BACKSTOP_MATERIAL = MaterialId.ABS
BACKSTOP_METHOD = ManufacturingMethod.FDM_PRINTING
COVER_MARGIN_MM = 8.0
"""The backstop reaches this far above the fastest (highest jittered spawn) flight at its face; the slowest
flight passes this far (plus ``FLIGHT_FLOOR_MM`` and the clearance) above the rim."""
SPEED_FLOOR = 0.9
"""The slowest lip speed the lip height and the backstop are sized for, as a share of the rolling speed
(:func:`lip_speed_m_s`; measured lip speeds lie within 0.2 % of it)."""
BUILD_ZONE_ASPECT = 0.35
"""The build zone's width as a share of its length."""
LEVEL_DROP_FACTOR = {1: 1.0, 2: 1.9, 3: 1.3}
LEVEL_TRAY_FACTOR = {1: 1.0, 2: 1.0, 3: 0.75}
LEVEL3_GAP_RADII = 3.0


def lip_speed_m_s(drop_mm: float, theta: float) -> float:
    """Speed of a ball rolling without slipping after its centre dropped ``drop_mm`` along a slope of angle
    ``theta``: ``v^2 = 2 (5/7) g (sin - c cos) s``, ``s = drop / sin``; ``c`` the rolling resistance."""
    s_m = drop_mm * 1e-3 / math.sin(theta)
    accel = 5.0 / 7.0 * GRAVITY_M_S2 * (math.sin(theta) - ROLLING_RESISTANCE * math.cos(theta))
    return math.sqrt(2.0 * accel * s_m)


class BrakeFamily(Family):
    name = "brake"
    levels = 3
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 12.0,
        "ramp_drop_mm": 110.0,
        "ramp_angle_deg": 18.0,
        "flight_clearance_mm": 40.0,
        "tray_length_radii": 7.0,
        "tray_width_radii": 5.0,
        "rim_height_radii": 2.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        level = self.level(seed)
        r = p["radius_mm"]
        theta = math.radians(p["ramp_angle_deg"])
        sin_t, cos_t, tan_t = math.sin(theta), math.cos(theta), math.tan(theta)
        drop = p["ramp_drop_mm"] * LEVEL_DROP_FACTOR[level]
        half_w = p["tray_width_radii"] * r / 2
        side = half_w + TRAY_WALL_MM
        tray_len = p["tray_length_radii"] * r * LEVEL_TRAY_FACTOR[level]
        rim = TRAY_BASE_MM + p["rim_height_radii"] * r
        jx, _, jz = SPAWN_JITTER_MM
        g = GRAVITY_M_S2 * 1e3  # mm/s^2

        # Lip speeds (mm/s): the fastest from the highest jittered spawn, the slowest a share of the nominal.
        clearance = jx * tan_t + jz + 1.5  # spawn height above the slope, clear of it under any jitter
        v_top = lip_speed_m_s(drop + clearance + jz, theta) * 1e3
        v_low = SPEED_FLOOR * lip_speed_m_s(drop, theta) * 1e3

        def fall(x: float, v: float) -> float:
            """How far the centre, leaving the lip at (r sin, lip + r cos) along the slope, is below its release
            height when it reaches x."""
            t = (x - r * sin_t) / (v * cos_t)
            return v * sin_t * t + 0.5 * g * t * t

        # Tray: inner front face x0, open far end x1. At level 3 it stands a gap away from the ramp.
        gap = LEVEL3_GAP_RADII * r if level == 3 else 0.0
        x0 = gap + TRAY_WALL_MM if level == 3 else 0.0
        x1 = x0 + tray_len
        x_hit = x1 - PLATE_MM - r  # the ball's centre where it meets the backstop

        # Lip height: the slowest ball still crosses the backstop's lowest point with the flight clearance.
        lowest = rim + FLIGHT_FLOOR_MM + COVER_MARGIN_MM + r
        lip_h = lowest + fall(x_hit, v_low) - r * cos_t + p["flight_clearance_mm"]

        def centre_z(x: float, v: float) -> float:
            return lip_h + r * cos_t - fall(x, v)

        # Ramp: top surface from (x_top, lip_h + rise) down to the lip (0, lip_h); its support face x = 0 is the
        # tray's front wall at levels 1 and 2. The ball's centre drops `drop` from spawn to the lip.
        along = drop / sin_t + 2 * r + 10.0
        x_top = -along * cos_t
        ramp = prism_xz([(x_top, 0.0), (0.0, 0.0), (0.0, lip_h), (x_top, lip_h + along * sin_t)], -side, side)
        contact_s = drop / sin_t
        cx, cz = -contact_s * cos_t, lip_h + contact_s * sin_t
        spawn = (cx + (r + clearance) * sin_t, 0.0, cz + (r + clearance) * cos_t)

        walls = [
            box((x0 - (TRAY_WALL_MM if level == 3 else 0.0), -side, 0.0), (x1, side, TRAY_BASE_MM)),
            box((x0, -side, TRAY_BASE_MM), (x1, -half_w, rim)),
            box((x0, half_w, TRAY_BASE_MM), (x1, side, rim)),
        ]
        if level == 3:
            walls.append(box((x0 - TRAY_WALL_MM, -side, TRAY_BASE_MM), (x0, side, rim)))
        tray = compound(walls)

        # Backstop: the tray's missing back wall, a plate on the base's far end between the side walls, up to
        # above the band the ball's centre crosses there (slowest to fastest ball).
        zt = centre_z(x_hit, v_top) + r + COVER_MARGIN_MM
        backstop = box(
            (x1 - PLATE_MM, -half_w + SIDE_CLEARANCE_MM, TRAY_BASE_MM), (x1, half_w - SIDE_CLEARANCE_MM, zt)
        )

        # Where the fastest ball lands with nothing built: the pit reaches beyond it.
        z_rel = lip_h + r * cos_t - r
        t_land = (v_top * sin_t + math.sqrt((v_top * sin_t) ** 2 + 2 * g * z_rel)) / g
        x_land = r * sin_t + v_top * cos_t * t_land
        x_pit_end = x_land + 4 * r + 60.0

        top = spawn[2] + r + jz + 20.0
        # Build zone: from the spawn to past the landing point, BUILD_ZONE_ASPECT as wide as it is long, so that
        # parts of any yaw fit in it (the ball's path is a narrow line down its middle).
        bx0, bx1 = spawn[0] - r - jx - 20.0, x_land + 2 * r
        half_zone = max(side + 20.0, BUILD_ZONE_ASPECT * (bx1 - bx0) / 2)
        bounds = simulation_bounds(x_top, -half_zone, x_pit_end, half_zone, top)
        forbidden = [named_zone("pit", (x1 + r, -half_zone, 0.0), (x_pit_end, half_zone, r))]
        if level == 3:
            forbidden.append(named_zone("gap", (0.0, -side, 0.0), (x0 - TRAY_WALL_MM, side, r)))
        params = {
            **p,
            "complexity_level": float(level),
            "ramp_drop_effective_mm": round(drop, 3),
            "lip_height_mm": round(lip_h, 3),
            "tray_length_mm": round(tray_len, 3),
            "lip_speed_m_s": round(lip_speed_m_s(drop, theta), 4),
            "landing_x_mm": round(x_land, 3),
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball rolls down a long ramp and flies off its foot, {lip_h:.0f} mm "
                f"up, over a {tray_len:.0f} mm tray; stop it in the tray without it landing in the pit beyond."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("ramp", PartRole.FIXTURE, FIXTURE_MATERIAL, None, ramp),
                CadPart("tray", PartRole.FIXTURE, FIXTURE_MATERIAL, None, tray),
            ],
            reference=[CadPart("backstop", PartRole.REFERENCE, BACKSTOP_MATERIAL, BACKSTOP_METHOD, backstop)],
            payload=payload(r, spawn, material),
            goal_zone=zone((x0, -half_w, TRAY_BASE_MM), (x1 - PLATE_MM, half_w, rim)),
            forbidden_zones=forbidden,
            build_zone=zone((bx0, -half_zone, 0.0), (bx1, half_zone, spawn[2] + r + jz + 20.0)),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=3.0),
        )
