"""Temporal activities for benchmark generation: thin adapters around the engines.

Heavy activities (CAD, validation, simulation) run their job in a supervised child process and heartbeat its
progress. Store activities are quick reads and writes done in a thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.analysis import stage_source
from engines.manufacturing.analysis import evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.facts import FACTS_VERSION, PartFacts
from runtime.supervisor import HeavySupervisor
from shared import metrics
from shared.families import GENERATOR_VERSION, unknown_families_message
from shared.ids import benchmark_id, dataset_content, dataset_id, script_benchmark_id
from shared.keys import (
    benchmark_definition_key,
    benchmark_result_key,
    manifest_key,
    manifest_part_key,
    part_facts_key,
)
from shared.logging import get_logger
from shared.models import (
    AffordabilityRequest,
    AffordabilityResult,
    ArtifactRef,
    BenchmarkDefinition,
    BenchmarkResult,
    BuildDesignRequest,
    BuildRequest,
    BuildResult,
    BuiltDesign,
    Caps,
    DatasetEntry,
    DatasetManifest,
    DatasetRequest,
    DatasetResult,
    ErrorType,
    Evidence,
    EvidenceRequest,
    FactsRequest,
    FactsResult,
    FinalizeDatasetRequest,
    HeavyProgress,
    LookupRequest,
    LookupResult,
    ManifestPartRequest,
    ManufacturingMethod,
    Model,
    PrepareDatasetRequest,
    PreparedDataset,
    Proof,
    ProofBasis,
    ProofResult,
    PublishRequest,
    Severity,
    SimulateRequest,
    SimulationReport,
    StagedPart,
    Verdict,
)
from shared.settings import Settings
from shared.store import IntegrityError, ObjectNotFound, ObjectStore
from shared.temporal import (
    ACT_ASSESS_AFFORDABILITY,
    ACT_BUILD_BENCHMARK,
    ACT_BUILD_DESIGN,
    ACT_EXTRACT_PART_FACTS,
    ACT_FINALIZE_DATASET,
    ACT_LOOKUP_BENCHMARK,
    ACT_PREPARE_DATASET,
    ACT_RECORD_BENCHMARK,
    ACT_RENDER_EVIDENCE,
    ACT_RUN_PART_SCRIPT,
    ACT_SIMULATE_BENCHMARK,
    ACT_WRITE_MANIFEST_PART,
    HEAVY_JOB_ATTEMPTS,
)

R = TypeVar("R", bound=BaseModel)
log = get_logger(__name__)


def _basis_text(basis: ProofBasis) -> str:
    text = f"{basis.n_scenes} scenes, check every {basis.check_interval_steps} steps"
    if basis.max_reference_unit_cost_usd is not None:
        text += (
            f", ceilings ${basis.max_reference_unit_cost_usd} and {basis.max_reference_weight_kg} kg"
            f" x{basis.caps_headroom}, {basis.cost_model}"
        )
    return text


class JobFailures(Model):
    """The second heartbeat detail of a heavy activity: how many of its attempts the job itself failed."""

    count: int = Field(default=0, ge=0)
    last: str = ""
    """The latest of those failures (type and message), for the attempt that reads it."""


class HeavyActivities:
    """Activities on the heavy task queue (CAD, geometry, simulation, sandboxed scripts). Each call runs in a
    fresh child process forked from the warm fork server.

    Two attempt budgets (``shared.temporal.HEAVY``): a job may fail ``HEAVY_JOB_ATTEMPTS`` times (its own
    retryable error, a crash, a stall), and workers may be lost mid-job (SIGKILL, a machine gone: the heartbeat
    timeout ends the attempt) another ``HEAVY_LOST_WORKER_ATTEMPTS`` times. The retry policy allows both;
    a retry policy cannot tell a heartbeat timeout from a job failure, so the activity counts the job's
    failures itself, in its heartbeat details (which the next attempt reads), and makes the failure that
    uses up the job's budget non-retryable. A lost worker records nothing, so it uses only the other budget."""

    def __init__(self, supervisor: HeavySupervisor):
        self._supervisor = supervisor

    async def _run(self, job: str, payload: BaseModel, result_type: type[R]) -> R:
        info = activity.info()
        details = info.heartbeat_details
        # Heartbeat details decode as plain dicts: rebuild the models. Details of a worker older than the
        # failure count carry the progress only.
        resume = HeavyProgress.model_validate(details[0]) if details else None
        failures = JobFailures.model_validate(details[1]) if len(details) > 1 else JobFailures()
        last = resume or HeavyProgress(stage=job, detail="starting")

        def heartbeat(progress: HeavyProgress) -> None:
            nonlocal last
            last = progress
            activity.heartbeat(progress, failures)  # only the newest details are kept: always send both

        context = {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity_type": info.activity_type,
            "attempt": str(info.attempt),
            "job_failures": str(failures.count),
        }
        try:
            return await self._supervisor.run(job, payload, result_type, heartbeat, resume, context)
        except ApplicationError as e:
            if e.non_retryable:
                raise
            kind, message, cause = e.type or type(e).__name__, e.message, e
        except Exception as e:  # noqa: BLE001 - the supervisor's own failures (fork server, connection) count too
            kind, message, cause = type(e).__name__, f"{job}: {type(e).__name__}: {e}", e
        failures = JobFailures(count=failures.count + 1, last=f"{kind}: {message}"[:500])
        activity.heartbeat(last, failures)  # recorded before the failure: the next attempt starts from it
        if failures.count < HEAVY_JOB_ATTEMPTS:
            raise cause
        raise ApplicationError(
            f"{message} (the job failed {failures.count} of its {HEAVY_JOB_ATTEMPTS} attempts; not retried again)",
            type=kind,
            non_retryable=True,
        ) from cause

    @activity.defn(name=ACT_BUILD_BENCHMARK)
    async def build_benchmark(self, req: BuildRequest) -> BuildResult:
        """Build the CAD, store the artifacts and validate the geometry."""
        return await self._run("build", req, BuildResult)

    @activity.defn(name=ACT_SIMULATE_BENCHMARK)
    async def simulate_benchmark(self, req: SimulateRequest) -> SimulationReport:
        """Run the jittered scenes; a retry resumes after the last finished scene."""
        report = await self._run("simulate", req, SimulationReport)
        metrics.simulation_done(activity.metric_meter(), report)
        return report

    @activity.defn(name=ACT_EXTRACT_PART_FACTS)
    async def extract_part_facts(self, req: FactsRequest) -> FactsResult:
        """Geometry facts of a part file (cached by its content hash)."""
        started = time.monotonic()
        result = await self._run("facts", req, FactsResult)
        metrics.analysis_step(activity.metric_meter(), "facts", time.monotonic() - started)
        return result

    @activity.defn(name=ACT_RUN_PART_SCRIPT)
    async def run_part_script(self, req: StagedPart) -> StagedPart:
        """Run a part script in a sandbox and stage the STEP it builds."""
        return await self._run("part_script", req, StagedPart)

    @activity.defn(name=ACT_BUILD_DESIGN)
    async def build_design(self, req: BuildDesignRequest) -> BuiltDesign:
        """Run the design script in a sandbox (or read the part files), validate the design against the
        benchmark and prepare its scene."""
        return await self._run("build_design", req, BuiltDesign)

    @activity.defn(name=ACT_RENDER_EVIDENCE)
    async def render_evidence(self, req: EvidenceRequest) -> Evidence:
        """Replay the representative scene: full trajectory, frame strip, animation and a picture."""
        return await self._run("evidence", req, Evidence)


