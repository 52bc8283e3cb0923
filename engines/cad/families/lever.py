"""``lever``: a ball dropped beside a tower must be raised onto the shelf on top by a falling counterweight.

Fixtures: a floor and a tower whose top is a shelf sloping gently down to a back wall, with lips at its ends.
The tower stands beside (+y of) the spot where the payload spawns, well below the shelf, so with nothing built
the ball lands on the floor and stays there. The goal is the shelf (the ball's centre over it, at least one
radius in from its front edge). No motor is needed or meant (see the report: today's cost cap would still fit
a hobby servo). Level 1 has a counterweight arm longer than the ball's arm (mechanical advantage > 1, a light
counterweight); level 2 a higher shelf, so a longer ball arm, and a shorter counterweight arm (a heavy
counterweight); level 3 adds a larger, heavier ball and a forbidden pit on the floor under the spawn.

Reference solution, two parts and no motor:

- ``lever`` (milled hardwood): a narrow spine along x on a hinge (axis +y, no motor) with a tray on its ball
  end (-x) and a cup on its counterweight end (+x). The hinge's range is ``(0, sweep)``: the lever rests on its
  lower stop, the ball end down by ``sweep`` degrees (its own weight and the ball's keep it there), and turns
  until the spine is level on its upper stop. A rotary damper in the hinge (``damping``) makes the turn last
  about ``rise_time_s`` instead of slamming the tray into its stop and tossing the ball. The tray is a wedge
  whose top slopes down toward the tower by 10-13 degrees, across the spine (a slope the turn about y leaves
  unchanged), with a rim at each end and none along its sides: the tower's front face, ``TOWER_GAP_MM`` away,
  is its wall. The ball rests in the tray against that face, is pushed up along it (a shallow wedge: it slides
  without jamming), and rolls onto the shelf once the tray's edge has risen over the shelf's front edge
  (``SHELF_DROP_MM`` under it at the upper stop). The turn happens in the xz plane, so the gap to the face
  stays the same all the way up. Every block's ends are turned by ``RIM_SKEW_DEG`` about z so the milled part
  has no concave edge along a machine axis.
- ``counterweight`` (a steel block, a free body): it starts inside the cup, ``cw_drop_mm`` above its floor,
  falls into it, slides against the cup's inner wall and tips the lever.

Torque balance about the hinge (gravity only; x from the hinge axis, positive on the counterweight's side):
the lever turns ball-end up when ``M x_M + m x_m + m_l x_l > 0``, with the counterweight's mass ``M`` at its
arm ``x_M = b``, the ball's ``m`` at ``x_m = -a`` (the ball's weight acts through its centre however the tray,
the rim and the face share its support) and the lever's own static moment ``m_l x_l < 0`` (the tray's side is
the heavier). Without the counterweight the sum is negative, so the lever stays down. The counterweight is
sized from the balance at the lower stop, ``M b = k (m a - m_l x_l)`` with ``k = 1 + torque_margin``
(1.6-2.4): the mechanical advantage ``b / a`` sets how heavy it must be, light on level 1 (``b > a``), heavier
on levels 2 and 3 (``b < a``), and a larger ball needs proportionally more. Energy says the same: the
counterweight falls ``b / a`` times as far as the ball rises, so it must weigh more than ``a / b`` balls (plus
the lever's share). The damping is ``(k - 1) (m a - m_l x_l) g * rise_time_s / sweep``: the net torque over the
speed that covers the sweep in ``rise_time_s``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from build123d import Axis, Face, Location, Shape, Shell, Solid, Vector, Wire

from engines.cad.families.base import (
    FIXTURE_MATERIAL,
    GRAVITY_M_S2,
    PAYLOAD_MATERIALS,
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
from engines.cad.primitives import Point3, box
from shared.materials import props
from shared.models import JointSpec, ManufacturingMethod, MaterialId, PartRole

PLATE_MM = 6.0
"""Thickness of the spine."""
RIM_MM = 4.0
SIDE_SLOPE_BASE_DEG = 8.5
"""The tray's slope toward the tower is this plus ``side_slope_deg`` (10.3-12.7 degrees): steep enough to roll
the ball onto the shelf, shallow enough that the ball pressed between tray and face slides up the face without
jamming (a wedge: it then weighs about 1.5 times its weight on the tray)."""
TRAY_EDGE_MM = 8.0
"""Thickness of the tray's wedge at its edge by the tower."""
WALL_MM = 8.0
"""Thickness of the shelf's lips and back wall."""
TRAY_LENGTH_RADII = 4.0
"""The tray's inner length between its end rims on the tower's side, in ball radii."""
RIM_SKEW_DEG = -12.0
"""The tray's end rims are turned about z by this angle (the pocket widens away from the tower), so the edges
where they meet the tray's sloping top lie more than 8.1 degrees off every axis: no corner along a mill's axis,
whatever the part's principal frame. (Turned the other way, a rim would press the ball into the face and jam
it.)"""
TOWER_GAP_MM = 6.0
"""Gap between the tray's edge and the tower's face: more than the robust proof's ±2 mm and ±1 degree can
close there, less than the ball's radius (less its slope's share) so the ball sits on the tray."""
FLOOR_CLEARANCE_MM = 10.0
"""Least gap between the floor and the lever at its lower stop."""
SHELF_DROP_MM = 2.0
"""The shelf's front edge lies this far under the tray's edge at the upper stop."""
SHELF_SLOPE_DEG = 3.0
SPAWN_CLEARANCE_MM = 2.0
"""Gap between the ball and the tower's face at the jitter box's nearest corner."""
CUP_CLEARANCE_MM = 4.0
"""Gap between the counterweight and each of the cup's walls."""
CUP_WALL_ABOVE_MM = 6.0
"""The cup's walls rise this far above the counterweight's spawn bottom, so it falls guided."""
CW_LENGTH_RADII = 3.0
CW_WIDTH_RADII = 2.0
"""The counterweight's length along the lever and its width, in ball radii; its height follows from its
mass."""
CUP_MM = 3.0
"""Thickness of the cup's floor and its two end walls (thin: the lever's own weight stays on the tray's side;
no side walls, which would meet the end walls in vertical corners)."""
LEVER_MATERIAL = MaterialId.HARDWOOD
LEVER_METHOD = ManufacturingMethod.CNC_MILLING
"""Milled: a lever up to a metre long does not fit a desktop printer. Its blocks meet only along horizontal
edges (a floor and a wall), never two walls in a vertical corner an end mill cannot cut, and nothing
overhangs a face a 3-axis tool path cannot see."""
CW_MATERIAL = MaterialId.STEEL_CARBON
CW_METHOD = ManufacturingMethod.CNC_MILLING
LEVELS: dict[int, dict[str, float]] = {
    1: {"lift": 1.0, "ratio": 1.0, "ball": 1.0},
    2: {"lift": 1.5, "ratio": 0.5, "ball": 1.0},
    3: {"lift": 1.5, "ratio": 0.5, "ball": 1.25},
}
"""Per level: scale of the shelf's height (in ball radii), the arm ratio ``b / a`` before the sampled share
(``ratio * (1 + arm_ratio / 4)``: 1.15-1.35 on level 1, 0.57-0.67 on levels 2 and 3) and the ball's scale."""
SPINE_MM = 8.0
"""Width of the beam between the hinge and the cup: narrow, so the lever's own weight stays on the tray's side
of the hinge (without the counterweight the lever stays down)."""


