"""The ``mechbench`` command line.

    mechbench dev                      embedded Temporal dev server + Web UI + worker, in the foreground
    mechbench worker                   a worker for the Temporal cluster named in settings
    mechbench generate ...             start a dataset (``--wait`` shows progress, ``--embedded`` runs it all here)
    mechbench benchmark FAMILY SEED    generate one benchmark (or: mechbench benchmark SCRIPT.py)
    mechbench analyze PART ...         DFM findings and a quote for a STEP/STL part or a part script
    mechbench evaluate BENCHMARK DESIGN  a design (script or part files) against a published benchmark
    mechbench schedule create|list|pause|unpause|trigger|delete   periodic datasets (Temporal Schedules)
    mechbench report DATASET_ID        a self-contained HTML report of a dataset (reads the store only)

Exit codes: 0 success, 1 the work failed, 2 bad input or configuration, 3 an evaluated design did not pass
(or could not be built), 130 interrupted. A failure prints one line, ``error: <type>: <message>`` (the
innermost typed error of a failed workflow); with ``--json`` it is also one JSON object on stdout.
Every command ends with ``os._exit`` so an SDK teardown abort (sdk-python #300) never hides the real status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.boundary import (
    BoundaryError,
    check_design_total,
    checked_file_name,
    format_of,
    published_benchmark,
    read_part_file,
    resolve_part_path,
)
from shared.families import FAMILIES, GENERATOR_VERSION, unknown_families_message
from shared.ids import benchmark_id, dataset_id
from shared.logging import configure_logging
from shared.materials import check_method
from shared.models import (
    MAX_SEED,
    PART_SUFFIXES,
    AnalysisProgress,
    AnalyzeRequest,
    ArtifactRef,
    BenchmarkProgress,
    BenchmarkResult,
    DatasetManifest,
    DatasetProgress,
    DatasetRequest,
    DatasetResult,
    DesignPartFile,
    DesignSubmission,
    ErrorType,
    EvaluateRequest,
    EvaluationProgress,
    EvaluationResult,
    EvaluationVerdict,
    GenerateBenchmarkRequest,
    ManufacturingReport,
    PartSource,
    PriceTable,
    StagedDesign,
    StagedDesignPart,
    StagedPart,
    Verdict,
    parse_json_value,
)
from shared.settings import Settings, get_settings
from shared.store import LocalStore, ObjectStore, make_ref, make_store
from workers.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_DESIGN_FAILED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    CommandError,
    local_ui_url,
    one_line,
    temporal_cli_flags,
    unreachable,
    workflow_failure,
    workflow_url,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="mechbench: durable mechanical-engineering benchmarks on Temporal.",
)
# Pipes and CI logs get a wide console so tables and URLs are not folded.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)  # error messages are never folded mid-word
_state = {"verbose": False}


def _finish(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"mechbench {version('mechbench')} (generator version {GENERATOR_VERSION})")
        raise typer.Exit()


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="log at MECHBENCH_LOG_LEVEL, not WARNING")
    ] = False,
    _: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    _state["verbose"] = verbose


def _report(failure: CommandError, as_json: bool) -> int:
    """One line on stderr (the rest of the message with -v); with ``--json`` also one JSON object on
    stdout. Returns the exit code."""
    err.print(f"[red]error:[/red] {escape(failure.line())}")
    if failure.detail and _state["verbose"]:
        err.print(escape(failure.detail))
    if as_json:
        print(failure.as_json())
    return failure.code


def _run(
    main: Callable[[Settings], Awaitable[int]],
    service: bool = False,
    *,
    as_json: bool = False,
    overrides: dict[str, Any] | None = None,
) -> None:
    """Run an async command; map errors to exit codes; always leave through ``os._exit``.

    Services (``dev``, ``worker``) log at the configured level; one-shot commands only warnings, unless -v.
    ``overrides`` are command-line options that replace settings. Every failure is reported by
    :func:`_report`: one line, and one JSON object with ``as_json``."""
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
        if not (service or _state["verbose"]):
            # An embedded worker's SDK warns with a traceback for every failed activity; the command
            # prints the failure itself, once, as a readable message.
            logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
        # an embedded worker's job processes log at the same level as the command itself
        settings = settings.model_copy(update={"log_level": level, **(overrides or {})})
        code = asyncio.run(main(settings))
    except CommandError as e:
        code = _report(e, as_json)
    except KeyboardInterrupt:
        code = _report(CommandError("interrupted", code=EXIT_INTERRUPTED, error_type="Interrupted"), as_json)
    except WorkflowFailureError as e:
        code = _report(workflow_failure(e, None), as_json)
    except (TemporalError, DevStackError, ConnectionError, RuntimeError) as e:
        headline, detail = one_line(str(e) or type(e).__name__)
        code = _report(CommandError(headline, error_type=type(e).__name__, detail=detail), as_json)
    except OSError as e:  # e.g. a TLS certificate file named in settings that cannot be read
        code = _report(CommandError(str(e), code=EXIT_BAD_INPUT, error_type=type(e).__name__), as_json)
    except Exception as e:  # noqa: BLE001 - a bug: show it before os._exit would swallow it
        err.print_exception()
        if as_json:
            print(CommandError(str(e), error_type=type(e).__name__).as_json())
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


async def _connect(settings: Settings, *, metrics: bool = False, embedded_flag: bool = False):  # type: ignore[no-untyped-def]
    """A client for the cluster in settings; no server there is one line saying what to do."""
    from shared.temporal import connect_client
    from shared.temporal import unreachable as temporal_unreachable

    try:
        return await connect_client(settings, metrics=metrics)
    except RuntimeError as e:
        if temporal_unreachable(e) is not None:
            raise unreachable(settings, e, embedded_flag) from None
        raise


async def _connect_embedded_or_remote(  # type: ignore[no-untyped-def]
    stack: AsyncExitStack, settings: Settings, embedded: bool, ui: bool, metrics: bool = False
):
    from workers.devstack import embedded_server
    from workers.worker import running_worker

    server = None
    if embedded:
        server = await stack.enter_async_context(embedded_server(settings, ui=ui))
        settings = settings.model_copy(update={"temporal_address": server.address})
    client = await _connect(settings, metrics=metrics, embedded_flag=not embedded)
    if embedded:
        await stack.enter_async_context(running_worker(client, settings))
    return client, settings, server


def _started(workflow: str, wf_id: str, settings: Settings, server: Any, as_json: bool) -> str | None:
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
    webhook: Annotated[
        str | None,
        typer.Option(help="POST the result here when done: a webhook target of the worker, or a URL"),
    ] = None,
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
            webhook=webhook,
        )
        ds = dataset_id(req, GENERATOR_VERSION)
        wf_id = f"dataset-{ds}"
        async with AsyncExitStack() as stack:
            client, _, server = await _connect_embedded_or_remote(stack, settings, embedded, ui)
            from temporalio.client import WorkflowFailureError
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
            url = _started("GenerateDataset", wf_id, settings, server, as_json)
            if not (wait or embedded):
                if as_json:
                    console.print_json(json.dumps({"workflow_id": wf_id, "dataset_id": ds}))
                return EXIT_OK
            try:
                result = await _wait_with_progress(client, wf_id, handle, req.count, quiet=as_json)
            except WorkflowFailureError as e:
                raise workflow_failure(e, wf_id) from None
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
            f"max cost = the reference solution's manufacturing quote at quantity "
            f"{settings.benchmark_target_quantity} x {settings.caps_headroom} (caps.cost_basis in each definition)"
        )
        _print_locations(store, result, url if server is not None else None)
        return code

    _run(main, as_json=as_json)


def _read_manifest(store: ObjectStore, result: DatasetResult) -> DatasetManifest | None:
    """The dataset's entries, from the store the workers wrote to (None, with a warning, if unreachable)."""
    try:
        return DatasetManifest.model_validate_json(store.get_ref(result.manifest))
    except Exception as e:  # noqa: BLE001 - the counts are still worth printing
        err.print(f"[yellow]cannot read the manifest {result.manifest.key}:[/yellow] {escape(str(e))}")
        return None


