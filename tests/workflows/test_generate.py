"""GenerateBenchmark and GenerateDataset on a real dev server with the real worker and engines."""

from __future__ import annotations

import asyncio
import io
import uuid

import pytest
from PIL import Image
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from shared.keys import benchmark_result_key
from shared.models import (
    BenchmarkDefinition,
    BenchmarkResult,
    CertifyOptions,
    DatasetManifest,
    DatasetProgress,
    DatasetRequest,
    DatasetResult,
    GenerateBenchmarkRequest,
    Proof,
    Verdict,
)
from shared.store import LocalStore
from shared.temporal import SA_STAGE, SA_VERDICT, WF_GENERATE_BENCHMARK, WF_GENERATE_DATASET
from tests.helpers import application_error

pytestmark = pytest.mark.temporal


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_benchmark_is_proven_published_and_then_reused(
    temporal_env, worker_queue, test_settings
) -> None:
    client: Client = temporal_env.client
    req = GenerateBenchmarkRequest(family="chute", seed=11)
    wf_id = _id("bench")
    result: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK, req, id=wf_id, task_queue=worker_queue, result_type=BenchmarkResult
    )
    assert result.verdict == Verdict.PUBLISHED, result.reason
    assert [p.proof for p in result.proofs] == [
        Proof.GEOMETRY,
        Proof.STABLE,
        Proof.NOT_TRIVIAL,
        Proof.SOLVABLE,
        Proof.AFFORDABLE,
        Proof.NOT_TRIVIAL_RANDOM,
        Proof.ROBUST,
    ]
    assert all(p.passed for p in result.proofs)
    assert result.caps is not None and result.caps.max_unit_cost_usd > result.caps.reference_unit_cost_usd
    store = LocalStore(test_settings.local_store_dir)
    # the certification: N random designs (in shards of the configured size, merged) fail, the reference
    # survives perturbation, and the verdict carries its difficulty card and the basis it was proven on
    random, robust, card = result.random, result.robust, result.difficulty
    assert random is not None and robust is not None and card is not None
    assert random.requested == test_settings.random_designs
    assert 0 < random.simulated <= random.requested and random.solved <= random.simulated
    assert random.upper_bound is not None and random.upper_bound < test_settings.trivial_threshold
    assert random.best and len(random.best) <= 5
    assert random.best_picture is not None
    assert Image.open(io.BytesIO(store.get_ref(random.best_picture))).format == "PNG"
    assert robust.perturbations == test_settings.robust_perturbations
    assert robust.share >= test_settings.robust_required_share
    assert 0 <= card.level <= 5 and card.random_upper_bound == random.upper_bound
    assert card.reference_success_share is not None and card.reference_parts >= 1
    assert result.basis is not None and result.basis.random_designs == test_settings.random_designs
    trivial = next(p for p in result.proofs if p.proof == Proof.NOT_TRIVIAL_RANDOM)
    assert f"of {random.simulated} random designs" in trivial.detail
    assert result.definition is not None
    store.get_ref(result.definition)  # the published definition is intact
    assert store.exists(f"benchmarks/{result.benchmark_id}/result.json")
    # a thumbnail of the scene (MuJoCo offscreen through EGL), not a blank frame
    definition = BenchmarkDefinition.model_validate_json(store.get_ref(result.definition))
    thumb = definition.artifacts.thumbnail
    assert thumb is not None and thumb.key == f"benchmarks/{result.benchmark_id}/thumbnail.png"
    image = Image.open(io.BytesIO(store.get_ref(thumb)))
    assert image.format == "PNG" and image.size == (320, 240)
    assert len(set(image.convert("L").tobytes())) > 20, "a picture of the scene, not a uniform frame"

    desc = await client.get_workflow_handle(wf_id).describe()
    assert desc.typed_search_attributes.get(SA_VERDICT) == "published"
    assert desc.typed_search_attributes.get(SA_STAGE) == "done"

    again: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK, req, id=_id("bench"), task_queue=worker_queue, result_type=BenchmarkResult
    )
    assert again.reused and again.verdict == result.verdict and again.definition == result.definition
    assert again.difficulty == card

    # a verdict proven with another N or threshold is not reused: it is proven again on the new basis
    other: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        req.model_copy(update={"certify": CertifyOptions(random_designs=20)}),
        id=_id("bench"),
        task_queue=worker_queue,
        result_type=BenchmarkResult,
    )
    assert not other.reused and other.random is not None and other.random.requested == 20


