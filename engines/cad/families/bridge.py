"""``bridge``: a heavy steel ball rolls down a ramp on one abutment and must cross a gap to the other on a
bridge that carries it; a deck too thin for the ball's weight breaks.

Fixtures: a floor, the near abutment (a raised block with a ramp on its start) and the far abutment (a raised
block with an end stop), the gap between them wider than the ball could fly at its top speed, so with
nothing built it always falls in (the gap's floor is a forbidden zone). The build zone spans both abutments'
tops and the gap, from ``depth`` under their tops (room for a truss or an arch, never down to the gap's
floor: no pier), so the only supports are the abutments: under the structural check a design part fixed to
the world is supported where it touches a fixture (within 0.5 mm of its solid). The goal is the far
abutment's top. Like ``shelf``, a ball and not a box: a steel box slides with a friction of at least 0.6 and
would stop on the deck, and the judge counts the goal the instant the payload's centre enters it.

Levels: the ball's mass times ``LEVELS[level]["mass"]`` (1, 1.7, 2.6: up to 3.6 kg) and the span times
``LEVELS[level]["span"]`` (at least the flight's gap, and no longer than a plank a desktop printer makes
spans: ``MAX_PLANK_MM``).

Reference solution: one ABS plank (``fdm_printing``), fixed, resting on both abutments' tops with bevelled
ends, ``width_radii`` ball radii wide. Its thickness is the closed form of a simply supported beam over the
gap with the ball as a moving point load, worst at mid-span: ``sigma = 6 M / (b h^2)`` with
``M = K_D m g S / 4 + rho g b h S^2 / 8`` (``sigma = 3 F S / (2 b h^2)`` for the ball's share; the ball's
weight times the dynamic factor :data:`~engines.cad.families.shelf.DYNAMIC_FACTOR` 2, the span ``S`` the
gap, plus the plank's own weight), solved for the ``h`` at which ``sigma`` is ``allowable / 1.5 / 2`` (margin
2 on the design allowable; ``allowable`` is ABS's for FDM, :func:`~engines.cad.families.shelf.allowable_mpa`).
Simply supported is the conservative reading: a plank held flat on both tops is held over its whole overlap
there (the check holds every node within 0.5 mm of a fixture), nearer a beam clamped at both ends, whose
largest moment is ``F S / 8 + rho g b h S^2 / 12`` (at the ends). The same plank breaks below
``break_thickness_mm`` simply supported (about ``h / sqrt(2)``) and below ``clamped_break_thickness_mm``
clamped (about ``h / 2``). The quadratic-tetrahedron check of ``engines.structure`` sides with the clamped
reading (tested): on seed 0 it gives the reference 5.1 MPa (the simply supported closed form 6.5), the plank
at the simply supported breaking thickness 7.6 MPa, the one at the clamped breaking thickness 15.7 MPa (the
limit is 13.3).

The dynamic factor covers what the simulation measures on the reference (the check's load case, the instant
of the largest contact force: tested): over the span at most about 1.5 m g, a largest moment at most 0.45 of
the design's; the ball's climb onto the bevel gives up to 7 m g, but over the abutment, where the plank is
held.

Caps: the reference's weight and its print's price times the caps' headroom (1.5), so a deck much thicker than
the reference's, or a solid block, does not fit them.

Seed 0 (level 1; ABS by FDM from the material table: allowable 20 MPa = 40 MPa ultimate times the FDM Z
knock-down 0.5): a 0.92 kg ball (r 30.3 mm) over a 106.8 mm gap on an 84.4 mm wide plank, the design load
18.0 N. The reference is 2.3 mm thick, its stress 6.5 MPa (at most 20 / 1.5 / 2 = 6.7); a plank of the same
size breaks (over 20 / 1.5 = 13.3 MPa) below 1.6 mm simply supported, 1.14 mm clamped (``params``:
``reference_thickness_mm``, ``reference_stress_mpa``, ``allowable_mpa``, ``break_thickness_mm``,
``clamped_break_thickness_mm``).
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
from engines.cad.families.shelf import (
    BALL_MATERIAL,
    DYNAMIC_FACTOR,
    MARGIN,
    SAFETY,
    allowable_mpa,
    ball_radius_mm,
    bending_stress_mpa,
    plate_thickness_mm,
)
from engines.cad.primitives import box, prism_xz
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId, PartRole, StructureSpec

DECK_MATERIAL = MaterialId.ABS
DECK_METHOD = ManufacturingMethod.FDM_PRINTING
BEVEL_RATIO = 4.0
"""Bevel length per unit of plank thickness at each end (about 14 degrees), as the ``gap`` family's plank."""
MAX_PLANK_MM = 245.0
"""The longest plank: inside a desktop printer's 250 mm bed (``fdm_printing.toml``)."""
MAX_WIDTH_MM = 200.0
STOP_MM = 10.0
FALL_MARGIN_MM = 10.0
"""At the far edge a ball flying off the near abutment has its centre this far under the edge plus its radius."""
SPEED_MARGIN = 1.2
"""The flight is computed at this many times the ball's rolling speed at the ramp's foot."""
GAP_MARGIN = 1.1
"""The gap is at least this many times the flight."""
LEVELS: dict[int, dict[str, float]] = {
    1: {"mass": 1.0, "span": 1.0},
    2: {"mass": 1.7, "span": 1.1},
    3: {"mass": 2.6, "span": 1.2},
}
DURATION_S = 4.0


