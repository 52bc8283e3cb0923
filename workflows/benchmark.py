"""GenerateBenchmark: build one seeded benchmark and publish it only when every proof holds.

Stages: lookup (reuse a finished benchmark proven on the same basis) -> build and validate geometry ->
simulate, the baseline (stable and not solved without a solution) and the reference solution (solved in the
required share of jittered scenes) side by side -> affordability (caps) -> certify: N random designs (in
parallel shards) must fail, and the reference must survive K perturbations, side by side -> record. A failed
proof is a verdict with the reason and numbers, not a crash.

Deterministic orchestration only: no I/O, no clocks, no heavy imports; activities are called by name. The
quick store steps (lookup, affordability, record) are local activities: each costs a few milliseconds
instead of a ~50 ms task round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from shared.families import unknown_families_message
    from shared.heavy import BUILD_BENCHMARK, RANDOM_PROOF, ROBUST_PROOF, SIMULATE_BENCHMARK
    from shared.ids import SCRIPT_FAMILY
    from shared.models import (
        AffordabilityRequest,
        AffordabilityResult,
        BenchmarkDefinition,
        BenchmarkProgress,
        BenchmarkResult,
        BuildRequest,
        BuildResult,
        CertifyPlan,
        CertifyRequest,
        CertifyResult,
        ErrorType,
        GenerateBenchmarkRequest,
        LookupRequest,
        LookupResult,
        Outcome,
        Proof,
        ProofBasis,
        ProofResult,
        PublishRequest,
        RandomProofRequest,
        RobustProofRequest,
        Severity,
        SimulateRequest,
        SimulationMode,
        SimulationReport,
        Verdict,
        structural_margin,
    )
    from shared.temporal import (
        ACT_ASSESS_AFFORDABILITY,
        ACT_ASSESS_CERTIFICATION,
        ACT_LOOKUP_BENCHMARK,
        ACT_RECORD_BENCHMARK,
        LIGHT,
        SA_BENCHMARK,
        SA_DATASET,
        SA_FAMILY,
        SA_SEED,
        SA_STAGE,
        SA_VERDICT,
        WF_GENERATE_BENCHMARK,
        heavy_options,
    )
    from workflows._details import show, source_name
    from workflows._input import parse_input

CERTIFIED = "certified-benchmarks"
"""The patch that added the certification proofs after affordability (histories before it end there)."""
# Deterministic failures of the engines that make the benchmark itself invalid: recorded as rejections.
REJECTING_ERRORS = {ErrorType.INFEASIBLE_PARAMETERS.value, ErrorType.INVALID_GEOMETRY.value}


def _outcomes(report: SimulationReport) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(report.outcome_counts.items()))


def _rejecting_cause(e: ActivityError) -> ApplicationError | None:
    cause = e.cause
    if isinstance(cause, ApplicationError) and cause.type in REJECTING_ERRORS:
        return cause
    return None


@workflow.defn(name=WF_GENERATE_BENCHMARK)
class GenerateBenchmark:
    def __init__(self) -> None:
        self._progress = BenchmarkProgress(benchmark_id="", stage="starting")
        self._headline = "GenerateBenchmark"

    @workflow.query(name="progress")
    def progress(self) -> BenchmarkProgress:
        return self._progress

    def _stage(self, stage: str, detail: str = "") -> None:
        self._progress = BenchmarkProgress(
            benchmark_id=self._progress.benchmark_id, stage=stage, detail=detail
        )
        show(self._headline, stage, detail)
        workflow.upsert_search_attributes([SA_STAGE.value_set(stage)])

    @workflow.run
    async def run(self, raw: RawValue) -> BenchmarkResult:
        """Input: :class:`~shared.models.GenerateBenchmarkRequest` (validated here, see ``_input``)."""
        req = parse_input(raw, GenerateBenchmarkRequest)
        if req.family is not None:
            problem = unknown_families_message([req.family], field="family")
            if problem:
                raise ApplicationError(problem, type=ErrorType.INVALID_REQUEST, non_retryable=True)
        family = req.family or SCRIPT_FAMILY
        attrs = [SA_FAMILY.value_set(family), SA_SEED.value_set(req.seed)]
        if req.dataset_id:
            attrs.append(SA_DATASET.value_set(req.dataset_id))
        workflow.upsert_search_attributes(attrs)

        what = f"{family} seed {req.seed}" if req.script is None else "benchmark script"
        self._headline = (
            f"Generate and prove the benchmark {what}"
            + (f" ({source_name(req.script)})" if req.script is not None else "")
            + (f" for dataset {req.dataset_id}" if req.dataset_id else "")
        )
        self._stage("lookup", what)
        found: LookupResult = await workflow.execute_local_activity(
            ACT_LOOKUP_BENCHMARK,
            LookupRequest(
                family=family,
                seed=req.seed,
                generator_version=req.generator_version,
                n_scenes=req.n_scenes,
                check_interval_steps=req.check_interval_steps,
                script=req.script,
                certify=req.certify,
            ),
            result_type=LookupResult,
            summary=f"lookup {what}",
            **LIGHT.kwargs(),
        )
        # The id and generator version come from this recorded step, never from module constants, so a
        # replay on a worker with a newer generator takes the same path.
        bid, version = found.benchmark_id, found.generator_version
        self._headline += f": {bid}"
        self._progress = BenchmarkProgress(benchmark_id=bid, stage="lookup")
        workflow.upsert_search_attributes([SA_BENCHMARK.value_set(bid)])
        if found.result is not None:
            result = found.result.model_copy(update={"reused": True})
            self._finish(result, reused=True)
            return result

        base = BenchmarkResult(
            benchmark_id=bid,
            family=family,
            seed=req.seed,
            generator_version=version,
            verdict=Verdict.REJECTED,
            # until the build has asked the family (or script) for its own settings
            basis=ProofBasis.asked(req.n_scenes, req.check_interval_steps),
        )

        repair = f" (proving again: {found.not_reused})" if found.not_reused else ""
        self._stage("build", f"{what}: CAD, artifacts, geometry validation{repair}")
        try:
            built: BuildResult = await workflow.execute_activity(
                BUILD_BENCHMARK.activity,
                BuildRequest(
                    benchmark_id=bid,
                    family=family,
                    seed=req.seed,
                    generator_version=version,
                    n_scenes=req.n_scenes,
                    check_interval_steps=req.check_interval_steps,
                    script=found.script,
                ),
                summary=f"build and validate {bid}{repair}",
                **heavy_options(BUILD_BENCHMARK, workflow.info().task_queue),
            )
        except ActivityError as e:
            cause = _rejecting_cause(e)
            if cause is None:
                raise
            proof = ProofResult(proof=Proof.GEOMETRY, passed=False, detail=f"{cause.type}: {cause.message}")
            return await self._record(None, base, [proof])
        definition, report = built.definition, built.geometry
        # the basis the build resolved (its family's own settings recorded); older builds returned none
        basis = built.basis or ProofBasis(
            n_scenes=definition.simulation.n_scenes,
            check_interval_steps=definition.simulation.check_interval_steps,
        )
        base = base.model_copy(update={"basis": basis})
        blocking = [f for f in report.findings if f.severity == Severity.BLOCKING]
        proofs = [
            ProofResult(
                proof=Proof.GEOMETRY,
                passed=report.valid,
                detail=(
                    f"{report.n_solids} solids, {report.candidate_pairs} broadphase pairs, "
                    f"{report.exact_checks} exact checks"
                    if report.valid
                    else "; ".join(f"{f.rule}: {f.message}" for f in blocking[:5])
                ),
                measured=float(len(blocking)),
                limit=0.0,
            )
        ]
        if not report.valid:
            return await self._record(definition, base, proofs)

        sim = definition.simulation
        self._stage("simulate", f"{sim.n_scenes} jittered scenes without a solution and with the reference")
        try:
            baseline, reference = await self._simulate_both(definition)
        except ActivityError as e:
            cause = _rejecting_cause(e)
            if cause is None:
                raise
            proof = ProofResult(proof=Proof.STABLE, passed=False, detail=f"{cause.type}: {cause.message}")
            return await self._record(definition, base, [*proofs, proof])
        trajectories = {r.mode.value: r.trajectory for r in (baseline, reference) if r.trajectory is not None}
        base = base.model_copy(
            update={"trajectories": trajectories, "structural_margin": structural_margin(reference)}
        )
        unstable = baseline.outcome_counts.get(Outcome.PHYSICS_INSTABILITY.value, 0)
        solved = reference.success_share >= sim.required_success_share
        proofs += [
            ProofResult(
                proof=Proof.STABLE,
                passed=unstable == 0,
                detail=f"baseline outcomes: {_outcomes(baseline)}",
                measured=float(unstable),
                limit=0.0,
            ),
            ProofResult(
                proof=Proof.NOT_TRIVIAL,
                passed=baseline.success_share == 0.0,
                detail=f"payload reached the goal without a solution in {baseline.success_share:.0%} of scenes",
                measured=baseline.success_share,
                limit=0.0,
            ),
            ProofResult(
                proof=Proof.SOLVABLE,
                passed=solved,
                detail=(
                    f"reference reached the goal in {reference.success_share:.0%} of {sim.n_scenes} scenes "
                    f"(required {sim.required_success_share:.0%}); outcomes: {_outcomes(reference)}"
                ),
                measured=reference.success_share,
                limit=sim.required_success_share,
            ),
        ]
        if not all(p.passed for p in proofs):
            return await self._record(definition, base, proofs)

        self._stage("affordability", bid)
        afford: AffordabilityResult = await workflow.execute_local_activity(
            ACT_ASSESS_AFFORDABILITY,
            AffordabilityRequest(definition=definition),
            result_type=AffordabilityResult,
            summary=f"price reference solution of {bid}",
            **LIGHT.kwargs(),
        )
        proofs.append(afford.proof)
        base = base.model_copy(update={"basis": (base.basis or ProofBasis()).with_ceilings(afford.basis)})
        if not afford.proof.passed or afford.caps is None:
            return await self._record(definition, base, proofs)
        definition = definition.model_copy(update={"caps": afford.caps})
        base = base.model_copy(update={"caps": afford.caps})
        plan = found.certify
        if plan is not None and workflow.patched(CERTIFIED):
            cert = await self._certify(definition, plan)
            proofs += cert.proofs
            base = base.model_copy(
                update={
                    "basis": (base.basis or ProofBasis()).with_certification(cert.basis),
                    "random": cert.random,
                    "robust": cert.robust,
                }
            )
            if not all(p.passed for p in cert.proofs):
                return await self._record(definition, base, proofs)
        published = base.model_copy(update={"verdict": Verdict.PUBLISHED})
        return await self._record(definition, published, proofs)

    async def _certify(self, definition: BenchmarkDefinition, plan: CertifyPlan) -> CertifyResult:
        """The random-design shards and the perturbed reference side by side, then judged together."""
        bid, shards, queue = definition.benchmark_id, plan.shards(), workflow.info().task_queue
        self._stage(
            "certify",
            f"{plan.random_designs} random designs in {len(shards)} shard{'s' * (len(shards) > 1)} and "
            f"{plan.perturbations} perturbed references",
        )
        random_calls = [
            workflow.execute_activity(
                RANDOM_PROOF.activity,
                RandomProofRequest(definition=definition, plan=plan, start=start, stop=stop),
                summary=f"random designs {start}-{stop - 1} of {bid}",
                **heavy_options(RANDOM_PROOF, queue),
            )
            for start, stop in shards
        ]
        robust_call = workflow.execute_activity(
            ROBUST_PROOF.activity,
            RobustProofRequest(definition=definition, plan=plan),
            summary=f"{plan.perturbations} perturbed references of {bid}",
            **heavy_options(ROBUST_PROOF, queue),
        )
        *reports, robust = await self._all([*random_calls, robust_call])
        return await workflow.execute_local_activity(
            ACT_ASSESS_CERTIFICATION,
            CertifyRequest(plan=plan, shards=list(reports), robust=robust),
            result_type=CertifyResult,
            summary=f"judge the certification of {bid}",
            **LIGHT.kwargs(),
        )

    async def _simulate_both(
        self, definition: BenchmarkDefinition
    ) -> tuple[SimulationReport, SimulationReport]:
        """Baseline and reference side by side."""
        baseline, reference = await self._all(
            [self._simulate(definition, mode) for mode in (SimulationMode.BASELINE, SimulationMode.REFERENCE)]
        )
        return baseline, reference

    @staticmethod
    async def _all(calls: list[Awaitable[Any]]) -> list[Any]:
        """The calls' results, in order; if one fails, the others are cancelled before re-raising."""
        tasks = [asyncio.ensure_future(c) for c in calls]
        try:
            await workflow.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            failed = next((t for t in tasks if t.done() and t.exception() is not None), None)
            if failed is not None:
                raise failed.exception()  # type: ignore[misc]
            return [t.result() for t in tasks]
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()

    async def _simulate(self, definition: BenchmarkDefinition, mode: SimulationMode) -> SimulationReport:
        return await workflow.execute_activity(
            SIMULATE_BENCHMARK.activity,
            SimulateRequest(definition=definition, mode=mode, n_scenes=definition.simulation.n_scenes),
            summary=f"simulate {definition.benchmark_id} ({mode.value}, {definition.simulation.n_scenes} scenes)",
            **heavy_options(SIMULATE_BENCHMARK, workflow.info().task_queue),
        )

    async def _record(
        self, definition: BenchmarkDefinition | None, result: BenchmarkResult, proofs: list[ProofResult]
    ) -> BenchmarkResult:
        failed = next((p for p in proofs if not p.passed), None)
        result = result.model_copy(
            update={
                "proofs": proofs,
                "failed_proof": failed.proof if failed else None,
                "reason": failed.detail if failed else None,
            }
        )
        self._stage("record", result.verdict.value)
        result = await workflow.execute_local_activity(
            ACT_RECORD_BENCHMARK,
            PublishRequest(definition=definition, result=result),
            result_type=BenchmarkResult,
            summary=f"record {result.benchmark_id}: {result.verdict.value}",
            **LIGHT.kwargs(),
        )
        self._finish(result)
        return result

    def _finish(self, result: BenchmarkResult, reused: bool = False) -> None:
        workflow.upsert_search_attributes([SA_VERDICT.value_set(result.verdict.value)])
        detail = result.verdict.value
        if result.failed_proof is not None:
            detail += f" ({result.failed_proof.value}: {result.reason})"
        self._stage("done", f"reused: {detail}" if reused else detail)
