"""``shelf``: a heavy steel ball rolls off the top of a wall; a cantilever shelf fixed to the wall must carry it
out to the goal, and a shelf too thin for the ball's weight breaks.

Fixtures: a floor and a wall (x <= 0) with a ramp on its top; the ball starts on the ramp, rolls along the
wall's top and off its edge at x = 0. The build zone is a slab beside the wall's face (x >= 0), from
``depth`` under the wall's top edge (room for a knee brace, never down to the floor) to above it. The goal is
a band just above the edge's height, from ``goal_start`` out to ``reach`` from the wall: with nothing built
the ball falls to the floor, its centre below the band long before it is that far out (the baseline fails).
The only support is the wall: under the structural check a design part fixed to the world is supported
where it touches a fixture (within 0.5 mm of its solid), so a shelf must touch the wall's face, and the
ball's weight bends it as a cantilever.

Why a ball and not a box: the judge counts a goal reached the instant the payload's centre enters it, so a
box dropped onto the shelf would pass through a goal under its drop point with nothing built, and a steel box
slides with the pair's friction of at least 0.6 (the larger of the two, see ``engines.physics.mjcf``), so it
stops within centimetres of where it lands: it cannot be carried out along a level shelf. The ball rolls
there. It is steel only, sized from its mass (``ball_mass_kg``, 0.6-1.4 kg on level 1).

Levels: the ball's mass times ``LEVELS[level]["mass"]`` (1, 1.7, 2.6: up to 3.6 kg) and the reach times
``LEVELS[level]["reach"]``; the longest plate stays inside a desktop printer's bed (``MAX_PLATE_MM``).

Reference solution: one PLA plate (``fdm_printing``), fixed, its end face on the wall's face (supported there),
its top flush with the edge, ``reach`` long and ``width_radii`` ball radii wide. Its thickness is the larger of
two closed forms of a cantilever with the design load ``F = K_D m g`` at its tip (the ball's weight times the
dynamic factor :data:`DYNAMIC_FACTOR` 2, its arm the whole reach, since the check's ``hold_s`` sees the ball
roll out to the tip) plus the plate's own weight ``w = rho g b h``, each with ``MARGIN`` 2:

- strength: ``sigma = 6 M / (b h^2)`` at the wall with ``M = F L + w L^2 / 2``, at most
  ``allowable / 1.5 / 2`` (``allowable`` is PLA's for FDM, see :func:`elastic_mpa`);
- stiffness: the tip's sag ``F L^3 / (3 E I) + w L^4 / (8 E I)`` (``I = b h^3 / 12``) at most half the
  check's limit :data:`MAX_DEFLECTION_MM` (12 mm, the goal band's depth: a shelf sagging more would drop the
  ball out of it).

The dynamic factor 2 is that of a load put suddenly on an elastic beam (``1 + sqrt(1 + 2 d / delta)`` with
a drop ``d = 0``: the ball rolls onto a flush plate). What the simulation measures on the reference (the
check's load case, the instant of the largest contact force, recorded until ``hold_s`` after the goal:
tested) is at most 1.8 m g, close to the wall, and about 1.3 m g as the ball rolls over the tip: a root moment
at most 0.66 of the design's. The stiffness governs: the reference's stress is 4.4-7.9 MPa over seeds 0-19
(at most 30 / 1.5 / 2 = 10). Under the design load a plate of the same size sags past the limit below
``sag_thickness_mm`` (about ``h / 2^(1/3)``, 0.79 h) and breaks below ``break_thickness_mm`` (0.46-0.62 h).
The quadratic-tetrahedron check of ``engines.structure`` agrees (tested): on seed 0 it gives the reference
6.1 MPa and 5.6 mm, the plate at the breaking thickness 19.7 MPa (the limit is 20), the one at the sagging
thickness 11.2 mm.

Caps: the reference's weight and its print's price times the caps' headroom (1.5). A thicker plate of PLA (up
to about 1.5 times the reference's thickness) or a lighter, stiffer section (a rib, a brace to the wall below)
fits them; a solid block does not, so a design must be sized, and one too thin sags or breaks.

Seed 0 (level 1; PLA by FDM from the material table: E 3.5 GPa, allowable 30 MPa = 50 MPa ultimate times the
FDM Z knock-down 0.6): a 1.03 kg ball (r 31.5 mm), a 214.5 mm reach, a 61.6 mm wide plate, the design load
20.2 N. The reference is 8.6 mm thick: its stress 5.9 MPa (at most 10), its sag 5.95 mm (at most 6). A plate
of the same size sags more than 12 mm below 6.8 mm and breaks (over 30 / 1.5 = 20 MPa) below 4.6 mm
(``params``: ``reference_thickness_mm``, ``reference_stress_mpa``, ``reference_deflection_mm``,
``allowable_mpa``, ``youngs_modulus_mpa``, ``sag_thickness_mm``, ``break_thickness_mm``).
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
    floor_part,
    payload,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import box, prism_xz
from engines.structure import elastic_for
from shared.materials import props
from shared.models import STRUCTURE_SAFETY_FACTOR, ManufacturingMethod, MaterialId, PartRole, StructureSpec

BALL_MATERIAL = MaterialId.STEEL_CARBON
SHELF_MATERIAL = MaterialId.PLA
SHELF_METHOD = ManufacturingMethod.FDM_PRINTING
SAFETY = STRUCTURE_SAFETY_FACTOR
"""The structural check's default factor: a part breaks when its peak von Mises stress exceeds
``allowable / 1.5``."""
MARGIN = 2.0
"""The reference's margin on the design allowable (``allowable / SAFETY``)."""
DYNAMIC_FACTOR = 2.0
"""The design load is this many times the ball's weight (see the module docstring)."""
MAX_PLATE_MM = 235.0
"""The longest plate: inside a desktop printer's 250 x 210 mm bed (``fdm_printing.toml``)."""
MAX_WIDTH_MM = 200.0
GOAL_BELOW_MM = 12.0
GOAL_ABOVE_MM = 8.0
"""The goal band: the ball's centre from this far under to this far over its height rolling on the edge's
level (``z_edge + r``)."""
MAX_DEFLECTION_MM = GOAL_BELOW_MM
"""The structural check's sag limit (``StructureSpec.max_deflection_mm``): a shelf that sags more would drop
the ball under the goal band."""
FALL_CLEARANCE_MM = 40.0
"""The goal starts at least this far beyond where a ball falling off the edge has left the band."""
LEVELS: dict[int, dict[str, float]] = {
    1: {"mass": 1.0, "reach": 1.0},
    2: {"mass": 1.7, "reach": 1.1},
    3: {"mass": 2.6, "reach": 1.2},
}
DURATION_S = 4.0


