"""Replay every committed history against today's workflow code: a nondeterministic change fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from shared.temporal import DATA_CONVERTER
from workers.worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_shipped_workflow_has_a_history() -> None:
    types = set()
    for path in HISTORIES:
        events = json.loads(path.read_text())["events"]
        types.add(events[0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"])
    assert types == {"GenerateBenchmark", "GenerateDataset"}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(history)
