"""Temporal activities of dataset generation, on the main task queue: the request's boundary checks, the
manifest parts each run writes and the one manifest merged from them. Store reads and writes run in a thread
so the event loop stays free.
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shared.boundary import dataset_request_problem
from shared.families import GENERATOR_VERSION
from shared.ids import dataset_content, dataset_id
from shared.keys import manifest_key, manifest_part_key
from shared.logging import get_logger
from shared.models import (
    ArtifactRef,
    DatasetEntry,
    DatasetManifest,
    DatasetRequest,
    DatasetResult,
    ErrorType,
    FinalizeDatasetRequest,
    ManifestPartRequest,
    PrepareDatasetRequest,
    PreparedDataset,
    Verdict,
)
from shared.settings import Settings
from shared.store import ObjectNotFound, ObjectStore
from shared.temporal import ACT_FINALIZE_DATASET, ACT_PREPARE_DATASET, ACT_WRITE_MANIFEST_PART

log = get_logger(__name__)


class DatasetActivities:
    """A dataset's bookkeeping against the object store: one dataset per id, and its manifest."""

    def __init__(self, store: ObjectStore, settings: Settings):
        self._store = store
        self._settings = settings

    @activity.defn(name=ACT_PREPARE_DATASET)
    async def prepare_dataset(self, req: PrepareDatasetRequest) -> PreparedDataset:
        """Boundary checks that need the worker's configuration; nothing is written."""
        r = req.request
        problem = dataset_request_problem(r, self._settings)
        if problem:
            raise ApplicationError(problem, type=ErrorType.INVALID_REQUEST, non_retryable=True)
        ds = dataset_id(r, GENERATOR_VERSION)
        await asyncio.to_thread(self._refuse_another_request, ds, r)
        return PreparedDataset(dataset_id=ds, generator_version=GENERATOR_VERSION)

    def _refuse_another_request(self, ds: str, request: DatasetRequest) -> None:
        """A dataset id names one dataset: the same request may regenerate it (a schedule does, every run), a
        request for other benchmarks may not replace its manifest. ``InvalidRequest`` naming what differs."""
        key = manifest_key(ds)
        try:
            stored = self._store.get_model(key, DatasetManifest)
        except ObjectNotFound:
            return
        except ValidationError as e:  # nothing to compare with: regenerating rewrites it
            log.warning("dataset.unreadable_manifest", key=key, error=str(e)[:300])
            return
        theirs, ours = dataset_content(stored.request), dataset_content(request)
        differ = [f"{k} {theirs[k]!r} there, {ours[k]!r} here" for k in ours if theirs.get(k) != ours[k]]
        if differ:
            raise ApplicationError(
                f"dataset_id: {ds!r} already holds a dataset made from another request ({'; '.join(differ)}); "
                "repeat that request to regenerate it, or choose another dataset_id",
                type=ErrorType.INVALID_REQUEST,
                non_retryable=True,
            )

    @activity.defn(name=ACT_WRITE_MANIFEST_PART)
    async def write_manifest_part(self, req: ManifestPartRequest) -> ArtifactRef:
        key = manifest_part_key(req.dataset_id, req.chain, req.part_index)
        return await asyncio.to_thread(self._store.put_model, key, req)

    @activity.defn(name=ACT_FINALIZE_DATASET)
    async def finalize_dataset(self, req: FinalizeDatasetRequest) -> DatasetResult:
        """Merge the manifest parts written by each run into one manifest (written atomically, last)."""

        def merge() -> DatasetResult:
            entries: list[DatasetEntry] = []
            for index in range(req.part_count):
                key = manifest_part_key(req.dataset_id, req.chain, index)
                entries.extend(self._store.get_model(key, ManifestPartRequest).entries)
            entries.sort(key=lambda e: e.index)
            # checked at the start too; this catches a request for other benchmarks that wrote meanwhile
            self._refuse_another_request(req.dataset_id, req.request)
            counts = {v: sum(e.verdict == v for e in entries) for v in Verdict}
            manifest = DatasetManifest(
                dataset_id=req.dataset_id,
                request=req.request.model_copy(update={"resume": None}),
                generator_version=GENERATOR_VERSION,
                entries=entries,
            )
            ref = self._store.put_model(manifest_key(req.dataset_id), manifest)
            return DatasetResult(
                dataset_id=req.dataset_id,
                count=len(entries),
                published=counts[Verdict.PUBLISHED],
                rejected=counts[Verdict.REJECTED],
                failed=counts[Verdict.FAILED],
                manifest=ref,
            )

        return await asyncio.to_thread(merge)
