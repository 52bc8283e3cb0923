"""Linear-elastic quasi-static analysis on quadratic (10-node) tetrahedra: assemble and factorise once, then
each load case is a back-substitution.

Contract:

- :func:`prepare` assembles the stiffness of a :class:`~engines.structure.mesh.TetMesh` for one isotropic
  :class:`Elastic` material, removes the held degrees of freedom (every component of each ``supported`` node
  is 0) and factorises what remains once (SuperLU, symmetric mode, minimum-degree ordering on ``A^T + A``,
  no pivoting: the reduced stiffness is symmetric positive definite). No held node, held nodes all on one
  line (the part could spin about it), or a singular factor raise ``StructureError("structure.unsupported")``.
- :func:`solve` applies point loads and a body force and returns a :class:`StructuralResult`. Units are mm,
  N and MPa throughout.

Element: the quadratic tetrahedron (P2, 10 nodes, straight edges), integrated exactly with the 4-point
degree-2 rule (the stiffness integrand of an affine P2 element is quadratic). Linear tetrahedra lock in
bending (far too stiff at practical densities); P2 represents the linear bending stress across a section
exactly, so the default of 1.5 elements through a wall is enough (``engines/structure/mesh.py``).

Loads: each ``(point_mm, force_N)`` is a uniform traction over a contact patch: the boundary triangles whose
centre lies within ``patch_radius_mm`` of the point (default: the mesh's target edge length) and whose
normal is within 45 degrees of the normal of the boundary triangle closest to the point (so the patch stays
on the face that is touched, not round an edge); when no centre is that close, the closest triangle alone.
The traction is the consistent P2 load (a triangle's share goes to its three mid-edge nodes, a third each).
The body force (density times g, N/mm^3) is the consistent P2 body load (per tetrahedron of volume V: -V/20
at each corner, V/5 at each mid-edge node). The total force and moment of each load are exact.

Stress: the stress is linear in each P2 element; it is evaluated at the element's corners and mid-edge
nodes, averaged over the elements meeting at a node (volume-weighted, tensor components, then von Mises:
``sqrt(((s1-s2)^2 + (s2-s3)^2 + (s3-s1)^2) / 2 + 3 (t12^2 + t23^2 + t31^2))``).

Peak: the largest nodal-averaged von Mises stress over the nodes farther than ``peak_exclusion_mm``
(default: half the mesh's target edge length, :data:`PEAK_EXCLUSION`) from every held node and every
load-patch node. An idealised rigid support, a point support or a patch edge is a stress singularity:
the stress at it grows without bound as the mesh is refined, so a peak read at it measures the mesh, not
the part. Leaving out those nodes and the mid-edge nodes next to them (half an element) removes the
singular values themselves, while the rest of the nodal-averaged field (a fillet, a notch, a thin section,
the root of a clamped beam one node away) stays in. For a clamped cantilever the peak so read is within
4 % of 6FL/bh^2 from 2 to 5 mm elements (``benchmarks/bench_structure.py``); the weak singularity of a
clamped face barely grows, a point support's would (but its nodes are the ones left out). The full map,
singular nodes included, is ``node_von_mises_mpa``. When every node is that close, the peak is over all
nodes. A sharp re-entrant corner of the part itself (an unfilleted slot) is a singularity too and stays
in: its peak rises as the mesh is refined, as a real part's rises as its corner radius shrinks.

Assumptions: small displacements and strains, linear isotropic elasticity, quasi-static loads (no inertia
beyond the given body force), no contact, rigid supports.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import trimesh
from scipy.spatial import cKDTree

from engines.structure.errors import BAD_LOAD, NO_ELASTIC_DATA, UNSUPPORTED, StructureError
from engines.structure.mesh import EDGES, TetMesh, boundary_faces

Vec3 = tuple[float, float, float]

_A, _B = 0.5854101966249685, 0.1381966011250105
QUADRATURE = np.array([[_A, _B, _B, _B], [_B, _A, _B, _B], [_B, _B, _A, _B], [_B, _B, _B, _A]])
"""Barycentric points of the 4-point degree-2 rule on a tetrahedron (equal weights, V/4 each)."""

NODE_POINTS = np.concatenate([np.eye(4), np.array([(np.eye(4)[i] + np.eye(4)[j]) / 2 for i, j in EDGES])])
"""Barycentric coordinates of the 10 nodes, in the element's node order."""

