"""The loads a scene puts on its load-bearing parts: the contact forces on each, at its peak over the run.

A part fixed to the world compiles to geoms of the world body (``engines.physics.mjcf``), so MuJoCo makes no
contact between it and a fixture, the floor or another fixed part: every contact on it comes from something
that moves (a payload, a free or jointed part) and is a load. Its supports are found from the geometry
instead (``engines.physics.structure_check``).

:class:`LoadRecorder` reads the contacts after each chunk of steps (where the runner's checks run), only
those on the parts it watches. A **load case** is one such reading: each contact's point and the force on
the part (world frame, millimetres and newtons). Per part it keeps, in each window of :data:`LOAD_WINDOW_S`
of simulated time, the case where the sum of the contact force magnitudes was largest, so a payload that
rolls along a part leaves a case at every place it passed (the largest force is not always the worst
bending: a ball over the support pushes hardest and bends least). Contacts are sampled at chunk boundaries,
as the outcome checks are: a spike shorter than a chunk can be missed. The part's own weight is not a
contact; the structural check adds it.

MuJoCo's contact frame has its first axis along the normal from ``geom1`` to ``geom2``, and
``mj_contactForce`` gives the force ``geom1`` exerts on ``geom2`` in that frame: a part that is ``geom2``
receives ``frame.T @ f``, one that is ``geom1`` receives the opposite (``tests/engine/test_loads.py`` checks
that a resting payload of mass m loads its shelf with m g, downwards).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mujoco
import numpy as np

__all__ = ["LOAD_WINDOW_S", "LoadCase", "LoadRecorder", "part_geoms"]

_M_TO_MM = 1e3
LOAD_WINDOW_S = 0.05
"""Each part keeps its largest load case per this much simulated time."""


@dataclass(frozen=True)
class LoadCase:
    """The contact forces on one part at one instant: ``points_mm`` (P, 3) and ``forces_n`` (P, 3), world."""

    time_s: float
    points_mm: np.ndarray
    forces_n: np.ndarray

    @property
    def total_n(self) -> float:
        """The sum of the contact force magnitudes: what the peak is the largest of."""
        return float(np.linalg.norm(self.forces_n, axis=1).sum()) if len(self.forces_n) else 0.0

    def pairs(self) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
        """``(point_mm, force_n)`` pairs, as ``engines.structure.solve`` takes them."""
        return [
            (tuple(p), tuple(f))  # type: ignore[misc]
            for p, f in zip(self.points_mm.tolist(), self.forces_n.tolist(), strict=True)
        ]


def part_geoms(model: mujoco.MjModel, labels: Iterable[str]) -> dict[str, np.ndarray]:
    """The geom ids of each part (its geoms are named ``<label>/<i>``)."""
    wanted = set(labels)
    out: dict[str, list[int]] = {label: [] for label in wanted}
    for i in range(model.ngeom):
        owner = model.geom(i).name.rpartition("/")[0]
        if owner in wanted:
            out[owner].append(i)
    return {label: np.array(ids, dtype=np.int64) for label, ids in out.items()}


class LoadRecorder:
    """Keeps each watched part's load cases over one scene (the largest per window); :meth:`sample` after
    every chunk."""

    def __init__(self, model: mujoco.MjModel, labels: Iterable[str], window_s: float = LOAD_WINDOW_S) -> None:
        self._model = model
        geoms = part_geoms(model, labels)
        self._owner = np.full(model.ngeom, -1, dtype=np.int64)
        self.labels = sorted(geoms)
        for k, label in enumerate(self.labels):
            self._owner[geoms[label]] = k
        self._window_s = window_s
        self._cases: list[dict[int, LoadCase]] = [{} for _ in self.labels]
        self._f = np.zeros(6)

    @property
    def peaks(self) -> dict[str, LoadCase]:
        """Each loaded part's case with the largest total contact force."""
        return {
            self.labels[k]: max(cases.values(), key=lambda c: c.total_n)
            for k, cases in enumerate(self._cases)
            if cases
        }

    @property
    def cases(self) -> dict[str, list[LoadCase]]:
        """Each loaded part's cases, one per window it was touched in, in time order."""
        return {
            self.labels[k]: [cases[w] for w in sorted(cases)] for k, cases in enumerate(self._cases) if cases
        }

    def sample(self, data: mujoco.MjData) -> None:
        n = data.ncon
        if n == 0 or not self.labels:
            return
        pairs = data.contact.geom[:n]
        owners = self._owner[pairs]  # (n, 2): the watched part of each side, or -1
        hit = np.flatnonzero((owners >= 0).any(axis=1))
        if not len(hit):
            return
        per_part: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}
        for i in hit.tolist():
            mujoco.mj_contactForce(self._model, data, i, self._f)
            frame = data.contact.frame[i].reshape(3, 3)
            on_geom2 = frame.T @ self._f[:3]
            point = data.contact.pos[i] * _M_TO_MM
            for side, sign in ((1, 1.0), (0, -1.0)):
                k = int(owners[i, side])
                if k >= 0 and owners[i, 1 - side] != k:  # a part's contact with itself is no load
                    points, forces = per_part.setdefault(k, ([], []))
                    points.append(point.copy())
                    forces.append(sign * on_geom2)
        window = int(data.time / self._window_s)
        for k, (points, forces) in per_part.items():
            case = LoadCase(float(data.time), np.array(points), np.array(forces))
            kept = self._cases[k].get(window)
            if kept is None or case.total_n > kept.total_n:
                self._cases[k][window] = case
