"""Temporal activities for manufacturing analysis on the main queue: staging a part and pricing it.

Both are quick: staging copies a file into the store (content-addressed), pricing runs the rules and cost
models over cached geometry facts (numpy, milliseconds). Geometry extraction and part scripts are heavy
activities (see :class:`activities.heavy.HeavyActivities`).
"""

from __future__ import annotations

import asyncio
import time

from temporalio import activity
from temporalio.exceptions import ApplicationError

from engines.manufacturing.analysis import analyse
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.facts import PartFacts
from shared import metrics
from shared.boundary import (
    BoundaryError,
    check_size,
    check_stored_part,
    checked_file_name,
    read_part_file,
)
from shared.keys import analysis_report_key, upload_key
from shared.logging import get_logger
from shared.materials import check_analysis
from shared.models import (
    PART_SUFFIXES,
    Box,
    ErrorType,
    ManufacturingReport,
    PartSource,
    PartSummary,
    PriceRequest,
    StagedPart,
    StagePartRequest,
)
from shared.refs import InvalidKey, make_ref, sha256_hex
from shared.settings import Settings
from shared.store import IntegrityError, ObjectNotFound, ObjectStore
from shared.temporal import ACT_PRICE_PART, ACT_STAGE_PART

log = get_logger(__name__)


def invalid_request(message: str) -> ApplicationError:
    """Bad input found by an activity: a non-retryable ``InvalidRequest`` naming the problem."""
    return ApplicationError(message, type=ErrorType.INVALID_REQUEST, non_retryable=True)


def refused(e: BoundaryError) -> ApplicationError:
    """A refusal of the shared input boundary as a non-retryable error of its type."""
    return ApplicationError(str(e), type=e.error_type, non_retryable=True)


def read_source(store: ObjectStore, settings: Settings, src: PartSource) -> tuple[StagedPart, bytes | None]:
    """Check a part source and read it, through the same boundary as the CLI (:mod:`shared.boundary`): a
    stored upload is verified against its hash (and needs no writing: ``None``), a worker path is read
    from inside the part roots. A missing, empty, oversized or mislabelled file, a path outside the part
    roots or a damaged upload is an ``InvalidRequest`` or ``InvalidPart`` naming the problem; nothing is
    written."""
    fmt = src.resolved_format
    try:
        if src.artifact is not None:
            name = src.filename or src.artifact.key.rsplit("/", 1)[-1]
            check_size(src.artifact.size_bytes, fmt, settings, "part.artifact", name)
            try:
                data = store.get_ref(src.artifact)
            except ObjectNotFound:
                raise invalid_request(f"part.artifact: no object {src.artifact.key!r} in the store") from None
            except (IntegrityError, InvalidKey) as e:
                raise invalid_request(f"part.artifact: {e}") from None
            check_stored_part(data, fmt, settings, "part.artifact", name)
            return StagedPart(artifact=src.artifact, format=fmt, filename=name), None
        assert src.path is not None
        real, data = read_part_file(src.path, fmt, settings, "part.path")
        name = src.filename or checked_file_name(real.name, "part.path")
    except BoundaryError as e:
        raise refused(e) from None
    suffix = next(s for s, f in PART_SUFFIXES.items() if f == fmt)
    ref = make_ref(upload_key(sha256_hex(data), suffix), data)
    return StagedPart(artifact=ref, format=fmt, filename=name), data


def write_source(store: ObjectStore, staged: StagedPart, data: bytes | None) -> StagedPart:
    """Store what :func:`read_source` read (content-addressed); an upload already stored is kept."""
    if data is not None:
        store.put_bytes(staged.artifact.key, data)
    return staged


def stage_source(store: ObjectStore, settings: Settings, src: PartSource) -> StagedPart:
    """Put a part file in the store by content hash (an upload already there is verified instead)."""
    return write_source(store, *read_source(store, settings, src))


class AnalysisActivities:
    def __init__(self, store: ObjectStore, settings: Settings):
        self._store = store
        self._settings = settings

    @activity.defn(name=ACT_STAGE_PART)
    async def stage_part(self, req: StagePartRequest) -> StagedPart:
        """Check the request against the catalogue, then put the part file in the store by content hash.

        Bad input (a method the material is not made by, a missing, oversized or mislabelled file, a path
        outside the part roots, a damaged upload) fails here, before any heavy work, and nothing is
        written."""
        problem = check_analysis(req.material, req.method, req.finish)
        if problem:
            raise invalid_request(problem)
        return await asyncio.to_thread(stage_source, self._store, self._settings, req.source)

    @activity.defn(name=ACT_PRICE_PART)
    async def price_part(self, req: PriceRequest) -> ManufacturingReport:
        """DFM findings, quote, ladder and alternatives over the cached facts; the report is stored."""
        r = req.request

        def run() -> ManufacturingReport:
            facts = PartFacts.from_npz(self._store.get_ref(req.facts.facts))
            catalog = load_catalog(
                r.price_table,
                parallel_machines=self._settings.shop_parallel_machines,
                tooling_class=r.tooling_class,
            )
            try:
                result = analyse(
                    facts,
                    r.method,
                    r.material,
                    r.quantity,
                    catalog,
                    r.ladder,
                    alternatives=r.alternatives,
                    sharp_corners=r.sharp_corners,
                    pull_axis=r.pull_axis,
                    tolerance_class=r.tolerance_class,
                    finish=r.finish,
                )
            except ValueError as e:
                raise invalid_request(str(e)) from None
            report = ManufacturingReport(
                analysis_id=req.analysis_id,
                part=PartSummary(
                    sha256=req.part.artifact.sha256,
                    format=req.part.format,
                    filename=req.part.filename,
                    volume_mm3=round(facts.volume_mm3, 3),
                    area_mm2=round(facts.area_mm2, 3),
                    bbox=Box(
                        min_mm=tuple(round(float(v), 4) for v in facts.bbox_min),  # type: ignore[arg-type]
                        max_mm=tuple(round(float(v), 4) for v in facts.bbox_max),  # type: ignore[arg-type]
                    ),
                    faces=facts.n_faces,
                    triangles=facts.mesh_triangles or facts.n_triangles,
                    has_brep=facts.has_brep,
                    repairs=facts.repairs,
                ),
                method=r.method,
                material=r.material,
                quantity=r.quantity,
                manufacturable=result.manufacturable,
                findings=result.findings,
                quote=result.quote,
                ladder=result.ladder,
                alternatives=result.alternatives,
                catalog=catalog.label,
                facts=req.facts.facts,
                facts_cached=req.facts.cached,
            )
            ref = self._store.put_model(analysis_report_key(req.analysis_id), report)
            log.info(
                "analysis.done",
                analysis_id=req.analysis_id,
                manufacturable=report.manufacturable,
                findings=len(report.findings),
                unit_cost_usd=report.quote.unit_cost_usd,
            )
            return report.model_copy(update={"report": ref})

        started = time.monotonic()
        report = await asyncio.to_thread(run)
        metrics.analysis_step(activity.metric_meter(), "price", time.monotonic() - started, str(r.method))
        return report