async def test_dataset_over_three_families_with_continue_as_new(
    temporal_env, worker_queue, test_settings
) -> None:
    client: Client = temporal_env.client
    req = DatasetRequest(
        families=["chute", "gap", "detour"],
        count=6,
        base_seed=20,
        chunk_size=4,
        max_parallel=3,
        dataset_id=_id("ds"),
    )
    wf_id = _id("dataset")
    handle = await client.start_workflow(
        WF_GENERATE_DATASET, req, id=wf_id, task_queue=worker_queue, result_type=DatasetResult
    )
    result = await handle.result()
    assert result.count == 6
    # the entries live in the manifest in the store (the workflow result stays small)
    store = LocalStore(test_settings.local_store_dir)
    manifest = DatasetManifest.model_validate_json(store.get_ref(result.manifest))
    entries = manifest.entries
    assert sorted(e.index for e in entries) == list(range(6))
    assert {e.family for e in entries} == {"chute", "gap", "detour"}
    assert len({e.benchmark_id for e in entries}) == 6, "every benchmark exactly once"
    assert result.published + result.rejected + result.failed == 6
    assert result.failed == 0
    assert result.published >= 4, [(e.benchmark_id, e.reason) for e in entries]
    for e in entries:
        if e.verdict == Verdict.REJECTED:
            assert e.failed_proof is not None and e.reason
    assert manifest.request.resume is None
    # every entry carries its splits; the cross-family fold is one per family, leave-one-family-out
    from shared.splits import within_family_fold

    for e in entries:
        assert e.within_family_fold == within_family_fold(req.dataset_id or "", e.benchmark_id)
        assert e.cross_family_fold == sorted(req.families).index(e.family)
        if e.verdict == Verdict.PUBLISHED:  # certified: measured difficulty and the random proof's numbers
            assert e.level is not None and 0 <= e.level <= 5
            assert e.random_designs and e.random_upper_bound is not None
            assert e.random_upper_bound < test_settings.trivial_threshold
            assert e.robust_share is not None and e.robust_share >= test_settings.robust_required_share

    # continue-as-new happened (6 items in chunks of 4): two runs in the chain
    runs = [w async for w in client.list_workflows(f'WorkflowId = "{wf_id}"')]
    assert len(runs) == 2

    progress = await client.get_workflow_handle(wf_id).query("progress", result_type=DatasetProgress)
    assert progress.completed == 6 and progress.stage == "done"


NEW_FAMILIES = [
    "funnel", "relay", "brake", "conveyor", "launch", "lever", "gate", "slide", "sorter"
]  # fmt: skip
"""The families that came with assemblies, bought motors, several payloads and moving fixtures."""


