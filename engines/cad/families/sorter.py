"""``sorter``: sort balls by size. Two or three balls of one material and different diameters are dropped
one behind another along +x, and each must reach its own goal zone on the floor ahead: the smallest the
nearest, the largest the farthest.

The balls spawn at the same time on one line along +x, the smallest in front (downstream) and each larger
one behind it, far enough apart that their spawn envelopes stay clear; so with nothing built they all fall
onto the floor where they start, and none reaches a goal. The goals lie on the floor further along +x, one
per ball, in order of size, with forbidden floor between consecutive goals: a part that carries every ball
to one place solves at most one of them, and balls set down on the floor together cannot sort themselves by
rolling through a nearer goal into a farther one. Fixtures: the floor only. Levels:

1. two balls (small, large), two goals;
2. two balls closer in size (``STEP_SCALE``: tighter gap margins), and the floor under the spawn points
   forbidden too;
3. three balls (small, medium, large), three goals, forbidden floor as 2.

Reference solution: an inclined track along +x (surface ``z(x) = z_end + (x_end - x) tan(theta)``) of
separate aluminium bars: a pair of rails whose gap ``w1`` lies halfway between the small and the next
diameter, and a filler strip between the rails, flush with their tops, under the spawn points only. Every
ball lands on the filler and rolls down; where the filler ends, the small ball (diameter < ``w1``) drops
through the gap into its goal, while a larger one (diameter > ``w1``) rides on the rails' edges. Level 3
continues with a second rail pair whose gap ``w2`` lies between the medium and the large diameter: the medium
ball drops through there, and the large one rides to the end and falls into the farthest goal. A ball
passes a gap of width ``w`` exactly when ``w > d``; the gaps keep the radius step between sizes (at least
6 mm) of margin each way, so a ±2 mm shift of a rail or the spawn jitter does not change the sort. Each rail
segment is long enough that a ball dropping at its start lands (at the loss-free speed) before the next goal
begins. On two edges a ball turns about the line through its contact points, so a smaller ball sitting
deeper in a narrower gap rolls slower than a larger one behind it: at level 3 the large ball spawns far
enough back (rolling kinematics, :func:`rolling_accel_x`) not to catch the medium one before it drops, and
two side guards keep a ball on the track if it is knocked anyway.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

from build123d import Solid

from engines.cad.families.base import (
    GRAVITY_M_S2,
    PAYLOAD_MATERIALS,
    SPAWN_JITTER_MM,
    CadPart,
    Family,
    FamilyDesign,
    floor_part,
    named_zone,
    payload,
    rolling_speed_bound_m_s,
    simulation_bounds,
    simulation_settings,
    zone,
)
from engines.cad.primitives import prism_xz
from shared.materials import props
from shared.models import Box, ManufacturingMethod, MaterialId, NamedBox, PartRole

RAIL_WIDTH_MM = 8.0
RAIL_DEPTH_MM = 8.0
"""The rails' vertical thickness."""
FILLER_DEPTH_MM = 5.0
FILLER_CLEARANCE_MM = 1.0
"""Gap between the filler strip and each rail (and between consecutive rail pairs along x)."""
STEP_BASE_MM = 4.0
"""The radius step between sizes is this plus the sampled ``size_step_mm``."""
STEP_SCALE = {1: 1.0, 2: 0.85, 3: 0.85}
"""Level 2 and 3 balls are closer in size: the gaps' margins are tighter."""
BALLS = {1: 2, 2: 2, 3: 3}
LABELS = ("small_ball", "medium_ball", "large_ball")
GOAL_MARGIN_MM = 15.0
"""Length added beyond a ball's loss-free landing point to its goal."""
GOAL_SPACING_MM = 20.0
"""Free floor between consecutive goals (forbidden at levels 2 and 3)."""
FORBIDDEN_HEIGHT_MM = 5.0
FIXED_POINT_PASSES = 4
BISECTIONS = 40
MIN_DURATION_S, MAX_DURATION_S = 3.0, 6.0
CATCH_CLEARANCE_MM = 15.0
GUARD_CLEARANCE_MM = 8.0
"""Level 3: the side guards stand this far beyond the largest ball (and its spawn jitter, 3 mm, inside it)."""
"""Level 3: a ball is still this far behind the one ahead when that one has dropped (kinematic estimate)."""
PART_MATERIAL = MaterialId.ALUMINUM_6061
PART_METHOD = ManufacturingMethod.CNC_MILLING


