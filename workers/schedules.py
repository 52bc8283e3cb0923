"""Temporal Schedules that regenerate a dataset periodically: no cron, no external scheduler.

A schedule starts ``GenerateDataset`` with a fixed request every interval. Finished benchmarks proven on
the same basis are reused, so a run costs little unless something changed (a new generator version, new
affordability ceilings or a new catalogue): then the changed benchmarks are proven again and the manifest
is rewritten. Runs never overlap (a run due while the previous one is still going is skipped), and after
downtime only the most recent missed run is started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from shared.models import ID_PATTERN, DatasetRequest
from shared.temporal import WF_GENERATE_DATASET

MIN_EVERY = timedelta(minutes=1)
CATCHUP_WINDOW = timedelta(minutes=10)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EVERY_RE = re.compile(r"^(?:\d+[smhdw])+$")
_ID_RE = re.compile(ID_PATTERN)


class ScheduleError(ValueError):
    """Bad schedule input, or a schedule that does not exist / already exists; the message says which."""


def parse_every(text: str) -> timedelta:
    """``"24h"``, ``"30m"``, ``"1d12h"``, ``"2w"`` ...: at least one minute."""
    compact = text.strip().lower().replace(" ", "")
    if not _EVERY_RE.match(compact):
        raise ScheduleError(f"every: {text!r} is not a duration like 30m, 24h, 1d12h or 2w")
    seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhdw])", compact))
    every = timedelta(seconds=seconds)
    if every < MIN_EVERY:
        raise ScheduleError(f"every: {text!r} is shorter than {MIN_EVERY}")
    return every


def format_every(every: timedelta) -> str:
    """An interval as :func:`parse_every` reads it, in hours, minutes and seconds: ``24h``, ``1h30m``,
    ``1m30s``."""
    seconds = int(every.total_seconds())
    parts = [(seconds // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def check_schedule_id(schedule_id: str) -> str:
    if not _ID_RE.match(schedule_id):
        raise ScheduleError(f"name: {schedule_id!r} must match {ID_PATTERN} (lower case, digits, - and _)")
    return schedule_id


@dataclass(frozen=True)
class ScheduleRow:
    schedule_id: str
    every: str
    paused: bool
    note: str
    next_run: datetime | None
    recent_runs: list[str]
    dataset_id: str | None


async def create_dataset_schedule(
    client: Client,
    schedule_id: str,
    request: DatasetRequest,
    every: timedelta,
    task_queue: str,
    paused: bool = False,
) -> ScheduleHandle:
    """A schedule ``schedule_id`` starting ``GenerateDataset(request)`` every ``every``. The dataset id
    defaults to the schedule's, so every run rewrites the same dataset's manifest."""
    check_schedule_id(schedule_id)
    request = request.model_copy(update={"dataset_id": request.dataset_id or schedule_id})
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            WF_GENERATE_DATASET,
            request,
            id=f"dataset-{request.dataset_id}",  # the server appends each run's start time
            task_queue=task_queue,
            static_summary=f"scheduled {schedule_id}: {','.join(request.families)} x{request.count}",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(paused=paused, note="created paused" if paused else ""),
    )
    try:
        return await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        raise ScheduleError(
            f"name: a schedule {schedule_id!r} already exists; delete it first or pick another name"
        ) from None


async def existing(client: Client, schedule_id: str) -> ScheduleHandle:
    """The handle of a schedule that exists; :class:`ScheduleError` otherwise."""
    handle = client.get_schedule_handle(check_schedule_id(schedule_id))
    try:
        await handle.describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise ScheduleError(
                f"name: no schedule {schedule_id!r} (mechbench schedule list shows them)"
            ) from None
        raise
    return handle


def _every(spec: ScheduleSpec) -> str:
    return ", ".join(format_every(i.every) for i in spec.intervals) or "-"


async def list_dataset_schedules(client: Client) -> list[ScheduleRow]:
    """Every schedule in the namespace that starts ``GenerateDataset``, oldest runs first in each row."""
    rows: list[ScheduleRow] = []
    async for entry in await client.list_schedules():
        desc = await client.get_schedule_handle(entry.id).describe()
        action = desc.schedule.action
        if not isinstance(action, ScheduleActionStartWorkflow) or action.workflow != WF_GENERATE_DATASET:
            continue
        dataset = None
        if action.args:  # from describe(), the arguments come back as raw payloads
            arg = action.args[0]
            if not isinstance(arg, dict):
                (arg,) = client.data_converter.payload_converter.from_payloads([arg])  # type: ignore[list-item]
            dataset = DatasetRequest.model_validate(arg).dataset_id
        info = desc.info
        rows.append(
            ScheduleRow(
                schedule_id=entry.id,
                every=_every(desc.schedule.spec),
                paused=desc.schedule.state.paused,
                note=desc.schedule.state.note or "",
                next_run=info.next_action_times[0] if info.next_action_times else None,
                recent_runs=[
                    a.action.workflow_id for a in info.recent_actions if hasattr(a.action, "workflow_id")
                ],
                dataset_id=dataset,
            )
        )
    rows.sort(key=lambda r: r.schedule_id)
    return rows
