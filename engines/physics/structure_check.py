"""The structural check of a scene's load-bearing parts: supports from the geometry, loads from the run.

For a benchmark with a ``structure`` (:class:`~shared.models.StructureSpec`), every part of its solution
(the reference, or the design being evaluated) that is fixed to the world is checked in each scene where
something touches it:

- **supports**: the nodes of the part's tetrahedral mesh that lie within :data:`SUPPORT_TOLERANCE_MM` of a
  fixture's collision piece or of another fixed part's (each piece is convex: a node is inside or on it when
  no face plane has it beyond the tolerance). Those nodes are held fixed;
- **loads**: the peak load case of the scene (:mod:`engines.physics.loads`: every contact force on the part
  at the sampled instant where their sum was largest) plus the part's own weight;
- **model**: quasi-static, linear-elastic, the peak loads applied together (``engines.structure``), with the
  material's allowable (yield, or ultimate for brittle and printed parts, with the layer knock-down)
  divided by the safety factor.

A part breaks when its peak von Mises stress exceeds the allowable, or when it sags more than the benchmark's
``max_deflection_mm``. The mesh and the factorised stiffness of a part are made once per
:class:`SceneStructure` (per simulation), on the first scene that loads it, and shared by the scene threads:
each further load case is one back-substitution.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree

from engines.physics.collision_pack import Piece
from engines.physics.loads import LoadCase
from engines.structure import (
    Elastic,
    PreparedPart,
    StructuralResult,
    StructureError,
    elastic_for,
    prepare,
    solve,
    tet_mesh,
)
from engines.structure.errors import UNMESHABLE
from shared.materials import props
from shared.models import BenchmarkDefinition, Finding, PartSpec, PartStress, StructureSpec

__all__ = [
    "GRAVITY_M_S2",
    "MAX_SOLVES",
    "SUPPORT_TOLERANCE_MM",
    "Motion",
    "SceneStructure",
    "held_labels",
    "held_parts",
    "scene_structure",
    "structure_findings",
    "supported_nodes",
]

MAX_SOLVES = 4
"""Load cases solved per part and scene at most (each is one back-substitution)."""
SUPPORT_TOLERANCE_MM = 0.5
"""A node this close to (or inside) a fixture or another fixed part is held by it."""
GRAVITY_M_S2 = 9.81


def held_parts(definition: BenchmarkDefinition) -> list[PartSpec]:
    """The parts the check covers: the solution's parts fixed to the world (no joint)."""
    return [p for p in definition.reference_solution if p.joint is None and p.fixed]


def _planes(piece: Piece) -> np.ndarray | None:
    try:
        return ConvexHull(np.asarray(piece[0], dtype=np.float64)).equations  # (F, 4): n . x + d <= 0 inside
    except QhullError:  # a flat or degenerate piece holds nothing
        return None


def supported_nodes(nodes: np.ndarray, holders: Sequence[Piece], tolerance_mm: float) -> np.ndarray:
    """``(N,)`` bool: the nodes within ``tolerance_mm`` of any of the convex ``holders``."""
    held = np.zeros(len(nodes), dtype=bool)
    homogeneous = np.hstack([nodes, np.ones((len(nodes), 1))])
    for piece in holders:
        v = np.asarray(piece[0])
        lo, hi = v.min(axis=0) - tolerance_mm, v.max(axis=0) + tolerance_mm
        near = np.flatnonzero(((nodes >= lo) & (nodes <= hi)).all(axis=1) & ~held)
        if not len(near):
            continue
        planes = _planes(piece)
        if planes is None:
            continue
        outside = (homogeneous[near] @ planes.T).max(axis=1)
        held[near[outside <= tolerance_mm]] = True
    return held


@dataclass
class _Part:
    spec: PartSpec
    surface: Piece
    holders: list[Piece]
    elastic: Elastic
    prepared: PreparedPart | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


Motion = tuple[np.ndarray, np.ndarray, np.ndarray]
"""A rigid motion ``(rot (3, 3), centre (3,), shift (3,))``: ``p -> (p - centre) @ rot.T + centre + shift``."""