async def test_every_new_family_is_published_through_temporal(
    temporal_env, worker_queue, test_settings
) -> None:
    """One benchmark of each new family, as a dataset: every proof (the random designs and the perturbed
    references included) passes, the stored definitions carry what makes the family (a fastened arm, a
    catalogue motor priced into the caps, three payloads with their own goals, a moving fixture, no motor
    allowed)."""
    from engines.cad.families import FAMILIES
    from shared.families import FAMILIES as NAMES

    assert set(NEW_FAMILIES) | {"chute", "gap", "detour", "lift", "shelf", "bridge"} == set(NAMES)
    client: Client = temporal_env.client
    assert all(FAMILIES[name].level(2) == 3 for name in NEW_FAMILIES)  # seed 2: the hardest level
    req = DatasetRequest(
        families=NEW_FAMILIES, count=len(NEW_FAMILIES), base_seed=2, max_parallel=4, dataset_id=_id("new")
    )
    result = await client.execute_workflow(
        WF_GENERATE_DATASET, req, id=_id("dataset"), task_queue=worker_queue, result_type=DatasetResult
    )
    store = LocalStore(test_settings.local_store_dir)
    manifest = DatasetManifest.model_validate_json(store.get_ref(result.manifest))
    outcomes = {e.family: (e.verdict, e.reason) for e in manifest.entries}
    assert all(v == Verdict.PUBLISHED for v, _ in outcomes.values()), outcomes
    by_family: dict[str, BenchmarkDefinition] = {}
    for e in manifest.entries:
        assert e.seed == 2 and e.level is not None
        stored = BenchmarkResult.model_validate_json(store.get_bytes(benchmark_result_key(e.benchmark_id)))
        assert stored.definition is not None
        d = BenchmarkDefinition.model_validate_json(store.get_ref(stored.definition))
        assert d.params["complexity_level"] == 3
        by_family[e.family] = d
    launch, conveyor = by_family["launch"], by_family["conveyor"]
    for d, child in ((launch, "arm"), (conveyor, "scoop-arms")):
        parts = {p.label: p for p in d.reference_solution}
        assert parts[child].joint is not None and parts[child].joint.parent is not None
        assert d.caps is not None and "bought" in d.caps.cost_basis
    assert "servo_ds3218" in launch.caps.cost_basis  # type: ignore[union-attr]
    assert len(by_family["sorter"].payloads) == 3
    assert all(p.goal_zone is not None for p in by_family["sorter"].extra_payloads)
    assert any(p.joint is not None and p.motor is not None for p in by_family["gate"].fixtures)
    assert by_family["lever"].max_motors == 0
    assert by_family["slide"].payload.shape == "box"


async def test_unknown_family_is_rejected_before_any_work(temporal_env, worker_queue, test_settings) -> None:
    client: Client = temporal_env.client
    store_dir = test_settings.local_store_dir
    before = sorted(p for p in store_dir.rglob("*")) if store_dir.exists() else []
    with pytest.raises(WorkflowFailureError) as info:
        await client.execute_workflow(
            WF_GENERATE_DATASET,
            DatasetRequest(families=["chute", "warp-drive"], count=2),
            id=_id("bad"),
            task_queue=worker_queue,
        )
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert "warp-drive" in cause.message and "families" in cause.message
    after = sorted(p for p in store_dir.rglob("*")) if store_dir.exists() else []
    assert after == before


async def test_count_above_configured_maximum_is_rejected(temporal_env, worker_queue, test_settings) -> None:
    client: Client = temporal_env.client
    with pytest.raises(WorkflowFailureError) as info:
        await client.execute_workflow(
            WF_GENERATE_DATASET,
            DatasetRequest(families=["gap"], count=test_settings.max_dataset_count + 1),
            id=_id("bad"),
            task_queue=worker_queue,
        )
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert "count" in cause.message and "maximum" in cause.message


async def test_benchmark_through_the_s3_store(temporal_env, s3_server, tmp_path) -> None:
    """The same workflow with the S3/MinIO store: the worker and its job processes write to the bucket."""
    from shared.settings import Settings
    from shared.store import S3Store, make_store
    from workers.worker import running_worker

    settings = Settings(
        data_dir=tmp_path,
        store="s3",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_bucket=f"wf-{uuid.uuid4().hex[:8]}",
        worker_concurrency=2,
    )
    queue = _id("s3")
    async with running_worker(temporal_env.client, settings, task_queue=queue):
        result: BenchmarkResult = await temporal_env.client.execute_workflow(
            WF_GENERATE_BENCHMARK,
            GenerateBenchmarkRequest(family="detour", seed=4),
            id=_id("s3"),
            task_queue=queue,
            result_type=BenchmarkResult,
        )
    assert result.verdict == Verdict.PUBLISHED, result.reason
    store = make_store(settings)
    assert isinstance(store, S3Store)
    assert result.definition is not None
    store.get_ref(result.definition)
    keys = list(store.list(f"benchmarks/{result.benchmark_id}/"))
    assert any(k.endswith(".step") for k in keys) and any(k.endswith("collision.npz") for k in keys)
    assert not any(tmp_path.rglob("*.step")), "nothing may land in the local directory"


