"""``mechbench generate`` (a dataset, GenerateDataset) and ``mechbench benchmark`` (one benchmark,
GenerateBenchmark, from a family and seed or from a benchmark script), with the dataset request's checks
that ``schedule create`` shares.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shared.boundary import checked_file_name, dataset_request_problem, read_part_file
from shared.families import FAMILIES, GENERATOR_VERSION, unknown_families_message
from shared.ids import benchmark_id, dataset_id
from shared.models import (
    MAX_SEED,
    BenchmarkProgress,
    BenchmarkResult,
    DatasetManifest,
    DatasetProgress,
    DatasetRequest,
    DatasetResult,
    GenerateBenchmarkRequest,
    PartSource,
)
from shared.refs import make_ref
from shared.settings import Settings
from shared.store import ObjectStore, make_store
from workers.cli.common import EXIT_FAILED, EXIT_OK, BadInput, checked, validation_message, workflow_failure
from workers.cli.render import (
    certification_summary,
    console,
    dataset_table,
    err,
    print_benchmark,
    print_locations,
)
from workers.cli.runner import connect_embedded_or_remote, run, run_showing_stage, started


def dataset_request(
    families: list[str], count: int, seed: int, settings: Settings, **extra: Any
) -> DatasetRequest:
    """The CLI/client boundary: everything is checked before any work starts or anything is written."""
    try:
        req = DatasetRequest(families=families, count=count, base_seed=seed, **extra)
    except ValidationError as e:
        raise BadInput(validation_message(e)) from None
    problem = dataset_request_problem(req, settings)  # what the worker's PrepareDataset checks
    if problem:
        raise BadInput(problem)
    return req


def certify_options(random_designs: int | None, trivial_threshold: float | None) -> dict[str, object]:
    """The certification options a command was given (checked with the request they go in)."""
    given = {"random_designs": random_designs, "trivial_threshold": trivial_threshold}
    return {k: v for k, v in given.items() if v is not None}


def generate(
    families: Annotated[
        str, typer.Option(help=f"comma-separated families, or all: {', '.join(FAMILIES)}")
    ] = ",".join(FAMILIES),
    count: Annotated[int, typer.Option(help="number of benchmarks")] = 9,
    seed: Annotated[int, typer.Option(help="base seed")] = 0,
    dataset: Annotated[str | None, typer.Option("--dataset-id", help="dataset id (default: derived)")] = None,
    max_parallel: Annotated[int, typer.Option(help="benchmarks generated at once")] = 4,
    n_scenes: Annotated[
        int | None, typer.Option(help="jittered scenes per proof (default: family's)")
    ] = None,
    random_designs: Annotated[
        int | None,
        typer.Option(
            help="N: random designs each benchmark's not_trivial_random proof simulates (default: "
            "MECHBENCH_RANDOM_DESIGNS)"
        ),
    ] = None,
    trivial_threshold: Annotated[
        float | None,
        typer.Option(
            help="a benchmark is trivial when the random solve rate's 95% upper bound reaches this "
            "(default: MECHBENCH_TRIVIAL_THRESHOLD)"
        ),
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
            certify=certify_options(random_designs, trivial_threshold),
        )
        ds = dataset_id(req, GENERATOR_VERSION)
        wf_id = f"dataset-{ds}"
        async with AsyncExitStack() as stack:
            client, _, server = await connect_embedded_or_remote(stack, settings, embedded, ui)
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
            url = started("GenerateDataset", wf_id, settings, server, as_json)
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
            console.print(dataset_table(manifest))
            console.print(certification_summary(manifest))
        console.print(
            f"{result.published} published, {result.rejected} rejected"
            + (f", {result.failed} failed" if result.failed else "")
            + f" of {result.count}; reference = share of jittered scenes the reference solution solved; "
            f"max cost = the reference solution's manufacturing quote at quantity "
            f"{settings.benchmark_target_quantity} x {settings.caps_headroom} (caps.cost_basis in each definition)"
        )
        print_locations(store, result, url if server is not None else None)
        return code

    run(main, as_json=as_json)


def _read_manifest(store: ObjectStore, result: DatasetResult) -> DatasetManifest | None:
    """The dataset's entries, from the store the workers wrote to (None, with a warning, if unreachable)."""
    try:
        return DatasetManifest.model_validate_json(store.get_ref(result.manifest))
    except Exception as e:  # noqa: BLE001 - the counts are still worth printing
        err.print(f"[yellow]cannot read the manifest {result.manifest.key}:[/yellow] {escape(str(e))}")
        return None


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


def benchmark(
    family: Annotated[str, typer.Argument(help=f"one of {', '.join(FAMILIES)}, or a benchmark script (.py)")],
    seed: Annotated[int, typer.Argument(help=f"seed, 0 to {MAX_SEED} (families only)")] = 0,
    embedded: Annotated[
        bool, typer.Option(help="start the embedded dev server and a worker for this run")
    ] = False,
    random_designs: Annotated[
        int | None, typer.Option(help="N: random designs the not_trivial_random proof simulates")
    ] = None,
    trivial_threshold: Annotated[
        float | None, typer.Option(help="trivial when the random solve rate's 95% upper bound reaches this")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
) -> None:
    """Generate one benchmark (GenerateBenchmark) from a family and seed, or from a benchmark script
    (build() returns fixtures and objectives), and print its verdict: a table, or JSON with --json (exit 0
    for any verdict)."""

    async def main(settings: Settings) -> int:
        from shared.temporal import WF_GENERATE_BENCHMARK

        upload: tuple[str, bytes] | None = None
        certify = certify_options(random_designs, trivial_threshold)
        if family.lower().endswith(".py"):
            from shared.ids import script_benchmark_id
            from shared.keys import upload_key
            from shared.refs import sha256_hex

            name = checked(checked_file_name, Path(family).name, "script")
            _, data = checked(read_part_file, Path(family).absolute(), "script", settings, "script")
            key = upload_key(sha256_hex(data), ".py")
            upload = (key, data)
            try:
                req = GenerateBenchmarkRequest(
                    script=PartSource(artifact=make_ref(key, data), filename=name), certify=certify
                )
            except ValidationError as e:
                raise BadInput(validation_message(e)) from None
            bid = script_benchmark_id(sha256_hex(data), GENERATOR_VERSION)
        else:
            try:
                req = GenerateBenchmarkRequest(family=family, seed=seed, certify=certify)
            except ValidationError as e:
                raise BadInput(validation_message(e)) from None
            assert req.family is not None
            problem = unknown_families_message([req.family], field="family")  # as GenerateBenchmark says
            if problem:
                raise BadInput(f"{problem} (or give a benchmark script ending in .py)")
            bid = benchmark_id(req.family, req.seed, GENERATOR_VERSION)
        wf_id = f"benchmark-{bid}"
        async with AsyncExitStack() as stack:
            client, _, server = await connect_embedded_or_remote(stack, settings, embedded, ui=False)
            store = make_store(settings)
            if upload is not None:  # checked above; stored only once a server takes the work
                await asyncio.to_thread(store.put_bytes, *upload)
            started(WF_GENERATE_BENCHMARK, wf_id, settings, server, as_json)
            result: BenchmarkResult = await run_showing_stage(
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

    run(main, as_json=as_json)
