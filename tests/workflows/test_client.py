"""The typed Python client against the session's server: every method, async and sync, returns the contract
models, and bad input raises InputError naming the field before anything starts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engines.cad.export import step_bytes
from engines.cad.primitives import box
from mechbench import Client, InputError, SyncClient
from shared.models import BenchmarkResult, DatasetResult, EvaluationResult, EvaluationVerdict, Leaderboard
from tests.helpers import publish_chute

pytestmark = pytest.mark.temporal

DESIGNS = Path(__file__).parents[2] / "examples" / "designs"


@pytest.fixture
def settings(temporal_env, worker_queue, test_settings):  # type: ignore[no-untyped-def]
    return test_settings.model_copy(
        update={
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "task_queue": worker_queue,
        }
    )


async def test_the_async_client_generates_evaluates_analyses_exports_and_reads_the_leaderboard(
    settings, temporal_env, worker_queue, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    await publish_chute(temporal_env.client, worker_queue)
    async with Client.connect(settings) as mb:
        bench = await mb.benchmark("chute", 0)
        assert isinstance(bench, BenchmarkResult) and bench.verdict.value == "published"
        dataset = await mb.generate(["chute"], count=1, base_seed=0)
        assert isinstance(dataset, DatasetResult) and dataset.published == 1
        result = await mb.evaluate(
            bench.benchmark_id, script=DESIGNS / "chute_design.py", evidence=False, submitter="client"
        )
        assert isinstance(result, EvaluationResult) and result.verdict == EvaluationVerdict.PASSED
        part = step_bytes(box((0.0, 0.0, 0.0), (40.0, 30.0, 10.0)))
        report = await mb.analyze(part, "cnc_milling", "aluminum_6061", 25, filename="plate.step")
        assert report.quantity == 25 and report.quote is not None and report.quote.unit_cost_usd > 0
        with pytest.raises(InputError, match=r"^finish: "):
            await mb.analyze(part, "cnc_milling", "aluminum_6061", 25, filename="plate.step", finish="chrome")
        with pytest.raises(InputError, match="unknown analysis option"):
            await mb.analyze(part, "cnc_milling", "aluminum_6061", 25, filename="plate.step", colour="red")
        board = await mb.leaderboard(dataset.dataset_id)
        # other tests of the session may record their own submitters in the same store
        assert isinstance(board, Leaderboard) and "client" in [s.submitter for s in board.standings]
        manifest = await mb.manifest(dataset.dataset_id)
        assert [e.benchmark_id for e in manifest.entries] == [bench.benchmark_id]
        summary = await mb.export(dataset.dataset_id, tmp_path / "export")
        assert summary.rows == 1 and (tmp_path / "export" / "benchmarks.parquet").is_file()

        with pytest.raises(InputError, match=r"^families: "):
            await mb.generate(["no-such-family"], count=1)
        with pytest.raises(InputError, match=r"^benchmark_id: "):
            await mb.evaluate("chute-s999-v1", script="def build():\n    return []\n")
        with pytest.raises(InputError, match=r"^split: "):
            await mb.leaderboard(dataset.dataset_id, split="nope", fold=0)


async def test_the_sync_client_is_the_same_methods_blocking(settings, temporal_env, worker_queue) -> None:  # type: ignore[no-untyped-def]
    bench = await publish_chute(temporal_env.client, worker_queue)

    def use() -> EvaluationResult:
        with SyncClient.connect(settings) as mb:
            with pytest.raises(InputError, match=r"^family: "):
                mb.benchmark("no-such-family", 0)
            return mb.evaluate(
                bench.benchmark_id, script=(DESIGNS / "chute_design_bad.py").read_text(), evidence=False
            )

    result = await asyncio.to_thread(use)  # the worker serves on this test's event loop
    assert result.verdict == EvaluationVerdict.FAILED and result.reason