class SceneStructure:
    """What the runner needs to check a scene's parts; see the module's docstring. Thread-safe."""

    def __init__(
        self,
        spec: StructureSpec,
        parts: Mapping[str, _Part],
        safety_factor: float,
        motions: Mapping[str, Motion] | None = None,
    ) -> None:
        self.spec = spec
        self._parts = dict(parts)
        self.safety_factor = safety_factor
        self._motions = dict(motions or {})

    @property
    def labels(self) -> list[str]:
        return sorted(self._parts)

    def moved(self, motions: Mapping[str, Motion]) -> SceneStructure:
        """The same parts, each moved rigidly by its motion (a perturbed reference's). A part keeps the mesh,
        supports and factorisation of its unmoved pose and each load case is carried back into that pose
        (linear elasticity does not change under a rigid motion), so a perturbation that lifts a part a
        little off its support does not leave it unsupported."""
        return SceneStructure(self.spec, self._parts, self.safety_factor, motions)

    def prepared(self, label: str) -> PreparedPart:
        """Part ``label``'s mesh, supports and factorised stiffness (made on first use, once)."""
        part = self._parts[label]
        with part.lock:
            if part.prepared is None:
                mesh = tet_mesh(*part.surface)
                held = supported_nodes(mesh.nodes, part.holders, SUPPORT_TOLERANCE_MM)
                part.prepared = prepare(mesh, part.elastic, held)
            return part.prepared

    def _local(self, label: str, load: LoadCase) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``load``'s points and forces and the part's weight per volume (N/mm^3), in its unmoved pose."""
        part = self._parts[label]
        weight = props(part.spec.material).density_kg_m3 * GRAVITY_M_S2 * 1e-9
        gravity = np.array([0.0, 0.0, -weight])
        points, forces = load.points_mm, load.forces_n
        motion = self._motions.get(label)
        if motion is not None:  # back into the unmoved pose: p = (p' - centre - shift) @ rot + centre
            rot, centre, shift = motion
            points = (points - centre - shift) @ rot + centre
            forces, gravity = forces @ rot, gravity @ rot
        return points, forces, gravity

    def analyse(self, label: str, load: LoadCase) -> StructuralResult:
        """The linear-elastic response of part ``label`` to ``load`` and its own weight, in the part's
        unmoved pose (see :meth:`moved`)."""
        points, forces, gravity = self._local(label, load)
        pairs = LoadCase(load.time_s, points, forces).pairs()
        body = (float(gravity[0]), float(gravity[1]), float(gravity[2]))
        return solve(self.prepared(label), pairs, body_force_n_per_mm3=body)

    def _lever(self, label: str, load: LoadCase, held: cKDTree) -> float:
        """How hard ``load`` bends the part, roughly: each force times its distance from the nearest held node."""
        points, forces, _ = self._local(label, load)
        distance, _ = held.query(points)
        return float((np.linalg.norm(forces, axis=1) * distance).sum())

    def worst(self, label: str, cases: Sequence[LoadCase]) -> tuple[PartStress, LoadCase]:
        """The part's most critical load case of ``cases`` and its check: the one that uses most of the
        allowable stress (or of the sag limit). Every case is solved when there are at most
        :data:`MAX_SOLVES`; beyond that, the case with the largest force and those with the largest lever
        (force times distance from the supports) up to that many. A part the engine finds held only along a
        line (it would turn about it) breaks, as nothing holds it."""
        if not cases:
            raise ValueError(f"part {label!r}: no load case to check")
        try:
            prepared = self.prepared(label)
        except StructureError as e:
            if e.rule != "structure.unsupported":
                raise
            load = max(cases, key=lambda c: c.total_n)
            return self._unheld(label, load, str(e)), load
        chosen = list(cases)
        if len(chosen) > MAX_SOLVES:
            held = cKDTree(prepared.mesh.nodes[prepared.supported])
            by_lever = sorted(chosen, key=lambda c: self._lever(label, c, held), reverse=True)
            strongest = max(chosen, key=lambda c: c.total_n)
            chosen = [strongest, *[c for c in by_lever if c is not strongest][: MAX_SOLVES - 1]]
        checks = [(self.check(label, c), c) for c in chosen]
        return max(checks, key=lambda sc: _used(sc[0]))

    def _unheld(self, label: str, load: LoadCase, why: str) -> PartStress:
        p = load.points_mm[0] if len(load.points_mm) else np.zeros(3)
        return PartStress(
            label=label,
            peak_von_mises_mpa=0.0,
            allowable_mpa=round(self.allowable_mpa(label), 4),
            location_mm=(round(float(p[0]), 3), round(float(p[1]), 3), round(float(p[2]), 3)),
            max_displacement_mm=0.0,
            max_displacement_limit_mm=self.spec.max_deflection_mm,
            load_n=round(load.total_n, 4),
            load_time_s=round(load.time_s, 6),
            broke=True,
            unheld=why,
        )

    def located(self, label: str, point_mm: Sequence[float]) -> tuple[float, float, float]:
        """Where a point of the unmoved part is on the moved part (world mm)."""
        p = np.asarray(point_mm, dtype=np.float64)
        motion = self._motions.get(label)
        if motion is not None:
            rot, centre, shift = motion
            p = (p - centre) @ rot.T + centre + shift
        return (float(p[0]), float(p[1]), float(p[2]))

    def allowable_mpa(self, label: str) -> float:
        return self._parts[label].elastic.allowable_mpa / self.safety_factor

    def check(self, label: str, load: LoadCase) -> PartStress:
        """Part ``label`` under ``load``: its peak stress, sag and whether it broke."""
        result = self.analyse(label, load)
        allowable = self.allowable_mpa(label)
        limit = self.spec.max_deflection_mm
        broke = result.peak_von_mises_mpa > allowable or (
            limit is not None and result.max_displacement_mm > limit
        )
        where = self.located(label, result.peak_location_mm)
        return PartStress(
            label=label,
            peak_von_mises_mpa=round(float(result.peak_von_mises_mpa), 4),
            allowable_mpa=round(allowable, 4),
            location_mm=(round(where[0], 3), round(where[1], 3), round(where[2], 3)),
            max_displacement_mm=round(float(result.max_displacement_mm), 5),
            max_displacement_limit_mm=limit,
            load_n=round(load.total_n, 4),
            load_time_s=round(load.time_s, 6),
            broke=broke,
        )


def _used(stress: PartStress) -> float:
    """How much of its limits a check uses: the larger of stress over allowable and sag over its limit."""
    if stress.unheld:
        return float("inf")
    used = stress.peak_von_mises_mpa / stress.allowable_mpa
    if stress.max_displacement_limit_mm is not None:
        used = max(used, stress.max_displacement_mm / stress.max_displacement_limit_mm)
    return used


def _holders(
    definition: BenchmarkDefinition, label: str, collision: Mapping[str, list[Piece]]
) -> list[Piece]:
    """What can hold part ``label``: the fixtures' pieces and the other fixed solution parts'."""
    holders = [piece for p in definition.fixtures for piece in collision.get(p.label, [])]
    others = [p for p in held_parts(definition) if p.label != label]
    return holders + [piece for p in others for piece in collision.get(p.label, [])]


def held_labels(
    definition: BenchmarkDefinition, surfaces: Mapping[str, Piece], collision: Mapping[str, list[Piece]]
) -> set[str]:
    """The checked parts that something holds: those touching a fixture, then those touching a part already
    held, and so on (two parts fixed to each other in mid-air hold nothing). A part is tested by its surface's
    vertices against the others' convex collision pieces."""
    fixture_pieces = [piece for p in definition.fixtures for piece in collision.get(p.label, [])]
    pending = {p.label for p in held_parts(definition) if p.label in surfaces}
    held: set[str] = set()
    holders = fixture_pieces
    while holders and pending:
        now = {
            label
            for label in pending
            if supported_nodes(surfaces[label][0], holders, SUPPORT_TOLERANCE_MM).any()
        }
        if not now:
            break
        held |= now
        pending -= now
        holders = [piece for label in sorted(now) for piece in collision.get(label, [])]
    return held


