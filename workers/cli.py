"""The ``mechbench`` command line.

    mechbench dev                      embedded Temporal dev server + Web UI + worker, in the foreground
    mechbench worker                   a worker for the Temporal cluster named in settings
    mechbench generate ...             start a dataset (``--wait`` shows progress, ``--embedded`` runs it all here)
    mechbench benchmark FAMILY SEED    generate one benchmark

Exit codes: 0 success, 1 the work failed, 2 bad input or configuration, 130 interrupted.
Every command ends with ``os._exit`` so an SDK teardown abort (sdk-python #300) never hides the real status.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.catalog import FAMILIES, GENERATOR_VERSION, unknown_families_message
from shared.ids import benchmark_id, dataset_id
from shared.logging import configure_logging
from shared.materials import MATERIAL_ONLY_COST_BASIS
from shared.models import (
    BenchmarkResult,
    DatasetManifest,
    DatasetProgress,
    DatasetRequest,
    DatasetResult,
    GenerateBenchmarkRequest,
    Verdict,
)
from shared.settings import Settings, get_settings
from shared.store import LocalStore, ObjectStore, make_store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="mechbench: durable mechanical-engineering benchmarks on Temporal.",
)
# Pipes and CI logs get a wide console so tables and URLs are not folded.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)
_state = {"verbose": False}

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class BadInput(Exception):
    pass


def _finish(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="log at MECHBENCH_LOG_LEVEL, not WARNING")
    ] = False,
) -> None:
    _state["verbose"] = verbose


def _run(main: Callable[[Settings], Awaitable[int]], service: bool = False) -> None:
    """Run an async command; map errors to exit codes; always leave through ``os._exit``.

    Services (``dev``, ``worker``) log at the configured level; one-shot commands only warnings, unless -v."""
    from temporalio.client import WorkflowFailureError
    from temporalio.exceptions import TemporalError

    from workers.devstack import DevStackError

    code = EXIT_FAILED
    try:
        try:
            settings = get_settings()
        except ValidationError as e:
            raise BadInput(f"settings (MECHBENCH_*): {_validation_message(e)}") from None
        level = settings.log_level if (service or _state["verbose"]) else "WARNING"
        configure_logging(level, settings.log_json)
        code = asyncio.run(main(settings))
    except BadInput as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.print("interrupted")
        code = EXIT_INTERRUPTED
    except WorkflowFailureError as e:
        err.print(f"[red]the workflow failed:[/red] {escape(str(e.cause or e))}")
        code = EXIT_FAILED
    except (TemporalError, DevStackError, ConnectionError, RuntimeError) as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        code = EXIT_FAILED
    except OSError as e:  # e.g. a TLS certificate file named in settings that cannot be read
        err.print(f"[red]error:[/red] {escape(str(e))}")
        code = EXIT_BAD_INPUT
    except Exception:  # noqa: BLE001 - a bug: show it before os._exit would swallow it
        err.print_exception()
        code = EXIT_FAILED
    finally:
        _finish(code)


def _validation_message(e: ValidationError) -> str:
    parts = []
    for item in e.errors():
        field = ".".join(str(x) for x in item["loc"]) or "input"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


def dataset_request(
    families: list[str], count: int, seed: int, settings: Settings, **extra: Any
) -> DatasetRequest:
    """The CLI/client boundary: everything is checked before any work starts or anything is written."""
    try:
        req = DatasetRequest(families=families, count=count, base_seed=seed, **extra)
    except ValidationError as e:
        raise BadInput(_validation_message(e)) from None
    problem = unknown_families_message(req.families)
    if problem:
        raise BadInput(problem)
    if req.count > settings.max_dataset_count:
        raise BadInput(
            f"count: {req.count} exceeds the configured maximum of {settings.max_dataset_count} "
            "(MECHBENCH_MAX_DATASET_COUNT)"
        )
    return req


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _connect_embedded_or_remote(stack: AsyncExitStack, settings: Settings, embedded: bool, ui: bool):  # type: ignore[no-untyped-def]
    from shared.temporal import connect_client
    from workers.devstack import embedded_server
    from workers.worker import running_worker

    server = None
    if embedded:
        server = await stack.enter_async_context(embedded_server(settings, ui=ui))
        settings = settings.model_copy(update={"temporal_address": server.address})
    client = await connect_client(settings)
    if embedded:
        await stack.enter_async_context(running_worker(client, settings))
    return client, settings, server


def _table(manifest: DatasetManifest) -> Table:
    t = Table(title=f"dataset {manifest.dataset_id}", show_lines=False)
    for col in ("benchmark", "family", "seed", "verdict", "reason", "reference", "max cost $", "max kg", ""):
        t.add_column(col, overflow="fold")
    colours = {Verdict.PUBLISHED: "green", Verdict.REJECTED: "yellow", Verdict.FAILED: "red"}
    for e in manifest.entries:
        t.add_row(
            e.benchmark_id,
            e.family,
            str(e.seed),
            f"[{colours[e.verdict]}]{e.verdict.value}[/]",
            (f"{e.failed_proof.value}: " if e.failed_proof else "") + (e.reason or ""),
            f"{e.success_share:.0%}" if e.success_share is not None else "",
            f"{e.max_unit_cost_usd:.2f}" if e.max_unit_cost_usd is not None else "",
            f"{e.max_weight_kg:.3f}" if e.max_weight_kg is not None else "",
            "reused" if e.reused else "",
        )
    return t


@app.command()
def generate(
    families: Annotated[
        str, typer.Option(help=f"comma-separated families: {', '.join(FAMILIES)}")
    ] = ",".join(FAMILIES),
    count: Annotated[int, typer.Option(help="number of benchmarks")] = 9,
    seed: Annotated[int, typer.Option(help="base seed")] = 0,
    dataset: Annotated[str | None, typer.Option("--dataset-id", help="dataset id (default: derived)")] = None,
    max_parallel: Annotated[int, typer.Option(help="benchmarks generated at once")] = 4,
    n_scenes: Annotated[
        int | None, typer.Option(help="jittered scenes per proof (default: family's)")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="wait, with a progress bar, and print the table")
    ] = False,
    embedded: Annotated[
        bool, typer.Option(help="start the embedded dev server and a worker for this run")
    ] = False,
    ui: Annotated[bool, typer.Option(help="with --embedded: serve the Web UI")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Generate a dataset of benchmarks (GenerateDataset)."""

    async def main(settings: Settings) -> int:
        req = dataset_request(
            [f for f in families.split(",") if f.strip()],
            count,
            seed,
            settings,
            dataset_id=dataset,
            max_parallel=max_parallel,
            n_scenes=n_scenes,
        )
        ds = dataset_id(req, GENERATOR_VERSION)
        wf_id = f"dataset-{ds}"
        async with AsyncExitStack() as stack:
            client, _, server = await _connect_embedded_or_remote(stack, settings, embedded, ui)
            from temporalio.common import WorkflowIDConflictPolicy

            from shared.temporal import WF_GENERATE_DATASET

            handle = await client.start_workflow(
                WF_GENERATE_DATASET,
                req,
                id=wf_id,
                task_queue=settings.task_queue,
                result_type=DatasetResult,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"dataset {ds}: {req.count} x {', '.join(req.families)} from seed {req.base_seed}",
            )
            ui_url = server.ui_url if server else None
            if not as_json:
                console.print(f"started GenerateDataset [bold]{wf_id}[/bold] on {settings.task_queue}")
                if ui_url:
                    console.print(
                        f"Web UI: {ui_url}/namespaces/{settings.temporal_namespace}/workflows/{wf_id}"
                    )
            if not (wait or embedded):
                if as_json:
                    console.print_json(json.dumps({"workflow_id": wf_id, "dataset_id": ds}))
                return EXIT_OK
            result = await _wait_with_progress(client, wf_id, handle, req.count, quiet=as_json)
        code = EXIT_FAILED if result.failed else EXIT_OK  # a crash after retries; rejections are results
        store = make_store(settings)
        manifest = await asyncio.to_thread(_read_manifest, store, result)
        if as_json:
            print((manifest or result).model_dump_json(indent=2))
            return code
        if manifest is not None:
            console.print(_table(manifest))
        console.print(
            f"{result.published} published, {result.rejected} rejected"
            + (f", {result.failed} failed" if result.failed else "")
            + f" of {result.count}; reference = share of jittered scenes the reference solution solved; "
            f"caps basis: {MATERIAL_ONLY_COST_BASIS}"
        )
        _print_locations(store, settings, result, wf_id, ui_url)
        return code

    _run(main)


