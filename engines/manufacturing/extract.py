"""Extraction of :class:`~engines.manufacturing.facts.PartFacts` from STEP or STL bytes.

Rays go through Embree (trimesh's embreex backend): well under a microsecond per ray, so the passes over a
20k-triangle part (reach in six directions, wall thickness and its inscribed-ball check, the gap below
overhangs) take a few tens of milliseconds. B-rep queries (edges, concavity probes) use OCCT.

Input formats: STEP (B-rep: exact faces, corner radii) and STL (triangles only: faces are coplanar
patches, and corner radii cannot be measured, which the rules report as such). An STL is repaired first
(:mod:`engines.manufacturing.repair`); above :data:`RAY_SAMPLE_TRIANGLES` the rays start from a sample.

The module is over 400 lines because one pass measures everything the rules read (reach, walls, gaps,
B-rep corners, the principal axes of inertia and the coplanar patches of a large mesh), and splitting it
would spread one measurement's conventions over several files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import trimesh
from build123d import Compound, GeomType, Shape, import_step
from OCP.BRepClass3d import BRepClass3d_SolidClassifier
from OCP.BRepTools import BRepTools
from OCP.gp import gp_Pnt
from OCP.TopAbs import TopAbs_IN

from engines.cad.mesh import triangulate_faces
from engines.manufacturing.facts import DIRECTIONS, NZ, PartFacts
from engines.manufacturing.holes import find_holes
from engines.manufacturing.repair import OpenMeshError, PartError, read_triangles, repair_triangles
from engines.manufacturing.sheet import measure_sheet
from shared.refs import sha256_hex

__all__ = ["MAX_TRIANGLES", "OpenMeshError", "PartError", "extract", "facts_from_mesh", "facts_from_shape"]

MAX_TRIANGLES = 2_000_000
"""Larger meshes are refused with a clear error (facts would take minutes, not seconds)."""
RAY_SAMPLE_TRIANGLES = 60_000
"""Above this many triangles the ray measurements (reach, walls, the gap below overhangs) are taken at a
uniform random sample of this many triangles (fixed seed: the same file gives the same facts), whose
areas are scaled to the whole surface; the rays still hit the whole mesh. A million-triangle STL is then
analysed in seconds, and every area-weighted measure is an unbiased estimate."""
_FAST_FACETS_ABOVE = 200_000
"""Above this many triangles the coplanar patches are grouped here (edge-sharing triangles with normals
within 1e-4 rad on the same plane), not by trimesh's ``facets`` (seconds per million triangles)."""
_AXIS_COS = float(np.cos(np.radians(1.0)))

_FACING_TOL = 0.02
"""A triangle counts as facing a direction when n.d > -0.02 (vertical walls are reached from above)."""
_WALL_COS = float(np.cos(np.radians(20.0)))
"""A thickness ray only measures a wall when it exits through a face within 20 deg of anti-parallel;
grazing exits near concave edges would otherwise report near-zero walls."""


# --- loading ------------------------------------------------------------------------------------


def load_step(data: bytes) -> Shape:
    """The solids of a STEP file as one shape; :class:`PartError` for anything that is not a solid part."""
    head = data[:2048].lstrip()
    if not head.startswith(b"ISO-10303-21"):
        raise PartError("not a STEP file: it does not start with 'ISO-10303-21'")
    with tempfile.TemporaryDirectory(prefix="mechbench-step-") as tmp:
        path = Path(tmp) / "part.step"
        path.write_bytes(data)
        try:
            shape = import_step(path)
        except Exception as e:  # OCCT raises plain exceptions for damaged files
            raise PartError(f"the STEP file could not be read: {type(e).__name__}: {e}") from e
    solids = shape.solids()
    if not solids:
        kinds = f"{len(shape.faces())} faces, {len(shape.edges())} edges"
        raise PartError(f"the STEP file holds no solid ({kinds}); export the part as a closed solid body")
    volume = sum(s.volume for s in solids)
    if not volume > 0:
        raise PartError("the STEP solid has no volume (open or inside-out shell)")
    return solids[0] if len(solids) == 1 else _one_body(Compound(solids))


