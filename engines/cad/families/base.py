"""What a procedural benchmark family produces, and the geometry helpers the families share.

A family turns a seed into a :class:`FamilyDesign`: fixtures and reference parts as build123d solids in
world millimetres (z up, gravity -z), the payload, the zones and the simulation settings. Parameters are
drawn from string-seeded ``random.Random`` generators (see :meth:`Family.sample`), so the same seed always
gives the same design, on any machine and in any process.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from build123d import Compound, Shape, Solid

from engines.cad.primitives import Point3, box
from shared.materials import props
from shared.models import (
    Box,
    JointSpec,
    ManufacturingMethod,
    MaterialId,
    MotorSpec,
    NamedBox,
    PartRole,
    Payload,
    SimulationSettings,
    StructureSpec,
)

PARAM_SPREAD = 0.4
"""Every sampled parameter lies within ``nominal * (1 ± PARAM_SPREAD)``."""
STRATA = 10
"""Seeds per Latin-hypercube block (see :meth:`Family.sample`)."""

GRAVITY_M_S2 = 9.81
FLOOR_THICKNESS_MM = 10.0
SPAWN_JITTER_MM: Point3 = (3.0, 3.0, 1.0)
PAYLOAD_MATERIAL = MaterialId.STEEL_CARBON
"""The payload material of a family that draws none (see :attr:`Family.payload_materials`)."""
PAYLOAD_MATERIALS: tuple[MaterialId, ...] = (
    MaterialId.STEEL_CARBON,
    MaterialId.ALUMINUM_6061,
    MaterialId.ABS,
    MaterialId.PLA,
    MaterialId.HDPE,
    MaterialId.HARDWOOD,
    MaterialId.RUBBER_GENERIC,
)
"""The seven materials a payload may be made of (0.75-7.85 g/cm3, friction 0.22-0.9): fixed, so materials added
to the catalogue for manufacturing do not change what a family draws."""
SCALE_RANGE = (0.8, 1.25)
"""The scene scale a seed draws (log-uniform): every sampled length (a ``*_mm`` parameter) is multiplied by
it, so one family builds its task at sizes 1.56 times apart on top of each parameter's own spread."""
FIXTURE_MATERIAL = MaterialId.ALUMINUM_6061


@dataclass(frozen=True)
class CadPart:
    """One rigid part with its geometry in world millimetres. A part may be a Compound of convex solids."""

    label: str
    role: PartRole
    material: MaterialId
    method: ManufacturingMethod | None
    shape: Shape
    fixed: bool = True
    joint: JointSpec | None = None
    motor: MotorSpec | None = None


@dataclass(frozen=True)
class FamilyDesign:
    params: dict[str, float]
    """Sampled and derived parameters (recorded in the definition)."""
    description: str
    fixtures: list[CadPart]
    reference: list[CadPart]
    payload: Payload
    goal_zone: Box
    forbidden_zones: list[NamedBox]
    build_zone: Box
    simulation_bounds: Box
    simulation: SimulationSettings
    extra_payloads: list[Payload] = field(default_factory=list)
    """More payloads spawned with ``payload``, each with its own goal zone or the shared one."""
    max_motors: int | None = None
    """At most this many motors in a design (0: the task must be solved passively); None: no limit."""
    structure: StructureSpec | None = None
    """Set where structure is the point: load-bearing parts are checked and can break (a shelf's, a bridge's)."""


