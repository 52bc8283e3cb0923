"""The bounds of the contract types, read from their annotations (``Annotated`` metadata, a model field's
``FieldInfo``), and the numbers just inside and just outside them.

Every numeric bound the fuzzer tests lives once, in :mod:`shared.models` (``SceneCount``, ``Seed``,
``MillimetreLength``, a model field's ``Field(ge=...)``); :func:`limits` and :func:`lengths` read it from
there, so a bound changed in the contract moves the fuzzer's values with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from faults.fuzz.strategies import INT64, JSON, containers, hostile_text


@dataclass(frozen=True)
class Limits:
    """The numeric bounds a contract type carries (read from it, never retyped here)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    """``gt`` rather than ``ge``."""
    hi_open: bool = False
    """``lt`` rather than ``le``."""
    integer: bool = False


@dataclass(frozen=True)
class Lengths:
    """The length bounds (``min_length``, ``max_length``) a string or list contract type carries."""

    lo: int | None = None
    hi: int | None = None


def _constraints(tp: Any, field: str | None) -> tuple[list[Any], Any]:
    """``(metadata, base)``: the constraints on an annotated contract type, or with ``field`` on a model's
    field, and the type they constrain; ``Annotated`` layers and ``X | None`` are looked through, grouped
    metadata (``StringConstraints``, ``Interval``) is flattened."""
    found: list[Any] = []
    base = tp
    if field is not None:
        info = tp.model_fields[field]
        found, base = list(info.metadata), info.annotation
    while True:
        origin = get_origin(base)
        if origin is Annotated:
            base, *extra = get_args(base)
            for m in extra:
                found += m.metadata if isinstance(m, FieldInfo) else [m]
        elif origin in (Union, UnionType):
            (base,) = [a for a in get_args(base) if a is not type(None)]
        else:
            break
    metadata: list[Any] = []
    for m in found:
        metadata += list(m) if isinstance(m, annotated_types.GroupedMetadata) else [m]
    return metadata, base


def limits(tp: Any, field: str | None = None) -> Limits:
    """The bounds of an annotated contract type (``limits(SceneCount)``), or with ``field`` of a model's field
    (``limits(MaterialPrice, "price_usd_per_kg")``); ``X | None`` is looked through."""
    metadata, base = _constraints(tp, field)
    lo = hi = None
    lo_open = hi_open = False
    for c in metadata:
        if isinstance(c, annotated_types.Ge):
            lo, lo_open = c.ge, False
        elif isinstance(c, annotated_types.Gt):
            lo, lo_open = c.gt, True
        elif isinstance(c, annotated_types.Le):
            hi, hi_open = c.le, False
        elif isinstance(c, annotated_types.Lt):
            hi, hi_open = c.lt, True
    return Limits(lo, hi, lo_open, hi_open, integer=base is int)


def lengths(tp: Any, field: str | None = None) -> Lengths:
    """The length bounds of a string or list contract type (or, with ``field``, of a model's field:
    ``lengths(PartSource, "path")``), as :func:`limits` reads the numeric ones."""
    lo = hi = None
    for c in _constraints(tp, field)[0]:
        if isinstance(c, annotated_types.MinLen):
            lo = c.min_length
        elif isinstance(c, annotated_types.MaxLen):
            hi = c.max_length
    return Lengths(lo, hi)


def longest(tp: Any, field: str | None = None) -> int:
    """The ``max_length`` of a string or list contract type or model field (:func:`lengths`), which must
    have one."""
    hi = lengths(tp, field).hi
    if hi is None:
        raise ValueError(f"{tp!r} {field or ''} has no max_length")
    return hi


def valid_number(lim: Limits) -> st.SearchStrategy[int | float]:
    """Values within the bounds."""
    if lim.integer:
        return st.integers(
            None if lim.lo is None else int(lim.lo) + lim.lo_open,
            None if lim.hi is None else int(lim.hi) - lim.hi_open,
        )
    return st.floats(
        lim.lo,
        lim.hi,
        exclude_min=lim.lo_open,
        exclude_max=lim.hi_open,
        allow_nan=False,
        allow_infinity=False,
    )