def _read_manifest(store: ObjectStore, result: DatasetResult) -> DatasetManifest | None:
    """The dataset's entries, from the store the workers wrote to (None, with a warning, if unreachable)."""
    try:
        return DatasetManifest.model_validate_json(store.get_ref(result.manifest))
    except Exception as e:  # noqa: BLE001 - the counts are still worth printing
        err.print(f"[yellow]cannot read the manifest {result.manifest.key}:[/yellow] {escape(str(e))}")
        return None


def _print_locations(
    store: ObjectStore, settings: Settings, result: DatasetResult, wf_id: str, ui_url: str | None
) -> None:
    def where(key: str) -> str:
        return str(store.path_of(key)) if isinstance(store, LocalStore) else f"{key} in {store.describe()}"

    console.print(f"dataset manifest: {where(result.manifest.key)}")
    console.print(f"benchmarks: {where('benchmarks')}")
    if ui_url:
        console.print(
            f"history: run `mechbench dev` and open {ui_url}/namespaces/{settings.temporal_namespace}/workflows/{wf_id}"
        )


async def _wait_with_progress(client, wf_id: str, handle, total: int, quiet: bool) -> DatasetResult:  # type: ignore[no-untyped-def]
    latest = client.get_workflow_handle(wf_id)  # no run id: follows continue-as-new
    result_task = asyncio.ensure_future(handle.result())
    if quiet:
        return await result_task
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("generating", total=total, detail="")
        while not result_task.done():
            try:
                p: DatasetProgress = await latest.query("progress", result_type=DatasetProgress)
                bar.update(
                    task,
                    completed=p.completed,
                    description=p.stage,
                    detail=f"{p.published} published, {p.rejected} rejected; running {', '.join(p.running[:3])}",
                )
            except Exception:  # noqa: BLE001, S110 - between runs (continue-as-new) or not started yet
                pass
            await asyncio.wait([result_task], timeout=0.5)
        bar.update(task, completed=total, description="done", detail="")
    return await result_task


