"""Temporal activities for benchmark generation: thin adapters around the engines.

Heavy activities (CAD, validation, simulation) run their job in a supervised child process and heartbeat its
progress. Store activities are quick reads and writes done in a thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.supervisor import HeavySupervisor
from shared.catalog import FAMILIES, GENERATOR_VERSION, unknown_families
from shared.ids import dataset_id
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
    FinalizeDatasetRequest,
    HeavyProgress,
    LookupRequest,
    LookupResult,
    ManifestPartRequest,
    PrepareDatasetRequest,
    PreparedDataset,
    Proof,
    ProofResult,
    PublishRequest,
    SimulateRequest,
    SimulationReport,
    Verdict,
)
from shared.settings import Settings
from shared.store import ObjectNotFound, ObjectStore


def benchmark_prefix(benchmark_id: str) -> str:
    return f"benchmarks/{benchmark_id}"


def result_key(benchmark_id: str) -> str:
    return f"{benchmark_prefix(benchmark_id)}/result.json"


def manifest_key(dataset: str) -> str:
    return f"datasets/{dataset}/manifest.json"


class HeavyActivities:
    """Activities on the heavy task queue. Each call runs in a fresh warm child process."""

    def __init__(self, supervisor: HeavySupervisor):
        self._supervisor = supervisor

    async def _run(self, job: str, payload, result_type):  # type: ignore[no-untyped-def]
        info = activity.info()
        resume = None
        if info.heartbeat_details:
            # Heartbeat details decode as plain dicts: rebuild the model (temporal-anchors 2.4).
            resume = HeavyProgress.model_validate(info.heartbeat_details[0])

        def on_progress(p: HeavyProgress) -> None:
            activity.heartbeat(p)

        return await self._supervisor.run(job, payload, result_type, on_progress, resume=resume)

    @activity.defn(name="build_benchmark")
    async def build_benchmark(self, req: BuildRequest) -> BuildResult:
        return await self._run("build", req, BuildResult)

    @activity.defn(name="simulate_benchmark")
    async def simulate_benchmark(self, req: SimulateRequest) -> SimulationReport:
        return await self._run("simulate", req, SimulationReport)


class StoreActivities:
    """Quick bookkeeping against the object store, on the main task queue."""

    def __init__(self, store: ObjectStore, settings: Settings):
        self._store = store
        self._settings = settings

    @activity.defn(name="prepare_dataset")
    async def prepare_dataset(self, req: PrepareDatasetRequest) -> PreparedDataset:
        """Boundary checks that need the worker's configuration; nothing is written."""
        r = req.request
        bad = unknown_families(r.families)
        if bad:
            raise ApplicationError(
                f"families: unknown family {bad}; known families are {list(FAMILIES)}",
                type="InvalidRequest",
                non_retryable=True,
            )
        if r.count > self._settings.max_dataset_count:
            raise ApplicationError(
                f"count: {r.count} exceeds the configured maximum of {self._settings.max_dataset_count} "
                "(MECHBENCH_MAX_DATASET_COUNT)",
                type="InvalidRequest",
                non_retryable=True,
            )
        return PreparedDataset(dataset_id=dataset_id(r, GENERATOR_VERSION), generator_version=GENERATOR_VERSION)

    @activity.defn(name="lookup_benchmark")
    async def lookup_benchmark(self, req: LookupRequest) -> LookupResult:
        """A finished benchmark (published or rejected) is reused instead of generated again."""

        def read() -> LookupResult:
            try:
                result = self._store.get_model(result_key(req.benchmark_id), BenchmarkResult)
            except ObjectNotFound:
                return LookupResult()
            if result.definition is not None:
                self._store.get_ref(result.definition)  # published: its definition must be intact
            return LookupResult(result=result)

        return await asyncio.to_thread(read)

    @activity.defn(name="assess_affordability")
    async def assess_affordability(self, req: AffordabilityRequest) -> AffordabilityResult:
        """Affordability proof and caps from the reference solution.

        Until the manufacturing engine lands, the cost basis is a clearly labelled material-only estimate.
        """
        d = req.definition
        s = self._settings
        if not d.reference_solution:
            return AffordabilityResult(
                proof=ProofResult(proof=Proof.AFFORDABLE, passed=False, detail="no reference solution to price")
            )
        cost = sum(material_cost_usd(p.material, p.volume_mm3) for p in d.reference_solution)
        weight = sum(mass_kg(p.material, p.volume_mm3) for p in d.reference_solution)
        if cost > s.max_reference_unit_cost_usd:
            return AffordabilityResult(
                proof=ProofResult(
                    proof=Proof.AFFORDABLE,
                    passed=False,
                    detail=f"reference unit cost ${cost:.2f} exceeds ${s.max_reference_unit_cost_usd:.2f}",
                    measured=cost,
                    limit=s.max_reference_unit_cost_usd,
                )
            )
        if weight > s.max_reference_weight_kg:
            return AffordabilityResult(
                proof=ProofResult(
                    proof=Proof.AFFORDABLE,
                    passed=False,
                    detail=f"reference weight {weight:.3f} kg exceeds {s.max_reference_weight_kg:.3f} kg",
                    measured=weight,
                    limit=s.max_reference_weight_kg,
                )
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
        )

    @activity.defn(name="record_benchmark")
    async def record_benchmark(self, req: PublishRequest) -> BenchmarkResult:
        """Store the verdict. The definition is written first and the result last: the result is the commit
        point, so a benchmark is visible as finished only once everything it refers to exists."""

        def write() -> BenchmarkResult:
            result = req.result
            if req.definition is not None and result.verdict == Verdict.PUBLISHED:
                ref = self._store.put_model(f"{benchmark_prefix(result.benchmark_id)}/definition.json", req.definition)
                result = result.model_copy(update={"definition": ref})
            self._store.put_model(result_key(result.benchmark_id), result)
            return result

        return await asyncio.to_thread(write)

    @activity.defn(name="write_manifest_part")
    async def write_manifest_part(self, req: ManifestPartRequest) -> ArtifactRef:
        key = f"datasets/{req.dataset_id}/parts/{req.part_index:05d}.json"
        return await asyncio.to_thread(self._store.put_model, key, req)

    @activity.defn(name="finalize_dataset")
    async def finalize_dataset(self, req: FinalizeDatasetRequest) -> DatasetResult:
        """Merge the manifest parts written by each run into one manifest (written atomically, last)."""

        def merge() -> DatasetResult:
            entries: list[DatasetEntry] = []
            for ref in req.parts:
                part = ManifestPartRequest.model_validate_json(self._store.get_ref(ref))
                entries.extend(part.entries)
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
                entries=entries,
            )

        return await asyncio.to_thread(merge)
