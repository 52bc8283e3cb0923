"""The agent's inputs, checked before anything is stored or started: files sent as base64, design scripts as
text, a design's submission and the id its evaluation gets. The checks are the CLI's and the workers'
(:mod:`shared.boundary`, the request models); a refusal is an :class:`AgentInputError` whose message begins
with the field it is about."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import ValidationError

from shared.boundary import (
    MAX_SCRIPT_BYTES,
    BoundaryError,
    check_design_total,
    check_stored_part,
    checked_evaluation_id,
    checked_file_name,
    format_of,
    size_limit,
)
from shared.keys import upload_key
from shared.models import (
    ArtifactRef,
    BenchmarkResult,
    DesignPartFile,
    DesignSubmission,
    EvaluateRequest,
    PartSource,
    StagedDesign,
    StagedDesignPart,
    StagedPart,
)
from shared.refs import make_ref, sha256_hex
from shared.settings import Settings


class AgentInputError(ValueError):
    """Refused input; the message starts with the field (``script:``, ``parts[0].data_base64:`` ...)."""


class AgentWorkFailed(RuntimeError):
    """The workflow ended with an error that is not about the input (its type and message)."""


def refused(e: Exception) -> AgentInputError:
    if isinstance(e, ValidationError):
        fields = [f"{'.'.join(str(x) for x in item['loc']) or 'input'}: {item['msg']}" for item in e.errors()]
        return AgentInputError("; ".join(fields))
    return AgentInputError(str(e))


def decoded(text: str, field: str, limit: int) -> bytes:
    """``text`` as base64 bytes of at most ``limit`` bytes; the length is checked before decoding."""
    if len(text) > 4 * (limit // 3 + 1) + 4:
        raise AgentInputError(f"{field}: more than {limit} bytes")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AgentInputError(f"{field}: not base64") from None
    if not data:
        raise AgentInputError(f"{field}: empty")
    return data


def design_of(
    script: str | None, parts: list[dict[str, Any]] | None, settings: Settings
) -> tuple[DesignSubmission, list[tuple[str, bytes]]]:
    """The submission and the uploads it needs, every byte checked; nothing is stored yet."""
    if (script is None) == (parts is None):
        raise AgentInputError("script: give exactly one of script (source text) or parts (files)")
    uploads: list[tuple[str, bytes]] = []

    def upload(data: bytes, suffix: str) -> ArtifactRef:
        key = upload_key(sha256_hex(data), suffix)
        uploads.append((key, data))
        return make_ref(key, data)

    try:
        if script is not None:
            data = script.encode("utf-8", errors="surrogatepass")
            if len(data) > MAX_SCRIPT_BYTES:
                raise AgentInputError(f"script: {len(data)} bytes, more than {MAX_SCRIPT_BYTES}")
            check_stored_part(data, "script", settings, "script", "design.py")
            source = PartSource(artifact=upload(data, ".py"), filename="design.py")
            return DesignSubmission(script=source), uploads
        assert parts is not None
        files, total = [], 0
        for i, item in enumerate(parts):
            field = f"parts[{i}]"
            if not isinstance(item, dict):
                raise AgentInputError(f"{field}: an object with filename, data_base64 and metadata")
            name = checked_file_name(str(item.get("filename", "")), f"{field}.filename")
            fmt = format_of(name, f"{field}.filename")
            if fmt not in ("step", "stl"):
                raise AgentInputError(f"{field}.filename: a design part is a .step/.stp or .stl file")
            data = decoded(
                str(item.get("data_base64", "")), f"{field}.data_base64", size_limit(fmt, settings)
            )
            check_stored_part(data, fmt, settings, f"{field}.data_base64", name)
            total += len(data)
            check_design_total(total, settings)
            suffix = "." + name.rsplit(".", 1)[1].lower()
            source = PartSource(artifact=upload(data, suffix), filename=name)
            files.append(DesignPartFile(source=source, metadata=item.get("metadata") or {}))
        return DesignSubmission(parts=files), uploads
    except (BoundaryError, ValidationError) as e:
        raise refused(e) from None


def staged_of(submission: DesignSubmission) -> StagedDesign:
    """The design as the worker stages it (its hash names the evaluation); the uploads need not exist yet."""
    return StagedDesign.of(
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


def evaluation_id_of(req: EvaluateRequest, published: BenchmarkResult) -> str:
    """The evaluation's id, as the worker's lookup computes it (the workflow is ``evaluate-<id>``); a
    :class:`~shared.boundary.BoundaryError` when the benchmark id leaves no room for one."""
    from engines.manufacturing.catalog import load_catalog

    assert published.definition is not None  # published_benchmark checked it
    return checked_evaluation_id(
        req.benchmark_id,
        staged_of(req.design).design_sha256,
        req.n_scenes,
        req.evidence,
        published.definition.sha256,
        load_catalog().label,
        held_out=req.submitter is not None,
    )
