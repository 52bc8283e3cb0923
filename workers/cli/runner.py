"""How a ``mechbench`` command runs: settings and logging, the event loop, every failure reported the same
way and the exit through ``os._exit`` (see :mod:`workers.cli`); connecting to the cluster (or to an embedded server and worker), saying which
workflow started, and following it to its result.

Light imports: the Temporal SDK is imported where a function needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from pydantic import ValidationError
from rich.markup import escape

from shared.logging import configure_logging
from shared.settings import Settings, get_settings
from workers.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    BadInput,
    CommandError,
    local_ui_url,
    one_line,
    unreachable,
    validation_message,
    workflow_failure,
    workflow_url,
)
from workers.cli.render import console, err

state = {"verbose": False}
"""The root options (``-v``), set before any command runs."""


def finish(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def report_failure(failure: CommandError, as_json: bool) -> int:
    """One line on stderr (the rest of the message with -v); with ``--json`` also one JSON object on
    stdout. Returns the exit code."""
    err.print(f"[red]error:[/red] {escape(failure.line())}")
    if failure.detail and state["verbose"]:
        err.print(escape(failure.detail))
    if as_json:
        print(failure.as_json())
    return failure.code


def run(
    main: Callable[[Settings], Awaitable[int]],
    service: bool = False,
    *,
    as_json: bool = False,
    overrides: dict[str, Any] | None = None,
) -> None:
    """Run an async command; map errors to exit codes; always leave through ``os._exit``.

    Services (``dev``, ``worker``) log at the configured level; one-shot commands only warnings, unless -v.
    ``overrides`` are command-line options that replace settings. Every failure is reported by
    :func:`report_failure`: one line, and one JSON object with ``as_json``."""
    from temporalio.client import WorkflowFailureError
    from temporalio.exceptions import TemporalError

    from workers.devstack import DevStackError

    code = EXIT_FAILED
    try:
        try:
            settings = get_settings()
        except ValidationError as e:
            raise BadInput(f"settings (MECHBENCH_*): {validation_message(e)}") from None
        level = settings.log_level if (service or state["verbose"]) else "WARNING"
        configure_logging(level, settings.log_json)
        if not (service or state["verbose"]):
            # An embedded worker's SDK warns with a traceback for every failed activity; the command
            # prints the failure itself, once, as a readable message.
            logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
        # an embedded worker's job processes log at the same level as the command itself
        settings = settings.model_copy(update={"log_level": level, **(overrides or {})})
        code = asyncio.run(main(settings))
    except CommandError as e:
        code = report_failure(e, as_json)
    except KeyboardInterrupt:
        code = report_failure(
            CommandError("interrupted", code=EXIT_INTERRUPTED, error_type="Interrupted"), as_json
        )
    except WorkflowFailureError as e:
        code = report_failure(workflow_failure(e, None), as_json)
    except (TemporalError, DevStackError, ConnectionError, RuntimeError) as e:
        headline, detail = one_line(str(e) or type(e).__name__)
        code = report_failure(CommandError(headline, error_type=type(e).__name__, detail=detail), as_json)
    except OSError as e:  # e.g. a TLS certificate file named in settings that cannot be read
        code = report_failure(CommandError(str(e), code=EXIT_BAD_INPUT, error_type=type(e).__name__), as_json)
    except Exception as e:  # noqa: BLE001 - a bug: show it before os._exit would swallow it
        err.print_exception()
        if as_json:
            print(CommandError(str(e), error_type=type(e).__name__).as_json())
        code = EXIT_FAILED
    finally:
        finish(code)


def stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def connect(settings: Settings, *, metrics: bool = False, embedded_flag: bool = False):  # type: ignore[no-untyped-def]
    """A client for the cluster in settings; no server there is one line saying what to do."""
    from shared.temporal import connect_client
    from shared.temporal import unreachable as temporal_unreachable

    try:
        return await connect_client(settings, metrics=metrics)
    except RuntimeError as e:
        if temporal_unreachable(e) is not None:
            raise unreachable(settings, e, embedded_flag) from None
        raise


async def connect_embedded_or_remote(  # type: ignore[no-untyped-def]
    stack: AsyncExitStack,
    settings: Settings,
    embedded: bool,
    ui: bool,
    metrics: bool = False,
    phases: dict[str, float] | None = None,
    overlap: bool = True,
):
    """A client of the cluster, or of an embedded dev server with a worker running in this process.

    Embedded, three things overlap unless ``overlap`` is False: the worker's fork server warms up in its own
    process (imports build123d, OCP and MuJoCo: seconds), the dev server starts in its own, and this process
    imports the worker (the Temporal SDK's worker and the activities: about half a second) in a thread.
    ``phases`` (``benchmarks/bench_embedded.py``) receives the seconds at which each start-up phase ended."""
    from runtime.supervisor import HeavySupervisor
    from workers.devstack import dev_address, embedded_server

    t0 = time.perf_counter()
    marks = {} if phases is None else phases
    server, supervisor = None, None
    if embedded:
        settings = settings.model_copy(update={"temporal_address": dev_address(settings)})
        supervisor = HeavySupervisor(settings)
        stack.push_async_callback(supervisor.close)  # after the worker stops, or when the server fails
        warming, importing = None, None
        if overlap:
            warming = asyncio.create_task(supervisor.start())
            importing = asyncio.create_task(asyncio.to_thread(_import_worker))
        try:
            server = await stack.enter_async_context(embedded_server(settings, ui=ui))
            marks["server_ready"] = time.perf_counter() - t0
            if importing is not None:
                await importing
                marks["worker_imported"] = time.perf_counter() - t0
            if warming is not None:
                await warming
                marks["fork_server_warm"] = time.perf_counter() - t0
        except BaseException:
            pending = [t for t in (warming, importing) if t is not None]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            raise
    from workers.worker import running_worker

    client = await connect(settings, metrics=metrics, embedded_flag=not embedded)
    marks["client_connected"] = time.perf_counter() - t0
    if embedded:
        await stack.enter_async_context(running_worker(client, settings, supervisor=supervisor))
        marks["worker_ready"] = time.perf_counter() - t0
    return client, settings, server


def _import_worker() -> None:
    import workers.worker  # noqa: F401 - imported in a thread, while the stack starts


def started(workflow: str, wf_id: str, settings: Settings, server: Any, as_json: bool) -> str | None:
    """Say which workflow runs (its id, the queue) and where the Web UI shows it, as every command that
    starts one does; nothing with ``--json``. Returns the link (None when the UI is not known here)."""
    if server is not None:
        url = workflow_url(server.ui_url, settings, wf_id)
        later = "" if server.ui else " (after the run: `mechbench dev`)"
    else:
        url, later = workflow_url(local_ui_url(settings), settings, wf_id), ""
    if not as_json:
        console.print(f"started {workflow} [bold]{wf_id}[/bold] on {settings.task_queue}")
        if url:
            console.print(f"Web UI: {url}{later}")
    return url


async def start_or_attach(  # type: ignore[no-untyped-def]
    client, settings: Settings, workflow: str, req, wf_id: str, result_type: type, summary: str
):
    """The handle of ``workflow`` under ``wf_id``: started, or the run already going under that id
    (``USE_EXISTING``), so asking again after a restart waits for the same run. The CLI and the agent
    operations (:mod:`workers.agent`) start their work through it.

    An evaluation with a submitter gets the submitter as its fairness key (its tasks, and its activities',
    are dispatched fairly among submitters) and as search attribute from its first event (so the
    per-submitter limit counts it at once)."""
    from temporalio.common import (
        Priority,
        SearchAttributePair,
        TypedSearchAttributes,
        WorkflowIDConflictPolicy,
    )

    from shared.models import EvaluateRequest
    from shared.temporal import SA_SUBMITTER

    extra: dict[str, Any] = {}
    if isinstance(req, EvaluateRequest) and req.submitter:
        extra["priority"] = Priority(fairness_key=req.submitter)
        extra["search_attributes"] = TypedSearchAttributes([SearchAttributePair(SA_SUBMITTER, req.submitter)])
    return await client.start_workflow(
        workflow,
        req,
        id=wf_id,
        task_queue=settings.task_queue,
        result_type=result_type,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=summary,
        **extra,
    )


async def run_showing_stage(  # type: ignore[no-untyped-def]
    client,
    settings: Settings,
    workflow: str,
    req,
    *,
    wf_id: str,
    result_type: type,
    summary: str,
    progress_type: type,
    what: str,
    quiet: bool = False,
    codes: dict[str, int] | None = None,
):
    """Start ``workflow`` (or attach to the run already going under ``wf_id``) and return its result; meanwhile,
    on a terminal, a spinner shows its current stage and detail (its ``progress`` query). Nothing is shown when
    stderr is not a terminal or with ``quiet``. A failed workflow raises its innermost typed error as a
    :class:`CommandError` (exit 2 for bad input, or what ``codes`` maps its type to)."""
    from temporalio.client import WorkflowFailureError

    handle = await start_or_attach(client, settings, workflow, req, wf_id, result_type, summary)
    result = asyncio.ensure_future(handle.result())
    try:
        if quiet or not err.is_terminal:
            return await result
        with err.status(what) as status:
            while not result.done():
                with contextlib.suppress(Exception):  # a query can race the workflow's end; the result tells
                    p = await handle.query("progress", result_type=progress_type)
                    status.update(f"{what}: [bold]{escape(p.stage)}[/bold] {escape(p.detail)}")
                await asyncio.wait({result}, timeout=0.5)
        return result.result()
    except WorkflowFailureError as e:
        raise workflow_failure(e, wf_id, codes) from None
