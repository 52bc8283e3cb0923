"""Contracts: the single source of every request and response that crosses a process boundary.

Light imports only (pydantic, stdlib): this module is imported inside the Temporal workflow sandbox.

Conventions (DESIGN section 3):
- units live in field names (``_mm``, ``_kg``, ``_s``, ``_usd``); CAD and contracts are in millimetres;
- enums are lower case and input is normalised at the boundary (``"CNC"`` and ``"cnc"`` both parse);
- identifiers match :data:`ID_PATTERN`; anything else is rejected with a message naming the field;
- new fields always get defaults so recorded workflow histories keep decoding.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import to_json

from shared import webhooks

# --------------------------------------------------------------------------------------------
# Primitive types
# --------------------------------------------------------------------------------------------

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""Benchmark, dataset, design and part identifiers: lower case, digits, ``-`` and ``_``; no path characters."""

Identifier = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="lower-case identifier: [a-z0-9][a-z0-9_-]{0,63}"),
]


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    return v


Finite = Annotated[float, AfterValidator(_finite)]
Vec3 = tuple[Finite, Finite, Finite]
"""A measured 3-vector (a bounding box, a result): any finite numbers. What people give is bounded below."""

# Bounds of the physical quantities people give (requests, design metadata, benchmark scripts). Each bound is
# carried once, by its annotated type; the fuzzer (faults/fuzz.py) reads the bounds from these types. Signs
# and orderings that design validation reports as findings (a non-positive max_effort, a range low >= high)
# stay inside the bounds on purpose, so they keep their own rule and message.

MAX_LENGTH_MM = 10_000.0
"""±10 m: positions and lengths in a benchmark's world. Ten times the largest world a family builds (well under
a metre across), and far inside where float64 millimetres keep sub-micrometre precision; a placement beyond it
is a typo or an attack, never a design."""
MillimetreLength = Annotated[float, Field(ge=-MAX_LENGTH_MM, le=MAX_LENGTH_MM, allow_inf_nan=False)]
Point = tuple[MillimetreLength, MillimetreLength, MillimetreLength]
"""A position in world millimetres, each coordinate within ±:data:`MAX_LENGTH_MM`."""

MAX_ANGLE_DEG = 3600.0
"""±10 turns: rotations and phases in degrees. Every orientation is reached within one turn."""
Degrees = Annotated[float, Field(ge=-MAX_ANGLE_DEG, le=MAX_ANGLE_DEG, allow_inf_nan=False)]
Rotation = tuple[Degrees, Degrees, Degrees]

Direction = tuple[MillimetreLength, MillimetreLength, MillimetreLength]
"""An axis: only the direction counts (the scene compiler normalises it); components are bounded like
lengths, so its norm is always a finite number."""

JointCoordinate = Annotated[float, Field(ge=-MAX_LENGTH_MM, le=MAX_LENGTH_MM, allow_inf_nan=False)]
"""A position along a joint: degrees (hinge) or millimetres (slide), within ±:data:`MAX_LENGTH_MM` (a slide
cannot travel beyond the world; a hinge range wider than a turn is a design-validation finding)."""

MAX_JOINT_SPEED = 100_000.0
"""deg/s (hinge: about 280 rev/s, beyond any catalogue motor) or mm/s (slide: 100 m/s)."""
JointSpeed = Annotated[float, Field(ge=-MAX_JOINT_SPEED, le=MAX_JOINT_SPEED, allow_inf_nan=False)]

MAX_EFFORT = 100_000.0
"""N*m (hinge) or N (slide): 100 kN*m or 100 kN, above what motor and actuator catalogues offer for machines
of a benchmark's size (servo motors end near a few kN*m, electric linear actuators near 100 kN)."""
Effort = Annotated[float, Field(ge=-MAX_EFFORT, le=MAX_EFFORT, allow_inf_nan=False)]

MAX_DURATION_S = 120.0
"""The longest simulated scene; a motor's period or stall time beyond it cannot act within a scene."""
Seconds = Annotated[float, Field(ge=-MAX_DURATION_S, le=MAX_DURATION_S, allow_inf_nan=False)]

MAX_FREQUENCY_HZ = 1000.0
"""A servo cannot follow a sine faster than this (controls change at most once per physics step)."""
Frequency = Annotated[float, Field(ge=-MAX_FREQUENCY_HZ, le=MAX_FREQUENCY_HZ, allow_inf_nan=False)]

MAX_SEED = 2**31 - 1
"""Seeds are 31-bit: every benchmark of a dataset (``base_seed`` counting up) must stay within."""
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]

MAX_SCENES = 64
"""Jittered scenes per simulation: 8 by default; 64 already takes minutes per benchmark."""
SceneCount = Annotated[int, Field(ge=1, le=MAX_SCENES)]

MAX_CHECK_INTERVAL_STEPS = 1000
"""Physics steps between checks (and control updates): 2 s at the default timestep."""
CheckInterval = Annotated[int, Field(ge=1, le=MAX_CHECK_INTERVAL_STEPS)]

MAX_QUANTITY = 10_000_000
"""Parts per order a quote is asked for."""
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]

MAX_GENERATOR_VERSION = 9999
"""Generator versions count releases of the families; the bound keeps every benchmark id an identifier."""
GeneratorVersion = Annotated[int, Field(ge=1, le=MAX_GENERATOR_VERSION)]

MAX_PARALLEL = 64
"""Children a dataset runs at once."""
Parallelism = Annotated[int, Field(ge=1, le=MAX_PARALLEL)]

MAX_CHUNK_SIZE = 200
"""Children per dataset run before it continues as new (history stays small)."""
ChunkSize = Annotated[int, Field(ge=1, le=MAX_CHUNK_SIZE)]

MAX_FAMILIES = 64
"""Family names one dataset request may list."""


def normalise_token(v: Any) -> Any:
    """Boundary normalisation for enum-like tokens: trim, lower-case, hyphens and spaces to underscores."""
    if isinstance(v, str):
        return re.sub(r"[\s-]+", "_", v.strip().lower())
    return v


def _lower(v: Any) -> Any:
    """Boundary normalisation for identifiers typed by people: trim and lower-case only."""
    return v.strip().lower() if isinstance(v, str) else v


FamilyName = Annotated[Identifier, BeforeValidator(_lower)]

