"""STL meshes as they really come: read, repaired as slicers and quote services repair them, or refused.

What is repaired (each repair is listed, in words, in :attr:`RepairedMesh.repairs`):

- vertices that round to the same point of a :data:`WELD_TOL_MM` grid are welded (an STL stores every
  triangle's corners separately; exporters write shared corners with identical or nearly identical floats);
- triangles with invalid (NaN, infinite) coordinates or a repeated corner after welding are removed;
- duplicate triangles (the same three corners in the same cyclic order) are merged into one;
- inconsistent winding (a triangle listed clockwise among counter-clockwise neighbours) is made
  consistent over each connected shell;
- holes whose boundary loop spans at most :data:`HOLE_MAX_SPAN_MM` (the largest distance between two of its
  corners) are closed with a fan of triangles; a bigger hole is an opening of the design, not a gap, and
  the mesh is refused (:class:`OpenMeshError`, naming each hole's centre and size);
- shells that enclose no volume (mean thickness ``3 V / A`` under :data:`SLIVER_MM`: a flat double-sided
  sliver, a stray patch folded on itself) are removed;
- a shell enclosed by another and oriented outward (an embedded copy that adds no material) is removed;
  an outer shell that is inside out is turned outward.

A shell inside an odd number of others and oriented inward is an enclosed internal void: it is kept (its
walls are the part's) and named, with its volume, in :attr:`RepairedMesh.voids`; each method's rules judge
it. Only numpy and scipy for the topology (a million triangles in about a second); trimesh for ASCII STL
and for the point-in-shell tests between shells.

The module is over 400 lines because each repair has to be both done and put in words, and the steps
share one edge table: splitting them would recompute it or pass it around.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import trimesh
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

WELD_TOL_MM = 1e-3
"""Vertices on the same point of a 1 um grid are one vertex."""
HOLE_MAX_SPAN_MM = 1.0
"""A hole whose boundary spans at most 1 mm is a gap (closed); a larger one is refused."""
SLIVER_MM = 0.01
"""A shell whose mean thickness 3V/A is under 0.01 mm (the DFM rules' length resolution) has no volume."""
MAX_LISTED_HOLES = 10


class PartError(ValueError):
    """The file is not a part we can analyse (not STEP/STL, no closed solid, empty); the message says why."""


@dataclass(frozen=True)
class Hole:
    """One boundary loop of an open mesh."""

    centre_mm: tuple[float, float, float]
    span_mm: float
    """Largest distance between two corners of the loop."""
    perimeter_mm: float
    area_mm2: float
    """Area of the loop's vector area (the patch that would close it)."""
    edges: int

    def describe(self) -> str:
        c = ", ".join(f"{v:.3f}" for v in self.centre_mm)
        return f"a hole of {self.area_mm2:.3g} mm2 spanning {self.span_mm:.3g} mm ({self.edges} edges) at ({c}) mm"


class OpenMeshError(PartError):
    """The STL mesh has holes too large to close: the message names where; :attr:`holes` lists them all."""

    def __init__(self, message: str, holes: list[Hole]):
        super().__init__(message)
        self.holes = holes


@dataclass(frozen=True)
class Void:
    """An enclosed internal void: an inward-oriented shell inside the part."""

    volume_mm3: float
    centre_mm: tuple[float, float, float]
    triangles: int


@dataclass
class RepairedMesh:
    mesh: trimesh.Trimesh
    repairs: list[str] = field(default_factory=list)
    voids: list[Void] = field(default_factory=list)
    void_of: np.ndarray | None = None
    """(T,) index into :attr:`voids` of each triangle of :attr:`mesh`, -1 for the part's outer surface."""


# --- reading ------------------------------------------------------------------------------------

_BINARY = np.dtype([("normal", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])


def read_triangles(data: bytes) -> np.ndarray:
    """(T, 3, 3) float64 corners of an STL's triangles (binary read with numpy, ASCII through trimesh)."""
    if len(data) < 84:
        raise PartError("not an STL file: too short")
    n = int(np.frombuffer(data, dtype="<u4", count=1, offset=80)[0])
    if 84 + 50 * n == len(data):
        return np.frombuffer(data, dtype=_BINARY, count=n, offset=84)["v"].astype(np.float64)
    try:
        mesh = trimesh.load(io.BytesIO(data), file_type="stl", force="mesh", process=False)
    except Exception as e:
        raise PartError(f"the STL file could not be read: {type(e).__name__}: {e}") from e
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise PartError("the STL file holds no triangles")
    return np.asarray(mesh.triangles, dtype=np.float64)


# --- topology -------------------------------------------------------------------------------------


def _unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index and inverse of the unique rows of an (N, 3) int64 array (packed into one int64 when
    the values fit 21 bits, which is ~10x faster than ``np.unique(axis=0)``)."""
    lo = keys.min(axis=0)
    shifted = keys - lo
    if len(keys) and shifted.max() < (1 << 21):
        packed = (shifted[:, 0] << 42) | (shifted[:, 1] << 21) | shifted[:, 2]
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


@dataclass
class _Topology:
    edge_key: np.ndarray  # (3T,) undirected edge key per directed edge, face-major
    counts: np.ndarray  # (3T,) how many directed edges share the undirected edge
    pairs: np.ndarray  # (P, 2) faces sharing a manifold edge
    pair_edges: np.ndarray  # (P, 2) the directed edge index of each
    labels: np.ndarray  # (T,) connected shell of each face
    n_shells: int


def _topology(faces: np.ndarray, n_vertices: int) -> _Topology:
    t = len(faces)
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    a, b = directed.min(axis=1), directed.max(axis=1)
    key = a * np.int64(n_vertices) + b
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    sizes = np.diff(np.r_[starts, len(sk)])
    counts = np.empty(len(key), dtype=np.int64)
    counts[order] = np.repeat(sizes, sizes)
    two = starts[sizes == 2]
    pair_edges = np.stack([order[two], order[two + 1]], axis=1)
    pairs = pair_edges // 3
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(t, t))
    n, labels = connected_components(graph, directed=False)
    return _Topology(key, counts, pairs, pair_edges, labels, n)


def _fix_winding(faces: np.ndarray, topo: _Topology) -> int:
    """Flip triangles so each shell's neighbours traverse shared edges in opposite directions; how many
    were flipped (the smaller side of each shell keeps the majority's orientation)."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    # the two uses of an edge are the same undirected edge: they run the same way iff they start alike
    same = directed[topo.pair_edges[:, 0], 0] == directed[topo.pair_edges[:, 1], 0]
    if not same.any():
        return 0
    t = len(faces)
    graph = coo_matrix((same.astype(np.int8) + 1, (topo.pairs[:, 0], topo.pairs[:, 1])), shape=(t, t)).tocsr()
    graph = graph + graph.T
    flip = np.zeros(t, dtype=bool)
    seen = np.zeros(t, dtype=bool)
    for shell in range(topo.n_shells):
        root = int(np.flatnonzero(topo.labels == shell)[0])
        order, pred = breadth_first_order(graph, root, directed=False, return_predecessors=True)
        seen[order] = True
        rel = np.asarray(graph[pred[order[1:]], order[1:]]).reshape(-1) == 2  # edge says "flip vs parent"
        for node, parent, r in zip(order[1:].tolist(), pred[order[1:]].tolist(), rel.tolist()):
            flip[node] = flip[parent] ^ r
        if 2 * flip[order].sum() > len(order):
            flip[order] = ~flip[order]
    faces[flip] = faces[flip][:, ::-1]
    return int(flip.sum())


def _boundary_loops(faces: np.ndarray, topo: _Topology) -> list[list[int]]:
    """Vertex loops of the edges used by one triangle only, in the direction the triangles use them."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    open_edges = directed[topo.counts == 1]
    nxt: dict[int, list[int]] = {}
    for a, b in open_edges.tolist():
        nxt.setdefault(a, []).append(b)
    loops: list[list[int]] = []
    while nxt:
        start = next(iter(nxt))
        loop = [start]
        v = start
        while True:
            outs = nxt.get(v)
            if not outs:
                break
            w = outs.pop()
            if not outs:
                del nxt[v]
            if w == start:
                break
            loop.append(w)
            v = w
        loops.append(loop)
    return loops


def _hole(vertices: np.ndarray, loop: list[int]) -> Hole:
    p = vertices[loop]
    q = np.roll(p, -1, axis=0)
    if len(p) <= 400:
        span = float(np.max(np.linalg.norm(p[:, None] - p[None], axis=2)))
    else:
        span = float(np.linalg.norm(p.max(axis=0) - p.min(axis=0)))
    area = float(np.linalg.norm(np.cross(p, q).sum(axis=0)) / 2)
    return Hole(
        centre_mm=tuple(round(float(v), 3) + 0.0 for v in p.mean(axis=0)),  # type: ignore[arg-type]
        span_mm=span,
        perimeter_mm=float(np.linalg.norm(q - p, axis=1).sum()),
        area_mm2=area,
        edges=len(loop),
    )


def _signed_volumes(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray, n: int) -> tuple:
    tri = vertices[faces]
    vol = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6
    area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1) / 2
    return np.bincount(labels, vol, n), np.bincount(labels, area, n)


def _may_have_duplicates(faces: np.ndarray, topo: _Topology) -> bool:
    """A duplicate triangle shares all its edges with its twin: some edge then has more than two uses, or
    two uses in the same direction (an isolated pair). A mesh with neither has none (the common case, so
    the sort that finds them is skipped)."""
    if (topo.counts > 2).any():
        return True
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    return bool((directed[topo.pair_edges[:, 0], 0] == directed[topo.pair_edges[:, 1], 0]).any())


def _merge_duplicates(faces: np.ndarray, repairs: list[str]) -> np.ndarray:
    """One of each set of triangles with the same corners in the same cyclic order (a face and its
    reverse are the two sides of a zero-thickness sheet, which the shell check removes as a whole)."""
    lowest = np.argmin(faces, axis=1)
    rot = faces[np.arange(len(faces))[:, None], (lowest[:, None] + np.arange(3)) % 3]
    parity = (rot[:, 1] > rot[:, 2]).astype(np.int64)
    sorted_faces = np.sort(faces, axis=1)
    sorted_faces[:, 0] = 2 * sorted_faces[:, 0] + parity
    keep, _ = _unique_rows(sorted_faces)
    if len(keep) == len(faces):
        return faces
    repairs.append(f"merged {_count(len(faces) - len(keep), 'duplicate face')}")
    return faces[np.sort(keep)]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# --- repair -------------------------------------------------------------------------------------


def repair_triangles(tri: np.ndarray) -> RepairedMesh:
    """Weld, clean, orient and close ``tri`` ((T, 3, 3) corners); :class:`PartError` when it cannot be."""
    repairs: list[str] = []
    finite = np.isfinite(tri).all(axis=(1, 2))
    if not finite.all():
        repairs.append(f"removed {_count(int((~finite).sum()), 'triangle')} with invalid coordinates")
        tri = tri[finite]
    if not len(tri):
        raise PartError("the STL file holds no triangles")
    flat = tri.reshape(-1, 3)
    first, inverse = _unique_rows(np.round(flat / WELD_TOL_MM).astype(np.int64))
    vertices = flat[first]
    faces = inverse.reshape(-1, 3).astype(np.int64)

    degenerate = (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 0] == faces[:, 2])
    if degenerate.any():
        repairs.append(
            f"removed {_count(int(degenerate.sum()), 'degenerate triangle')} (corners within "
            f"{WELD_TOL_MM:g} mm of each other)"
        )
        faces = faces[~degenerate]
    if not len(faces):
        raise PartError("the STL mesh encloses no volume (every triangle is degenerate)")
    topo = _topology(faces, len(vertices))
    if _may_have_duplicates(faces, topo):
        faces = _merge_duplicates(faces, repairs)
        topo = _topology(faces, len(vertices))
    nonmanifold = topo.counts > 2
    if nonmanifold.any():
        e = int(np.flatnonzero(nonmanifold)[0])
        a, b = faces[e // 3, e % 3], faces[e // 3, (e % 3 + 1) % 3]
        at = ", ".join(f"{v:.3f}" for v in (vertices[a] + vertices[b]) / 2)
        raise PartError(
            f"the STL mesh is not a closed solid: {_count(len(np.unique(topo.edge_key[nonmanifold])), 'edge')} shared "
            f"by more than two triangles (first at ({at}) mm); export the bodies as one closed solid"
        )
    flipped = _fix_winding(faces, topo)
    if flipped:
        repairs.append(
            f"fixed the winding of {_count(flipped, 'triangle')} (inconsistent with their neighbours)"
        )

    if (topo.counts == 1).any():
        holes = [(loop, _hole(vertices, loop)) for loop in _boundary_loops(faces, topo)]
        big = [h for _, h in holes if h.span_mm > HOLE_MAX_SPAN_MM]
        if big:
            big.sort(key=lambda h: -h.area_mm2)
            listed = "; ".join(h.describe() for h in big[:MAX_LISTED_HOLES])
            more = f" and {len(big) - MAX_LISTED_HOLES} more" if len(big) > MAX_LISTED_HOLES else ""
            raise OpenMeshError(
                f"the STL mesh is not closed (watertight): {_count(len(big), 'hole')} larger than the "
                f"{HOLE_MAX_SPAN_MM:g} mm a repair closes: {listed}{more}; a solid part is needed for volume "
                "and walls",
                [h for _, h in holes],
            )
        new_vertices, new_faces = [], []
        for loop, _h in holes:
            c = len(vertices) + len(new_vertices)
            new_vertices.append(vertices[loop].mean(axis=0))
            ring = np.array(loop)
            # the loop follows the triangles' edges a->b: the patch uses them b->a
            new_faces.append(np.stack([np.roll(ring, -1), ring, np.full(len(ring), c)], axis=1))
        vertices = np.vstack([vertices, new_vertices])
        faces = np.vstack([faces, *new_faces])
        area = sum(h.area_mm2 for _, h in holes)
        repairs.append(
            f"closed {_count(len(holes), 'hole')} of {area:.3g} mm2 in all (each spanning at most "
            f"{HOLE_MAX_SPAN_MM:g} mm)"
        )
        topo = _topology(faces, len(vertices))
        if (topo.counts != 2).any():
            raise PartError("the STL mesh is not closed (watertight): its holes could not be closed")

    return _shells(vertices, faces, topo, repairs)


def _shells(vertices: np.ndarray, faces: np.ndarray, topo: _Topology, repairs: list[str]) -> RepairedMesh:
    """Removes slivers and embedded copies, orients shells by nesting depth, names the voids."""
    n = topo.n_shells
    labels = topo.labels
    volume, area = _signed_volumes(vertices, faces, labels, n)
    tris = np.bincount(labels, minlength=n)
    keep = np.ones(n, dtype=bool)
    for s in np.flatnonzero(3 * np.abs(volume) < SLIVER_MM * area):
        keep[s] = False
        repairs.append(f"removed a zero-volume shell of {_count(int(tris[s]), 'triangle')}")
    if not keep.any():
        raise PartError("the STL mesh encloses no volume")
    shells = np.flatnonzero(keep)
    depth = dict.fromkeys(shells.tolist(), 0)
    flip = np.zeros(n, dtype=bool)
    void_shells: list[int] = []
    if len(shells) > 1:
        depth = _depths(vertices, faces, labels, shells)
    for s in shells.tolist():
        inward = volume[s] < 0
        if depth[s] % 2 == 0:
            if inward:
                flip[s] = True
                repairs.append(f"turned an inside-out shell of {_count(int(tris[s]), 'triangle')} outward")
        elif inward:
            void_shells.append(s)
        else:
            keep[s] = False
            repairs.append(
                f"removed a shell of {_count(int(tris[s]), 'triangle')} enclosed in another body "
                "(it adds no material)"
            )
    faces = faces.copy()
    flip_f = flip[labels]
    faces[flip_f] = faces[flip_f][:, ::-1]
    kept = keep[labels]
    faces, labels = faces[kept], labels[kept]
    void_index = np.full(n, -1, dtype=np.int64)
    voids: list[Void] = []
    for s in void_shells:
        sel = labels == s
        c = vertices[np.unique(faces[sel])].mean(axis=0)
        void_index[s] = len(voids)
        voids.append(
            Void(
                volume_mm3=float(-volume[s]),
                centre_mm=tuple(round(float(v), 3) + 0.0 for v in c),  # type: ignore[arg-type]
                triangles=int(sel.sum()),
            )
        )
    used = np.flatnonzero(np.bincount(faces.reshape(-1), minlength=len(vertices)))
    remap = np.full(len(vertices), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    mesh = trimesh.Trimesh(vertices=vertices[used], faces=remap[faces], process=False)
    new_face = np.cumsum(kept) - 1
    pairs = topo.pairs[kept[topo.pairs[:, 0]] & kept[topo.pairs[:, 1]]]
    mesh.metadata["face_pairs"] = new_face[pairs]
    mesh.metadata["volume_mm3"] = float(volume[keep].sum() - 2 * volume[flip].sum())
    return RepairedMesh(mesh=mesh, repairs=repairs, voids=voids, void_of=void_index[labels])


def _depths(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray, shells: np.ndarray) -> dict:
    """How many other shells enclose each shell (tested at one triangle centroid, inside the others'
    bounding boxes first)."""
    bodies, boxes, probe = {}, {}, {}
    for s in shells.tolist():
        f = faces[labels == s]
        v = vertices[np.unique(f)]
        boxes[s] = (v.min(axis=0), v.max(axis=0))
        tri = vertices[f]
        big = int(np.argmax(np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)))
        probe[s] = tri[big].mean(axis=0)
        bodies[s] = f
    depth = {}
    for s in shells.tolist():
        d = 0
        for o in shells.tolist():
            if o == s:
                continue
            lo, hi = boxes[o]
            if not (np.all(boxes[s][0] >= lo) and np.all(boxes[s][1] <= hi)):
                continue
            body = trimesh.Trimesh(vertices=vertices, faces=bodies[o], process=False)
            if bool(body.contains(probe[s][None])[0]):
                d += 1
        depth[s] = d
    return depth


def repair_stl(data: bytes) -> RepairedMesh:
    """An STL file's bytes as a closed, consistently oriented mesh, with what was repaired."""
    return repair_triangles(read_triangles(data))
