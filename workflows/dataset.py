"""GenerateDataset: a bounded fan-out of GenerateBenchmark children.

- at most ``max_parallel`` children run at once (a sliding window);
- each run handles at most ``chunk_size`` children, writes their entries as a manifest part to the store,
  and continues as new with a small cursor, so history stays small for any count;
- benchmark ids are deterministic, so re-running a dataset reuses finished benchmarks;
- the ``progress`` query feeds the CLI's progress bar; the final manifest lands in the store last.
"""

from __future__ import annotations

import asyncio
import hashlib

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
    is_cancelled_exception,
)
from temporalio.exceptions import (
    TimeoutError as TemporalTimeoutError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from shared.families import unknown_families_message
    from shared.ids import benchmark_id, dataset_item
    from shared.models import (
        ArtifactRef,
        BenchmarkResult,
        DatasetCursor,
        DatasetEntry,
        DatasetProgress,
        DatasetRequest,
        DatasetResult,
        ErrorType,
        FinalizeDatasetRequest,
        GenerateBenchmarkRequest,
        ManifestPartRequest,
        PrepareDatasetRequest,
        PreparedDataset,
        Proof,
        Verdict,
    )
    from shared.splits import cross_family_fold, within_family_fold
    from shared.temporal import (
        ACT_FINALIZE_DATASET,
        ACT_PREPARE_DATASET,
        ACT_WRITE_MANIFEST_PART,
        LIGHT,
        SA_DATASET,
        SA_STAGE,
        WF_GENERATE_BENCHMARK,
        WF_GENERATE_DATASET,
    )
    from workflows._details import show
    from workflows._input import parse_input
    from workflows._notify import notify

MAX_REASON_CHARS = 300


def _failure_reason(error: BaseException) -> str:
    """What went wrong, not the wrapping: the innermost cause's type and the first line of its message (a typed
    application error, a timeout with its kind, a termination...), after the activity it ended, e.g.
    ``build_benchmark: TimeoutError (heartbeat): activity Heartbeat timeout``."""
    chain: list[BaseException] = []
    inner: BaseException | None = error
    while inner is not None and inner not in chain:
        chain.append(inner)
        inner = getattr(inner, "cause", None) or inner.__cause__
    innermost = chain[-1]
    activity = next((e.activity_type for e in reversed(chain) if isinstance(e, ActivityError)), None)
    if isinstance(innermost, ApplicationError):
        kind = innermost.type or "ApplicationError"
    elif isinstance(innermost, TemporalTimeoutError) and innermost.type is not None:
        kind = f"TimeoutError ({innermost.type.name.lower().replace('_', '-')})"
    else:
        kind = type(innermost).__name__
    text = innermost.message if isinstance(innermost, FailureError) else str(innermost)
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    reason = f"{kind}: {first}" if first else kind
    return (f"{activity}: {reason}" if activity else reason)[:MAX_REASON_CHARS]


@workflow.defn(name=WF_GENERATE_DATASET)
class GenerateDataset:
    def __init__(self) -> None:
        self._progress = DatasetProgress(dataset_id="", total=0, completed=0, published=0, rejected=0)
        self._running: dict[int, str] = {}
        self._headline = "GenerateDataset"

    @workflow.query(name="progress")
    def progress(self) -> DatasetProgress:
        return self._progress.model_copy(update={"running": sorted(self._running.values())})

    def _set_stage(
        self, stage: str, cursor: DatasetCursor, done_in_run: list[DatasetEntry], total: int
    ) -> None:
        counts = {v: sum(e.verdict == v for e in done_in_run) for v in Verdict}
        self._progress = DatasetProgress(
            dataset_id=cursor.dataset_id,
            total=total,
            completed=cursor.next_index + len(done_in_run),
            published=cursor.published + counts[Verdict.PUBLISHED],
            rejected=cursor.rejected + counts[Verdict.REJECTED],
            failed=cursor.failed + counts[Verdict.FAILED],
            stage=stage,
        )
        p = self._progress
        show(
            self._headline,
            stage,
            f"{p.completed}/{total} done: {p.published} published, {p.rejected} rejected"
            + (f", {p.failed} failed" if p.failed else ""),
        )

    def _set_headline(self, req: DatasetRequest, dataset: str | None) -> None:
        self._headline = (
            f"Generate dataset {dataset or '(id derived from the request)'}: {req.count} benchmarks of "
            f"{', '.join(req.families)} from seed {req.base_seed}"
        )

    @workflow.run
    async def run(self, raw: RawValue) -> DatasetResult:
        """Input: :class:`~shared.models.DatasetRequest` (validated here, see ``_input``)."""
        req = parse_input(raw, DatasetRequest)
        problem = unknown_families_message(req.families)
        if problem:
            raise ApplicationError(problem, type=ErrorType.INVALID_REQUEST, non_retryable=True)
        cursor = req.resume
        self._set_headline(req, cursor.dataset_id if cursor else req.dataset_id)
        if cursor is None:
            show(self._headline, "checking", "the request against the worker's limits and the stored dataset")
        if cursor is not None and workflow.info().continued_run_id is None:
            # Only this workflow sets the cursor when it continues as new; from outside it would bypass the
            # boundary checks (count maximum, dataset id).
            raise ApplicationError(
                "resume: set by GenerateDataset itself when it continues as new; leave it empty",
                type=ErrorType.INVALID_REQUEST,
                non_retryable=True,
            )
        if cursor is None:
            try:
                prepared: PreparedDataset = await workflow.execute_activity(
                    ACT_PREPARE_DATASET,
                    PrepareDatasetRequest(request=req.model_copy(update={"webhook": None})),  # notify's alone
                    result_type=PreparedDataset,
                    summary=f"check request: {req.count} benchmarks of {', '.join(req.families)}",
                    **LIGHT.kwargs(),
                )
            except ActivityError as e:
                if isinstance(e.cause, ApplicationError) and e.cause.type == ErrorType.INVALID_REQUEST:
                    # surface the boundary's message as the workflow's own failure
                    raise ApplicationError(e.cause.message, type=e.cause.type, non_retryable=True) from None
                raise
            cursor = DatasetCursor(
                dataset_id=prepared.dataset_id,
                generator_version=prepared.generator_version,
                # the workflow id survives continue-as-new; parts of concurrent runs never collide
                chain=hashlib.sha256(workflow.info().workflow_id.encode()).hexdigest()[:12],
            )
            self._set_headline(req, cursor.dataset_id)
        workflow.upsert_search_attributes(
            [SA_DATASET.value_set(cursor.dataset_id), SA_STAGE.value_set("generating")]
        )

        chunk_end = min(req.count, cursor.next_index + req.chunk_size)
        entries = await self._run_chunk(req, cursor, chunk_end)

        counts = {v: sum(e.verdict == v for e in entries) for v in Verdict}
        await workflow.execute_activity(
            ACT_WRITE_MANIFEST_PART,
            ManifestPartRequest(
                dataset_id=cursor.dataset_id,
                chain=cursor.chain,
                part_index=cursor.part_count,
                entries=entries,
            ),
            result_type=ArtifactRef,
            summary=f"manifest part {cursor.part_count} ({len(entries)} entries)",
            **LIGHT.kwargs(),
        )
        cursor = cursor.model_copy(
            update={
                "next_index": chunk_end,
                "part_count": cursor.part_count + 1,
                "published": cursor.published + counts[Verdict.PUBLISHED],
                "rejected": cursor.rejected + counts[Verdict.REJECTED],
                "failed": cursor.failed + counts[Verdict.FAILED],
            }
        )
        if chunk_end < req.count:
            self._set_stage("continuing", cursor, [], req.count)
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(req.model_copy(update={"resume": cursor}))

        self._set_stage("finalizing", cursor, [], req.count)
        result: DatasetResult = await workflow.execute_activity(
            ACT_FINALIZE_DATASET,
            FinalizeDatasetRequest(
                dataset_id=cursor.dataset_id,
                request=req.model_copy(update={"resume": None, "webhook": None}),  # no token in the manifest
                chain=cursor.chain,
                part_count=cursor.part_count,
            ),
            result_type=DatasetResult,
            summary=f"write manifest of {cursor.dataset_id}",
            **LIGHT.kwargs(),
        )
        workflow.upsert_search_attributes([SA_STAGE.value_set("done")])
        self._set_stage("done", cursor, [], req.count)
        await notify(req.webhook, "dataset.completed", result)
        return result

    async def _run_chunk(
        self, req: DatasetRequest, cursor: DatasetCursor, chunk_end: int
    ) -> list[DatasetEntry]:
        """Children for indices [cursor.next_index, chunk_end), at most ``max_parallel`` at a time."""
        entries: list[DatasetEntry] = []
        pending: list[asyncio.Task[DatasetEntry]] = []
        self._set_stage("generating", cursor, entries, req.count)
        try:
            for index in range(cursor.next_index, chunk_end):
                while len(pending) >= req.max_parallel:
                    pending = await self._collect_one(pending, entries, cursor, req.count)
                pending.append(asyncio.create_task(self._child(req, cursor, index)))
            while pending:
                pending = await self._collect_one(pending, entries, cursor, req.count)
        except asyncio.CancelledError:
            # The dataset was cancelled: cancel the running children too (visible in their histories).
            for task in pending:
                task.cancel()
            raise
        entries.sort(key=lambda e: e.index)
        return entries

    async def _collect_one(
        self,
        pending: list[asyncio.Task[DatasetEntry]],
        entries: list[DatasetEntry],
        cursor: DatasetCursor,
        total: int,
    ) -> list[asyncio.Task[DatasetEntry]]:
        """Wait for at least one child, record what finished, return what is still running."""
        done, rest = await workflow.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        entries.extend(t.result() for t in done)
        self._set_stage("generating", cursor, entries, total)
        return list(rest)

    async def _child(self, req: DatasetRequest, cursor: DatasetCursor, index: int) -> DatasetEntry:
        dataset = cursor.dataset_id
        family, seed = dataset_item(req, index)
        bid = benchmark_id(family, seed, cursor.generator_version)
        self._running[index] = bid
        base = {
            "index": index,
            "benchmark_id": bid,
            "family": family,
            "seed": seed,
            "within_family_fold": within_family_fold(dataset, bid),
            "cross_family_fold": cross_family_fold(family, list(req.families)),
        }
        try:
            result: BenchmarkResult = await workflow.execute_child_workflow(
                WF_GENERATE_BENCHMARK,
                GenerateBenchmarkRequest(
                    family=family,
                    seed=seed,
                    n_scenes=req.n_scenes,
                    check_interval_steps=req.check_interval_steps,
                    dataset_id=dataset,
                    generator_version=cursor.generator_version,
                    certify=req.certify,
                ),
                result_type=BenchmarkResult,
                id=f"{workflow.info().workflow_id}--{bid}",
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                static_summary=f"{family} seed {seed} ({bid})",
                static_details=f"dataset {dataset}, item {index + 1} of {req.count}",
            )
        except ChildWorkflowError as e:
            # The child crashed after its activity retries, or someone cancelled it: record it and keep the
            # dataset going. (When the dataset itself is cancelled, CancelledError passes through instead.)
            what = "cancelled" if is_cancelled_exception(e) else f"generation failed: {_failure_reason(e)}"
            return DatasetEntry(**base, verdict=Verdict.FAILED, reason=what)
        except WorkflowAlreadyStartedError:
            return DatasetEntry(
                **base,
                verdict=Verdict.FAILED,
                reason=f"a workflow for {bid} of this dataset is already running",
            )
        finally:
            self._running.pop(index, None)
        reference = next((p for p in result.proofs if p.proof == Proof.SOLVABLE), None)
        return DatasetEntry(
            **base,
            verdict=result.verdict,
            failed_proof=result.failed_proof,
            reason=result.reason,
            max_unit_cost_usd=result.caps.max_unit_cost_usd if result.caps else None,
            max_weight_kg=result.caps.max_weight_kg if result.caps else None,
            success_share=reference.measured if reference else None,
            reused=result.reused,
            level=result.difficulty.level if result.difficulty else None,
            random_designs=result.random.simulated if result.random else None,
            random_solve_rate=result.random.solve_rate if result.random else None,
            random_upper_bound=result.random.upper_bound if result.random else None,
            robust_share=result.robust.share if result.robust else None,
        )
