"""Temporal activities for design evaluation on the main queue: staging, lookup, pricing and recording.

All are quick store reads and writes or numpy over cached geometry facts; the design's script, its
validation, the simulation and the evidence are heavy activities (:class:`activities.heavy.HeavyActivities`).
"""

from __future__ import annotations

import asyncio
import secrets

from pydantic import ValidationError
from temporalio import activity

from activities.analysis import invalid_request, read_source, refused, write_source
from engines.manufacturing.analysis import evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.facts import PartFacts
from shared.boundary import BoundaryError, check_design_total, checked_evaluation_id, published_benchmark
from shared.cots import bought_totals
from shared.ids import held_out_seed
from shared.keys import HELD_OUT_SECRET_KEY, evaluation_prefix, evaluation_result_key
from shared.logging import get_logger
from shared.models import (
    BenchmarkDefinition,
    BenchmarkResult,
    DesignCost,
    DesignPartCost,
    DiscardEvaluationRequest,
    EvaluationLookup,
    EvaluationLookupRequest,
    EvaluationResult,
    ManufacturingMethod,
    PriceDesignRequest,
    RecordEvaluationRequest,
    Severity,
    StagedDesign,
    StagedDesignPart,
    StageDesignRequest,
)
from shared.refs import make_ref
from shared.settings import Settings
from shared.store import IntegrityError, ObjectNotFound, ObjectStore
from shared.temporal import (
    ACT_DISCARD_EVALUATION,
    ACT_LOOKUP_EVALUATION,
    ACT_PRICE_DESIGN,
    ACT_RECORD_EVALUATION,
    ACT_STAGE_DESIGN,
)

log = get_logger(__name__)


def published_result(store: ObjectStore, benchmark_id: str) -> BenchmarkResult:
    """The stored verdict of a published benchmark (the check the CLI makes too, see
    :func:`shared.boundary.published_benchmark`); ``InvalidRequest`` saying what to do otherwise."""
    try:
        return published_benchmark(store, benchmark_id)
    except BoundaryError as e:
        raise refused(e) from None


def published_definition(store: ObjectStore, benchmark_id: str) -> tuple[BenchmarkDefinition, str]:
    """The definition of a published benchmark (with its caps) and its sha256; ``InvalidRequest`` when it
    is not published (see :func:`published_result`) or its definition is damaged."""
    result = published_result(store, benchmark_id)
    assert result.definition is not None  # checked by published_result
    try:
        definition = BenchmarkDefinition.model_validate_json(store.get_ref(result.definition))
    except (ObjectNotFound, IntegrityError, ValidationError) as e:
        raise invalid_request(
            f"benchmark_id: the stored definition of {benchmark_id!r} is missing or damaged ({type(e).__name__}); "
            "generate the benchmark again"
        ) from None
    if definition.caps is None:
        raise invalid_request(f"benchmark_id: {benchmark_id!r} has no caps; generate it again")
    return definition, result.definition.sha256