def _print_locations(store: ObjectStore, result: DatasetResult, url: str | None) -> None:
    def where(key: str) -> str:
        return str(store.path_of(key)) if isinstance(store, LocalStore) else f"{key} in {store.describe()}"

    console.print(f"dataset manifest: {where(result.manifest.key)}")
    console.print(f"benchmarks: {where('benchmarks')}")
    if url:
        console.print(f"history: run `mechbench dev` and open {url}")


async def _run_showing_stage(  # type: ignore[no-untyped-def]
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
    from temporalio.common import WorkflowIDConflictPolicy

    handle = await client.start_workflow(
        workflow,
        req,
        id=wf_id,
        task_queue=settings.task_queue,
        result_type=result_type,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=summary,
    )
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
    family: Annotated[str, typer.Argument(help=f"one of {', '.join(FAMILIES)}, or a benchmark script (.py)")],
    seed: Annotated[int, typer.Argument(help=f"seed, 0 to {MAX_SEED} (families only)")] = 0,
    embedded: Annotated[
        bool, typer.Option(help="start the embedded dev server and a worker for this run")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
) -> None:
    """Generate one benchmark (GenerateBenchmark) from a family and seed, or from a benchmark script
    (build() returns fixtures and objectives), and print its verdict: a table, or JSON with --json (exit 0
    for any verdict)."""

    async def main(settings: Settings) -> int:
        from shared.temporal import WF_GENERATE_BENCHMARK

        upload: tuple[str, bytes] | None = None
        if family.lower().endswith(".py"):
            from shared.ids import script_benchmark_id
            from shared.keys import upload_key
            from shared.store import sha256_hex

            name = _checked(checked_file_name, Path(family).name, "script")
            _, data = _checked(read_part_file, Path(family).absolute(), "script", settings, "script")
            key = upload_key(sha256_hex(data), ".py")
            upload = (key, data)
            req = GenerateBenchmarkRequest(script=PartSource(artifact=make_ref(key, data), filename=name))
            bid = script_benchmark_id(sha256_hex(data), GENERATOR_VERSION)
        else:
            try:
                req = GenerateBenchmarkRequest(family=family, seed=seed)
            except ValidationError as e:
                raise BadInput(_validation_message(e)) from None
            assert req.family is not None
            if req.family not in FAMILIES:
                raise BadInput(
                    f"family: unknown family {req.family!r}; known families are {list(FAMILIES)} "
                    "(or give a benchmark script ending in .py)"
                )
            bid = benchmark_id(req.family, req.seed, GENERATOR_VERSION)
        wf_id = f"benchmark-{bid}"
        async with AsyncExitStack() as stack:
            client, _, server = await _connect_embedded_or_remote(stack, settings, embedded, ui=False)
            store = make_store(settings)
            if upload is not None:  # checked above; stored only once a server takes the work
                await asyncio.to_thread(store.put_bytes, *upload)
            _started(WF_GENERATE_BENCHMARK, wf_id, settings, server, as_json)
            result: BenchmarkResult = await _run_showing_stage(
                client,
                settings,
                WF_GENERATE_BENCHMARK,
                req,
                wf_id=wf_id,
                result_type=BenchmarkResult,
                summary=f"{req.family} seed {req.seed}" if req.family else f"script {family}",
                progress_type=BenchmarkProgress,
                what=bid,
                quiet=as_json,
            )
        if as_json:
            print(result.model_dump_json(indent=2))
        else:
            print_benchmark(result, store)
        return EXIT_OK

    _run(main, as_json=as_json)


def print_benchmark(result: BenchmarkResult, store: ObjectStore) -> None:
    colour = {Verdict.PUBLISHED: "green", Verdict.REJECTED: "yellow", Verdict.FAILED: "red"}[result.verdict]
    reused = " (stored verdict, not proven again)" if result.reused else ""
    console.print(f"[bold]{result.benchmark_id}[/bold] ({result.family}, seed {result.seed}){reused}")
    why = f": {result.failed_proof.value}: {escape(result.reason or '')}" if result.failed_proof else ""
    console.print(f"[{colour}]{result.verdict.value.upper()}[/{colour}]{why}")
    t = Table(title="proofs")
    for col in ("proof", "passed", "measured", "limit", "detail"):
        t.add_column(col, overflow="fold")
    for p in result.proofs:
        t.add_row(
            p.proof.value,
            "[green]yes[/green]" if p.passed else "[red]no[/red]",
            "" if p.measured is None else f"{p.measured:g}",
            "" if p.limit is None else f"{p.limit:g}",
            escape(p.detail),
        )
    console.print(t)
    if result.caps is not None:
        c = result.caps
        console.print(
            f"caps: unit cost ${c.max_unit_cost_usd:.2f}, weight {c.max_weight_kg:.3f} kg (reference "
            f"${c.reference_unit_cost_usd:.2f} and {c.reference_weight_kg:.3f} kg x {c.headroom_factor:g} "
            f"at quantity {c.target_quantity})"
        )
    if result.definition is not None:
        key = result.definition.key
        console.print(f"definition: {store.path_of(key) if isinstance(store, LocalStore) else key}")


def analyze_request(
    part: str,
    method: str,
    material: str,
    quantity: int,
    ladder: str | None,
    prices: str | None,
    alternatives: bool,
    settings: Settings,
    webhook: str | None = None,
) -> tuple[AnalyzeRequest, bytes, str]:
    """The CLI boundary of an analysis: the file (through :mod:`shared.boundary`, as the worker checks it:
    name, part roots, size, content), the method/material pairing, the quantity and the price table are all
    checked before anything is uploaded or started. Returns the request (its part still to be uploaded),
    the file's bytes and its suffix."""

    path = Path(part)
    name = _checked(checked_file_name, path.name, "part")
    fmt = _checked(format_of, path.name, "part")
    real, data = _checked(read_part_file, path.absolute(), fmt, settings, "part")
    suffix = path.suffix.lower()
    try:
        rungs = [int(x) for x in ladder.split(",") if x.strip()] if ladder else None
    except ValueError:
        raise BadInput(f"ladder: {ladder!r} is not a comma-separated list of quantities") from None
    table = _read_price_table(prices) if prices else None
    try:
        req = AnalyzeRequest(
            part=PartSource(path=str(real), filename=name),
            method=method,
            material=material,
            quantity=quantity,
            ladder=rungs,
            price_table=table,
            alternatives=alternatives,
            webhook=webhook,
        )
    except ValidationError as e:
        raise BadInput(_validation_message(e)) from None
    problem = check_method(req.material, req.method)
    if problem:
        raise BadInput(problem)
    return req, data, suffix


def _read_price_table(path: str) -> PriceTable:
    """A price table file: TOML or JSON with ``name``, ``[materials.<id>]`` and ``[processes.<method>]``."""
    import tomllib

    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise BadInput(f"prices: cannot read {path!r}: {e.strerror}") from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        raise BadInput(
            f"prices: {path!r} is not valid {'JSON' if p.suffix == '.json' else 'TOML'}: {e}"
        ) from None
    try:
        return parse_json_value(PriceTable, data)  # as strict as the workflow that receives it
    except ValidationError as e:
        raise BadInput(f"prices: {_validation_message(e)}") from None


def _money(x: float | None) -> str:
    return "" if x is None else (f"{x:,.2f}" if x >= 0.1 else f"{x:.4f}")


def print_report(report: ManufacturingReport) -> None:
    p, q = report.part, report.quote
    size = " x ".join(f"{s:.1f}" for s in p.bbox.size_mm)
    console.print(
        f"[bold]{p.filename or p.sha256[:12]}[/bold]: {size} mm, {p.volume_mm3 / 1000:.2f} cm3, "
        f"{p.faces} faces, {p.triangles} triangles" + ("" if p.has_brep else " (mesh input)")
    )
    verdict = (
        "[green]manufacturable[/green]"
        if report.manufacturable
        else "[red]NOT manufacturable as designed[/red]"
    )
    console.print(f"{report.method.value} in {report.material.value}, quantity {report.quantity}: {verdict}")
    if report.findings:
        t = Table(title="DFM findings", show_lines=True)
        for col in ("severity", "rule", "measured", "limit", "where", "why / fix"):
            t.add_column(col, overflow="fold")
        colour = {"blocking": "red", "warning": "yellow", "info": "cyan"}
        for f in report.findings:
            where = ""
            if f.face_ids:
                where = (
                    "faces " + ", ".join(map(str, f.face_ids[:8])) + (" ..." if len(f.face_ids) > 8 else "")
                )
            if f.point_mm:
                where += f"\nat ({', '.join(f'{v:.1f}' for v in f.point_mm)})"
            t.add_row(
                f"[{colour[f.severity.value]}]{f.severity.value}[/]",
                f"{f.rule_id}\n{escape(f.title)}",
                "" if f.measured is None else f"{f.measured:g} {f.unit or ''}",
                "" if f.limit is None else f"{f.limit:g} {f.unit or ''}",
                where,
                f"{escape(f.why)}\n[bold]fix:[/bold] {escape(f.fix)}",
            )
        console.print(t)
    t = Table(title=f"quote: {q.quantity} x {report.method.value} ({report.catalog})", show_lines=False)
    for col in ("item", "per", "USD", "+-", "basis"):
        t.add_column(col, overflow="fold")
    for line in q.lines:
        t.add_row(line.item, line.per, _money(line.usd), f"{line.band_pct:.0f}%", escape(line.basis))
    console.print(t)
    console.print(
        f"unit cost [bold]${_money(q.unit_cost_usd)}[/bold] (${_money(q.unit_cost_low_usd)} to "
        f"${_money(q.unit_cost_high_usd)}, +-{q.band_pct:.0f}%), total ${_money(q.total_cost_usd)}, "
        f"lead time {q.lead_time_days:.0f} days ({escape(q.lead_time_basis)})"
    )
    for c in q.caveats:
        console.print(f"[yellow]caveat:[/yellow] {escape(c)}")
    t = Table(title="quantity ladder (same method and material)")
    for col in ("quantity", "unit $", "total $", "+-", "lead days"):
        t.add_column(col, justify="right")
    for r in report.ladder:
        mark = " *" if r.quantity == report.quantity else ""
        t.add_row(
            f"{r.quantity}{mark}",
            _money(r.unit_cost_usd),
            _money(r.total_cost_usd),
            f"{r.band_pct:.0f}%",
            f"{r.lead_time_days:.0f}",
        )
    console.print(t)
    if report.alternatives:
        t = Table(
            title=f"alternatives at quantity {report.quantity} (for comparison only; not what was asked)"
        )
        for col in ("method", "status", "unit $", "total $", "lead days", "note"):
            t.add_column(col, overflow="fold")
        for a in report.alternatives:
            status = (
                "not offered"
                if not a.available
                else "manufacturable"
                if a.manufacturable
                else "blocked: " + ", ".join(a.blocking)
            )
            t.add_row(
                a.method.value,
                status,
                _money(a.unit_cost_usd),
                _money(a.total_cost_usd),
                "" if a.lead_time_days is None else f"{a.lead_time_days:.0f}",
                escape(a.note),
            )
        console.print(t)


@app.command()
def analyze(
    part: Annotated[
        str, typer.Argument(help="a .step/.stp, .stl or .py part script (build() returns the part)")
    ],
    method: Annotated[
        str, typer.Option(help="cnc_milling (cnc), injection_molding (im), fdm_printing (fdm)")
    ],
    material: Annotated[str, typer.Option(help="material id, e.g. aluminum_6061, abs, pla, hdpe")],
    quantity: Annotated[int, typer.Option(help="parts ordered (>= 1)")],
    ladder: Annotated[
        str | None, typer.Option(help="quantities to price besides, e.g. 1,10,100 (default 1..10000)")
    ] = None,
    prices: Annotated[
        str | None, typer.Option(help="your own price table (TOML or JSON) applied over the catalogue")
    ] = None,
    alternatives: Annotated[bool, typer.Option(help="also price the other methods at this quantity")] = True,
    embedded: Annotated[
        bool, typer.Option(help="start the embedded dev server and a worker for this run")
    ] = False,
    webhook: Annotated[
        str | None,
        typer.Option(help="POST the result here when done: a webhook target of the worker, or a URL"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """DFM findings and a quote for one part (AnalyzeManufacturing). Exit 0 when the analysis completes,
    whether or not the part is manufacturable (the report says); 2 for bad input."""

    async def main(settings: Settings) -> int:
        req, data, suffix = analyze_request(
            part, method, material, quantity, ladder, prices, alternatives, settings, webhook
        )
        from shared.keys import upload_key
        from shared.store import sha256_hex
        from shared.temporal import WF_ANALYZE_MANUFACTURING
        from workflows.manufacturing import analysis_id

        sha = sha256_hex(data)
        key = upload_key(sha, suffix)
        part_source = PartSource(artifact=make_ref(key, data), filename=req.part.filename)
        req = req.model_copy(update={"part": part_source})
        aid = analysis_id(req, sha)
        wf_id = f"analyze-{aid}"
        async with AsyncExitStack() as stack:
            client, _, server = await _connect_embedded_or_remote(stack, settings, embedded, ui=False)
            # Upload once checked and connected (content-addressed, atomic): workers on other machines read
            # the part from the store.
            store = make_store(settings)
            await asyncio.to_thread(store.put_bytes, key, data)
            _started(WF_ANALYZE_MANUFACTURING, wf_id, settings, server, as_json)
            report: ManufacturingReport = await _run_showing_stage(
                client,
                settings,
                WF_ANALYZE_MANUFACTURING,
                req,
                wf_id=wf_id,
                result_type=ManufacturingReport,
                summary=f"{req.part.filename}: {req.method.value}, {req.material.value}, x{req.quantity}",
                progress_type=AnalysisProgress,
                what=f"analysis of {req.part.filename}",
                quiet=as_json,
            )
        if as_json:
            print(report.model_dump_json(indent=2))
            return EXIT_OK
        print_report(report)
        if report.report is not None:
            key = report.report.key
            console.print(f"report: {store.path_of(key) if isinstance(store, LocalStore) else key}")
        return EXIT_OK

    _run(main, as_json=as_json)


def design_submission(
    design: str, settings: Settings, upload: Callable[[bytes, str], ArtifactRef]
) -> DesignSubmission:
    """The CLI boundary of an evaluation: a ``.py`` design script, or a ``.json`` design file listing part
    files (relative to the JSON file) with their metadata. Every file is checked (through
    :mod:`shared.boundary`, as the worker checks it) before any is uploaded; the design file itself must
    lie under the part roots too."""

    path = Path(design)
    suffix = path.suffix.lower()
    _checked(checked_file_name, path.name, "design")
    if suffix == ".py":
        _, data = _checked(read_part_file, path.absolute(), "script", settings, "design")
        return DesignSubmission(script=PartSource(artifact=upload(data, ".py"), filename=path.name))
    if suffix != ".json":
        raise BadInput(
            f"design: {path.name!r} is neither a design script (.py) nor a design file (.json listing "
            "STEP/STL part files with their metadata)"
        )
    real = _checked(resolve_part_path, path.absolute(), settings.part_roots, "design")

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        spec = json.loads(real.read_text(), parse_constant=no_constants)
    except (OSError, ValueError) as e:
        raise BadInput(f"design: {path.name!r} is not valid JSON: {e}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("parts"), list):
        raise BadInput(
            'design: the JSON file must be {"parts": [{"file": "part.step", "label": ..., ...}, ...]}'
        )
    files: list[tuple[bytes, str, str, dict[str, Any]]] = []
    total = 0
    for i, item in enumerate(spec["parts"]):
        field = f"parts[{i}].file"
        if not isinstance(item, dict) or not isinstance(item.get("file"), str):
            raise BadInput(
                f"design: parts[{i}] needs a 'file' (a STEP or STL path relative to the JSON file)"
            )
        meta = {k: v for k, v in item.items() if k != "file"}
        part_path = path.absolute().parent / item["file"]
        part_suffix = part_path.suffix.lower()
        fmt = PART_SUFFIXES.get(part_suffix)
        if fmt not in ("step", "stl"):
            raise BadInput(f"design: {field} {item['file']!r} must be a .step/.stp or .stl file")
        name = _checked(checked_file_name, part_path.name, field)
        _, data = _checked(read_part_file, part_path, fmt, settings, field)
        total += len(data)
        _checked(check_design_total, total, settings)
        files.append((data, part_suffix, name, meta))
    try:
        return DesignSubmission(
            parts=[
                DesignPartFile(source=PartSource(artifact=upload(data, sfx), filename=name), metadata=meta)
                for data, sfx, name, meta in files
            ]
        )
    except ValidationError as e:
        raise BadInput(f"design: {_validation_message(e)}") from None


def _checked(check: Callable[..., Any], *args: Any) -> Any:
    """A check of the shared input boundary; its refusal is bad input (exit 2) with the same message and
    type the worker would give."""
    try:
        return check(*args)
    except BoundaryError as e:
        raise BadInput(str(e), e.error_type) from None


def print_evaluation(result: EvaluationResult, store: ObjectStore) -> None:
    def where(ref: ArtifactRef | None) -> str:
        if ref is None:
            return "-"
        return str(store.path_of(ref.key)) if isinstance(store, LocalStore) else ref.key

    colour = {"passed": "green", "failed": "red", "invalid": "yellow"}[result.verdict.value]
    reused = " (stored result, not simulated again)" if result.reused else ""
    console.print(f"[bold]{result.evaluation_id}[/bold]{reused}")
    console.print(f"[{colour}]{result.verdict.value.upper()}[/{colour}]: {escape(result.reason)}")
    if result.findings:
        t = Table(title="validation findings")
        for col in ("rule", "parts", "message"):
            t.add_column(col)
        for f in result.findings:
            t.add_row(f.rule, ", ".join(f.parts), escape(f.message))
        console.print(t)
    sim = result.simulation
    if sim is not None:
        t = Table(title=f"{len(sim.results)} jittered scenes")
        for col in ("scene", "jitter mm", "outcome", "at s", "closest to goal mm", "detail"):
            t.add_column(col)
        for r in sim.results:
            t.add_row(
                str(r.scene_index),
                ", ".join(f"{v:+.1f}" for v in r.jitter_mm),
                r.outcome.value,
                f"{r.time_s:.2f}",
                "" if r.min_goal_distance_mm is None else f"{r.min_goal_distance_mm:.1f}",
                escape(r.detail),
            )
        console.print(t)
        console.print(
            f"success {result.success_share:.0%} (required {result.required_success_share:.0%}); "
            f"{sim.steps_per_s:,.0f} steps/s"
        )
    if result.cost is not None:
        c = result.cost
        console.print(
            f"unit cost ${c.unit_cost_usd:.2f} (cap ${c.max_unit_cost_usd:.2f}) at quantity {c.quantity}; "
            f"weight {c.weight_kg:.3f} kg (cap {c.max_weight_kg:.3f} kg)"
        )
        for p in c.parts:
            blocking = f" [red]not manufacturable: {', '.join(p.blocking)}[/red]" if p.blocking else ""
            console.print(
                f"  {p.label}: {p.method.value} {p.material.value} ${p.unit_cost_usd:.2f} {p.mass_kg:.3f} kg{blocking}"
            )
    ev = result.evidence
    if ev is not None:
        console.print(f"evidence (scene {ev.scene_index}, {ev.outcome.value}):")
        console.print(f"  trajectory: {where(ev.trajectory)}")
        for name, ref in (("frames", ev.frames), ("animation", ev.animation), ("picture", ev.picture)):
            console.print(f"  {name}: {where(ref)}")
        if ev.render_error:
            console.print(f"  [yellow]no pictures:[/yellow] {escape(ev.render_error)}")
    if result.timings_s:
        console.print("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings_s.items()))
    console.print(f"result: {where(result.result)}")


@app.command()
def evaluate(
    benchmark_id: Annotated[str, typer.Argument(help="a published benchmark, e.g. chute-s0-v1")],
    design: Annotated[
        str,
        typer.Argument(
            help="a design script (.py: build() returns parts with metadata) or a design file (.json: "
            "part files with metadata)"
        ),
    ],
    scenes: Annotated[int | None, typer.Option(help="jittered scenes (default: the benchmark's)")] = None,
    evidence: Annotated[
        bool, typer.Option(help="store a trajectory, frame strip, animation and picture")
    ] = True,
    embedded: Annotated[
        bool, typer.Option(help="start the embedded dev server and a worker for this run")
    ] = False,
    webhook: Annotated[
        str | None,
        typer.Option(help="POST the result here when done: a webhook target of the worker, or a URL"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Evaluate a design against a published benchmark (EvaluateDesign). Exit 0 when the design passes;
    3 when it failed, is invalid, or its script or files could not be built; 2 for bad input (including a
    benchmark that is not published); 1 when the evaluation itself failed."""

    async def main(settings: Settings) -> int:
        from engines.manufacturing.catalog import load_catalog
        from shared.ids import evaluation_basis, evaluation_id
        from shared.keys import upload_key
        from shared.store import sha256_hex
        from shared.temporal import WF_EVALUATE_DESIGN

        try:
            EvaluateRequest(
                benchmark_id=benchmark_id,
                design=DesignSubmission(script=PartSource(path="/design.py")),
                n_scenes=scenes,
                webhook=webhook,
            )
        except ValidationError as e:
            raise BadInput(_validation_message(e)) from None
        pending: list[tuple[str, bytes]] = []

        def upload(data: bytes, suffix: str) -> ArtifactRef:
            key = upload_key(sha256_hex(data), suffix)
            pending.append((key, data))
            return make_ref(key, data)

        submission = design_submission(design, settings, upload)
        req = EvaluateRequest(
            benchmark_id=benchmark_id, design=submission, n_scenes=scenes, evidence=evidence, webhook=webhook
        )
        staged = StagedDesign.of(
            script=StagedPart(artifact=submission.script.artifact, format="script")
            if submission.script
            else None,
            parts=[
                StagedDesignPart(
                    part=StagedPart(artifact=p.source.artifact, format=p.source.resolved_format),
                    metadata=p.metadata,
                )
                for p in submission.parts or []
                if p.source.artifact is not None
            ],
        )
        store = make_store(settings)
        # The worker checks this too; here it saves uploading and starting for nothing, and names the
        # workflow after the evaluation: evaluate-<evaluation id>, the id the result carries.
        published = await asyncio.to_thread(_checked, published_benchmark, store, req.benchmark_id)
        assert published.definition is not None  # checked by published_benchmark
        proven_on = evaluation_basis(published.definition.sha256, load_catalog().label)
        try:
            eid = evaluation_id(req.benchmark_id, staged.design_sha256, req.n_scenes, req.evidence, proven_on)
        except ValueError as e:
            raise BadInput(f"benchmark_id: {e}") from None
        wf_id = f"evaluate-{eid}"
        async with AsyncExitStack() as stack:
            client, _, server = await _connect_embedded_or_remote(stack, settings, embedded, ui=False)
            # Upload only once every file passed the checks (content-addressed, atomic writes).
            for key, data in pending:
                await asyncio.to_thread(store.put_bytes, key, data)
            _started(WF_EVALUATE_DESIGN, wf_id, settings, server, as_json)
            result: EvaluationResult = await _run_showing_stage(
                client,
                settings,
                WF_EVALUATE_DESIGN,
                req,
                wf_id=wf_id,
                result_type=EvaluationResult,
                summary=f"{Path(design).name} against {req.benchmark_id}",
                progress_type=EvaluationProgress,
                what=f"evaluation against {req.benchmark_id}",
                quiet=as_json,
                codes={ErrorType.INVALID_PART: EXIT_DESIGN_FAILED},  # the design's own script or files
            )
        if as_json:
            print(result.model_dump_json(indent=2))
        else:
            print_evaluation(result, store)
        return EXIT_OK if result.verdict == EvaluationVerdict.PASSED else EXIT_DESIGN_FAILED

    _run(main, as_json=as_json)


@app.command()
def report(
    dataset: Annotated[str, typer.Argument(metavar="DATASET_ID", help="a dataset in the store")],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write (default ./<dataset id>-report.html)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the path and counts as JSON")] = False,
) -> None:
    """Write a self-contained HTML report of a dataset: a gallery of every benchmark (thumbnail, family,
    seed, verdict, caps, reference success share), the rejected ones with their reasons, summary charts.
    Reads the store only (no Temporal server). Prints the report's path; exit 2 for an unknown dataset."""

    async def main(settings: Settings) -> int:
        from workers.report import (
            DatasetNotFound,
            check_dataset_id,
            gather_report,
            known_datasets,
            render_report,
        )

        try:
            ds = check_dataset_id(dataset)
        except ValueError as e:
            raise BadInput(f"dataset_id: {e}") from None
        target = out if out is not None else Path(f"{ds}-report.html")
        if target.is_dir():
            raise BadInput(f"--out: {str(target)!r} is a directory; name the HTML file to write")
        if not target.absolute().parent.is_dir():
            raise BadInput(f"--out: the directory of {str(target)!r} does not exist")
        unknown = f"dataset_id: no dataset {ds!r} in the store"
        if settings.store == "local" and not settings.local_store_dir.is_dir():
            raise BadInput(f"{unknown} ({settings.local_store_dir} does not exist)")  # creates nothing
        store = make_store(settings)
        try:
            data = await asyncio.to_thread(gather_report, store, ds)
        except DatasetNotFound:
            known = await asyncio.to_thread(known_datasets, store)
            hint = f"; datasets there: {', '.join(known)}" if known else "; it holds no dataset"
            raise BadInput(f"{unknown} {store.describe()}{hint}") from None
        page = render_report(data)
        tmp = target.with_name(f".{target.name}.tmp")
        try:  # a reader sees the old report or the new one, never half of one
            await asyncio.to_thread(tmp.write_text, page, "utf-8")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        path = target.resolve()
        counts = data.counts
        if as_json:
            print(
                json.dumps(
                    {
                        "dataset_id": ds,
                        "report": str(path),
                        "benchmarks": len(data.cards),
                        "published": counts[Verdict.PUBLISHED],
                        "rejected": counts[Verdict.REJECTED],
                        "failed": counts[Verdict.FAILED],
                        "pictures": data.pictures,
                        "bytes": len(page.encode()),
                    },
                    indent=2,
                )
            )
        else:
            err.print(
                f"{len(data.cards)} benchmarks ({counts[Verdict.PUBLISHED]} published, "
                f"{counts[Verdict.REJECTED]} rejected, {counts[Verdict.FAILED]} failed), "
                f"{data.pictures} with a picture"
            )
            print(path)
        return EXIT_OK

    _run(main, as_json=as_json)


schedule_app = typer.Typer(
    no_args_is_help=True,
    help="Temporal Schedules that regenerate a dataset periodically (no cron needed).",
)
app.add_typer(schedule_app, name="schedule")


def _schedule_call(action: Callable[[Any], Awaitable[int]], as_json: bool = False) -> None:
    """Run a schedule command against the cluster in settings; a ScheduleError is bad input (exit 2)."""
    from workers.schedules import ScheduleError

    async def main(settings: Settings) -> int:
        client = await _connect(settings)
        try:
            return await action(client)
        except ScheduleError as e:
            raise BadInput(str(e)) from None

    _run(main, as_json=as_json)


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
        client = await _connect(settings)
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

    _run(main)


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
        t = Table(title=f"{len(rows)} dataset schedules")
        for col in ("name", "every", "state", "next run", "latest runs"):
            t.add_column(col)
        for r in rows:
            state = f"paused ({r.note})" if r.paused and r.note else ("paused" if r.paused else "active")
            t.add_row(
                r.schedule_id, r.every, state, str(r.next_run or "-"), "\n".join(r.recent_runs[-3:]) or "-"
            )
        console.print(t)
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


@app.command()
def worker(
    address: Annotated[
        str | None,
        typer.Option(help="host:port of the Temporal server (default: MECHBENCH_TEMPORAL_ADDRESS)"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="port of the Temporal server, on the host of the address"),
    ] = None,
    task_queue: Annotated[str | None, typer.Option(help="task queue (default: MECHBENCH_TASK_QUEUE)")] = None,
) -> None:
    """Serve the Temporal cluster named in settings (MECHBENCH_TEMPORAL_ADDRESS, _NAMESPACE, TLS or API key);
    the options override the settings."""

    async def main(settings: Settings) -> int:
        from workers.worker import connect_when_up, serve_forever

        if port is not None:
            host = (address or settings.temporal_address).rpartition(":")[0] or "localhost"
            settings = settings.model_copy(update={"temporal_address": f"{host}:{port}"})

        stop = _stop_event()
        client = await connect_when_up(settings, stop)  # a server that is down is waited for
        if client is None:  # stopped before the server came up
            return EXIT_OK
        if settings.metrics_port is not None:
            err.print(f"Prometheus metrics: http://{settings.metrics_host}:{settings.metrics_port}/metrics")
        await serve_forever(client, settings, stop)
        return EXIT_OK

    _run(main, service=True, overrides=_service_options(task_queue, temporal_address=address))


def _service_options(task_queue: str | None, **options: Any) -> dict[str, Any]:
    """The settings ``dev`` and ``worker`` options override (only those given)."""
    if task_queue is not None and not task_queue.strip():
        _finish(_report(BadInput("--task-queue: must not be empty"), as_json=False))
    given = {"task_queue": task_queue, **options}
    return {k: v for k, v in given.items() if v is not None}


@app.command()
def dev(
    ui: Annotated[bool, typer.Option(help="serve the Temporal Web UI")] = True,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Temporal port (default: MECHBENCH_DEV_PORT, 7233)")
    ] = None,
    ui_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Web UI port (default: MECHBENCH_DEV_UI_PORT, 8233)"),
    ] = None,
    task_queue: Annotated[str | None, typer.Option(help="task queue (default: MECHBENCH_TASK_QUEUE)")] = None,
) -> None:
    """Run the embedded dev server (SQLite in the data directory, Web UI) and a worker until Ctrl-C; the
    options override the settings."""

    async def main(settings: Settings) -> int:
        stop = _stop_event()
        async with AsyncExitStack() as stack:
            _, _, server = await _connect_embedded_or_remote(
                stack, settings, embedded=True, ui=ui, metrics=True
            )
            console.print(f"Temporal dev server: {server.address} (namespace {settings.temporal_namespace})")
            if ui:
                console.print(f"Web UI: {server.ui_url}")
            console.print(f"task queue: {settings.task_queue}; data: {settings.data_dir}")
            if settings.metrics_port is not None:
                console.print(
                    f"Prometheus metrics: http://{settings.metrics_host}:{settings.metrics_port}/metrics"
                )
            flags = temporal_cli_flags(server.address, settings.temporal_namespace)
            example = json.dumps({"families": ["chute"], "count": 4, "base_seed": 7})
            console.print(
                f"try: temporal workflow start{flags} --type GenerateDataset "
                f"--task-queue {settings.task_queue} --input '{example}'"
            )
            part = settings.part_roots[0] / "examples" / "bracket.step" if settings.part_roots else None
            if part is not None and part.is_file():
                analysis = json.dumps(
                    {
                        "part": {"path": str(part)},
                        "method": "cnc",
                        "material": "aluminum_6061",
                        "quantity": 100,
                    }
                )
                console.print(
                    f"     temporal workflow start{flags} --type AnalyzeManufacturing "
                    f"--task-queue {settings.task_queue} --input '{analysis}'"
                )
            console.print("Ctrl-C stops everything.")
            await stop.wait()
            console.print("stopping ...")
        return EXIT_OK

    _run(main, service=True, overrides=_service_options(task_queue, dev_port=port, dev_ui_port=ui_port))


def main() -> None:
    if "--json" not in sys.argv[1:]:
        app()
        return
    try:  # with --json a usage error is one JSON object on stdout too
        code = app(standalone_mode=False)
    except typer.TyperException as e:
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        if hasattr(e, "show"):
            e.show()
        _finish(_report(BadInput(message), as_json=True))
    except typer.Abort:
        _finish(EXIT_INTERRUPTED)
    _finish(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
