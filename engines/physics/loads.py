"""The loads a scene puts on its load-bearing parts: the contact forces on each, at its peak over the run.

A part fixed to the world compiles to geoms of the world body (``engines.physics.mjcf``), so MuJoCo makes no
contact between it and a fixture, the floor or another fixed part: every contact on it comes from something
that moves (a payload, a free or jointed part) and is a load. Its supports are found from the geometry
instead (``engines.structure.check``).

:class:`LoadRecorder` reads the contacts after each chunk of steps (where the runner's checks run), only
those on the parts it watches, and keeps, per part, the **load case** of the chunk where the sum of the
contact force magnitudes on it was largest: each contact's point and the force on the part (world frame,
millimetres and newtons). Contacts are sampled at chunk boundaries, as the outcome checks are: a spike
shorter than a chunk can be missed, and the peak is the largest sampled one. The part's own weight is not a
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

__all__ = ["LoadCase", "LoadRecorder", "part_geoms"]

_M_TO_MM = 1e3


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
    """Keeps each watched part's peak load case over one scene; :meth:`sample` after every chunk."""

    def __init__(self, model: mujoco.MjModel, labels: Iterable[str]) -> None:
        self._model = model
        geoms = part_geoms(model, labels)
        self._owner = np.full(model.ngeom, -1, dtype=np.int64)
        self.labels = sorted(geoms)
        for k, label in enumerate(self.labels):
            self._owner[geoms[label]] = k
        self.peaks: dict[str, LoadCase] = {}
        self._peak_total = [0.0] * len(self.labels)
        self._f = np.zeros(6)

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
        for k, (points, forces) in per_part.items():
            f = np.array(forces)
            total = float(np.linalg.norm(f, axis=1).sum())
            if total > self._peak_total[k]:
                self._peak_total[k] = total
                self.peaks[self.labels[k]] = LoadCase(float(data.time), np.array(points), f)
