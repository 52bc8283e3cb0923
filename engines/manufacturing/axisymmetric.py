"""Axisymmetric (turnable) parts: the axis of revolution and the turned profile, from the facts' triangles.

A surface is a surface of revolution about an axis exactly when its normal lies in the meridian plane
everywhere (``n . (a x (x - p)) = 0``): planes perpendicular to the axis and cylinders, cones, tori and
spheres coaxial with it pass; a flat, a cross hole, a keyway or a prismatic body does not. The test reads
only per-triangle normals and centroids, so it works on B-rep tessellations and on STL meshes alike (for a
mesh it is the "invariant under rotation about the principal axis" test, done on the normals).

Candidate axes: the part's principal X, Y, Z and the three principal axes of its surface (area-weighted
centroid covariance), each through the surface centroid (which a surface of revolution has on its axis);
the one with the least off-meridian surface wins. Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.manufacturing.facts import DIRECTIONS, PartFacts

OFF_MERIDIAN_DEG = 15.0
"""A triangle whose normal leaves the meridian plane by more than this is not on a surface of revolution
(tessellation facets of a true one stay within a sixth of their angular span, a few degrees)."""
OFF_SHARE = 0.002
"""Off-meridian surface above 0.2 % of the area makes the part not axisymmetric (the rules' noise floor)."""
_PLANE_COS = float(np.cos(np.radians(1.0)))
"""A B-rep plane within 1 deg of perpendicular to the axis is a facing; any other plane is a flat."""


@dataclass(frozen=True)
class TurnedGeometry:
    recognised: bool
    reason: str = ""
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0)
    point_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    length_mm: float = 0.0
    max_diameter_mm: float = 0.0
    min_diameter_mm: float = 0.0
    """Smallest external (outward-facing) diameter: a neck or the thinnest step."""
    min_bore_diameter_mm: float = 0.0
    """Smallest internal diameter (0: no bore)."""
    bore_reach_ratio: float = 0.0
    """Largest ratio, over the internal (axis-facing) surface, of its distance from the nearer end to its
    diameter: a boring bar's or an internal grooving tool's overhang over the bore it works in (measured at
    triangle centroids, so a long bore tessellated into strips reads up to a third shallower)."""
    bore_reach_mm: float = 0.0
    off_axis_area_mm2: float = 0.0
    worst: int = -1
    """Triangle where the measured value comes from (the most off-meridian one when not recognised)."""


def _off_meridian(f: PartFacts, a: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rel = f.centroids - p
    radial = rel - np.outer(rel @ a, a)
    r = np.linalg.norm(radial, axis=1)
    tang = np.cross(a, radial)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.abs(np.einsum("ij,ij->i", f.normals.astype(np.float64), tang)) / r
    s[r < 1e-6 * f.diagonal_mm + 1e-9] = 0.0
    return np.nan_to_num(s), r


def turned_geometry(f: PartFacts) -> TurnedGeometry:
    if f.n_triangles == 0:
        return TurnedGeometry(recognised=False, reason="the part has no surface")
    w = f.areas / f.areas.sum()
    p = (f.centroids * w[:, None]).sum(axis=0)
    cov = ((f.centroids - p) * w[:, None]).T @ (f.centroids - p)
    _, vecs = np.linalg.eigh(cov)
    candidates = [DIRECTIONS[0], DIRECTIONS[2], DIRECTIONS[4]] + [vecs[:, k] for k in range(3)]
    limit = np.sin(np.radians(OFF_MERIDIAN_DEG))
    planar = None
    if f.has_brep:  # a plane's few large triangles can all sit near its centre line: test the face itself
        kinds = np.array([k == "plane" for k in f.face_kinds] + [False])
        planar = kinds[np.clip(f.face_ids, 0, len(kinds) - 1)]
    best = None
    for a in candidates:
        a = np.asarray(a, dtype=np.float64) / np.linalg.norm(a)
        s, r = _off_meridian(f, a, p)
        off = s > limit
        if planar is not None:  # a B-rep plane is turned only when perpendicular to the axis (a facing)
            tilted = planar & (np.abs(f.normals @ a) < _PLANE_COS)
            s = np.where(tilted, np.maximum(s, 1.0), s)
            off |= tilted
        share = float(f.areas[off].sum())
        if best is None or share < best[0] - 1e-9:
            best = (share, a, s, r, off)
    share, a, s, r, off = best  # type: ignore[misc]
    aligned = int(np.argmax(np.abs(a)))
    if abs(a[aligned]) > 1 - 1e-6:
        a = np.eye(3)[aligned]
    if share > OFF_SHARE * f.area_mm2:
        worst = int(np.argmax(s))
        return TurnedGeometry(
            recognised=False,
            reason=(
                f"not axisymmetric: {share:.0f} mm2 ({share / f.area_mm2:.1%}) of the surface is not a surface "
                f"of revolution about the best axis ({', '.join(f'{v:.3f}' for v in a)}): a flat, a cross "
                "hole, a keyway or a prismatic body, which a lathe alone cannot make"
            ),
            axis=tuple(float(v) for v in a),  # type: ignore[arg-type]
            point_mm=tuple(float(v) for v in p),  # type: ignore[arg-type]
            off_axis_area_mm2=share,
            worst=worst,
        )
    z = (f.centroids - p) @ a
    if abs(a[aligned]) == 1:  # axis along X, Y or Z: exact extents from the bounding box
        length = float(f.bbox_max[aligned] - f.bbox_min[aligned])
        others = [k for k in range(3) if k != aligned]
        dmax = float(max(f.bbox_max[k] - f.bbox_min[k] for k in others))
        z0, z1 = float(f.bbox_min[aligned] - p[aligned]), float(f.bbox_max[aligned] - p[aligned])
    else:
        z0, z1 = float(z.min()), float(z.max())
        length, dmax = z1 - z0, float(2 * r.max())
    rel = f.centroids - p
    radial = rel - np.outer(rel @ a, a)
    with np.errstate(invalid="ignore", divide="ignore"):
        facing = np.einsum("ij,ij->i", f.normals.astype(np.float64), radial) / r
    facing = np.nan_to_num(facing)
    ext, inner = facing > 0.5, facing < -0.5
    dmin = float(2 * r[ext].min()) if ext.any() else dmax
    worst = int(np.flatnonzero(ext)[np.argmin(r[ext])]) if ext.any() else -1
    bore_min = float(2 * r[inner].min()) if inner.any() else 0.0
    reach_ratio, reach_mm, reach_worst = 0.0, 0.0, -1
    if inner.any() and length > 0:
        depth = np.minimum(z[inner] - z0, z1 - z[inner])  # reached from the nearer end
        ratio = depth / np.maximum(2 * r[inner], 1e-9)
        k = int(np.argmax(ratio))
        reach_ratio, reach_mm, reach_worst = float(ratio[k]), float(depth[k]), int(np.flatnonzero(inner)[k])
    return TurnedGeometry(
        recognised=True,
        axis=tuple(float(v) for v in a),  # type: ignore[arg-type]
        point_mm=tuple(float(v) for v in p),  # type: ignore[arg-type]
        length_mm=length,
        max_diameter_mm=dmax,
        min_diameter_mm=dmin,
        min_bore_diameter_mm=bore_min,
        bore_reach_ratio=float(reach_ratio),
        bore_reach_mm=reach_mm,
        off_axis_area_mm2=share,
        worst=reach_worst if reach_worst >= 0 else worst,
    )
