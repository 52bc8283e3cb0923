"""``mechbench leaderboard``: each submitter's standing on a dataset (or a split's test fold), and the
cost-performance front of each benchmark, from the store alone (no Temporal server)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from shared.boundary import BoundaryError
from shared.settings import Settings
from shared.store import make_store
from workers.cli.common import EXIT_OK, BadInput
from workers.cli.report import dataset_argument, unknown_dataset
from workers.cli.runner import run


def leaderboard(
    dataset: Annotated[str, typer.Argument(metavar="DATASET_ID", help="a finished dataset in the store")],
    split: Annotated[
        str | None, typer.Option(help="within_family or cross_family: only the test fold --fold of it")
    ] = None,
    fold: Annotated[int | None, typer.Option(help="the split's test fold, 0-9")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the leaderboard as JSON")] = False,
) -> None:
    """Each submitter's attempted and solved benchmarks, AUCCESS over attempts (PHYRE's) and mean cost
    ratio, best first, and the cost-performance Pareto front of each benchmark. Attempts are evaluations
    sent with a submitter (mechbench evaluate --submitter, the MCP tool, the Gym environment); they run on
    held-out scenes. Exit 2 for an unknown dataset or a malformed split."""

    async def main(settings: Settings) -> int:
        from workers.cli.render import print_leaderboard
        from workers.leaderboard import read_leaderboard

        ds = dataset_argument(dataset, settings)
        store = make_store(settings)
        try:
            board = await asyncio.to_thread(read_leaderboard, store, ds, split, fold)
        except BoundaryError as e:
            if str(e).startswith("dataset:"):
                raise await unknown_dataset(store, ds) from None
            raise BadInput(str(e)) from None
        if as_json:
            print(board.model_dump_json(indent=2))
        else:
            print_leaderboard(board)
        return EXIT_OK

    run(main, as_json=as_json)
