"""``gap``: a ball rolls down a ramp and along a runway towards a gap it cannot jump.

Fixtures: a floor, a raised runway with a ramp on its start, and a goal platform (with an end stop) on
the far side of a gap. The gap's bottom is a forbidden zone. The gap is wider than the ball could fly
even at its loss-free top speed, so with nothing built it always falls in. The goal is the platform's
top. Reference solution: a plank with bevelled ends resting on the runway and the platform.
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
    rolling_speed_bound_m_s,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box, prism_xz
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId, PartRole

STOP_MM = 10.0
PLANK_MM = 5.0
PLANK_BEVEL_RATIO = 4.0
"""Bevel length per unit of plank thickness at each end (about 14 degrees)."""
FALL_MARGIN_MM = 10.0
"""At the far edge the ball's centre must be at least this far below the edge plus one radius."""


class GapFamily(Family):
    name = "gap"
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 15.0,
        "ramp_height_mm": 50.0,
        "ramp_angle_deg": 20.0,
        "runway_length_mm": 120.0,
        "runway_height_mm": 80.0,
        "gap_margin": 0.5,
        "platform_length_mm": 150.0,
        "track_width_radii": 5.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        r = p["radius_mm"]
        theta = math.radians(p["ramp_angle_deg"])
        h = p["runway_height_mm"]
        ramp_h = p["ramp_height_mm"]
        ramp_len = ramp_h / math.tan(theta)
        half_w = p["track_width_radii"] * r / 2
        jx, _, jz = SPAWN_JITTER_MM

        # Gap width: at the loss-free speed the ball drops more than r + margin before reaching the far edge.
        v = rolling_speed_bound_m_s(ramp_h + r)
        flight_s = math.sqrt(2 * (r + FALL_MARGIN_MM) * 1e-3 / GRAVITY_M_S2)
        min_gap = r + v * flight_s * 1e3
        gap = min_gap * (1.0 + p["gap_margin"])

        x_runway_end = ramp_len + p["runway_length_mm"]
        x_platform = x_runway_end + gap
        x_stop = x_platform + p["platform_length_mm"]
        stop_h = 2 * r

        runway = box((0.0, -half_w, 0.0), (x_runway_end, half_w, h))
        ramp = prism_xz([(0.0, h), (ramp_len, h), (0.0, h + ramp_h)], -half_w, half_w)
        platform = compound(
            [
                box((x_platform, -half_w, 0.0), (x_stop + STOP_MM, half_w, h)),
                box((x_stop, -half_w, h), (x_stop + STOP_MM, half_w, h + stop_h)),
            ]
        )

        # Spawn on the slope, one radius and a bit below its top, clear of the surface under any jitter.
        along = r + 5.0
        contact = (along * math.cos(theta), h + ramp_h - along * math.sin(theta))
        clearance = jx * math.tan(theta) + jz + 1.5
        spawn = (
            contact[0] + (r + clearance) * math.sin(theta),
            0.0,
            contact[1] + (r + clearance) * math.cos(theta),
        )

        # Reference: a plank with bevelled ends spanning the gap, resting on both tops.
        overlap = max(2 * r, 30.0)
        bevel = PLANK_BEVEL_RATIO * PLANK_MM
        px0, px1 = x_runway_end - overlap, x_platform + overlap
        plank = prism_xz(
            [(px0, h), (px1, h), (px1 - bevel, h + PLANK_MM), (px0 + bevel, h + PLANK_MM)], -half_w, half_w
        )

        bounds = simulation_bounds(0.0, -half_w, x_stop + STOP_MM, half_w, h + ramp_h)
        params = {**p, "gap_width_mm": round(gap, 3), "ramp_length_mm": round(ramp_len, 3)}
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball rolls down a ramp onto a runway {h:.0f} mm up that ends at a "
                f"{gap:.0f} mm gap; get it onto the platform beyond without it falling in."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("runway", PartRole.FIXTURE, FIXTURE_MATERIAL, None, runway),
                CadPart("ramp", PartRole.FIXTURE, FIXTURE_MATERIAL, None, ramp),
                CadPart("platform", PartRole.FIXTURE, FIXTURE_MATERIAL, None, platform),
            ],
            reference=[
                CadPart(
                    "plank",
                    PartRole.REFERENCE,
                    MaterialId.ALUMINUM_6061,
                    ManufacturingMethod.CNC_MILLING,
                    plank,
                )
            ],
            payload=payload(r, spawn, material),
            goal_zone=zone((x_platform + overlap + r, -half_w, h), (x_stop, half_w, h + 3 * r)),
            forbidden_zones=[
                named_zone("gap_floor", (x_runway_end, -half_w - 50.0, 0.0), (x_platform, half_w + 50.0, r))
            ],
            build_zone=zone(
                (0.0, -half_w - 20.0, 0.0),
                (x_stop, half_w + 20.0, h + ramp_h + 2 * r + 20.0),
            ),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=4.0),
        )