PATCH_NORMAL_COS = float(np.cos(np.radians(45.0)))

PEAK_EXCLUSION = 0.5
"""The default peak exclusion distance, in target edge lengths (see the module docstring)."""


@dataclass(frozen=True)
class Elastic:
    """An isotropic linear-elastic material; ``allowable_mpa`` is before any safety factor."""

    youngs_modulus_mpa: float
    poissons_ratio: float
    allowable_mpa: float


def _coefficients(lam: np.ndarray) -> np.ndarray:
    """(10, 4): the gradient of each P2 shape function at barycentric point ``lam`` as a combination of the
    corners' barycentric gradients."""
    c = np.zeros((10, 4))
    for i in range(4):
        c[i, i] = 4.0 * lam[i] - 1.0
    for k, (i, j) in enumerate(EDGES):
        c[4 + k, i] = 4.0 * lam[j]
        c[4 + k, j] = 4.0 * lam[i]
    return c


def _barycentric_gradients(nodes: np.ndarray, tets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, 4, 3) gradients of the corners' barycentric coordinates, and (M,) volumes."""
    x = nodes[tets[:, :4]]
    jac = np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]], axis=2)  # columns
    det = np.linalg.det(jac)
    inv = np.linalg.inv(jac)  # rows: grad of lambda_1..3
    grads = np.concatenate([-inv.sum(axis=1, keepdims=True), inv], axis=1)
    return grads, np.abs(det) / 6.0


@dataclass(frozen=True)
class PreparedPart:
    """A mesh, its material and its supports, with the reduced stiffness factorised once."""

    mesh: TetMesh
    elastic: Elastic
    supported: np.ndarray
    free_dofs: np.ndarray
    factor: sla.SuperLU
    grads: np.ndarray
    volumes: np.ndarray
    faces: np.ndarray
    """(K, 6) boundary faces: corners then mid-edge nodes."""
    assemble_s: float


def _lame(e: Elastic) -> tuple[float, float]:
    lam = e.youngs_modulus_mpa * e.poissons_ratio / ((1 + e.poissons_ratio) * (1 - 2 * e.poissons_ratio))
    return lam, e.youngs_modulus_mpa / (2 * (1 + e.poissons_ratio))