def elastic_mpa(material: MaterialId, method: ManufacturingMethod) -> tuple[float, float]:
    """Young's modulus and allowable stress (before the structural check's 1.5) of ``material`` made by
    ``method``, MPa, as the structural engine takes them (``engines.structure.elastic_for``)."""
    e = elastic_for(material.value, method.value)
    return float(e.youngs_modulus_mpa), float(e.allowable_mpa)


def allowable_mpa(material: MaterialId, method: ManufacturingMethod) -> float:
    """The allowable stress of ``material`` made by ``method``, MPa (see :func:`elastic_mpa`)."""
    return elastic_mpa(material, method)[1]


def ball_radius_mm(mass_kg: float, material: MaterialId = BALL_MATERIAL) -> float:
    """The radius of a solid ball of ``mass_kg`` of ``material``."""
    return (3.0 * mass_kg / (4.0 * math.pi * props(material).density_kg_m3 * 1e-9)) ** (1.0 / 3.0)


def plate_thickness_mm(
    stress_mpa: float, moment_coeff_n_mm: float, self_coeff_n_mm3: float, width_mm: float
) -> float:
    """The ``h`` at which a rectangular section ``width_mm`` wide carries ``M(h) = moment_coeff + self_coeff
    h`` at ``stress_mpa``: the positive root of ``stress b h^2 = 6 (moment_coeff + self_coeff h)``."""
    a, b, c = stress_mpa * width_mm, -6.0 * self_coeff_n_mm3, -6.0 * moment_coeff_n_mm
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


