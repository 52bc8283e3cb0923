"""What a benchmark is: its parts (with joints and motors), payload, zones, simulation settings and caps."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from shared.models.common import (
    MAX_DESIGN_PARTS,
    MAX_DURATION_S,
    MAX_PAYLOADS,
    Amount,
    ArtifactRef,
    CheckInterval,
    Degrees,
    Direction,
    Effort,
    Finite,
    Frequency,
    GeneratorVersion,
    Identifier,
    JointCoordinate,
    JointSpeed,
    Material,
    Method,
    Model,
    PayloadLength,
    Point,
    PositiveAmount,
    PositiveCount,
    SceneCount,
    Seconds,
    Seed,
    normalise_token,
)
from shared.models.geometry import Box, NamedBox


def _without_none(data: dict[str, object], *keys: str) -> dict[str, object]:
    """``data`` without those of ``keys`` whose value is None: a field added later, left unset, dumps as the
    model did before it existed (so stored definitions and their hashes stay the same)."""
    for key in keys:
        if key in data and data[key] is None:
            del data[key]
    return data


class PartRole(StrEnum):
    FIXTURE = "fixture"
    REFERENCE = "reference"
    DESIGN = "design"


class JointType(StrEnum):
    HINGE = "hinge"
    SLIDE = "slide"
    FIXED = "fixed"
    """Fastened to its ``parent`` part: no degree of freedom; the joint's fasteners are bought parts."""


MAX_JOINT_FASTENERS = 16
"""Fasteners one fixed joint may count."""


class JointSpec(Model):
    """How a part is held: one degree of freedom (hinge, slide) to the world or to a ``parent`` part, or
    fastened (fixed) to a parent part.

    Angles are degrees for a hinge, lengths millimetres for a slide; ``range`` is relative to the part's
    placed pose (0 = as placed). Whether the axis is usable (finite, non-zero), the range ordered, the parent
    present, the joints free of cycles and the anchor on both parts is checked by design validation
    (``engines/cad/assembly.py``), which names the part, not by this model."""

    type: Annotated[JointType, BeforeValidator(normalise_token)]
    axis: Direction = (0.0, 0.0, 1.0)
    """Direction of the hinge axis or of the slide, world frame; normalised by the scene compiler. A fixed
    joint ignores it."""
    parent: Identifier | None = None
    """The label of the part this one is joined to (in the same design or reference), or None: the world.
    A fixed joint needs a parent (a part fixed to the world is ``fixed: true`` with no joint)."""
    fastener: Identifier = "screw_m4x12_iso4762"
    """Fixed joints: the catalogue fastener (``shared/data/cots.toml``) counted ``fasteners`` times."""
    fasteners: int = Field(default=2, ge=1, le=MAX_JOINT_FASTENERS)
    bearing: Identifier | None = None
    """Hinges: a catalogue bearing, counted twice (one each side), priced with the design."""
    anchor_mm: Point | None = None
    """A point on a hinge axis, world millimetres after placement. Default: the part's bounding-box centre.
    For a joint to a parent part, the anchor must lie on both parts."""

    range: tuple[JointCoordinate, JointCoordinate] | None = None
    """Hard stops ``(low, high)``: degrees (hinge) or millimetres (slide). Default: unlimited."""
    damping: float = Field(default=0.0, ge=0, le=1e6)
    """Viscous damping: N*m*s/rad (hinge) or N*s/m (slide)."""

    @model_serializer(mode="wrap")
    def _without_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """A joint to the world without a bearing dumps as it did before parts could join each other."""
        data = _without_none(handler(self), "parent", "bearing")
        if self.type is not JointType.FIXED:
            data.pop("fastener", None)
            data.pop("fasteners", None)
        return data


class MotorMode(StrEnum):
    CONSTANT_VELOCITY = "constant_velocity"
    """A velocity servo holding ``velocity``."""
    SINUSOIDAL = "sinusoidal"
    """A position servo following ``offset + amplitude * sin(2 pi frequency_hz t + phase_deg)``."""
    ON_OFF = "on_off"
    """A torque (force) motor giving ``effort`` for the first ``duty`` share of every ``period_s``, else 0."""


