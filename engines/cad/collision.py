"""Convex collision pieces for the physics scene.

MuJoCo collides every mesh through its convex hull, so a concave solid must be split first. Convex solids
(boxes, wedges, plates: almost every fixture) become exactly one piece, their hull; concave solids are
decomposed with CoACD, seeded so the same solid always yields the same pieces.
"""

from __future__ import annotations

import coacd
import numpy as np
import trimesh
from build123d import Shape

from engines.cad.mesh import welded_mesh

Piece = tuple[np.ndarray, np.ndarray]
"""One convex piece: vertices (N, 3) float64 in world millimetres and faces (M, 3) int32."""

CONVEXITY_TOLERANCE = 1e-3
"""A solid is convex when the hull of its tessellation exceeds its exact volume by at most this share."""

COACD_THRESHOLD = 0.05
"""CoACD concavity threshold (relative to the solid's size): lower gives more, tighter pieces."""

MAX_PIECES_PER_SOLID = 32

COACD_SEED = 0

coacd.set_log_level("error")


def _hull_piece(mesh: trimesh.Trimesh) -> Piece:
    hull = mesh.convex_hull
    return np.asarray(hull.vertices, dtype=np.float64), np.asarray(hull.faces, dtype=np.int32)


def is_convex_solid(solid: Shape, mesh: trimesh.Trimesh) -> bool:
    """True when the tessellation's hull adds no more than :data:`CONVEXITY_TOLERANCE` to the exact volume.

    The hull of points sampled on a convex surface lies inside the solid, so for a convex solid it is never
    larger than the exact volume; any concavity makes the hull larger by the concave pocket's volume.
    """
    return mesh.convex_hull.volume <= solid.volume * (1.0 + CONVEXITY_TOLERANCE)


def convex_pieces(shape: Shape, tolerance_mm: float = 0.2) -> list[Piece]:
    """Convex pieces covering every solid of ``shape`` (world millimetres), in a reproducible order."""
    pieces: list[Piece] = []
    solids = shape.solids()
    if not solids:
        raise ValueError("shape has no solids to make collision pieces from")
    for solid in solids:
        mesh = welded_mesh(solid, tolerance_mm)
        if is_convex_solid(solid, mesh):
            pieces.append(_hull_piece(mesh))
            continue
        parts = coacd.run_coacd(
            coacd.Mesh(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int32)),
            threshold=COACD_THRESHOLD,
            max_convex_hull=MAX_PIECES_PER_SOLID,
            seed=COACD_SEED,
        )
        for vertices, _ in parts:
            pieces.append(_hull_piece(trimesh.Trimesh(vertices=vertices, process=False)))
    return pieces
