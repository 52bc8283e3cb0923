"""The runner: drives the fuzzed and hostile inputs raw into the workflows on a running worker (the dev server
the fault suite starts, or a test's), classifies each outcome, and reports per workflow
(:class:`FuzzReport`). Temporal is imported only here, and only when it runs."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from faults.fuzz.boundary import draw, model_rejects, on_the_wire, short
from faults.fuzz.hostile import Case, hostile_inputs
from faults.fuzz.targets import TARGETS
from shared.models import DETERMINISTIC_ERRORS

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle

KNOWN_ERROR_TYPES = frozenset(e.value for e in DETERMINISTIC_ERRORS)
"""``ApplicationError.type`` values a workflow may fail with on bad input (all non-retryable)."""


@dataclass
class TypeReport:
    """One workflow's results: the fuzzed values and the hostile cases."""

    workflow: str
    model: str
    generated: int = 0
    rejected_by_model: int = 0
    """Fuzzed values the model rejected (all of them, or the strategy is wrong or the model too lax)."""
    rejected_at_client: int = 0
    """Could not be sent: the client's converter or the server refused them (no workflow started)."""
    sent: int = 0
    """Fuzzed values started as workflows (hostile cases are counted apart)."""
    failed_typed: int = 0
    hostile_sent: int = 0
    hostile_failed_typed: int = 0
    bad: int = 0
    """Anything else: accepted by the model, completed, an untyped or retryable error, a workflow task that
    failed (a retry loop), an activity retrying, or no outcome within the timeout."""
    workflow_task_failures: int = 0
    """WorkflowTaskFailed events in the histories of the workflows sent."""
    slowest_s: float = 0.0
    """Longest time from start to outcome."""
    outcomes: Counter[str] = field(default_factory=Counter)
    bad_examples: list[str] = field(default_factory=list)

    def add_bad(self, what: str, example: str) -> None:
        self.bad += 1
        self.outcomes[what] += 1
        if len(self.bad_examples) < 3:
            self.bad_examples.append(f"{what}: {example}"[:400])


@dataclass
class FuzzReport:
    seed: int
    per_type: int
    concurrency: int
    types: list[TypeReport] = field(default_factory=list)
    draw_s: float = 0.0
    """Seconds spent drawing and checking values against the models."""
    elapsed_s: float = 0.0
    """Seconds spent sending them and waiting for the outcomes."""

    @property
    def bad(self) -> int:
        return sum(t.bad for t in self.types)

    @property
    def sent(self) -> int:
        return sum(t.sent + t.hostile_sent for t in self.types)

    @property
    def workflow_task_failures(self) -> int:
        return sum(t.workflow_task_failures for t in self.types)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "workflow": t.workflow,
                "generated": t.generated,
                "rejected_by_model": t.rejected_by_model,
                "rejected_at_client": t.rejected_at_client,
                "sent": t.sent,
                "failed_typed": t.failed_typed,
                "hostile": f"{t.hostile_failed_typed}/{t.hostile_sent}",
                "wft_failed": t.workflow_task_failures,
                "bad": t.bad,
                "slowest_s": round(t.slowest_s, 2),
            }
            for t in self.types
        ]

    def format(self) -> str:
        rows = self.rows()
        head = list(rows[0]) if rows else []
        widths = {h: max(len(h), *(len(str(r[h])) for r in rows)) for h in head}
        lines = ["  ".join(h.ljust(widths[h]) for h in head)]
        lines += ["  ".join(str(r[h]).ljust(widths[h]) for h in head) for r in rows]
        lines.append(
            f"seed {self.seed}, {self.per_type} per type, concurrency {self.concurrency}: drawn and checked in "
            f"{self.draw_s:.1f} s, {self.sent} workflows in {self.elapsed_s:.1f} s"
            + (f" ({self.sent / self.elapsed_s:.0f}/s)" if self.elapsed_s else "")
        )
        for t in self.types:
            lines += [f"  {t.workflow} bad: {ex}" for ex in t.bad_examples]
        return "\n".join(lines)


def _innermost_application_error(error: BaseException) -> Any:
    from temporalio.exceptions import ApplicationError

    found = None
    inner: BaseException | None = error
    while inner is not None:
        if isinstance(inner, ApplicationError):
            found = inner
        inner = getattr(inner, "cause", None)
    return found


