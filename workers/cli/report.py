"""``mechbench report``: a self-contained HTML report of a dataset, from the store alone (no Temporal
server); :mod:`workers.report` gathers and renders it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from shared.models import Verdict
from shared.settings import Settings
from shared.store import ObjectStore, make_store
from workers.cli.common import EXIT_OK, BadInput, check_html_target, write_page_atomically
from workers.cli.render import err
from workers.cli.runner import run


def dataset_argument(dataset: str, settings: Settings) -> str:
    """The DATASET_ID argument of ``report`` and ``export``, checked: a dataset id, and (local store) a store
    directory that exists; :class:`BadInput` otherwise, with nothing created."""
    from workers.report_data import check_dataset_id

    try:
        ds = check_dataset_id(dataset)
    except ValueError as e:
        raise BadInput(f"dataset_id: {e}") from None
    if settings.store == "local" and not settings.local_store_dir.is_dir():
        raise BadInput(
            f"dataset_id: no dataset {ds!r} in the store ({settings.local_store_dir} does not exist)"
        )
    return ds


async def unknown_dataset(store: ObjectStore, ds: str) -> BadInput:
    """The error for a dataset the store does not hold, naming the datasets it does hold."""
    from workers.report_data import known_datasets

    known = await asyncio.to_thread(known_datasets, store)
    hint = f"; datasets there: {', '.join(known)}" if known else "; it holds no dataset"
    return BadInput(f"dataset_id: no dataset {ds!r} in the store {store.describe()}{hint}")


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
        from workers.report import DatasetNotFound, gather_report, render_report

        ds = dataset_argument(dataset, settings)
        target = out if out is not None else Path(f"{ds}-report.html")
        check_html_target("--out", target)
        store = make_store(settings)
        try:
            data = await asyncio.to_thread(gather_report, store, ds)
        except DatasetNotFound:
            raise await unknown_dataset(store, ds) from None
        page = render_report(data)
        path = await write_page_atomically(target, page)
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

    run(main, as_json=as_json)