def prepare(mesh: TetMesh, elastic: Elastic, supported: np.ndarray) -> PreparedPart:
    """Assemble, hold ``supported`` nodes and factorise; see the module docstring."""
    start = time.perf_counter()
    held = np.asarray(supported, dtype=bool)
    if held.shape != (len(mesh.nodes),):
        raise StructureError(UNSUPPORTED, f"supported must be ({len(mesh.nodes)},) bool, got {held.shape}")
    if not held.any():
        raise StructureError(UNSUPPORTED, "no node is supported: the part is free to move")
    spread = mesh.nodes[held] - mesh.nodes[held].mean(axis=0)
    extent = np.linalg.svd(spread, compute_uv=False) if len(spread) > 1 else np.zeros(1)
    if len(extent) < 2 or extent[1] <= 1e-9 * max(float(np.ptp(mesh.nodes, axis=0).max()), 1e-12):
        raise StructureError(UNSUPPORTED, "the held nodes lie on one line: the part is free to spin about it")
    if not (0 < elastic.youngs_modulus_mpa and -1 < elastic.poissons_ratio < 0.5):
        raise StructureError(NO_ELASTIC_DATA, f"invalid elastic constants {elastic}")
    grads, volumes = _barycentric_gradients(mesh.nodes, mesh.tets)
    lam, mu = _lame(elastic)
    m = len(mesh.tets)
    # The shape functions' gradients at the 4 points, (M, 4, 10, 3); the sums over the points of g_ai g_bj
    # (tt) and of g_a . g_b (gg) are then two batched matrix products.
    g = np.einsum("qak,mkd->mqad", np.stack([_coefficients(q) for q in QUADRATURE]), grads)
    per_point = g.reshape(m, 4, 30)
    tt = np.matmul(per_point.transpose(0, 2, 1), per_point).reshape(m, 10, 3, 10, 3)
    per_node = g.transpose(0, 2, 1, 3).reshape(m, 10, 12)
    gg = np.matmul(per_node, per_node.transpose(0, 2, 1))
    w = (volumes / 4.0)[:, None, None, None, None]
    ke = w * (
        mu * gg[:, :, None, :, None] * np.eye(3)[None, None, :, None, :]
        + mu * tt.transpose(0, 1, 4, 3, 2)
        + lam * tt
    )
    ndof = 3 * len(mesh.nodes)
    free_of = np.full(ndof, -1, dtype=np.int64)
    free = np.flatnonzero(~np.repeat(held, 3))
    free_of[free] = np.arange(len(free))
    edofs = free_of[(3 * mesh.tets[:, :, None] + np.arange(3)).reshape(m, 30)]
    rows = np.broadcast_to(edofs[:, :, None], (m, 30, 30)).ravel()
    cols = np.broadcast_to(edofs[:, None, :], (m, 30, 30)).ravel()
    keep = (rows >= 0) & (cols >= 0)
    k = sp.csc_matrix((ke.reshape(-1)[keep], (rows[keep], cols[keep])), shape=(len(free), len(free)))
    try:
        factor = sla.splu(
            k, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
    except RuntimeError as e:
        raise StructureError(
            UNSUPPORTED, f"the supports leave the part free to move (singular stiffness: {e})"
        ) from e
    return PreparedPart(
        mesh=mesh,
        elastic=elastic,
        supported=held,
        free_dofs=free,
        factor=factor,
        grads=grads,
        volumes=volumes,
        faces=boundary_faces(mesh.tets, mesh.nodes),
        assemble_s=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class StructuralResult:
    """One load case's answer; stresses in MPa, displacements in mm, times in seconds."""

    peak_von_mises_mpa: float
    peak_location_mm: Vec3
    max_displacement_mm: float
    max_displacement_location_mm: Vec3
    node_von_mises_mpa: np.ndarray
    displacement_mm: np.ndarray
    mesh_s: float
    assemble_s: float
    solve_s: float


def _patch(part: PreparedPart, point: np.ndarray, radius: float) -> np.ndarray:
    """Indices into ``part.faces`` of the contact patch at ``point`` (see the module docstring)."""
    nodes = part.mesh.nodes
    corners = nodes[part.faces[:, :3]]
    centres = corners.mean(axis=1)
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    tree = cKDTree(centres)
    _, near = tree.query(point, k=min(32, len(centres)))
    near = np.atleast_1d(near)
    closest = trimesh.triangles.closest_point(corners[near], np.repeat(point[None], len(near), axis=0))
    first = near[int(np.argmin(np.linalg.norm(closest - point, axis=1)))]
    inside = np.asarray(tree.query_ball_point(point, radius), dtype=np.int64)
    facing = inside[normals[inside] @ normals[first] >= PATCH_NORMAL_COS] if len(inside) else inside
    return facing if len(facing) else np.array([first])


def _load_vector(
    part: PreparedPart, loads: Sequence[tuple[Vec3, Vec3]], body: np.ndarray, radius: float
) -> np.ndarray:
    mesh = part.mesh
    f = np.zeros((len(mesh.nodes), 3))
    for point, force in loads:
        p, fv = np.asarray(point, dtype=np.float64), np.asarray(force, dtype=np.float64)
        if p.shape != (3,) or fv.shape != (3,) or not (np.isfinite(p).all() and np.isfinite(fv).all()):
            raise StructureError(
                BAD_LOAD, f"a load is (point_mm, force_N) of 3 finite numbers each, got {point}, {force}"
            )
        patch = part.faces[_patch(part, p, radius)]
        c = mesh.nodes[patch[:, :3]]
        area = 0.5 * np.linalg.norm(np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]), axis=1)
        share = area / area.sum()
        np.add.at(f, patch[:, 3:].ravel(), np.repeat(share / 3.0, 3)[:, None] * fv)
    if np.any(body):
        v = part.volumes
        np.add.at(f, mesh.tets[:, :4].ravel(), np.repeat(-v / 20.0, 4)[:, None] * body)
        np.add.at(f, mesh.tets[:, 4:].ravel(), np.repeat(v / 5.0, 6)[:, None] * body)
    return f.reshape(-1)


