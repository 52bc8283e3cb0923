"""Generating a dataset: the request, where a run stands, the manifest and its entries, progress, and the
dataset activities' requests."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from shared.families import ALL_FAMILIES, FAMILIES
from shared.models.common import (
    MAX_FAMILIES,
    MAX_SEED,
    ArtifactRef,
    CheckInterval,
    ChunkSize,
    Count,
    FamilyName,
    GeneratorVersion,
    Identifier,
    Model,
    Parallelism,
    PositiveCount,
    SceneCount,
    Seed,
)
from shared.models.generation import CertifyOptions
from shared.models.notify import WebhookUrl
from shared.models.proofs import Proof, Verdict
from shared.splits import FOLDS


class DatasetCursor(Model):
    """Where a dataset run stands; handed to the next run when GenerateDataset continues as new."""

    dataset_id: Identifier
    generator_version: GeneratorVersion
    chain: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
    """Short hash of the workflow id: manifest parts of this chain of runs live under it."""
    next_index: Count = 0
    part_count: Count = 0
    published: Count = 0
    rejected: Count = 0
    failed: Count = 0


class DatasetRequest(Model):
    families: list[FamilyName] = Field(min_length=1, max_length=MAX_FAMILIES)
    """Family names, or ``["all"]``: every built-in family (:data:`shared.families.FAMILIES`), in order."""
    count: PositiveCount
    """At most the worker's ``MECHBENCH_MAX_DATASET_COUNT``, and at most what the seeds allow (see
    ``base_seed``)."""
    base_seed: Seed = Field(default=0, validate_default=True)
    """Item ``i`` gets seed ``base_seed + i // len(families)``; every one of them must be a :data:`Seed`."""
    dataset_id: Identifier | None = None
    max_parallel: Parallelism = 4
    chunk_size: ChunkSize = 100
    """Children per workflow run; the run continues as new after each chunk to keep history small."""
    n_scenes: SceneCount | None = None
    check_interval_steps: CheckInterval | None = None
    resume: DatasetCursor | None = None
    """Set by the workflow itself when it continues as new; leave empty."""
    webhook: WebhookUrl | None = None
    """POSTed the dataset's result (counts and manifest reference) when the dataset completes."""
    certify: CertifyOptions = CertifyOptions()
    """The certification proofs' options for every benchmark of the dataset (unset: the worker's settings)."""

    @field_validator("base_seed")
    @classmethod
    def _every_seed_fits(cls, base_seed: int, info: ValidationInfo) -> int:
        """The seeds the dataset derives are checked here, so no child can fail on its seed."""
        families, count = info.data.get("families"), info.data.get("count")
        if families and count:
            last = base_seed + (count - 1) // len(families)
            if last > MAX_SEED:
                raise ValueError(
                    f"{count} benchmarks over {len(families)} famil{'y' if len(families) == 1 else 'ies'} from "
                    f"base_seed {base_seed} take seeds "
                    f"up to {last}; seeds end at {MAX_SEED} (lower base_seed or count)"
                )
        return base_seed

    @field_validator("families", mode="before")
    @classmethod
    def _all_families(cls, value: object) -> object:
        if isinstance(value, list | tuple) and [str(v).strip().lower() for v in value] == [ALL_FAMILIES]:
            return list(FAMILIES)
        return value

    @model_validator(mode="after")
    def _distinct_families(self) -> DatasetRequest:
        dup = sorted({f for f in self.families if self.families.count(f) > 1})
        if dup:
            raise ValueError(f"families: listed more than once: {dup}")
        return self


class DatasetEntry(Model):
    index: int
    benchmark_id: Identifier
    family: Identifier
    seed: int
    verdict: Verdict
    failed_proof: Proof | None = None
    reason: str | None = None
    max_unit_cost_usd: float | None = None
    max_weight_kg: float | None = None
    success_share: float | None = None
    reused: bool = False
    level: int | None = Field(default=None, ge=0, le=5)
    """The difficulty card's level (``engines.certify.difficulty``); none when the benchmark was rejected before
    its simulations or its generation failed."""
    random_designs: Count | None = None
    """Random designs the ``not_trivial_random`` proof simulated (none when it did not run)."""
    random_solve_rate: float | None = None
    random_upper_bound: float | None = None
    robust_share: float | None = None
    within_family_fold: int | None = Field(default=None, ge=0, lt=FOLDS)
    """Fold of a split that holds seeds out within each family (``shared.splits``)."""
    cross_family_fold: int | None = Field(default=None, ge=0, lt=FOLDS)
    """Fold of a split that holds whole families out (``shared.splits``)."""


class DatasetResult(Model):
    """Counts and the manifest reference; the entries live in the manifest (payloads stay small)."""

    dataset_id: Identifier
    count: int
    published: int
    rejected: int
    failed: int = 0
    manifest: ArtifactRef


class DatasetManifest(Model):
    """``datasets/<id>/manifest.json``: the dataset's request and one entry per benchmark."""

    dataset_id: Identifier
    request: DatasetRequest
    generator_version: int
    entries: list[DatasetEntry]


class DatasetProgress(Model):
    dataset_id: str
    total: int
    completed: int
    published: int
    rejected: int
    failed: int = 0
    running: list[str] = Field(default_factory=list)
    stage: str = "starting"


class PrepareDatasetRequest(Model):
    request: DatasetRequest


class PreparedDataset(Model):
    dataset_id: Identifier
    generator_version: int


class ManifestPartRequest(Model):
    dataset_id: Identifier
    chain: str
    part_index: Count
    entries: list[DatasetEntry]


class FinalizeDatasetRequest(Model):
    dataset_id: Identifier
    request: DatasetRequest
    chain: str
    part_count: PositiveCount
