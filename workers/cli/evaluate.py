"""``mechbench evaluate``: a design (a script, or part files listed in a JSON design file) against a
published benchmark (EvaluateDesign). Every file is checked as the worker checks it (:mod:`shared.boundary`)
and the benchmark is looked up before anything is uploaded or started.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from shared.boundary import (
    check_design_total,
    checked_file_name,
    published_benchmark,
    read_part_file,
    resolve_part_path,
)
from shared.models import (
    PART_SUFFIXES,
    ArtifactRef,
    DesignPartFile,
    DesignSubmission,
    ErrorType,
    EvaluateRequest,
    EvaluationProgress,
    EvaluationResult,
    EvaluationVerdict,
    PartSource,
)
from shared.refs import make_ref
from shared.settings import Settings
from shared.store import make_store
from workers.agent_input import evaluation_id_of
from workers.cli.common import EXIT_DESIGN_FAILED, EXIT_OK, BadInput, checked, validation_message
from workers.cli.render import print_evaluation
from workers.cli.runner import connect_embedded_or_remote, run, run_showing_stage, started


def design_submission(
    design: str, settings: Settings, upload: Callable[[bytes, str], ArtifactRef]
) -> DesignSubmission:
    """The CLI boundary of an evaluation: a ``.py`` design script, or a ``.json`` design file listing part
    files (relative to the JSON file) with their metadata. Every file is checked (through
    :mod:`shared.boundary`, as the worker checks it) before any is uploaded; the design file itself must
    lie under the part roots too."""

    path = Path(design)
    suffix = path.suffix.lower()
    checked(checked_file_name, path.name, "design")
    if suffix == ".py":
        _, data = checked(read_part_file, path.absolute(), "script", settings, "design")
        return DesignSubmission(script=PartSource(artifact=upload(data, ".py"), filename=path.name))
    if suffix != ".json":
        raise BadInput(
            f"design: {path.name!r} is neither a design script (.py) nor a design file (.json listing "
            "STEP/STL part files with their metadata)"
        )
    real = checked(resolve_part_path, path.absolute(), settings.part_roots, "design")

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
        name = checked(checked_file_name, part_path.name, field)
        _, data = checked(read_part_file, part_path, fmt, settings, field)
        total += len(data)
        checked(check_design_total, total, settings)
        files.append((data, part_suffix, name, meta))
    try:
        return DesignSubmission(
            parts=[
                DesignPartFile(source=PartSource(artifact=upload(data, sfx), filename=name), metadata=meta)
                for data, sfx, name, meta in files
            ]
        )
    except ValidationError as e:
        raise BadInput(f"design: {validation_message(e)}") from None


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
    submitter: Annotated[
        str | None,
        typer.Option(
            help="record the evaluation on the leaderboard under this name: it runs on the benchmark's "
            "held-out scenes, and waits while the submitter's earlier evaluations fill the limit"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Evaluate a design against a published benchmark (EvaluateDesign). Exit 0 when the design passes;
    3 when it failed, is invalid, or its script or files could not be built; 2 for bad input (including a
    benchmark that is not published); 1 when the evaluation itself failed."""

    async def main(settings: Settings) -> int:
        from shared.ids import evaluation_workflow_id
        from shared.keys import upload_key
        from shared.refs import sha256_hex
        from shared.temporal import WF_EVALUATE_DESIGN

        try:
            EvaluateRequest(
                benchmark_id=benchmark_id,
                design=DesignSubmission(script=PartSource(path="/design.py")),
                n_scenes=scenes,
                webhook=webhook,
                submitter=submitter,
            )
        except ValidationError as e:
            raise BadInput(validation_message(e)) from None
        pending: list[tuple[str, bytes]] = []

        def upload(data: bytes, suffix: str) -> ArtifactRef:
            key = upload_key(sha256_hex(data), suffix)
            pending.append((key, data))
            return make_ref(key, data)

        submission = design_submission(design, settings, upload)
        req = EvaluateRequest(
            benchmark_id=benchmark_id,
            design=submission,
            n_scenes=scenes,
            evidence=evidence,
            webhook=webhook,
            submitter=submitter,
        )
        store = make_store(settings)
        # The worker checks this too; here it saves uploading and starting for nothing, and names the
        # workflow after the evaluation: evaluate-<evaluation id>, the id the result carries (and per
        # submitter, evaluate-<evaluation id>-by-<submitter>).
        published = await asyncio.to_thread(checked, published_benchmark, store, req.benchmark_id)
        eid = checked(evaluation_id_of, req, published)
        wf_id = evaluation_workflow_id(eid, req.submitter)
        async with AsyncExitStack() as stack:
            client, _, server = await connect_embedded_or_remote(stack, settings, embedded, ui=False)
            # Upload only once every file passed the checks (content-addressed, atomic writes).
            for key, data in pending:
                await asyncio.to_thread(store.put_bytes, key, data)
            started(WF_EVALUATE_DESIGN, wf_id, settings, server, as_json)
            result: EvaluationResult = await run_showing_stage(
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

    run(main, as_json=as_json)
