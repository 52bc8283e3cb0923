"""``mechbench leaderboard``: each submitter's standing on a dataset (or a split's test fold), and the
cost-performance front of each benchmark, from the store alone (no Temporal server); with ``--html PATH``,
the same as a self-contained HTML page in the report's look (:mod:`workers.report_leaderboard`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from shared.boundary import BoundaryError
from shared.models import Leaderboard
from shared.settings import Settings
from shared.store import make_store
from workers.cli.common import EXIT_OK, BadInput, check_html_target, write_page_atomically
from workers.cli.report import dataset_argument, unknown_dataset
from workers.cli.runner import run


def leaderboard(
    dataset: Annotated[str, typer.Argument(metavar="DATASET_ID", help="a finished dataset in the store")],
    split: Annotated[
        str | None, typer.Option(help="within_family or cross_family: only the test fold --fold of it")
    ] = None,
    fold: Annotated[int | None, typer.Option(help="the split's test fold, 0-9")] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="PATH",
            help="write the leaderboard as a self-contained HTML page (standings, scoring, a cost-success "
            "chart per benchmark) and print its path",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the leaderboard as JSON (with --html: and the page's path)")
    ] = False,
) -> None:
    """Each submitter's attempted and solved benchmarks, AUCCESS over attempts (PHYRE's) and mean cost
    ratio, best first, and the cost-performance Pareto front of each benchmark. Attempts are evaluations
    sent with a submitter (mechbench evaluate --submitter, the MCP tool, the Gym environment); they run on
    held-out scenes. With --html, writes the page instead of printing the table. Exit 2 for an unknown
    dataset, a malformed split or an --html path that cannot be written."""

    async def main(settings: Settings) -> int:
        from workers.cli.render import print_leaderboard
        from workers.leaderboard import read_leaderboard

        ds = dataset_argument(dataset, settings)
        if html is not None:
            check_html_target("--html", html)
        store = make_store(settings)
        try:
            board = await asyncio.to_thread(read_leaderboard, store, ds, split, fold)
        except BoundaryError as e:
            if str(e).startswith("dataset:"):
                raise await unknown_dataset(store, ds) from None
            raise BadInput(str(e)) from None
        if html is not None:
            return await write_page(board, html, as_json)
        if as_json:
            print(board.model_dump_json(indent=2))
        else:
            print_leaderboard(board)
        return EXIT_OK

    run(main, as_json=as_json)


async def write_page(board: Leaderboard, target: Path, as_json: bool) -> int:
    """Write the page (whole or not at all, as ``mechbench report`` does) and print its path: alone, or in
    the leaderboard's JSON as ``html``."""
    from workers.cli.render import err
    from workers.report_leaderboard import render_leaderboard

    path = await write_page_atomically(target, render_leaderboard(board))
    if as_json:
        print(json.dumps({"html": str(path), **board.model_dump(mode="json")}, indent=2))
    else:
        err.print(
            f"{len(board.standings)} submitters, {len(board.attempts)} attempts on "
            f"{len({a.entry.benchmark_id for a in board.attempts})} of {board.benchmarks} benchmarks"
        )
        print(path)
    return EXIT_OK
