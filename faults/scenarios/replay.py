"""The replay guard: every committed history replays on today's code, and the same replay catches an
unpatched change to the commands a workflow issues."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from temporalio.common import RawValue

from faults.scenarios.common import REPO, Row

HISTORIES = REPO / "tests" / "replay" / "histories"


def _unpatched(original: type) -> type:
    """``original`` with one change made without ``workflow.patched``: a timer before everything else."""
    from temporalio import workflow

    name = original.__name__  # every mechbench workflow is registered under its class name

    async def run(self: object, raw: RawValue) -> object:
        await workflow.sleep(timedelta(seconds=1))
        return await original().run(raw)

    cls_name = f"Unpatched{original.__name__}"
    run.__qualname__ = f"{cls_name}.run"  # the SDK refuses local classes; this one is never imported by name
    cls = type(cls_name, (), {"run": workflow.run(run), "__module__": __name__, "__qualname__": cls_name})
    return workflow.defn(name=name, sandboxed=False)(cls)


async def replay_guard(root: Path) -> list[Row]:
    """Every committed history replays against today's code, and the same replay catches an unpatched
    command-sequence change in each of them."""
    from temporalio.client import WorkflowHistory
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
    from temporalio.worker import Replayer
    from temporalio.workflow import NondeterminismError

    from shared.temporal import DATA_CONVERTER
    from workers.worker import INTERCEPTORS, WORKFLOWS

    started = time.monotonic()
    paths = sorted(HISTORIES.glob("*.json"))
    replayer = Replayer(workflows=WORKFLOWS, interceptors=INTERCEPTORS, data_converter=DATA_CONVERTER)
    # the nondeterminism it must find would otherwise be logged by the SDK core as a warning per history
    quiet = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )
    changed = Replayer(
        workflows=[_unpatched(w) for w in WORKFLOWS],
        interceptors=INTERCEPTORS,
        data_converter=DATA_CONVERTER,
        runtime=quiet,
    )
    replayed, caught, notes, missed = 0, 0, [], []
    for path in paths:
        history = WorkflowHistory.from_json(path.stem.rsplit("-run", 1)[0], path.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is None:
            replayed += 1
        else:
            notes.append(f"{path.name} does not replay: {result.replay_failure}")
        result = await changed.replay_workflow(history, raise_on_replay_failure=False)
        if isinstance(result.replay_failure, NondeterminismError):
            caught += 1
        else:
            missed.append(path.name)
    types = sorted(
        {
            json.loads(p.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"][
                "name"
            ]
            for p in paths
        }
    )
    shipped = sorted(w.__name__ for w in WORKFLOWS)
    if types != shipped:
        notes.append(f"histories cover {types}, shipped types are {shipped}")
    seconds = time.monotonic() - started
    return [
        Row(
            "committed histories replay on today's code",
            len(paths),
            replayed,
            len(paths) - replayed + int(types != shipped),
            notes,
            seconds,
        ),
        Row(
            "unpatched command change caught by replay",
            len(paths),
            caught,
            len(missed),
            [f"not caught: {missed}"] if missed else [],
            seconds,
        ),
    ]