def lax_number(lim: Limits) -> st.SearchStrategy[JSON]:
    """What lax coercion would turn into a number within the bounds, all of it rejected by the strict JSON
    boundary: booleans, numbers as strings (``"1"``, ``" 1 "``, ``"1.0"``) and, for an integer, an
    integral float (``1.0``)."""
    value = valid_number(lim)
    forms: list[st.SearchStrategy[JSON]] = [
        st.booleans(),
        value.map(str),
        value.map(lambda v: f" {v} "),
        value.map(lambda v: repr(float(v))),
    ]
    if lim.integer:
        forms.append(value.map(float))
    return st.one_of(forms)


def bad_int(lo: int | None, hi: int | None, optional: bool = False) -> st.SearchStrategy[JSON]:
    """Values an ``int`` field bounded by ``lo..hi`` rejects: out of range, huge, fractional, NaN/inf,
    the lax forms (a boolean, ``"1"``, ``1.0``), text, containers (and None unless the field is optional).
    Use :func:`bad_value` to read the bounds from the contract."""
    options: list[st.SearchStrategy[JSON]] = [
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
        st.sampled_from([math.nan, math.inf, -math.inf, 0.5, -0.5, 1e-300]),
        lax_number(Limits(lo, hi, integer=True)),
        hostile_text(),
        containers(),
    ]
    if lo is not None:
        options += [st.integers(max_value=lo - 1), st.sampled_from([lo - 1, -INT64, -(10**400)])]
    if hi is not None:
        options += [st.integers(min_value=hi + 1), st.sampled_from([hi + 1, INT64, 10**30, 10**400])]
    if not optional:
        options.append(st.none())
    return st.one_of(options)


def bad_number(
    lo: float | None, hi: float | None, *, lo_open: bool, hi_open: bool = False, optional: bool = False
) -> st.SearchStrategy[JSON]:
    """Values a ``float`` field bounded by ``lo``/``hi`` rejects (NaN fails every bound); ``lo_open``: the
    bound itself is excluded (``gt``), else included (``ge``); the same for ``hi_open`` (``lt``/``le``).
    The lax forms (a boolean, ``"2.5"``) too. Use :func:`bad_value` to read the bounds from the contract."""
    lim = Limits(lo, hi, lo_open, hi_open)
    options: list[st.SearchStrategy[JSON]] = [
        st.just(math.nan),
        lax_number(lim),
        hostile_text(),
        containers(),
    ]
    if not optional:
        options.append(st.none())
    if lo is not None:
        below = st.floats(max_value=lo, exclude_max=not lo_open, allow_nan=False)
        options += [below, st.just(-math.inf)]
    if hi is not None:
        above = st.floats(min_value=hi, exclude_min=not hi_open, allow_nan=False)
        options += [above, st.just(math.inf)]
    return st.one_of(options)


def bad_value(tp: Any, field: str | None = None, *, optional: bool = False) -> st.SearchStrategy[JSON]:
    """Values a number of the contract type ``tp`` (or of ``tp``'s ``field``) rejects, its bounds read from it."""
    lim = limits(tp, field)
    if lim.integer:
        lo = None if lim.lo is None else int(lim.lo) + lim.lo_open
        hi = None if lim.hi is None else int(lim.hi) - lim.hi_open
        return bad_int(lo, hi, optional)
    return bad_number(lim.lo, lim.hi, lo_open=lim.lo_open, hi_open=lim.hi_open, optional=optional)


def valid_value(tp: Any, field: str | None = None) -> st.SearchStrategy[int | float]:
    """Values of the contract type ``tp`` (or of ``tp``'s ``field``) within its bounds."""
    return valid_number(limits(tp, field))