def load_stl(data: bytes) -> trimesh.Trimesh:
    """A closed, outward-oriented triangle mesh from STL bytes (ASCII or binary), repaired as a slicer
    would (:mod:`engines.manufacturing.repair`). ``mesh.metadata`` holds ``repairs`` (what was changed, in
    words), ``voids`` (the enclosed internal voids) and ``void_of`` (each triangle's void, -1 outside).
    :class:`PartError` (:class:`OpenMeshError` for holes too large to close, naming where) otherwise."""
    tri = read_triangles(data)
    if len(tri) > MAX_TRIANGLES:
        raise PartError(f"the STL has {len(tri)} triangles; the limit is {MAX_TRIANGLES}")
    repaired = repair_triangles(tri)
    mesh = repaired.mesh
    if not _volume(mesh) > 0:
        raise PartError("the STL mesh encloses no volume")
    mesh.metadata["repairs"] = list(repaired.repairs)
    mesh.metadata["voids"] = list(repaired.voids)
    mesh.metadata["void_of"] = repaired.void_of
    return mesh


# --- extraction ---------------------------------------------------------------------------------


def tessellation_tolerance_mm(diagonal_mm: float) -> float:
    """Chordal deflection: fine enough for walls and drafts, coarse enough to stay ~10^4 triangles."""
    return float(np.clip(diagonal_mm * 5e-4, 0.01, 0.5))


def extract(data: bytes, fmt: str) -> PartFacts:
    """Facts of a STEP or STL file's bytes."""
    sha = sha256_hex(data)
    if fmt == "step":
        return facts_from_shape(load_step(data), sha, "step")
    if fmt == "stl":
        return facts_from_mesh(load_stl(data), sha)
    raise PartError(f"unsupported part format {fmt!r}: use step or stl (scripts are run first)")


def facts_from_shape(shape: Shape, sha256: str, source_format: str = "step") -> PartFacts:
    shape = _one_body(shape)
    bb = shape.bounding_box()
    diag = float(np.linalg.norm(np.array(tuple(bb.max)) - np.array(tuple(bb.min))))
    # Serial meshing: the heavy worker runs several jobs at once, so a second meshing thread takes a core
    # from another job. Alone on an idle 2-core machine it would cut latency (the 121-hole plate's 20k
    # triangles: 0.08 s on OCCT's thread pool, 0.15 s on one thread), not the worker's throughput.
    vertices, tris, face_index = triangulate_faces(shape, tessellation_tolerance_mm(diag), parallel=False)
    if len(tris) > MAX_TRIANGLES:
        raise PartError(f"the part tessellates to {len(tris)} triangles; the limit is {MAX_TRIANGLES}")
    faces = shape.faces()
    kinds = [str(f.geom_type.name).lower() for f in faces]
    mesh = trimesh.Trimesh(vertices=vertices, faces=tris, process=False)
    facts = _mesh_facts(
        mesh, face_index, kinds, sha256, source_format, has_brep=True,
        volume=float(shape.volume), area=float(shape.area),
    )  # fmt: skip
    _add_brep_corners(facts, shape, faces)
    for name, values in find_holes(faces).items():
        setattr(facts, name, values)
    facts.sheet = measure_sheet(shape, faces, facts)
    return facts


def in_principal_frame(shape: Shape) -> Shape:
    """``shape`` moved into its oriented bounding box's frame: how a shop fixtures a part that a scene
    places tilted (a benchmark's reference chute), so stock and tool directions follow the part, not the
    scene. User parts are analysed as modelled: their orientation is the designer's choice."""
    return shape.oriented_bounding_box().location.inverse() * shape


def _one_body(shape: Shape) -> Shape:
    """Several solids (a part modelled as touching boxes, or a STEP with several bodies) are fused first:
    faces where they touch are inside the part, not surface any tool or mould must reach."""
    solids = shape.solids()
    if len(solids) <= 1:
        return solids[0] if solids else shape
    fused = solids[0].fuse(*solids[1:]).clean()
    if not fused.solids():
        raise PartError("the part's solids could not be fused into one body")
    return fused


