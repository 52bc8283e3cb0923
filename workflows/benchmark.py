"""GenerateBenchmark: build one seeded benchmark and publish it only when every proof holds.

Stages: lookup (reuse a finished benchmark) -> build and validate geometry -> simulate, the baseline (stable
and not solved without a solution) and the reference solution (solved in the required share of jittered
scenes) side by side -> affordability (caps) -> record. A failed proof is a verdict with the reason and numbers, not a crash.
Deterministic orchestration only: no I/O, no clocks, no heavy imports. The quick store steps (lookup,
affordability, record) are local activities: each costs a few milliseconds instead of a ~50 ms task round trip.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.benchmark import HeavyActivities, StoreActivities
    from shared.catalog import FAMILIES, GENERATOR_VERSION
    from shared.ids import benchmark_id
    from shared.models import (
        AffordabilityRequest,
        BenchmarkDefinition,
        BenchmarkProgress,
        BenchmarkResult,
        BuildRequest,
        GenerateBenchmarkRequest,
        LookupRequest,
        Outcome,
        Proof,
        ProofResult,
        PublishRequest,
        Severity,
        SimulateRequest,
        SimulationMode,
        SimulationReport,
        Verdict,
    )
    from shared.temporal import (
        HEAVY,
        LIGHT,
        SA_BENCHMARK,
        SA_DATASET,
        SA_FAMILY,
        SA_SEED,
        SA_STAGE,
        SA_VERDICT,
        WF_GENERATE_BENCHMARK,
        heavy_queue_for,
    )

# Error types raised by the build job for parameters a family cannot turn into a valid benchmark.
REJECTING_BUILD_ERRORS = {"InfeasibleParameters", "InvalidGeometry"}


def _outcomes(report: SimulationReport) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(report.outcome_counts.items()))


@workflow.defn(name=WF_GENERATE_BENCHMARK)
class GenerateBenchmark:
    def __init__(self) -> None:
        self._progress = BenchmarkProgress(benchmark_id="", stage="starting")

    @workflow.query(name="progress")
    def progress(self) -> BenchmarkProgress:
        return self._progress

    def _stage(self, stage: str, detail: str = "") -> None:
        self._progress = BenchmarkProgress(benchmark_id=self._progress.benchmark_id, stage=stage, detail=detail)
        workflow.set_current_details(f"**{stage}** {detail}".strip())
        workflow.upsert_search_attributes([SA_STAGE.value_set(stage)])

    @workflow.run
    async def run(self, req: GenerateBenchmarkRequest) -> BenchmarkResult:
        if req.family not in FAMILIES:
            raise ApplicationError(
                f"family: unknown family {req.family!r}; known families are {list(FAMILIES)}",
                type="InvalidRequest",
                non_retryable=True,
            )
        bid = benchmark_id(req.family, req.seed, GENERATOR_VERSION)
        self._progress = BenchmarkProgress(benchmark_id=bid, stage="starting")
        attrs = [SA_FAMILY.value_set(req.family), SA_SEED.value_set(req.seed), SA_BENCHMARK.value_set(bid)]
        if req.dataset_id:
            attrs.append(SA_DATASET.value_set(req.dataset_id))
        workflow.upsert_search_attributes(attrs)

        self._stage("lookup", bid)
        found = await workflow.execute_local_activity_method(
            StoreActivities.lookup_benchmark, LookupRequest(benchmark_id=bid), summary=f"lookup {bid}", **LIGHT.kwargs()
        )
        if found.result is not None:
            result = found.result.model_copy(update={"reused": True})
            self._finish(result, reused=True)
            return result

        base = {"benchmark_id": bid, "family": req.family, "seed": req.seed, "generator_version": GENERATOR_VERSION}

        self._stage("build", f"{req.family} seed {req.seed}: CAD, artifacts, geometry validation")
        try:
            built = await workflow.execute_activity_method(
                HeavyActivities.build_benchmark,
                BuildRequest(**base, n_scenes=req.n_scenes, check_interval_steps=req.check_interval_steps),
                task_queue=self._heavy_queue(),
                summary=f"build and validate {bid}",
                **HEAVY.kwargs(),
            )
        except ActivityError as e:
            cause = e.cause
            if isinstance(cause, ApplicationError) and cause.type in REJECTING_BUILD_ERRORS:
                proof = ProofResult(proof=Proof.GEOMETRY, passed=False, detail=cause.message)
                return await self._record(None, BenchmarkResult(**base, verdict=Verdict.REJECTED), [proof])
            raise
        definition, report = built.definition, built.geometry
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
            return await self._record(definition, BenchmarkResult(**base, verdict=Verdict.REJECTED), proofs)

        sim = definition.simulation
        self._stage("simulate", f"{sim.n_scenes} jittered scenes without a solution and with the reference")
        baseline, reference = await asyncio.gather(
            self._simulate(definition, SimulationMode.BASELINE),
            self._simulate(definition, SimulationMode.REFERENCE),
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
            return await self._record(definition, BenchmarkResult(**base, verdict=Verdict.REJECTED), proofs)

        self._stage("affordability", bid)
        afford = await workflow.execute_local_activity_method(
            StoreActivities.assess_affordability,
            AffordabilityRequest(definition=definition),
            summary=f"price reference solution of {bid}",
            **LIGHT.kwargs(),
        )
        proofs.append(afford.proof)
        if not afford.proof.passed or afford.caps is None:
            return await self._record(definition, BenchmarkResult(**base, verdict=Verdict.REJECTED), proofs)
        definition = definition.model_copy(update={"caps": afford.caps})
        return await self._record(
            definition, BenchmarkResult(**base, verdict=Verdict.PUBLISHED, caps=afford.caps), proofs
        )

    def _heavy_queue(self) -> str:
        return heavy_queue_for(workflow.info().task_queue)

    async def _simulate(self, definition: BenchmarkDefinition, mode: SimulationMode) -> SimulationReport:
        return await workflow.execute_activity_method(
            HeavyActivities.simulate_benchmark,
            SimulateRequest(definition=definition, mode=mode, n_scenes=definition.simulation.n_scenes),
            task_queue=self._heavy_queue(),
            summary=f"simulate {definition.benchmark_id} ({mode.value})",
            **HEAVY.kwargs(),
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
        result = await workflow.execute_local_activity_method(
            StoreActivities.record_benchmark,
            PublishRequest(definition=definition, result=result),
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
