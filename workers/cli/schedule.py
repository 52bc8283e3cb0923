"""``mechbench schedule create|list|pause|unpause|trigger|delete``: Temporal Schedules that start
GenerateDataset every interval (:mod:`workers.schedules` makes and reads them).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from shared.settings import Settings
from workers.cli.common import EXIT_OK, BadInput
from workers.cli.generate import dataset_request
from workers.cli.render import console, schedule_table
from workers.cli.runner import connect, run

schedule_app = typer.Typer(
    no_args_is_help=True,
    help="Temporal Schedules that regenerate a dataset periodically (no cron needed).",
)


def _schedule_call(action: Callable[[Any], Awaitable[int]], as_json: bool = False) -> None:
    """Run a schedule command against the cluster in settings; a ScheduleError is bad input (exit 2)."""
    from workers.schedules import ScheduleError

    async def main(settings: Settings) -> int:
        client = await connect(settings)
        try:
            return await action(client)
        except ScheduleError as e:
            raise BadInput(str(e)) from None

    run(main, as_json=as_json)


@schedule_app.command("create")
def schedule_create(
    name: Annotated[str, typer.Argument(help="schedule id; also the dataset id of every run")],
    every: Annotated[str, typer.Option(help="interval, e.g. 30m, 24h, 1d12h, 2w")],
    families: Annotated[str, typer.Option(help="comma-separated families")] = "chute,gap,detour,lift",
    count: Annotated[int, typer.Option(help="benchmarks per run")] = 12,
    seed: Annotated[int, typer.Option(help="base seed")] = 0,
    paused: Annotated[bool, typer.Option(help="create it paused")] = False,
) -> None:
    """Create a schedule that starts GenerateDataset every interval (runs never overlap)."""
    from workers.schedules import ScheduleError, create_dataset_schedule, format_every, parse_every

    async def main(settings: Settings) -> int:
        try:  # everything is checked before connecting
            interval = parse_every(every)
        except ScheduleError as e:
            raise BadInput(str(e)) from None
        req = dataset_request([f for f in families.split(",") if f], count, seed, settings, dataset_id=name)
        client = await connect(settings)
        try:
            handle = await create_dataset_schedule(
                client, name, req, interval, settings.task_queue, paused=paused
            )
        except ScheduleError as e:
            raise BadInput(str(e)) from None
        upcoming = (await handle.describe()).info.next_action_times
        state = "paused" if paused else f"next run {upcoming[0] if upcoming else '-'}"
        console.print(
            f"schedule {name}: GenerateDataset {req.families} x{req.count} every {format_every(interval)} "
            f"({state})"
        )
        return EXIT_OK

    run(main)


@schedule_app.command("list")
def schedule_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The dataset schedules: interval, state, next run and the latest runs."""
    from workers.schedules import list_dataset_schedules

    async def action(client: Any) -> int:
        rows = await list_dataset_schedules(client)
        if as_json:
            print(
                json.dumps(
                    [{**r.__dict__, "next_run": str(r.next_run) if r.next_run else None} for r in rows],
                    indent=2,
                )
            )
            return EXIT_OK
        console.print(schedule_table(rows))
        return EXIT_OK

    _schedule_call(action, as_json)


def _on_schedule(name: str, what: str, act: Callable[[Any], Awaitable[None]]) -> None:
    from workers.schedules import existing

    async def action(client: Any) -> int:
        await act(await existing(client, name))
        console.print(f"schedule {name}: {what}")
        return EXIT_OK

    _schedule_call(action)


@schedule_app.command("pause")
def schedule_pause(name: str, note: Annotated[str, typer.Option(help="why")] = "paused from the CLI") -> None:
    """Stop starting runs (a running one finishes)."""
    _on_schedule(name, "paused", lambda h: h.pause(note=note))


@schedule_app.command("unpause")
def schedule_unpause(name: str) -> None:
    """Start runs again at the next interval."""
    _on_schedule(name, "active", lambda h: h.unpause(note="unpaused from the CLI"))


@schedule_app.command("trigger")
def schedule_trigger(name: str) -> None:
    """Start a run now (skipped if one is still running)."""
    _on_schedule(name, "triggered", lambda h: h.trigger())


@schedule_app.command("delete")
def schedule_delete(name: str) -> None:
    """Delete the schedule (runs already started go on; datasets stay in the store)."""
    _on_schedule(name, "deleted", lambda h: h.delete())
