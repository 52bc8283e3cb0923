"""Deterministic identifiers: the same work always gets the same id, so re-running it is idempotent."""

from __future__ import annotations

import hashlib
import json
import re

from shared.models import ID_PATTERN, DatasetRequest

_ID_RE = re.compile(ID_PATTERN)


def benchmark_id(family: str, seed: int, generator_version: int) -> str:
    bid = f"{family}-s{seed}-v{generator_version}"
    if not _ID_RE.match(bid):
        raise ValueError(f"cannot form a valid benchmark id from family={family!r} seed={seed}")
    return bid


SCRIPT_FAMILY = "script"
"""The family name recorded for benchmarks authored as scripts."""


def script_benchmark_id(script_sha256: str, generator_version: int) -> str:
    """A benchmark script's id: its content hash, so the same script is the same benchmark."""
    return f"{SCRIPT_FAMILY}-{script_sha256[:16]}-v{generator_version}"


def dataset_content(request: DatasetRequest) -> dict[str, object]:
    """What a dataset's entries depend on in its request: which benchmarks, proven on which scene basis. How it
    runs (``max_parallel``, ``chunk_size``, ``webhook``) does not count. Two requests for one dataset id must
    agree on this (see ``prepare_dataset``)."""
    content: dict[str, object] = {
        "families": list(request.families),
        "count": request.count,
        "base_seed": request.base_seed,
        "n_scenes": request.n_scenes,
        "check_interval_steps": request.check_interval_steps,
    }
    asked = request.certify.model_dump(exclude_none=True)
    if asked:  # only when set: the ids of datasets asked before the options existed stay as they were
        content["certify"] = asked
    return content


def dataset_id(request: DatasetRequest, generator_version: int) -> str:
    """The request's own id, or one derived from what determines the dataset's content."""
    if request.dataset_id:
        return request.dataset_id
    basis = {**dataset_content(request), "generator_version": generator_version}
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:12]
    return f"ds-{digest}"


def dataset_item(request: DatasetRequest, index: int) -> tuple[str, int]:
    """(family, seed) of item ``index``: families round-robin, seeds counting up from base_seed per family."""
    n = len(request.families)
    return request.families[index % n], request.base_seed + index // n


EVALUATOR_VERSION = 3
"""Bumped when validation, pricing or judging of designs changes what a stored result would say. Version 2:
assemblies, motors as catalogue items, bought parts in the price, several payloads. Version 3: an on/off
motor follows its item's torque-speed line (no faster than the item's max_speed)."""


def evaluation_basis(definition_sha256: str, catalog_label: str) -> str:
    """What an evaluation's verdict rests on besides the design and its options: the benchmark definition
    (its sha256), the evaluator's version and the catalogue that prices the parts. The worker's lookup and
    the CLI (which names the workflow ``evaluate-<evaluation id>`` before it starts) both use it. The bought-
    part catalogue (``shared/data/cots.toml``) counts by its content: a price or a limit changed there is a new
    evaluation."""
    from shared.cots import CATALOGUE_SHA256

    return f"{definition_sha256}:{EVALUATOR_VERSION}:{catalog_label}:cots-{CATALOGUE_SHA256[:12]}"


def evaluation_id(
    benchmark_id: str,
    design_sha256: str,
    n_scenes: int | None,
    evidence: bool,
    proven_on: str = "",
    held_out: bool = False,
) -> str:
    """Benchmark id plus a hash of the design, the options that change the result and ``proven_on`` (what
    the verdict depends on besides: the benchmark definition's hash and the evaluator's and catalogue's
    versions): the same design evaluated twice against the same benchmark gets the same id, hence the
    stored result; a benchmark proven again with other caps, or a new catalogue, gets a new evaluation.

    ``proven_on`` is :func:`evaluation_basis`. ``held_out``: on the benchmark's held-out scenes, another
    evaluation than on its published ones (ids of published-scene evaluations are as they always were)."""
    fields: dict[str, object] = {
        "design": design_sha256,
        "n_scenes": n_scenes,
        "evidence": evidence,
        "proven_on": proven_on,
    }
    if held_out:
        fields["scenes"] = "held-out"
    basis = json.dumps(fields)
    eid = f"{benchmark_id}-{hashlib.sha256(basis.encode()).hexdigest()[:16]}"
    if not _ID_RE.match(eid):
        raise ValueError(f"cannot form a valid evaluation id from benchmark id {benchmark_id!r}")
    return eid


def evaluation_workflow_id(evaluation_id: str, submitter: str | None = None) -> str:
    """The workflow of an evaluation: ``evaluate-<evaluation id>``, and per submitter
    ``evaluate-<evaluation id>-by-<submitter>``, so two submitters of the same design each get their attempt
    recorded (the second reuses the first's stored result)."""
    return f"evaluate-{evaluation_id}" + (f"-by-{submitter}" if submitter else "")


HELD_OUT_SEED_CONTEXT = b"mechbench held-out jitter seed v1"


def held_out_seed(secret: bytes, benchmark_id: str) -> int:
    """The jitter seed of a benchmark's held-out scenes: an HMAC-SHA256 of the benchmark id under the
    operator's secret, to 31 bits. Without the secret, the published definition does not tell it."""
    import hmac

    digest = hmac.new(secret, HELD_OUT_SEED_CONTEXT + b"\x00" + benchmark_id.encode(), "sha256").digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