class Family(ABC):
    """A seeded procedural generator of one kind of benchmark."""

    name: ClassVar[str]
    nominal: ClassVar[dict[str, float]]
    """Sampled parameters and their nominal values, in sampling order."""
    levels: ClassVar[int] = 1
    """Complexity levels the family builds; seed ``s`` builds level :meth:`level` ``(s)``."""
    payload_materials: ClassVar[tuple[MaterialId, ...]] = PAYLOAD_MATERIALS
    """The materials a seed draws its payloads' material from (see :meth:`payload_material`); a family whose
    task rests on one material's friction names only the ones it works with, and says why."""
    scale_range: ClassVar[tuple[float, float]] = SCALE_RANGE

    def materials_for(self, seed: int) -> tuple[MaterialId, ...]:
        """The materials ``seed`` draws from: :attr:`payload_materials` (a family may narrow them per level)."""
        return self.payload_materials

    def payload_material(self, seed: int) -> MaterialId:
        """The payload material of ``seed``: drawn from :meth:`materials_for` by
        ``random.Random(f"{family}:material:{seed}")``, so a pure function of (family, seed)."""
        return random.Random(f"{self.name}:material:{seed}").choice(self.materials_for(seed))

    def scene_scale(self, seed: int) -> float:
        """The scene scale of ``seed``, log-uniform within :attr:`scale_range` (``{family}:scale:{seed}``)."""
        lo, hi = self.scale_range
        u = random.Random(f"{self.name}:scale:{seed}").random()
        return round(lo * (hi / lo) ** u, 3)

    def level(self, seed: int) -> int:
        """The complexity level of ``seed``: ``1 + seed % levels``, so any run of ``levels`` consecutive
        seeds covers every level once and a benchmark id (family, seed, version) still names one design."""
        return 1 + seed % self.levels

    def sample(self, seed: int) -> dict[str, float]:
        """The sampled parameters of ``seed``, each within ``nominal * (1 ± PARAM_SPREAD)``.

        Latin-hypercube over blocks of :data:`STRATA` consecutive seeds: in each block (seeds 0-9, 10-19,
        ...) every parameter visits each tenth of its range exactly once, in an order shuffled per block
        and parameter by ``random.Random(f"{family}:block:{block}")``; the position inside the tenth comes
        from ``random.Random(f"{family}:{seed}")``. So any such block spans at least ±32 % of each nominal
        value, while every seed stays a pure function of (family, seed).

        Every length (a ``*_mm`` parameter) is then multiplied by the seed's :meth:`scene_scale`, recorded
        as ``scene_scale``; the payload material's density and friction are recorded too
        (``payload_density_kg_m3``, ``payload_friction``), so the definition states what the scene rests on.
        """
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        block, slot = divmod(seed, STRATA)
        block_rng = random.Random(f"{self.name}:block:{block}")
        seed_rng = random.Random(f"{self.name}:{seed}")
        scale = self.scene_scale(seed)
        params: dict[str, float] = {}
        for key, value in self.nominal.items():
            strata = list(range(STRATA))
            block_rng.shuffle(strata)
            u = (strata[slot] + seed_rng.random()) / STRATA
            nominal = value * scale if key.endswith("_mm") else value
            params[key] = round(nominal * (1.0 + PARAM_SPREAD * (2.0 * u - 1.0)), 3)
        material = props(self.payload_material(seed))
        params["scene_scale"] = scale
        params["payload_density_kg_m3"] = material.density_kg_m3
        params["payload_friction"] = material.friction
        return params

    @abstractmethod
    def generate(self, seed: int) -> FamilyDesign:
        """The design for ``seed``: identical for identical seeds."""


# --------------------------------------------------------------------------------------------
# Geometry helpers (world millimetres)
# --------------------------------------------------------------------------------------------


def compound(solids: Sequence[Solid]) -> Compound:
    return Compound(list(solids))


def floor_part(bounds: Box) -> CadPart:
    """A floor slab under the whole simulation area, its top face at z = 0."""
    (x0, y0, _), (x1, y1, _) = bounds.min_mm, bounds.max_mm
    slab = box((x0, y0, -FLOOR_THICKNESS_MM), (x1, y1, 0.0))
    return CadPart("floor", PartRole.FIXTURE, FIXTURE_MATERIAL, None, slab)


def simulation_settings(seed: int, duration_s: float) -> SimulationSettings:
    """A family's scene settings: its own duration and jitter seed, the global defaults for the rest."""
    return SimulationSettings(duration_s=duration_s, jitter_seed=seed)


def payload(radius_mm: float, start_mm: Point3, material: MaterialId = PAYLOAD_MATERIAL) -> Payload:
    return Payload(
        radius_mm=radius_mm,
        material=material,
        start_mm=tuple(round(v, 3) for v in start_mm),  # type: ignore[arg-type]
        jitter_mm=SPAWN_JITTER_MM,
    )


def box_payload(half_size_mm: Point3, start_mm: Point3, material: MaterialId = PAYLOAD_MATERIAL) -> Payload:
    """An axis-aligned box payload (half sizes along x, y, z) centred on ``start_mm``."""
    return Payload(
        shape="box",
        half_size_mm=tuple(round(v, 3) for v in half_size_mm),  # type: ignore[arg-type]
        material=material,
        start_mm=tuple(round(v, 3) for v in start_mm),  # type: ignore[arg-type]
        jitter_mm=SPAWN_JITTER_MM,
    )


def rolling_speed_bound_m_s(drop_mm: float) -> float:
    """An upper bound of a ball's speed after falling ``drop_mm`` (no rolling, no losses)."""
    return math.sqrt(2 * GRAVITY_M_S2 * drop_mm * 1e-3)


BOUNDS_MARGIN_MM = 150.0
"""Free space around a scene's extent before the payload counts as out of bounds."""
BELOW_FLOOR_MM = 10.0


def simulation_bounds(x0: float, y0: float, x1: float, y1: float, top: float) -> Box:
    """The scene's extent (``x0..x1``, ``y0..y1``, up to ``top``) plus the margin on every side, reaching
    from just under the floor slab."""
    return zone(
        (x0 - BOUNDS_MARGIN_MM, y0 - BOUNDS_MARGIN_MM, -FLOOR_THICKNESS_MM - BELOW_FLOOR_MM),
        (x1 + BOUNDS_MARGIN_MM, y1 + BOUNDS_MARGIN_MM, top + BOUNDS_MARGIN_MM),
    )


def zone(lo: Point3, hi: Point3) -> Box:
    return Box(min_mm=_rounded(lo), max_mm=_rounded(hi))


def named_zone(name: str, lo: Point3, hi: Point3) -> NamedBox:
    return NamedBox(name=name, min_mm=_rounded(lo), max_mm=_rounded(hi))


def _rounded(p: Point3) -> Point3:
    return (round(p[0], 3), round(p[1], 3), round(p[2], 3))
