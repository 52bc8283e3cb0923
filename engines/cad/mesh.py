"""Triangle meshes from BRep shapes, reproducible regardless of what was meshed before.

OCCT caches a triangulation on the shape and never re-meshes it more coarsely, so a mesh would depend on
which tolerance was requested first. :func:`triangulate` clears the cache before meshing, which makes the
result a function of the geometry and the tolerances only.
"""

from __future__ import annotations

import numpy as np
import trimesh
from build123d import Shape
from OCP.BRep import BRep_Tool
from OCP.BRepMesh import BRepMesh_IncrementalMesh
from OCP.BRepTools import BRepTools
from OCP.IMeshTools import IMeshTools_Parameters
from OCP.TopAbs import TopAbs_FACE, TopAbs_REVERSED
from OCP.TopExp import TopExp_Explorer
from OCP.TopLoc import TopLoc_Location
from OCP.TopoDS import TopoDS

DEFAULT_ANGULAR_TOLERANCE_RAD = 0.3
SURFACE_TOLERANCE_MM = 0.05
"""Chordal tolerance of a part's closed surface for the structural check (:func:`closed_surface`)."""
SURFACE_ANGULAR_TOLERANCE_RAD = 0.6
"""Its angular tolerance: coarser than the collision mesh's, since TetGen grades the volume mesh from the
shortest surface edges (a bolt hole at 0.3 rad doubles the tetrahedra and the solve time)."""


def triangulate(
    shape: Shape, tolerance_mm: float, angular_tolerance_rad: float = DEFAULT_ANGULAR_TOLERANCE_RAD
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (N, 3) float64 in the shape's world frame and outward-wound faces (M, 3) int64.

    Vertices are repeated per BRep face (not welded); see :func:`welded_mesh`.
    """
    vertices, faces, _ = triangulate_faces(shape, tolerance_mm, angular_tolerance_rad)
    return vertices, faces


def triangulate_faces(
    shape: Shape,
    tolerance_mm: float,
    angular_tolerance_rad: float = DEFAULT_ANGULAR_TOLERANCE_RAD,
    parallel: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`triangulate`, plus the index of the BRep face (in explorer order, which is the order of
    ``shape.faces()`` for a solid) each triangle belongs to. Faces are meshed independently, so
    ``parallel`` (OCCT's threads) changes the speed, not the result."""
    if shape.wrapped is None:
        raise ValueError("cannot triangulate an empty shape")
    if tolerance_mm <= 0:
        raise ValueError(f"tolerance_mm must be > 0, got {tolerance_mm}")
    BRepTools.Clean_s(shape.wrapped)
    BRepMesh_IncrementalMesh(shape.wrapped, _parameters(tolerance_mm, angular_tolerance_rad, parallel))
    vertex_blocks: list[np.ndarray] = []
    face_blocks: list[np.ndarray] = []
    index_blocks: list[np.ndarray] = []
    offset = 0
    face_number = -1
    explorer = TopExp_Explorer(shape.wrapped, TopAbs_FACE)
    while explorer.More():
        face = TopoDS.Face(explorer.Current())
        explorer.Next()
        face_number += 1
        location = TopLoc_Location()
        poly = BRep_Tool.Triangulation_s(face, location)
        if poly is None:
            continue
        trsf = location.Transformation()
        nodes = np.array(
            [poly.Node(i).Transformed(trsf).Coord() for i in range(1, poly.NbNodes() + 1)], dtype=np.float64
        )
        tris = (
            np.array([poly.Triangle(i).Get() for i in range(1, poly.NbTriangles() + 1)], dtype=np.int64) - 1
        )
        if face.Orientation() == TopAbs_REVERSED:
            tris = tris[:, [0, 2, 1]]
        vertex_blocks.append(nodes)
        face_blocks.append(tris + offset)
        index_blocks.append(np.full(len(tris), face_number, dtype=np.int64))
        offset += len(nodes)
    if not face_blocks:
        raise ValueError("shape produced no triangles")
    return np.concatenate(vertex_blocks), np.concatenate(face_blocks), np.concatenate(index_blocks)


def _parameters(tolerance_mm: float, angular_tolerance_rad: float, parallel: bool) -> IMeshTools_Parameters:
    """OCCT's meshing parameters: absolute chordal and angular tolerances, as the short constructor sets them,
    without the search for INTERNAL topological vertices (points a face's mesh must pass through, which
    modelled parts do not have). That search classified every vertex of a face against it: on a plate with
    121 holes it was two thirds of the meshing time (0.51 s with it, 0.16 s without), and the meshes of the plate,
    a sphere, a torus, a filleted box, a cone and a loft are node-for-node the same without it."""
    params = IMeshTools_Parameters()
    params.Deflection = tolerance_mm
    params.Angle = angular_tolerance_rad
    params.Relative = False
    params.InParallel = parallel
    params.InternalVerticesMode = False
    return params


def welded_mesh(
    shape: Shape, tolerance_mm: float, angular_tolerance_rad: float = DEFAULT_ANGULAR_TOLERANCE_RAD
) -> trimesh.Trimesh:
    """A processed trimesh (duplicate vertices merged, degenerate faces removed) of ``shape``."""
    vertices, faces = triangulate(shape, tolerance_mm, angular_tolerance_rad)
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=True)


def closed_surface(shape: Shape, tolerance_mm: float = SURFACE_TOLERANCE_MM) -> tuple[np.ndarray, np.ndarray]:
    """A part's closed, welded triangle surface: vertices (N, 3) float64 world mm and faces (M, 3) int32, as a
    collision piece is stored (``engines.physics.collision_pack``); what the structural check meshes."""
    mesh = welded_mesh(shape, tolerance_mm, SURFACE_ANGULAR_TOLERANCE_RAD)
    return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int32)