async def test_a_benchmark_script_goes_through_the_same_proofs(
    temporal_env, worker_queue, test_settings
) -> None:
    """A benchmark authored as a build123d script (run in the sandbox) is proven like a family's, and its id
    is its content hash; a script whose build() fails is a typed, non-retryable failure."""
    from pathlib import Path

    script = test_settings.data_dir / "ramp_benchmark.py"
    script.write_text(
        (Path(__file__).parents[2] / "examples" / "benchmarks" / "ramp_benchmark.py").read_text()
    )
    client: Client = temporal_env.client
    result: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        {"script": {"path": str(script)}},
        id=_id("bench-script"),
        task_queue=worker_queue,
        result_type=BenchmarkResult,
    )
    assert result.verdict == Verdict.PUBLISHED, result.reason
    assert result.family == "script" and result.benchmark_id.startswith("script-")
    assert [p.proof for p in result.proofs] == list(Proof)
    store = LocalStore(test_settings.local_store_dir)
    assert result.definition is not None and store.get_ref(result.definition)

    assert result.random is not None and result.difficulty is not None

    broken = test_settings.data_dir / "broken_benchmark.py"
    broken.write_text("def build():\n    raise RuntimeError('no fixtures today')\n")
    with pytest.raises(WorkflowFailureError) as info:
        await client.execute_workflow(
            WF_GENERATE_BENCHMARK,
            {"script": {"path": str(broken)}},
            id=_id("bench-script"),
            task_queue=worker_queue,
            result_type=BenchmarkResult,
        )
    cause = application_error(info.value)
    assert cause.type == "InvalidPart" and cause.non_retryable
    assert "no fixtures today" in cause.message


async def test_a_dataset_id_is_not_taken_over_by_another_request(
    temporal_env, worker_queue, test_settings
) -> None:
    """A second request for other benchmarks under a used dataset id is refused before any work, naming what
    differs; the first run's manifest stays as it was. The same request again (say, with more parallelism:
    how a dataset runs does not count) regenerates it, as a schedule does every run."""
    client: Client = temporal_env.client
    store = LocalStore(test_settings.local_store_dir)
    ds = _id("ds-owned")
    first_req = DatasetRequest(families=["gap"], count=1, base_seed=60, dataset_id=ds)
    first: DatasetResult = await client.execute_workflow(
        WF_GENERATE_DATASET, first_req, id=_id("dataset"), task_queue=worker_queue, result_type=DatasetResult
    )
    parts = sorted(store.list(f"datasets/{ds}/parts/"))

    with pytest.raises(WorkflowFailureError) as info:
        await client.execute_workflow(
            WF_GENERATE_DATASET,
            first_req.model_copy(update={"count": 2, "families": ["gap", "chute"]}),
            id=_id("dataset"),
            task_queue=worker_queue,
        )
    cause = application_error(info.value)
    assert cause.type == "InvalidRequest" and cause.non_retryable
    assert "dataset_id" in cause.message and ds in cause.message, cause.message
    assert "count 1 there, 2 here" in cause.message and "families" in cause.message, cause.message
    store.get_ref(first.manifest)  # the first run's result still points at its own manifest
    assert sorted(store.list(f"datasets/{ds}/parts/")) == parts, "the refused request wrote nothing"

    again: DatasetResult = await client.execute_workflow(
        WF_GENERATE_DATASET,
        first_req.model_copy(update={"max_parallel": 2}),
        id=_id("dataset"),
        task_queue=worker_queue,
        result_type=DatasetResult,
    )
    manifest = DatasetManifest.model_validate_json(store.get_ref(again.manifest))
    assert again.count == 1 and [e.reused for e in manifest.entries] == [True]