def structure_findings(
    definition: BenchmarkDefinition,
    surfaces: Mapping[str, Piece],
    collision: Mapping[str, list[Piece]],
    mesh: bool = True,
) -> list[Finding]:
    """Why ``definition``'s solution cannot be checked, as blocking findings naming the part: a material
    without elastic data (``structure.no_elastic_data``), a surface that does not mesh
    (``structure.unmeshable``), or a part fixed to the world that nothing holds (``part.unsupported``, see
    :func:`held_labels`). Empty without a ``structure``. ``mesh=False`` skips meshing."""
    if definition.structure is None:
        return []
    findings: list[Finding] = []
    for part in held_parts(definition):
        label = part.label
        method = str(part.method) if part.method is not None else None
        surface = surfaces.get(label)
        try:
            elastic_for(str(part.material), method)
            if surface is None:
                raise StructureError(UNMESHABLE, f"part {label!r} has no closed surface")
            if mesh:
                tet_mesh(*surface)
        except StructureError as e:
            findings.append(Finding(rule=e.rule, message=f"part {label}: {e.reason}", parts=[label]))
    held = held_labels(definition, surfaces, collision)
    for part in held_parts(definition):
        if part.label in surfaces and part.label not in held:
            findings.append(
                Finding(
                    rule="part.unsupported",
                    message=(
                        f"part {part.label} is fixed to the world but rests on nothing: it touches no fixture, "
                        f"and no part that touches one (within {SUPPORT_TOLERANCE_MM:g} mm). In a structural "
                        "benchmark a part is held only where it rests on or against something"
                    ),
                    parts=[part.label],
                    limit=SUPPORT_TOLERANCE_MM,
                    unit="mm",
                )
            )
    return findings


def scene_structure(
    definition: BenchmarkDefinition,
    surfaces: Mapping[str, Piece],
    collision: Mapping[str, list[Piece]],
    safety_factor: float,
) -> SceneStructure | None:
    """The structural check of ``definition``'s scenes, or None when it has no ``structure``.

    ``surfaces`` holds each checked part's closed triangle surface (world mm). Raises
    :class:`~engines.structure.StructureError` when a checked part has no surface or its material no
    elastic data (``structure.no_elastic_data``, naming the material)."""
    if definition.structure is None:
        return None
    if not safety_factor >= 1:
        raise ValueError(f"the safety factor must be at least 1, got {safety_factor!r}")
    checked = held_parts(definition)
    parts: dict[str, _Part] = {}
    for part in checked:
        surface = surfaces.get(part.label)
        if surface is None:
            raise StructureError(UNMESHABLE, f"part {part.label!r} has no closed surface to check")
        method = str(part.method) if part.method is not None else None
        elastic = elastic_for(str(part.material), method)
        parts[part.label] = _Part(part, surface, _holders(definition, part.label, collision), elastic)
    return SceneStructure(definition.structure, parts, safety_factor)
