"""Quadratic tetrahedral meshes of a closed triangle surface in millimetres.

Contract:

- :func:`tet_mesh` takes what every part has (a closed triangle surface: vertices (V, 3) float mm, faces
  (F, 3) int, e.g. ``engines.cad.mesh.triangulate``'s output; duplicate vertices are welded first) and
  returns a :class:`TetMesh` of 10-node (quadratic) tetrahedra: ``nodes`` are the corner nodes followed by
  one mid-edge node per edge, ``tets`` is (M, 10) in the order corners 0-3, then edges 01, 02, 03, 12, 13,
  23, and ``surface`` the outward-wound boundary triangles (corner nodes only).
- A surface that is open, not consistently wound, of no volume, self-intersecting or otherwise refused by
  TetGen raises :class:`~engines.structure.errors.StructureError` with rule ``structure.unmeshable`` and
  the reason.
- The count of tetrahedra follows the surface too: TetGen keeps (and may split) every input triangle and
  grades the mesh from the shortest surface edges, so a finely tessellated small feature (a bolt hole at
  0.3 rad angular tolerance) can give several times the tetrahedra the size alone would. Tessellate for
  the structural check at a coarse angular tolerance (0.5-0.8 rad): ``benchmarks/bench_structure.py``
  shows the effect on the bracket.
- ``size_mm`` is the target edge length (TetGen's volume bound is that of a regular tetrahedron of that
  edge). ``None`` picks :func:`default_size_mm`: the part's typical wall thickness over
  :data:`WALL_ELEMENTS`, coarsened when that would exceed :data:`TET_BUDGET` tetrahedra of that size.
- :func:`surface_nodes_near` marks the boundary nodes (corner and mid-edge) within a radius of points: the
  helper callers use to say which nodes are held.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import tetgen
import trimesh
from scipy.spatial import cKDTree

from engines.structure.errors import UNMESHABLE, StructureError

TET_BUDGET = 3000
"""Nominal tetrahedra (part volume over one regular tetrahedron of the target size) the default density
stays under. TetGen's quality meshes have about twice the nominal count: about 6000 tetrahedra, 30k degrees
of freedom, which factorise in about a second on one core."""

WALL_PERCENTILE = 25.0
"""The area-weighted percentile of the inward ray thickness taken as the part's wall thickness: low enough
that the thin walls, where bending stress peaks, set the size; not the minimum, which a chamfer sets."""

WALL_ELEMENTS = 1.5
"""Target edges across the wall: quadratic elements carry a linear stress across each, so 1.5 through a wall
in bending is within a few percent (the convergence table of ``benchmarks/bench_structure.py``)."""

MIN_RADIUS_EDGE_RATIO = 2.0
"""TetGen's quality bound (``-q``): the largest circumradius-to-shortest-edge ratio, TetGen's default. 1.5
with a 10 degree dihedral bound was no more accurate on the closed-form beams, and it doubles the
tetrahedra that small features (bolt holes) grade into a part: the factorisation's cost grows faster."""

MIN_DIHEDRAL_DEG = 0.0
"""No dihedral bound beyond TetGen's own sliver removal."""

EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
"""The local corner pairs of the six mid-edge nodes, in the order of ``tets[:, 4:]``."""

FACES = ((1, 2, 3), (0, 3, 2), (0, 1, 3), (0, 2, 1))
"""Local corner triples of the four faces, face ``k`` opposite corner ``k``."""


@dataclass(frozen=True)
class TetMesh:
    """A quadratic tetrahedral mesh in mm: see the module docstring for the node and element order."""

    nodes: np.ndarray
    """(N, 3) float64: corner nodes, then mid-edge nodes."""
    tets: np.ndarray
    """(M, 10) int64: four corners, then the mid-edge nodes of edges 01, 02, 03, 12, 13, 23."""
    surface: np.ndarray
    """(K, 3) int64: outward-wound boundary triangles, corner nodes."""
    size_mm: float = 0.0
    """The target edge length the mesh was made with."""
    mesh_s: float = 0.0
    """Seconds spent meshing."""

    @property
    def corner_count(self) -> int:
        return int(self.tets[:, :4].max()) + 1 if len(self.tets) else 0


