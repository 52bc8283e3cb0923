"""What every method's DFM rules share: where a finding is, when surface counts, and the order of findings.

The rules themselves live in their method's module (``engines/manufacturing/methods/<method>.py``). Every
finding names its rule, severity, the measured value against its limit (with the unit), where it is (face
ids and one point), why it matters and how to fix it. The rule ids are stable; the README lists them.
Limits come from the catalogue (the method's data file and ``shared/data/materials.toml``), never from
code. ``blocking`` means the part cannot be made as designed by this method; ``warning`` means it can, at
a cost or a risk the designer should accept or fix; ``info`` is context.

Every comparison of a measurement with a limit goes through :func:`below`, :func:`above` or :func:`fits`,
which allow the measurement's resolution (:data:`MEASUREMENT_RESOLUTION_MM`, :data:`ANGULAR_RESOLUTION_DEG`):
a 0.799 mm wall against a 0.8 mm minimum, or a 45.0 deg chamfer against a 45 deg overhang limit, is within
what the geometry can tell apart, so it is not a finding. The analysis states both in every quote's
``parameters`` (:func:`resolution_parameters`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines.manufacturing.facts import PartFacts
from shared.models import DfmFinding, Severity

MEASUREMENT_RESOLUTION_MM = 0.01
"""Lengths (walls, radii, depths, sizes) within this of a limit are not findings: the finest chordal
deflection the extraction tessellates with (``extract.tessellation_tolerance_mm``) and the precision of a
machined or printed part's drawing (two decimals of a millimetre)."""
ANGULAR_RESOLUTION_DEG = 0.1
"""Angles (overhang, draft) within this of a limit are not findings: above the float32 normals' rounding
(about 1e-5 deg), below the smallest angular limit in the catalogue (0.5 deg of minimum draft)."""
MAX_FACE_IDS = 50
_NEGLIGIBLE_SHARE = 0.002
"""Surface below 0.2 % of the part's area is tessellation noise, not a feature."""
_ORDER = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class DfmOptions:
    """What the request says about the part beyond its geometry; the defaults are what a shop assumes."""

    sharp_corners: bool = False
    """Internal corners must stay sharp as modelled: a corner a rotating cutter leaves at its radius then
    blocks CNC milling (EDM is the alternative), instead of being a warning that the quote assumes the
    radius."""
    pull_axis: tuple[float, float, float] | None = None
    """Injection moulding: the request's fixed pull axis (``AnalyzeRequest.pull_axis``); unset, the rules
    choose it (:mod:`engines.manufacturing.pull`)."""


def below(value: float | np.ndarray, limit: float, resolution: float = MEASUREMENT_RESOLUTION_MM) -> Any:
    """``value`` is below ``limit`` by more than the measurement's resolution (works on arrays too)."""
    return value < limit - resolution


def above(value: float | np.ndarray, limit: float, resolution: float = MEASUREMENT_RESOLUTION_MM) -> Any:
    """``value`` is above ``limit`` by more than the measurement's resolution (works on arrays too)."""
    return value > limit + resolution


def resolution_parameters() -> dict[str, float]:
    """The resolutions every rule's comparison allowed, as they appear in a quote's ``parameters``."""
    return {
        "dfm_resolution_mm": MEASUREMENT_RESOLUTION_MM,
        "dfm_resolution_deg": ANGULAR_RESOLUTION_DEG,
    }


def where(f: PartFacts, mask: np.ndarray, worst: int | None = None) -> dict:
    """Face ids, one point and the area of ``mask``.

    ``worst`` (a triangle index, in ``mask``): the spot the finding's measured value comes from; its face
    is listed first and the point is its centroid. Without it the point is on the largest triangle. The
    other faces follow, largest area first."""
    if not mask.any():
        return {}
    idx = np.flatnonzero(mask)
    face_area: dict[int, float] = {}
    for face, a in zip(f.face_ids[idx].tolist(), f.areas[idx].tolist()):
        face_area[face] = face_area.get(face, 0.0) + a
    if worst is None:
        worst = int(idx[int(np.argmax(f.areas[idx]))])
        first: list[int] = []
    else:
        first = [int(f.face_ids[worst])]
    rest = sorted((k for k in face_area if k not in first), key=lambda k: (-face_area[k], k))
    faces = (first + rest)[:MAX_FACE_IDS]
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
    """Fits in some axis-aligned orientation (sorted dimensions), to within the measurement's resolution."""
    return all(not above(s, b) for s, b in zip(sorted(size), sorted(box)))


def nearest(f: PartFacts, mask: np.ndarray, values: np.ndarray, target: float) -> int | None:
    """The triangle in ``mask`` whose finite ``values`` entry is nearest ``target`` (the spot a measured
    value comes from); ``None`` when there is none."""
    ok = np.flatnonzero(mask & np.isfinite(values))
    if not len(ok):
        return None
    return int(ok[int(np.argmin(np.abs(values[ok] - target)))])


def thinnest_face(f: PartFacts, per_face: dict[int, float]) -> int | None:
    """The triangle where the thinnest wall was measured: on the face of the smallest median wall (the
    value the wall rules report), the sample nearest that median."""
    if not per_face:
        return None
    face = min(per_face, key=lambda k: (per_face[k], k))
    return nearest(f, f.face_ids == face, f.thickness, per_face[face])


def void_findings(f: PartFacts, rule_id: str, severity: Severity, why: str, fix: str) -> list[DfmFinding]:
    """One finding per enclosed internal void (an inward shell inside the part, found by the STL repair:
    ``PartFacts.void_volume_mm3``), measured by its volume, at its centre, with the faces bounding it."""
    out: list[DfmFinding] = []
    for v, volume in enumerate(np.asarray(f.void_volume_mm3, dtype=np.float64).tolist()):
        mask = f.void_of == v if len(f.void_of) == f.n_triangles else np.zeros(f.n_triangles, dtype=bool)
        at = where(f, mask)
        at["point_mm"] = tuple(round(float(c), 3) + 0.0 for c in f.void_centre[v])
        out.append(
            DfmFinding(
                rule_id=rule_id,
                severity=severity,
                title=f"enclosed internal void of {volume:.4g} mm3",
                measured=rounded(volume),
                limit=0.0,
                unit="mm3",
                why=why,
                fix=fix,
                **at,
            )
        )
    return out


def ordered(found: Iterable[DfmFinding]) -> list[DfmFinding]:
    """Blocking first, then warnings, then info; by rule id within a severity."""
    return sorted(found, key=lambda x: (_ORDER[x.severity], x.rule_id))
