"""What proving a benchmark reports: findings, simulated scenes, each proof's result, the basis a verdict
rests on and the verdict."""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from shared.models.benchmark import Caps, SimulationSettings
from shared.models.common import (
    Amount,
    ArtifactRef,
    Count,
    Identifier,
    Model,
    Severity,
    Share,
    Vec3,
)


class Outcome(StrEnum):
    """Exactly one terminal outcome per simulated scene."""

    GOAL_REACHED = "goal_reached"
    FORBIDDEN_ZONE = "forbidden_zone"
    OUT_OF_BOUNDS = "out_of_bounds"
    PHYSICS_INSTABILITY = "physics_instability"
    MOTOR_OVERLOAD = "motor_overload"
    TIMEOUT = "timeout"
    BREAKAGE = "breakage"
    """A load-bearing part's peak stress exceeds its allowable, or it sags beyond the benchmark's limit
    (:class:`PartStress`); judged after the scene's run, from the loads it measured."""


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
    NOT_TRIVIAL_RANDOM = "not_trivial_random"
    """Random designs from the generic sampler solve it rarely: the upper confidence bound of their solve rate
    lies below the trivial threshold."""
    ROBUST = "robust"
    """The reference still solves it with each of its parts moved and turned a little."""


class Verdict(StrEnum):
    PUBLISHED = "published"  # every proof passed
    REJECTED = "rejected"  # a proof failed: a result, with the reason and numbers
    FAILED = "failed"  # generation itself crashed after its retries (dataset entries only)


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


class PartStress(Model):
    """The structural check of one load-bearing part in one scene (``engines.structure``): the peak load case
    of the run (contact forces and the part's own weight) applied at once, quasi-static and linear-elastic."""

    label: Identifier
    peak_von_mises_mpa: float = Field(ge=0)
    allowable_mpa: float = Field(gt=0)
    """The material's yield (ultimate for brittle and printed materials) divided by the safety factor."""
    location_mm: Vec3
    """Where the peak stress is, world millimetres."""
    max_displacement_mm: float = Field(ge=0)
    max_displacement_limit_mm: float | None = None
    load_n: float = Field(ge=0)
    """The total contact force of the peak load case."""
    load_time_s: float = Field(ge=0)
    """When in the scene the peak load case was measured."""
    broke: bool = False
    """Stress above the allowable, displacement above the limit, or nothing holds it (:attr:`unheld`)."""
    unheld: str | None = None
    """Why the part is not held after all (its supports lie on one line, so it would turn about them)."""

    @property
    def margin(self) -> float:
        """Allowable over peak stress: above 1 the part holds (infinite without stress)."""
        if self.unheld:
            return 0.0
        return self.allowable_mpa / self.peak_von_mises_mpa if self.peak_von_mises_mpa > 0 else float("inf")


def structural_margin(report: SimulationReport) -> float | None:
    """The smallest :attr:`PartStress.margin` over a simulation's scenes, or None when nothing was checked."""
    margins = [s.margin for r in report.results for s in r.structure if math.isfinite(s.margin)]
    return round(min(margins), 4) if margins else None


