"""Cylindrical holes of a B-rep: internal (concave) cylindrical faces that go (nearly) all the way round.

A drilled, reamed or tapped hole is a cylinder whose surface normal points towards its axis (the material
is outside it) and that spans a full turn; OCCT often splits it into two half faces along a seam, so faces
on one axis line with one radius are merged and their turns added. Each hole has its diameter, its axis,
the two ends of its cylindrical wall on that axis (its depth is the distance between them, the drill tip's
cone not included) and the faces it is made of. A fillet (a quarter turn) or a boss (convex) is not a hole.

Mesh input has no cylinders: :func:`find_holes` is only called for a B-rep (``PartFacts.has_brep``).
"""

from __future__ import annotations

import numpy as np
from build123d import GeomType, Vector
from OCP.BRepAdaptor import BRepAdaptor_Surface
from OCP.BRepTools import BRepTools

MIN_TURN_RAD = np.radians(300.0)
"""A hole's faces together span at least 300 deg of a turn (a full drilled hole is 360; a hole a slot or a
flat cuts into keeps most of its wall)."""
MAX_PIECES = 4
"""Faces kept per hole (``PartFacts.hole_faces`` is padded with -1 to this width)."""
_TOL = 1e-4


def find_holes(faces: list) -> dict[str, np.ndarray]:
    """The holes among ``faces`` (build123d faces of one solid, in face-id order), as the arrays of
    :class:`~engines.manufacturing.facts.PartFacts`: ``hole_diameter``, ``hole_depth``, ``hole_axis``,
    ``hole_p0``, ``hole_p1`` and ``hole_faces``."""
    pieces: list[dict] = []
    for fi, face in enumerate(faces):
        if face.geom_type != GeomType.CYLINDER:
            continue
        cyl = BRepAdaptor_Surface(face.wrapped).Cylinder()
        umin, umax, vmin, vmax = BRepTools.UVBounds_s(face.wrapped)
        loc = np.array(cyl.Location().Coord())
        u = np.array(cyl.Axis().Direction().Coord())
        r = float(cyl.Radius())
        xd = np.array(cyl.XAxis().Direction().Coord())
        yd = np.array(cyl.YAxis().Direction().Coord())
        um, vm = (umin + umax) / 2, (vmin + vmax) / 2
        radial = np.cos(um) * xd + np.sin(um) * yd
        p = loc + r * radial + vm * u
        n = np.array(tuple(face.normal_at(Vector(*map(float, p)))))
        if float(n @ radial) >= 0:  # convex: a boss or a rounded outside edge
            continue
        pieces.append({"face": fi, "r": r, "loc": loc, "u": u, "turn": umax - umin, "v": (vmin, vmax)})
    groups: list[list[dict]] = []
    for pc in pieces:
        for g in groups:
            h = g[0]
            if abs(h["r"] - pc["r"]) > _TOL or abs(abs(float(h["u"] @ pc["u"])) - 1) > 1e-6:
                continue
            off = pc["loc"] - h["loc"]
            if np.linalg.norm(off - (off @ h["u"]) * h["u"]) > _TOL * max(1.0, h["r"]):
                continue
            g.append(pc)
            break
        else:
            groups.append([pc])
    diameter, depth, axis, p0s, p1s, face_rows = [], [], [], [], [], []
    for g in groups:
        if sum(pc["turn"] for pc in g) < MIN_TURN_RAD:
            continue
        h = g[0]
        u = h["u"] / np.linalg.norm(h["u"])
        ends = []
        for pc in g:
            base = float((pc["loc"] - h["loc"]) @ u)
            sign = 1.0 if float(pc["u"] @ u) > 0 else -1.0
            ends += [base + sign * pc["v"][0], base + sign * pc["v"][1]]
        lo, hi = min(ends), max(ends)
        if hi - lo <= 0:
            continue
        diameter.append(2 * h["r"])
        depth.append(hi - lo)
        axis.append(u)
        p0s.append(h["loc"] + lo * u)
        p1s.append(h["loc"] + hi * u)
        ids = sorted(pc["face"] for pc in g)[:MAX_PIECES]
        face_rows.append(ids + [-1] * (MAX_PIECES - len(ids)))
    return {
        "hole_diameter": np.array(diameter, dtype=np.float64),
        "hole_depth": np.array(depth, dtype=np.float64),
        "hole_axis": np.array(axis, dtype=np.float64).reshape(-1, 3),
        "hole_p0": np.array(p0s, dtype=np.float64).reshape(-1, 3),
        "hole_p1": np.array(p1s, dtype=np.float64).reshape(-1, 3),
        "hole_faces": np.array(face_rows, dtype=np.int32).reshape(-1, MAX_PIECES),
    }