async def _retrying(handle: WorkflowHandle[Any, Any]) -> tuple[str | None, int]:
    """``(stuck, slow)``: why the workflow is stuck retrying (a workflow task that failed, or an activity that
    raised, past its first attempt), if so; and the attempt its pending workflow task has reached through
    timeouts alone (0 if none). A retry after a *timeout* is the machine being slow, not the input being
    mishandled: a workflow task that timed out (``WorkflowTaskTimedOut``, no ``WorkflowTaskFailed`` in the
    history) or an activity whose last failure is a timeout is waited on, not counted."""
    raw = (await handle.describe()).raw_description
    attempt = raw.pending_workflow_task.attempt
    if attempt > 1 and await _workflow_task_failures(handle):
        return f"workflow task retrying (attempt {attempt})", 0
    for a in raw.pending_activities:
        if a.attempt > 1 and not a.last_failure.HasField("timeout_failure_info"):
            info = a.last_failure.application_failure_info
            return (
                f"activity {a.activity_type.name} retrying (attempt {a.attempt}, "
                f"{info.type or 'error'}: {a.last_failure.message[:120]})"
            ), 0
    return None, attempt if attempt > 1 else 0


async def _history_hint(handle: WorkflowHandle[Any, Any]) -> str:
    """What the history of a silent workflow suggests (a local activity retrying keeps completing workflow
    tasks without scheduling anything)."""
    from temporalio.api.enums.v1 import EventType

    try:
        events = (await handle.fetch_history()).events
    except Exception:  # noqa: BLE001 - a hint only
        return ""
    kinds = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_").lower() for e in events)
    return f" (history: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"


async def _workflow_task_failures(handle: WorkflowHandle[Any, Any]) -> int:
    from temporalio.api.enums.v1 import EventType

    history = await handle.fetch_history()
    return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events)


async def _outcome(handle: WorkflowHandle[Any, Any], timeout_s: float, poll_s: float) -> tuple[bool, str]:
    """``(ok, what)``: ok when the workflow failed with a known error type, non-retryable."""
    from temporalio.client import WorkflowFailureError

    result = asyncio.ensure_future(handle.result())
    deadline = time.monotonic() + timeout_s
    slow_seen = 0
    try:
        while True:
            done, _ = await asyncio.wait(
                {result}, timeout=max(0.05, min(poll_s, deadline - time.monotonic()))
            )
            if done:
                break
            stuck, slow = await _retrying(handle)
            if stuck is not None:
                return False, stuck
            # a workflow task timed out on a loaded machine: its retry gets the full time again
            if slow > slow_seen:
                slow_seen, deadline = slow, max(deadline, time.monotonic() + timeout_s)
            if time.monotonic() >= deadline:
                return False, f"no outcome within {timeout_s:.0f} s{await _history_hint(handle)}"
    finally:
        if not result.done():
            result.cancel()
    try:
        value = result.result()
    except WorkflowFailureError as e:
        app = _innermost_application_error(e)
        if app is None:
            return False, f"failed untyped: {type(e.cause).__name__}: {str(e.cause)[:200]}"
        if app.type in KNOWN_ERROR_TYPES and app.non_retryable:
            return True, app.type
        return False, f"failed with {app.type} (non_retryable={app.non_retryable}): {app.message[:200]}"
    except Exception as e:  # noqa: BLE001 - e.g. the result could not be decoded
        return False, f"{type(e).__name__}: {str(e)[:200]}"
    return False, f"completed: {short(value, 200)}"


