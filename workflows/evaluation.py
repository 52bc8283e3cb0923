"""EvaluateDesign: a submitted design against a published benchmark, with one verdict and its evidence.

Stages: stage the design's files into the store (content-addressed; the design hash is recorded) -> look
up the benchmark and a stored result of the same evaluation (same benchmark, same design, same options:
returned without simulating again) -> build: run the design script in the sandbox or read the part files,
validate against the benchmark (a validation report naming each offending part ends the evaluation as
``invalid``) -> price the parts with the manufacturing engine against the caps -> simulate the jittered
scenes (a retry resumes after the last finished scene) -> evidence of a representative scene -> record.

Deterministic orchestration only: activities are called by name; the evaluation id comes from a
recorded activity result.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from shared.heavy import BUILD_DESIGN, RENDER_EVIDENCE, SIMULATE_BENCHMARK
    from shared.models import (
        BenchmarkDefinition,
        BuildDesignRequest,
        BuiltDesign,
        DesignCost,
        DfmFinding,
        DiscardEvaluationRequest,
        EvaluateRequest,
        EvaluationLookup,
        EvaluationLookupRequest,
        EvaluationProgress,
        EvaluationResult,
        EvaluationVerdict,
        Evidence,
        EvidenceRequest,
        Outcome,
        PriceDesignRequest,
        RecordEvaluationRequest,
        SimulateRequest,
        SimulationMode,
        SimulationReport,
        StagedDesign,
        StageDesignRequest,
    )
    from shared.temporal import (
        ACT_DISCARD_EVALUATION,
        ACT_LOOKUP_EVALUATION,
        ACT_PRICE_DESIGN,
        ACT_RECORD_EVALUATION,
        ACT_STAGE_DESIGN,
        LIGHT,
        SA_BENCHMARK,
        SA_STAGE,
        SA_VERDICT,
        UPLOAD,
        WF_EVALUATE_DESIGN,
        heavy_options,
    )
    from workflows._details import show, source_name
    from workflows._input import parse_input
    from workflows._notify import notify

PATCH_DISCARD = "evaluation-discard-unfinished"
"""A cancelled or failed evaluation removes what it wrote (histories from before run as they did)."""


def dfm_feedback(f: DfmFinding) -> str:
    """A blocking DFM finding as an agent can act on it: the rule, what was measured against which limit,
    where, and the fix."""
    unit = f" {f.unit}" if f.unit else ""
    said = f"{f.rule_id} ({f.title})"
    if f.measured is not None and f.limit is not None:
        said += f": {f.measured:.3g}{unit} against a limit of {f.limit:.3g}{unit}"
    if f.point_mm is not None:
        said += " at (" + ", ".join(f"{x:.1f}" for x in f.point_mm) + ") mm"
    if f.face_ids:
        said += f", faces {', '.join(str(i) for i in f.face_ids[:5])}" + (
            "..." if len(f.face_ids) > 5 else ""
        )
    return f"{said}; fix: {f.fix}"


def verdict_of(
    simulation: SimulationReport, required_share: float, required_scenes: int, cost: DesignCost
) -> tuple[EvaluationVerdict, str]:
    """Passed only when the goal was reached in the required share of at least the benchmark's own number
    of scenes, within both caps, and every part is manufacturable; otherwise failed, with every reason."""
    n = len(simulation.results)
    reached = simulation.outcome_counts.get(Outcome.GOAL_REACHED.value, 0)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(simulation.outcome_counts.items()))
    reasons = []
    if simulation.success_share < required_share:
        reasons.append(
            f"reached the goal in {reached} of {n} scenes, {required_share:.0%} required ({outcomes})"
        )
    if n < required_scenes:
        reasons.append(f"ran {n} scenes; passing takes at least the benchmark's {required_scenes}")
    if not cost.within_cost_cap:
        reasons.append(f"unit cost ${cost.unit_cost_usd:.2f} over the cap of ${cost.max_unit_cost_usd:.2f}")
    if not cost.within_weight_cap:
        reasons.append(f"weight {cost.weight_kg:.3f} kg over the cap of {cost.max_weight_kg:.3f} kg")
    if not cost.manufacturable:
        bad = "; ".join(
            f"{p.label} ({p.method.value}): "
            + (", ".join(dfm_feedback(f) for f in p.blocking_findings) or ", ".join(p.blocking))
            for p in cost.parts
            if p.blocking
        )
        reasons.append(f"not manufacturable as designed: {bad}")
    if reasons:
        return EvaluationVerdict.FAILED, "; ".join(reasons)
    summary = (
        f"reached the goal in {reached} of {n} scenes; ${cost.unit_cost_usd:.2f}/unit and "
        f"{cost.weight_kg:.3f} kg within the caps"
    )
    return EvaluationVerdict.PASSED, summary


def representative_scene(simulation: SimulationReport, required_share: float) -> int:
    """What the verdict rests on: when the design reached the goal often enough, the first scene that did;
    otherwise the first scene that did not."""
    solved = simulation.success_share >= required_share
    return next(
        (r.scene_index for r in simulation.results if (r.outcome == Outcome.GOAL_REACHED) == solved),
        0,
    )


@workflow.defn(name=WF_EVALUATE_DESIGN)
class EvaluateDesign:
    def __init__(self) -> None:
        self._progress = EvaluationProgress(stage="starting")
        self._heavy_cancel = ActivityCancellationType.TRY_CANCEL
        self._headline = "EvaluateDesign"

    @workflow.query(name="progress")
    def progress(self) -> EvaluationProgress:
        return self._progress

    def _stage(self, stage: str, detail: str = "") -> None:
        self._progress = EvaluationProgress(
            evaluation_id=self._progress.evaluation_id, stage=stage, detail=detail
        )
        show(self._headline, stage, detail)
        workflow.upsert_search_attributes([SA_STAGE.value_set(stage)])

    @workflow.run
    async def run(self, raw: RawValue) -> EvaluationResult:
        """Input: :class:`~shared.models.EvaluateRequest` (validated here, see ``_input``)."""
        req = parse_input(raw, EvaluateRequest)
        design = req.design
        if design.script is not None:
            submitted = f"the design script {source_name(design.script)}"
        else:
            parts = design.parts or []
            submitted = f"a design of {len(parts)} part file{'s' if len(parts) != 1 else ''}"
        self._headline = f"Evaluate {submitted} against the benchmark {req.benchmark_id}"
        result = await self._evaluate(req)
        await notify(req.webhook, "evaluation.completed", result)
        return result

    async def _evaluate(self, req: EvaluateRequest) -> EvaluationResult:
        workflow.upsert_search_attributes([SA_BENCHMARK.value_set(req.benchmark_id)])

        self._stage("stage", f"design for {req.benchmark_id}")
        staged: StagedDesign = await workflow.execute_activity(
            ACT_STAGE_DESIGN,
            StageDesignRequest(design=req.design, benchmark_id=req.benchmark_id),
            result_type=StagedDesign,
            summary=f"stage design for {req.benchmark_id}",
            **UPLOAD.kwargs(),
        )
        found: EvaluationLookup = await workflow.execute_local_activity(
            ACT_LOOKUP_EVALUATION,
            EvaluationLookupRequest(
                benchmark_id=req.benchmark_id,
                design_sha256=staged.design_sha256,
                n_scenes=req.n_scenes,
                evidence=req.evidence,
            ),
            result_type=EvaluationLookup,
            summary=f"lookup {req.benchmark_id} design {staged.design_sha256[:12]}",
            **LIGHT.kwargs(),
        )
        eid, definition = found.evaluation_id, found.definition
        self._progress = EvaluationProgress(evaluation_id=eid, stage="lookup")
        if found.result is not None:
            result = found.result.model_copy(update={"reused": True})
            self._finish(result, reused=True)
            return result
        discard = workflow.patched(PATCH_DISCARD)
        # With the patch a cancelled heavy step is awaited until its job is gone, so nothing writes after the
        # discard below; before it, the workflow went on at once.
        self._heavy_cancel = (
            ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
            if discard
            else ActivityCancellationType.TRY_CANCEL
        )
        try:
            return await self._prove(req, staged, eid, definition)
        except (asyncio.CancelledError, ActivityError):
            if discard:
                await self._discard(eid)
            raise

    def _honour_cancellation(self) -> None:
        """A heavy step awaited to the end of its cancellation may still finish first: the evaluation is
        cancelled all the same (without the patch, the cancellation was never awaited)."""
        waited = self._heavy_cancel == ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
        if waited and workflow.cancellation_reason() is not None:
            raise asyncio.CancelledError("the evaluation was cancelled while its step finished")

    async def _discard(self, eid: str) -> None:
        """An evaluation that was cancelled or failed leaves nothing under its prefix (the collision pieces,
        the trajectory, evidence): there is no result that refers to them, and the next evaluation builds its
        own. Content-addressed uploads and the per-part pieces cache stay."""
        self._stage("discard", f"{eid}: no result, removing what it wrote")
        try:
            await workflow.execute_local_activity(
                ACT_DISCARD_EVALUATION,
                DiscardEvaluationRequest(evaluation_id=eid),
                result_type=list[str],
                summary=f"discard the unfinished {eid}",
                **LIGHT.kwargs(),
            )
        except ActivityError as e:  # the original failure or cancellation is what the workflow reports
            workflow.logger.warning("could not discard the unfinished %s: %s", eid, e.cause or e)

    async def _prove(
        self, req: EvaluateRequest, staged: StagedDesign, eid: str, definition: BenchmarkDefinition
    ) -> EvaluationResult:
        base = EvaluationResult(
            evaluation_id=eid,
            benchmark_id=req.benchmark_id,
            design_sha256=staged.design_sha256,
            verdict=EvaluationVerdict.INVALID,
            reason="",
        )

        self._stage(
            "build", "design script in the sandbox" if staged.script else f"{len(staged.parts)} part files"
        )
        built: BuiltDesign = await workflow.execute_activity(
            BUILD_DESIGN.activity,
            BuildDesignRequest(evaluation_id=eid, definition=definition, design=staged),
            summary=f"build and validate design {staged.design_sha256[:12]} for {req.benchmark_id}",
            cancellation_type=self._heavy_cancel,
            **heavy_options(BUILD_DESIGN, workflow.info().task_queue),
        )
        self._honour_cancellation()
        timings = {"build": round(built.build_s, 3)}
        if not built.valid or built.scene is None:
            scene_names = {"build_zone", "goal_zone", *(p.label for p in definition.payloads)}
            offenders = sorted(
                {p for f in built.findings for p in f.parts}
                - scene_names
                - {
                    p
                    for f in built.findings
                    for p in f.parts
                    if p.startswith(("forbidden_zone:", "goal_zone:"))
                }
            )
            reason = f"{len(built.findings)} validation finding(s)"
            if offenders:
                reason += f" naming {', '.join(offenders)}"
            invalid = base.model_copy(
                update={
                    "reason": reason,
                    "findings": built.findings,
                    "parts": built.parts,
                    "timings_s": timings,
                }
            )
            return await self._record(invalid)
        scene = built.scene

        self._stage(
            "price",
            f"{len(built.parts)} parts at quantity {definition.caps.target_quantity if definition.caps else '?'}",
        )
        cost: DesignCost = await workflow.execute_local_activity(
            ACT_PRICE_DESIGN,
            PriceDesignRequest(definition=definition, parts=built.parts, facts=built.facts),
            result_type=DesignCost,
            summary=f"price design for {req.benchmark_id}",
            **LIGHT.kwargs(),
        )

        n_scenes = req.n_scenes or scene.simulation.n_scenes
        self._stage("simulate", f"{n_scenes} jittered scenes")
        simulation: SimulationReport = await workflow.execute_activity(
            SIMULATE_BENCHMARK.activity,
            SimulateRequest(
                definition=scene, mode=SimulationMode.DESIGN, n_scenes=n_scenes, evaluation_id=eid
            ),
            summary=f"simulate {eid} ({n_scenes} scenes)",
            cancellation_type=self._heavy_cancel,
            **heavy_options(SIMULATE_BENCHMARK, workflow.info().task_queue),
        )
        self._honour_cancellation()
        timings["compile"] = round(simulation.compile_s or 0.0, 3)
        timings["simulate"] = round(simulation.simulate_s or 0.0, 3)

        evidence: Evidence | None = None
        if req.evidence:
            index = representative_scene(simulation, scene.simulation.required_success_share)
            self._stage("evidence", f"scene {index}")
            evidence = await workflow.execute_activity(
                RENDER_EVIDENCE.activity,
                EvidenceRequest(
                    evaluation_id=eid,
                    scene=scene,
                    scene_index=index,
                    outcome=simulation.results[index].outcome,
                ),
                summary=f"evidence of {eid}, scene {index}",
                cancellation_type=self._heavy_cancel,
                **heavy_options(RENDER_EVIDENCE, workflow.info().task_queue),
            )
            self._honour_cancellation()
            timings["evidence"] = round(evidence.evidence_s, 3)

        required = scene.simulation.required_success_share
        verdict, reason = verdict_of(simulation, required, scene.simulation.n_scenes, cost)
        result = base.model_copy(
            update={
                "verdict": verdict,
                "reason": reason,
                "findings": built.findings,
                "parts": built.parts,
                "simulation": simulation,
                "success_share": simulation.success_share,
                "required_success_share": required,
                "meets_required_share": simulation.success_share >= required,
                "cost": cost,
                "evidence": evidence,
                "timings_s": timings,
            }
        )
        return await self._record(result)

    async def _record(self, result: EvaluationResult) -> EvaluationResult:
        self._stage("record", result.verdict.value)
        result = await workflow.execute_local_activity(
            ACT_RECORD_EVALUATION,
            RecordEvaluationRequest(result=result),
            result_type=EvaluationResult,
            summary=f"record {result.evaluation_id}: {result.verdict.value}",
            **LIGHT.kwargs(),
        )
        self._finish(result)
        return result

    def _finish(self, result: EvaluationResult, reused: bool = False) -> None:
        workflow.upsert_search_attributes([SA_VERDICT.value_set(result.verdict.value)])
        detail = f"{result.verdict.value}: {result.reason}"
        self._stage("done", f"reused: {detail}" if reused else detail)