class EvaluationActivities:
    def __init__(self, store: ObjectStore, settings: Settings):
        self._store = store
        self._settings = settings

    @activity.defn(name=ACT_STAGE_DESIGN)
    async def stage_design(self, req: StageDesignRequest) -> StagedDesign:
        """Copy the design's script or part files into the store (content-addressed) and hash the design.

        The benchmark is checked first and every file is read and checked (size, path, stored hash) before
        any is written, so a bad request leaves nothing behind."""

        def stage() -> StagedDesign:
            if req.benchmark_id is not None:  # the lookup reads the definition next
                published_result(self._store, req.benchmark_id)
            d = req.design
            sources = [d.script] if d.script is not None else [p.source for p in d.parts or []]
            read, total = [], 0
            for src in sources:  # stops at the first file past the limit: memory stays bounded
                read.append(read_source(self._store, self._settings, src))
                total += read[-1][0].artifact.size_bytes
                try:
                    check_design_total(total, self._settings)
                except BoundaryError as e:
                    raise refused(e) from None
            staged = [write_source(self._store, staged, data) for staged, data in read]
            if d.script is not None:
                return StagedDesign.of(script=staged[0])
            parts = [StagedDesignPart(part=s, metadata=p.metadata) for s, p in zip(staged, d.parts or [])]
            return StagedDesign.of(parts=parts)

        return await asyncio.to_thread(stage)

    @activity.defn(name=ACT_LOOKUP_EVALUATION)
    async def lookup_evaluation(self, req: EvaluationLookupRequest) -> EvaluationLookup:
        """The evaluation id, the published benchmark, and the stored result of the same evaluation if any."""

        def read() -> EvaluationLookup:
            definition, definition_sha = published_definition(self._store, req.benchmark_id)
            try:
                eid = checked_evaluation_id(
                    req.benchmark_id,
                    req.design_sha256,
                    req.n_scenes,
                    req.evidence,
                    definition_sha,
                    load_catalog().label,
                    req.held_out,
                )
            except BoundaryError as e:
                raise refused(e) from None
            if req.held_out:
                seed = held_out_seed(self._held_out_secret(), req.benchmark_id)
                simulation = definition.simulation.model_copy(update={"jitter_seed": seed})
                definition = definition.model_copy(update={"simulation": simulation})
            found = EvaluationLookup(evaluation_id=eid, definition=definition)
            key = evaluation_result_key(eid)
            try:
                data = self._store.get_bytes(key)
                result = EvaluationResult.model_validate_json(data)
            except ObjectNotFound:
                return found
            except (ValidationError, IntegrityError) as e:
                log.warning("evaluation.unusable_stored_result", evaluation_id=eid, error=str(e)[:300])
                return found
            return found.model_copy(
                update={"result": result.model_copy(update={"result": make_ref(key, data)})}
            )

        return await asyncio.to_thread(read)

    def _held_out_secret(self) -> bytes:
        """The setting, or the secret kept in the store (made by the first evaluation that needs it)."""
        if self._settings.held_out_secret is not None:
            return self._settings.held_out_secret.get_secret_value().encode()
        try:
            return self._store.get_bytes(HELD_OUT_SECRET_KEY)
        except ObjectNotFound:
            self._store.put_bytes(HELD_OUT_SECRET_KEY, secrets.token_bytes(32))
            return self._store.get_bytes(HELD_OUT_SECRET_KEY)

    @activity.defn(name=ACT_PRICE_DESIGN)
    async def price_design(self, req: PriceDesignRequest) -> DesignCost:
        """Each part quoted by the manufacturing engine (the one that set the caps) at the benchmark's target
        quantity with its own method and material, weights from the material densities; plus the bought parts
        (motors, fasteners, bearings) at catalogue prices and masses, as the caps were set."""
        caps = req.definition.caps
        if caps is None:
            raise invalid_request(f"benchmark {req.definition.benchmark_id} has no caps")
        catalog = load_catalog()
        quantity = caps.target_quantity

        def price() -> DesignCost:
            lines: list[DesignPartCost] = []
            for part in req.parts:
                method = part.method or ManufacturingMethod.CNC_MILLING
                facts = PartFacts.from_npz(self._store.get_ref(req.facts[part.label]))
                try:
                    _, findings, quote = evaluate(facts, method, part.material, quantity, catalog)
                except (
                    ValueError
                ) as e:  # validation checked the pairing; a catalogue change could still refuse
                    raise invalid_request(f"part {part.label!r}: {e}") from None
                blocking = sorted({f.rule_id for f in findings if f.severity == Severity.BLOCKING})
                lines.append(
                    DesignPartCost(
                        label=part.label,
                        method=method,
                        material=part.material,
                        mass_kg=part.mass_kg,
                        unit_cost_usd=round(quote.unit_cost_usd, 4),
                        manufacturable=not blocking,
                        blocking=blocking,
                        blocking_findings=[f for f in findings if f.severity == Severity.BLOCKING],
                    )
                )
            # caps set before bought parts were priced are compared with designs priced the same way
            bought_usd, bought_kg, bought = bought_totals(req.parts) if caps.bought_parts else (0.0, 0.0, [])
            cost = round(sum(line.unit_cost_usd for line in lines) + bought_usd, 4)
            weight = round(sum(line.mass_kg for line in lines) + bought_kg, 6)
            return DesignCost(
                quantity=quantity,
                unit_cost_usd=cost,
                weight_kg=weight,
                max_unit_cost_usd=caps.max_unit_cost_usd,
                max_weight_kg=caps.max_weight_kg,
                within_cost_cap=cost <= caps.max_unit_cost_usd,
                within_weight_cap=weight <= caps.max_weight_kg,
                manufacturable=all(line.manufacturable for line in lines),
                parts=lines,
                bought=bought,
                basis=f"manufacturing quote ({catalog.label}) at quantity {quantity}, each part by its own "
                "method and material, in its principal frame (as the caps were set), "
                + (
                    "plus bought parts at catalogue prices"
                    if caps.bought_parts
                    else "without bought parts (these "
                    "caps were set before bought parts were priced; generate the benchmark again to include them)"
                ),
            )

        return await asyncio.to_thread(price)

    @activity.defn(name=ACT_RECORD_EVALUATION)
    async def record_evaluation(self, req: RecordEvaluationRequest) -> EvaluationResult:
        """Store the result last: its presence means the evidence it refers to exists."""
        result = req.result
        key = evaluation_result_key(result.evaluation_id)

        def write() -> EvaluationResult:
            ref = self._store.put_model(key, result)
            log.info(
                "evaluation.recorded",
                evaluation_id=result.evaluation_id,
                verdict=result.verdict.value,
                success_share=result.success_share,
            )
            return result.model_copy(update={"result": ref})

        return await asyncio.to_thread(write)

    @activity.defn(name=ACT_DISCARD_EVALUATION)
    async def discard_evaluation(self, req: DiscardEvaluationRequest) -> list[str]:
        """Delete what an evaluation that was cancelled or failed left under ``evaluations/<id>/`` (collision
        pieces, trajectory, evidence) and return the keys. Nothing is deleted when a result exists: then the
        same evaluation finished (in another workflow) and those objects are its evidence."""
        prefix = evaluation_prefix(req.evaluation_id) + "/"

        def discard() -> list[str]:
            if self._store.exists(evaluation_result_key(req.evaluation_id)):
                return []
            keys = list(self._store.list(prefix))
            for key in keys:
                self._store.delete(key)
            log.info("evaluation.discarded", evaluation_id=req.evaluation_id, objects=len(keys))
            return keys

        return await asyncio.to_thread(discard)
