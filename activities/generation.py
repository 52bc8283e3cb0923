"""Temporal activities of benchmark generation, on the main task queue: the benchmark's id and reuse, its
affordability proof (numpy over stored geometry facts) and its verdict. Store reads and writes run in a thread
so the event loop stays free; the CAD, validation and simulation are heavy activities (:mod:`activities.heavy`).
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.analysis import stage_source
from engines.certify import affordability, difficulty
from engines.certify.affordability import Ceilings, price_reference
from engines.certify.reports import merge
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.facts import FACTS_VERSION, PartFacts
from shared import metrics
from shared.families import GENERATOR_VERSION
from shared.ids import benchmark_id, script_benchmark_id
from shared.keys import benchmark_definition_key, benchmark_result_key, part_facts_key
from shared.logging import get_logger
from shared.models import (
    SAMPLER_VERSION,
    AffordabilityRequest,
    AffordabilityResult,
    BenchmarkDefinition,
    BenchmarkResult,
    CertifyPlan,
    CertifyRequest,
    CertifyResult,
    ErrorType,
    LookupRequest,
    LookupResult,
    PartSpec,
    Proof,
    ProofBasis,
    ProofResult,
    PublishRequest,
    StagedPart,
    Verdict,
)
from shared.settings import Settings
from shared.store import IntegrityError, ObjectNotFound, ObjectStore
from shared.temporal import (
    ACT_ASSESS_AFFORDABILITY,
    ACT_ASSESS_CERTIFICATION,
    ACT_LOOKUP_BENCHMARK,
    ACT_RECORD_BENCHMARK,
)

log = get_logger(__name__)


def _basis_text(basis: ProofBasis) -> str:
    text = f"{basis.n_scenes} scenes, check every {basis.check_interval_steps} steps"
    if basis.max_reference_unit_cost_usd is not None:
        text += (
            f", ceilings ${basis.max_reference_unit_cost_usd} and {basis.max_reference_weight_kg} kg"
            f" x{basis.caps_headroom}, {basis.cost_model}"
        )
    if basis.sampler_version is not None:
        text += (
            f", {basis.random_designs} random designs (sampler v{basis.sampler_version}, trivial at "
            f"{basis.trivial_threshold:g}, confidence {basis.random_confidence}), {basis.perturbations} "
            f"perturbations ({basis.robust_required_share} must solve)"
        )
    return text


class GenerationActivities:
    """A benchmark's bookkeeping against the object store: is it proven already, is it affordable, its verdict."""

    def __init__(self, store: ObjectStore, settings: Settings):
        self._store = store
        self._settings = settings

    def _ceilings(self) -> dict[str, float | str]:
        """What an affordability verdict depends on: the ceilings, the headroom and the cost model."""
        s = self._settings
        return {
            "max_reference_unit_cost_usd": s.max_reference_unit_cost_usd,
            "max_reference_weight_kg": s.max_reference_weight_kg,
            "caps_headroom": s.caps_headroom,
            "cost_model": f"{load_catalog().label} q{s.benchmark_target_quantity}",
        }

    def _plan(self, req: LookupRequest) -> CertifyPlan:
        """The certification proofs' parameters: the request's options over the worker's settings."""
        s, asked = self._settings, req.certify
        return CertifyPlan(
            sampler_version=asked.sampler_version or SAMPLER_VERSION,
            random_designs=asked.random_designs or s.random_designs,
            trivial_threshold=asked.trivial_threshold or s.trivial_threshold,
            confidence=s.random_confidence,
            perturbations=s.robust_perturbations,
            robust_required_share=s.robust_required_share,
            shard_size=s.random_shard_size,
        )

    @activity.defn(name=ACT_LOOKUP_BENCHMARK)
    async def lookup_benchmark(self, req: LookupRequest) -> LookupResult:
        """Resolve the benchmark id at this worker's generator version, and reuse a finished benchmark
        (published or rejected) proven on the same basis whose stored artifacts are all intact.

        A stored result that no longer decodes, that was proven on another basis (scene count, check interval,
        affordability ceilings), or that refers to an artifact that is missing or does not match its recorded
        sha256 and size (definition, STEP parts, collision pieces, scene, thumbnail, trajectories) is a miss:
        the benchmark is proven again, which rewrites every artifact, and the new verdict replaces the old one.
        ``not_reused`` says why, in the workflow's history."""
        version = req.generator_version or GENERATOR_VERSION
        if version != GENERATOR_VERSION:
            raise ApplicationError(
                f"generator_version: this worker generates version {GENERATOR_VERSION}, not {version}",
                type=ErrorType.INVALID_REQUEST,
                non_retryable=True,
            )
        staged: StagedPart | None = None
        if req.script is not None:
            staged = await asyncio.to_thread(stage_source, self._store, self._settings, req.script)
            bid = script_benchmark_id(staged.artifact.sha256, version)
        else:
            bid = benchmark_id(req.family, req.seed, version)
        key = benchmark_result_key(bid)
        plan = self._plan(req)

        def read() -> LookupResult:
            found = LookupResult(benchmark_id=bid, generator_version=version, script=staged, certify=plan)

            def miss(why: str) -> LookupResult:
                log.info("benchmark.not_reused", key=key, reason=why)
                return found.model_copy(update={"not_reused": why})

            try:
                result = self._store.get_model(key, BenchmarkResult)
            except ObjectNotFound:
                return found
            except ValidationError as e:
                return miss(f"{key} does not decode ({e.error_count()} errors)")
            if result.basis is None:
                return miss("the stored verdict records no proof basis")
            n_scenes, check_interval = result.basis.scenes_for(req.n_scenes, req.check_interval_steps)
            wanted = plan.basis().model_copy(
                update={"n_scenes": n_scenes, "check_interval_steps": check_interval, **self._ceilings()}
            )
            if result.verdict == Verdict.PUBLISHED and result.random is None:
                return miss("published before the certification proofs (random designs, robustness) existed")
            if not result.basis.covers(wanted):
                return miss(
                    f"proven on another basis ({_basis_text(result.basis)}; asked {_basis_text(wanted)})"
                )
            damaged = self._damaged(result)
            if damaged:
                return miss("damaged or missing: " + ", ".join(damaged))
            return found.model_copy(update={"result": result})

        return await asyncio.to_thread(read)

    def _damaged(self, result: BenchmarkResult) -> list[str]:
        """The keys of the artifacts ``result`` refers to (directly or through its definition) that are missing
        or do not match their recorded sha256 and size; empty when all are intact."""
        refs = list(result.trajectories.values())
        if result.definition is not None:
            try:
                definition = BenchmarkDefinition.model_validate_json(self._store.get_ref(result.definition))
            except (ObjectNotFound, IntegrityError, ValidationError):
                return [result.definition.key]
            artifacts = definition.artifacts
            refs += [artifacts.collision, *(r for r in (artifacts.scene_glb, artifacts.thumbnail) if r)]
            refs += [
                p.step for p in definition.fixtures + definition.reference_solution if p.step is not None
            ]
        damaged = []
        for ref in refs:
            try:
                self._store.verify(ref)
            except (ObjectNotFound, IntegrityError):
                damaged.append(ref.key)
        return damaged

    @activity.defn(name=ACT_ASSESS_AFFORDABILITY)
    async def assess_affordability(self, req: AffordabilityRequest) -> AffordabilityResult:
        """Affordability proof and caps: the reference solution's manufacturing quote at the benchmark's
        target quantity (each part by its own method and material), times the recorded headroom.

        The build job stored each reference part's geometry facts under its STEP hash; pricing them is
        numpy over those facts. A reference part with a blocking DFM finding fails the proof."""
        d = req.definition
        s = self._settings
        basis = ProofBasis(**self._ceilings())  # the workflow adds them to the scene basis it holds

        def fail(
            detail: str, measured: float | None = None, limit: float | None = None
        ) -> AffordabilityResult:
            return AffordabilityResult(
                proof=ProofResult(
                    proof=Proof.AFFORDABLE, passed=False, detail=detail, measured=measured, limit=limit
                ),
                basis=basis,
            )

        if not d.reference_solution:
            return fail("no reference solution to price")
        catalog = load_catalog()
        ceilings = Ceilings.of(s)

        def facts_of(part: PartSpec) -> PartFacts:
            if part.step is None:
                raise ApplicationError(f"reference part {part.label} has no STEP artifact to price")
            key = part_facts_key(part.step.sha256, FACTS_VERSION, principal_frame=True)
            return PartFacts.from_npz(self._store.get_bytes(key))

        try:
            priced = await asyncio.to_thread(
                price_reference, d.reference_solution, facts_of, ceilings.quantity, catalog
            )
        except ValueError as e:  # a family pairing a material with a method that does not take it
            return fail(f"reference solution cannot be quoted: {e}")
        proof, caps = affordability.judge(priced, ceilings, catalog.label)
        return AffordabilityResult(proof=proof, caps=caps, basis=basis)

    @activity.defn(name=ACT_ASSESS_CERTIFICATION)
    async def assess_certification(self, req: CertifyRequest) -> CertifyResult:
        """Judge the certification measurements: the random-design shards merged into one count, the
        ``not_trivial_random`` proof (the solve rate's upper confidence bound below the trivial threshold) and
        the ``robust`` proof (the required share of perturbed references still solve)."""
        plan = req.plan
        random = merge(req.shards, plan.confidence, plan.trivial_threshold)
        robust = req.robust
        if random.simulated == 0 or random.upper_bound is None:
            drawn = ", ".join(f"{k} {v}" for k, v in random.rejected_draws.items()) or "none"
            trivial = ProofResult(
                proof=Proof.NOT_TRIVIAL_RANDOM,
                passed=False,
                detail=f"the sampler drew no valid design in {random.requested} tries (rejected draws: {drawn}): "
                "nothing shows that random designs fail",
                limit=plan.trivial_threshold,
            )
        else:
            ub, rate = random.upper_bound, random.solve_rate or 0.0
            early = " (stopped early: already decided trivial)" if random.stopped_early else ""
            trivial = ProofResult(
                proof=Proof.NOT_TRIVIAL_RANDOM,
                passed=ub < plan.trivial_threshold,
                detail=(
                    f"{random.solved} of {random.simulated} random designs solved it ({rate:.1%}); "
                    f"{plan.confidence:.0%} upper bound {ub:.2%}, trivial at {plan.trivial_threshold:.0%}{early}"
                ),
                measured=ub,
                limit=plan.trivial_threshold,
            )
        proofs = [
            trivial,
            ProofResult(
                proof=Proof.ROBUST,
                passed=robust.share >= plan.robust_required_share,
                detail=(
                    f"reference still solves in {robust.solved} of {robust.perturbations} perturbations "
                    f"(±{robust.position_mm:g} mm, ±{robust.rotation_deg:g}°; required "
                    f"{plan.robust_required_share:.0%})"
                    + (f"; worst {robust.worst_detail}" if robust.worst_detail else "")
                ),
                measured=robust.share,
                limit=plan.robust_required_share,
            ),
        ]
        return CertifyResult(proofs=proofs, random=random, robust=robust, basis=plan.basis())

    @activity.defn(name=ACT_RECORD_BENCHMARK)
    async def record_benchmark(self, req: PublishRequest) -> BenchmarkResult:
        """Store the verdict (with the basis it was proven on). The definition is written first and the result
        last: the result is the commit point, so a benchmark is visible as finished only once everything it
        refers to exists."""

        def write() -> BenchmarkResult:
            result = req.result
            reference = next((p for p in result.proofs if p.proof == Proof.SOLVABLE), None)
            if req.definition is not None and reference is not None:  # it reached the simulations
                card = difficulty.card(
                    req.definition,
                    reference.measured,
                    result.caps,
                    result.random,
                    result.robust,
                    structural_margin=result.structural_margin,
                )
                result = result.model_copy(update={"difficulty": card})
            definition_key = benchmark_definition_key(result.benchmark_id)
            if req.definition is not None and result.verdict == Verdict.PUBLISHED:
                ref = self._store.put_model(definition_key, req.definition)
                result = result.model_copy(update={"definition": ref})
            else:  # a verdict proven again on another basis may have turned published into rejected
                self._store.delete(definition_key)
            self._store.put_model(benchmark_result_key(result.benchmark_id), result)
            return result

        result = await asyncio.to_thread(write)
        metrics.benchmark_recorded(activity.metric_meter(), result)
        return result