class StoreActivities:
    """Quick bookkeeping against the object store, on the main task queue."""

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

    @activity.defn(name=ACT_PREPARE_DATASET)
    async def prepare_dataset(self, req: PrepareDatasetRequest) -> PreparedDataset:
        """Boundary checks that need the worker's configuration; nothing is written."""
        r = req.request
        problem = unknown_families_message(r.families)
        if problem is None and r.count > self._settings.max_dataset_count:
            problem = (
                f"count: {r.count} exceeds the configured maximum of {self._settings.max_dataset_count} "
                "(MECHBENCH_MAX_DATASET_COUNT)"
            )
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

        def read() -> LookupResult:
            found = LookupResult(benchmark_id=bid, generator_version=version, script=staged)

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
            wanted = ProofBasis(n_scenes=n_scenes, check_interval_steps=check_interval, **self._ceilings())
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
        quantity = s.benchmark_target_quantity

        def price() -> tuple[float, list[str], list[str]]:
            total, lines, blocked = 0.0, [], []
            for part in d.reference_solution:
                method = part.method or ManufacturingMethod.CNC_MILLING
                if part.step is None:
                    raise ApplicationError(f"reference part {part.label} has no STEP artifact to price")
                facts = PartFacts.from_npz(
                    self._store.get_bytes(
                        part_facts_key(part.step.sha256, FACTS_VERSION, principal_frame=True)
                    )
                )
                _, findings, quote = evaluate(facts, method, part.material, quantity, catalog)
                blocking = sorted({f.rule_id for f in findings if f.severity == Severity.BLOCKING})
                if blocking:
                    blocked.append(f"{part.label} ({method.value}): {', '.join(blocking)}")
                total += quote.unit_cost_usd
                lines.append(f"{part.label} {method.value} {part.material.value} ${quote.unit_cost_usd:.2f}")
            return total, lines, blocked

        try:
            cost, lines, blocked = await asyncio.to_thread(price)
        except ValueError as e:  # a family pairing a material with a method that does not take it
            return fail(f"reference solution cannot be quoted: {e}")
        if blocked:
            return fail("reference solution is not manufacturable as designed: " + "; ".join(blocked))
        weight = sum(p.mass_kg for p in d.reference_solution)
        for measured, limit, what, unit in (
            (cost, s.max_reference_unit_cost_usd, "reference unit cost", "USD"),
            (weight, s.max_reference_weight_kg, "reference weight", "kg"),
        ):
            if measured > limit:
                return fail(
                    f"{what} {measured:.3f} {unit} exceeds the ceiling of {limit:.3f} {unit}", measured, limit
                )
        caps = Caps(
            max_unit_cost_usd=round(cost * s.caps_headroom, 4),
            max_weight_kg=round(weight * s.caps_headroom, 6),
            headroom_factor=s.caps_headroom,
            reference_unit_cost_usd=round(cost, 4),
            reference_weight_kg=round(weight, 6),
            target_quantity=quantity,
            cost_basis=f"manufacturing quote ({catalog.label}) at quantity {quantity}: " + "; ".join(lines),
        )
        return AffordabilityResult(
            proof=ProofResult(
                proof=Proof.AFFORDABLE,
                passed=True,
                detail=f"reference ${cost:.2f}/unit at {quantity}, {weight:.3f} kg; caps x{s.caps_headroom}",
                measured=cost,
                limit=s.max_reference_unit_cost_usd,
            ),
            caps=caps,
            basis=basis,
        )

    @activity.defn(name=ACT_RECORD_BENCHMARK)
    async def record_benchmark(self, req: PublishRequest) -> BenchmarkResult:
        """Store the verdict (with the basis it was proven on). The definition is written first and the result
        last: the result is the commit point, so a benchmark is visible as finished only once everything it
        refers to exists."""

        def write() -> BenchmarkResult:
            result = req.result
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