def facts_from_mesh(mesh: trimesh.Trimesh, sha256: str) -> PartFacts:
    """STL: faces are trimesh's coplanar facets; other triangles are their own patch. What
    :func:`load_stl` repaired and the voids it found (``mesh.metadata``) go into the facts."""
    if len(mesh.faces) <= _FAST_FACETS_ABOVE:
        facets = mesh.facets
        face_index = np.full(len(mesh.faces), -1, dtype=np.int64)
        for i, facet in enumerate(facets):
            face_index[facet] = i
        n_facets = len(facets)
    else:
        face_index, n_facets = _coplanar_patches(mesh)
    loose = np.flatnonzero(face_index < 0)
    face_index[loose] = n_facets + np.arange(len(loose))
    kinds = ["plane"] * n_facets + ["triangle"] * len(loose)
    void_of = mesh.metadata.get("void_of")
    if void_of is None or len(void_of) != len(mesh.faces):
        void_of = None
    facts = _mesh_facts(
        mesh, face_index, kinds, sha256, "stl", has_brep=False,
        volume=_volume(mesh), area=None, void_of=void_of,
    )  # fmt: skip
    facts.repairs = list(mesh.metadata.get("repairs", []))
    voids = mesh.metadata.get("voids", [])
    if voids and void_of is not None:
        facts.void_volume_mm3 = np.array([v.volume_mm3 for v in voids])
    return facts


def _coplanar_patches(mesh: trimesh.Trimesh) -> tuple[np.ndarray, int]:
    """Groups of two or more edge-sharing triangles on one plane (trimesh's facets, in O(T log T)): each
    triangle's group index (groups numbered by their first triangle), -1 for a triangle on its own, and
    the number of groups. Uses the repair's edge pairs (``mesh.metadata["face_pairs"]``) when present."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    faces = np.asarray(mesh.faces, dtype=np.int64)
    t = len(faces)
    pairs = mesh.metadata.get("face_pairs")
    if pairs is None or (len(pairs) and pairs.max() >= t):
        directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
        key = directed.min(axis=1) * np.int64(len(mesh.vertices)) + directed.max(axis=1)
        order = np.argsort(key, kind="stable")
        sk = key[order]
        same = np.flatnonzero(sk[1:] == sk[:-1])
        pairs = np.stack([order[same] // 3, order[same + 1] // 3], axis=1)
    a, b = pairs[:, 0], pairs[:, 1]
    tri = mesh.vertices[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1), 1e-300)[:, None]
    offset = np.einsum("ij,ij->i", n, tri[:, 0])
    tol = 1e-6 * float(np.linalg.norm(np.ptp(mesh.vertices, axis=0))) + 1e-9
    flat = (np.einsum("ij,ij->i", n[a], n[b]) > 1 - 5e-9) & (np.abs(offset[a] - offset[b]) < tol)
    a, b = a[flat], b[flat]
    count, labels = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(t, t)), directed=False)
    sizes = np.bincount(labels, minlength=count)
    grouped = sizes[labels] > 1
    index = np.full(t, -1, dtype=np.int64)
    if grouped.any():
        _, first = np.unique(labels[grouped], return_index=True)  # number groups by first triangle
        group_of_label = np.full(count, -1, dtype=np.int64)
        order = np.argsort(np.flatnonzero(grouped)[first], kind="stable")
        group_of_label[labels[grouped][first][order]] = np.arange(len(first))
        index[grouped] = group_of_label[labels[grouped]]
    return index, int(grouped.any() and index.max() + 1)


def _volume(mesh: trimesh.Trimesh) -> float:
    """The repair's signed volume when it computed one (a rigid motion keeps it), else trimesh's."""
    v = mesh.metadata.get("volume_mm3")
    return float(v) if v is not None else float(mesh.volume)


def _second_moments(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Eigenvalues (ascending) and eigenvectors (rows) of a closed mesh's covariance of volume about its
    centroid (the principal axes of inertia: the inertia tensor is ``tr(C) I - C``), by the divergence
    theorem over the tetrahedra from the origin to each triangle; ``None`` for no volume."""
    tri = vertices[faces]
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    det = np.einsum("ij,ij->i", a, np.cross(b, c))
    volume = det.sum() / 6
    if not abs(volume) > 0:
        return None
    s = a + b + c
    centre = (det[:, None] * s).sum(axis=0) / 24 / volume
    second = sum((det[:, None] * p).T @ p for p in (a, b, c, s)) / 120
    cov = second - volume * np.outer(centre, centre)
    values, vectors = np.linalg.eigh(cov / volume)
    return values, vectors.T