@app.command()
def benchmark(
    family: Annotated[str, typer.Argument(help=f"one of {', '.join(FAMILIES)}")],
    seed: Annotated[int, typer.Argument(help="seed")],
    embedded: Annotated[
        bool, typer.Option(help="start the embedded dev server and a worker for this run")
    ] = False,
) -> None:
    """Generate one benchmark (GenerateBenchmark) and print its verdict as JSON (exit 0 for any verdict)."""

    async def main(settings: Settings) -> int:
        try:
            req = GenerateBenchmarkRequest(family=family, seed=seed)
        except ValidationError as e:
            raise BadInput(_validation_message(e)) from None
        if req.family not in FAMILIES:
            raise BadInput(f"family: unknown family {req.family!r}; known families are {list(FAMILIES)}")
        bid = benchmark_id(req.family, req.seed, GENERATOR_VERSION)
        async with AsyncExitStack() as stack:
            client, _, _ = await _connect_embedded_or_remote(stack, settings, embedded, ui=False)
            from temporalio.common import WorkflowIDConflictPolicy

            from shared.temporal import WF_GENERATE_BENCHMARK

            result: BenchmarkResult = await client.execute_workflow(
                WF_GENERATE_BENCHMARK,
                req,
                id=f"benchmark-{bid}",
                task_queue=settings.task_queue,
                result_type=BenchmarkResult,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"{req.family} seed {req.seed}",
            )
        print(result.model_dump_json(indent=2))
        return EXIT_OK

    _run(main)


@app.command()
def worker() -> None:
    """Serve the Temporal cluster named in settings (MECHBENCH_TEMPORAL_ADDRESS, _NAMESPACE, TLS or API key)."""

    async def main(settings: Settings) -> int:
        from shared.temporal import connect_client
        from workers.worker import serve_forever

        stop = _stop_event()
        client = await connect_client(settings)
        await serve_forever(client, settings, stop)
        return EXIT_OK

    _run(main, service=True)


@app.command()
def dev(
    ui: Annotated[bool, typer.Option(help="serve the Temporal Web UI")] = True,
) -> None:
    """Run the embedded dev server (SQLite in the data directory, Web UI) and a worker until Ctrl-C."""

    async def main(settings: Settings) -> int:
        stop = _stop_event()
        async with AsyncExitStack() as stack:
            _, _, server = await _connect_embedded_or_remote(stack, settings, embedded=True, ui=ui)
            console.print(f"Temporal dev server: {server.address} (namespace {settings.temporal_namespace})")
            if ui:
                console.print(f"Web UI: {server.ui_url}")
            console.print(f"task queue: {settings.task_queue}; data: {settings.data_dir}")
            example = json.dumps({"families": ["chute"], "count": 4, "base_seed": 7})
            console.print(
                "try: temporal workflow start --type GenerateDataset "
                f"--task-queue {settings.task_queue} --input '{example}'"
            )
            console.print("Ctrl-C stops everything.")
            await stop.wait()
            console.print("stopping ...")
        return EXIT_OK

    _run(main, service=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
