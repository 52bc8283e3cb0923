"""The ``mechbench`` command line.

    mechbench dev                      embedded Temporal dev server + Web UI + worker, in the foreground
    mechbench worker                   a worker for the Temporal cluster named in settings
    mechbench generate ...             start a dataset (``--wait`` shows progress, ``--embedded`` runs it all here)
    mechbench benchmark FAMILY SEED    generate one benchmark (or: mechbench benchmark SCRIPT.py)
    mechbench families [--json]        the families: idea, levels, what each level's reference needs
    mechbench analyze PART ...         DFM findings and a quote for a STEP/STL part or a part script
    mechbench evaluate BENCHMARK DESIGN  a design (script or part files) against a published benchmark
    mechbench schedule create|list|pause|unpause|trigger|delete   periodic datasets (Temporal Schedules)
    mechbench report DATASET_ID        a self-contained HTML report of a dataset (reads the store only)
    mechbench export DATASET_ID --out DIR  Parquet tables, files and a dataset card (reads the store only)
    mechbench mcp [--http HOST:PORT]   the agent tools as an MCP server (stdio by default)

Exit codes: 0 success, 1 the work failed, 2 bad input or configuration, 3 an evaluated design did not pass
(or could not be built), 130 interrupted. A failure prints one line, ``error: <type>: <message>`` (the
innermost typed error of a failed workflow); with ``--json`` it is also one JSON object on stdout.
Every command ends with ``os._exit`` so an SDK teardown abort (temporalio/sdk-python issue #300) never hides
the real status.

One module per command group (:mod:`.generate` for ``generate`` and ``benchmark``, :mod:`.families`, :mod:`.analyze`,
:mod:`.evaluate`, :mod:`.report`, :mod:`.export`, :mod:`.mcp`, :mod:`.schedule`, :mod:`.service` for ``worker`` and ``dev``); what they
print is in :mod:`.render`, how they run and fail in :mod:`.runner` and :mod:`.common`. This module
assembles ``app`` (in the order ``--help`` lists the commands) and ``main``, the console script.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from shared.families import GENERATOR_VERSION
from workers.cli import (
    analyze,
    evaluate,
    export,
    families,
    generate,
    leaderboard,
    mcp,
    report,
    schedule,
    service,
)
from workers.cli.common import EXIT_INTERRUPTED, EXIT_OK, BadInput
from workers.cli.runner import finish, report_failure, state

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="mechbench: durable mechanical-engineering benchmarks on Temporal.",
)
# The modules stay attributes of the package (workers.cli.analyze is the module, not its command), so a
# monkeypatch target such as "workers.cli.analyze.<name>" finds what it names.
for command in (
    generate.generate,
    generate.benchmark,
    families.families,
    analyze.analyze,
    evaluate.evaluate,
    report.report,
    export.export,
    leaderboard.leaderboard,
    mcp.mcp,
    service.worker,
    service.dev,
):
    app.command()(command)
app.add_typer(schedule.schedule_app, name="schedule")


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
    state["verbose"] = verbose


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
        finish(report_failure(BadInput(message), as_json=True))
    except typer.Abort:
        finish(EXIT_INTERRUPTED)
    finish(code if isinstance(code, int) else EXIT_OK)