async def test_a_schedule_regenerates_its_dataset_every_run(
    temporal_env, worker_queue, test_settings
) -> None:
    """A schedule reuses its name as the dataset id with the same request every run: the second run is not
    refused as another request, and reuses the first run's benchmarks."""
    from datetime import timedelta

    from workers.schedules import create_dataset_schedule

    client: Client = temporal_env.client
    store = LocalStore(test_settings.local_store_dir)
    name = _id("every-run")
    handle = await create_dataset_schedule(
        client, name, DatasetRequest(families=["gap"], count=1, base_seed=61), timedelta(days=1), worker_queue
    )
    try:
        results: list[DatasetResult] = []
        for run in (1, 2):
            await handle.trigger()
            workflow_id = None
            for _ in range(400):
                actions = (await handle.describe()).info.recent_actions
                if len(actions) >= run:
                    workflow_id = actions[-1].action.workflow_id
                    break
                await asyncio.sleep(0.05)
            assert workflow_id is not None, f"run {run} did not start"
            results.append(await client.get_workflow_handle(workflow_id, result_type=DatasetResult).result())
    finally:
        await handle.delete()
    assert [r.dataset_id for r in results] == [name, name]
    manifest = DatasetManifest.model_validate_json(store.get_ref(results[1].manifest))
    assert [e.reused for e in manifest.entries] == [True]


async def test_a_planted_trivial_benchmark_is_rejected_as_trivial(
    temporal_env, worker_queue, test_settings
) -> None:
    """A wide goal beside the drop (tests/data/wide_goal_benchmark.py): with nothing built the ball stays on
    its pedestal and the reference rolls it off, but nearly any random part deflects it off too, so the
    ``not_trivial_random`` proof rejects it, with the numbers."""
    from pathlib import Path

    script = test_settings.data_dir / "wide_goal_benchmark.py"
    script.write_text((Path(__file__).parents[1] / "data" / "wide_goal_benchmark.py").read_text())
    result: BenchmarkResult = await temporal_env.client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        {"script": {"path": str(script)}},
        id=_id("bench-trivial"),
        task_queue=worker_queue,
        result_type=BenchmarkResult,
    )
    assert result.verdict == Verdict.REJECTED, result.reason
    assert result.failed_proof == Proof.NOT_TRIVIAL_RANDOM, result.reason
    passed = {p.proof: p.passed for p in result.proofs}
    assert passed[Proof.NOT_TRIVIAL] and passed[Proof.SOLVABLE], "the baseline misses, the reference solves"
    random = result.random
    assert random is not None and random.solved > 0 and random.upper_bound is not None
    assert random.upper_bound >= test_settings.trivial_threshold
    assert random.best and random.best[0].solved, "the best random design is one that solved it"
    assert result.difficulty is not None and result.definition is None, "a rejection publishes no definition"


@pytest.mark.parametrize(
    ("certify", "field"),
    [
        ({"random_designs": 0}, "random_designs"),
        ({"random_designs": 100_001}, "random_designs"),
        ({"trivial_threshold": 0}, "trivial_threshold"),
        ({"trivial_threshold": 1}, "trivial_threshold"),
        ({"sampler_version": 99}, "sampler_version"),
    ],
)
async def test_bad_certification_options_fail_at_the_boundary(
    temporal_env, worker_queue, test_settings, certify, field
) -> None:
    """N out of range, a threshold outside (0, 1) or a sampler this worker does not have: a typed, non-retryable
    error before any work, the same for a benchmark and a dataset, and nothing written."""
    client: Client = temporal_env.client
    store_dir = test_settings.local_store_dir
    before = sorted(store_dir.rglob("*")) if store_dir.exists() else []
    for workflow, arg in (
        (WF_GENERATE_BENCHMARK, {"family": "gap", "seed": 3, "certify": certify}),
        (WF_GENERATE_DATASET, {"families": ["gap"], "count": 1, "certify": certify}),
    ):
        with pytest.raises(WorkflowFailureError) as info:
            await client.execute_workflow(workflow, arg, id=_id("bad-certify"), task_queue=worker_queue)
        cause = application_error(info.value)
        assert cause.type == "InvalidRequest" and cause.non_retryable, cause
        assert field in cause.message, cause.message
    after = sorted(store_dir.rglob("*")) if store_dir.exists() else []
    assert after == before