def _inertia_directions(mesh: trimesh.Trimesh) -> np.ndarray:
    """(6, 3) +- the principal axes of inertia (each signed so its largest component is positive), or
    (0, 3) when every well-defined axis is already +-X, +-Y or +-Z (or none is well defined: an axis is
    when its moment differs from the other two by more than 0.1 % of the largest)."""
    moments = _second_moments(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces))
    if moments is None:
        return np.zeros((0, 3))
    comps, vecs = moments
    if not (np.isfinite(comps).all() and np.isfinite(vecs).all()):
        return np.zeros((0, 3))
    scale = float(np.abs(comps).max()) or 1.0
    well = [i for i in range(3) if all(abs(comps[i] - comps[j]) > 1e-3 * scale for j in range(3) if j != i)]
    if not any(np.abs(vecs[i]).max() < _AXIS_COS for i in well):
        return np.zeros((0, 3))
    out = []
    for v in vecs[::-1]:  # largest spread first: the long axis
        v = v / np.linalg.norm(v)
        v = v if v[int(np.argmax(np.abs(v)))] > 0 else -v
        out += [v, -v]
    return np.array(out)


def _mesh_facts(
    mesh: trimesh.Trimesh,
    face_index: np.ndarray,
    kinds: list[str],
    sha256: str,
    source_format: str,
    *,
    has_brep: bool,
    volume: float,
    area: float | None,
    void_of: np.ndarray | None = None,
) -> PartFacts:
    tri = mesh.vertices[mesh.faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    double_area = np.linalg.norm(cross, axis=1)
    keep = double_area > 1e-12
    void_of = np.full(len(tri), -1, dtype=np.int64) if void_of is None else np.asarray(void_of)
    extra_dirs = _inertia_directions(mesh)
    face_lo, face_hi = _face_boxes(tri[keep], face_index[keep], len(kinds))
    if not keep.all():  # degenerate slivers carry no area and no direction
        mesh = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces[keep], process=False)
    lo, hi = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    total_area = float(double_area[keep].sum() / 2)
    area = total_area if area is None else area  # a mesh's own area: the sum of its triangles'
    sample = np.flatnonzero(keep)
    mesh_triangles = 0
    if len(sample) > RAY_SAMPLE_TRIANGLES:
        mesh_triangles = len(sample)
        sample = np.sort(np.random.default_rng(0).choice(sample, RAY_SAMPLE_TRIANGLES, replace=False))
    hit_normals = cross[keep] / double_area[keep, None]  # of the triangles rays hit: the whole mesh's
    tri, cross, double_area = tri[sample], cross[sample], double_area[sample]
    face_index, void_of = face_index[sample], void_of[sample]
    normals = cross / double_area[:, None]
    areas = double_area / 2
    if mesh_triangles:
        areas = areas * (total_area / float(areas.sum()))
    centroids = tri.mean(axis=1)
    diag = float(np.linalg.norm(hi - lo))
    eps = 1e-4 * diag + 1e-3
    rays = mesh.ray

    outside = centroids + eps * normals
    all_dirs = np.vstack([DIRECTIONS, extra_dirs])
    reach_all = np.zeros((len(areas), len(all_dirs)), dtype=bool)
    for k, d in enumerate(all_dirs):
        facing = np.flatnonzero(normals @ d > -_FACING_TOL)
        if len(facing):
            blocked = rays.intersects_any(outside[facing], np.broadcast_to(d, (len(facing), 3)))
            reach_all[facing, k] = ~blocked
    reach = np.ascontiguousarray(reach_all[:, : len(DIRECTIONS)])

    thickness = np.full(len(areas), np.nan)
    inside = centroids - eps * normals
    loc, ray_i, tri_i = rays.intersects_location(inside, -normals, multiple_hits=False)
    if len(ray_i):
        valid = np.einsum("ij,ij->i", hit_normals[tri_i], normals[ray_i]) < -_WALL_COS
        dist = np.linalg.norm(loc - inside[ray_i], axis=1) + eps
        thickness[ray_i[valid]] = dist[valid]
    thickness = _inscribed_limit(rays, centroids, normals, thickness)

    down_gap = np.full(len(areas), np.nan)
    down = np.flatnonzero(normals[:, 2] < -_FACING_TOL)
    if len(down):
        down_gap[down] = centroids[down, 2] - lo[2]  # nothing below: support stands on the bed
        loc, ray_i, _ = rays.intersects_location(
            outside[down], np.broadcast_to(DIRECTIONS[NZ], (len(down), 3)), multiple_hits=False
        )
        if len(ray_i):
            down_gap[down[ray_i]] = np.linalg.norm(loc - outside[down[ray_i]], axis=1) + eps

    n_voids = int(void_of.max()) + 1 if len(void_of) else 0
    void_centre = np.zeros((n_voids, 3))
    for v in range(n_voids):
        sel = void_of == v
        if sel.any():
            void_centre[v] = (centroids[sel] * areas[sel, None]).sum(axis=0) / areas[sel].sum()
    return PartFacts(
        sha256=sha256,
        source_format=source_format,
        has_brep=has_brep,
        volume_mm3=volume,
        area_mm2=area,
        bbox_min=lo,
        bbox_max=hi,
        face_kinds=kinds,
        normals=normals.astype(np.float32),
        areas=areas,
        centroids=centroids,
        face_ids=face_index.astype(np.int32),
        reach=reach,
        thickness=thickness,
        down_gap=down_gap,
        extra_dirs=extra_dirs,
        extra_reach=np.ascontiguousarray(reach_all[:, len(DIRECTIONS) :]),
        void_volume_mm3=np.zeros(n_voids),
        void_centre=void_centre,
        void_of=void_of.astype(np.int32),
        mesh_triangles=mesh_triangles,
        face_lo=face_lo,
        face_hi=face_hi,
    )


