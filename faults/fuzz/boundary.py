"""Drawing values deterministically, and the client boundary: what the client's converter sends for a value
and whether the input model (the strict JSON parse) rejects it with a ``ValidationError`` and nothing
else."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from faults.fuzz.strategies import JSON
from shared.models import parse_json

MAX_PAYLOAD_BYTES = 1_500_000
"""A value whose JSON is larger than this is not sent (counted as rejected at the client)."""

# --------------------------------------------------------------------------------------------
# Drawing values deterministically
# --------------------------------------------------------------------------------------------


def _draw_once(strategy: st.SearchStrategy[JSON], n: int, seed: int) -> list[JSON]:
    out: list[JSON] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=n,
        database=None,
        derandomize=False,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: JSON) -> None:
        out.append(value)

    collect()
    return out


def draw(strategy: st.SearchStrategy[JSON], n: int, seed: int) -> list[JSON]:
    """``n`` distinct values from ``strategy``, the same ones for the same seed (and hypothesis version)."""
    seen: set[str] = set()
    out: list[JSON] = []
    for round_ in range(20):
        missing = n - len(out)
        if missing <= 0:
            break
        for value in _draw_once(strategy, missing + missing // 2 + 10, seed + round_ * 1_000_003):
            key = short(value, 10**7)
            if key not in seen and len(out) < n:
                seen.add(key)
                out.append(value)
    return out


# --------------------------------------------------------------------------------------------
# The client boundary: the model
# --------------------------------------------------------------------------------------------


def model_rejects(model: type[BaseModel], value: JSON) -> bool:
    """True when the workflow boundary rejects ``value``: :func:`shared.models.parse_json` (strict) of the JSON
    the client's converter sends raises a ``ValidationError`` (a value the client cannot serialise never
    reaches a workflow, and counts as rejected); False when it accepts it. Any other exception propagates
    (the boundary must never raise anything else)."""
    data, _, problem = on_the_wire(value)
    if data is None:
        assert problem is not None
        return True
    try:
        parse_json(model, data)
    except ValidationError:
        return True
    return False


_ANY = TypeAdapter(Any)


def on_the_wire(value: JSON) -> tuple[bytes | None, JSON, str | None]:
    """``(json, decoded, problem)``: what the client's converter sends for ``value`` and what a workflow
    decodes from it; ``problem`` says why it cannot be sent or decoded (``decoded`` is then None)."""
    from pydantic_core import to_json

    if value is None:
        return b"null", None, None
    try:
        data = to_json(value)
    except Exception as e:  # noqa: BLE001 - unserialisable: the client refuses it
        return None, None, f"client: {type(e).__name__}"
    if len(data) > MAX_PAYLOAD_BYTES:
        return data, None, f"client: {len(data)} bytes"
    try:
        return data, _ANY.validate_json(data), None
    except ValidationError:
        return data, None, "worker: undecodable JSON"


def short(value: JSON, limit: int = 300) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = f"<{type(value).__name__} nested too deep to print>"
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


@dataclass
class ModelCheck:
    """How a model's boundary handled a batch of malformed values."""

    model: str
    checked: int = 0
    rejected: int = 0
    accepted: list[str] = field(default_factory=list)
    """Malformed values the model took (each a bug in the model or in the strategy)."""
    other_errors: list[str] = field(default_factory=list)
    """Values that made validation raise something other than a ``ValidationError``."""
    slowest_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.checked == self.rejected


def check_model_boundary(model: type[BaseModel], values: Iterable[JSON]) -> ModelCheck:
    """Validate every value at the workflow boundary (:func:`model_rejects`): each must be rejected with a
    ``ValidationError``."""
    check = ModelCheck(model.__name__)
    for value in values:
        check.checked += 1
        t0 = time.perf_counter()
        try:
            rejected = model_rejects(model, value)
        except Exception as e:  # noqa: BLE001 - recorded: the boundary must only raise ValidationError
            check.other_errors.append(f"{type(e).__name__}: {short(value)}")
            continue
        finally:
            check.slowest_s = max(check.slowest_s, time.perf_counter() - t0)
        if rejected:
            check.rejected += 1
        elif len(check.accepted) < 5:
            check.accepted.append(short(value))
    return check