def bar(x0: float, x1: float, y0: float, y1: float, depth: float, surface: Callable[[float], float]) -> Solid:
    """A bar under the track surface ``surface(x)`` from ``x0`` to ``x1``, ``depth`` thick (vertically)."""
    pts = [(x0, surface(x0)), (x0, surface(x0) - depth), (x1, surface(x1) - depth), (x1, surface(x1))]
    return prism_xz(pts, y0, y1)


def rolling_accel_x(theta: float, radius: float, gap: float | None) -> float:
    """A solid ball's acceleration along x (m/s^2) rolling down the slope ``theta`` on a flat strip
    (``gap`` None) or on two edges ``gap`` apart: it turns about the line through its contact points, at
    ``h = sqrt(r^2 - gap^2 / 4)`` from its centre, so ``a = g sin(theta) / (1 + (2/5) (r / h)^2)``."""
    ratio2 = 1.0 if gap is None else radius**2 / (radius**2 - gap**2 / 4)
    return GRAVITY_M_S2 * math.sin(theta) * math.cos(theta) / (1.0 + 0.4 * ratio2)


def arrival_s(x0: float, x_target: float, sections: list[tuple[float, float]]) -> float:
    """Time (s) for a ball starting at rest at ``x0`` to reach ``x_target``, with constant accelerations
    along x per section (``(x_until, a_x)``, in order; the last one holds beyond its end)."""
    t, v, x = 0.0, 0.0, x0
    for k, (x_until, a) in enumerate(sections):
        end = x_target if k == len(sections) - 1 else min(x_until, x_target)
        if end <= x:
            continue
        d = (end - x) * 1e-3
        dt = (-v + math.sqrt(v * v + 2 * a * d)) / a
        t, v, x = t + dt, v + a * dt, end
        if x >= x_target:
            break
    return t


def landing_reach_mm(speed_m_s: float, theta: float, drop_mm: float) -> float:
    """How far along x a ball leaving the track at ``speed_m_s`` (along the slope ``theta``) travels while
    its centre falls ``drop_mm``."""
    vx, vz = speed_m_s * math.cos(theta), speed_m_s * math.sin(theta)
    t = (-vz + math.sqrt(vz * vz + 2 * GRAVITY_M_S2 * drop_mm * 1e-3)) / GRAVITY_M_S2
    return vx * t * 1e3


