"""A planted trivial benchmark script: a wide goal beside the drop.

A steel ball is dropped onto the flat top of a pedestal; the goal is all the space around the pedestal's
foot, over the whole floor. With nothing built the ball lands on the pedestal and stays there (no free
design solves it, so it passes ``not_trivial``), and the reference, a tilted plate, rolls it off. But nearly
any part built under the drop deflects the ball off the pedestal, into the goal: random designs solve it, and
the ``not_trivial_random`` proof must reject it.
"""

from build123d import Box, Pos

RADIUS_MM = 12.0
PEDESTAL_TOP_MM = 60.0
PEDESTAL_HALF_MM = 20.0
SPAWN_Z_MM = 180.0
HALF_ZONE_MM = 30.0
HALF_FLOOR_MM = 320.0


def box(lo, hi):
    size = [b - a for a, b in zip(lo, hi)]
    return Pos(*((a + b) / 2 for a, b in zip(lo, hi))) * Box(*size)


def zone(lo, hi):
    return {"min_mm": list(lo), "max_mm": list(hi)}


def build():
    h, p = HALF_FLOOR_MM, PEDESTAL_HALF_MM
    floor = box((-h, -h, -10.0), (h, h, 0.0))
    pedestal = box((-p, -p, 0.0), (p, p, PEDESTAL_TOP_MM))
    plate = box((-28.0, -28.0, -5.0), (28.0, 28.0, 0.0))
    return {
        "description": "A 24 mm steel ball falls onto a pedestal; bring it down to the floor around it.",
        "params": {"radius_mm": RADIUS_MM, "spawn_height_mm": SPAWN_Z_MM},
        "fixtures": [
            {"shape": floor, "label": "floor", "material": "aluminum_6061"},
            {"shape": pedestal, "label": "pedestal", "material": "aluminum_6061"},
        ],
        "reference_solution": [
            {
                "shape": plate,
                "label": "plate",
                "material": "aluminum_6061",
                "method": "cnc_milling",
                "placement": {"position_mm": [0.0, 0.0, 120.0], "rotation_deg": [-20.0, 0.0, 0.0]},
            }
        ],
        "payload": {
            "radius_mm": RADIUS_MM,
            "material": "steel_carbon",
            "start_mm": [0.0, 0.0, SPAWN_Z_MM],
            "jitter_mm": [3.0, 3.0, 1.0],
        },
        "goal_zone": zone((-h, -h, 0.0), (h, h, 2 * RADIUS_MM)),
        "forbidden_zones": [],
        "build_zone": zone(
            (-HALF_ZONE_MM, -HALF_ZONE_MM, PEDESTAL_TOP_MM + 1.0), (HALF_ZONE_MM, HALF_ZONE_MM, 220.0)
        ),
        "simulation_bounds": zone((-h - 50.0, -h - 50.0, -30.0), (h + 50.0, h + 50.0, 400.0)),
        "simulation": {
            "timestep_s": 0.002,
            "duration_s": 2.0,
            "n_scenes": 8,
            "required_success_share": 0.75,
            "jitter_seed": 0,
        },
    }
