"""A worker started with ``MECHBENCH_METRICS_PORT`` serves Prometheus metrics: the Temporal SDK's and mechbench's
own (verdicts by family and failed proof, simulation steps per second, analysis step durations)."""

from __future__ import annotations

import re
import shutil
import urllib.request
import uuid
from pathlib import Path

import pytest

from faults.harness import free_port
from shared.metrics import ANALYSIS_SECONDS, BENCHMARKS, SIMULATION_STEPS_PER_SECOND
from shared.models import BenchmarkResult, GenerateBenchmarkRequest, ManufacturingReport, Verdict
from shared.temporal import WF_ANALYZE_MANUFACTURING, WF_GENERATE_BENCHMARK, connect_client
from workers.worker import running_worker

pytestmark = pytest.mark.temporal
BRACKET = Path(__file__).parents[2] / "examples" / "bracket.step"


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


async def test_a_worker_serves_sdk_and_mechbench_metrics(temporal_env, test_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    settings = test_settings.model_copy(
        update={
            "data_dir": tmp_path,
            "part_roots": [tmp_path],
            "metrics_port": port,
            "temporal_address": temporal_env.client.service_client.config.target_host,
        }
    )
    shutil.copy(BRACKET, tmp_path / "bracket.step")
    client = await connect_client(settings, metrics=True)
    queue = f"metrics-{uuid.uuid4().hex[:6]}"
    async with running_worker(client, settings, task_queue=queue):
        result: BenchmarkResult = await client.execute_workflow(
            WF_GENERATE_BENCHMARK,
            GenerateBenchmarkRequest(family="gap", seed=4),
            id=f"metrics-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
            result_type=BenchmarkResult,
        )
        assert result.verdict == Verdict.PUBLISHED, result.reason
        report: ManufacturingReport = await client.execute_workflow(
            WF_ANALYZE_MANUFACTURING,
            {
                "part": {"path": str(tmp_path / "bracket.step")},
                "method": "cnc",
                "material": "aluminum_6061",
                "quantity": 100,
            },
            id=f"metrics-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
            result_type=ManufacturingReport,
        )
        assert report.quote.unit_cost_usd > 0
        text = _scrape(port)

    # the SDK's own
    assert "temporal_worker_task_slots_available" in text and "temporal_request" in text
    # mechbench's: one published gap benchmark, its simulations, the analysis steps
    counted = re.search(rf"^{BENCHMARKS}\{{([^}}]*)\}} (\d+)", text, re.MULTILINE)
    assert counted, text[:2000]
    labels, value = counted.groups()
    assert 'family="gap"' in labels and 'verdict="published"' in labels and 'failed_proof="none"' in labels
    assert value == "1"
    sims = re.findall(rf"^{SIMULATION_STEPS_PER_SECOND}_count\{{([^}}]*)\}} (\d+)", text, re.MULTILINE)
    modes = {m for labels, _ in sims for m in re.findall(r'mode="(\w+)"', labels)}
    assert {"baseline", "reference"} <= modes, sims
    steps = re.findall(rf"^{ANALYSIS_SECONDS}_count\{{([^}}]*)\}} (\d+)", text, re.MULTILINE)
    assert any('step="facts"' in labels for labels, _ in steps), steps
    assert any('step="price"' in labels and 'method="cnc_milling"' in labels for labels, _ in steps), steps