def _welded(vertices: np.ndarray, faces: np.ndarray) -> trimesh.Trimesh:
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3 or len(f) < 4:
        raise StructureError(
            UNMESHABLE, f"need vertices (V, 3) and at least 4 faces (F, 3), got {v.shape}, {f.shape}"
        )
    if not np.isfinite(v).all() or f.min() < 0 or f.max() >= len(v):
        raise StructureError(UNMESHABLE, "vertices are not finite or faces index past the vertices")
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat surface's mass properties divide by 0
        mesh = trimesh.Trimesh(vertices=v, faces=f, process=True, validate=True)
        volume = float(mesh.volume) if len(mesh.faces) else 0.0
    if not mesh.is_watertight:
        raise StructureError(UNMESHABLE, "the surface is open (some edge is not shared by exactly two faces)")
    if not mesh.is_winding_consistent:
        raise StructureError(UNMESHABLE, "the surface's faces are not consistently wound")
    if not volume > 0:
        if not abs(volume) > 1e-12 * max(float(mesh.scale), 1e-9) ** 3:
            raise StructureError(UNMESHABLE, "the surface encloses no volume (degenerate)")
        mesh.invert()  # wound inward: the same solid
    return mesh


def wall_thickness_mm(mesh: trimesh.Trimesh) -> float:
    """The area-weighted :data:`WALL_PERCENTILE` of the distance from each face, inward along its normal, to
    the surface opposite (rays from the face centres)."""
    normals = mesh.face_normals
    eps = 1e-6 * mesh.scale
    origins = mesh.triangles_center - normals * eps
    _, hit_ray, hit_loc = mesh.ray.intersects_id(
        origins, -normals, multiple_hits=False, return_locations=True
    )
    depth = np.full(len(origins), np.nan)
    depth[hit_ray] = np.linalg.norm(hit_loc - origins[hit_ray], axis=1)
    ok = np.isfinite(depth) & (depth > 10 * eps)
    if not ok.any():
        return float(np.min(mesh.extents))
    d, w = depth[ok], mesh.area_faces[ok]
    order = np.argsort(d)
    cum = np.cumsum(w[order]) / w.sum()
    return float(d[order][np.searchsorted(cum, WALL_PERCENTILE / 100.0)])


def _regular_tet_volume(edge: float) -> float:
    return edge**3 / (6.0 * math.sqrt(2.0))


def default_size_mm(mesh: trimesh.Trimesh) -> float:
    """The wall thickness over :data:`WALL_ELEMENTS`, but no finer than :data:`TET_BUDGET` regular tetrahedra fill the part."""
    by_wall = wall_thickness_mm(mesh) / WALL_ELEMENTS
    by_budget = (6.0 * math.sqrt(2.0) * mesh.volume / TET_BUDGET) ** (1.0 / 3.0)
    return max(by_wall, by_budget)


