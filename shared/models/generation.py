"""Generating one benchmark: the workflow's input and progress, and its activities' requests and results."""

from __future__ import annotations

from pydantic import model_validator

from shared.models.benchmark import BenchmarkDefinition, Caps
from shared.models.common import (
    CheckInterval,
    Count,
    FamilyName,
    GeneratorVersion,
    Identifier,
    Model,
    OpenShare,
    PositiveCount,
    RandomDesignCount,
    SamplerVersion,
    SceneCount,
    Seed,
)
from shared.models.files import PartSource, StagedPart
from shared.models.proofs import (
    BenchmarkResult,
    GeometryReport,
    ProofBasis,
    ProofResult,
    RandomProofReport,
    RobustProofReport,
    SimulationMode,
)


class CertifyOptions(Model):
    """What a request may ask of the certification proofs; unset fields take the worker's settings."""

    random_designs: RandomDesignCount | None = None
    """N: random designs the ``not_trivial_random`` proof simulates (default ``MECHBENCH_RANDOM_DESIGNS``)."""
    trivial_threshold: OpenShare | None = None
    """A benchmark is trivial when the solve rate's upper bound is at or above this (default 0.10, as PHYRE)."""
    sampler_version: SamplerVersion | None = None
    """The random-design sampler to draw with; only the worker's own version is accepted."""


class CertifyPlan(Model):
    """The certification proofs' parameters, resolved by the lookup from the request and the worker's settings
    (recorded in history, so a replay on a worker with other settings takes the same path)."""

    sampler_version: int
    random_designs: PositiveCount
    trivial_threshold: float
    confidence: float
    perturbations: PositiveCount
    robust_required_share: float
    shard_size: PositiveCount
    """Random designs per heavy activity: a large N runs as parallel shards whose counts are merged."""

    def basis(self) -> ProofBasis:
        """What a verdict certified by this plan depends on (compared when a stored verdict is reused)."""
        return ProofBasis(
            sampler_version=self.sampler_version,
            random_designs=self.random_designs,
            trivial_threshold=self.trivial_threshold,
            random_confidence=self.confidence,
            perturbations=self.perturbations,
            robust_required_share=self.robust_required_share,
        )

    def shards(self) -> list[tuple[int, int]]:
        n, size = self.random_designs, self.shard_size
        return [(start, min(start + size, n)) for start in range(0, n, size)]


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
    certify: CertifyOptions = CertifyOptions()

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


class BenchmarkProgress(Model):
    benchmark_id: str
    stage: str
    detail: str = ""


class LookupRequest(Model):
    family: Identifier
    seed: int
    generator_version: int | None = None
    n_scenes: int | None = None
    check_interval_steps: int | None = None
    script: PartSource | None = None
    """A benchmark script: staged into the store by the lookup; its hash is the benchmark's id."""
    certify: CertifyOptions = CertifyOptions()


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
    certify: CertifyPlan | None = None
    """The certification proofs' parameters (the request's options over the worker's settings); None only in
    histories recorded before the proofs existed."""


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


class AffordabilityRequest(Model):
    definition: BenchmarkDefinition


class AffordabilityResult(Model):
    proof: ProofResult
    caps: Caps | None = None
    basis: ProofBasis
    """The ceilings and headroom the proof used."""


class RandomProofRequest(Model):
    """One shard of the random-design proof: designs ``start..stop-1`` of the benchmark's sampler."""

    definition: BenchmarkDefinition
    """With its caps: random designs over them are not drawn."""
    plan: CertifyPlan
    start: Count
    stop: Count


class RobustProofRequest(Model):
    definition: BenchmarkDefinition
    plan: CertifyPlan


class CertifyRequest(Model):
    """The certification proofs' measurements, to be judged (the shards merged)."""

    plan: CertifyPlan
    shards: list[RandomProofReport]
    robust: RobustProofReport


class CertifyResult(Model):
    proofs: list[ProofResult]
    random: RandomProofReport
    robust: RobustProofReport
    basis: ProofBasis
    """The certification part of the basis (sampler version, N, threshold, K)."""