def rot_y(angle_deg: float) -> np.ndarray:
    """The turn about +y by ``angle_deg`` (build123d's ``rotate(Axis.Y, ...)``): positive raises -x."""
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_x(angle_deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def prism_yz(points_yz: Sequence[tuple[float, float]], x_min: float, x_max: float) -> Solid:
    """A convex polygon in the YZ plane extruded along +x from ``x_min`` to ``x_max``."""
    wire = Wire.make_polygon([Vector(x_min, y, z) for y, z in points_yz], close=True)
    return Solid.extrude(Face(wire), Vector(x_max - x_min, 0, 0))


def hexahedron(bottom: Sequence[Point3], top: Sequence[Point3]) -> Solid:
    """The convex solid between two quadrilaterals (counter-clockwise seen from above), joined corner to
    corner by planar sides."""
    quads = [list(bottom)[::-1], list(top)] + [
        [bottom[i], bottom[(i + 1) % 4], top[(i + 1) % 4], top[i]] for i in range(4)
    ]
    faces = [Face(Wire.make_polygon([Vector(*p) for p in q], close=True)) for q in quads]
    return Solid(Shell(faces))


def static_moment(shape: Shape, density_kg_m3: float) -> tuple[float, float]:
    """Mass (kg) and mass times the centre's x (kg*mm) of a part made of touching solids."""
    mass = moment = 0.0
    for solid in shape.solids():
        m = density_kg_m3 * solid.volume * 1e-9
        mass += m
        moment += m * solid.center().X
    return mass, moment


class LeverFamily(Family):
    name = "lever"
    levels = 3
    payload_materials = tuple(m for m in PAYLOAD_MATERIALS if m is not MaterialId.RUBBER_GENERIC)
    """Not rubber: with rubber's friction of 0.9 the reference does not deliver the ball (seed 7 in rubber:
    every scene timed out short of the shelf; in steel every scene reached it)."""
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 13.0,
        "lift_radii": 4.5,
        "sweep_deg": 28.0,
        "side_slope_deg": 3.0,
        "arm_ratio": 1.0,
        "torque_margin": 1.0,
        "rise_time_s": 0.8,
        "fall_gap_mm": 10.0,
        "cw_drop_mm": 8.0,
        "shelf_depth_radii": 5.0,
    }

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        level = self.level(seed)
        lv = LEVELS[level]
        r = round(p["radius_mm"] * lv["ball"], 3)
        sweep = p["sweep_deg"]
        phi = SIDE_SLOPE_BASE_DEG + p["side_slope_deg"]
        sin_s, sin_p, cos_p = (
            math.sin(math.radians(sweep)),
            math.sin(math.radians(phi)),
            math.cos(math.radians(phi)),
        )
        _, jy, jz = SPAWN_JITTER_MM
        tan_p = math.tan(math.radians(phi))
        half_w = 1.6 * r
        rim_h = 0.8 * r
        tray_len = TRAY_LENGTH_RADII * r + 2 * RIM_MM  # at the tower's side; the rims are skewed
        gap = p["fall_gap_mm"]
        # The ball's end of the lever: long enough that turning by the sweep lifts the tray's edge from under
        # the spawn to the shelf (lift_radii ball radii above the spawn, to first order).
        lift = p["lift_radii"] * lv["lift"] * r
        tip = (lift + r + gap + SHELF_DROP_MM) / sin_s + tray_len / 2

        # The lever at its upper stop (level), hinge at the origin on the spine's top face (z = 0). Milled in one
        # piece: a narrow spine along x with blocks on top, none of two walls meeting in a vertical corner.
        # The tray, x = -tip .. x_in, is a wedge whose top slopes down toward +y (the tower) by phi, with a
        # rim at each end and none along its sides.
        x_in = -tip + tray_len

        def tray_top(y: float) -> float:
            return TRAY_EDGE_MM + (half_w - y) * tan_p

        skew = math.tan(math.radians(RIM_SKEW_DEG))

        def block(
            x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, on_tray: bool = False
        ) -> Solid:
            """A block whose ends x0, x1 (at y = +half_w) are turned by RIM_SKEW_DEG about z, standing on the
            tray's sloping top (z measured from it) when ``on_tray``."""

            def corner(x: float, y: float, z: float) -> tuple[float, float, float]:
                return (x + (half_w - y) * skew, y, z + (tray_top(y) if on_tray else 0.0))

            plan = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            return hexahedron([corner(x, y, z0) for x, y in plan], [corner(x, y, z1) for x, y in plan])

        def wedge_block(x0: float, x1: float) -> Solid:
            plan = [(x0, -half_w), (x1, -half_w), (x1, half_w), (x0, half_w)]
            bottom = [(x + (half_w - y) * skew, y, 0.0) for x, y in plan]
            return hexahedron(bottom, [(x, y, tray_top(y)) for x, y, _ in bottom])

        tray = [
            wedge_block(-tip, x_in),
            block(-tip, -tip + RIM_MM, -half_w, half_w, 0.0, rim_h, on_tray=True),
            block(x_in - RIM_MM, x_in, -half_w, half_w, 0.0, rim_h, on_tray=True),
        ]
        # The ball's arm (needed for the counterweight's): against the outer rim, at the lower stop.
        normal = np.array([0.0, sin_p, cos_p])
        ball_mass = props(material).density_kg_m3 * 4.0 / 3.0 * math.pi * r**3 * 1e-9
        y_ball = half_w + TOWER_GAP_MM - r  # against the tower's face
        x_ball = -tip + RIM_MM + (half_w - y_ball) * skew + r / math.cos(math.radians(RIM_SKEW_DEG))
        ball_low = rot_y(-sweep) @ (np.array([x_ball, y_ball, tray_top(y_ball)]) + r * normal)
        arm_a = -float(ball_low[0])
        arm_b = lv["ratio"] * (1.0 + p["arm_ratio"] / 4) * arm_a / math.cos(math.radians(sweep))
        cw_len, cw_w = CW_LENGTH_RADII * r, CW_WIDTH_RADII * r
        cup_in = arm_b - cw_len / 2 - CUP_CLEARANCE_MM  # the cup's inner wall face
        cup_out = arm_b + cw_len / 2 + CUP_CLEARANCE_MM
        x_end = cup_out + CUP_MM
        drop = p["cw_drop_mm"]
        wall_h = drop + CUP_WALL_ABOVE_MM
        cup_w = cw_w / 2 + CUP_CLEARANCE_MM
        beam = [
            block(-tip, x_end, -SPINE_MM / 2, SPINE_MM / 2, -PLATE_MM, 0.0),
            block(cup_in - CUP_MM, x_end, -cup_w, cup_w, 0.0, CUP_MM),
            block(cup_in - CUP_MM, cup_in, -cup_w, cup_w, CUP_MM, CUP_MM + wall_h),
            block(cup_out, x_end, -cup_w, cup_w, CUP_MM, CUP_MM + wall_h),
        ]
        level_shape = compound(tray + beam)

        # Hinge height: the lever at its lower stop clears the floor.
        lo_bb = level_shape.rotate(Axis.Y, -sweep).bounding_box()
        z_hinge = FLOOR_CLEARANCE_MM - lo_bb.min.Z

        def placed(shape: Shape) -> Shape:
            return shape.rotate(Axis.Y, -sweep).moved(Location((0.0, 0.0, z_hinge)))

        lever_shape = placed(level_shape)

        # Counterweight from the torque balance at the lower stop (it slides to the cup's inner wall).
        lever_mass, lever_moment = static_moment(lever_shape, props(LEVER_MATERIAL).density_kg_m3)
        cw_arm = float((rot_y(-sweep) @ np.array([cup_in + cw_len / 2, 0.0, 0.0]))[0])
        k = 1.0 + p["torque_margin"]
        cw_mass = k * (ball_mass * arm_a - lever_moment) / cw_arm
        cw_h = cw_mass / (props(CW_MATERIAL).density_kg_m3 * 1e-9) / (cw_len * cw_w)
        cw_shape = placed(
            block(
                arm_b - cw_len / 2,
                arm_b + cw_len / 2,
                -cw_w / 2,
                cw_w / 2,
                CUP_MM + drop,
                CUP_MM + drop + cw_h,
            )
        )

        # Tower beside the tray (+y), its face TOWER_GAP_MM from the tray's edge, along the tray's x range at
        # both stops; the shelf's front edge SHELF_DROP_MM under the tray's edge at the upper stop.
        y_face = max(half_w, cup_w) + TOWER_GAP_MM
        shelf_z = z_hinge + TRAY_EDGE_MM - SHELF_DROP_MM
        depth = p["shelf_depth_radii"] * r
        y_back = y_face + depth
        back_z = shelf_z - depth * math.tan(math.radians(SHELF_SLOPE_DEG))
        lip_h = 1.2 * r
        tx0 = min(-tip, lever_shape.bounding_box().min.X) - WALL_MM
        tx1 = x_in + WALL_MM
        top_xz = [(y_face, shelf_z), (y_back, back_z), (y_back, back_z + lip_h), (y_face, shelf_z + lip_h)]
        tower = compound(
            [
                prism_yz([(y_face, 0.0), (y_back, 0.0), (y_back, back_z), (y_face, shelf_z)], tx0, tx1),
                box((tx0, y_back, 0.0), (tx1, y_back + WALL_MM, back_z + lip_h)),
                prism_yz(top_xz, tx0, tx0 + WALL_MM),
                prism_yz(top_xz, tx1 - WALL_MM, tx1),
            ]
        )

        # Spawn: fall_gap_mm straight above a ball touching the tray, placed so that the fall ends over the
        # tray's middle, the jitter box's nearest corner SPAWN_CLEARANCE_MM from the face.
        y_spawn = y_face - r - jy - SPAWN_CLEARANCE_MM
        y_touch = y_spawn - r * sin_p
        on_tray = np.array(
            [x_in - tray_len / 2 + (half_w - y_touch) * skew - gap * sin_s, y_touch, tray_top(y_touch)]
        )
        centre = rot_y(-sweep) @ (on_tray + r * normal)
        x_spawn = float(centre[0])
        spawn_z = float(centre[2]) + z_hinge + gap

        # A rotary damper in the hinge: the lever turns at about the speed that takes it through the sweep in
        # rise_time_s under the net torque at the lower stop, so the tray reaches its upper stop slowly and the
        # ball is not tossed off it (undamped, the excess work of the counterweight would throw it).
        net_torque = GRAVITY_M_S2 * (cw_mass * cw_arm - ball_mass * arm_a + lever_moment) * 1e-3  # N*m
        damping = net_torque * p["rise_time_s"] / math.radians(sweep)
        joint = JointSpec(
            type="hinge",
            axis=(0.0, 1.0, 0.0),
            anchor_mm=(0.0, 0.0, round(z_hinge, 3)),
            range=(0.0, sweep),
            damping=round(damping, 6),
        )
        reach = max(lever_shape.bounding_box().max.Z, cw_shape.bounding_box().max.Z, spawn_z + r + jz)
        lbb = lever_shape.bounding_box()
        build_zone = zone((tx0, -half_w - 20.0, 0.0), (lbb.max.X + 20.0, y_face, reach + 20.0))
        bounds = simulation_bounds(
            tx0,
            -half_w - 20.0,
            build_zone.max_mm[0],
            y_back + WALL_MM,
            max(build_zone.max_mm[2], back_z + lip_h),
        )
        forbidden = []
        if level == 3:
            forbidden.append(named_zone("pit", (tx0, -half_w - 20.0, 0.0), (tx1, y_face, 5.0)))
        params = {
            **p,
            "complexity_level": float(level),
            "ball_radius_mm": r,
            "ball_arm_mm": round(arm_a, 3),
            "counterweight_arm_mm": round(cw_arm, 3),
            "ball_mass_kg": round(ball_mass, 6),
            "counterweight_mass_kg": round(cw_mass, 6),
            "lever_mass_kg": round(lever_mass, 6),
            "lever_moment_kg_mm": round(lever_moment, 6),
            "hinge_damping_nms_rad": round(damping, 6),
            "hinge_height_mm": round(z_hinge, 3),
            "shelf_height_mm": round(shelf_z, 3),
            "spawn_height_mm": round(spawn_z, 3),
            "lift_height_mm": round(shelf_z - spawn_z, 3),
        }
        return FamilyDesign(
            params=params,
            description=(
                f"A {2 * r:.0f} mm {ball} ball is dropped beside a tower; get it onto the shelf on top, "
                f"{shelf_z - spawn_z:.0f} mm above where it starts. No motor is allowed (max_motors 0)."
            ),
            fixtures=[floor_part(bounds), CadPart("tower", PartRole.FIXTURE, FIXTURE_MATERIAL, None, tower)],
            reference=[
                CadPart(
                    "lever",
                    PartRole.REFERENCE,
                    LEVER_MATERIAL,
                    LEVER_METHOD,
                    lever_shape,
                    fixed=False,
                    joint=joint,
                ),
                CadPart("counterweight", PartRole.REFERENCE, CW_MATERIAL, CW_METHOD, cw_shape, fixed=False),
            ],
            payload=payload(r, (x_spawn, y_spawn, spawn_z), material),
            goal_zone=zone((tx0 + WALL_MM, y_face + r, back_z), (tx1 - WALL_MM, y_back, shelf_z + 2 * r)),
            forbidden_zones=forbidden,
            build_zone=build_zone,
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=3.0),
            max_motors=0,
        )
