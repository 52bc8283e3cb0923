"""``launch``: a ball dropped behind a wall taller than anything in the build zone must be thrown into a bin.

Fixtures: a floor, a wall across the whole scene (every y the ball can reach in bounds) and an open bin beyond
it. The payload spawns low in the build zone, behind the wall; the build zone's top is below the wall's top
and the spawn below both, so gravity alone (a ramp, a chute: any passive part) cannot carry the ball over:
its centre would have to rise above where it starts. The goal is the bin's interior. Levels: 1, a low wall
and a wide bin right behind it; 2, a tall wall (reaching close under the reference's trajectory) and the
bin farther from it; 3, as 2 with a narrow bin and forbidden zones on the floor between the wall and the bin
and beyond the bin, so a short or long throw fails at once.

Reference solution: a catapult arm (a milled ABS plate with a V pocket holding the ball, and side rails)
fastened (a fixed joint, two M4 screws) to an aluminium hub, the part on a hinge to the world about +y that
the servo drives, placed level and pointing back (-x) from the hinge, the pocket at radius
``R`` (hinge axis to ball centre). A sinusoidal position servo swings it up from rest,
``q(t) = A (1 - cos(2 pi f t))``, and the hinge's hard stop (the catapult's crossbar) halts it at
``q = A``, where the motion is fastest (``2 pi f A = ARM_SPEED_DEG_S``) and not accelerating; the ball
leaves the pocket there at ``v = omega R``, perpendicular to the arm. The stop angle gives the launch angle
``theta`` (sampled). The ball flies a parabola: for a target ``dx`` ahead and ``dz`` above the release
point, ``v^2 = g dx^2 / (2 cos^2 theta (dx tan theta - dz))`` (for ``dz = 0`` the range formula
``dx = v^2 sin 2 theta / g``). The release point itself lies on the arm's circle, ``R (-sin theta, cos
theta)`` from the hinge, so ``v = omega R`` becomes a cubic in ``R`` with one positive root, found by
bisection: the arm length that throws the ball, at the servo's speed, through the bin's centre at rim
height. The servo pushes against the stop until its target comes back (``stall_s`` covers that half period).
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
from shared.materials import props
from shared.models import JointSpec, ManufacturingMethod, MaterialId, MotorSpec, PartRole

PLATE_MM = 5.0
RAIL_MM = 4.0
HUB_MM = 10.0
"""The hub reaches this far past the hinge axis (+x)."""
HUB_SPAN_MM = 30.0
"""The hub, an aluminium block on the servo's horn, reaches this far back (-x) along the arm; the arm plate
is fastened to its end face."""
HUB_MATERIAL = MaterialId.ALUMINUM_6061
HUB_FASTENERS = 2
WEDGE_FLAT_MM = 3.0
POCKET_GAP_RADII = 0.4
"""Flat gap between the V pocket's two 45-degree faces, in radii: the ball rests on both faces, not on it."""
WEDGE_RADII = 0.75
RAIL_RADII = 0.8
WALL_MM = 10.0
BIN_WALL_MM = 5.0
BIN_BASE_MM = 5.0
ARM_SPEED_DEG_S = 250.0
"""The reference servo's peak speed (a hobby servo or gear motor: at most 300 deg/s)."""
MOTOR_ITEM = "servo_ds3218"
"""A 20 kg-class hobby servo (2.1 N*m, 428 deg/s): the swing needs up to about 1 N*m at 250 deg/s."""
MOTOR_EFFORT_NM = 1.5
"""The reference servo's torque limit (its stiffness: full torque at a 2 degree lag)."""
MOTOR_STALL_S = 2.0
"""The servo presses the arm on its stop while its target is past the stop, for ``1 / (2 f)`` (< 1.2 s)."""
LIMIT_MARGIN_DEG = 2.0
"""The hinge's lower stop lies this far below the placed (start) pose."""
ARM_MATERIAL = MaterialId.ABS
ARM_METHOD = ManufacturingMethod.CNC_MILLING
"""Milled from ABS plate: light (a small servo swings it) and longer than a desktop printer's bed."""
CHECK_INTERVAL_STEPS = 1
"""The servo's target moves about 1 degree per 4 ms check (a 20 ms check would make 5 degree steps)."""
MIN_WALL_RISE_MM = 20.0
"""The wall's top stands at least this far above the build zone's top."""
LOW_WALL_SHARE = 0.35
"""Level 1: the wall's top lies this share of the way from its lowest (``MIN_WALL_RISE_MM`` above the build
zone) up to the tall wall's top."""
FORBIDDEN_FAR_RADII = 8.0
"""Level 3: the forbidden zone beyond the bin reaches this far past its far wall."""


