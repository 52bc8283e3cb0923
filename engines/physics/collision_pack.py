"""On-disk format of convex collision pieces, shared by the CAD side (writer) and the scene compiler (reader).

A pack is an ``.npz`` archive with two arrays per piece, ``"{label}/{i}/v"`` (vertices, float64 ``(N, 3)``,
world millimetres) and ``"{label}/{i}/f"`` (triangles, int32 ``(M, 3)``), written in sorted
``(label, i)`` order with fixed dtypes and byte order. ``np.savez`` stores entries uncompressed with a
fixed zip timestamp (1980-01-01), so identical input gives identical bytes and a stable sha256.
"""

from __future__ import annotations

import io
import re

import numpy as np

from shared.models import ID_PATTERN

Piece = tuple[np.ndarray, np.ndarray]
"""One convex piece: vertices float64 ``(N, 3)`` in world millimetres, faces int32 ``(M, 3)``."""

_LABEL_RE = re.compile(ID_PATTERN)
_KEY_RE = re.compile(r"^(?P<label>[^/]+)/(?P<index>\d+)/(?P<kind>[vf])$")


def _checked(label: str, index: int, vertices: np.ndarray, faces: np.ndarray) -> Piece:
    v = np.ascontiguousarray(vertices, dtype="<f8")
    f = np.ascontiguousarray(faces, dtype="<i4")
    where = f"collision piece {label}/{index}"
    if v.ndim != 2 or v.shape[1] != 3 or len(v) < 4:
        raise ValueError(f"{where}: vertices must have shape (N>=4, 3), got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{where}: vertices must be finite")
    if f.ndim != 2 or f.shape[1] != 3 or len(f) < 4:
        raise ValueError(f"{where}: faces must have shape (M>=4, 3), got {f.shape}")
    if f.min() < 0 or f.max() >= len(v):
        raise ValueError(f"{where}: face indices must lie in [0, {len(v)})")
    return v, f


def pack(parts: dict[str, list[Piece]]) -> bytes:
    """Serialise convex pieces per part label; deterministic for identical input (dict order ignored)."""
    arrays: dict[str, np.ndarray] = {}
    for label in sorted(parts):
        if not _LABEL_RE.match(label):
            raise ValueError(f"collision pack: invalid part label {label!r} (must match {ID_PATTERN})")
        pieces = parts[label]
        if not pieces:
            raise ValueError(f"collision pack: part {label!r} has no pieces")
        for i, (vertices, faces) in enumerate(pieces):
            v, f = _checked(label, i, vertices, faces)
            arrays[f"{label}/{i}/v"] = v
            arrays[f"{label}/{i}/f"] = f
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def unpack(data: bytes) -> dict[str, list[Piece]]:
    """Read a pack written by :func:`pack`; raises ``ValueError`` on a malformed archive."""
    found: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        for key in archive.files:
            m = _KEY_RE.match(key)
            if not m or not _LABEL_RE.match(m["label"]):
                raise ValueError(f"collision pack: unexpected entry {key!r}")
            found.setdefault(m["label"], {}).setdefault(int(m["index"]), {})[m["kind"]] = archive[key]
    parts: dict[str, list[Piece]] = {}
    for label in sorted(found):
        by_index = found[label]
        if sorted(by_index) != list(range(len(by_index))):
            raise ValueError(f"collision pack: part {label!r} has non-contiguous piece indices")
        pieces = []
        for i in range(len(by_index)):
            entry = by_index[i]
            if set(entry) != {"v", "f"}:
                raise ValueError(f"collision pack: piece {label}/{i} lacks vertices or faces")
            pieces.append(_checked(label, i, entry["v"], entry["f"]))
        parts[label] = pieces
    return parts