def bending_stress_mpa(
    h_mm: float, moment_coeff_n_mm: float, self_coeff_n_mm3: float, width_mm: float
) -> float:
    """``6 M / (b h^2)`` with ``M = moment_coeff + self_coeff h``."""
    return 6.0 * (moment_coeff_n_mm + self_coeff_n_mm3 * h_mm) / (width_mm * h_mm * h_mm)


def tip_deflection_mm(
    h_mm: float, load_n: float, length_mm: float, width_mm: float, density_kg_m3: float, youngs_mpa: float
) -> float:
    """A cantilever's tip deflection under ``load_n`` at its tip and its own weight:
    ``F L^3 / (3 E I) + w L^4 / (8 E I)`` with ``I = b h^3 / 12`` and ``w = rho g b h``."""
    inertia = width_mm * h_mm**3 / 12.0
    w = density_kg_m3 * GRAVITY_M_S2 * 1e-9 * width_mm * h_mm
    return (load_n * length_mm**3 / 3.0 + w * length_mm**4 / 8.0) / (youngs_mpa * inertia)


def stiff_thickness_mm(
    deflection_mm: float,
    load_n: float,
    length_mm: float,
    width_mm: float,
    density_kg_m3: float,
    youngs_mpa: float,
) -> float:
    """The thickness at which :func:`tip_deflection_mm` is ``deflection_mm`` (it falls as ``h`` grows)."""
    lo, hi = 0.01, 1000.0
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        if tip_deflection_mm(mid, load_n, length_mm, width_mm, density_kg_m3, youngs_mpa) > deflection_mm:
            lo = mid
        else:
            hi = mid
    return hi


def cantilever_coefficients(
    load_n: float, arm_mm: float, length_mm: float, width_mm: float, density_kg_m3: float
) -> tuple[float, float]:
    """The root moment of a cantilever ``length_mm`` long with ``load_n`` at ``arm_mm``: ``load arm`` and,
    per millimetre of thickness, its own weight's ``rho g b L^2 / 2`` (N, mm)."""
    rho_g = density_kg_m3 * GRAVITY_M_S2 * 1e-9  # N/mm3
    return load_n * arm_mm, rho_g * width_mm * length_mm**2 / 2.0


