"""Convex primitive parts for random designs (planks, blocks, wedges, rods) and the overlap test the sampler
rejects invalid designs with.

A primitive is a convex polyhedron given by its local vertices (millimetres, centred on the origin) and a
pose (a rotation and a centre). Its world vertices and triangles are a collision piece as the scene compiler
takes them (:data:`engines.physics.collision_pack.Piece`), so a random design needs no CAD kernel and no STEP
round trip: the physics scene is built straight from these.

Overlap is decided by the separating-axis theorem over the face normals of both polyhedra and the cross
products of their edge directions: two convex polyhedra are disjoint exactly when one of those axes separates
them. Penetration up to :data:`TOUCH_MM` along the best axis counts as touching, which validation allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy.spatial import ConvexHull

from shared.models import Box

TOUCH_MM = 0.01
"""Overlap along the separating axis below which two solids only touch (validation allows touching)."""
ROD_SIDES = 12
"""Sides of the prism a rod is modelled as."""


class Kind(StrEnum):
    PLANK = "plank"
    BLOCK = "block"
    WEDGE = "wedge"
    ROD = "rod"


@dataclass(frozen=True)
class Convex:
    """A convex polyhedron in world millimetres with what the separating-axis test needs, computed once."""

    vertices: np.ndarray  # (N, 3)
    faces: np.ndarray  # (M, 3) int32, outward triangles
    normals: np.ndarray  # (F, 3) unit face normals (deduplicated)
    edges: np.ndarray  # (E, 3) unit edge directions (deduplicated up to sign)
    lo: np.ndarray = field(repr=False)
    hi: np.ndarray = field(repr=False)

    @classmethod
    def of(cls, vertices: np.ndarray) -> Convex:
        v = np.ascontiguousarray(vertices, dtype=np.float64)
        hull = ConvexHull(v)
        faces = hull.simplices.astype(np.int32)
        # orient every triangle outward (ConvexHull's simplices are not consistently ordered)
        a, b, c = v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]
        flip = np.einsum("ij,ij->i", np.cross(b - a, c - a), hull.equations[:, :3]) < 0
        faces[flip] = faces[flip][:, [0, 2, 1]]
        normals = _unique_directions(hull.equations[:, :3], signed=True)
        tri_edges = np.concatenate([b - a, c - b, a - c])
        edges = _unique_directions(tri_edges, signed=False)
        return cls(v, faces, normals, edges, v.min(axis=0), v.max(axis=0))

    @classmethod
    def of_box(cls, box: Box) -> Convex:
        (x0, y0, z0), (x1, y1, z1) = box.min_mm, box.max_mm
        corners = np.array(
            [[x, y, z] for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)], dtype=np.float64
        )
        return cls.of(corners)

    @property
    def volume_mm3(self) -> float:
        a, b, c = (self.vertices[self.faces[:, k]] for k in range(3))
        return float(abs(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6.0)

    @property
    def piece(self) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and triangles as a collision piece."""
        return self.vertices, self.faces


def _unique_directions(vectors: np.ndarray, signed: bool) -> np.ndarray:
    n = np.linalg.norm(vectors, axis=1)
    keep = n > 1e-9
    units = vectors[keep] / n[keep, None]
    if not signed:  # a direction and its opposite give the same axis
        first = np.argmax(np.abs(units) > 1e-9, axis=1)
        units = units * np.sign(units[np.arange(len(units)), first])[:, None]
    return np.unique(np.round(units, 9), axis=0)


def overlap(a: Convex, b: Convex, touch_mm: float = TOUCH_MM) -> bool:
    """Whether two convex polyhedra share interior deeper than ``touch_mm`` (separating-axis theorem)."""
    if np.any(a.lo > b.hi - touch_mm) or np.any(b.lo > a.hi - touch_mm):
        return False
    cross = np.cross(a.edges[:, None, :], b.edges[None, :, :]).reshape(-1, 3)
    norms = np.linalg.norm(cross, axis=1)
    cross = cross[norms > 1e-6] / norms[norms > 1e-6, None]
    axes = np.concatenate([a.normals, b.normals, cross])
    pa, pb = a.vertices @ axes.T, b.vertices @ axes.T
    depth = np.minimum(pa.max(axis=0) - pb.min(axis=0), pb.max(axis=0) - pa.min(axis=0))
    return bool(depth.min() > touch_mm)


def local_vertices(kind: Kind, dims: tuple[float, float, float]) -> np.ndarray:
    """The primitive's vertices centred on its bounding box, millimetres. ``dims`` is (length along x, width
    along y, height along z); a rod's width is its diameter (its height is ignored)."""
    lx, ly, lz = (d / 2 for d in dims)
    if kind in (Kind.PLANK, Kind.BLOCK):
        return np.array(
            [[x, y, z] for x in (-lx, lx) for y in (-ly, ly) for z in (-lz, lz)], dtype=np.float64
        )
    if kind is Kind.WEDGE:  # a right-angled triangular prism: the slope rises along +x
        tri = [(-lx, -lz), (lx, -lz), (lx, lz)]
        return np.array([[x, y, z] for x, z in tri for y in (-ly, ly)], dtype=np.float64)
    angles = np.linspace(0.0, 2 * math.pi, ROD_SIDES, endpoint=False)
    ring = [(ly * math.cos(t), ly * math.sin(t)) for t in angles]
    return np.array([[x, y, z] for y, z in ring for x in (-lx, lx)], dtype=np.float64)


def rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Rotation matrix of intrinsic z-y-x Euler angles (yaw about z, then pitch about y, then roll about x)."""
    cz, sz = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    cy, sy = math.cos(math.radians(pitch_deg)), math.sin(math.radians(pitch_deg))
    cx, sx = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    return rz @ ry @ rx


def axis_angle(axis: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotation matrix about a unit ``axis`` by ``angle_deg`` (Rodrigues)."""
    x, y, z = axis / np.linalg.norm(axis)
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    t = math.radians(angle_deg)
    return np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * (k @ k)
