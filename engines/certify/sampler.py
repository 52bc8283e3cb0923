"""The generic random-design sampler: 1–3 primitive parts posed inside a benchmark's build zone.

It knows nothing of any family's solution: it reads only what every benchmark has (the build zone, the
forbidden zones, the fixtures' collision pieces, the payload's spawn envelope and the caps), so it is the same
for family and script benchmarks. Design ``i`` of a benchmark is drawn from its own generator seeded by
``(SAMPLER_VERSION, seed, i)``: any design can be drawn again alone, so a shard or a retry starts anywhere.

What it draws (version 2):

- 1, 2 or 3 parts, each a plank, a block, a wedge or a rod (uniform), with sizes relative to the build zone
  (:data:`SIZE_RANGES`) and a pose: yaw uniform over the full turn, pitch and roll uniform within
  ±:data:`MAX_TILT_DEG`, the centre uniform over the positions that keep the part inside the build zone;
- a material and method pair the catalogue makes, by milling, moulding or printing, among the materials of
  :data:`RANDOM_DESIGN_MATERIALS` (uniform over the pairs);
- when the benchmark's reference uses a joint, with probability :data:`JOINT_PROBABILITY` one part is put on
  a hinge (a constant-velocity motor) or a slide (a sinusoidal motor) along a principal axis, driven by a
  catalogue motor of the right kind (uniform over the items), asked for 20-100 % of its torque or force and
  no more than its speed; its price and mass count like a design's. A benchmark that allows no motor
  (``max_motors`` 0) gets no motorised draws.

What it rejects, redrawing up to :data:`MAX_ATTEMPTS` times, so that what is counted is designs a validator
accepts: a part outside the build zone, touching a forbidden zone's interior, interfering with a fixture,
another part or the payload's spawn envelope (all by :func:`engines.certify.primitives.overlap`), a design over
the weight cap, and a design whose material alone costs more than the cost cap (its stock weighs at least the
part). The full quote needs the manufacturing engine's geometry facts: :mod:`engines.certify.trials` quotes a
design when it reaches the goal, and a design over the cost cap then fails, as it would in an evaluation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from engines.certify.primitives import Convex, Kind, local_vertices, overlap, rotation
from engines.physics.collision_pack import Piece
from shared.cots import MotorKind, bought_totals, motor, motor_items
from shared.materials import MATERIALS, methods_for
from shared.models import (
    SAMPLER_VERSION,
    BenchmarkDefinition,
    Box,
    Caps,
    JointSpec,
    JointType,
    ManufacturingMethod,
    MaterialId,
    MotorMode,
    MotorSpec,
    PartRole,
    PartSpec,
    RandomPart,
)

MAX_PARTS = 3
MAX_TILT_DEG = 45.0
JOINT_PROBABILITY = 0.5
MAX_ATTEMPTS = 200
"""Draws per design index before the index counts as unsampleable."""
MIN_SIZE_MM = 2.0

SIZE_RANGES: Mapping[Kind, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    # (length, width, height) as shares of the build zone's (longest horizontal, shortest horizontal, height)
    # side, except a plank's height and a rod's diameter, which are millimetres
    Kind.PLANK: ((0.25, 0.9), (0.1, 0.5), (3.0, 12.0)),
    Kind.BLOCK: ((0.08, 0.35), (0.08, 0.35), (0.08, 0.35)),
    Kind.WEDGE: ((0.15, 0.5), (0.1, 0.5), (0.08, 0.35)),
    Kind.ROD: ((0.25, 0.9), (4.0, 20.0), (0.0, 0.0)),
}
"""Model assumption: ranges a person would try first for a part of each kind in a zone of that size."""


RANDOM_DESIGN_METHODS = (
    ManufacturingMethod.CNC_MILLING,
    ManufacturingMethod.INJECTION_MOLDING,
    ManufacturingMethod.FDM_PRINTING,
)
"""The methods a random part is made by: its primitives (planks, blocks, wedges, rods) are milled, moulded or
printed; sheet metal and turning take shapes the sampler does not draw. Fixed here, so a method added to the
catalogue does not change what sampler version 3 draws."""

RANDOM_DESIGN_MATERIALS = (
    MaterialId.ABS,
    MaterialId.ALUMINUM_6061,
    MaterialId.HARDWOOD,
    MaterialId.HDPE,
    MaterialId.PLA,
    MaterialId.RUBBER_GENERIC,
    MaterialId.STEEL_CARBON,
)
"""The materials a random part is drawn in: the seven of the catalogue sampler version 3 was pinned with.
Fixed here, like :data:`RANDOM_DESIGN_METHODS`, so a material added to the catalogue does not change what a
random design draws (the pairs are still taken in sorted order, and only those the catalogue makes by a random
design method and prices)."""


@dataclass(frozen=True)
class DrawnPart:
    label: str
    kind: Kind
    dims_mm: tuple[float, float, float]
    center_mm: tuple[float, float, float]
    euler_deg: tuple[float, float, float]
    material: MaterialId
    method: ManufacturingMethod
    convex: Convex
    joint: JointSpec | None = None
    motor: MotorSpec | None = None

    @property
    def mass_kg(self) -> float:
        return MATERIALS[self.material].density_kg_m3 * self.convex.volume_mm3 * 1e-9

    def spec(self) -> PartSpec:
        lo, hi = self.convex.lo, self.convex.hi
        return PartSpec(
            label=self.label,
            role=PartRole.DESIGN,
            material=self.material,
            method=self.method,
            fixed=True,
            volume_mm3=self.convex.volume_mm3,
            mass_kg=self.mass_kg,
            bbox=Box(min_mm=tuple(lo.tolist()), max_mm=tuple(hi.tolist())),  # type: ignore[arg-type]
            joint=self.joint,
            motor=self.motor,
        )

    def summary(self) -> RandomPart:
        joint = None
        if self.joint is not None:
            axis = "xyz"[int(np.argmax(np.abs(self.joint.axis)))]
            joint = f"{self.joint.type.value} {axis}"
        return RandomPart(
            label=self.label,
            kind=self.kind.value,
            dims_mm=_round3(self.dims_mm),
            center_mm=_round3(self.center_mm),
            euler_deg=_round3(self.euler_deg),
            material=self.material.value,
            method=self.method.value,
            joint=joint,
        )


@dataclass(frozen=True)
class RandomDesign:
    index: int
    parts: tuple[DrawnPart, ...]

    @property
    def specs(self) -> list[PartSpec]:
        return [p.spec() for p in self.parts]

    @property
    def pieces(self) -> dict[str, list[Piece]]:
        return {p.label: [p.convex.piece] for p in self.parts}

    @property
    def mass_kg(self) -> float:
        """Made parts and bought parts (the motor's item)."""
        return sum(p.mass_kg for p in self.parts) + bought_totals(self.parts)[1]

    @property
    def summary(self) -> list[RandomPart]:
        return [p.summary() for p in self.parts]


def _round3(v: Sequence[float]) -> tuple[float, float, float]:
    return (round(float(v[0]), 3), round(float(v[1]), 3), round(float(v[2]), 3))


class Sampler:
    """Random designs for one benchmark; build once per benchmark, then draw by index."""

    def __init__(
        self,
        definition: BenchmarkDefinition,
        fixture_pieces: Mapping[str, list[Piece]],
        caps: Caps,
        material_prices_usd_kg: Mapping[MaterialId, float],
        seed: int,
    ) -> None:
        self.seed = seed
        self.zone = definition.build_zone
        self.lo = np.array(self.zone.min_mm, dtype=np.float64)
        self.hi = np.array(self.zone.max_mm, dtype=np.float64)
        self.forbidden = [Convex.of_box(z) for z in definition.forbidden_zones]
        self.obstacles = [
            Convex.of(np.asarray(v)) for p in definition.fixtures for v, _ in fixture_pieces.get(p.label, [])
        ]
        self.envelopes = [Convex.of_box(p.envelope) for p in definition.payloads]
        self.caps = caps
        self.prices = dict(material_prices_usd_kg)
        self.pairs = [
            (m, meth)
            for m in sorted(MATERIALS)
            for meth in methods_for(m)
            if m in RANDOM_DESIGN_MATERIALS and m in self.prices and meth in RANDOM_DESIGN_METHODS
        ]
        if not self.pairs:
            raise ValueError("the catalogue makes no material: nothing to draw random designs from")
        self.joints = definition.max_motors != 0 and any(
            p.joint is not None for p in definition.reference_solution
        )
        size = self.hi - self.lo
        self.scale = (max(size[0], size[1]), min(size[0], size[1]), size[2])

    def draw(self, index: int) -> tuple[RandomDesign | None, Counter[str]]:
        """Design ``index``: the first valid draw of its generator, and the draws rejected on the way (by
        rule); ``None`` when :data:`MAX_ATTEMPTS` draws were all invalid."""
        rng = np.random.default_rng([SAMPLER_VERSION, self.seed, index])
        rejected: Counter[str] = Counter()
        for _ in range(MAX_ATTEMPTS):
            design, why = self._attempt(rng, index)
            if design is not None:
                return design, rejected
            rejected[why] += 1
        return None, rejected

    def _attempt(self, rng: np.random.Generator, index: int) -> tuple[RandomDesign | None, str]:
        n = int(rng.integers(1, MAX_PARTS + 1))
        parts: list[DrawnPart] = []
        for k in range(n):
            part, why = self._part(rng, f"random-{k + 1}")
            if part is None:
                return None, why
            if any(overlap(part.convex, other.convex) for other in parts):
                return None, "part_interference"
            parts.append(part)
        if self.joints and rng.random() < JOINT_PROBABILITY:
            k = int(rng.integers(0, len(parts)))
            parts[k] = _with_motor(parts[k], rng)
        design = RandomDesign(index=index, parts=tuple(parts))
        if design.mass_kg > self.caps.max_weight_kg:
            return None, "over_weight_cap"
        material_usd = sum(p.mass_kg * self.prices[p.material] for p in parts) + bought_totals(parts)[0]
        if material_usd > self.caps.max_unit_cost_usd:
            return None, "over_cost_cap"
        return design, ""

    def _part(self, rng: np.random.Generator, label: str) -> tuple[DrawnPart | None, str]:
        kind = Kind(list(Kind)[int(rng.integers(0, len(Kind)))])
        dims = self._dims(kind, rng)
        euler = (
            float(rng.uniform(0.0, 360.0)),
            float(rng.uniform(-MAX_TILT_DEG, MAX_TILT_DEG)),
            float(rng.uniform(-MAX_TILT_DEG, MAX_TILT_DEG)),
        )
        local = local_vertices(kind, dims) @ rotation(*euler).T
        half = (local.max(axis=0) - local.min(axis=0)) / 2
        room = (self.hi - self.lo) / 2 - half
        if np.any(room < 0):
            return None, "outside_build_zone"
        mid = (self.lo + self.hi) / 2
        center = mid + rng.uniform(-1.0, 1.0, size=3) * room
        centre_of_local = (local.max(axis=0) + local.min(axis=0)) / 2
        convex = Convex.of(local - centre_of_local + center)
        if any(overlap(convex, z) for z in self.forbidden):
            return None, "forbidden_zone"
        if any(overlap(convex, e) for e in self.envelopes):
            return None, "payload_interference"
        if any(overlap(convex, o) for o in self.obstacles):
            return None, "fixture_interference"
        material, method = self.pairs[int(rng.integers(0, len(self.pairs)))]
        return (
            DrawnPart(label, kind, dims, _round3(center), euler, material, method, convex),
            "",
        )

    def _dims(self, kind: Kind, rng: np.random.Generator) -> tuple[float, float, float]:
        (l0, l1), (w0, w1), (h0, h1) = SIZE_RANGES[kind]
        long_side, short_side, height = self.scale
        length = rng.uniform(l0, l1) * long_side
        if kind is Kind.PLANK:
            width, thick = rng.uniform(w0, w1) * short_side, rng.uniform(h0, h1)
        elif kind is Kind.ROD:
            width = thick = rng.uniform(w0, w1)
        else:
            width, thick = rng.uniform(w0, w1) * short_side, rng.uniform(h0, h1) * height
        return (max(length, MIN_SIZE_MM), max(width, MIN_SIZE_MM), max(thick, MIN_SIZE_MM))


def _with_motor(part: DrawnPart, rng: np.random.Generator) -> DrawnPart:
    """The part on a hinge (constant-velocity motor) or a slide (sinusoidal motor) along a principal axis,
    driven by a catalogue motor of that kind within its limits."""
    axis = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)][int(rng.integers(0, 3))]
    rotary = rng.random() < 0.5
    items = motor_items(MotorKind.ROTARY if rotary else MotorKind.LINEAR)
    item = items[int(rng.integers(0, len(items)))]
    limits = motor(item)
    assert limits is not None
    effort = float(rng.uniform(0.2, 1.0)) * limits.max_effort
    if rotary:
        speed = float(rng.uniform(20.0, 180.0)) * (1 if rng.random() < 0.5 else -1)
        speed = max(-limits.max_speed, min(limits.max_speed, speed))
        joint = JointSpec(type=JointType.HINGE, axis=axis, anchor_mm=part.center_mm)
        motor_spec = MotorSpec(mode=MotorMode.CONSTANT_VELOCITY, item=item, max_effort=effort, velocity=speed)
    else:
        amplitude = float(rng.uniform(5.0, 40.0))
        assert limits.stroke_mm is not None
        amplitude = min(amplitude, limits.stroke_mm / 2 - 1.0)  # the range below stays within the stroke
        frequency = min(float(rng.uniform(0.2, 1.5)), 0.999 * limits.max_speed / (2 * math.pi * amplitude))
        joint = JointSpec(type=JointType.SLIDE, axis=axis, range=(-amplitude - 1.0, amplitude + 1.0))
        motor_spec = MotorSpec(
            mode=MotorMode.SINUSOIDAL,
            item=item,
            max_effort=effort,
            amplitude=amplitude,
            frequency_hz=frequency,
        )
    return replace(part, joint=joint, motor=motor_spec)
