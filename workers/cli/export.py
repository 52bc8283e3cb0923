"""``mechbench export``: a dataset as Parquet tables, files and a dataset card, from the store alone (no
Temporal server); :mod:`workers.export` writes it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from shared.settings import Settings
from shared.store import make_store
from workers.cli.common import EXIT_OK, BadInput, CommandError
from workers.cli.render import err
from workers.cli.report import dataset_argument, unknown_dataset
from workers.cli.runner import run


def export(
    dataset: Annotated[str, typer.Argument(metavar="DATASET_ID", help="a finished dataset in the store")],
    out: Annotated[Path, typer.Option("--out", help="directory to write (absent or empty, or use --force)")],
    force: Annotated[bool, typer.Option(help="replace a non-empty --out directory")] = False,
    include_rejected: Annotated[
        bool, typer.Option(help="export rejected and failed benchmarks too (nulls where nothing was built)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the directory and counts as JSON")] = False,
) -> None:
    """Export a dataset for tools outside mechbench: benchmarks.parquet (the agent view, without the
    reference solution), grader/grader.parquet (with it), the STEP/GLB/thumbnail files they name by relative
    path, and README.md, a dataset card with the Hugging Face YAML header that
    datasets.load_dataset("parquet", ...) reads. Reads the store only; writes into a temporary directory and
    renames it onto --out, so nothing is half-written. Exit 2 for an unknown or running dataset or a refused
    --out, 1 when a stored object is missing or damaged."""

    async def main(settings: Settings) -> int:
        from workers.export import DatasetRunning, ExportError, OutputRefused, export_dataset
        from workers.report_data import DatasetNotFound

        ds = dataset_argument(dataset, settings)
        store = make_store(settings)
        try:
            summary = await asyncio.to_thread(
                export_dataset,
                store,
                ds,
                out,
                include_rejected=include_rejected,
                force=force,
                protected=(settings.data_dir,),
            )
        except OutputRefused as e:
            raise BadInput(f"--out: {e}") from None
        except DatasetRunning:
            raise BadInput(f"dataset_id: {ds!r} is still running; export it once it has finished") from None
        except DatasetNotFound:
            raise await unknown_dataset(store, ds) from None
        except ExportError as e:
            raise CommandError(f"{ds}: {e}; nothing was written", error_type="ExportError") from None
        if as_json:
            print(
                json.dumps(
                    {
                        "dataset_id": summary.dataset_id,
                        "out": str(summary.out),
                        "rows": summary.rows,
                        "entries": summary.counts,
                        "files": summary.files,
                        "bytes": summary.bytes,
                    },
                    indent=2,
                )
            )
        else:
            err.print(
                f"{summary.rows} benchmarks exported ({', '.join(f'{n} {v}' for v, n in summary.counts.items())}"
                f" in the dataset), {summary.files} files, {summary.bytes / 1e6:.1f} MB"
            )
            print(summary.out)
        return EXIT_OK

    run(main, as_json=as_json)
