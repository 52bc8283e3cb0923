"""``mechbench worker`` (serve the Temporal cluster named in settings) and ``mechbench dev`` (the embedded
dev server, its Web UI and a worker): the long-running services, whose options override the settings.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from typing import Annotated, Any

import typer

from shared.settings import Settings
from workers.cli.common import EXIT_OK, BadInput, temporal_cli_flags
from workers.cli.render import console, err
from workers.cli.runner import connect_embedded_or_remote, finish, report_failure, run, stop_event


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

        stop = stop_event()
        client = await connect_when_up(settings, stop)  # a server that is down is waited for
        if client is None:  # stopped before the server came up
            return EXIT_OK
        if settings.metrics_port is not None:
            err.print(f"Prometheus metrics: http://{settings.metrics_host}:{settings.metrics_port}/metrics")
        await serve_forever(client, settings, stop)
        return EXIT_OK

    run(main, service=True, overrides=_service_options(task_queue, temporal_address=address))


def _service_options(task_queue: str | None, **options: Any) -> dict[str, Any]:
    """The settings ``dev`` and ``worker`` options override (only those given)."""
    if task_queue is not None and not task_queue.strip():
        finish(report_failure(BadInput("--task-queue: must not be empty"), as_json=False))
    given = {"task_queue": task_queue, **options}
    return {k: v for k, v in given.items() if v is not None}


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
        stop = stop_event()
        async with AsyncExitStack() as stack:
            _, _, server = await connect_embedded_or_remote(
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

    run(main, service=True, overrides=_service_options(task_queue, dev_port=port, dev_ui_port=ui_port))