MAX_BENCHMARK_ID_CHARS = 47
"""A benchmark id leaves room for an evaluation id (``<benchmark id>-<16 hex>``, an :data:`Identifier`): every
id a family (``<family>-s<seed>-v<version>``) or a benchmark script (``script-<16 hex>-v<version>``) makes is
shorter."""
BenchmarkId = Annotated[Identifier, StringConstraints(max_length=MAX_BENCHMARK_ID_CHARS)]


class Model(BaseModel):
    """Base for all contracts: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=BaseModel)


def parse_json(model: type[M], data: bytes | str) -> M:
    """JSON from outside (a workflow's input, a design's metadata, a script's bundle) as a contract, strictly:
    a boolean or a string is not a number, a number or a string is not a boolean, an integer field takes no
    fraction (``1.0``). Enums, identifiers and the other strings are normalised as the model says. Raises
    ``ValidationError`` naming each field."""
    return model.model_validate_json(data, strict=True)


def parse_json_value(model: type[M], value: Any) -> M:
    """:func:`parse_json` of a value already decoded from JSON (or TOML): the same strict rules."""
    return parse_json(model, to_json(value))


# --------------------------------------------------------------------------------------------
# Enums
# --------------------------------------------------------------------------------------------


class MaterialId(StrEnum):
    ALUMINUM_6061 = "aluminum_6061"
    STEEL_CARBON = "steel_carbon"
    ABS = "abs"
    PLA = "pla"
    HDPE = "hdpe"
    HARDWOOD = "hardwood"
    RUBBER_GENERIC = "rubber_generic"


_METHOD_ALIASES = {
    "cnc": "cnc_milling",
    "milling": "cnc_milling",
    "im": "injection_molding",
    "injection_moulding": "injection_molding",
    "3dp": "fdm_printing",
    "fdm": "fdm_printing",
    "3d_printing": "fdm_printing",
}


def normalise_method(v: Any) -> Any:
    """Boundary normalisation for manufacturing methods: :func:`normalise_token`, then the aliases."""
    v = normalise_token(v)
    return _METHOD_ALIASES.get(v, v) if isinstance(v, str) else v


class ManufacturingMethod(StrEnum):
    CNC_MILLING = "cnc_milling"
    INJECTION_MOLDING = "injection_molding"
    FDM_PRINTING = "fdm_printing"


Material = Annotated[MaterialId, BeforeValidator(normalise_token)]
Method = Annotated[ManufacturingMethod, BeforeValidator(normalise_method)]


class PartRole(StrEnum):
    FIXTURE = "fixture"
    REFERENCE = "reference"
    DESIGN = "design"


class Outcome(StrEnum):
    """Exactly one terminal outcome per simulated scene."""

    GOAL_REACHED = "goal_reached"
    FORBIDDEN_ZONE = "forbidden_zone"
    OUT_OF_BOUNDS = "out_of_bounds"
    PHYSICS_INSTABILITY = "physics_instability"
    MOTOR_OVERLOAD = "motor_overload"
    TIMEOUT = "timeout"


class SimulationMode(StrEnum):
    BASELINE = "baseline"  # fixtures and payload only: must be stable and must NOT reach the goal
    REFERENCE = "reference"  # fixtures, payload and the reference solution: must reach the goal
    DESIGN = "design"
    """Fixtures, payload and a submitted design; an evaluation's scene definition holds the design's parts
    where a benchmark holds its reference solution (see :class:`EvaluationScene`)."""


class Proof(StrEnum):
    GEOMETRY = "geometry"
    STABLE = "stable"
    NOT_TRIVIAL = "not_trivial"
    SOLVABLE = "solvable"
    AFFORDABLE = "affordable"


class Verdict(StrEnum):
    PUBLISHED = "published"  # every proof passed
    REJECTED = "rejected"  # a proof failed: a result, with the reason and numbers
    FAILED = "failed"  # generation itself crashed after its retries (dataset entries only)


class ErrorType(StrEnum):
    """Temporal error types (``ApplicationError.type``) raised by mechbench; the deterministic ones are
    non-retryable."""

    INVALID_REQUEST = "InvalidRequest"  # bad input, rejected at the boundary
    INVALID_FAMILY = "InvalidFamily"
    INFEASIBLE_PARAMETERS = "InfeasibleParameters"  # a family cannot turn these parameters into a benchmark
    INVALID_GEOMETRY = (
        "InvalidGeometry"  # geometry that cannot be simulated (e.g. a scene that won't compile)
    )
    INVALID_PART = "InvalidPart"  # a part file that is not a closed solid STEP/STL, or a failed part script
    WORKER_CHILD_CRASHED = "WorkerChildCrashed"  # a heavy job's process died (retryable)
    JOB_STALLED = "JobStalled"  # a heavy job showed no progress for MECHBENCH_STALL_TIMEOUT_S (retryable)
    WEBHOOK_REJECTED = "WebhookRejected"  # the webhook answered 4xx: retrying the same POST will not help
    WEBHOOK_UNAVAILABLE = "WebhookUnavailable"  # unreachable, timed out, 5xx, 408 or 429 (retryable)
    WEBHOOK_REFUSED = "WebhookRefused"  # not sent: an internal address or an unknown target (final)


DETERMINISTIC_ERRORS = (
    ErrorType.INVALID_REQUEST,
    ErrorType.INVALID_FAMILY,
    ErrorType.INFEASIBLE_PARAMETERS,
    ErrorType.INVALID_GEOMETRY,
    ErrorType.INVALID_PART,
    ErrorType.WEBHOOK_REJECTED,
    ErrorType.WEBHOOK_REFUSED,
)


class Severity(StrEnum):
    BLOCKING = "blocking"
    WARNING = "warning"
    INFO = "info"


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


class Box(Model):
    """Axis-aligned box in world millimetres."""

    min_mm: Vec3
    max_mm: Vec3

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if any(lo > hi for lo, hi in zip(self.min_mm, self.max_mm)):
            raise ValueError(f"box min {self.min_mm} must be <= max {self.max_mm} on every axis")
        return self

    @property
    def size_mm(self) -> tuple[float, float, float]:
        return tuple(hi - lo for lo, hi in zip(self.min_mm, self.max_mm))  # type: ignore[return-value]

    @property
    def center_mm(self) -> tuple[float, float, float]:
        return tuple((lo + hi) / 2 for lo, hi in zip(self.min_mm, self.max_mm))  # type: ignore[return-value]

    def contains_point(self, p: Vec3) -> bool:
        return all(lo <= x <= hi for lo, x, hi in zip(self.min_mm, p, self.max_mm))

    def contains_box(self, other: Box) -> bool:
        return self.contains_point(other.min_mm) and self.contains_point(other.max_mm)

    def overlaps(self, other: Box) -> bool:
        """True when the interiors intersect (touching faces do not count)."""
        return all(
            a_lo < b_hi and b_lo < a_hi
            for a_lo, a_hi, b_lo, b_hi in zip(self.min_mm, self.max_mm, other.min_mm, other.max_mm)
        )

    def expanded(self, margin_mm: Vec3) -> Box:
        return Box(
            min_mm=tuple(v - m for v, m in zip(self.min_mm, margin_mm)),  # type: ignore[arg-type]
            max_mm=tuple(v + m for v, m in zip(self.max_mm, margin_mm)),  # type: ignore[arg-type]
        )


class NamedBox(Box):
    name: Identifier


class Zone(Box):
    """A box people give (a benchmark script's goal, build and simulation zones): corners within ±10 m
    (:data:`MAX_LENGTH_MM`). A :class:`Box` measured from geometry is only finite."""

    min_mm: Point
    max_mm: Point


class NamedZone(NamedBox):
    """A named :class:`Zone` (a benchmark script's forbidden zones)."""

    min_mm: Point
    max_mm: Point


# --------------------------------------------------------------------------------------------
# Artifacts
# --------------------------------------------------------------------------------------------


class ArtifactRef(Model):
    """A stored object: large things travel as references, never as payloads."""

    key: str
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size_bytes: int = Field(ge=0)
    media_type: str = "application/octet-stream"


# --------------------------------------------------------------------------------------------
# Benchmark definition
# --------------------------------------------------------------------------------------------


class JointType(StrEnum):
    HINGE = "hinge"
    SLIDE = "slide"


class JointSpec(Model):
    """One degree of freedom between a part and the world.

    Angles are degrees for a hinge, lengths millimetres for a slide; ``range`` is relative to the part's
    placed pose (0 = as placed). Whether the axis is usable (finite, non-zero) and the range ordered is
    checked by design validation, which names the part, not by this model."""

    type: Annotated[JointType, BeforeValidator(normalise_token)]
    axis: Direction
    """Direction of the hinge axis or of the slide, world frame; normalised by the scene compiler."""
    anchor_mm: Point | None = None
    """A point on a hinge axis, world millimetres after placement. Default: the part's bounding-box centre."""
    range: tuple[JointCoordinate, JointCoordinate] | None = None
    """Hard stops ``(low, high)``: degrees (hinge) or millimetres (slide). Default: unlimited."""
    damping: float = Field(default=0.0, ge=0, le=1e6)
    """Viscous damping: N*m*s/rad (hinge) or N*s/m (slide)."""


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
    max_effort: Effort
    """The motor's torque (N*m) or force (N) limit; must be > 0."""
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


class PartSpec(Model):
    """One rigid part. Geometry is stored in world millimetres (the CAD frame is kept).

    A part with a ``joint`` moves about it (``fixed`` is then ignored); without one it is mounted to the
    world (``fixed``) or free. A ``motor`` drives the joint."""

    label: Identifier
    role: PartRole
    material: Material
    method: Method | None = None
    fixed: bool = True
    volume_mm3: float = Field(gt=0)
    mass_kg: float = Field(gt=0)
    bbox: Box
    step: ArtifactRef | None = None
    joint: JointSpec | None = None
    motor: MotorSpec | None = None


class Payload(Model):
    label: Identifier = "payload"
    shape: Literal["sphere"] = "sphere"
    radius_mm: float = Field(gt=0, le=500)
    material: Material
    start_mm: Point
    jitter_mm: Point = (0.0, 0.0, 0.0)

    @model_validator(mode="after")
    def _jitter_non_negative(self) -> Payload:
        if any(j < 0 for j in self.jitter_mm):
            raise ValueError("jitter_mm must be >= 0 on every axis")
        return self

    @property
    def envelope(self) -> Box:
        """Every position the payload can occupy at spawn, including its radius and jitter."""
        m = tuple(j + self.radius_mm for j in self.jitter_mm)
        return Box(min_mm=self.start_mm, max_mm=self.start_mm).expanded(m)  # type: ignore[arg-type]


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


class Caps(Model):
    max_unit_cost_usd: float = Field(gt=0)
    max_weight_kg: float = Field(gt=0)
    headroom_factor: float = Field(ge=1)
    reference_unit_cost_usd: float = Field(ge=0)
    reference_weight_kg: float = Field(ge=0)
    target_quantity: int = Field(default=1, ge=1)
    cost_basis: str = Field(description="how reference_unit_cost_usd was obtained")


class BenchmarkArtifacts(Model):
    collision: ArtifactRef
    """npz of convex pieces per part label (vertices in mm, faces), fed to the scene compiler."""
    scene_glb: ArtifactRef | None = None
    """fixtures, payload and reference solution for viewing."""
    thumbnail: ArtifactRef | None = None
    """A 320x240 PNG of the scene (fixtures, reference solution, payload at its start) framing the build zone,
    the goal and the spawn; rendered when the geometry proof passes; none without GL or for benchmarks built
    before thumbnails existed."""


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
    goal_zone: Box
    forbidden_zones: list[NamedBox] = Field(default_factory=list)
    build_zone: Box
    simulation_bounds: Box
    simulation: SimulationSettings = SimulationSettings()
    reference_solution: list[PartSpec] = Field(default_factory=list)
    caps: Caps | None = None
    artifacts: BenchmarkArtifacts

    @model_validator(mode="after")
    def _unique_labels(self) -> BenchmarkDefinition:
        labels = [p.label for p in self.fixtures + self.reference_solution] + [self.payload.label]
        dup = sorted({lbl for lbl in labels if labels.count(lbl) > 1})
        if dup:
            raise ValueError(f"part labels must be unique; duplicated: {dup}")
        return self


# --------------------------------------------------------------------------------------------
# Proof reports
# --------------------------------------------------------------------------------------------


class Finding(Model):
    rule: str
    severity: Severity = Severity.BLOCKING
    message: str
    parts: list[str] = Field(default_factory=list)
    measured: float | None = None
    limit: float | None = None
    unit: str | None = None


class GeometryReport(Model):
    valid: bool
    findings: list[Finding] = Field(default_factory=list)
    n_solids: int = 0
    candidate_pairs: int = 0
    exact_checks: int = 0


class SceneResult(Model):
    scene_index: int = Field(ge=0)
    jitter_mm: Vec3
    outcome: Outcome
    time_s: float = Field(ge=0)
    steps: int = Field(ge=0)
    final_payload_mm: Vec3 | None = None
    max_payload_speed_m_s: float = 0.0
    min_goal_distance_mm: float | None = None
    detail: str = ""


class SimulationReport(Model):
    mode: SimulationMode
    results: list[SceneResult]
    success_share: float = Field(ge=0, le=1)
    outcome_counts: dict[str, int] = Field(default_factory=dict)
    steps_per_s: float = 0.0
    trajectory: ArtifactRef | None = None
    compile_s: float | None = None
    """Seconds spent compiling the MuJoCo scene."""
    simulate_s: float | None = None
    """Seconds spent stepping the scenes run by the attempt that finished (resumed scenes excluded)."""
    resumed_scenes: int = Field(default=0, ge=0)
    """Scenes finished by an earlier attempt (from its last heartbeat) and not run again."""


class ProofResult(Model):
    proof: Proof
    passed: bool
    detail: str
    measured: float | None = None
    limit: float | None = None


CEILING_FIELDS = ("max_reference_unit_cost_usd", "max_reference_weight_kg", "caps_headroom", "cost_model")
"""The parts of a :class:`ProofBasis` that only verdicts which reached the affordability proof depend on."""


class ProofBasis(Model):
    """What a verdict depends on besides family, seed and generator version. A stored verdict is reused
    only when the new request's basis matches; ceilings count only for verdicts that reached them."""

    n_scenes: int | None = None
    check_interval_steps: int | None = None
    own_n_scenes: int | None = None
    own_check_interval_steps: int | None = None
    """The benchmark's own scene count and check interval (its family's or its script's simulation settings):
    what a request that names none asks for. Unset in verdicts recorded before they were kept and in
    rejections before the benchmark was built; the global defaults (:class:`SimulationSettings`) stand in."""
    max_reference_unit_cost_usd: float | None = None
    max_reference_weight_kg: float | None = None
    caps_headroom: float | None = None
    cost_model: str | None = None
    """How the reference solution was priced (catalogue version and target quantity); verdicts priced by
    another model (or by the material-only estimate of generator version 1's first release) are re-proven."""

    @classmethod
    def asked(
        cls, n_scenes: int | None, check_interval_steps: int | None, own: SimulationSettings | None = None
    ) -> ProofBasis:
        """The scene count and check interval of a request (None: the benchmark's own), for a benchmark whose
        own simulation settings are ``own`` (None: not built yet), with ``own`` recorded."""
        base = cls()
        if own is not None:
            base = cls(own_n_scenes=own.n_scenes, own_check_interval_steps=own.check_interval_steps)
        n, ci = base.scenes_for(n_scenes, check_interval_steps)
        return base.model_copy(update={"n_scenes": n, "check_interval_steps": ci})

    def scenes_for(self, n_scenes: int | None, check_interval_steps: int | None) -> tuple[int, int]:
        """The scene count and check interval a request asks of this benchmark (None: the benchmark's own).
        The one place the defaults are resolved: the lookup, the workflow and the build agree through it."""
        fallback = SimulationSettings()
        own_n = self.own_n_scenes if self.own_n_scenes is not None else fallback.n_scenes
        own_ci = (
            self.own_check_interval_steps
            if self.own_check_interval_steps is not None
            else fallback.check_interval_steps
        )
        return (
            n_scenes if n_scenes is not None else own_n,
            check_interval_steps if check_interval_steps is not None else own_ci,
        )

    def with_ceilings(self, other: ProofBasis) -> ProofBasis:
        """This basis with the affordability ceilings, headroom and cost model of ``other``."""
        return self.model_copy(update=other.model_dump(include=set(CEILING_FIELDS)))

    def covers(self, wanted: ProofBasis) -> bool:
        """Whether a verdict proven on this basis answers a request for ``wanted``."""
        if (self.n_scenes, self.check_interval_steps) != (wanted.n_scenes, wanted.check_interval_steps):
            return False
        if self.max_reference_unit_cost_usd is None:  # rejected before the affordability proof
            return True
        return (
            self.max_reference_unit_cost_usd,
            self.max_reference_weight_kg,
            self.caps_headroom,
            self.cost_model,
        ) == (
            wanted.max_reference_unit_cost_usd,
            wanted.max_reference_weight_kg,
            wanted.caps_headroom,
            wanted.cost_model,
        )


class BenchmarkResult(Model):
    benchmark_id: Identifier
    family: Identifier
    seed: int
    generator_version: int
    verdict: Verdict
    failed_proof: Proof | None = None
    reason: str | None = None
    proofs: list[ProofResult] = Field(default_factory=list)
    caps: Caps | None = None
    definition: ArtifactRef | None = None
    reused: bool = False
    basis: ProofBasis | None = None
    trajectories: dict[str, ArtifactRef] = Field(default_factory=dict)
    """The payload trajectory of scene 0 per simulation mode (``baseline``, ``reference``), by sha256 and size
    like every other artifact; empty when the benchmark was rejected before simulating."""


# --------------------------------------------------------------------------------------------
# Workflow requests and results
# --------------------------------------------------------------------------------------------


class GenerateBenchmarkRequest(Model):
    family: FamilyName | None = None
    """A built-in family (``mechbench families``); or give ``script`` instead."""
    script: PartSource | None = None
    """A benchmark authored as a build123d script (``build()`` returns fixtures and objectives); it goes
    through the same proofs as a family's benchmark. ``family`` then stays empty and ``seed`` is 0."""
    seed: Seed = 0
    n_scenes: SceneCount | None = None
    check_interval_steps: CheckInterval | None = None
    dataset_id: Identifier | None = None
    generator_version: GeneratorVersion | None = None
    """Default: the worker's current version (recorded in history at the first step)."""

    @model_validator(mode="after")
    def _family_or_script(self) -> GenerateBenchmarkRequest:
        if (self.family is None) == (self.script is None):
            raise ValueError(
                "give exactly one of 'family' (a built-in family) or 'script' (a benchmark script)"
            )
        if self.script is not None and self.script.resolved_format != "script":
            raise ValueError("script: a benchmark script must be a .py build123d script")
        if self.script is not None and self.seed != 0:
            raise ValueError("seed: a benchmark script has no seed (its id is its content hash); leave it 0")
        return self


class DatasetCursor(Model):
    """Where a dataset run stands; handed to the next run when GenerateDataset continues as new."""

    dataset_id: Identifier
    generator_version: GeneratorVersion
    chain: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
    """Short hash of the workflow id: manifest parts of this chain of runs live under it."""
    next_index: int = Field(default=0, ge=0)
    part_count: int = Field(default=0, ge=0)
    published: int = Field(default=0, ge=0)
    rejected: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)


def _webhook_address(value: str) -> str:
    if webhooks.is_target_name(value):
        return value
    problem = webhooks.url_form_problem(value)
    if problem:
        raise ValueError(f"webhook: {problem} (or the name of a webhook target configured on the worker)")
    return value


def _request_webhook(value: str) -> str:
    _webhook_address(value)
    problem = webhooks.request_secret_problem(value)
    if problem and not _recorded_before_the_secret_rule():
        raise ValueError(f"webhook: {problem}")
    return value


def _recorded_before_the_secret_rule() -> bool:
    """A workflow replaying a history recorded before webhook URLs with a query string were refused, or a
    dataset run continued from one, keeps its URL: the history replays and the work ends as it began. A new
    workflow records the patch marker and refuses the URL (``InvalidRequest``)."""
    from temporalio import workflow

    if not workflow.in_workflow():
        return False
    return workflow.info().continued_run_id is not None or not workflow.patched(webhooks.PATCH_NO_SECRET_URLS)


WebhookUrl = Annotated[str, AfterValidator(_request_webhook)]
"""A request's receiver of its completion notification: the name of a webhook target configured on the
worker (``MECHBENCH_WEBHOOK_TARGETS``; its URL and token never enter the history), or an http(s) URL that
holds no secret (no user, password, query string or fragment). Rules: :mod:`shared.webhooks`."""

WebhookAddress = Annotated[str, AfterValidator(_webhook_address)]
"""A target name or a URL, as the ``notify_webhook`` activity receives it (a URL recorded before query
strings were refused still passes, so old histories replay and in-flight notifications are sent)."""


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path`` of a URL: what logs and errors may show (no query, no fragment)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class DatasetRequest(Model):
    families: list[FamilyName] = Field(min_length=1, max_length=MAX_FAMILIES)
    count: int = Field(ge=1)
    """At most the worker's ``MECHBENCH_MAX_DATASET_COUNT``, and at most what the seeds allow (see
    ``base_seed``)."""
    base_seed: Seed = Field(default=0, validate_default=True)
    """Item ``i`` gets seed ``base_seed + i // len(families)``; every one of them must be a :data:`Seed`."""
    dataset_id: Identifier | None = None
    max_parallel: Parallelism = 4
    chunk_size: ChunkSize = 100
    """Children per workflow run; the run continues as new after each chunk to keep history small."""
    n_scenes: SceneCount | None = None
    check_interval_steps: CheckInterval | None = None
    resume: DatasetCursor | None = None
    """Set by the workflow itself when it continues as new; leave empty."""
    webhook: WebhookUrl | None = None
    """POSTed the dataset's result (counts and manifest reference) when the dataset completes."""

    @field_validator("base_seed")
    @classmethod
    def _every_seed_fits(cls, base_seed: int, info: ValidationInfo) -> int:
        """The seeds the dataset derives are checked here, so no child can fail on its seed."""
        families, count = info.data.get("families"), info.data.get("count")
        if families and count:
            last = base_seed + (count - 1) // len(families)
            if last > MAX_SEED:
                raise ValueError(
                    f"{count} benchmarks over {len(families)} famil{'y' if len(families) == 1 else 'ies'} from "
                    f"base_seed {base_seed} take seeds "
                    f"up to {last}; seeds end at {MAX_SEED} (lower base_seed or count)"
                )
        return base_seed

    @model_validator(mode="after")
    def _distinct_families(self) -> DatasetRequest:
        dup = sorted({f for f in self.families if self.families.count(f) > 1})
        if dup:
            raise ValueError(f"families: listed more than once: {dup}")
        return self


class WebhookRequest(Model):
    """A completion notification to POST (the ``notify_webhook`` activity)."""

    url: WebhookAddress
    """The request's ``webhook``: a target name or a URL."""
    event: Literal["dataset.completed", "evaluation.completed", "analysis.completed"]
    workflow_id: str
    run_id: str
    result: dict[str, Any]


class WebhookDelivery(Model):
    url: str
    """``target <name>``, or the request's URL without a query string."""
    status: int


class DatasetEntry(Model):
    index: int
    benchmark_id: Identifier
    family: Identifier
    seed: int
    verdict: Verdict
    failed_proof: Proof | None = None
    reason: str | None = None
    max_unit_cost_usd: float | None = None
    max_weight_kg: float | None = None
    success_share: float | None = None
    reused: bool = False


class DatasetResult(Model):
    """Counts and the manifest reference; the entries live in the manifest (payloads stay small)."""

    dataset_id: Identifier
    count: int
    published: int
    rejected: int
    failed: int = 0
    manifest: ArtifactRef


class DatasetManifest(Model):
    """``datasets/<id>/manifest.json``: the dataset's request and one entry per benchmark."""

    dataset_id: Identifier
    request: DatasetRequest
    generator_version: int
    entries: list[DatasetEntry]


class DatasetProgress(Model):
    dataset_id: str
    total: int
    completed: int
    published: int
    rejected: int
    failed: int = 0
    running: list[str] = Field(default_factory=list)
    stage: str = "starting"


class BenchmarkProgress(Model):
    benchmark_id: str
    stage: str
    detail: str = ""


# --------------------------------------------------------------------------------------------
# Activity payloads
# --------------------------------------------------------------------------------------------


class PrepareDatasetRequest(Model):
    request: DatasetRequest


class PreparedDataset(Model):
    dataset_id: Identifier
    generator_version: int


class LookupRequest(Model):
    family: Identifier
    seed: int
    generator_version: int | None = None
    n_scenes: int | None = None
    check_interval_steps: int | None = None
    script: PartSource | None = None
    """A benchmark script: staged into the store by the lookup; its hash is the benchmark's id."""


class LookupResult(Model):
    """The id and generator version this benchmark is generated at (resolved by the worker, recorded in
    history), and its stored verdict when one proven on the same basis exists."""

    benchmark_id: Identifier
    generator_version: int
    result: BenchmarkResult | None = None
    script: StagedPart | None = None
    not_reused: str | None = None
    """Why a stored verdict was not reused (proven on another basis, or which artifact is missing or damaged:
    the benchmark is then proven again, which repairs it); None when there was none or it was reused."""


class BuildRequest(Model):
    benchmark_id: Identifier
    family: Identifier
    seed: int
    generator_version: int
    n_scenes: int | None = None
    check_interval_steps: int | None = None
    script: StagedPart | None = None
    """Build from this benchmark script (run in the sandbox) instead of the family."""


class BuildResult(Model):
    definition: BenchmarkDefinition
    geometry: GeometryReport
    """Validation of the geometry just built (same child process, shapes still in memory)."""
    basis: ProofBasis | None = None
    """The scene count and check interval this benchmark is proven on, and its own (its family's or script's)."""


class SimulateRequest(Model):
    definition: BenchmarkDefinition
    mode: SimulationMode
    n_scenes: SceneCount
    evaluation_id: Identifier | None = None
    """Set for a design evaluation: its evidence is stored under the evaluation, not the benchmark."""


class PublishRequest(Model):
    definition: BenchmarkDefinition | None
    result: BenchmarkResult


class ManifestPartRequest(Model):
    dataset_id: Identifier
    chain: str
    part_index: int = Field(ge=0)
    entries: list[DatasetEntry]


class FinalizeDatasetRequest(Model):
    dataset_id: Identifier
    request: DatasetRequest
    chain: str
    part_count: int = Field(ge=1)


class AffordabilityRequest(Model):
    definition: BenchmarkDefinition


class AffordabilityResult(Model):
    proof: ProofResult
    caps: Caps | None = None
    basis: ProofBasis
    """The ceilings and headroom the proof used."""


class HeavyProgress(Model):
    """Heartbeat details of a heavy activity; a retry resumes from ``completed``."""

    stage: str
    done: int = 0
    total: int = 0
    detail: str = ""
    completed: list[SceneResult] = Field(default_factory=list)
    steps: int = 0
    """Simulation steps this attempt has run so far (finished and running scenes), reported every few seconds."""


class HeavyJob(Model):
    """Envelope sent to a supervised child process."""

    job: str
    input: dict[str, Any]
    resume: HeavyProgress | None = None
    context: dict[str, str] = Field(default_factory=dict)
    """Temporal context (workflow id, run id, activity type, attempt) bound to the child's log lines."""


# --------------------------------------------------------------------------------------------
# Manufacturing analysis
# --------------------------------------------------------------------------------------------

PartFormat = Literal["step", "stl", "script"]
PART_SUFFIXES: dict[str, PartFormat] = {".step": "step", ".stp": "step", ".stl": "stl", ".py": "script"}
"""File name suffix -> part format (case-insensitive); the one table the CLI and the workers use."""

DEFAULT_QUANTITY_LADDER = (1, 10, 100, 1000, 10000)
MAX_LADDER_RUNGS = 12


_SLASH_LOOKALIKES = frozenset("\u2215\u2044\uff0f\uff3c\u29f8\u29f9")


def _odd_name_char(c: str) -> bool:
    """Characters a file name shown to people must not hold: controls (NUL included), invisible format
    characters (bidi overrides, zero-width), surrogates, private use, line breaks and slash look-alikes.
    Letters of any script, combining marks and emoji are fine."""
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") or c in _SLASH_LOOKALIKES


def check_file_name(name: str) -> str:
    """A bare file name as uploaded (shown in reports, never used as a path): no directories, no ``.``/``..``,
    no control or invisible characters. Raises ``ValueError``."""
    if "/" in name or "\\" in name or name in (".", "..") or any(_odd_name_char(c) for c in name):
        raise ValueError("filename: a bare file name, without directories or control characters")
    return name


class PartSource(Model):
    """Where the part to analyse comes from: an object already in the store (the CLI uploads there), or a
    file path readable by the worker (under one of its ``MECHBENCH_PART_ROOTS``)."""

    artifact: ArtifactRef | None = None
    path: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    format: PartFormat | None = None
    """Default: from the file name's suffix (.step/.stp, .stl, .py)."""
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    """Original file name, for the report (no directories)."""

    @model_validator(mode="after")
    def _one_source(self) -> PartSource:
        if (self.artifact is None) == (self.path is None):
            raise ValueError(
                "give exactly one of 'artifact' (a stored object) or 'path' (a file on the worker)"
            )
        if self.path is not None and "\x00" in self.path:
            raise ValueError("path: must not contain NUL")
        if self.filename is not None:
            check_file_name(self.filename)
        if self.format is None and self.suffix_format() is None:
            raise ValueError(
                "format: cannot tell the part format from the name; give 'format' (step, stl or script) "
                f"or use one of the suffixes {sorted(PART_SUFFIXES)}"
            )
        return self

    def suffix_format(self) -> PartFormat | None:
        name = self.filename or self.path or (self.artifact.key if self.artifact else "")
        dot = name.rfind(".")
        return PART_SUFFIXES.get(name[dot:].lower()) if dot >= 0 else None

    @property
    def resolved_format(self) -> PartFormat:
        fmt = self.format or self.suffix_format()
        assert fmt is not None  # checked by the validator
        return fmt


class MaterialPrice(Model):
    price_usd_per_kg: float = Field(gt=0, le=100_000)
    source: str = "user-supplied price table"


class ProcessRates(Model):
    """User overrides of a process's rates; unset fields keep the catalogue value."""

    machine_rate_usd_per_h: float | None = Field(default=None, gt=0, le=10_000)
    labour_rate_usd_per_h: float | None = Field(default=None, gt=0, le=10_000)
    setup_usd: float | None = Field(default=None, ge=0, le=1_000_000)
    margin: float | None = Field(default=None, ge=0, lt=1)
    source: str = "user-supplied price table"


class PriceTable(Model):
    """A user's own prices, applied over the catalogue (``mechbench analyze --prices FILE``)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "user"
    materials: dict[Material, MaterialPrice] = Field(default_factory=dict)
    processes: dict[Method, ProcessRates] = Field(default_factory=dict)


class AnalyzeRequest(Model):
    part: PartSource
    method: Method
    material: Material
    quantity: Quantity
    ladder: list[Quantity] | None = Field(default=None, max_length=MAX_LADDER_RUNGS)
    """Quantities to price besides the requested one; default 1, 10, 100, 1000, 10000."""
    price_table: PriceTable | None = None
    alternatives: bool = True
    webhook: WebhookUrl | None = None
    """POSTed the report when the analysis completes."""
    """Also price the other methods that take this material, at the same quantity (a separate section)."""


class DfmFinding(Model):
    rule_id: str
    """``<METHOD>.<RULE>``, e.g. ``CNC.INTERNAL_CORNER_RADIUS``; stable, documented in the rule table."""
    severity: Severity
    title: str
    measured: float | None = None
    limit: float | None = None
    unit: str | None = None
    face_ids: list[int] = Field(default_factory=list)
    """B-rep face indices in ``Shape.faces()`` order (STL: planar patch indices); at most 50 listed."""
    point_mm: Vec3 | None = None
    """One point on the offending geometry."""
    area_mm2: float | None = None
    why: str
    fix: str


class QuoteLine(Model):
    item: str
    usd: float = Field(ge=0)
    per: Literal["part", "order"]
    """``order`` lines (setup, programming, tooling) are spread over the quantity."""
    basis: str
    """Formula and inputs, with the source of each rate."""
    band_pct: float = Field(ge=0)
    """± uncertainty of this number, in percent."""


class Quote(Model):
    method: Method
    material: Material
    quantity: int = Field(ge=1)
    lines: list[QuoteLine]
    unit_cost_usd: float = Field(ge=0)
    total_cost_usd: float = Field(ge=0)
    band_pct: float = Field(ge=0)
    unit_cost_low_usd: float = Field(ge=0)
    unit_cost_high_usd: float = Field(ge=0)
    lead_time_days: float = Field(ge=0)
    lead_time_basis: str
    parameters: dict[str, float] = Field(default_factory=dict)
    """Model quantities behind the numbers (cycle time, cavities, setups, machine hours...)."""
    caveats: list[str] = Field(default_factory=list)


class LadderRung(Model):
    quantity: int = Field(ge=1)
    unit_cost_usd: float
    total_cost_usd: float
    band_pct: float
    lead_time_days: float


class MethodAlternative(Model):
    method: Method
    available: bool
    """False when the method does not take the requested material."""
    manufacturable: bool = False
    blocking: list[str] = Field(default_factory=list)
    """Rule ids of blocking findings for this method."""
    unit_cost_usd: float | None = None
    total_cost_usd: float | None = None
    band_pct: float | None = None
    lead_time_days: float | None = None
    note: str = ""


class PartSummary(Model):
    sha256: str
    format: PartFormat
    filename: str | None = None
    volume_mm3: float
    area_mm2: float
    bbox: Box
    faces: int
    triangles: int
    has_brep: bool


class ManufacturingReport(Model):
    analysis_id: str
    part: PartSummary
    method: Method
    material: Material
    quantity: int
    manufacturable: bool
    """False when any finding is blocking: the quote then prices the part as if the findings were fixed."""
    findings: list[DfmFinding]
    quote: Quote
    ladder: list[LadderRung]
    alternatives: list[MethodAlternative] = Field(default_factory=list)
    catalog: str
    """Catalogue version and the user price table applied, if any."""
    facts: ArtifactRef | None = None
    report: ArtifactRef | None = None
    facts_cached: bool = False


class StagedPart(Model):
    """A part file copied into the store (content-addressed); a script's is replaced by the STEP it built."""

    artifact: ArtifactRef
    format: PartFormat
    filename: str | None = None


class StagePartRequest(Model):
    source: PartSource
    method: Method
    material: Material


class AnalysisProgress(Model):
    stage: str
    detail: str = ""


class FactsRequest(Model):
    part: StagedPart


class FactsResult(Model):
    facts: ArtifactRef
    cached: bool = False


class PriceRequest(Model):
    analysis_id: str
    request: AnalyzeRequest
    part: StagedPart
    facts: FactsResult


# --------------------------------------------------------------------------------------------
# Design evaluation
# --------------------------------------------------------------------------------------------


class Placement(Model):
    """Where a part goes in the benchmark's world: rotated about its own origin by ``rotation_deg``
    (build123d ``Rot(x, y, z)``), then moved by ``position_mm`` (within ±10 m, :data:`MAX_LENGTH_MM`)."""

    position_mm: Point = (0.0, 0.0, 0.0)
    rotation_deg: Rotation = (0.0, 0.0, 0.0)


class DesignPartMeta(Model):
    """What a design says about one of its parts; the same fields whether the part comes from a design
    script (``build()`` returns dicts with a ``shape`` and these keys) or a file (JSON metadata)."""

    label: Identifier
    material: Material
    method: Method
    placement: Placement = Placement()
    fixed: bool = True
    """Without a joint: mounted to the world (true) or a free body (false)."""
    joint: JointSpec | None = None
    motor: MotorSpec | None = None


class DesignPartFile(Model):
    """One part of a design given as a STEP or STL file, with its metadata (:class:`DesignPartMeta`'s
    fields). The metadata is checked by design validation, so a bad value becomes a finding that names
    the part instead of a rejected request."""

    source: PartSource
    metadata: dict[str, Any]


MAX_DESIGN_PARTS = 32


class DesignSubmission(Model):
    """A design: a build123d script whose ``build()`` returns labelled parts with metadata, or a set of
    part files with metadata."""

    script: PartSource | None = None
    parts: list[DesignPartFile] | None = Field(default=None, max_length=MAX_DESIGN_PARTS)

    @model_validator(mode="after")
    def _one_kind(self) -> DesignSubmission:
        if (self.script is None) == (self.parts is None):
            raise ValueError("give exactly one of 'script' (a design script) or 'parts' (part files)")
        if self.script is not None and self.script.resolved_format != "script":
            raise ValueError("script: a design script must be a .py build123d script")
        for i, p in enumerate(self.parts or []):
            if p.source.resolved_format == "script":
                raise ValueError(f"parts.{i}: a part file must be STEP or STL (a script goes in 'script')")
        return self


class EvaluateRequest(Model):
    benchmark_id: BenchmarkId
    """A published benchmark."""
    design: DesignSubmission
    n_scenes: SceneCount | None = None
    """Jittered scenes to run; default: the benchmark's own count."""
    evidence: bool = True
    """Store a trajectory, a frame strip, an animation and a picture of a representative scene."""
    webhook: WebhookUrl | None = None
    """POSTed the evaluation's result when it completes (also when a stored result is reused)."""


class EvaluationVerdict(StrEnum):
    PASSED = "passed"
    """Valid, reached the goal in the required share of scenes, within the caps and manufacturable."""
    FAILED = "failed"
    """Valid, but below the required share, over a cap or not manufacturable (``reason`` says which)."""
    INVALID = "invalid"
    """The design could not be simulated: validation findings name the offending parts."""


class StagedDesignPart(Model):
    part: StagedPart
    metadata: dict[str, Any]


class StagedDesign(Model):
    """A design whose files are in the store; ``design_sha256`` hashes everything that defines it. Make one
    with :meth:`of`, which computes the hash."""

    design_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    script: StagedPart | None = None
    parts: list[StagedDesignPart] = Field(default_factory=list)

    @classmethod
    def of(
        cls, script: StagedPart | None = None, parts: list[StagedDesignPart] | None = None
    ) -> StagedDesign:
        """The staged design of a script, or of part files with their metadata, with its hash: the script's
        bytes, or each part file's bytes with its format and metadata, in order. Where the files came from and
        what they were called does not count."""
        if script is not None:
            basis: object = {"script": script.artifact.sha256}
        else:
            basis = {
                "parts": [
                    {"sha256": p.part.artifact.sha256, "format": p.part.format, "metadata": p.metadata}
                    for p in parts or []
                ]
            }
        digest = hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()
        return cls(design_sha256=digest, script=script, parts=parts or [])


class StageDesignRequest(Model):
    design: DesignSubmission
    benchmark_id: Identifier | None = None
    """Checked to be published before any file is written."""


class EvaluationLookupRequest(Model):
    benchmark_id: Identifier
    design_sha256: str
    n_scenes: int | None = None
    evidence: bool = True


class DesignPartCost(Model):
    label: Identifier
    method: Method
    material: Material
    mass_kg: float
    unit_cost_usd: float
    manufacturable: bool
    blocking: list[str] = Field(default_factory=list)
    """Rule ids of blocking DFM findings."""


class DesignCost(Model):
    """The design priced by the manufacturing engine at the benchmark's target quantity."""

    quantity: int
    unit_cost_usd: float
    weight_kg: float
    max_unit_cost_usd: float
    max_weight_kg: float
    within_cost_cap: bool
    within_weight_cap: bool
    manufacturable: bool
    parts: list[DesignPartCost]
    basis: str
    """Catalogue version and quantity the parts were quoted at."""


class Evidence(Model):
    scene_index: int = Field(ge=0)
    """The representative scene: the first that reached the goal, else scene 0."""
    outcome: Outcome
    trajectory: ArtifactRef
    """npz: ``t_s`` (K,), ``qpos`` (K, nq), body names and the payload's path (see the README)."""
    frames: ArtifactRef | None = None
    """PNG frame strip of the scene."""
    animation: ArtifactRef | None = None
    """Animated image (WebP) of the scene."""
    picture: ArtifactRef | None = None
    """PNG of the design in the scene at t = 0."""
    render_error: str | None = None
    """Why pictures are missing, when rendering is unavailable on the worker."""
    evidence_s: float = 0.0
    """Seconds spent replaying the scene, rendering and storing."""


class EvaluationResult(Model):
    evaluation_id: Identifier
    benchmark_id: Identifier
    design_sha256: str
    verdict: EvaluationVerdict
    reason: str
    findings: list[Finding] = Field(default_factory=list)
    """Validation findings (blocking ones make the design invalid), each naming the parts involved."""
    parts: list[PartSpec] = Field(default_factory=list)
    simulation: SimulationReport | None = None
    success_share: float | None = None
    required_success_share: float | None = None
    meets_required_share: bool | None = None
    cost: DesignCost | None = None
    evidence: Evidence | None = None
    timings_s: dict[str, float] = Field(default_factory=dict)
    """Seconds per stage: build, compile, simulate, evidence (of the attempts that produced the result)."""
    result: ArtifactRef | None = None
    reused: bool = False


class EvaluationLookup(Model):
    evaluation_id: Identifier
    definition: BenchmarkDefinition
    """The published benchmark, with its caps."""
    result: EvaluationResult | None = None


class BuildDesignRequest(Model):
    evaluation_id: Identifier
    definition: BenchmarkDefinition
    design: StagedDesign


class BuiltDesign(Model):
    valid: bool
    findings: list[Finding] = Field(default_factory=list)
    parts: list[PartSpec] = Field(default_factory=list)
    scene: BenchmarkDefinition | None = None
    """The benchmark with the design's parts where its reference solution was, and a collision pack holding
    fixtures and design parts: what the simulation runs (mode ``design``)."""
    facts: dict[str, ArtifactRef] = Field(default_factory=dict)
    """Geometry facts of each part (by label) for the manufacturing engine."""
    build_s: float = 0.0


class PriceDesignRequest(Model):
    definition: BenchmarkDefinition
    parts: list[PartSpec]
    facts: dict[str, ArtifactRef]


class EvidenceRequest(Model):
    evaluation_id: Identifier
    scene: BenchmarkDefinition
    scene_index: int = Field(ge=0)
    outcome: Outcome


class RecordEvaluationRequest(Model):
    result: EvaluationResult


class DiscardEvaluationRequest(Model):
    """Remove what an evaluation that was cancelled or failed wrote under its prefix (kept when a result exists)."""

    evaluation_id: Identifier


class EvaluationProgress(Model):
    evaluation_id: str = ""
    stage: str
    detail: str = ""
