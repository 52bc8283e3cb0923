"""Deterministic exports: STEP for exchange, binary glTF for viewing.

Same geometry gives the same bytes, so artifacts are content-addressable and re-running a build is
idempotent. build123d's STEP writer stamps the current time in the header (pinned here), and a bare
solid is written as an assembly occurrence numbered by a per-process counter, so the solids are always
exported under one labelled Compound root, which has no such occurrence.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import trimesh
from build123d import Compound, Shape, export_step, import_step

from engines.cad.mesh import welded_mesh

STEP_TIMESTAMP = "1970-01-01T00:00:00"
"""Written into every STEP header instead of the export time."""

GLB_TOLERANCE_MM = 0.1
GLB_ANGULAR_TOLERANCE_RAD = 0.3

Rgba = tuple[float, float, float, float]


def step_bytes(shape: Shape, label: str = "part") -> bytes:
    """STEP AP214 bytes of ``shape`` (millimetres) that depend only on the geometry and ``label``."""
    if shape.wrapped is None:
        raise ValueError("cannot export an empty shape to STEP")
    root = Compound(shape.solids() or [shape])
    root.label = label
    buffer = io.BytesIO()
    if not export_step(root, buffer, timestamp=STEP_TIMESTAMP):
        raise RuntimeError(f"STEP export of {label!r} failed")
    return buffer.getvalue()


def load_step(data: bytes) -> Shape:
    """Read STEP bytes back into a shape holding the stored solids (raises ``ValueError`` if there are none)."""
    with tempfile.TemporaryDirectory(prefix="mechbench-step-") as tmp:
        path = Path(tmp) / "part.step"
        path.write_bytes(data)
        shape = import_step(path)
    if not shape.solids():
        raise ValueError("STEP data contains no solids")
    return shape


def glb_bytes(parts: Sequence[tuple[str, Shape, Rgba]]) -> bytes:
    """Binary glTF of labelled, coloured parts for viewing, tessellated at 0.1 mm.

    Coordinates stay in world millimetres, z up, like every CAD artifact here (glTF viewers that assume
    metres show the scene 1000x large and frame it automatically). Each part becomes one named node and
    mesh; the bytes depend only on the geometry, labels, colours and order.
    """
    if not parts:
        raise ValueError("glb_bytes needs at least one part")
    scene = trimesh.Scene()
    for label, shape, rgba in parts:
        mesh = welded_mesh(shape, GLB_TOLERANCE_MM, GLB_ANGULAR_TOLERANCE_RAD)
        colour = np.clip(np.round(np.asarray(rgba, dtype=np.float64) * 255), 0, 255).astype(np.uint8)
        mesh.visual = trimesh.visual.ColorVisuals(mesh, face_colors=np.tile(colour, (len(mesh.faces), 1)))
        scene.add_geometry(mesh, node_name=label, geom_name=label)
    data = scene.export(file_type="glb")
    if not isinstance(data, bytes):
        raise TypeError(f"glTF export produced {type(data).__name__}, not bytes")
    return data
