"""Contracts: the single source of every request and response that crosses a process boundary.

Light imports only (pydantic, stdlib): this module is imported inside the Temporal workflow sandbox.

Conventions (DESIGN section 3):
- units live in field names (``_mm``, ``_kg``, ``_s``, ``_usd``); CAD and contracts are in millimetres;
- enums are lower case and input is normalised at the boundary (``"CNC"`` and ``"cnc"`` both parse);
- identifiers match :data:`ID_PATTERN`; anything else is rejected with a message naming the field;
- new fields always get defaults so recorded workflow histories keep decoding.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

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


def _normalise_token(v: Any) -> Any:
    """Boundary normalisation for enum-like tokens: trim, lower-case, hyphens and spaces to underscores."""
    if isinstance(v, str):
        return re.sub(r"[\s-]+", "_", v.strip().lower())
    return v


def _lower(v: Any) -> Any:
    """Boundary normalisation for identifiers typed by people: trim and lower-case only."""
    return v.strip().lower() if isinstance(v, str) else v


FamilyName = Annotated[Identifier, BeforeValidator(_lower)]


class Model(BaseModel):
    """Base for all contracts: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


def _normalise_method(v: Any) -> Any:
    v = _normalise_token(v)
    return _METHOD_ALIASES.get(v, v) if isinstance(v, str) else v


class ManufacturingMethod(StrEnum):
    CNC_MILLING = "cnc_milling"
    INJECTION_MOLDING = "injection_molding"
    FDM_PRINTING = "fdm_printing"


Material = Annotated[MaterialId, BeforeValidator(_normalise_token)]
Method = Annotated[ManufacturingMethod, BeforeValidator(_normalise_method)]


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


DETERMINISTIC_ERRORS = (
    ErrorType.INVALID_REQUEST,
    ErrorType.INVALID_FAMILY,
    ErrorType.INFEASIBLE_PARAMETERS,
    ErrorType.INVALID_GEOMETRY,
    ErrorType.INVALID_PART,
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


class PartSpec(Model):
    """One rigid part. Geometry is stored in world millimetres (the CAD frame is kept)."""

    label: Identifier
    role: PartRole
    material: Material
    method: Method | None = None
    fixed: bool = True
    volume_mm3: float = Field(gt=0)
    mass_kg: float = Field(gt=0)
    bbox: Box
    step: ArtifactRef | None = None


class Payload(Model):
    label: Identifier = "payload"
    shape: Literal["sphere"] = "sphere"
    radius_mm: float = Field(gt=0, le=500)
    material: Material
    start_mm: Vec3
    jitter_mm: Vec3 = (0.0, 0.0, 0.0)

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
    duration_s: float = Field(default=5.0, gt=0, le=120)
    check_interval_steps: int = Field(default=10, ge=1, le=1000)
    n_scenes: int = Field(default=8, ge=1, le=64)
    required_success_share: float = Field(default=0.75, gt=0, le=1)
    jitter_seed: int = Field(default=0, ge=0)
    max_speed_m_s: float = Field(default=30.0, gt=0)
    """Any body faster than this is a physics instability (explosion)."""


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


class BenchmarkDefinition(Model):
    schema_version: int = 1
    benchmark_id: Identifier
    family: Identifier
    seed: int = Field(ge=0)
    generator_version: int = Field(ge=1)
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


class ProofResult(Model):
    proof: Proof
    passed: bool
    detail: str
    measured: float | None = None
    limit: float | None = None


class ProofBasis(Model):
    """What a verdict depends on besides family, seed and generator version. A stored verdict is reused
    only when the new request's basis matches; ceilings count only for verdicts that reached them."""

    n_scenes: int | None = None
    check_interval_steps: int | None = None
    max_reference_unit_cost_usd: float | None = None
    max_reference_weight_kg: float | None = None
    caps_headroom: float | None = None
    cost_model: str | None = None
    """How the reference solution was priced (catalogue version and target quantity); verdicts priced by
    another model (or by the material-only estimate of generator version 1's first release) are re-proven."""

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


# --------------------------------------------------------------------------------------------
# Workflow requests and results
# --------------------------------------------------------------------------------------------


class GenerateBenchmarkRequest(Model):
    family: FamilyName
    seed: int = Field(ge=0, le=2**31 - 1)
    n_scenes: int | None = Field(default=None, ge=1, le=64)
    check_interval_steps: int | None = Field(default=None, ge=1, le=1000)
    dataset_id: Identifier | None = None
    generator_version: int | None = Field(default=None, ge=1)
    """Default: the worker's current version (recorded in history at the first step)."""


class DatasetCursor(Model):
    """Where a dataset run stands; handed to the next run when GenerateDataset continues as new."""

    dataset_id: Identifier
    generator_version: int = Field(ge=1)
    chain: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
    """Short hash of the workflow id: manifest parts of this chain of runs live under it."""
    next_index: int = Field(default=0, ge=0)
    part_count: int = Field(default=0, ge=0)
    published: int = Field(default=0, ge=0)
    rejected: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)


class DatasetRequest(Model):
    families: list[FamilyName] = Field(min_length=1)
    count: int = Field(ge=1)
    base_seed: int = Field(default=0, ge=0, le=2**31 - 1)
    dataset_id: Identifier | None = None
    max_parallel: int = Field(default=4, ge=1, le=64)
    chunk_size: int = Field(default=100, ge=1, le=200)
    """Children per workflow run; the run continues as new after each chunk to keep history small."""
    n_scenes: int | None = Field(default=None, ge=1, le=64)
    check_interval_steps: int | None = Field(default=None, ge=1, le=1000)
    resume: DatasetCursor | None = None
    """Set by the workflow itself when it continues as new; leave empty."""

    @model_validator(mode="after")
    def _distinct_families(self) -> DatasetRequest:
        dup = sorted({f for f in self.families if self.families.count(f) > 1})
        if dup:
            raise ValueError(f"families: listed more than once: {dup}")
        return self


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


class LookupResult(Model):
    """The id and generator version this benchmark is generated at (resolved by the worker, recorded in
    history), and its stored verdict when one proven on the same basis exists."""

    benchmark_id: Identifier
    generator_version: int
    result: BenchmarkResult | None = None


class BuildRequest(Model):
    benchmark_id: Identifier
    family: Identifier
    seed: int
    generator_version: int
    n_scenes: int | None = None
    check_interval_steps: int | None = None


class BuildResult(Model):
    definition: BenchmarkDefinition
    geometry: GeometryReport
    """Validation of the geometry just built (same child process, shapes still in memory)."""


class SimulateRequest(Model):
    definition: BenchmarkDefinition
    mode: SimulationMode
    n_scenes: int = Field(ge=1, le=64)


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
MAX_QUANTITY = 10_000_000


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
        if self.filename is not None and (
            "/" in self.filename
            or "\\" in self.filename
            or "\x00" in self.filename
            or self.filename in (".", "..")
        ):
            raise ValueError("filename: a bare file name, without directories")
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
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    ladder: list[Annotated[int, Field(ge=1, le=MAX_QUANTITY)]] | None = Field(default=None, max_length=12)
    """Quantities to price besides the requested one; default 1, 10, 100, 1000, 10000."""
    price_table: PriceTable | None = None
    alternatives: bool = True
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
