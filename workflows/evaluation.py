"""EvaluateDesign: a submitted design against a published benchmark, with one verdict and its evidence.

Stages: stage the design's files into the store (content-addressed; the design hash is recorded) -> look
up the benchmark and a stored result of the same evaluation (same benchmark, same design, same options:
returned without simulating again) -> build: run the design script in the sandbox or read the part files,
validate against the benchmark (a validation report naming each offending part ends the evaluation as
``invalid``) -> price the parts with the manufacturing engine against the caps -> simulate the jittered
scenes (a retry resumes after the last finished scene) -> evidence of a representative scene -> record.
With a submitter: held-out scenes, admission under the per-submitter limit before the build, and the
leaderboard attempt recorded after the result (stored or new).

Deterministic orchestration only: activities are called by name; the evaluation id comes from a
recorded activity result.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from shared.heavy import BUILD_DESIGN, RENDER_EVIDENCE, SIMULATE_BENCHMARK
    from shared.models import (
        Admission,
        AdmissionRequest,
        BenchmarkDefinition,
        BuildDesignRequest,
        BuiltDesign,
        DesignCost,
        DiscardEvaluationRequest,
        EvaluateRequest,
        EvaluationLookup,
        EvaluationLookupRequest,
        EvaluationProgress,
        EvaluationResult,
        EvaluationVerdict,
        Evidence,
        EvidenceRequest,
        LeaderboardEntry,
        PriceDesignRequest,
        RecordAttemptRequest,
        RecordEvaluationRequest,
        SimulateRequest,
        SimulationMode,
        SimulationReport,
        StagedDesign,
        StageDesignRequest,
        offending_parts,
    )
    from shared.temporal import (
        ACT_ADMIT_EVALUATION,
        ACT_DISCARD_EVALUATION,
        ACT_LOOKUP_EVALUATION,
        ACT_PRICE_DESIGN,
        ACT_RECORD_ATTEMPT,
        ACT_RECORD_EVALUATION,
        ACT_STAGE_DESIGN,
        LIGHT,
        SA_BENCHMARK,
        SA_STAGE,
        SA_SUBMITTER,
        SA_VERDICT,
        UPLOAD,
        WF_EVALUATE_DESIGN,
        heavy_options,
    )
    from workflows._details import show, source_name
    from workflows._input import parse_input
    from workflows._notify import notify
    from workflows._verdict import attempt_of, representative_scene, verdict_of

PATCH_DISCARD = "evaluation-discard-unfinished"
"""A cancelled or failed evaluation removes what it wrote (histories from before run as they did)."""
PATCH_LEADERBOARD = "evaluation-leaderboard"
"""An evaluation with a submitter runs on held-out scenes, waits for admission under the per-submitter limit
and records its attempt. Asked only when there is a submitter: evaluations without one (every history from
before) have no marker and run as they did."""
ADMISSION_WAIT_S = (1, 2, 3, 5)
"""Seconds between admission checks while the submitter's earlier evaluations fill the limit (then 5 s)."""


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
        submitter = req.submitter if req.submitter and workflow.patched(PATCH_LEADERBOARD) else None
        if submitter:
            workflow.upsert_search_attributes([SA_SUBMITTER.value_set(submitter)])

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
                held_out=submitter is not None,
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
            return await self._attempt(result, submitter)
        if submitter:
            await self._admit(submitter)
        discard = workflow.patched(PATCH_DISCARD)
        # With the patch a cancelled heavy step is awaited until its job is gone, so nothing writes after the
        # discard below; before it, the workflow went on at once.
        self._heavy_cancel = (
            ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
            if discard
            else ActivityCancellationType.TRY_CANCEL
        )
        try:
            return await self._attempt(await self._prove(req, staged, eid, definition), submitter)
        except (asyncio.CancelledError, ActivityError):
            if discard:
                await self._discard(eid)
            raise

    async def _admit(self, submitter: str) -> None:
        """Wait, on timers, until fewer than the limit of the submitter's earlier evaluations are running."""
        info = workflow.info()
        waits = 0
        while True:
            admission: Admission = await workflow.execute_local_activity(
                ACT_ADMIT_EVALUATION,
                AdmissionRequest(
                    submitter=submitter, workflow_id=info.workflow_id, started_at=info.workflow_start_time
                ),
                result_type=Admission,
                summary=f"admit an evaluation of {submitter}",
                **LIGHT.kwargs(),
            )
            if admission.admitted:
                return
            self._stage(
                "queued",
                f"{admission.earlier_running} earlier evaluations of {submitter} running "
                f"(limit {admission.limit})",
            )
            await workflow.sleep(timedelta(seconds=ADMISSION_WAIT_S[min(waits, len(ADMISSION_WAIT_S) - 1)]))
            waits += 1

    async def _attempt(self, result: EvaluationResult, submitter: str | None) -> EvaluationResult:
        """Record the result as the submitter's attempt on the leaderboard (nothing without a submitter)."""
        if submitter:
            await workflow.execute_local_activity(
                ACT_RECORD_ATTEMPT,
                RecordAttemptRequest(
                    entry=attempt_of(result, submitter, workflow.info().workflow_start_time)
                ),
                result_type=LeaderboardEntry,
                summary=f"record the attempt of {submitter} on {result.benchmark_id}",
                **LIGHT.kwargs(),
            )
        return result

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
            offenders = offending_parts(built.findings, definition)
            reason = f"{len(built.findings)} validation finding(s)"
            if offenders:
                reason += f" naming {', '.join(offenders)}"
            invalid = base.model_copy(
                update={
                    "reason": reason,
                    "findings": built.findings,
                    "parts": built.parts,
                    "invalid_picture": built.picture,
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
