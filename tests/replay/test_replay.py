"""Replay every committed history against today's workflow code: a nondeterministic change fails here."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.common import RawValue
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from shared.models import BenchmarkResult
from shared.temporal import DATA_CONVERTER
from workers.worker import INTERCEPTORS, WORKFLOWS
from workflows.benchmark import GenerateBenchmark

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_shipped_workflow_has_a_history() -> None:
    types = set()
    for path in HISTORIES:
        events = json.loads(path.read_text())["events"]
        types.add(events[0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"])
    assert types == {"GenerateBenchmark", "GenerateDataset", "AnalyzeManufacturing", "EvaluateDesign"}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    # the recorder names files "<workflow id>-run<N>.json"; GenerateDataset derives child ids from its own id
    workflow_id = path.stem.rsplit("-run", 1)[0]
    history = WorkflowHistory.from_json(workflow_id, path.read_text())
    await Replayer(
        workflows=WORKFLOWS, interceptors=INTERCEPTORS, data_converter=DATA_CONVERTER
    ).replay_workflow(history)


@workflow.defn(name="GenerateBenchmark", sandboxed=False)
class _ReorderedGenerateBenchmark:
    """Today's GenerateBenchmark with one change made without ``workflow.patched``: a timer first."""

    @workflow.run
    async def run(self, raw: RawValue) -> BenchmarkResult:
        await workflow.sleep(timedelta(seconds=1))
        return await GenerateBenchmark().run(raw)


async def test_replay_catches_an_unpatched_command_change() -> None:
    path = next(p for p in HISTORIES if p.name.startswith("generate_benchmark-"))
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await Replayer(
        workflows=[_ReorderedGenerateBenchmark], data_converter=DATA_CONVERTER
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, NondeterminismError), result.replay_failure