class ShelfFamily(Family):
    name = "shelf"
    levels = 3
    payload_materials = (BALL_MATERIAL,)
    """Steel only: the family is about a heavy load, and the ball is sized from its mass."""
    nominal: ClassVar[dict[str, float]] = {
        "ball_mass_kg": 1.0,
        "reach_mm": 150.0,
        "width_radii": 2.6,
        "goal_share": 0.4,
        "ramp_length_radii": 3.0,
        "ramp_angle_deg": 15.0,
        "depth_mm": 60.0,
        "wall_height_mm": 220.0,
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
        runout = 1.5 * r
        wall_t = ramp_len + runout
        z_edge = max(p["wall_height_mm"], p["depth_mm"] + 4 * r + 60.0)
        half_w = min(p["width_radii"] * r, MAX_WIDTH_MM) / 2
        wall_hw = half_w + 10.0

        # How far out a ball rolling off the edge is when its centre has fallen below the goal band (loss-free
        # speed from the ramp's top, plus its radius for the turn over the edge).
        v = math.sqrt(10.0 / 7.0 * GRAVITY_M_S2 * (ramp_h + r) * 1e-3)
        fall_s = math.sqrt(2 * GOAL_BELOW_MM * 1e-3 / GRAVITY_M_S2)
        out_of_band = r + v * fall_s * 1e3
        goal_min = out_of_band + FALL_CLEARANCE_MM
        reach = min(max(p["reach_mm"] * lv["reach"], goal_min / (1.0 - p["goal_share"])), MAX_PLATE_MM)
        goal_start = max(reach * (1.0 - p["goal_share"]), goal_min)
        if goal_start > reach - r:
            raise ValueError(
                f"shelf: the goal ({goal_start:.0f} mm out) does not fit the {reach:.0f} mm reach"
            )

        # The reference plate's thickness from the closed form (see the module docstring): strong enough and
        # stiff enough, each with MARGIN.
        youngs, allowable = elastic_mpa(SHELF_MATERIAL, SHELF_METHOD)
        design_load = DYNAMIC_FACTOR * mass * GRAVITY_M_S2
        b = 2 * half_w
        density = props(SHELF_MATERIAL).density_kg_m3
        coeffs = cantilever_coefficients(design_load, reach, reach, b, density)
        h_strong = plate_thickness_mm(allowable / SAFETY / MARGIN, *coeffs, b)
        h_stiff = stiff_thickness_mm(MAX_DEFLECTION_MM / MARGIN, design_load, reach, b, density, youngs)
        h = math.ceil(max(h_strong, h_stiff) * 10.0) / 10.0
        stress = bending_stress_mpa(h, *coeffs, b)
        sag = tip_deflection_mm(h, design_load, reach, b, density, youngs)
        h_break = plate_thickness_mm(allowable / SAFETY, *coeffs, b)
        h_sag = stiff_thickness_mm(MAX_DEFLECTION_MM, design_load, reach, b, density, youngs)

        wall = box((-wall_t, -wall_hw, 0.0), (0.0, wall_hw, z_edge))
        ramp = prism_xz(
            [(-wall_t, z_edge), (-wall_t + ramp_len, z_edge), (-wall_t, z_edge + ramp_h)], -wall_hw, wall_hw
        )
        plate = box((0.0, -half_w, z_edge - h), (reach, half_w, z_edge))

        # Spawn on the slope, one radius and a bit below its top, clear of the surface under any jitter.
        along = r + 5.0
        contact = (-wall_t + along * math.cos(theta), z_edge + ramp_h - along * math.sin(theta))
        clearance = jx * math.tan(theta) + jz + 1.5
        spawn = (
            contact[0] + (r + clearance) * math.sin(theta),
            0.0,
            contact[1] + (r + clearance) * math.cos(theta),
        )

        band = (z_edge + r - GOAL_BELOW_MM, z_edge + r + GOAL_ABOVE_MM)
        build_top = max(z_edge + 2 * r + 20.0, spawn[2] + r + jz + 20.0)
        side = half_w + 20.0
        bounds = simulation_bounds(-wall_t, -side, reach + 20.0, side, z_edge + ramp_h + 2 * r)
        params = {
            **p,
            "complexity_level": float(level),
            "ball_mass_kg_at_level": mass,
            "ball_radius_mm": r,
            "edge_height_mm": round(z_edge, 3),
            "reach_at_level_mm": round(reach, 3),
            "goal_start_mm": round(goal_start, 3),
            "plate_width_mm": round(b, 3),
            "design_load_n": round(design_load, 4),
            "dynamic_factor": DYNAMIC_FACTOR,
            "allowable_mpa": allowable,
            "youngs_modulus_mpa": youngs,
            "reference_thickness_mm": h,
            "reference_stress_mpa": round(stress, 4),
            "reference_deflection_mm": round(sag, 4),
            "break_thickness_mm": round(h_break, 3),
            "sag_thickness_mm": round(h_sag, 3),
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {mass:.2f} kg steel ball ({2 * r:.0f} mm) rolls off the top of a wall {z_edge:.0f} mm high; "
                f"carry it out to the goal {goal_start:.0f}-{reach:.0f} mm from the wall, at the edge's height. "
                "The wall is the only support, and a part too thin for the ball's weight breaks."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("wall", PartRole.FIXTURE, FIXTURE_MATERIAL, None, wall),
                CadPart("ramp", PartRole.FIXTURE, FIXTURE_MATERIAL, None, ramp),
            ],
            reference=[CadPart("shelf", PartRole.REFERENCE, SHELF_MATERIAL, SHELF_METHOD, plate)],
            payload=payload(r, spawn, BALL_MATERIAL),
            goal_zone=zone((goal_start, -half_w, band[0]), (reach, half_w, band[1])),
            forbidden_zones=[],
            build_zone=zone((-wall_t, -side, z_edge - p["depth_mm"]), (reach + 20.0, side, build_top)),
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=DURATION_S),
            structure=StructureSpec(max_deflection_mm=MAX_DEFLECTION_MM),
        )