def simply_supported_coefficients(
    load_n: float, span_mm: float, width_mm: float, density_kg_m3: float
) -> tuple[float, float]:
    """The mid-span moment of a simply supported beam with ``load_n`` at mid-span: ``F S / 4`` and, per
    millimetre of thickness, its own weight's ``rho g b S^2 / 8`` (N, mm)."""
    rho_g = density_kg_m3 * GRAVITY_M_S2 * 1e-9
    return load_n * span_mm / 4.0, rho_g * width_mm * span_mm**2 / 8.0


def clamped_coefficients(
    load_n: float, span_mm: float, width_mm: float, density_kg_m3: float
) -> tuple[float, float]:
    """The largest moment (at the ends) of a beam clamped at both ends with ``load_n`` at mid-span: ``F S / 8``
    and, per millimetre of thickness, its own weight's ``rho g b S^2 / 12`` (N, mm)."""
    rho_g = density_kg_m3 * GRAVITY_M_S2 * 1e-9
    return load_n * span_mm / 8.0, rho_g * width_mm * span_mm**2 / 12.0


class BridgeFamily(Family):
    name = "bridge"
    levels = 3
    payload_materials = (BALL_MATERIAL,)
    """Steel only: the family is about a heavy load, and the ball is sized from its mass."""
    nominal: ClassVar[dict[str, float]] = {
        "ball_mass_kg": 1.0,
        "span_mm": 140.0,
        "width_radii": 2.6,
        "ramp_length_radii": 3.0,
        "ramp_angle_deg": 18.0,
        "runway_length_radii": 2.0,
        "platform_length_radii": 4.0,
        "depth_mm": 50.0,
        "abutment_height_mm": 160.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        level = self.level(seed)
        lv = LEVELS[level]
        mass = round(p["ball_mass_kg"] * lv["mass"], 4)
        r = round(ball_radius_mm(mass), 3)
        jx, _, jz = SPAWN_JITTER_MM
        theta = math.radians(p["ramp_angle_deg"])
        ramp_len = p["ramp_length_radii"] * r
        ramp_h = ramp_len * math.tan(theta)
        half_w = min(p["width_radii"] * r, MAX_WIDTH_MM) / 2
        track_hw = half_w + 10.0
        h_a = max(p["abutment_height_mm"], p["depth_mm"] + 2 * r + 50.0)

        # Spawn on the slope, one radius and a bit below its top, clear of the surface under any jitter.
        along = r + 5.0
        contact = (along * math.cos(theta), h_a + ramp_h - along * math.sin(theta))
        clearance = jx * math.tan(theta) + jz + 1.5
        spawn = (
            contact[0] + (r + clearance) * math.sin(theta),
            0.0,
            contact[1] + (r + clearance) * math.cos(theta),
        )

        # The gap: wider than a ball rolling off the near edge flies before its centre is FALL_MARGIN_MM under
        # the far edge plus its radius (its rolling speed from the spawn, times SPEED_MARGIN).
        drop = spawn[2] - r - h_a
        v = SPEED_MARGIN * math.sqrt(10.0 / 7.0 * GRAVITY_M_S2 * drop * 1e-3)
        flight_s = math.sqrt(2 * (r + FALL_MARGIN_MM) * 1e-3 / GRAVITY_M_S2)
        min_gap = GAP_MARGIN * (r + v * flight_s * 1e3)

        # The reference plank: thickness from the closed form (see the module docstring), then its ends.
        allowable = allowable_mpa(DECK_MATERIAL, DECK_METHOD)
        design_load = DYNAMIC_FACTOR * mass * GRAVITY_M_S2
        b = 2 * half_w
        target = allowable / SAFETY / MARGIN
        density = props(DECK_MATERIAL).density_kg_m3

        def thickness(span: float, stress: float) -> float:
            return plate_thickness_mm(
                stress, *simply_supported_coefficients(design_load, span, b, density), b
            )

        span = max(p["span_mm"] * lv["span"], min_gap)
        h = math.ceil(thickness(span, target) * 10.0) / 10.0
        overlap = BEVEL_RATIO * h + 10.0
        if span + 2 * overlap > MAX_PLANK_MM:
            span = MAX_PLANK_MM - 2 * overlap
            h = math.ceil(thickness(span, target) * 10.0) / 10.0
        if span < min_gap:
            raise ValueError(f"bridge: a {min_gap:.0f} mm gap needs a plank longer than {MAX_PLANK_MM:g} mm")
        coeffs = simply_supported_coefficients(design_load, span, b, density)
        stress = bending_stress_mpa(h, *coeffs, b)
        h_break = plate_thickness_mm(allowable / SAFETY, *coeffs, b)
        h_clamped = plate_thickness_mm(
            allowable / SAFETY, *clamped_coefficients(design_load, span, b, density), b
        )

        x_near = ramp_len + p["runway_length_radii"] * r
        x_far = x_near + span
        x_stop = x_far + p["platform_length_radii"] * r + overlap
        runway = box((0.0, -track_hw, 0.0), (x_near, track_hw, h_a))
        ramp = prism_xz([(0.0, h_a), (ramp_len, h_a), (0.0, h_a + ramp_h)], -track_hw, track_hw)
        platform = compound(
            [
                box((x_far, -track_hw, 0.0), (x_stop + STOP_MM, track_hw, h_a)),
                box((x_stop, -track_hw, h_a), (x_stop + STOP_MM, track_hw, h_a + 2 * r)),
            ]
        )
        bevel = BEVEL_RATIO * h
        px0, px1 = x_near - overlap, x_far + overlap
        plank = prism_xz(
            [(px0, h_a), (px1, h_a), (px1 - bevel, h_a + h), (px0 + bevel, h_a + h)], -half_w, half_w
        )

        side = track_hw + 20.0
        top = max(h_a + ramp_h, spawn[2] + r + jz) + 20.0
        bounds = simulation_bounds(0.0, -side, x_stop + STOP_MM, side, top)
        params = {
            **p,
            "complexity_level": float(level),
            "ball_mass_kg_at_level": mass,
            "ball_radius_mm": r,
            "abutment_top_mm": round(h_a, 3),
            "span_at_level_mm": round(span, 3),
            "min_gap_mm": round(min_gap, 3),
            "plate_width_mm": round(b, 3),
            "design_load_n": round(design_load, 4),
            "dynamic_factor": DYNAMIC_FACTOR,
            "allowable_mpa": allowable,
            "reference_thickness_mm": h,
            "reference_stress_mpa": round(stress, 4),
            "break_thickness_mm": round(h_break, 3),
            "clamped_break_thickness_mm": round(h_clamped, 3),
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {mass:.2f} kg steel ball ({2 * r:.0f} mm) rolls down a ramp towards a {span:.0f} mm gap "
                f"between two abutments {h_a:.0f} mm high; get it across onto the far one. The abutments are "
                "the only supports, and a part too thin for the ball's weight breaks."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("near_abutment", PartRole.FIXTURE, FIXTURE_MATERIAL, None, runway),
                CadPart("ramp", PartRole.FIXTURE, FIXTURE_MATERIAL, None, ramp),
                CadPart("far_abutment", PartRole.FIXTURE, FIXTURE_MATERIAL, None, platform),
            ],
            reference=[CadPart("deck", PartRole.REFERENCE, DECK_MATERIAL, DECK_METHOD, plank)],
            payload=payload(r, spawn, BALL_MATERIAL),
            goal_zone=zone((x_far + overlap + r, -track_hw, h_a), (x_stop, track_hw, h_a + 3 * r)),
            forbidden_zones=[named_zone("gap_floor", (x_near, -side, 0.0), (x_far, side, r))],
            build_zone=zone((0.0, -side, h_a - p["depth_mm"]), (x_stop, side, top)),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=DURATION_S),
            structure=StructureSpec(),
        )
