"""AnalyzeManufacturing: DFM findings and a quote for one part, method, material and quantity.

Stages: stage the part into the store (and check the request against the catalogue) -> run the part's
script in a sandbox when the part is a script -> extract geometry facts (cached by content hash, so a
repeat analysis of the same file skips this) -> rules and pricing for the requested method and quantity,
the quantity ladder and the other methods as alternatives -> the report, stored and returned.

Deterministic orchestration only: activities are called by name; the analysis id is derived from the
staged part's hash and the request, both recorded in history.
"""

from __future__ import annotations

import hashlib
import json

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from shared.heavy import EXTRACT_PART_FACTS, RUN_PART_SCRIPT
    from shared.models import (
        AnalysisProgress,
        AnalyzeRequest,
        FactsRequest,
        FactsResult,
        ManufacturingReport,
        PriceRequest,
        StagedPart,
        StagePartRequest,
    )
    from shared.temporal import (
        ACT_PRICE_PART,
        ACT_STAGE_PART,
        LIGHT,
        SA_STAGE,
        WF_ANALYZE_MANUFACTURING,
        heavy_options,
    )
    from workflows._details import show, source_name
    from workflows._input import parse_input
    from workflows._notify import notify


def analysis_id(req: AnalyzeRequest, part_sha256: str) -> str:
    """Same part bytes and same request (method, material, quantity, ladder, prices, alternatives) give
    the same id, whatever the file was called, where it came from or who is notified."""
    basis = req.model_dump(mode="json", exclude={"part", "webhook"})
    digest = hashlib.sha256((part_sha256 + json.dumps(basis, sort_keys=True)).encode()).hexdigest()
    return f"{req.method.value}-{req.material.value}-q{req.quantity}-{digest[:16]}"


@workflow.defn(name=WF_ANALYZE_MANUFACTURING)
class AnalyzeManufacturing:
    def __init__(self) -> None:
        self._progress = AnalysisProgress(stage="starting")
        self._headline = "AnalyzeManufacturing"

    @workflow.query(name="progress")
    def progress(self) -> AnalysisProgress:
        return self._progress

    def _stage(self, stage: str, detail: str = "") -> None:
        self._progress = AnalysisProgress(stage=stage, detail=detail)
        show(self._headline, stage, detail)
        workflow.upsert_search_attributes([SA_STAGE.value_set(stage)])

    @workflow.run
    async def run(self, raw: RawValue) -> ManufacturingReport:
        """Input: :class:`~shared.models.AnalyzeRequest` (validated here, see ``_input``)."""
        req = parse_input(raw, AnalyzeRequest)
        what = f"{req.method.value}, {req.material.value}, quantity {req.quantity}"
        self._headline = f"Manufacturing analysis of {source_name(req.part)}: {what}"

        self._stage("stage", what)
        staged: StagedPart = await workflow.execute_activity(
            ACT_STAGE_PART,
            StagePartRequest(source=req.part, method=req.method, material=req.material, finish=req.finish),
            result_type=StagedPart,
            summary=f"stage part for {what}",
            **LIGHT.kwargs(),
        )
        if staged.format == "script":
            self._stage("script", "running the part script in a sandbox")
            staged = await workflow.execute_activity(
                RUN_PART_SCRIPT.activity,
                staged,
                summary=f"run part script {staged.artifact.sha256[:12]}",
                **heavy_options(RUN_PART_SCRIPT, workflow.info().task_queue),
            )

        self._stage("facts", f"part {staged.artifact.sha256[:12]}")
        facts: FactsResult = await workflow.execute_activity(
            EXTRACT_PART_FACTS.activity,
            FactsRequest(part=staged),
            summary=f"geometry facts of {staged.artifact.sha256[:12]}",
            **heavy_options(EXTRACT_PART_FACTS, workflow.info().task_queue),
        )

        aid = analysis_id(req, staged.artifact.sha256)
        self._stage("price", what)
        report: ManufacturingReport = await workflow.execute_activity(
            ACT_PRICE_PART,
            PriceRequest(
                analysis_id=aid,
                request=req.model_copy(update={"webhook": None}),  # the webhook is notify's alone
                part=staged,
                facts=facts,
            ),
            result_type=ManufacturingReport,
            summary=f"DFM and quote: {what}",
            **LIGHT.kwargs(),
        )
        verdict = "manufacturable" if report.manufacturable else "not manufacturable as designed"
        self._stage("done", f"{verdict}; ${report.quote.unit_cost_usd:.2f}/part at {req.quantity}")
        await notify(req.webhook, "analysis.completed", report)
        return report
