"""A design for the ``chute`` family at seed 0 that fails: a short flat shelf under the spawn point.

The ball (r = 7.467 mm, dropped from (0, 0, 130.335)) lands on the shelf and stays there - nothing carries
it towards the bin at x = 79.545 - so every scene ends without reaching the goal. Compare
``chute_design.py``, which tilts a longer plate so the ball rolls into the bin.
"""

from build123d import Box, Pos


def build():
    shelf = Pos(0, 0, 98) * Box(80, 40, 4)  # top face at z = 100, centred under the spawn point
    return [{"shape": shelf, "label": "shelf", "material": "aluminum_6061", "method": "cnc_milling"}]