class SorterFamily(Family):
    name = "sorter"
    payload_materials = tuple(m for m in PAYLOAD_MATERIALS if m is not MaterialId.RUBBER_GENERIC)
    """Not rubber: with rubber's friction of 0.9 the largest ball creeps along the rails (seed 11 in rubber:
    every scene timed out with it 250 mm short of its goal)."""
    scale_range = (0.8, 0.95)
    """Below nominal: level 3's side guards, up to 765 mm long at scale 1, must fit the milling machine's
    762 mm travel (CNC.STOCK_SIZE)."""
    nominal: ClassVar[dict[str, float]] = {
        "radius_mm": 10.0,
        "size_step_mm": 6.0,
        "track_angle_deg": 10.0,
        "rail_height_mm": 60.0,
        "run_mm": 40.0,
        "segment_radii": 4.0,
        "fall_gap_mm": 15.0,
        "spacing_mm": 20.0,
    }
    levels = 3

    def generate(self, seed: int) -> FamilyDesign:
        p = self.sample(seed)
        material = self.payload_material(seed)
        ball = props(material).name
        level = self.level(seed)
        n = BALLS[level]
        step = (STEP_BASE_MM + p["size_step_mm"]) * STEP_SCALE[level]
        radii = [p["radius_mm"] + k * step for k in range(n)]
        gaps = [2 * r + step for r in radii[:-1]]  # gap k: between diameters k and k + 1
        theta = math.radians(p["track_angle_deg"])
        tan_t = math.tan(theta)
        jx, _, jz = SPAWN_JITTER_MM
        r_max = radii[-1]

        # Spawn points along x: the smallest at x = 0, each larger one behind (upstream of) the previous.
        xs = [0.0]
        for k in range(1, n):
            xs.append(xs[-1] - (radii[k - 1] + radii[k] + 2 * jx + p["spacing_mm"]))
        x_filler_end = radii[0] + jx + p["run_mm"]

        # Track: surface z(x) = z_end + (x_end - x) tan(theta). Segment k (rail pair k, gap gaps[k]) ends where
        # ball k + 1 drops (or the track ends), long enough that ball k, dropping at the segment's start at the
        # loss-free speed, falls below its goal's top before the next goal begins. The heights depend on x_end,
        # which depends on the segments: a few fixed-point passes (the reach grows slowly with the height).
        z_end = p["rail_height_mm"] + 2 * r_max + RAIL_DEPTH_MM
        fall_gap = p["fall_gap_mm"]
        lift = [(r + jx) * tan_t + jz + fall_gap for r in radii]  # spawn centre above the surface, less r
        tops = [(r + z_end - RAIL_DEPTH_MM) / 2 for r in radii]  # goal k's top

        def layout(x_end: float) -> tuple[list[float], list[float]]:
            drops, reaches = [x_filler_end], []
            for k in range(n):
                speed = rolling_speed_bound_m_s((drops[k] - xs[k]) * tan_t + lift[k])
                release_z = z_end + (x_end - drops[k]) * tan_t + radii[k]
                reaches.append(
                    landing_reach_mm(speed, theta, release_z - tops[k]) + radii[k] + GOAL_MARGIN_MM
                )
                if k < n - 1:
                    seg = max(p["segment_radii"] * radii[k + 1], reaches[k] + GOAL_SPACING_MM + radii[k + 1])
                    drops.append(drops[k] + seg)
            return drops, reaches

        x_end = x_filler_end
        for _ in range(FIXED_POINT_PASSES):
            drops, reaches = layout(x_end)
            x_end = drops[-1]
        drops, reaches = layout(x_end)

        # Kinematics: on the rails a larger ball rolls faster than a smaller one sitting deeper in a narrower
        # gap, so each ball behind (from the third on) starts far enough back that it has not caught up with
        # the one ahead (centres r_k + r_k+1 + CATCH_CLEARANCE_MM apart) when that one is past its drop point.
        def sections(k: int) -> list[tuple[float, float]]:
            out = [(x_filler_end, rolling_accel_x(theta, radii[k], None))]
            for j in range(min(k, n - 1)):
                out.append((drops[j + 1] if j + 1 < n else x_end, rolling_accel_x(theta, radii[k], gaps[j])))
            return out

        land = [math.sqrt(2 * h * 1e-3 / GRAVITY_M_S2) for h in lift]
        for k in range(1, n - 1):
            t_gone = land[k] + arrival_s(xs[k], drops[k] + radii[k], sections(k))
            x_meet = drops[k] - radii[k + 1] - CATCH_CLEARANCE_MM

            def late(x: float, k: int = k, x_meet: float = x_meet, t_gone: float = t_gone) -> bool:
                return land[k + 1] + arrival_s(x, x_meet, sections(k + 1)) >= t_gone

            lo, hi = x_meet - 5000.0, xs[k + 1]
            if not late(hi):
                for _ in range(BISECTIONS):
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if late(mid) else (lo, mid)
                xs[k + 1] = round(lo, 3)
        drops, reaches = layout(x_end)
        x_start = xs[-1] - r_max - jx - 10.0
        arrivals = [land[k] + arrival_s(xs[k], drops[k], sections(k)) for k in range(n)]

        def surface(x: float) -> float:
            return z_end + (x_end - x) * tan_t

        goals: list[Box] = []
        half_y = []
        for k in range(n):
            hy = gaps[min(k, n - 2)] / 2 + RAIL_WIDTH_MM + radii[k]
            half_y.append(hy)
            x1 = drops[k] + reaches[k]
            if k < n - 1:
                x1 = min(x1, drops[k + 1] - GOAL_SPACING_MM)
            goals.append(zone((drops[k] - radii[k], -hy, 0.0), (x1, hy, tops[k])))

        # Reference: the filler strip under the spawn points, rail pair k from the previous drop point (the
        # track's start for the first) to drop k + 1.
        parts: list[CadPart] = []
        fy = gaps[0] / 2 - FILLER_CLEARANCE_MM
        parts.append(self._part("filler", bar(x_start, x_filler_end, -fy, fy, FILLER_DEPTH_MM, surface)))
        for k, gap in enumerate(gaps):
            a = x_start if k == 0 else drops[k] + FILLER_CLEARANCE_MM
            b = drops[k + 1]
            y0, y1 = gap / 2, gap / 2 + RAIL_WIDTH_MM
            suffix = "" if n == 2 else f"_{k + 1}"
            parts.append(self._part(f"rail_left{suffix}", bar(a, b, -y1, -y0, RAIL_DEPTH_MM, surface)))
            parts.append(self._part(f"rail_right{suffix}", bar(a, b, y0, y1, RAIL_DEPTH_MM, surface)))
        if level == 3:
            # Guards along both sides, as high over the track as the largest ball's radius: on the rails the
            # larger balls catch up with the smaller ones ahead (see above), and a knock must not throw one off.
            g0 = max(gaps[-1] / 2 + RAIL_WIDTH_MM + FILLER_CLEARANCE_MM, r_max + GUARD_CLEARANCE_MM)
            g1 = g0 + RAIL_WIDTH_MM

            def guard_top(x: float) -> float:
                return surface(x) + r_max

            for side, (y0, y1) in (("left", (-g1, -g0)), ("right", (g0, g1))):
                shape = bar(x_start, x_end, y0, y1, RAIL_DEPTH_MM + r_max, guard_top)
                parts.append(self._part(f"guard_{side}", shape))

        # Payloads: ball k spawns fall_gap above the track's highest point under its jittered envelope.
        balls = []
        labels = LABELS[:1] + LABELS[3 - n + 1 :]
        for k in range(n):
            z = surface(xs[k]) + (radii[k] + jx) * tan_t + radii[k] + jz + fall_gap
            ball_k = payload(radii[k], (xs[k], 0.0, z), material).model_copy(
                update={"label": labels[k], "goal_zone": goals[k] if k else None}
            )
            balls.append(ball_k)
        top_spawn = max(b.envelope.max_mm[2] for b in balls)

        side = max(half_y) + 40.0
        forbidden: list[NamedBox] = []
        # Forbidden floor between consecutive goals (every level): a ball rolling along the floor through a
        # nearer goal into a farther one touches it, so balls set down on the floor together cannot sort
        # themselves by rolling. Levels 2 and 3 also forbid the floor under the spawn points.
        for k in range(n - 1):
            lo, hi = goals[k].max_mm[0] + 2.0, goals[k + 1].min_mm[0] - 2.0
            forbidden.append(
                named_zone(f"between_{k + 1}", (lo, -side, 0.0), (hi, side, FORBIDDEN_HEIGHT_MM))
            )
        if level >= 2:
            pit_x1 = goals[0].min_mm[0] - GOAL_SPACING_MM / 2
            forbidden.append(
                named_zone("spawn_floor", (x_start, -side, 0.0), (pit_x1, side, FORBIDDEN_HEIGHT_MM))
            )
        x_last = goals[-1].max_mm[0]
        bounds = simulation_bounds(x_start, -side, x_last, side, top_spawn)
        build_zone = zone((x_start - 20.0, -side, 0.0), (x_end + 20.0, side, top_spawn + 20.0))

        # Duration: twice the latest ball's arrival at its drop point and a second to fall, within 3-6 s.
        duration = round(min(max(2.0 * max(arrivals) + 1.0, MIN_DURATION_S), MAX_DURATION_S), 2)

        params: dict[str, float] = {
            **p,
            "complexity_level": float(level),
            "balls": float(n),
            "size_step_radius_mm": round(step, 3),
            "track_end_height_mm": round(z_end, 3),
            "track_end_x_mm": round(x_end, 3),
        }
        for k, r in enumerate(radii):
            params[f"ball_{k + 1}_radius_mm"] = round(r, 3)
        for k, g in enumerate(gaps):
            params[f"gap_{k + 1}_mm"] = round(g, 3)
            params[f"drop_{k + 1}_x_mm"] = round(drops[k], 3)
        diams = ", ".join(f"{2 * r:.0f}" for r in radii)
        return FamilyDesign(
            params=params,
            description=(
                f"{n} {ball} balls ({diams} mm across) are dropped one behind another along +x; sort them by "
                f"size: each must reach its own goal on the floor ahead, the smallest the nearest and the "
                f"largest the farthest."
            ),
            fixtures=[floor_part(bounds)],
            reference=parts,
            payload=balls[0],
            extra_payloads=balls[1:],
            goal_zone=goals[0],
            forbidden_zones=forbidden,
            build_zone=build_zone,
            simulation_bounds=bounds,
            simulation=simulation_settings(seed, duration_s=duration),
        )

    @staticmethod
    def _part(label: str, shape: Solid) -> CadPart:
        return CadPart(label, PartRole.REFERENCE, PART_MATERIAL, PART_METHOD, shape)
