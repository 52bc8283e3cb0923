"""A benchmark script: ``ramp``. A steel ball dropped above a forbidden pit must end up on a landing pad
further along +y, in front of a backstop wall.

Fixtures: a floor slab (top face at z = 0) and a backstop wall behind the landing pad. With nothing built
the ball falls straight into the pit (the forbidden zone under the spawn point). Reference solution: a
straight ramp - a plate with two low side rails, inclined along +y - passing over the pit (clear of it) and
touching the floor with its lower edge, so the ball rolls down it and along the floor onto the pad.

``build()`` returns world-millimetre shapes and JSON-able settings (see
``engines/cad/script_benchmark.py`` for the format); only build123d and the standard library are used.
"""

import math

from build123d import Box, Compound, Pos

RADIUS_MM = 12.0
RAMP_ANGLE_DEG = 18.0
FALL_GAP_MM = 40.0
"""Between the ball's bottom at spawn and the ramp's top surface."""
PIT_HALF_MM = RADIUS_MM + 15.0
PIT_CLEARANCE_MM = 3.0
"""The ramp's underside stays this far above the pit zone's top."""
PLATE_MM = 5.0
RAIL_MM = 4.0
CHANNEL_HALF_MM = 1.6 * RADIUS_MM
RAIL_HEIGHT_MM = 0.7 * RADIUS_MM
PAD_START_MM = 60.0
"""From the ramp's lower end to the landing pad."""
PAD_LENGTH_MM = 100.0
PAD_HALF_WIDTH_MM = 40.0
WALL_MM = 10.0
WALL_HEIGHT_MM = 50.0
WALL_HALF_WIDTH_MM = 60.0
FLOOR_MM = 10.0
MARGIN_MM = 150.0
JITTER_MM = (3.0, 3.0, 1.0)


def box(lo, hi):
    """An axis-aligned box between two corners (world millimetres)."""
    size = [b - a for a, b in zip(lo, hi)]
    return Pos(*((a + b) / 2 for a, b in zip(lo, hi))) * Box(*size)


def zone(lo, hi):
    return {"min_mm": [round(v, 3) for v in lo], "max_mm": [round(v, 3) for v in hi]}


def build():
    r, theta = RADIUS_MM, math.radians(RAMP_ANGLE_DEG)
    tan_t, cos_t, sin_t = math.tan(theta), math.cos(theta), math.sin(theta)

    # Top surface of the ramp: z(y) = (y_low - y) tan(theta) + PLATE cos(theta), from y_high (behind the
    # spawn point) to y_low, where the plate's lower bottom edge touches the floor. The underside at the
    # pit's far edge must clear the pit zone.
    y_high = -(r + 20.0)
    underside_drop = PLATE_MM / cos_t - PLATE_MM * cos_t  # underside(y) = (y_low - y) tan(theta) - this
    y_low = PIT_HALF_MM + (r + PIT_CLEARANCE_MM + underside_drop) / tan_t + 30.0
    length = (y_low - y_high) / cos_t
    z_high = length * sin_t + PLATE_MM * cos_t  # = z(y_high)

    def surface_z(y):
        return (y_low - y) * tan_t + PLATE_MM * cos_t

    spawn_z = surface_z(0.0) + r / cos_t + FALL_GAP_MM

    # The ramp, modelled flat along +y with its top surface at z = 0, then tilted down by theta about x
    # and moved to (0, y_high, z_high) through its placement (z rounded up: the lower edge may touch the
    # floor, never dip into it).
    half = CHANNEL_HALF_MM + RAIL_MM
    rail_x = CHANNEL_HALF_MM + RAIL_MM / 2
    ramp = Compound(
        [
            box((-half, 0.0, -PLATE_MM), (half, length, 0.0)),
            box((-rail_x - RAIL_MM / 2, 0.0, 0.0), (-rail_x + RAIL_MM / 2, length, RAIL_HEIGHT_MM)),
            box((rail_x - RAIL_MM / 2, 0.0, 0.0), (rail_x + RAIL_MM / 2, length, RAIL_HEIGHT_MM)),
        ]
    )

    pad_y0 = y_low + PAD_START_MM
    pad_y1 = pad_y0 + PAD_LENGTH_MM
    wall = box((-WALL_HALF_WIDTH_MM, pad_y1, 0.0), (WALL_HALF_WIDTH_MM, pad_y1 + WALL_MM, WALL_HEIGHT_MM))

    x0, x1 = -WALL_HALF_WIDTH_MM, WALL_HALF_WIDTH_MM
    y0, y1 = y_high - 20.0, pad_y1 + WALL_MM
    top = spawn_z + r + JITTER_MM[2] + 20.0
    bounds_lo = (x0 - MARGIN_MM, y0 - MARGIN_MM, -FLOOR_MM - 10.0)
    bounds_hi = (x1 + MARGIN_MM, y1 + MARGIN_MM, top + MARGIN_MM)
    floor = box((bounds_lo[0], bounds_lo[1], -FLOOR_MM), (bounds_hi[0], bounds_hi[1], 0.0))

    return {
        "description": (
            f"A {2 * r:.0f} mm steel ball is dropped {spawn_z:.0f} mm above a forbidden pit; bring it to the "
            f"landing pad {pad_y0:.0f} mm away along +y, in front of the backstop wall."
        ),
        "params": {
            "radius_mm": r,
            "ramp_angle_deg": RAMP_ANGLE_DEG,
            "fall_gap_mm": FALL_GAP_MM,
            "ramp_length_mm": round(length, 3),
            "spawn_height_mm": round(spawn_z, 3),
            "pad_start_mm": round(pad_y0, 3),
        },
        "fixtures": [
            {"shape": floor, "label": "floor", "material": "aluminum_6061"},
            {"shape": wall, "label": "backstop", "material": "hardwood", "fixed": True},
        ],
        "reference_solution": [
            {
                "shape": ramp,
                "label": "ramp",
                "material": "aluminum_6061",
                "method": "cnc_milling",
                "placement": {
                    "position_mm": [0.0, round(y_high, 3), math.ceil(z_high * 1000) / 1000],
                    "rotation_deg": [-RAMP_ANGLE_DEG, 0.0, 0.0],
                },
            }
        ],
        "payload": {
            "radius_mm": r,
            "material": "steel_carbon",
            "start_mm": [0.0, 0.0, round(spawn_z, 3)],
            "jitter_mm": list(JITTER_MM),
        },
        "goal_zone": zone((-PAD_HALF_WIDTH_MM, pad_y0, 0.0), (PAD_HALF_WIDTH_MM, pad_y1, 3 * r)),
        "forbidden_zones": [
            {"name": "pit", **zone((-PIT_HALF_MM, -PIT_HALF_MM, 0.0), (PIT_HALF_MM, PIT_HALF_MM, r))}
        ],
        "build_zone": zone((x0, y0, 0.0), (x1, pad_y1, top)),
        "simulation_bounds": zone(bounds_lo, bounds_hi),
        "simulation": {
            "timestep_s": 0.002,
            "duration_s": 3.0,
            "n_scenes": 8,
            "required_success_share": 0.75,
            "jitter_seed": 0,
        },
    }
