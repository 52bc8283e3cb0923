"""``mechbench analyze``: DFM findings and a quote for one part (AnalyzeManufacturing). The part file is
checked as the worker checks it (:mod:`shared.boundary`) before it is uploaded or anything starts.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from shared.boundary import checked_file_name, format_of, read_part_file
from shared.materials import check_analysis
from shared.models import (
    AnalysisProgress,
    AnalyzeRequest,
    ManufacturingReport,
    PartSource,
    PriceTable,
    parse_json_value,
)
from shared.refs import make_ref
from shared.settings import Settings
from shared.store import LocalStore, make_store
from workers.cli.common import EXIT_OK, BadInput, checked, validation_message
from workers.cli.render import console, print_report
from workers.cli.runner import connect_embedded_or_remote, run, run_showing_stage, started


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
    sharp_corners: bool = False,
    tolerance_class: str | None = None,
    finish: str | None = None,
) -> tuple[AnalyzeRequest, bytes, str]:
    """The CLI boundary of an analysis: the file (through :mod:`shared.boundary`, as the worker checks it:
    name, part roots, size, content), the method/material pairing, the quantity and the price table are all
    checked before anything is uploaded or started. Returns the request (its part still to be uploaded),
    the file's bytes and its suffix."""

    path = Path(part)
    name = checked(checked_file_name, path.name, "part")
    fmt = checked(format_of, path.name, "part")
    real, data = checked(read_part_file, path.absolute(), fmt, settings, "part")
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
            sharp_corners=sharp_corners,
            tolerance_class=tolerance_class,
            finish=finish,
        )
    except ValidationError as e:
        raise BadInput(validation_message(e)) from None
    problem = check_analysis(req.material, req.method, req.finish)
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
        raise BadInput(f"prices: {validation_message(e)}") from None


def analyze(
    part: Annotated[
        str, typer.Argument(help="a .step/.stp, .stl or .py part script (build() returns the part)")
    ],
    method: Annotated[
        str,
        typer.Option(
            help="cnc_milling (cnc), injection_molding (im), fdm_printing (fdm), sheet_metal (sheet), cnc_turning (turning)"
        ),
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
    sharp_corners: Annotated[
        bool,
        typer.Option(
            help="internal corners must stay sharp (EDM): a sharp corner along the tool axis then blocks "
            "milling instead of being left at the tool radius"
        ),
    ] = False,
    tolerance_class: Annotated[
        str | None,
        typer.Option(
            help="ISO 2768-1 general tolerance class: f, m (default), c or v (milling, turning, sheet)"
        ),
    ] = None,
    finish: Annotated[
        str | None,
        typer.Option(help="as_machined (default), bead_blast, anodise (aluminium) or powder_coat (metals)"),
    ] = None,
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
            part,
            method,
            material,
            quantity,
            ladder,
            prices,
            alternatives,
            settings,
            webhook,
            sharp_corners,
            tolerance_class,
            finish,
        )
        from shared.keys import upload_key
        from shared.refs import sha256_hex
        from shared.temporal import WF_ANALYZE_MANUFACTURING
        from workflows.manufacturing import analysis_id

        sha = sha256_hex(data)
        key = upload_key(sha, suffix)
        part_source = PartSource(artifact=make_ref(key, data), filename=req.part.filename)
        req = req.model_copy(update={"part": part_source})
        aid = analysis_id(req, sha)
        wf_id = f"analyze-{aid}"
        async with AsyncExitStack() as stack:
            client, _, server = await connect_embedded_or_remote(stack, settings, embedded, ui=False)
            # Upload once checked and connected (content-addressed, atomic): workers on other machines read
            # the part from the store.
            store = make_store(settings)
            await asyncio.to_thread(store.put_bytes, key, data)
            started(WF_ANALYZE_MANUFACTURING, wf_id, settings, server, as_json)
            report: ManufacturingReport = await run_showing_stage(
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

    run(main, as_json=as_json)
