"""The mould's pull direction: the axis a two-plate mould opens along, chosen among candidates or fixed.

Candidates are the three principal axes (+-X, +-Y, +-Z) and the part's three principal axes of inertia
(measured at extraction, ``PartFacts.extra_dirs``, when they are not principal axes already). For a pull
along an axis, the surface neither mould half reaches along it is undercut; side actions move along the
four directions perpendicular to the pull in the same frame (for an inertia axis: the other two inertia
axes, +-), chosen as the fewest that release the undercut (the same greedy cover as the CNC setups); and
undercut no side action reaches is internal (no mould can form it). The chosen axis has, in this order:
the least internal undercut (counted only when significant), the fewest side actions, the least undercut
area; ties keep the first candidate in the order Z, X, Y, then the inertia axes, so a part without
undercuts keeps the conventional Z pull.

Pure numpy over cached facts: the fixed axis of a request is matched to the nearest measured direction
(within :data:`AXIS_MATCH_DEG`); any other axis is a request error (``ValueError``) naming the measured
directions, since reach is measured by rays at extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engines.manufacturing.facts import DIRECTION_NAMES, DIRECTIONS, PartFacts
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.rules import significant

AXIS_MATCH_DEG = 1.0
"""A requested pull axis within 1 deg of a measured direction is that direction."""
_PRINCIPAL_PAIRS = ((4, 5), (0, 1), (2, 3))
"""Z first: the conventional pull, kept on ties."""


@dataclass(frozen=True)
class Pull:
    """One pull axis and what it costs the mould."""

    plus: int
    minus: int
    """Indices into :func:`directions` of the two mould halves' directions (+axis, -axis)."""
    lateral: tuple[int, ...]
    """The four side-action directions perpendicular to the pull."""
    axis: tuple[float, float, float]
    name: str
    trapped: np.ndarray
    """(T,) surface neither half releases (undercut)."""
    internal: np.ndarray
    """(T,) undercut no side action reaches either."""
    side_actions: tuple[int, ...]
    """Side-action directions chosen to release the undercut (indices into :func:`directions`)."""
    undercut_mm2: float
    internal_mm2: float
    fixed: bool = False

    def side_names(self, f: PartFacts) -> list[str]:
        return [direction_name(f, k) for k in self.side_actions]


def directions(f: PartFacts) -> tuple[np.ndarray, np.ndarray]:
    """(D, 3) unit directions with reach measured and (T, D) reach: the six principal then the extras."""
    extra = (
        f.extra_dirs
        if len(f.extra_dirs) and f.extra_reach.shape == (f.n_triangles, len(f.extra_dirs))
        else None
    )
    if extra is None:
        return DIRECTIONS, f.reach
    return np.vstack([DIRECTIONS, f.extra_dirs]), np.hstack([f.reach, f.extra_reach])


def direction_name(f: PartFacts, k: int) -> str:
    if k < len(DIRECTION_NAMES):
        return DIRECTION_NAMES[k]
    d = directions(f)[0][k]
    return "(" + ", ".join(f"{v:+.3f}" for v in d) + ")"


def _frames(f: PartFacts) -> list[tuple[int, int, tuple[int, ...]]]:
    """Candidate pulls as (plus, minus, lateral) index triples."""
    out = []
    frames = [_PRINCIPAL_PAIRS]
    n_extra = len(directions(f)[0]) - len(DIRECTIONS)
    if n_extra == 6:
        base = len(DIRECTIONS)
        frames.append(tuple((base + 2 * i, base + 2 * i + 1) for i in range(3)))
    for pairs in frames:
        for p, m in pairs:
            lateral = tuple(k for q in pairs if q != (p, m) for k in q)
            out.append((p, m, lateral))
    return out


def _greedy(
    f: PartFacts, dirs: np.ndarray, reach: np.ndarray, needed: np.ndarray, cand: tuple[int, ...]
) -> list[int]:
    """:func:`engines.manufacturing.metrics.greedy_cover` over any measured directions."""
    areas = f.areas
    total = float(areas[needed].sum())
    uncovered = needed & reach[:, list(cand)].any(axis=1)
    chosen: list[int] = []
    while total > 0 and areas[uncovered].sum() > 0.005 * total:
        gains = []
        for k in cand:
            sel = uncovered & reach[:, k]
            facing = np.clip(f.normals[sel] @ dirs[k], 0, 1)
            gains.append(float((areas[sel] * (0.1 + facing)).sum()))
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(cand[best])
        uncovered &= ~reach[:, cand[best]]
    return chosen