def nodal_stress(part: PreparedPart, u: np.ndarray) -> np.ndarray:
    """(N, 3, 3) volume-weighted nodal average of the element stresses (MPa) for displacements (N, 3)."""
    mesh = part.mesh
    lam, mu = _lame(part.elastic)
    ue = u[mesh.tets]  # (M, 10, 3)
    m = len(mesh.tets)
    sigmas = []
    for point in NODE_POINTS:
        g = np.einsum("bk,mkd->mbd", _coefficients(point), part.grads)
        grad = np.einsum("mbd,mbi->mid", g, ue)
        eps = 0.5 * (grad + grad.transpose(0, 2, 1))
        sigmas.append(2 * mu * eps + lam * np.trace(eps, axis1=1, axis2=2)[:, None, None] * np.eye(3))
    sig = np.stack(sigmas, axis=1).reshape(m * 10, 9)  # element-major, then node
    weights = np.repeat(part.volumes, 10)
    average = sp.csr_matrix(
        (weights, (mesh.tets.ravel(), np.arange(m * 10))), shape=(len(mesh.nodes), m * 10)
    )
    total = average @ sig
    return (total / np.asarray(average.sum(axis=1))).reshape(-1, 3, 3)


def von_mises(s: np.ndarray) -> np.ndarray:
    """Von Mises stress of (..., 3, 3) stress tensors."""
    d = (
        (s[..., 0, 0] - s[..., 1, 1]) ** 2
        + (s[..., 1, 1] - s[..., 2, 2]) ** 2
        + (s[..., 2, 2] - s[..., 0, 0]) ** 2
    )
    shear = s[..., 0, 1] ** 2 + s[..., 1, 2] ** 2 + s[..., 2, 0] ** 2
    return np.sqrt(0.5 * d + 3.0 * shear)


def _size(mesh: TetMesh) -> float:
    if mesh.size_mm > 0:
        return mesh.size_mm
    c = mesh.nodes[mesh.surface]
    return float(np.median(np.linalg.norm(c[:, 1] - c[:, 0], axis=1)))


def solve(
    part: PreparedPart,
    loads: Sequence[tuple[Vec3, Vec3]],
    *,
    body_force_n_per_mm3: Vec3 = (0.0, 0.0, 0.0),
    patch_radius_mm: float | None = None,
    peak_exclusion_mm: float | None = None,
) -> StructuralResult:
    """Displacements and stresses under ``loads`` and the body force; see the module docstring."""
    start = time.perf_counter()
    mesh = part.mesh
    radius = _size(mesh) if patch_radius_mm is None else float(patch_radius_mm)
    exclusion = PEAK_EXCLUSION * _size(mesh) if peak_exclusion_mm is None else float(peak_exclusion_mm)
    body = np.asarray(body_force_n_per_mm3, dtype=np.float64)
    f = _load_vector(part, loads, body, radius)
    u = np.zeros(3 * len(mesh.nodes))
    u[part.free_dofs] = part.factor.solve(f[part.free_dofs])
    u = u.reshape(-1, 3)
    vm = von_mises(nodal_stress(part, u))
    hot = part.supported.copy()
    for point, _ in loads:
        hot[part.faces[_patch(part, np.asarray(point, np.float64), radius)].ravel()] = True
    far = cKDTree(mesh.nodes[hot]).query(mesh.nodes, distance_upper_bound=exclusion)[0] > exclusion
    pool = np.flatnonzero(far) if far.any() else np.arange(len(mesh.nodes))
    peak = pool[int(np.argmax(vm[pool]))]
    mag = np.linalg.norm(u, axis=1)
    top = int(np.argmax(mag))
    return StructuralResult(
        peak_von_mises_mpa=float(vm[peak]),
        peak_location_mm=tuple(float(x) for x in mesh.nodes[peak]),  # type: ignore[arg-type]
        max_displacement_mm=float(mag[top]),
        max_displacement_location_mm=tuple(float(x) for x in mesh.nodes[top]),  # type: ignore[arg-type]
        node_von_mises_mpa=vm,
        displacement_mm=u,
        mesh_s=mesh.mesh_s,
        assemble_s=part.assemble_s,
        solve_s=time.perf_counter() - start,
    )
