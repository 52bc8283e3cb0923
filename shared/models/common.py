"""Primitives every contract shares: the model base, identifiers, the bounded field types that carry each bound
once, the boundary normalisation of what people type, and the enums used across domains."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import to_json

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

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest in lower-case hex: a stored object's, or a design's."""

# Signs of what is counted or measured (results, reports, quotes), each carried once here.

Count = Annotated[int, Field(ge=0)]
"""A number of things (bytes, steps, scenes, benchmarks), or a 0-based position among them."""
PositiveCount = Annotated[int, Field(ge=1)]
"""At least one: a dataset's benchmarks or manifest parts, a quantity a quote prices."""
Amount = Annotated[float, Field(ge=0)]
"""A measured amount that cannot be negative: a price in dollars, a weight, a time, an uncertainty band."""
PositiveAmount = Annotated[float, Field(gt=0)]
"""An amount that must be above zero: a part's volume and mass, a benchmark's caps."""

# Bounds of the physical quantities people give (requests, design metadata, benchmark scripts). Each bound is
# carried once, by its annotated type; the fuzzer (faults/) reads the bounds from these types. Signs
# and orderings that design validation reports as findings (a non-positive max_effort, a range low >= high)
# stay inside the bounds on purpose, so they keep their own rule and message.

MAX_LENGTH_MM = 10_000.0
"""±10 m: positions and lengths in a benchmark's world. Ten times the largest world a family builds (well under
a metre across), and far inside where float64 millimetres keep sub-micrometre precision; a placement beyond it
is a typo or an attack, never a design."""
MillimetreLength = Annotated[float, Field(ge=-MAX_LENGTH_MM, le=MAX_LENGTH_MM, allow_inf_nan=False)]
Point = tuple[MillimetreLength, MillimetreLength, MillimetreLength]
"""A position in world millimetres, each coordinate within ±:data:`MAX_LENGTH_MM`."""

MAX_PAYLOAD_MM = 500.0
"""Half a metre: the largest radius, half-length or half-size of a payload (a family's payloads are a few
centimetres; a world is well under a metre across)."""
MAX_DESIGN_PARTS = 32
"""Parts one design may have (and so the most motors a benchmark's ``max_motors`` may allow)."""
MAX_PAYLOADS = 4
"""Payloads one benchmark may spawn (its ``payload`` and up to three ``extra_payloads``)."""
PayloadLength = Annotated[float, Field(gt=0, le=MAX_PAYLOAD_MM, allow_inf_nan=False)]
"""A payload's radius, half-length or half-size in millimetres: above zero, at most :data:`MAX_PAYLOAD_MM`."""

MAX_ANGLE_DEG = 3600.0
"""±10 turns: rotations and phases in degrees. Every orientation is reached within one turn."""
Degrees = Annotated[float, Field(ge=-MAX_ANGLE_DEG, le=MAX_ANGLE_DEG, allow_inf_nan=False)]
Rotation = tuple[Degrees, Degrees, Degrees]

Direction = tuple[MillimetreLength, MillimetreLength, MillimetreLength]
"""An axis: only the direction counts (the scene compiler normalises it); components are bounded like
lengths, so its norm is always a finite number."""

JointCoordinate = MillimetreLength
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

# The certification proofs (random designs, perturbed references): their bounds and the sampler's versions.
SAMPLER_VERSION = 3
"""The random-design sampler this code draws with (``engines.certify.sampler``); bump it when what it draws
changes, so verdicts proven with another sampler are proven again. Version 2: motors are catalogue items
(``shared/data/cots.toml``), within the item's limits and priced with the design. Version 3: a slide stays
within its linear motor's stroke, and the catalogue has a 1000 mm belt module."""
SAMPLER_VERSIONS = (SAMPLER_VERSION,)
"""The sampler versions a request may name: only the one this code has."""