def evaluate_pull(f: PartFacts, plus: int, minus: int, lateral: tuple[int, ...], fixed: bool = False) -> Pull:
    dirs, reach = directions(f)
    trapped = ~reach[:, plus] & ~reach[:, minus]
    internal = trapped & ~reach[:, list(lateral)].any(axis=1)
    side = _greedy(f, dirs, reach, trapped, lateral) if significant(f, trapped & ~internal) else []
    axis = dirs[plus]
    if plus < len(DIRECTIONS):
        name = "+-" + DIRECTION_NAMES[plus][1:].upper()
    else:
        name = "+-" + direction_name(f, plus)
    return Pull(
        plus=plus,
        minus=minus,
        lateral=lateral,
        axis=tuple(float(v) for v in axis),  # type: ignore[arg-type]
        name=name,
        trapped=trapped,
        internal=internal,
        side_actions=tuple(side),
        undercut_mm2=float(f.areas[trapped].sum()),
        internal_mm2=float(f.areas[internal].sum()),
        fixed=fixed,
    )


def candidates(f: PartFacts) -> list[Pull]:
    return [evaluate_pull(f, p, m, lat) for p, m, lat in _frames(f)]


def _score(f: PartFacts, p: Pull) -> tuple:
    return (
        round(p.internal_mm2, 6) if significant(f, p.internal) else 0.0,
        len(p.side_actions),
        round(p.undercut_mm2, 6) if significant(f, p.trapped) else 0.0,
    )


def choose_pull(f: PartFacts, pull_axis: tuple[float, float, float] | None = None) -> tuple[Pull, list[Pull]]:
    """The pull the rules use and every candidate evaluated (the fixed axis alone when one is given).

    ``pull_axis``: the request's fixed axis (either sign: a mould opens both ways); ``ValueError`` when it
    is no measured direction."""
    if pull_axis is not None:
        a = np.asarray(pull_axis, dtype=np.float64)
        norm = float(np.linalg.norm(a))
        if not np.isfinite(norm) or norm == 0:
            raise ValueError(f"pull_axis {tuple(pull_axis)} is not a direction")
        a = a / norm
        dirs, _ = directions(f)
        cos = np.abs(dirs @ a)
        for p, m, lat in _frames(f):
            if cos[p] >= np.cos(np.radians(AXIS_MATCH_DEG)):
                pull = evaluate_pull(f, p, m, lat, fixed=True)
                return pull, [pull]
        measured = ", ".join(
            direction_name(f, p)[-2:] if p < 6 else direction_name(f, p) for p, _, _ in _frames(f)
        )
        raise ValueError(
            f"pull_axis {tuple(round(float(v), 4) for v in a)} is not a direction the part's facts measured "
            f"(within {AXIS_MATCH_DEG:g} deg): use one of {measured}"
        )
    pulls = candidates(f)
    best = min(range(len(pulls)), key=lambda i: (_score(f, pulls[i]), i))
    return pulls[best], pulls


def projected_mm2(f: PartFacts, pull: Pull) -> float:
    """The part's silhouette seen along the pull: the cavity footprint that sets clamp force and tooling
    (the surface facing the +axis half that it releases, weighted by how squarely it faces it)."""
    dirs, reach = directions(f)
    facing = f.normals.astype(np.float64) @ dirs[pull.plus]
    up = (facing > 0) & reach[:, pull.plus]
    return float((f.areas[up] * facing[up]).sum())


def pulled_metrics(
    f: PartFacts, metrics: PartMetrics, pull_axis: tuple[float, float, float] | None = None
) -> PartMetrics:
    """``metrics`` with the moulding numbers measured along the pull the rules use (:func:`choose_pull`):
    the projected area and the side actions, so the mould is priced for the axis the report names."""
    pull, _ = choose_pull(f, pull_axis)
    return replace(
        metrics, projected_area_z_mm2=projected_mm2(f, pull), im_side_actions=len(pull.side_actions)
    )
