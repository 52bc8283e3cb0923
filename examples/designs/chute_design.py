"""A design for the built-in ``chute`` family at seed 0: an inclined plate with two low side rails that
catches the dropped ball and rolls it into the bin.

Run it as a design script (``build()`` runs in the sandbox and returns labelled parts with metadata; only
build123d and the standard library are imported). Numbers for seed 0, taken from
``engines.cad.families.FAMILIES["chute"].generate(0)`` and the family's formulas (rounded to 0.001 mm):

- an aluminium ball of radius r = 7.467 mm (the seed's scene scale is 0.821), spawned at (0, 0, 130.335);
  the forbidden pit is under it, the bin's near inner wall is at x = 79.545 and its rim at z = 64.67;
- chute angle 14.059 deg; the chute's top surface runs from x = -27.467 (z = 102.966, behind the spawn)
  down to x = 97.012 (z = 71.794, over the bin, 3 mm above the rim with the plate's thickness);
- length along the slope 128.323 mm; channel half-width 1.6 r = 11.947 mm; rails 0.7 r = 5.227 mm high
  and 4 mm thick; plate 4 mm thick.

The chute is modelled flat (top surface at z = 0, running along +x from the origin) and placed by its
metadata: rotated by the chute angle about y, then moved to the top of the slope. It is returned as a
compound of three boxes (plate and rails) rather than one fused solid, so the physics scene gets three
exact convex pieces instead of an approximate decomposition of a U-shaped solid.
"""

from build123d import Box, Compound, Pos

RADIUS_MM = 7.467
ANGLE_DEG = 14.059
TOP_START_MM = (-27.467, 0.0, 102.966)
"""Where the upper end of the chute's top surface goes (on the centre line)."""
LENGTH_MM = 128.323
INNER_HALF_WIDTH_MM = 1.6 * RADIUS_MM
RAIL_HEIGHT_MM = 0.7 * RADIUS_MM
RAIL_MM = 4.0
PLATE_MM = 4.0


def build():
    half = INNER_HALF_WIDTH_MM + RAIL_MM
    plate = Pos(LENGTH_MM / 2, 0, -PLATE_MM / 2) * Box(LENGTH_MM, 2 * half, PLATE_MM)
    rail_y = INNER_HALF_WIDTH_MM + RAIL_MM / 2
    rails = [
        Pos(LENGTH_MM / 2, side * rail_y, RAIL_HEIGHT_MM / 2) * Box(LENGTH_MM, RAIL_MM, RAIL_HEIGHT_MM)
        for side in (-1, 1)
    ]
    chute = Compound([plate, *rails])
    return [
        {
            "shape": chute,
            "label": "chute",
            "material": "aluminum_6061",
            "method": "cnc_milling",
            "placement": {"position_mm": list(TOP_START_MM), "rotation_deg": [0.0, ANGLE_DEG, 0.0]},
            "fixed": True,
        }
    ]