def release_radius_mm(x_mm: float, z_mm: float, theta: float, omega: float) -> float:
    """The radius ``R`` (hinge axis to ball centre) at which a ball released at ``R (-sin theta, cos theta)``
    from the hinge with speed ``omega R`` at ``theta`` above +x passes through ``(x_mm, z_mm)`` (relative to
    the hinge): the positive root of ``omega^2 R^2 2 cos^2 theta (dx tan theta - dz) = g dx^2``."""
    s, c, t = math.sin(theta), math.cos(theta), math.tan(theta)
    x, z = x_mm * 1e-3, z_mm * 1e-3

    def excess(r: float) -> float:
        dx, dz = x + r * s, z - r * c
        return omega * omega * r * r * 2 * c * c * (dx * t - dz) - GRAVITY_M_S2 * dx * dx

    lo, hi = 1e-3, 5.0
    if not (excess(lo) < 0 < excess(hi)):
        raise ValueError(
            f"no release radius reaches ({x_mm:.1f}, {z_mm:.1f}) mm at {math.degrees(theta):.1f} deg"
        )
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if excess(mid) > 0 else (mid, hi)
    return (lo + hi) / 2 * 1e3


def trajectory_z(x: float, start: tuple[float, float], v: float, theta: float) -> float:
    """Height (mm) of a ball thrown from ``start`` (mm) at ``v`` (m/s), ``theta`` above +x, at ``x`` (mm)."""
    dx = (x - start[0]) * 1e-3
    vx = v * math.cos(theta)
    return start[1] + (dx * math.tan(theta) - GRAVITY_M_S2 * dx * dx / (2 * vx * vx)) * 1e3


