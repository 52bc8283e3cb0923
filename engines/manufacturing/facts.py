"""Geometry facts of one part, extracted once and cached by the content hash of its file.

The facts are method-independent measurements: per-triangle normals, areas and centroids with the B-rep
face each triangle belongs to; which of the six principal directions reaches each triangle along a
straight, unobstructed line (a 3-axis tool, a mould half, a side action); the wall thickness behind each
triangle; the gap below each downward-facing triangle; each face's bounding box; and the part's internal
concave corners with their radii and its cylindrical holes (B-rep input only). Every DFM rule and cost
model reads these arrays with its own limits, so a new method, material, limit or quantity never re-runs
the geometry.

This module holds the data and its (numpy-only) serialisation, so light workers can read cached facts;
:mod:`engines.manufacturing.extract` measures them (OCCT, trimesh, Embree).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np

FACTS_VERSION = 3
"""Bump when extraction changes what it measures: cached facts of older versions are then ignored."""

DIRECTIONS = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64)
DIRECTION_NAMES = ("+x", "-x", "+y", "-y", "+z", "-z")
PZ, NZ = 4, 5


@dataclass
class PartFacts:
    sha256: str
    source_format: str
    has_brep: bool
    volume_mm3: float
    area_mm2: float
    bbox_min: np.ndarray
    bbox_max: np.ndarray
    face_kinds: list[str]
    # per triangle
    normals: np.ndarray  # (T, 3) unit outward normals
    areas: np.ndarray  # (T,)
    centroids: np.ndarray  # (T, 3)
    face_ids: np.ndarray  # (T,) B-rep face index (STL: planar patch index)
    reach: np.ndarray  # (T, 6) bool, DIRECTIONS order
    thickness: np.ndarray  # (T,) wall behind the triangle, NaN where no opposite wall was found
    down_gap: (
        np.ndarray
    )  # (T,) distance straight down to the part (or the bed plane at z min); NaN if facing up
    # internal concave corners (B-rep only): radius 0 = sharp edge; endpoints along the corner's axis
    corner_radius: np.ndarray = field(default_factory=lambda: np.zeros(0))
    corner_axis: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    corner_p0: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    corner_p1: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    corner_faces: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int32))
    # extra ray directions: the part's principal axes of inertia (+-), where they are not +-X, +-Y, +-Z;
    # the mould's pull-direction candidates (engines.manufacturing.pull)
    extra_dirs: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    extra_reach: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))  # (T, K)
    # enclosed internal voids (STL: inward shells inside the part): volume and centre of each, and which
    # void each triangle bounds (-1: the outer surface)
    void_volume_mm3: np.ndarray = field(default_factory=lambda: np.zeros(0))
    void_centre: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    void_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    # cylindrical holes (B-rep only, engines.manufacturing.holes): diameter, depth of the cylindrical wall
    # along the axis, its two ends on the axis, and its faces (padded with -1)
    hole_diameter: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hole_depth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hole_axis: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    hole_p0: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    hole_p1: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    hole_faces: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int32))
    # per face: the bounding box of its tessellation (every triangle's vertices, before any sampling);
    # a face's extent along a tool axis is a wall's or a fin's height (CNC.FIN_ASPECT)
    face_lo: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    face_hi: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    repairs: list[str] = field(default_factory=list)
    """What the mesh repair changed, in words ("merged 12 duplicate faces"); empty for a clean input."""
    mesh_triangles: int = 0
    """Triangles of the whole mesh when the per-triangle arrays hold a sample of them (a very large STL:
    areas are scaled so sums are the whole surface's); 0 when they hold every triangle."""
    sheet: dict | None = None
    """Constant-thickness sheet measurement of the B-rep (:func:`engines.manufacturing.sheet.measure_sheet`:
    thickness, bends, flanges, holes, or why the part is not a sheet); None for mesh input."""
    version: int = FACTS_VERSION

    @property
    def n_faces(self) -> int:
        return len(self.face_kinds)

    @property
    def n_triangles(self) -> int:
        return len(self.areas)

    @property
    def void_mask(self) -> np.ndarray:
        """Triangles bounding an enclosed internal void."""
        if len(self.void_of) != self.n_triangles:
            return np.zeros(self.n_triangles, dtype=bool)
        return self.void_of >= 0

    @property
    def diagonal_mm(self) -> float:
        return float(np.linalg.norm(self.bbox_max - self.bbox_min))

    # --- serialisation (npz: compact, exact, loads in milliseconds) ---------------------------------
    _ARRAYS = (
        "bbox_min", "bbox_max", "normals", "areas", "centroids", "face_ids", "reach", "thickness",
        "down_gap", "corner_radius", "corner_axis", "corner_p0", "corner_p1", "corner_faces",
        "extra_dirs", "extra_reach", "void_volume_mm3", "void_centre", "void_of", "hole_diameter",
        "hole_depth", "hole_axis", "hole_p0", "hole_p1", "hole_faces", "face_lo", "face_hi",
    )  # fmt: skip

    def to_npz(self) -> bytes:
        meta = {
            "version": self.version,
            "sha256": self.sha256,
            "source_format": self.source_format,
            "has_brep": self.has_brep,
            "volume_mm3": self.volume_mm3,
            "area_mm2": self.area_mm2,
            "face_kinds": self.face_kinds,
            "sheet": self.sheet,
            "repairs": self.repairs,
            "mesh_triangles": self.mesh_triangles,
        }
        buf = io.BytesIO()
        np.savez_compressed(
            buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            **{name: getattr(self, name) for name in self._ARRAYS},
        )  # fmt: skip
        return buf.getvalue()

    @classmethod
    def from_npz(cls, data: bytes) -> PartFacts:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            arrays = {name: z[name] for name in cls._ARRAYS}
        if meta.get("version") != FACTS_VERSION:
            raise ValueError(f"facts version {meta.get('version')} is not {FACTS_VERSION}")
        return cls(**meta, **arrays)