def _face_boxes(tri: np.ndarray, face_index: np.ndarray, n_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """Each face's bounding box over its triangles' vertices (NaN for a face without triangles)."""
    lo = np.full((n_faces, 3), np.inf)
    hi = np.full((n_faces, 3), -np.inf)
    idx = np.asarray(face_index, dtype=np.int64)
    ok = (idx >= 0) & (idx < n_faces)
    np.minimum.at(lo, idx[ok], tri[ok].min(axis=1))
    np.maximum.at(hi, idx[ok], tri[ok].max(axis=1))
    empty = ~np.isfinite(lo).all(axis=1)
    lo[empty] = np.nan
    hi[empty] = np.nan
    return lo, hi


def _inscribed_limit(rays, centroids: np.ndarray, normals: np.ndarray, thickness: np.ndarray) -> np.ndarray:
    """Keeps a ray thickness only where a ball of that diameter fits at the ray's midpoint.

    A ray from a narrow face (the 1 mm edge of a 100 mm plate) crosses the part lengthwise: that is not a
    wall, and the ball at its midpoint touches the plate's faces 0.5 mm away. Such samples are dropped, so
    walls are measured between the faces that bound them. The nearest-surface distance is approximated by
    the shortest of 8 rays (the sample's normal both ways and the six principal directions); it can only
    be too long, so a real wall is never dropped.
    """
    ok = np.flatnonzero(np.isfinite(thickness))
    if not len(ok):
        return thickness
    mid = centroids[ok] - normals[ok] * (thickness[ok] / 2)[:, None]
    nearest = thickness[ok] / 2
    dirs = [normals[ok], -normals[ok]] + [np.broadcast_to(d, (len(ok), 3)) for d in DIRECTIONS]
    for d in dirs:
        loc, ray_i, _ = rays.intersects_location(mid, d, multiple_hits=False)
        if len(ray_i):
            dist = np.linalg.norm(loc - mid[ray_i], axis=1)
            nearest[ray_i] = np.minimum(nearest[ray_i], dist)
    out = thickness.copy()
    out[ok[2 * nearest < 0.9 * thickness[ok]]] = np.nan
    return out


def _add_brep_corners(facts: PartFacts, shape: Shape, faces: list) -> None:
    """Internal (concave) corners: sharp line edges between two planes, and concave fillet cylinders."""
    edge_faces: dict[int, list[int]] = {}
    edges = {}
    for fi, face in enumerate(faces):
        for e in face.edges():
            h = hash(e)
            edge_faces.setdefault(h, [])
            if fi not in edge_faces[h]:
                edge_faces[h].append(fi)
            edges[h] = e
    solid = shape.wrapped
    probe = 1e-3 * facts.diagonal_mm + 1e-3

    classifier = BRepClass3d_SolidClassifier(solid)  # built once: construction dominates each query

    def inside(p: np.ndarray) -> bool:
        classifier.Perform(gp_Pnt(*map(float, p)), 1e-7)
        return classifier.State() == TopAbs_IN

    radius, axis, p0s, p1s, pairs = [], [], [], [], []
    for h, fis in edge_faces.items():
        e = edges[h]
        if len(fis) != 2 or e.geom_type != GeomType.LINE:
            continue
        f1, f2 = faces[fis[0]], faces[fis[1]]
        if f1.geom_type != GeomType.PLANE or f2.geom_type != GeomType.PLANE:
            continue
        a, b = np.array(tuple(e.position_at(0))), np.array(tuple(e.position_at(1)))
        mid = (a + b) / 2
        n1 = np.array(tuple(f1.normal_at()))  # planar faces: one normal
        n2 = np.array(tuple(f2.normal_at()))
        if abs(float(n1 @ n2)) > 0.999:
            continue
        # Concave iff stepping along (n1 - n2) and (n2 - n1) from the edge both land in material.
        step = (n1 - n2) / np.linalg.norm(n1 - n2) * probe
        if inside(mid + step) and inside(mid - step):
            length = float(np.linalg.norm(b - a))
            if length <= 0:
                continue
            radius.append(0.0)
            axis.append((b - a) / length)
            p0s.append(a)
            p1s.append(b)
            pairs.append(fis)
    for fi, f in enumerate(faces):
        if f.geom_type != GeomType.CYLINDER:
            continue
        umin, umax, _, _ = BRepTools.UVBounds_s(f.wrapped)
        if umax - umin >= np.pi - 1e-6:  # a hole or a boss, not a corner fillet
            continue
        ax = f.axis_of_rotation
        u = np.array(tuple(ax.direction))
        origin = np.array(tuple(ax.position))
        c = np.array(tuple(f.center()))
        radial = (c - origin) - ((c - origin) @ u) * u
        n = np.array(tuple(f.normal_at(c)))
        if float(n @ radial) >= 0:  # convex round: an outside edge, not an internal corner
            continue
        ends = np.array([tuple(v) for v in f.vertices()])
        along = (ends - origin) @ u
        base = c - (c - origin) @ u * u
        radius.append(float(f.radius))
        axis.append(u)
        p0s.append(base + along.min() * u)
        p1s.append(base + along.max() * u)
        pairs.append([fi, fi])
    if radius:
        facts.corner_radius = np.array(radius)
        facts.corner_axis = np.array(axis)
        facts.corner_p0 = np.array(p0s)
        facts.corner_p1 = np.array(p1s)
        facts.corner_faces = np.array(pairs, dtype=np.int32)