class SceneResult(Model):
    scene_index: Count
    jitter_mm: Vec3
    outcome: Outcome
    time_s: Amount
    steps: Count
    final_payload_mm: Vec3 | None = None
    max_payload_speed_m_s: float = 0.0
    min_goal_distance_mm: float | None = None
    detail: str = ""
    structure: list[PartStress] = Field(default_factory=list)
    """The structural check of each load-bearing part (benchmarks with a ``structure`` only); a part that
    broke makes the outcome ``breakage``. Left out of the dump when empty, as results were before."""

    @model_serializer(mode="wrap")
    def _without_empty_structure(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        data: dict[str, object] = handler(self)
        if data.get("structure") == []:
            del data["structure"]
        return data


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
    resumed_scenes: Count = 0
    """Scenes finished by an earlier attempt (from its last heartbeat) and not run again."""


class ProofResult(Model):
    proof: Proof
    passed: bool
    detail: str
    measured: float | None = None
    limit: float | None = None


class RandomPart(Model):
    """One primitive part of a random design: what it is, where it is, what it is made of."""

    label: Identifier
    kind: str
    """plank, block, wedge or rod"""
    dims_mm: Vec3
    """Length (x), width (y) and height (z) before the rotation; a rod's width is its diameter."""
    center_mm: Vec3
    euler_deg: Vec3
    """Yaw (about z), pitch (about y), roll (about x), applied in that order (intrinsic z-y-x)."""
    material: str
    method: str
    joint: str | None = None
    """``hinge x`` / ``slide z`` ...: a joint to the world about (along) that axis, with a motor."""


class RandomDesignTrial(Model):
    """A random design and how it did: its index in the sampler's sequence, its parts and its scenes."""

    index: Count
    parts: list[RandomPart]
    goal_scenes: Count
    scenes_run: Count
    min_goal_distance_mm: float | None = None
    solved: bool = False
    unit_cost_usd: float | None = None
    """Quoted only for a design that reached the goal often enough (the caps decide whether it solved)."""
    detail: str = ""


class RandomProofReport(Model):
    """What the random-design proof measured (one shard, or the merged shards of one benchmark)."""

    sampler_version: int
    requested: Count
    """Designs asked for (N)."""
    simulated: Count = 0
    """Designs actually simulated: fewer than ``requested`` when the run stopped early, already decided."""
    solved: Count = 0
    next_index: Count = 0
    """The first design index not yet simulated (a retry resumes here)."""
    unsampleable: Count = 0
    """Indices for which the sampler found no valid design in its attempts."""
    rejected_draws: dict[str, int] = Field(default_factory=dict)
    """Draws the sampler threw away, by rule (outside the build zone, interference, over a cap, ...)."""
    stopped_early: bool = False
    scenes_run: Count = 0
    compile_s: Amount = 0.0
    simulate_s: Amount = 0.0
    price_s: Amount = 0.0
    best: list[RandomDesignTrial] = Field(default_factory=list)
    """The designs that came nearest (most goal scenes, then nearest to the goal), best first, at most five."""
    solve_rate: Share | None = None
    upper_bound: Share | None = None
    """One-sided upper confidence bound of the solve rate (Clopper–Pearson), at ``confidence``."""
    lower_bound: Share | None = None
    confidence: float | None = None
    threshold: float | None = None
    best_picture: ArtifactRef | None = None
    """A picture of the best random design in the scene (none without GL)."""


class RobustProofReport(Model):
    """What the perturbation proof measured: the reference with every part moved by up to ``position_mm`` per
    axis and turned by up to ``rotation_deg`` about a random axis, ``perturbations`` times."""

    perturbations: Count
    position_mm: float
    rotation_deg: float
    solved: Count
    """Perturbations in which the reference reached the goal in the required share of scenes."""
    share: Share
    required_share: Share
    success_shares: list[float] = Field(default_factory=list)
    """Per perturbation, the share of scenes in which the goal was reached."""
    worst_detail: str = ""


class DifficultyCard(Model):
    """How hard a benchmark is, measured; the level comes from :func:`engines.certify.difficulty.level`."""

    level: int = Field(ge=0, le=5)
    formula: str
    random_designs: Count | None = None
    random_solve_rate: Share | None = None
    random_upper_bound: Share | None = None
    reference_success_share: Share | None = None
    robust_share: Share | None = None
    cost_slack: float | None = None
    """Cap over the reference's unit cost, minus one: how much more a design may cost than the reference."""
    weight_slack: float | None = None
    reference_parts: Count = 0
    needs_joint: bool = False
    needs_motor: bool = False
    structural_margin: float | None = None
    """Structural benchmarks: the reference's smallest allowable-over-peak-stress ratio over its scenes."""


CEILING_FIELDS = ("max_reference_unit_cost_usd", "max_reference_weight_kg", "caps_headroom", "cost_model")
"""The parts of a :class:`ProofBasis` that only verdicts which reached the affordability proof depend on."""


CERTIFICATION_FIELDS = (
    "sampler_version",
    "random_designs",
    "trivial_threshold",
    "random_confidence",
    "perturbations",
    "robust_required_share",
)
"""The parts of a :class:`ProofBasis` that only verdicts which reached the certification proofs depend on."""


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
    sampler_version: int | None = None
    random_designs: int | None = None
    trivial_threshold: float | None = None
    random_confidence: float | None = None
    perturbations: int | None = None
    robust_required_share: float | None = None
    """The certification proofs' sampler version, N, trivial threshold, confidence, K and required share; set
    once they ran (verdicts that ended before them do not depend on them)."""

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

    def certification(self) -> tuple[object, ...]:
        return tuple(getattr(self, f) for f in CERTIFICATION_FIELDS)

    def with_certification(self, other: ProofBasis) -> ProofBasis:
        """This basis with the certification proofs' parameters (:data:`CERTIFICATION_FIELDS`) of ``other``."""
        return self.model_copy(update=other.model_dump(include=set(CERTIFICATION_FIELDS)))

    def with_ceilings(self, other: ProofBasis) -> ProofBasis:
        """This basis with the affordability ceilings, headroom and cost model of ``other``."""
        return self.model_copy(update=other.model_dump(include=set(CEILING_FIELDS)))

    def covers(self, wanted: ProofBasis) -> bool:
        """Whether a verdict proven on this basis answers a request for ``wanted``."""
        if (self.n_scenes, self.check_interval_steps) != (wanted.n_scenes, wanted.check_interval_steps):
            return False
        if self.max_reference_unit_cost_usd is None:  # rejected before the affordability proof
            return True
        if self.sampler_version is not None and self.certification() != wanted.certification():
            return False
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
    random: RandomProofReport | None = None
    robust: RobustProofReport | None = None
    difficulty: DifficultyCard | None = None
    """Set on every verdict that reached the simulations; the certification numbers once they ran."""
    structural_margin: float | None = None
    """Structural benchmarks: the reference's smallest allowable-over-peak-stress ratio over its scenes
    (:attr:`PartStress.margin`); it goes on the difficulty card."""