class LaunchFamily(Family):
    name = "launch"
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 10.0,
        "launch_angle_deg": 22.0,
        "hinge_height_mm": 50.0,
        "wall_offset_mm": 40.0,
        "bin_gap_mm": 50.0,
        "bin_length_radii": 7.0,
        "rim_height_mm": 50.0,
        "wall_clearance_mm": 30.0,
    }
    levels = 3

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        level = self.level(seed)
        r = p["radius_mm"]
        theta = math.radians(p["launch_angle_deg"])
        hz = p["hinge_height_mm"]
        _, jy, jz = SPAWN_JITTER_MM

        # Fixtures along +x from the hinge (x = 0): the wall, a gap, the bin. Level 2 and 3 move the bin
        # farther from the wall; level 3 narrows it.
        bin_gap = p["bin_gap_mm"] * (0.4 if level == 1 else 1.6)
        bin_len = p["bin_length_radii"] * r * {1: 1.5, 2: 1.0, 3: 0.75}[level]
        x_w0 = p["wall_offset_mm"]
        x_w1 = x_w0 + WALL_MM
        x_b0 = x_w1 + bin_gap + BIN_WALL_MM  # the bin's near inner face
        x_b1 = x_b0 + bin_len
        rim = p["rim_height_mm"]
        x_target = (x_b0 + x_b1) / 2

        # Ballistics: the arm radius that throws the ball through the bin's centre at rim height.
        omega = math.radians(ARM_SPEED_DEG_S)
        radius = release_radius_mm(x_target, rim - hz, theta, omega)
        v = omega * radius * 1e-3
        gap = POCKET_GAP_RADII * r
        rest_h = r * math.sqrt(2.0) - gap / 2  # ball centre above the plate, resting on both V faces
        arm_len = math.sqrt(radius * radius - rest_h * rest_h)  # hinge to pocket centre along the arm
        delta = math.degrees(math.atan2(rest_h, arm_len))
        stop_deg = 90.0 - delta - math.degrees(theta)
        release = (-radius * math.sin(theta), hz + radius * math.cos(theta))

        # The arm, placed level along -x with its top face through the hinge axis (z = hz).
        inner_y = r + jy + 1.0
        half_w = inner_y + RAIL_MM
        wedge = WEDGE_RADII * r
        xa, xb = -arm_len + gap / 2, -arm_len - gap / 2
        x_back = xb - wedge - WEDGE_FLAT_MM
        x_front = xa + wedge + WEDGE_FLAT_MM
        rail_h = RAIL_RADII * r
        hub = box((-HUB_SPAN_MM, -half_w, hz - PLATE_MM), (HUB_MM, half_w, hz))
        arm = compound(
            [
                box((x_back, -half_w, hz - PLATE_MM), (-HUB_SPAN_MM, half_w, hz)),
                prism_xz(
                    [(xa, hz), (x_front, hz), (x_front, hz + wedge), (xa + wedge, hz + wedge)],
                    -inner_y,
                    inner_y,
                ),
                prism_xz(
                    [(x_back, hz), (xb, hz), (xb - wedge, hz + wedge), (x_back, hz + wedge)],
                    -inner_y,
                    inner_y,
                ),
                box((x_back, -half_w, hz), (x_front, -inner_y, hz + rail_h)),
                box((x_back, inner_y, hz), (x_front, half_w, hz + rail_h)),
            ]
        )
        # Servo: q(t) = A + A sin(2 pi f t - 90 deg), from rest at 0 to the stop at A, where it is fastest.
        frequency = ARM_SPEED_DEG_S / (2 * math.pi * stop_deg)
        joint = JointSpec(
            type="hinge",
            axis=(0.0, 1.0, 0.0),
            anchor_mm=(0.0, 0.0, round(hz, 3)),
            range=(-LIMIT_MARGIN_DEG, round(stop_deg, 3)),
        )
        motor = MotorSpec(
            mode="sinusoidal",
            item=MOTOR_ITEM,
            max_effort=MOTOR_EFFORT_NM,
            amplitude=round(stop_deg, 3),
            offset=round(stop_deg, 3),
            frequency_hz=round(frequency, 6),
            phase_deg=-90.0,
            stall_s=MOTOR_STALL_S,
        )

        # Spawn just above the pocket (its envelope clear of the wedges), the build zone around the placed arm.
        spawn_z = hz + wedge + r + jz + 2.0
        spawn = (-arm_len, 0.0, spawn_z)
        build_top = max(hz + rail_h, spawn_z + r + jz) + 20.0
        build_zone = zone((x_back - 20.0, -half_w - 20.0, 0.0), (x_w0, half_w + 20.0, build_top))

        # The wall: tall (level 2, 3) reaches up to the clearance under the trajectory over its top corners.
        tall = min(trajectory_z(x, release, v, theta) for x in (x_w0, x_w1)) - r - p["wall_clearance_mm"]
        low = build_top + MIN_WALL_RISE_MM
        if tall < low:
            raise ValueError(
                f"the wall ({tall:.1f} mm) does not rise above the build zone ({build_top:.1f} mm)"
            )
        wall_top = low + LOW_WALL_SHARE * (tall - low) if level == 1 else tall

        by = 3.0 * r
        x_end = x_b1 + BIN_WALL_MM + (FORBIDDEN_FAR_RADII * r if level == 3 else 0.0)
        apex = release[1] + (v * math.sin(theta)) ** 2 / (2 * GRAVITY_M_S2) * 1e3 + r
        bounds = simulation_bounds(build_zone.min_mm[0], -by - BIN_WALL_MM, x_end, by + BIN_WALL_MM, apex)
        y_lo, y_hi = bounds.min_mm[1], bounds.max_mm[1]
        wall = box((x_w0, y_lo, 0.0), (x_w1, y_hi, wall_top))
        bx0, bx1 = x_b0 - BIN_WALL_MM, x_b1 + BIN_WALL_MM
        bin_shape = compound(
            [
                box((bx0, -by - BIN_WALL_MM, 0.0), (bx1, by + BIN_WALL_MM, BIN_BASE_MM)),
                box((bx0, -by - BIN_WALL_MM, BIN_BASE_MM), (bx1, -by, rim)),
                box((bx0, by, BIN_BASE_MM), (bx1, by + BIN_WALL_MM, rim)),
                box((bx0, -by, BIN_BASE_MM), (x_b0, by, rim)),
                box((x_b1, -by, BIN_BASE_MM), (bx1, by, rim)),
            ]
        )
        forbidden = []
        if level == 3:
            forbidden = [
                named_zone("short", (x_w1, y_lo, 0.0), (bx0, y_hi, rim)),
                named_zone("long", (bx1, y_lo, 0.0), (x_end, y_hi, rim)),
            ]
        params = {
            **p,
            "complexity_level": float(level),
            "arm_length_mm": round(arm_len, 3),
            "release_radius_mm": round(radius, 3),
            "release_speed_m_s": round(v, 4),
            "release_x_mm": round(release[0], 3),
            "release_z_mm": round(release[1], 3),
            "stop_angle_deg": round(stop_deg, 3),
            "wall_height_mm": round(wall_top, 3),
            "bin_near_mm": round(x_b0, 3),
            "bin_far_mm": round(x_b1, 3),
            "spawn_height_mm": round(spawn_z, 3),
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball is dropped behind a {wall_top:.0f} mm wall, taller than the build "
                f"zone; get it into the bin {x_b0 - x_w1:.0f} mm beyond the wall. Passive parts cannot lift it "
                f"over: use a motor (moving parts may leave the build zone)."
            ),
            fixtures=[
                floor_part(bounds),
                CadPart("wall", PartRole.FIXTURE, FIXTURE_MATERIAL, None, wall),
                CadPart("bin", PartRole.FIXTURE, FIXTURE_MATERIAL, None, bin_shape),
            ],
            reference=[
                CadPart(
                    "hub",
                    PartRole.REFERENCE,
                    HUB_MATERIAL,
                    ManufacturingMethod.CNC_MILLING,
                    hub,
                    fixed=False,
                    joint=joint,
                    motor=motor,
                ),
                CadPart(
                    "arm",
                    PartRole.REFERENCE,
                    ARM_MATERIAL,
                    ARM_METHOD,
                    arm,
                    fixed=False,
                    joint=JointSpec(type="fixed", parent="hub", fasteners=HUB_FASTENERS),
                ),
            ],
            payload=payload(r, spawn, material),
            goal_zone=zone((x_b0, -by, BIN_BASE_MM), (x_b1, by, rim)),
            forbidden_zones=forbidden,
            build_zone=build_zone,
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=3.0).model_copy(
                update={"check_interval_steps": CHECK_INTERVAL_STEPS}
            ),
        )
