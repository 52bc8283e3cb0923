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


def dataset_id(request: DatasetRequest, generator_version: int) -> str:
    """The request's own id, or one derived from what determines the dataset's content."""
    if request.dataset_id:
        return request.dataset_id
    basis = {
        "families": request.families,
        "count": request.count,
        "base_seed": request.base_seed,
        "generator_version": generator_version,
        "n_scenes": request.n_scenes,
        "check_interval_steps": request.check_interval_steps,
    }
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:12]
    return f"ds-{digest}"


def dataset_item(request: DatasetRequest, index: int) -> tuple[str, int]:
    """(family, seed) of item ``index``: families round-robin, seeds counting up from base_seed per family."""
    n = len(request.families)
    return request.families[index % n], request.base_seed + index // n