class MotorSpec(Model):
    """A motor driving a part's joint. Units follow the joint: degrees and N*m for a hinge, millimetres
    and N for a slide. Limits are checked by design validation (naming the part), not by this model."""

    mode: Annotated[MotorMode, BeforeValidator(normalise_token)]
    item: Identifier | None = None
    """The bought motor (a ``[motors.<id>]`` row of ``shared/data/cots.toml``): a rotary item drives a hinge, a
    linear one a slide; its torque or force and speed bound ``max_effort`` and the motion, and its price and
    mass count in the design's cost and weight. Validation requires one."""
    max_effort: Effort
    """The motor's torque (N*m) or force (N) limit; must be > 0 and at most the item's."""
    velocity: JointSpeed = 0.0
    """constant_velocity: deg/s or mm/s."""
    amplitude: JointCoordinate = 0.0
    """sinusoidal: deg or mm."""
    offset: JointCoordinate = 0.0
    """sinusoidal: centre of the motion, deg or mm from the placed pose."""
    frequency_hz: Frequency = 0.0
    phase_deg: Degrees = 0.0
    effort: Effort = 0.0
    """on_off: torque (N*m) or force (N) while on; at most ``max_effort``."""
    period_s: Seconds = 1.0
    duty: Finite = 0.5
    """on_off: share of each period the motor is on, 0..1."""
    stall_s: Seconds = 1.0
    """The motor overloads when it gives (nearly) its full ``max_effort`` while (nearly) not moving for
    this long; must be > 0."""

    @model_serializer(mode="wrap")
    def _without_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """A motor without an item (stored before the catalogue) dumps as it did."""
        return _without_none(handler(self), "item")


class PartSpec(Model):
    """One rigid part. Geometry is stored in world millimetres (the CAD frame is kept).

    A part with a ``joint`` moves about it (``fixed`` is then ignored); without one it is mounted to the
    world (``fixed``) or free. A ``motor`` drives the joint."""

    label: Identifier
    role: PartRole
    material: Material
    method: Method | None = None
    fixed: bool = True
    volume_mm3: PositiveAmount
    mass_kg: PositiveAmount
    bbox: Box
    step: ArtifactRef | None = None
    joint: JointSpec | None = None
    motor: MotorSpec | None = None


PayloadShape = Literal["sphere", "box", "cylinder", "capsule"]

_PAYLOAD_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "sphere": ("radius_mm",),
    "box": ("half_size_mm",),
    "cylinder": ("radius_mm", "half_length_mm"),
    "capsule": ("radius_mm", "half_length_mm"),
}
"""The dimensions each payload shape needs; the others must be left out."""
_OPTIONAL_DIMENSIONS = ("radius_mm", "half_length_mm", "half_size_mm")