def _known_sampler(v: int) -> int:
    if v not in SAMPLER_VERSIONS:
        raise ValueError(f"unknown sampler version {v}; this worker draws with version {SAMPLER_VERSION}")
    return v


SamplerVersion = Annotated[int, AfterValidator(_known_sampler)]
MAX_RANDOM_DESIGNS = 100_000
"""Random designs one benchmark's proof may simulate (PHYRE's own test uses 10,000)."""
RandomDesignCount = Annotated[int, Field(ge=1, le=MAX_RANDOM_DESIGNS)]
MAX_PERTURBATIONS = 1024
"""Perturbations of the reference solution the robustness proof may simulate."""
PerturbationCount = Annotated[int, Field(ge=1, le=MAX_PERTURBATIONS)]
OpenShare = Annotated[float, Field(gt=0, lt=1)]
"""A share strictly between 0 and 1: the trivial threshold (a rate at 0 or 1 decides nothing)."""
Share = Annotated[float, Field(ge=0, le=1)]
"""A measured share of scenes, designs or perturbations."""


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

Submitter = Annotated[
    Identifier,
    BeforeValidator(_lower),
    Field(description="who submitted an evaluation, as the leaderboard names them: [a-z0-9][a-z0-9_-]{0,63}"),
]
"""A submitter's name (at most 64 characters, which is also the limit of Temporal's fairness key)."""


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


class MaterialId(StrEnum):
    ALUMINUM_6061 = "aluminum_6061"
    STEEL_CARBON = "steel_carbon"
    ABS = "abs"
    PLA = "pla"
    HDPE = "hdpe"
    HARDWOOD = "hardwood"
    RUBBER_GENERIC = "rubber_generic"
    ALUMINUM_5052 = "aluminum_5052"
    ALUMINUM_7075 = "aluminum_7075"
    STEEL_COLD_ROLLED = "steel_cold_rolled"
    STAINLESS_304 = "stainless_304"
    STAINLESS_316 = "stainless_316"
    BRASS_360 = "brass_360"
    COPPER_110 = "copper_110"
    TITANIUM_6AL4V = "titanium_6al4v"
    PETG = "petg"
    NYLON_PA12 = "nylon_pa12"
    POLYCARBONATE = "polycarbonate"
    POM = "pom"
    POLYPROPYLENE = "polypropylene"
    PMMA = "pmma"


_METHOD_ALIASES = {
    "cnc": "cnc_milling",
    "milling": "cnc_milling",
    "im": "injection_molding",
    "injection_moulding": "injection_molding",
    "3dp": "fdm_printing",
    "fdm": "fdm_printing",
    "3d_printing": "fdm_printing",
    "sheet": "sheet_metal",
    "sheetmetal": "sheet_metal",
    "turning": "cnc_turning",
    "lathe": "cnc_turning",
}


def aliased(aliases: dict[str, str]) -> Callable[[Any], Any]:
    """A boundary normaliser: :func:`normalise_token`, then ``aliases`` (other spellings to the value)."""

    def normalise(v: Any) -> Any:
        v = normalise_token(v)
        return aliases.get(v, v) if isinstance(v, str) else v

    return normalise


normalise_method = aliased(_METHOD_ALIASES)
"""Boundary normalisation for manufacturing methods: :func:`normalise_token`, then the aliases."""


class ManufacturingMethod(StrEnum):
    CNC_MILLING = "cnc_milling"
    INJECTION_MOLDING = "injection_molding"
    FDM_PRINTING = "fdm_printing"
    SHEET_METAL = "sheet_metal"
    CNC_TURNING = "cnc_turning"


Material = Annotated[MaterialId, BeforeValidator(normalise_token)]
Method = Annotated[ManufacturingMethod, BeforeValidator(normalise_method)]


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


class ArtifactRef(Model):
    """A stored object: large things travel as references, never as payloads."""

    key: str
    sha256: Sha256
    size_bytes: Count
    media_type: str = "application/octet-stream"
