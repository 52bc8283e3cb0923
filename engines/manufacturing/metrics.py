"""Derived, method-independent part metrics computed from :class:`~engines.manufacturing.facts.PartFacts`.

Pure numpy: the DFM rules and the pricing models both read these numbers, so each is computed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.manufacturing.axisymmetric import TurnedGeometry, turned_geometry
from engines.manufacturing.facts import DIRECTIONS, NZ, PZ, PartFacts
from engines.manufacturing.rules import ANGULAR_RESOLUTION_DEG, above
from engines.manufacturing.sheet import SheetGeometry, sheet_geometry

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class PartMetrics:
    """All lengths in mm, areas in mm2, volumes in mm3; Z is the mould pull and the print build direction."""

    volume_mm3: float
    area_mm2: float
    bbox_min: Vec
    bbox_max: Vec
    n_faces: int
    n_triangles: int
    cnc_setups: int
    """Principal directions (+-X, +-Y, +-Z) a 3-axis mill needs to reach every reachable face (set cover)."""
    cnc_machined_area_mm2: float
    """Surface that is not on the bounding-box envelope (the envelope is the stock's own faces)."""
    wall_min_mm: float
    wall_nominal_mm: float
    """Median wall thickness over the sampled surface."""
    wall_max_mm: float
    """Thickest wall (98th percentile of the samples): it sets the mould cooling time."""
    projected_area_z_mm2: float
    """Silhouette seen along Z: the mould's cavity footprint and clamp-force area. The analysis replaces it
    with the silhouette along the pull it chose (:func:`engines.manufacturing.pull.pulled_metrics`)."""
    im_side_actions: int
    """Side-action directions a two-plate mould pulled along +-Z needs to release the undercuts; the analysis
    replaces it with the chosen pull's (:func:`engines.manufacturing.pull.pulled_metrics`)."""
    fdm_support_volume_mm3: float
    """Support under surfaces steeper than the printer's overhang limit, printed Z up."""
    n_features: int = 0
    """Surface features a programmer or a mould maker works on (:func:`feature_count`): the B-rep faces, or
    for a mesh its large planar patches plus one per connected region of small patches (a hole, a fillet,
    a curved face tessellated into many strips). 0 when unknown: the cost models then use ``n_faces``."""

    sheet: SheetGeometry | None = None
    """Sheet-metal recognition and the flat blank's inputs (:mod:`engines.manufacturing.sheet`)."""
    turned: TurnedGeometry | None = None
    """Axis of revolution and turned profile (:mod:`engines.manufacturing.axisymmetric`)."""

    @property
    def features(self) -> int:
        """:attr:`n_features` when measured, else the face count."""
        return self.n_features if self.n_features > 0 else self.n_faces

    @property
    def size_mm(self) -> Vec:
        return tuple(hi - lo for lo, hi in zip(self.bbox_min, self.bbox_max))  # type: ignore[return-value]

    @property
    def height_mm(self) -> float:
        return self.bbox_max[2] - self.bbox_min[2]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Area-weighted quantile (``q`` in 0..1) of finite values; NaN when there are none."""
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, q * cum[-1], side="left").clip(0, len(v) - 1)])


def envelope_mask(f: PartFacts) -> np.ndarray:
    """Triangles lying on the bounding box's own planes: the stock's faces, which a mill does not cut."""
    tol = 1e-3 * f.diagonal_mm + 1e-4
    mask = np.zeros(f.n_triangles, dtype=bool)
    for k, d in enumerate(DIRECTIONS):
        axis = k // 2
        extreme = f.bbox_max[axis] if d[axis] > 0 else f.bbox_min[axis]
        mask |= (f.normals @ d > 0.999) & (np.abs(f.centroids[:, axis] - extreme) < tol)
    return mask


def greedy_cover(f: PartFacts, needed: np.ndarray, candidates: list[int]) -> list[int]:
    """Directions (indices into DIRECTIONS) covering the ``needed`` triangles' area, largest gain first, in
    a fixed order on ties, so the answer is reproducible. A triangle seen head-on counts more than one seen
    edge-on (a floor is cut by the tool's end, a wall by its side, which any direction along the wall
    reaches): so an open channel is machined from above, not down its length. Stops when the rest is
    under 0.5 % of the area or no direction adds anything."""
    areas, reach = f.areas, f.reach
    total = float(areas[needed].sum())
    uncovered = needed & reach[:, candidates].any(axis=1)
    chosen: list[int] = []
    while total > 0 and areas[uncovered].sum() > 0.005 * total:
        gains = []
        for k in candidates:
            sel = uncovered & reach[:, k]
            facing = np.clip(f.normals[sel] @ DIRECTIONS[k], 0, 1)
            gains.append(float((areas[sel] * (0.1 + facing)).sum()))
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(candidates[best])
        uncovered &= ~reach[:, candidates[best]]
    return chosen


def cnc_setup_directions(f: PartFacts) -> list[int]:
    """Setups of a 3-axis mill: principal directions covering every reachable machined triangle."""
    return greedy_cover(f, ~envelope_mask(f), list(range(len(DIRECTIONS))))


def im_trapped_mask(f: PartFacts) -> np.ndarray:
    """Undercuts of a two-plate mould pulled along +-Z: surface neither mould half can release."""
    return ~f.reach[:, PZ] & ~f.reach[:, NZ]


def im_side_action_directions(f: PartFacts) -> list[int]:
    """Lateral directions (+-X, +-Y) side actions must move in to release the undercuts."""
    return greedy_cover(f, im_trapped_mask(f), [0, 1, 2, 3])


def overhang_deg(f: PartFacts) -> np.ndarray:
    """Each triangle's overhang, degrees from vertical: 90 for a ceiling, 0 for a wall, negative facing up."""
    return np.degrees(np.arcsin(np.clip(-f.normals[:, 2].astype(np.float64), -1.0, 1.0)))


def fdm_support_mask(f: PartFacts, overhang_limit_deg: float) -> np.ndarray:
    """Downward surface steeper than the limit (measured from vertical, beyond the angular resolution: a
    45 deg chamfer is self-supporting under a 45 deg limit) that does not rest on the bed."""
    steep = above(overhang_deg(f), overhang_limit_deg, ANGULAR_RESOLUTION_DEG)
    on_bed = f.centroids[:, 2] - f.bbox_min[2] < 1e-3 * f.diagonal_mm + 1e-3
    return steep & ~on_bed


def face_weighted_median(f: PartFacts, values: np.ndarray) -> np.ndarray:
    """(T,) each triangle's face's area-weighted median of ``values`` (T,): what a face measures, rather than
    what one facet of its tessellation does (a drafted cone's facets tilt a degree either way of the cone)."""
    order = np.lexsort((values, f.face_ids))
    faces, area, vals = f.face_ids[order], f.areas[order].astype(np.float64), values[order]
    total = np.bincount(faces, weights=area)
    before = np.cumsum(area) - area  # area of the earlier triangles (this face's and the faces before it)
    start = np.cumsum(total) - total  # where each face begins in that running sum
    reached = np.flatnonzero(before + area >= start[faces] + 0.5 * total[faces])
    face_of, first = np.unique(faces[reached], return_index=True)
    median = np.full(len(total), np.nan)
    median[face_of] = vals[reached[first]]
    return median[f.face_ids]


def face_median_thickness(f: PartFacts) -> dict[int, float]:
    """Median wall behind each face that has measured samples (robust against corner grazing)."""
    ok = np.flatnonzero(np.isfinite(f.thickness))
    out: dict[int, float] = {}
    # one stable sort by face instead of a mask per face (a mesh's loose triangles are a face each): each
    # face's samples keep their order, so every median is the one weighted_quantile gives for that face
    order = ok[np.argsort(f.face_ids[ok], kind="stable")]
    faces = f.face_ids[order]
    starts = np.flatnonzero(np.r_[True, faces[1:] != faces[:-1]]) if len(order) else np.zeros(0, dtype=int)
    ends = np.r_[starts[1:], len(order)]
    values, weights = f.thickness[order], f.areas[order]
    for face, a, b in zip(faces[starts].tolist(), starts.tolist(), ends.tolist()):
        if b - a == 1:
            out[int(face)] = float(values[a]) if weights[a] > 0 else float("nan")
        else:
            out[int(face)] = weighted_quantile(values[a:b], weights[a:b], 0.5)
    return out


FRAGMENT_AREA_SHARE = 0.005
"""A mesh patch under this share of the part's area is a fragment of a curved or small feature."""


def feature_count(f: PartFacts) -> int:
    """Features of the part: its B-rep faces; for a mesh (STL), whose curved faces arrive as many planar
    strips, each patch of at least :data:`FRAGMENT_AREA_SHARE` of the area is one feature and the smaller
    patches are grouped into connected regions (triangles whose centroids lie within 1.5 x the sum of their
    sizes, size = sqrt(2 x area)), one feature each. So an STL and its STEP twin count about the same."""
    if f.has_brep or f.n_triangles == 0:
        return f.n_faces
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    _, inv = np.unique(f.face_ids, return_inverse=True)
    patch_area = np.bincount(inv, weights=f.areas)
    small = patch_area < FRAGMENT_AREA_SHARE * f.area_mm2
    idx = np.flatnonzero(small[inv])
    large = int((~small).sum())
    if len(idx) == 0:
        return large
    c, s = f.centroids[idx], np.sqrt(2 * f.areas[idx])
    pairs = cKDTree(c).query_pairs(r=3 * float(s.max()), output_type="ndarray")
    if len(pairs):
        d = np.linalg.norm(c[pairs[:, 0]] - c[pairs[:, 1]], axis=1)
        pairs = pairs[d < 1.5 * (s[pairs[:, 0]] + s[pairs[:, 1]])]
    n = len(idx)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    regions, _ = connected_components(graph, directed=False)
    return large + int(regions)


def part_metrics(f: PartFacts, overhang_limit_deg: float = 45.0) -> PartMetrics:
    machined = ~envelope_mask(f)
    per_face = face_median_thickness(f)
    up = (f.normals[:, 2] > 0) & f.reach[:, PZ]
    support = fdm_support_mask(f, overhang_limit_deg)
    return PartMetrics(
        volume_mm3=f.volume_mm3,
        area_mm2=f.area_mm2,
        bbox_min=tuple(float(v) for v in f.bbox_min),  # type: ignore[arg-type]
        bbox_max=tuple(float(v) for v in f.bbox_max),  # type: ignore[arg-type]
        n_faces=f.n_faces,
        n_triangles=f.n_triangles,
        cnc_setups=max(1, len(cnc_setup_directions(f))),
        cnc_machined_area_mm2=float(f.areas[machined].sum()),
        wall_min_mm=min(per_face.values()) if per_face else float("nan"),
        wall_nominal_mm=weighted_quantile(f.thickness, f.areas, 0.5),
        wall_max_mm=weighted_quantile(f.thickness, f.areas, 0.98),
        projected_area_z_mm2=float((f.areas[up] * f.normals[up, 2]).sum()),
        im_side_actions=len(im_side_action_directions(f)),
        fdm_support_volume_mm3=float(
            (f.areas[support] * -f.normals[support, 2] * np.nan_to_num(f.down_gap[support])).sum()
        ),
        n_features=feature_count(f),
        sheet=sheet_geometry(f.sheet),
        turned=turned_geometry(f),
    )
