"""Evaluating a design against a published benchmark: the submission, its staged form, cost, evidence and
result, and the evaluation activities' requests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from shared.models.benchmark import BenchmarkDefinition, JointSpec, MotorSpec, PartSpec
from shared.models.common import (
    MAX_DESIGN_PARTS,
    ArtifactRef,
    BenchmarkId,
    Count,
    Identifier,
    Material,
    Method,
    Model,
    SceneCount,
    Severity,
    Sha256,
    Submitter,
)
from shared.models.files import PartSource, StagedPart
from shared.models.geometry import Placement
from shared.models.manufacturing import DfmFinding
from shared.models.notify import WebhookUrl
from shared.models.proofs import Finding, Outcome, SimulationReport


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
    submitter: Submitter | None = None
    """Who submitted it: the evaluation runs on the benchmark's held-out scenes, is recorded on the leaderboard
    as an attempt, queues behind the submitter's earlier evaluations past the per-submitter limit, and is
    dispatched fairly among submitters."""


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

    design_sha256: Sha256
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
    held_out: bool = False
    """Run on the benchmark's held-out scenes (a jitter seed the agent view does not reveal)."""


class DesignPartCost(Model):
    label: Identifier
    method: Method
    material: Material
    mass_kg: float
    unit_cost_usd: float
    manufacturable: bool
    blocking: list[str] = Field(default_factory=list)
    """Rule ids of blocking DFM findings."""
    blocking_findings: list[DfmFinding] = Field(default_factory=list)
    """The blocking DFM findings themselves: what was measured against which limit, where, and the fix."""


class BoughtLine(Model):
    """Bought parts of one catalogue row (``shared/data/cots.toml``) that a design uses."""

    item: Identifier
    kind: str
    """motor, fastener or bearing."""
    name: str
    count: int
    unit_price_usd: float
    mass_kg: float
    """Of all ``count`` items."""
    cost_usd: float
    """Of all ``count`` items."""
    used_by: list[Identifier]
    """The parts whose motor or joint needs them."""


class DesignCost(Model):
    """The design priced at the benchmark's target quantity: each made part by the manufacturing engine, plus
    its bought parts (motors, fasteners, bearings) at catalogue prices."""

    quantity: int
    unit_cost_usd: float
    weight_kg: float
    max_unit_cost_usd: float
    max_weight_kg: float
    within_cost_cap: bool
    within_weight_cap: bool
    manufacturable: bool
    parts: list[DesignPartCost]
    bought: list[BoughtLine] = Field(default_factory=list)
    """Bought parts, included in ``unit_cost_usd`` and ``weight_kg``."""
    basis: str
    """Catalogue version and quantity the parts were quoted at."""


class Evidence(Model):
    scene_index: Count
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
    stress_map: ArtifactRef | None = None
    """PNG of the critical part's von Mises stress over its surface in the scene's peak load case
    (``evidence/stress.png``; structural benchmarks only)."""
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
    invalid_picture: ArtifactRef | None = None
    """An invalid design's picture: the scene at t = 0 with the offending parts in red (``evidence/invalid.png``)."""
    timings_s: dict[str, float] = Field(default_factory=dict)
    """Seconds per stage: build, compile, simulate, evidence (of the attempts that produced the result)."""
    result: ArtifactRef | None = None
    reused: bool = False


class EvaluationLookup(Model):
    evaluation_id: Identifier
    definition: BenchmarkDefinition
    """The published benchmark, with its caps."""
    result: EvaluationResult | None = None


_ZONE_NAMES = ("build_zone", "goal_zone")
_ZONE_PREFIXES = ("forbidden_zone:", "goal_zone:")


def offending_parts(findings: Iterable[Finding], definition: BenchmarkDefinition) -> list[str]:
    """The design parts that blocking ``findings`` name, sorted: every label a blocking finding names except
    the scene's own (``build_zone``, ``goal_zone``, ``goal_zone:*``, ``forbidden_zone:*``, the payloads' and
    the fixtures' labels). Warnings name no offender.

    The evaluation's reason names the parts the invalid-design picture draws red.
    """
    scene = {*_ZONE_NAMES, *(p.label for p in definition.payloads), *(p.label for p in definition.fixtures)}
    return sorted(
        {
            label
            for f in findings
            if f.severity == Severity.BLOCKING
            for label in f.parts
            if label not in scene and not label.startswith(_ZONE_PREFIXES)
        }
    )


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
    picture: ArtifactRef | None = None
    """PNG of an invalid design in its benchmark's scene at t = 0 (``evidence/invalid.png``): fixtures, zones,
    payloads and the design's parts, the parts that blocking findings name in red. ``None`` for a valid
    design, and for an invalid one whose parts could not be read or drawn (rendering is optional)."""
    build_s: float = 0.0


class PriceDesignRequest(Model):
    definition: BenchmarkDefinition
    parts: list[PartSpec]
    facts: dict[str, ArtifactRef]


class EvidenceRequest(Model):
    evaluation_id: Identifier
    scene: BenchmarkDefinition
    scene_index: Count
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