def quadratic(nodes: np.ndarray, tets4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner nodes and 4-node tets -> nodes with one mid-edge node per edge appended, and (M, 10) tets."""
    pairs = np.concatenate([tets4[:, list(e)] for e in EDGES], axis=0)
    pairs.sort(axis=1)
    edges, inverse = np.unique(pairs, axis=0, return_inverse=True)
    mid = len(nodes) + inverse.reshape(len(EDGES), len(tets4)).T
    all_nodes = np.concatenate([nodes, 0.5 * (nodes[edges[:, 0]] + nodes[edges[:, 1]])])
    return all_nodes, np.concatenate([tets4, mid], axis=1).astype(np.int64)


def boundary_faces(tets: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """(K, 6) outward-wound boundary faces of a quadratic mesh: corners a, b, c, then the mid-edge nodes of
    ab, bc, ca."""
    edge_of = {e: 4 + k for k, e in enumerate(EDGES)}

    def mid(i: int, j: int) -> int:
        return edge_of[(min(i, j), max(i, j))]

    local = np.array([[a, b, c, mid(a, b), mid(b, c), mid(c, a)] for a, b, c in FACES])
    faces = tets[:, local].reshape(-1, 6)  # (4M, 6), tet-major
    key = np.sort(faces[:, :3], axis=1)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    once = counts[inverse.ravel()] == 1
    out = faces[once]
    opposite = tets[:, :4].reshape(-1)[once]  # face k of a tet is opposite its corner k
    a, b, c = nodes[out[:, 0]], nodes[out[:, 1]], nodes[out[:, 2]]
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), nodes[opposite] - a) > 0
    out[inward] = out[inward][:, [0, 2, 1, 5, 4, 3]]
    return out


TETGEN_LITTER = ("_skipped.face", "_skipped.node")
"""The files TetGen writes into the working directory when it refuses a self-intersecting surface; removed
again (when this call wrote them) so that a refusal leaves nothing behind."""


def _stamp(name: str) -> float | None:
    try:
        return os.stat(name).st_mtime_ns
    except OSError:
        return None


def tet_mesh(vertices: np.ndarray, faces: np.ndarray, *, size_mm: float | None = None) -> TetMesh:
    """Mesh the solid a closed triangle surface bounds; see the module docstring."""
    start = time.perf_counter()
    surface = _welded(vertices, faces)
    size = default_size_mm(surface) if size_mm is None else float(size_mm)
    if not (size > 0 and math.isfinite(size)):
        raise StructureError(UNMESHABLE, f"size_mm must be > 0, got {size_mm}")
    before = {name: _stamp(name) for name in TETGEN_LITTER}
    try:
        gen = tetgen.TetGen(np.asarray(surface.vertices, np.float64), np.asarray(surface.faces, np.int32))
        corners, tets4, *_ = gen.tetrahedralize(
            quality=True,
            minratio=MIN_RADIUS_EDGE_RATIO,
            mindihedral=MIN_DIHEDRAL_DEG,
            fixedvolume=True,
            maxvolume=_regular_tet_volume(size),
            quiet=True,
        )
    except RuntimeError as e:  # TetGen's refusals: self-intersection, overlapping facets, ...
        for name, stamp in before.items():  # what TetGen wrote into the working directory
            if _stamp(name) != stamp:
                with contextlib.suppress(OSError):
                    os.remove(name)
        raise StructureError(UNMESHABLE, f"TetGen cannot mesh the surface: {e}") from e
    if tets4 is None or len(tets4) == 0:
        raise StructureError(
            UNMESHABLE, "TetGen made no tetrahedra (self-intersecting or degenerate surface)"
        )
    tets4 = np.asarray(tets4, dtype=np.int64)
    used = np.unique(tets4)
    remap = np.full(len(corners), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    nodes, tets = quadratic(np.asarray(corners, np.float64)[used], remap[tets4])
    surf = boundary_faces(tets, nodes)[:, :3]
    return TetMesh(nodes=nodes, tets=tets, surface=surf, size_mm=size, mesh_s=time.perf_counter() - start)


def surface_node_mask(mesh: TetMesh) -> np.ndarray:
    """(N,) bool: the nodes on the boundary (corners and mid-edge nodes of boundary faces)."""
    on = np.zeros(len(mesh.nodes), dtype=bool)
    on[boundary_faces(mesh.tets, mesh.nodes).ravel()] = True
    return on


def surface_nodes_near(mesh: TetMesh, points: np.ndarray, radius_mm: float) -> np.ndarray:
    """(N,) bool: boundary nodes within ``radius_mm`` of any of ``points`` ((P, 3) or (3,) mm)."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    on = surface_node_mask(mesh)
    idx = np.flatnonzero(on)
    near = cKDTree(pts).query(mesh.nodes[idx], distance_upper_bound=radius_mm)[0] <= radius_mm
    out = np.zeros(len(mesh.nodes), dtype=bool)
    out[idx[near]] = True
    return out
