"""What every method's DFM rules share: where a finding is, when surface counts, and the order of findings.

The rules themselves live in their method's module (``engines/manufacturing/methods/<method>.py``). Every
finding names its rule, severity, the measured value against its limit (with the unit), where it is (face
ids and one point), why it matters and how to fix it. The rule ids are stable; the README lists them.
Limits come from the catalogue (the method's data file and ``shared/data/materials.toml``), never from
code. ``blocking`` means the part cannot be made as designed by this method; ``warning`` means it can, at
a cost or a risk the designer should accept or fix; ``info`` is context.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from engines.manufacturing.facts import PartFacts
from shared.models import DfmFinding, Severity

MAX_FACE_IDS = 50
_NEGLIGIBLE_SHARE = 0.002
"""Surface below 0.2 % of the part's area is tessellation noise, not a feature."""
_ORDER = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.INFO: 2}


def where(f: PartFacts, mask: np.ndarray) -> dict:
    """Face ids (largest area first), a point on the largest triangle, and the area of ``mask``."""
    if not mask.any():
        return {}
    idx = np.flatnonzero(mask)
    face_area: dict[int, float] = {}
    for face, a in zip(f.face_ids[idx].tolist(), f.areas[idx].tolist()):
        face_area[face] = face_area.get(face, 0.0) + a
    faces = sorted(face_area, key=lambda k: (-face_area[k], k))[:MAX_FACE_IDS]
    worst = idx[int(np.argmax(f.areas[idx]))]
    return {
        "face_ids": faces,
        "point_mm": tuple(round(float(v), 3) for v in f.centroids[worst]),
        "area_mm2": round(float(f.areas[idx].sum()), 3),
    }


def significant(f: PartFacts, mask: np.ndarray) -> bool:
    return bool(f.areas[mask].sum() > _NEGLIGIBLE_SHARE * f.areas.sum())


def rounded(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def fits(size: tuple[float, ...], box: tuple[float, ...]) -> bool:
    """Fits in some axis-aligned orientation (sorted dimensions)."""
    return all(s <= b for s, b in zip(sorted(size), sorted(box)))


def ordered(found: Iterable[DfmFinding]) -> list[DfmFinding]:
    """Blocking first, then warnings, then info; by rule id within a severity."""
    return sorted(found, key=lambda x: (_ORDER[x.severity], x.rule_id))