async def _send(
    client: Client,
    workflow: str,
    case: Case,
    task_queue: str,
    report: TypeReport,
    timeout_s: float,
    poll_s: float,
) -> None:
    wid = f"fuzz-{workflow.lower()}-{uuid.uuid4().hex}"
    t0 = time.monotonic()
    try:
        handle = await client.start_workflow(
            workflow,
            args=list(case.args),
            id=wid,
            task_queue=task_queue,
            # a safety net: nothing the fuzzer starts outlives it for long
            execution_timeout=timedelta(seconds=max(120.0, 4 * timeout_s)),
        )
    except Exception as e:  # noqa: BLE001 - the client or the server refused it: no workflow exists
        if case.hostile:
            report.add_bad("hostile input not sent", f"{case.label}: {type(e).__name__}: {str(e)[:150]}")
        else:
            report.rejected_at_client += 1
            report.outcomes[f"client: {type(e).__name__}"] += 1
        return
    if case.hostile:
        report.hostile_sent += 1
    else:
        report.sent += 1
    ok, what = await _outcome(handle, timeout_s, poll_s)
    report.slowest_s = max(report.slowest_s, time.monotonic() - t0)
    try:
        wft = await _workflow_task_failures(handle)
    except Exception:  # noqa: BLE001 - history unavailable: count nothing, the outcome still stands
        wft = 0
    report.workflow_task_failures += wft
    if ok and wft:
        ok, what = False, f"{what} after {wft} failed workflow task(s)"
    label = case.label if case.hostile else short(case.args[0] if case.args else None)
    if ok:
        report.outcomes[what] += 1
        if case.hostile:
            report.hostile_failed_typed += 1
        else:
            report.failed_typed += 1
        return
    report.add_bad(what, f"{wid}: {label}")
    with contextlib.suppress(Exception):  # stop a retry loop or any work it started (unless closed)
        await handle.terminate(reason=f"fuzz: {what}"[:200])


async def fuzz_workflows(
    client: Client,
    task_queue: str,
    per_type: int,
    seed: int,
    concurrency: int = 32,
    *,
    timeout_s: float = 30.0,
    poll_s: float = 3.0,
    part_root: str | None = None,
    hostile: bool = True,
    sdk_limits: bool = False,
    workflows: Sequence[str] | None = None,
) -> FuzzReport:
    """Draw ``per_type`` malformed inputs per workflow input type (deterministically from ``seed``), check
    each is rejected by its model, then send it raw to its workflow on ``task_queue`` (bypassing the model)
    with at most ``concurrency`` in flight, plus the :func:`hostile_inputs` (``part_root``: the worker's part
    root, if known; ``sdk_limits``: see :func:`hostile_inputs`). Each must fail with a typed, non-retryable
    error; anything else is ``bad`` and the workflow is terminated. A workflow retrying a task or an activity
    is caught at the first poll (every ``poll_s``); a silent one (say, a local activity retrying inside its
    workflow task) after ``timeout_s``. ``workflows`` limits the run to some workflow names."""
    report = FuzzReport(seed=seed, per_type=per_type, concurrency=concurrency)
    t0 = time.monotonic()
    plan: list[tuple[TypeReport, str, Case]] = []
    hostile_cases = hostile_inputs(part_root, sdk_limits) if hostile else {}
    for i, t in enumerate(TARGETS):
        if workflows is not None and t.name not in workflows:
            continue
        tr = TypeReport(workflow=t.name, model=t.model.__name__)
        report.types.append(tr)
        values = draw(t.malformed(), per_type, seed + i)
        tr.generated = len(values)
        for value in values:
            _, _, problem = on_the_wire(value)
            try:
                rejected = model_rejects(t.model, value)
            except Exception as e:  # noqa: BLE001
                tr.add_bad(f"model raised {type(e).__name__}", short(value))
                continue
            if not rejected:
                tr.add_bad("accepted by the model", short(value))  # never sent: it could start real work
                continue
            tr.rejected_by_model += 1
            if problem is not None and problem.startswith("client"):
                tr.rejected_at_client += 1
                tr.outcomes[problem.split(":")[0] + ": unsendable"] += 1
                continue
            plan.append((tr, t.name, Case("fuzz", (value,))))
        plan += [(tr, t.name, c) for c in hostile_cases.get(t.name, [])]
    report.draw_s = time.monotonic() - t0

    sem = asyncio.Semaphore(concurrency)

    async def one(tr: TypeReport, workflow: str, case: Case) -> None:
        async with sem:
            await _send(client, workflow, case, task_queue, tr, timeout_s, poll_s)

    t1 = time.monotonic()
    await asyncio.gather(*(one(*p) for p in plan))
    report.elapsed_s = time.monotonic() - t1
    return report
