"""What proving a benchmark reports: findings, simulated scenes, each proof's result, the basis a verdict
rests on and the verdict."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.models.benchmark import Caps, SimulationSettings
from shared.models.common import Amount, ArtifactRef, Count, Identifier, Model, Severity, Vec3


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
    scene_index: Count
    jitter_mm: Vec3
    outcome: Outcome
    time_s: Amount
    steps: Count
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
    resumed_scenes: Count = 0
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