class Payload(Model):
    """The free body to deliver, spawned axis-aligned (a cylinder's and a capsule's axis along world z).

    Dimensions by ``shape``: a sphere has ``radius_mm``; a box ``half_size_mm`` (x, y, z); a cylinder and a
    capsule ``radius_mm`` and ``half_length_mm`` (half the height of the cylinder, of the capsule's straight
    middle, along z). A definition written before shapes existed (a sphere with a radius) parses and dumps
    exactly as it did: dimensions a shape does not use are left out of the dump."""

    label: Identifier = "payload"
    shape: PayloadShape = "sphere"
    radius_mm: PayloadLength | None = None
    half_length_mm: PayloadLength | None = None
    half_size_mm: tuple[PayloadLength, PayloadLength, PayloadLength] | None = None
    material: Material
    start_mm: Point
    jitter_mm: Point = (0.0, 0.0, 0.0)
    goal_zone: Box | None = None
    """This payload's own goal (a sorter's payloads each have one); None: the benchmark's ``goal_zone``."""

    @model_validator(mode="after")
    def _dimensions_and_jitter(self) -> Payload:
        needed = _PAYLOAD_DIMENSIONS[self.shape]
        for field in _OPTIONAL_DIMENSIONS:
            given = getattr(self, field) is not None
            if field in needed and not given:
                raise ValueError(f"{field} is required for a {self.shape} payload")
            if field not in needed and given:
                raise ValueError(
                    f"{field} does not apply to a {self.shape} payload (it takes {', '.join(needed)})"
                )
        if any(j < 0 for j in self.jitter_mm):
            raise ValueError("jitter_mm must be >= 0 on every axis")
        return self

    @model_serializer(mode="wrap")
    def _without_unused_dimensions(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        return _without_none(handler(self), *_OPTIONAL_DIMENSIONS, "goal_zone")

    @property
    def half_extents_mm(self) -> tuple[float, float, float]:
        """Half the payload's axis-aligned bounding box as spawned (x, y, z)."""
        if self.shape == "box":
            assert self.half_size_mm is not None
            return self.half_size_mm
        r = self.radius_mm
        assert r is not None
        if self.shape == "sphere":
            return (r, r, r)
        h = self.half_length_mm
        assert h is not None
        return (r, r, h if self.shape == "cylinder" else h + r)

    @property
    def bounding_radius_mm(self) -> float:
        """The radius of the smallest centred sphere holding the payload in any orientation (a sphere's
        radius; a box's half-diagonal; ...)."""
        if self.shape == "sphere":
            assert self.radius_mm is not None
            return self.radius_mm
        if self.shape == "capsule":
            assert self.radius_mm is not None and self.half_length_mm is not None
            return self.radius_mm + self.half_length_mm
        hx, _, hz = self.half_extents_mm
        if self.shape == "cylinder":
            return math.hypot(hx, hz)
        return math.sqrt(sum(h * h for h in self.half_extents_mm))

    @property
    def envelope(self) -> Box:
        """Every position the payload can occupy at spawn, including its extent and jitter; rounded to a
        nanometre, so that a payload resting on a zone's floor (``start = r + jitter``) is not a float's
        rounding error below it."""
        m = tuple(j + h for j, h in zip(self.jitter_mm, self.half_extents_mm, strict=True))
        box = Box(min_mm=self.start_mm, max_mm=self.start_mm).expanded(m)  # type: ignore[arg-type]
        return Box(
            min_mm=tuple(round(v, 6) for v in box.min_mm),  # type: ignore[arg-type]
            max_mm=tuple(round(v, 6) for v in box.max_mm),  # type: ignore[arg-type]
        )


class SimulationSettings(Model):
    timestep_s: float = Field(default=0.002, gt=0, le=0.01)
    duration_s: float = Field(default=5.0, gt=0, le=MAX_DURATION_S)
    check_interval_steps: CheckInterval = 10
    n_scenes: SceneCount = 8
    required_success_share: float = Field(default=0.75, gt=0, le=1)
    jitter_seed: Seed = 0
    max_speed_m_s: float = Field(default=30.0, gt=0, le=1000)
    """Any body faster than this is a physics instability (explosion); at most 1000 m/s, far above anything a
    benchmark moves at."""


STRUCTURE_SAFETY_FACTOR = 1.5
"""The default safety factor of the structural check (``MECHBENCH_STRUCTURE_SAFETY_FACTOR``): a part breaks
when its peak von Mises stress exceeds its allowable divided by it. Families size their references with it."""


class StructureSpec(Model):
    """What makes a benchmark structural: its load-bearing parts are checked for stress and sag
    (``engines.structure``), and a part that breaks fails the scene (``breakage``).

    A part fixed to the world is held where it touches a fixture (or another part fixed to the world); in a
    structural benchmark a design part fixed to the world that touches neither is invalid
    (``part.unsupported``), since nothing would hold it up."""

    max_deflection_mm: float | None = Field(default=None, gt=0, le=1000)
    """A load-bearing part may not sag more than this (a shelf's limit); None: stress only."""
    hold_s: float = Field(default=0.5, ge=0, le=10)
    """After its payload reaches the goal, a scene runs on this long (loads only, the outcome stays) so the
    structure is seen carrying the payload at rest, not only as it arrives."""


class Caps(Model):
    max_unit_cost_usd: PositiveAmount
    max_weight_kg: PositiveAmount
    headroom_factor: float = Field(ge=1)
    reference_unit_cost_usd: Amount
    reference_weight_kg: Amount
    target_quantity: PositiveCount = 1
    cost_basis: str = Field(description="how reference_unit_cost_usd was obtained")
    bought_parts: bool = False
    """The reference's bought parts (motors, fasteners, bearings) are in the cost and the weight; designs are
    priced the same way. False for caps set before bought parts were priced: designs are then priced without
    theirs, as those caps were."""


class BenchmarkArtifacts(Model):
    collision: ArtifactRef
    """npz of convex pieces per part label (vertices in mm, faces), fed to the scene compiler."""
    scene_glb: ArtifactRef | None = None
    """fixtures, payload and reference solution for viewing."""
    thumbnail: ArtifactRef | None = None
    """A 320x240 PNG of the scene (fixtures, reference solution, payload at its start) framing the build zone,
    the goal and the spawn; rendered when the geometry proof passes; none without GL or for benchmarks built
    before thumbnails existed."""
    surfaces: ArtifactRef | None = None
    """npz of each part's closed triangle surface (world mm; ``engines.physics.collision_pack`` format, one
    piece per part), for the structural check; set for structural benchmarks and their evaluations only."""

    @model_serializer(mode="wrap")
    def _without_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        return _without_none(handler(self), "surfaces")


class BenchmarkDefinition(Model):
    schema_version: int = 1
    benchmark_id: Identifier
    family: Identifier
    seed: Seed
    generator_version: GeneratorVersion
    description: str = ""
    params: dict[str, float] = Field(default_factory=dict)
    fixtures: list[PartSpec] = Field(min_length=1)
    payload: Payload
    extra_payloads: list[Payload] = Field(default_factory=list, max_length=MAX_PAYLOADS - 1)
    """More payloads spawned with the first (a sorter's); see :attr:`payloads`."""
    goal_zone: Box
    """The goal of every payload that names none of its own (``Payload.goal_zone``)."""
    forbidden_zones: list[NamedBox] = Field(default_factory=list)
    build_zone: Box
    simulation_bounds: Box
    simulation: SimulationSettings = SimulationSettings()
    reference_solution: list[PartSpec] = Field(default_factory=list)
    max_motors: int | None = Field(default=None, ge=0, le=MAX_DESIGN_PARTS)
    """At most this many motors in a design (0: a passive mechanism, the lever's); None: no limit."""
    caps: Caps | None = None
    structure: StructureSpec | None = None
    """Set for a structural benchmark (see :class:`StructureSpec`)."""
    artifacts: BenchmarkArtifacts

    @model_serializer(mode="wrap")
    def _without_empty_extras(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """A one-payload definition dumps as it did before extra payloads existed."""
        data: dict[str, object] = handler(self)
        if data.get("extra_payloads") == []:
            del data["extra_payloads"]
        return _without_none(data, "max_motors", "structure")

    @property
    def payloads(self) -> list[Payload]:
        """Every payload, the first (``payload``) first."""
        return [self.payload, *self.extra_payloads]

    def goal_of(self, payload: Payload) -> Box:
        """The goal zone ``payload`` must reach: its own, else the benchmark's."""
        return payload.goal_zone if payload.goal_zone is not None else self.goal_zone

    @model_validator(mode="after")
    def _unique_labels(self) -> BenchmarkDefinition:
        labels = [p.label for p in self.fixtures + self.reference_solution] + [p.label for p in self.payloads]
        dup = sorted({lbl for lbl in labels if labels.count(lbl) > 1})
        if dup:
            raise ValueError(f"part labels must be unique; duplicated: {dup}")
        return self
