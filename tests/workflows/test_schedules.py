"""Dataset schedules (Temporal Schedules) on the dev server: create, list, pause, trigger, delete."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus

from shared.models import DatasetRequest, DatasetResult
from workers.schedules import (
    ScheduleError,
    create_dataset_schedule,
    existing,
    list_dataset_schedules,
    parse_every,
)

pytestmark = pytest.mark.temporal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("30m", timedelta(minutes=30)),
        ("1d12h", timedelta(hours=36)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_every_parses_durations(text: str, expected: timedelta) -> None:
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "10s", "1.5h", "-1h", "1y"])
def test_every_rejects_what_is_not_a_duration_of_a_minute_or_more(text: str) -> None:
    with pytest.raises(ScheduleError, match="every"):
        parse_every(text)


async def test_a_schedule_regenerates_a_dataset_and_can_be_paused_triggered_and_deleted(
    temporal_env, worker_queue
) -> None:  # type: ignore[no-untyped-def]
    client = temporal_env.client
    name = f"nightly-{uuid.uuid4().hex[:6]}"
    request = DatasetRequest(families=["gap"], count=1, base_seed=40)
    handle = await create_dataset_schedule(
        client, name, request, timedelta(days=1), worker_queue, paused=True
    )
    with pytest.raises(ScheduleError, match="already exists"):
        await create_dataset_schedule(client, name, request, timedelta(days=1), worker_queue)

    (row,) = [r for r in await list_dataset_schedules(client) if r.schedule_id == name]
    assert row.paused and row.every == "24h" and row.dataset_id == name

    await handle.unpause(note="test")
    assert not (await handle.describe()).schedule.state.paused
    await handle.trigger()  # run now, as the schedule would
    run_id = None
    for _ in range(200):
        recent = (await handle.describe()).info.recent_actions
        if recent:
            run_id = recent[0].action.workflow_id
            break
        await asyncio.sleep(0.1)
    assert run_id is not None and run_id.startswith(f"dataset-{name}")
    result = await client.get_workflow_handle(run_id, result_type=DatasetResult).result()
    assert result.dataset_id == name and result.count == 1
    assert (await client.get_workflow_handle(run_id).describe()).status == WorkflowExecutionStatus.COMPLETED

    await handle.pause(note="maintenance")
    assert (await handle.describe()).schedule.state.note == "maintenance"
    await handle.delete()
    with pytest.raises(ScheduleError, match="no schedule"):
        await existing(client, name)


def test_cli_rejects_a_bad_schedule_before_connecting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    # an address nobody listens on: the checks must fail first, with exit code 2
    env = {**os.environ, "MECHBENCH_DATA_DIR": str(tmp_path), "MECHBENCH_TEMPORAL_ADDRESS": "127.0.0.1:9"}
    for args, says in (
        (["--every", "10s"], "shorter than"),
        (["--every", "1h", "--families", "nope"], "unknown family"),
        (["--every", "1h", "--count", "0"], "count"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "workers.cli", "schedule", "create", "nightly", *args],
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
        assert out.returncode == 2, out.stderr
        assert says in out.stderr, out.stderr
