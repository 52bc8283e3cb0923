"""Temporal activities for benchmark generation: thin adapters around the engines.

Heavy activities (CAD, validation, simulation) run their job in a supervised child process and heartbeat its
progress. Store activities are quick reads and writes done in a thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.supervisor import HeavySupervisor
from shared.catalog import GENERATOR_VERSION, unknown_families_message
from shared.ids import benchmark_id, dataset_id
from shared.keys import benchmark_definition_key, benchmark_result_key, manifest_key, manifest_part_key
from shared.logging import get_logger
from shared.materials import MATERIAL_ONLY_COST_BASIS, mass_kg, material_cost_usd
from shared.models import (
    AffordabilityRequest,
    AffordabilityResult,
    ArtifactRef,
    BenchmarkResult,
    BuildRequest,
    BuildResult,
    Caps,
    DatasetEntry,
    DatasetManifest,
    DatasetResult,
    ErrorType,
    FinalizeDatasetRequest,
    HeavyProgress,
    LookupRequest,
    LookupResult,
    ManifestPartRequest,
    PrepareDatasetRequest,
    PreparedDataset,
    Proof,
    ProofBasis,
    ProofResult,
    PublishRequest,
    SimulateRequest,
    SimulationReport,
    SimulationSettings,
    Verdict,
)
from shared.settings import Settings
from shared.store import IntegrityError, ObjectNotFound, ObjectStore
from shared.temporal import (
    ACT_ASSESS_AFFORDABILITY,
    ACT_BUILD_BENCHMARK,
    ACT_FINALIZE_DATASET,
    ACT_LOOKUP_BENCHMARK,
    ACT_PREPARE_DATASET,
    ACT_RECORD_BENCHMARK,
    ACT_SIMULATE_BENCHMARK,
    ACT_WRITE_MANIFEST_PART,
)

R = TypeVar("R", bound=BaseModel)
log = get_logger(__name__)


class HeavyActivities:
    """Activities on the heavy task queue. Each call runs in a fresh warm child process."""

    def __init__(self, supervisor: HeavySupervisor):
        self._supervisor = supervisor

    async def _run(self, job: str, payload: BaseModel, result_type: type[R]) -> R:
        info = activity.info()
        resume = None
        if info.heartbeat_details:
            # Heartbeat details decode as plain dicts: rebuild the model (temporal-anchors 2.4).
            resume = HeavyProgress.model_validate(info.heartbeat_details[0])
        context = {
            "workflow_id": info.workflow_id,
            "run_id": info.workflow_run_id,
            "activity_type": info.activity_type,
            "attempt": str(info.attempt),
        }
        return await self._supervisor.run(job, payload, result_type, activity.heartbeat, resume, context)

    @activity.defn(name=ACT_BUILD_BENCHMARK)
    async def build_benchmark(self, req: BuildRequest) -> BuildResult:
        """Build the CAD, store the artifacts and validate the geometry."""
        return await self._run("build", req, BuildResult)

    @activity.defn(name=ACT_SIMULATE_BENCHMARK)
    async def simulate_benchmark(self, req: SimulateRequest) -> SimulationReport:
        """Run the jittered scenes; a retry resumes after the last finished scene."""
        return await self._run("simulate", req, SimulationReport)


class StoreActivities:
    """Quick bookkeeping against the object store, on the main task queue."""

    def __init__(self, store: ObjectStore, settings: Settings):
        self._store = store
        self._settings = settings

    def _ceilings(self) -> dict[str, float]:
        s = self._settings
        return {
            "max_reference_unit_cost_usd": s.max_reference_unit_cost_usd,
            "max_reference_weight_kg": s.max_reference_weight_kg,
            "caps_headroom": s.caps_headroom,
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
        return PreparedDataset(
            dataset_id=dataset_id(r, GENERATOR_VERSION), generator_version=GENERATOR_VERSION
        )

    @activity.defn(name=ACT_LOOKUP_BENCHMARK)
    async def lookup_benchmark(self, req: LookupRequest) -> LookupResult:
        """Resolve the benchmark id at this worker's generator version, and reuse a finished benchmark
        (published or rejected) proven on the same basis.

        A stored result that no longer decodes, whose definition is damaged, or that was proven on another
        basis (scene count, check interval, affordability ceilings) is a miss: the benchmark is generated
        again and the new verdict replaces it."""
        version = req.generator_version or GENERATOR_VERSION
        if version != GENERATOR_VERSION:
            raise ApplicationError(
                f"generator_version: this worker generates version {GENERATOR_VERSION}, not {version}",
                type=ErrorType.INVALID_REQUEST,
                non_retryable=True,
            )
        bid = benchmark_id(req.family, req.seed, version)
        defaults = SimulationSettings()
        wanted = ProofBasis(
            n_scenes=req.n_scenes or defaults.n_scenes,
            check_interval_steps=req.check_interval_steps or defaults.check_interval_steps,
            **self._ceilings(),
        )
        key = benchmark_result_key(bid)

        def read() -> LookupResult:
            miss = LookupResult(benchmark_id=bid, generator_version=version)
            try:
                result = self._store.get_model(key, BenchmarkResult)
                if result.definition is not None:
                    self._store.get_ref(result.definition)
            except ObjectNotFound:
                return miss
            except (ValidationError, IntegrityError) as e:
                log.warning("benchmark.unusable_stored_result", key=key, error=str(e)[:300])
                return miss
            if result.basis is None or not result.basis.covers(wanted):
                log.info("benchmark.other_basis", key=key, stored=result.basis, wanted=wanted)
                return miss
            return miss.model_copy(update={"result": result})

        return await asyncio.to_thread(read)

    @activity.defn(name=ACT_ASSESS_AFFORDABILITY)
    async def assess_affordability(self, req: AffordabilityRequest) -> AffordabilityResult:
        """Affordability proof and caps from the reference solution.

        Until the manufacturing engine lands, the cost basis is a clearly labelled material-only estimate.
        """
        d = req.definition
        s = self._settings
        basis = ProofBasis(
            n_scenes=d.simulation.n_scenes,
            check_interval_steps=d.simulation.check_interval_steps,
            **self._ceilings(),
        )
        if not d.reference_solution:
            return AffordabilityResult(
                proof=ProofResult(
                    proof=Proof.AFFORDABLE, passed=False, detail="no reference solution to price"
                ),
                basis=basis,
            )
        cost = sum(material_cost_usd(p.material, p.volume_mm3) for p in d.reference_solution)
        weight = sum(mass_kg(p.material, p.volume_mm3) for p in d.reference_solution)
        for measured, limit, what, unit in (
            (cost, s.max_reference_unit_cost_usd, "reference unit cost", "USD"),
            (weight, s.max_reference_weight_kg, "reference weight", "kg"),
        ):
            if measured > limit:
                return AffordabilityResult(
                    proof=ProofResult(
                        proof=Proof.AFFORDABLE,
                        passed=False,
                        detail=f"{what} {measured:.3f} {unit} exceeds the ceiling of {limit:.3f} {unit}",
                        measured=measured,
                        limit=limit,
                    ),
                    basis=basis,
                )
        caps = Caps(
            max_unit_cost_usd=round(cost * s.caps_headroom, 4),
            max_weight_kg=round(weight * s.caps_headroom, 6),
            headroom_factor=s.caps_headroom,
            reference_unit_cost_usd=round(cost, 4),
            reference_weight_kg=round(weight, 6),
            cost_basis=MATERIAL_ONLY_COST_BASIS,
        )
        return AffordabilityResult(
            proof=ProofResult(
                proof=Proof.AFFORDABLE,
                passed=True,
                detail=f"reference ${cost:.2f}, {weight:.3f} kg; caps x{s.caps_headroom}",
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

        return await asyncio.to_thread(write)

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
