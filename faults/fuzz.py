"""Fuzzing the workflow boundary: malformed and hostile inputs for the four workflow input models.

- ``malformed(name)``: a hypothesis strategy of JSON-like values (what ``temporal workflow start --input``
  could send) that the input model must reject: a valid request with one to three invalidating mutations
  (a required field dropped, a wrong type, an out-of-range or huge number, NaN/inf, what lax coercion would
  accept (``true`` or ``"1"`` or ``1.0`` for an integer, ``"no"`` for a boolean), an unknown field, an id,
  path, file name or key that tries to escape, deeply nested garbage), a combination of valid fields whose
  derived values are out of range (a dataset's seeds), or no object at all. Numeric bounds are read from
  the contract types (:func:`limits`), never retyped here.
- ``hostile_inputs(part_root)``: a few valid-shaped requests (and wrong argument counts) that pass the model
  but must fail inside the workflow, quickly, with a typed non-retryable error: part paths outside the
  worker's part roots, object keys that escape the store, unknown families or benchmarks, limits.
- ``check_model_boundary`` / ``model_rejects``: the workflow boundary (:func:`shared.models.parse_json`,
  strict, of the JSON the client's converter sends) rejects a value with a ``ValidationError`` and nothing
  else.
- ``fuzz_workflows``: sends the values raw to the workflows (bypassing the model) on a running worker and
  classifies each outcome; see :class:`FuzzReport`.

Light imports only (hypothesis, pydantic, the contracts); Temporal is imported when the runner runs.
None of the inputs can start real work: every fuzzed value is checked to be rejected by its model before
it is sent, and the hostile ones fail at the first boundary check of their workflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

import annotated_types
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from shared.families import FAMILIES
from shared.models import (
    DETERMINISTIC_ERRORS,
    MAX_BENCHMARK_ID_CHARS,
    MAX_DESIGN_PARTS,
    MAX_FAMILIES,
    MAX_GENERATOR_VERSION,
    MAX_LADDER_RUNGS,
    MAX_SEED,
    AnalyzeRequest,
    ArtifactRef,
    CheckInterval,
    ChunkSize,
    DatasetCursor,
    DatasetRequest,
    Degrees,
    DesignPartMeta,
    Effort,
    EvaluateRequest,
    Frequency,
    GenerateBenchmarkRequest,
    GeneratorVersion,
    JointCoordinate,
    JointSpec,
    JointSpeed,
    ManufacturingMethod,
    MaterialId,
    MaterialPrice,
    MillimetreLength,
    MotorMode,
    MotorSpec,
    Parallelism,
    Placement,
    ProcessRates,
    Quantity,
    SceneCount,
    Seconds,
    Seed,
    normalise_method,
    normalise_token,
    parse_json,
)

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHandle

JSON = Any
"""A JSON-like value: dict, list, str, int, float, bool or None."""

KNOWN_ERROR_TYPES = frozenset(e.value for e in DETERMINISTIC_ERRORS)
"""``ApplicationError.type`` values a workflow may fail with on bad input (all non-retryable)."""

MAX_TEXT = 20_000
"""Longest string any strategy produces: payloads stay far below Temporal's 2 MB blob limit."""
MAX_PAYLOAD_BYTES = 1_500_000
"""A value whose JSON is larger than this is not sent (counted as rejected at the client)."""

LONG_NAME = "a" * 10_000
INT64 = 2**63
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_HEX = "0123456789abcdef"
_DROP = object()
"""Mutation value: remove the field."""

# --------------------------------------------------------------------------------------------
# Escape strings
# --------------------------------------------------------------------------------------------

ESCAPES: tuple[str, ...] = (
    "..",
    ".",
    "../x",
    "../../../../etc/passwd",
    "/",
    "/abs",
    "/etc/passwd",
    "a/../../b",
    "a/./b",
    "a//b",
    "uploads/../../x.step",
    "..\\..\\windows\\system32",
    "C:\\evil",
    "\\\\server\\share",
    "\x00",
    "a\x00b",
    "x.step\x00.py",
    "~",
    "~root/.ssh/id_rsa",
    "$HOME",
    "%2e%2e%2f",
    "..%2fetc",
    "\n",
    "a\nb",
    " ",
    "\t",
    "\u202egpj.exe",  # right-to-left override
    "a\u200bb",  # zero-width space
    "\ufeffbom",  # byte-order mark
    "\u200f..",  # right-to-left mark
    "e\u0301",  # combining acute
    "\u0301",
    "a\uff0fb",  # fullwidth solidus
    "\uff0e\uff0e\uff0fx",  # fullwidth dots and solidus
    "a\u2215b",  # division slash
    "a\u2044b",  # fraction slash
    "\U0001f600",
    "\U0001f4a5.step",
    "\u0130",  # dotted capital I: lower() grows a combining dot
    "stra\u00dfe",
    "\x7f",
    "\x1b[31m",
    LONG_NAME,
    "a" * 65,
    "a" * 256,
    "/" + "a" * 1100,
)
"""Ids, paths, file names and keys that try to escape or to confuse a reader."""

POISON: tuple[str, ...] = (
    "/", "\\", "\x00", "..", "\u202e", "\u200b", "\u200f", "\u0301", "\uff0f", "\u2215", "\U0001f600",
    ":", "%", " ", "\n", "*", "?", "'", '"', "<", ">", "|", "$", "\x7f",
)  # fmt: skip
"""Fragments none of which an identifier may contain."""

_SAFE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-."


def _capped(s: str) -> str:
    return s[:MAX_TEXT]


def hostile_text() -> st.SearchStrategy[str]:
    """Strings that try to escape: traversal, absolute paths, NUL, very long names, odd unicode."""
    safe = st.text(alphabet=_SAFE_CHARS, max_size=12)
    return st.one_of(
        st.sampled_from(ESCAPES),
        st.builds(lambda a, p, b: a + p + b, safe, st.sampled_from(POISON), safe),
        st.lists(
            st.sampled_from(["..", ".", "", "etc", "passwd", "a", "\x00", "\u202e", "uploads"]),
            min_size=2,
            max_size=8,
        ).map("/".join),
        st.text(max_size=40),
        st.text(min_size=65, max_size=300),
    ).map(_capped)


def _normalised_id(s: str) -> str:
    """What :data:`shared.models.FamilyName` makes of a string before matching (Identifier: unchanged)."""
    return s.strip().lower()


def bad_identifier() -> st.SearchStrategy[str]:
    """Strings that are no identifier, even after the family name's trim and lower-casing."""
    return hostile_text().filter(lambda s: _ID.fullmatch(_normalised_id(s)) is None)


def valid_identifier() -> st.SearchStrategy[str]:
    return st.from_regex(_ID, fullmatch=True)


def bad_filename() -> st.SearchStrategy[str]:
    """File names that are not bare names: empty, dot names, directories, NUL, longer than 255."""
    safe = st.text(alphabet=_SAFE_CHARS, max_size=12)
    return st.one_of(
        st.sampled_from(
            [
                "",
                ".",
                "..",
                "a/b.step",
                "../x.step",
                "/etc/passwd",
                "a\\b.step",
                "x\x00.step",
                "a" * 256,
                LONG_NAME,
            ]
        ),
        st.builds(lambda a, p, b: a + p + b, safe, st.sampled_from(["/", "\\", "\x00"]), safe),
        st.text(min_size=256, max_size=400),
    )


# --------------------------------------------------------------------------------------------
# Wrong types and numbers
# --------------------------------------------------------------------------------------------


def big_ints() -> st.SearchStrategy[int]:
    return st.sampled_from([INT64 - 1, INT64, 2**64, -INT64 - 1, 10**30, -(10**30), 10**400, -(10**400)])


def garbage(max_leaves: int = 10) -> st.SearchStrategy[JSON]:
    """Any JSON-like value, small, with escape strings among the leaves."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        big_ints(),
        st.floats(),
        st.text(max_size=30),
        hostile_text(),
    )
    return st.recursive(
        scalars,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=max_leaves,
    )


def _nest(depth: int, kind: str, leaf: JSON) -> JSON:
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def deep_garbage() -> st.SearchStrategy[JSON]:
    """Nesting deep enough to trip recursion limits (JSON decoders stop near 200 levels)."""
    return st.builds(
        _nest, st.integers(30, 240), st.sampled_from(["list", "dict"]), st.one_of(st.none(), hostile_text())
    )


def containers() -> st.SearchStrategy[JSON]:
    return st.one_of(
        st.lists(garbage(4), max_size=3),
        st.dictionaries(st.text(max_size=8), garbage(4), max_size=3),
        deep_garbage(),
    )


def non_string(optional: bool = False) -> st.SearchStrategy[JSON]:
    """Values no string field accepts (pydantic does not turn numbers into strings)."""
    s = st.one_of(st.booleans(), st.integers(), big_ints(), st.floats(), containers())
    return s if optional else s | st.none()


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


def limits(tp: Any, field: str | None = None) -> Limits:
    """The bounds of an annotated contract type (``limits(SceneCount)``), or with ``field`` of a model's field
    (``limits(MaterialPrice, "price_usd_per_kg")``); ``X | None`` is looked through."""
    metadata: list[Any] = []
    base = tp
    if field is not None:
        info = tp.model_fields[field]
        metadata, base = list(info.metadata), info.annotation
    while True:
        origin = get_origin(base)
        if origin is Annotated:
            base, *extra = get_args(base)
            for m in extra:
                metadata += m.metadata if isinstance(m, FieldInfo) else [m]
        elif origin in (Union, UnionType):
            (base,) = [a for a in get_args(base) if a is not type(None)]
        else:
            break
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


LAX_BOOLS: tuple[JSON, ...] = (0, 1, 0.0, 1.0, "true", "false", "True", "yes", "no", "on", "off", "t", "f", "y",
                               "n", "0", "1")  # fmt: skip
"""What lax coercion turns into a boolean; the strict JSON boundary takes only ``true`` and ``false``."""


def bad_bool() -> st.SearchStrategy[JSON]:
    return st.one_of(
        st.sampled_from(LAX_BOOLS),
        st.integers(),
        st.floats(),
        hostile_text(),
        containers(),
        st.none(),
    )


def bad_token(valid: Iterable[str], normalise: Callable[[Any], Any]) -> st.SearchStrategy[JSON]:
    """Values an enum field rejects after its boundary normalisation."""
    ok = set(valid)
    words = st.sampled_from(["laser", "unobtainium", "cnc milling!", "steel carbon", "STEP", "3d", ""])
    return st.one_of(
        st.one_of(words, hostile_text()).filter(lambda s: normalise(s) not in ok),
        non_string(),
    )


METHODS = [m.value for m in ManufacturingMethod]
MATERIALS = [m.value for m in MaterialId]
METHOD_SPELLINGS = [*METHODS, "cnc", "CNC", "milling", "im", "Injection-Molding", "3dp", "fdm", "3d printing"]
MATERIAL_SPELLINGS = [*MATERIALS, "ALUMINUM-6061", "Steel Carbon", " abs "]


# --------------------------------------------------------------------------------------------
# Mutation engine
# --------------------------------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, picked in proportion to its weight (``st.one_of`` flattens nested choices
    and picks among all their branches evenly)."""
    table = [s for w, s in choices for _ in range(w)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


def _apply(base: dict[str, JSON], mutations: Sequence[tuple[str, JSON]]) -> dict[str, JSON]:
    out = dict(base)
    for key, value in mutations:
        if value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _extra_key(fields: Iterable[str]) -> st.SearchStrategy[str]:
    known = set(fields)
    return st.one_of(
        st.sampled_from(
            ["__proto__", "constructor", "$where", "../x", "Family", "id ", "\x00", "\u202efamily"]
        ),
        st.text(min_size=1, max_size=20),
    ).filter(lambda k: k not in known)


def mutated(
    base: st.SearchStrategy[dict[str, JSON]],
    invalid: dict[str, st.SearchStrategy[JSON]],
    required: Sequence[str],
    fields: Iterable[str],
    max_mutations: int = 3,
) -> st.SearchStrategy[dict[str, JSON]]:
    """``base`` (valid) with 1..max_mutations mutations on distinct top-level keys, each of which makes the
    value invalid whatever the others do: an invalid value for a field, a required field dropped, an
    unknown field added."""
    names = sorted(invalid)
    one = weighted(
        (8, st.sampled_from(names).flatmap(lambda k: invalid[k].map(lambda v: (k, v)))),
        (1 if required else 0, st.sampled_from(list(required or ["-"])).map(lambda k: (k, _DROP))),
        (1, st.tuples(_extra_key(fields), garbage(6))),
    )
    return st.builds(
        _apply, base, st.lists(one, min_size=1, max_size=max_mutations, unique_by=lambda m: m[0])
    )


def one_mutation(
    base: st.SearchStrategy[dict[str, JSON]],
    invalid: dict[str, st.SearchStrategy[JSON]],
    required: Sequence[str],
    fields: Iterable[str],
) -> st.SearchStrategy[dict[str, JSON]]:
    """A nested model's invalid value: its valid example with exactly one invalidating mutation."""
    return mutated(base, invalid, required, fields, max_mutations=1)


def non_object(base: st.SearchStrategy[dict[str, JSON]], none: bool = True) -> st.SearchStrategy[JSON]:
    """Values that are not an object at all (including the object JSON-encoded twice); ``none``: also
    None (leave it out where None is a valid value)."""
    import json

    return st.one_of(
        *([st.none()] if none else []),
        st.booleans(),
        st.integers(),
        big_ints(),
        st.floats(),
        st.text(max_size=50),
        hostile_text(),
        base.map(lambda d: [d]),
        base.map(lambda d: json.dumps(d)),
        st.lists(garbage(6), max_size=5),
        deep_garbage(),
    )


def _with_non_object(
    base: st.SearchStrategy[dict[str, JSON]], objects: st.SearchStrategy[JSON]
) -> st.SearchStrategy[JSON]:
    # mostly objects: they reach the deeper validators
    return weighted((9, objects), (1, non_object(base)))


# --------------------------------------------------------------------------------------------
# Nested models
# --------------------------------------------------------------------------------------------

_hex64 = st.text(alphabet=_HEX, min_size=64, max_size=64)


def _artifact(suffix: str) -> st.SearchStrategy[dict[str, JSON]]:
    return st.builds(
        lambda sha, size: {"key": f"uploads/{sha}{suffix}", "sha256": sha, "size_bytes": size},
        _hex64,
        st.integers(0, 10**6),
    )


def _bad_artifact() -> st.SearchStrategy[JSON]:
    bad_sha = st.one_of(
        hostile_text(),
        st.text(alphabet=_HEX, min_size=0, max_size=63),
        st.text(alphabet=_HEX, min_size=65, max_size=80),
        _hex64.map(str.upper).filter(lambda s: s != s.lower()),
        _hex64.map(lambda s: s + "\n"),
        _hex64.map(lambda s: " " + s),
        non_string(),
    )
    invalid = {
        "key": non_string(),
        "sha256": bad_sha,
        "size_bytes": bad_value(ArtifactRef, "size_bytes"),
        "media_type": non_string(),
    }
    fields = ["key", "sha256", "size_bytes", "media_type"]
    return one_mutation(_artifact(".step"), invalid, ["key", "sha256", "size_bytes"], fields) | non_object(
        _artifact(".step"), none=False
    )


def part_source(suffixes: Sequence[str] = (".step", ".stp", ".stl")) -> st.SearchStrategy[dict[str, JSON]]:
    """A valid :class:`~shared.models.PartSource` with one of ``suffixes`` (its format follows them)."""
    suffix = st.sampled_from(list(suffixes))
    name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)

    def by_path(n: str, s: str, with_name: bool) -> dict[str, JSON]:
        src: dict[str, JSON] = {"path": f"/srv/parts/{n}{s}"}
        if with_name:
            src["filename"] = f"{n}{s}"
        return src

    def by_artifact(art: dict[str, JSON], n: str, s: str) -> dict[str, JSON]:
        return {"artifact": {**art, "key": art["key"].rsplit(".", 1)[0] + s}, "filename": f"{n}{s}"}

    return st.one_of(
        st.builds(by_path, name, suffix, st.booleans()),
        st.builds(by_artifact, _artifact(".bin"), name, suffix),
    )


_FORMATS = {"step", "stl", "script"}


def bad_part_source(
    suffixes: Sequence[str] = (".step", ".stp", ".stl"), none: bool = True
) -> st.SearchStrategy[JSON]:
    """A part source that is invalid on its own: both or neither source, a path with NUL or over 1024
    characters, a file name with directories, NUL or over 255 characters, an unknown format, an
    unrecognised suffix without a format, a damaged artifact, an unknown field."""
    base = part_source(suffixes)
    bad_path = st.one_of(
        st.just(""),
        st.builds(lambda a, b: f"/srv/{a}\x00{b}", st.text(max_size=10), st.text(max_size=10)),
        st.text(min_size=1025, max_size=1100).map(lambda s: "/" + s),
        st.just("/" + "a/" * 600 + "x.step"),
        non_string(optional=True),
    )
    bad_format = st.one_of(
        st.sampled_from(["STEP", "step ", "stp", "iges", "exe", "py", "", "../step"]),
        hostile_text(),
        non_string(),
    ).filter(lambda f: f is not None and not (isinstance(f, str) and f in _FORMATS))
    invalid = {
        "path": bad_path,
        "filename": st.one_of(bad_filename(), non_string(optional=True)),
        "format": bad_format,
        "artifact": _bad_artifact(),
    }
    fields = ["artifact", "path", "format", "filename"]
    no_suffix = st.sampled_from(
        ["/srv/parts/part", "/srv/parts/part.txt", "/srv/parts/part.step.", "/etc/passwd"]
    )
    both = st.builds(
        lambda p, a: {**p, **a},
        part_source(suffixes),
        part_source(suffixes).filter(lambda s: "artifact" in s),
    )
    return st.one_of(
        one_mutation(base, invalid, [], fields),
        base.map(lambda s: {k: v for k, v in s.items() if k in ("filename", "format")} or {"format": "step"}),
        both.filter(lambda s: "path" in s),
        no_suffix.map(lambda p: {"path": p}),
        non_object(base, none=none),
    )


def _script_source() -> st.SearchStrategy[dict[str, JSON]]:
    return part_source((".py",))


def _bad_script_source() -> st.SearchStrategy[JSON]:
    """Invalid as a script: an invalid source, or a valid STEP/STL one (never None: no script is valid)."""
    return st.one_of(bad_part_source((".py",), none=False), part_source())


# --------------------------------------------------------------------------------------------
# The four workflow input models
# --------------------------------------------------------------------------------------------


def _family() -> st.SearchStrategy[str]:
    return st.sampled_from(FAMILIES).flatmap(lambda f: st.sampled_from([f, f.upper(), f" {f} "]))


def generate_benchmark_requests() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.GenerateBenchmarkRequest` values (built-in family and seed)."""
    return st.fixed_dictionaries(
        {"family": _family(), "seed": valid_value(Seed)},
        optional={
            "n_scenes": valid_value(SceneCount),
            "check_interval_steps": valid_value(CheckInterval),
            "dataset_id": valid_identifier(),
            "generator_version": valid_value(GeneratorVersion),
        },
    )


def malformed_generate_benchmark_request() -> st.SearchStrategy[JSON]:
    base = generate_benchmark_requests()
    invalid = {
        # None: neither family nor a (valid) script is left
        "family": st.one_of(bad_identifier(), non_string()),
        "script": st.one_of(_bad_script_source(), non_string(optional=True)),
        "seed": bad_value(Seed),
        "n_scenes": bad_value(SceneCount, optional=True),
        "check_interval_steps": bad_value(CheckInterval, optional=True),
        "dataset_id": st.one_of(bad_identifier(), non_string(optional=True)),
        "generator_version": bad_value(GeneratorVersion, optional=True),
    }
    return _with_non_object(base, mutated(base, invalid, ["family"], GenerateBenchmarkRequest.model_fields))


def dataset_requests() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "families": st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=4, unique=True),
            "count": st.integers(1, 10),
        },
        optional={
            # the last seeds (base_seed + (count - 1) // len(families)) may not pass the largest seed
            "base_seed": valid_value(Seed).map(lambda s: min(s, MAX_SEED - 9)),
            "dataset_id": valid_identifier(),
            "max_parallel": valid_value(Parallelism),
            "chunk_size": valid_value(ChunkSize),
            "n_scenes": valid_value(SceneCount),
            "check_interval_steps": valid_value(CheckInterval),
        },
    )


def _cursor() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "dataset_id": valid_identifier(),
            "generator_version": valid_value(GeneratorVersion),
            "chain": st.text(alphabet=_HEX, min_size=12, max_size=12),
        },
        optional={"next_index": st.integers(0, 1000), "published": st.integers(0, 1000)},
    )


def _bad_cursor() -> st.SearchStrategy[JSON]:
    bad_chain = st.one_of(
        hostile_text(),
        st.text(alphabet=_HEX, max_size=11),
        st.text(alphabet=_HEX, min_size=13, max_size=20),
        st.just("0123456789AB"),
        st.just("0123456789ab\n"),
        non_string(),
    )
    invalid = {
        "dataset_id": st.one_of(bad_identifier(), non_string()),
        "generator_version": bad_value(GeneratorVersion),
        "chain": bad_chain,
        "next_index": bad_value(DatasetCursor, "next_index"),
        "published": bad_value(DatasetCursor, "published"),
    }
    fields = [
        "dataset_id",
        "generator_version",
        "chain",
        "next_index",
        "part_count",
        "published",
        "rejected",
        "failed",
    ]
    return one_mutation(
        _cursor(), invalid, ["dataset_id", "generator_version", "chain"], fields
    ) | non_string(optional=True)


def _bad_families() -> st.SearchStrategy[JSON]:
    def insert(fams: list[str], bad: str, at: int) -> list[str]:
        return [*fams[:at], bad, *fams[at:]]

    good = st.lists(st.sampled_from(FAMILIES), max_size=3, unique=True)
    return st.one_of(
        st.just([]),
        st.builds(insert, good, bad_identifier(), st.integers(0, 3)),
        st.builds(insert, good, non_string(), st.integers(0, 3)),
        st.sampled_from(FAMILIES).map(lambda f: [f, f.upper()]),
        st.sampled_from(FAMILIES).map(lambda f: [f, f" {f}"]),
        st.sampled_from(FAMILIES),  # a string, not a list
        non_string().filter(
            lambda v: not isinstance(v, list) or any(not isinstance(x, str) for x in v) or not v
        ),
    )


def malformed_dataset_request() -> st.SearchStrategy[JSON]:
    base = dataset_requests()
    invalid = {
        "families": _bad_families(),
        # over every seed even with the most families (the seeds' bound is checked with them, below)
        "count": st.one_of(
            bad_value(DatasetRequest, "count"), st.integers(min_value=(MAX_SEED + 1) * MAX_FAMILIES + 1)
        ),
        "base_seed": bad_value(Seed),
        "dataset_id": st.one_of(bad_identifier(), non_string(optional=True)),
        "max_parallel": bad_value(Parallelism),
        "chunk_size": bad_value(ChunkSize),
        "n_scenes": bad_value(SceneCount, optional=True),
        "check_interval_steps": bad_value(CheckInterval, optional=True),
        "resume": _bad_cursor(),
    }
    return _with_non_object(
        base,
        st.one_of(
            mutated(base, invalid, ["families", "count"], DatasetRequest.model_fields),
            _seeds_past_the_end(base),
        ),
    )


def _seeds_past_the_end(base: st.SearchStrategy[dict[str, JSON]]) -> st.SearchStrategy[dict[str, JSON]]:
    """A valid request whose last benchmark's seed (``base_seed + (count - 1) // len(families)``) passes the
    largest seed: each field is valid, their combination is not."""

    def past(req: dict[str, JSON], left: int, extra: int) -> dict[str, JSON]:
        n = len(req["families"])
        return {**req, "base_seed": MAX_SEED - left, "count": (left + 1) * n + 1 + extra}

    return st.builds(past, base, st.integers(0, 10**6), st.integers(0, 10**6))


def _price_table() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "name": st.text(alphabet=_SAFE_CHARS, min_size=1, max_size=20),
            "materials": st.dictionaries(
                st.sampled_from(MATERIAL_SPELLINGS).filter(lambda m: m == normalise_token(m)),
                st.fixed_dictionaries({"price_usd_per_kg": st.floats(0.01, 1000)}),
                max_size=2,
            ),
            "processes": st.dictionaries(
                st.sampled_from(METHODS),
                st.fixed_dictionaries(
                    {}, optional={"machine_rate_usd_per_h": st.floats(1, 500), "margin": st.floats(0, 0.9)}
                ),
                max_size=2,
            ),
        },
    )


def _bad_price_table() -> st.SearchStrategy[JSON]:
    bad_material = bad_token(MATERIALS, normalise_token).filter(lambda k: isinstance(k, str))
    bad_method = bad_token(METHODS, normalise_method).filter(lambda k: isinstance(k, str))
    bad_price = st.fixed_dictionaries({"price_usd_per_kg": bad_value(MaterialPrice, "price_usd_per_kg")})
    bad_rates = st.one_of(
        st.fixed_dictionaries(
            {"machine_rate_usd_per_h": bad_value(ProcessRates, "machine_rate_usd_per_h", optional=True)}
        ),
        st.fixed_dictionaries({"margin": bad_value(ProcessRates, "margin", optional=True)}),
        st.fixed_dictionaries({"setup_usd": bad_value(ProcessRates, "setup_usd", optional=True)}),
        st.fixed_dictionaries({"rate": st.floats()}),  # unknown field
    )
    invalid = {
        "name": st.one_of(st.just(""), st.text(min_size=101, max_size=200), non_string()),
        "materials": st.one_of(
            st.dictionaries(
                bad_material,
                st.fixed_dictionaries({"price_usd_per_kg": st.just(1.0)}),
                min_size=1,
                max_size=2,
            ),
            st.dictionaries(st.sampled_from(MATERIALS), bad_price, min_size=1, max_size=2),
            non_string().filter(lambda v: not isinstance(v, dict) and v is not None),
        ),
        "processes": st.one_of(
            st.dictionaries(bad_method, st.just({}), min_size=1, max_size=2),
            st.dictionaries(st.sampled_from(METHODS), bad_rates, min_size=1, max_size=2),
        ),
    }
    return one_mutation(_price_table(), invalid, [], ["name", "materials", "processes"])


def analyze_requests() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "part": part_source((".step", ".stp", ".stl", ".py")),
            "method": st.sampled_from(METHOD_SPELLINGS),
            "material": st.sampled_from(MATERIAL_SPELLINGS),
            "quantity": valid_value(Quantity),
        },
        optional={
            "ladder": st.lists(valid_value(Quantity), max_size=MAX_LADDER_RUNGS),
            "price_table": _price_table(),
            "alternatives": st.booleans(),
        },
    )


def malformed_analyze_request() -> st.SearchStrategy[JSON]:
    base = analyze_requests()
    q = valid_value(Quantity)
    invalid = {
        "part": bad_part_source((".step", ".stp", ".stl", ".py")),
        "method": bad_token(METHODS, normalise_method),
        "material": bad_token(MATERIALS, normalise_token),
        "quantity": bad_value(Quantity),
        "ladder": st.one_of(
            st.builds(
                lambda a, b, x: [*a, x, *b],
                st.lists(q, max_size=5),
                st.lists(q, max_size=5),
                bad_value(Quantity),
            ),
            st.lists(q, min_size=MAX_LADDER_RUNGS + 1, max_size=40),
            st.text(max_size=20),
            st.dictionaries(st.text(max_size=5), q, max_size=3),
        ),
        "price_table": st.one_of(
            _bad_price_table(), non_string(optional=True).filter(lambda v: not isinstance(v, dict))
        ),
        "alternatives": bad_bool(),
    }
    required = ["part", "method", "material", "quantity"]
    return _with_non_object(base, mutated(base, invalid, required, AnalyzeRequest.model_fields))


def _vec(element: st.SearchStrategy[JSON]) -> st.SearchStrategy[list[JSON]]:
    return st.lists(element, min_size=3, max_size=3)


def _bad_vec(tp: Any) -> st.SearchStrategy[JSON]:
    """A 3-vector of ``tp`` that is not one: one bad component, the wrong length, not a list."""
    good = valid_value(tp)

    def put(v: list[JSON], bad: JSON, at: int) -> list[JSON]:
        return [*v[:at], bad, *v[at + 1 :]]

    return st.one_of(
        st.builds(put, _vec(good), bad_value(tp, optional=True), st.integers(0, 2)),
        st.lists(good, max_size=2),
        st.lists(good, min_size=4, max_size=5),
        hostile_text(),
        st.booleans(),
        st.integers(),
    )


def placements() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.Placement` values, within the contract's bounds."""
    return st.fixed_dictionaries(
        {},
        optional={
            "position_mm": _vec(valid_value(MillimetreLength)),
            "rotation_deg": _vec(valid_value(Degrees)),
        },
    )


def _bad_placement() -> st.SearchStrategy[JSON]:
    invalid = {"position_mm": _bad_vec(MillimetreLength), "rotation_deg": _bad_vec(Degrees)}
    return one_mutation(placements(), invalid, [], list(Placement.model_fields)) | non_object(
        placements(), none=False
    )


def joints() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.JointSpec` values (the model's view: design validation judges the rest)."""
    return st.fixed_dictionaries(
        {"type": st.sampled_from(["hinge", "slide", "HINGE"]), "axis": _vec(valid_value(MillimetreLength))},
        optional={
            "anchor_mm": _vec(valid_value(MillimetreLength)),
            "range": st.lists(valid_value(JointCoordinate), min_size=2, max_size=2),
            "damping": valid_value(JointSpec, "damping"),
        },
    )


def _bad_joint() -> st.SearchStrategy[JSON]:
    invalid = {
        "type": bad_token(["hinge", "slide"], normalise_token),
        "axis": _bad_vec(MillimetreLength),
        "anchor_mm": _bad_vec(MillimetreLength),
        "range": st.one_of(
            st.builds(lambda a, b: [a, b], valid_value(JointCoordinate), bad_value(JointCoordinate)),
            st.lists(valid_value(JointCoordinate), min_size=3, max_size=3),
        ),
        "damping": bad_value(JointSpec, "damping"),
    }
    return one_mutation(joints(), invalid, ["type", "axis"], list(JointSpec.model_fields))


_MOTOR_NUMBERS: dict[str, Any] = {
    "velocity": JointSpeed,
    "amplitude": JointCoordinate,
    "offset": JointCoordinate,
    "frequency_hz": Frequency,
    "phase_deg": Degrees,
    "effort": Effort,
    "period_s": Seconds,
    "stall_s": Seconds,
}


def motors() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.MotorSpec` values (the model's view: design validation judges the rest)."""
    return st.fixed_dictionaries(
        {"mode": st.sampled_from([m.value for m in MotorMode]), "max_effort": valid_value(Effort)},
        optional={name: valid_value(tp) for name, tp in _MOTOR_NUMBERS.items()},
    )


def _bad_motor() -> st.SearchStrategy[JSON]:
    invalid: dict[str, st.SearchStrategy[JSON]] = {
        "mode": bad_token([m.value for m in MotorMode], normalise_token),
        "max_effort": bad_value(Effort),
        **{name: bad_value(tp, optional=True) for name, tp in _MOTOR_NUMBERS.items()},
    }
    return one_mutation(motors(), invalid, ["mode", "max_effort"], list(MotorSpec.model_fields))


def design_part_metadata() -> st.SearchStrategy[dict[str, JSON]]:
    """Valid :class:`~shared.models.DesignPartMeta` values: what a design file or script says about a part."""
    return st.fixed_dictionaries(
        {
            "label": valid_identifier(),
            "material": st.sampled_from(MATERIAL_SPELLINGS),
            "method": st.sampled_from(METHOD_SPELLINGS),
        },
        optional={"fixed": st.booleans(), "placement": placements(), "joint": joints(), "motor": motors()},
    )


def malformed_design_part_metadata() -> st.SearchStrategy[JSON]:
    """Part metadata design validation must report (``part.invalid_metadata`` and friends): a 1e308 mm
    placement, ``"fixed": "no"``, an effort as a string, an unknown field..."""
    base = design_part_metadata()
    invalid = {
        "label": st.one_of(bad_identifier(), non_string()),
        "material": bad_token(MATERIALS, normalise_token),
        "method": bad_token(METHODS, normalise_method),
        "fixed": bad_bool(),
        "placement": st.one_of(_bad_placement(), st.sampled_from([{"position_mm": [1e308, 0, 0]}])),
        "joint": _bad_joint(),
        "motor": _bad_motor(),
    }
    required = ["label", "material", "method"]
    return mutated(base, invalid, required, DesignPartMeta.model_fields) | non_object(base)


def _metadata() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {
            "label": valid_identifier(),
            "material": st.sampled_from(MATERIALS),
            "method": st.sampled_from(METHODS),
        },
        optional={"fixed": st.booleans(), "placement": placements()},
    )


def _design_part() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries({"source": part_source(), "metadata": _metadata()})


def designs() -> st.SearchStrategy[dict[str, JSON]]:
    return st.one_of(
        st.lists(_design_part(), min_size=1, max_size=3).map(lambda parts: {"parts": parts}),
        _script_source().map(lambda s: {"script": s}),
    )


def _bad_design_part() -> st.SearchStrategy[JSON]:
    invalid = {
        "source": st.one_of(bad_part_source(), _script_source()),
        "metadata": st.one_of(non_string(), st.text(max_size=20)).filter(lambda v: not isinstance(v, dict)),
    }
    return one_mutation(_design_part(), invalid, ["source", "metadata"], ["source", "metadata"]) | non_object(
        _design_part()
    )


def _bad_design() -> st.SearchStrategy[JSON]:
    def insert(parts: list[JSON], bad: JSON, at: int) -> list[JSON]:
        return [*parts[:at], bad, *parts[at:]]

    parts = st.lists(_design_part(), max_size=2)
    return st.one_of(
        st.builds(
            lambda p, s: {"parts": p, "script": s},
            st.lists(_design_part(), min_size=0, max_size=2),
            _script_source(),
        ),
        st.sampled_from([{}, {"parts": None, "script": None}, {"parts": None}]),
        st.builds(insert, parts, _bad_design_part(), st.integers(0, 2)).map(lambda p: {"parts": p}),
        _design_part().map(lambda p: {"parts": [p] * (MAX_DESIGN_PARTS + 1)}),
        _bad_script_source().map(lambda s: {"script": s}),
        st.builds(
            lambda d, k, v: {**d, k: v},
            designs(),
            _extra_key(["parts", "script"]),
            garbage(4),
        ),
        st.one_of(st.text(max_size=20), st.integers(), _design_part()).map(lambda p: {"parts": p}),
        non_object(designs()),
    )


def evaluate_requests() -> st.SearchStrategy[dict[str, JSON]]:
    return st.fixed_dictionaries(
        {"benchmark_id": valid_identifier().map(lambda s: s[:MAX_BENCHMARK_ID_CHARS]), "design": designs()},
        optional={"n_scenes": valid_value(SceneCount), "evidence": st.booleans()},
    )


def malformed_evaluate_request() -> st.SearchStrategy[JSON]:
    base = evaluate_requests()
    invalid = {
        "benchmark_id": st.one_of(
            bad_identifier(),
            non_string(),
            # an identifier, but with no room for its evaluations' ids
            valid_identifier().filter(lambda s: len(s) > MAX_BENCHMARK_ID_CHARS),
        ),
        "design": _bad_design(),
        "n_scenes": bad_value(SceneCount, optional=True),
        "evidence": bad_bool(),
    }
    return _with_non_object(
        base, mutated(base, invalid, ["benchmark_id", "design"], EvaluateRequest.model_fields)
    )


@dataclass(frozen=True)
class Target:
    name: str
    """The workflow's name (``shared.temporal.WF_*``)."""
    model: type[BaseModel]
    malformed: Callable[[], st.SearchStrategy[JSON]]
    valid: Callable[[], st.SearchStrategy[JSON]]


TARGETS: tuple[Target, ...] = (
    Target(
        "GenerateBenchmark",
        GenerateBenchmarkRequest,
        malformed_generate_benchmark_request,
        generate_benchmark_requests,
    ),
    Target("GenerateDataset", DatasetRequest, malformed_dataset_request, dataset_requests),
    Target("AnalyzeManufacturing", AnalyzeRequest, malformed_analyze_request, analyze_requests),
    Target("EvaluateDesign", EvaluateRequest, malformed_evaluate_request, evaluate_requests),
)
"""The four workflow input models (workflow name == ``shared.temporal.WF_*``, checked by the tests)."""


def target(name_or_model: str | type[BaseModel]) -> Target:
    for t in TARGETS:
        if name_or_model in (t.name, t.model, getattr(t.model, "__name__", None)):
            return t
    raise KeyError(name_or_model)


def malformed(name_or_model: str | type[BaseModel]) -> st.SearchStrategy[JSON]:
    """Malformed inputs for a workflow (by name) or input model."""
    return target(name_or_model).malformed()


# --------------------------------------------------------------------------------------------
# Valid-shaped but hostile inputs: pass the model, must fail in the workflow, typed, at once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    label: str
    args: tuple[JSON, ...]
    """The workflow's arguments: one for a request; none or two for a wrong argument count."""
    hostile: bool = False


NO_ROOT = "/nonexistent-mechbench-part-root"


def _escaping_artifact(key: str, suffix_format: str) -> dict[str, JSON]:
    return {"artifact": {"key": key, "sha256": "0" * 64, "size_bytes": 10}, "format": suffix_format}


def hostile_inputs(part_root: str | None = None, sdk_limits: bool = False) -> dict[str, list[Case]]:
    """Per workflow: requests the model accepts that the workflow must refuse with a typed, non-retryable
    error before any heavy work: paths outside ``part_root`` (the worker's ``MECHBENCH_PART_ROOTS``),
    object keys that escape the store, unknown families or benchmarks, counts over the limit, continue-as-new
    state from outside, and a workflow started with no input or with two.

    ``sdk_limits`` adds two inputs of which one is nested too deep to decode: the Python SDK decodes the
    arguments of a workflow started with more arguments than it takes before any workflow or interceptor
    code runs, so that one fails the workflow task (a retry loop) whatever the application does."""
    root = (part_root or NO_ROOT).rstrip("/")
    escape_keys = [
        "../../../../etc/passwd",
        "/etc/passwd",
        "uploads/../../x",
        "uploads/a\x00b",
        "uploads/\u202egpj",
        "uploads/" + "a" * 600,
    ]
    missing = "uploads/" + "0" * 64

    def arity(example: JSON) -> list[Case]:
        cases = [Case("no input", (), True), Case("two inputs", (example, example), True)]
        if sdk_limits:
            cases.append(Case("two inputs, one undecodable", (example, _nest(230, "list", 0)), True))
        return cases

    gb: list[Case] = [
        Case("unknown family", ({"family": "no-such-family", "seed": 1},)),
        Case("other generator version", ({"family": "chute", "seed": 0, "generator_version": 999},)),
        Case(
            "largest generator version",
            ({"family": "gap", "seed": MAX_SEED, "generator_version": MAX_GENERATOR_VERSION},),
        ),
        Case("script /etc/passwd", ({"script": {"path": "/etc/passwd", "format": "script"}},)),
        Case(
            "script traversal", ({"script": {"path": f"{root}/../../../../etc/passwd", "format": "script"}},)
        ),
        Case("script relative path", ({"script": {"path": "bench.py"}},)),
        Case("script long name", ({"script": {"path": f"{root}/{'a' * 300}.py"}},)),
        Case("script odd unicode", ({"script": {"path": f"{root}/\u202egpj.py", "filename": "e\u0301.py"}},)),
        Case("script missing object", ({"script": _escaping_artifact(missing + ".py", "script")},)),
        Case(
            "script over the size limit",
            ({"script": {"artifact": {"key": missing + ".py", "sha256": "0" * 64, "size_bytes": 10**12}}},),
        ),
        *[
            Case(f"script key {k[:24]!r}", ({"script": _escaping_artifact(k, "script")},))
            for k in escape_keys
        ],
    ]
    ds: list[Case] = [
        Case("unknown family", ({"families": ["no-such-family"], "count": 1},)),
        Case("count over the limit", ({"families": ["chute"], "count": 10**9},)),
        Case("every seed of two families", ({"families": ["gap", "lift"], "count": 2 * (MAX_SEED + 1)},)),
        Case(
            "resume from outside",
            (
                {
                    "families": ["gap"],
                    "count": 1,
                    "resume": {"dataset_id": "sneaky", "generator_version": 1, "chain": "0123456789ab"},
                },
            ),
        ),
    ]
    analysis = {"method": "cnc", "material": "aluminum_6061", "quantity": 1}
    an: list[Case] = [
        Case("path /etc/passwd", ({**analysis, "part": {"path": "/etc/passwd", "format": "step"}},)),
        Case(
            "path traversal",
            ({**analysis, "part": {"path": f"{root}/../../../../etc/passwd", "format": "step"}},),
        ),
        Case("path /proc", ({**analysis, "part": {"path": "/proc/self/environ", "format": "stl"}},)),
        Case("path /dev/zero", ({**analysis, "part": {"path": "/dev/zero", "format": "stl"}},)),
        Case("relative path", ({**analysis, "part": {"path": "part.step"}},)),
        Case("the root itself", ({**analysis, "part": {"path": root, "format": "step"}},)),
        Case("missing file", ({**analysis, "part": {"path": f"{root}/missing.step"}},)),
        Case("long name", ({**analysis, "part": {"path": f"{root}/{'a' * 300}.step"}},)),
        Case("1024-character path", ({**analysis, "part": {"path": "/" + "a/" * 508 + "xx.step"}},)),
        Case("odd unicode path", ({**analysis, "part": {"path": f"{root}/\u202egpj.step"}},)),
        Case("fullwidth solidus", ({**analysis, "part": {"path": "/\uff0fetc\uff0fpasswd.step"}},)),
        Case(
            "method not for the material",
            ({**analysis, "method": "im", "part": {"path": "/etc/passwd", "format": "step"}},),
        ),
        Case("missing object", ({**analysis, "part": _escaping_artifact(missing + ".step", "step")},)),
        Case(
            "object over the size limit",
            (
                {
                    **analysis,
                    "part": {"artifact": {"key": missing + ".stl", "sha256": "0" * 64, "size_bytes": 10**30}},
                },
            ),
        ),
        *[
            Case(f"key {k[:24]!r}", ({**analysis, "part": _escaping_artifact(k, "step")},))
            for k in escape_keys
        ],
    ]
    meta = {"label": "p", "material": "abs", "method": "fdm"}
    design = {"parts": [{"source": {"path": "/etc/passwd", "format": "step"}, "metadata": meta}]}
    ev: list[Case] = [
        Case("unknown benchmark", ({"benchmark_id": "no-such-benchmark-s0-v1", "design": design},)),
        Case("longest id", ({"benchmark_id": "a" * MAX_BENCHMARK_ID_CHARS, "design": design},)),
        Case(
            "unknown benchmark, escaping keys",
            (
                {
                    "benchmark_id": "chute-s0-v9",
                    "design": {
                        "parts": [
                            {"source": _escaping_artifact(k, "step"), "metadata": meta} for k in escape_keys
                        ]
                    },
                },
            ),
        ),
        Case(
            "unknown benchmark, script",
            (
                {
                    "benchmark_id": "chute-s0-v9",
                    "design": {"script": {"path": "/etc/passwd", "format": "script"}},
                },
            ),
        ),
        Case(
            "unknown benchmark, many parts",
            ({"benchmark_id": "gap-s1-v9", "design": {"parts": [design["parts"][0]] * MAX_DESIGN_PARTS}},),
        ),
        Case(
            "unknown benchmark, deep metadata",
            (
                {
                    "benchmark_id": "gap-s1-v9",
                    "design": {
                        "parts": [
                            {
                                "source": {"path": "/etc/passwd", "format": "stl"},
                                "metadata": _nest(150, "dict", "x"),
                            }
                        ]
                    },
                },
            ),
        ),
        Case(
            "unknown benchmark, wide metadata",
            (
                {
                    "benchmark_id": "gap-s1-v9",
                    "design": {
                        "parts": [
                            {
                                "source": {"path": "/etc/passwd", "format": "stl"},
                                "metadata": {f"k{i}": "v" * 50 for i in range(2000)},
                            }
                        ]
                    },
                },
            ),
        ),
    ]
    out = {
        "GenerateBenchmark": gb + arity({"family": "no-such-family"}),
        "GenerateDataset": ds + arity({"families": ["no-such-family"], "count": 1}),
        "AnalyzeManufacturing": an + arity({**analysis, "part": {"path": "/etc/passwd", "format": "step"}}),
        "EvaluateDesign": ev + arity({"benchmark_id": "no-such-benchmark", "design": design}),
    }
    return {name: [Case(c.label, c.args, True) for c in cases] for name, cases in out.items()}


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
            key = _short(value, 10**7)
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


def _short(value: JSON, limit: int = 300) -> str:
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
            check.other_errors.append(f"{type(e).__name__}: {_short(value)}")
            continue
        finally:
            check.slowest_s = max(check.slowest_s, time.perf_counter() - t0)
        if rejected:
            check.rejected += 1
        elif len(check.accepted) < 5:
            check.accepted.append(_short(value))
    return check


# --------------------------------------------------------------------------------------------
# Through the workflows
# --------------------------------------------------------------------------------------------


@dataclass
class TypeReport:
    """One workflow's results: the fuzzed values and the hostile cases."""

    workflow: str
    model: str
    generated: int = 0
    rejected_by_model: int = 0
    """Fuzzed values the model rejected (all of them, or the strategy is wrong or the model too lax)."""
    rejected_at_client: int = 0
    """Could not be sent: the client's converter or the server refused them (no workflow started)."""
    sent: int = 0
    """Fuzzed values started as workflows (hostile cases are counted apart)."""
    failed_typed: int = 0
    hostile_sent: int = 0
    hostile_failed_typed: int = 0
    bad: int = 0
    """Anything else: accepted by the model, completed, an untyped or retryable error, a workflow task that
    failed (a retry loop), an activity retrying, or no outcome within the timeout."""
    workflow_task_failures: int = 0
    """WorkflowTaskFailed events in the histories of the workflows sent."""
    slowest_s: float = 0.0
    """Longest time from start to outcome."""
    outcomes: Counter[str] = field(default_factory=Counter)
    bad_examples: list[str] = field(default_factory=list)

    def add_bad(self, what: str, example: str) -> None:
        self.bad += 1
        self.outcomes[what] += 1
        if len(self.bad_examples) < 3:
            self.bad_examples.append(f"{what}: {example}"[:400])


@dataclass
class FuzzReport:
    seed: int
    per_type: int
    concurrency: int
    types: list[TypeReport] = field(default_factory=list)
    draw_s: float = 0.0
    """Seconds spent drawing and checking values against the models."""
    elapsed_s: float = 0.0
    """Seconds spent sending them and waiting for the outcomes."""

    @property
    def bad(self) -> int:
        return sum(t.bad for t in self.types)

    @property
    def sent(self) -> int:
        return sum(t.sent + t.hostile_sent for t in self.types)

    @property
    def workflow_task_failures(self) -> int:
        return sum(t.workflow_task_failures for t in self.types)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "workflow": t.workflow,
                "generated": t.generated,
                "rejected_by_model": t.rejected_by_model,
                "rejected_at_client": t.rejected_at_client,
                "sent": t.sent,
                "failed_typed": t.failed_typed,
                "hostile": f"{t.hostile_failed_typed}/{t.hostile_sent}",
                "wft_failed": t.workflow_task_failures,
                "bad": t.bad,
                "slowest_s": round(t.slowest_s, 2),
            }
            for t in self.types
        ]

    def format(self) -> str:
        rows = self.rows()
        head = list(rows[0]) if rows else []
        widths = {h: max(len(h), *(len(str(r[h])) for r in rows)) for h in head}
        lines = ["  ".join(h.ljust(widths[h]) for h in head)]
        lines += ["  ".join(str(r[h]).ljust(widths[h]) for h in head) for r in rows]
        lines.append(
            f"seed {self.seed}, {self.per_type} per type, concurrency {self.concurrency}: drawn and checked in "
            f"{self.draw_s:.1f} s, {self.sent} workflows in {self.elapsed_s:.1f} s"
            + (f" ({self.sent / self.elapsed_s:.0f}/s)" if self.elapsed_s else "")
        )
        for t in self.types:
            lines += [f"  {t.workflow} bad: {ex}" for ex in t.bad_examples]
        return "\n".join(lines)


def _innermost_application_error(error: BaseException) -> Any:
    from temporalio.exceptions import ApplicationError

    found = None
    inner: BaseException | None = error
    while inner is not None:
        if isinstance(inner, ApplicationError):
            found = inner
        inner = getattr(inner, "cause", None)
    return found


async def _retrying(handle: WorkflowHandle[Any, Any]) -> str | None:
    """Why the workflow is stuck retrying (a workflow task or an activity past its first attempt), if so."""
    raw = (await handle.describe()).raw_description
    if raw.pending_workflow_task.attempt > 1:
        return f"workflow task retrying (attempt {raw.pending_workflow_task.attempt})"
    for a in raw.pending_activities:
        if a.attempt > 1:
            info = a.last_failure.application_failure_info
            return (
                f"activity {a.activity_type.name} retrying (attempt {a.attempt}, "
                f"{info.type or 'error'}: {a.last_failure.message[:120]})"
            )
    return None


async def _history_hint(handle: WorkflowHandle[Any, Any]) -> str:
    """What the history of a silent workflow suggests (a local activity retrying keeps completing workflow
    tasks without scheduling anything)."""
    from temporalio.api.enums.v1 import EventType

    try:
        events = (await handle.fetch_history()).events
    except Exception:  # noqa: BLE001 - a hint only
        return ""
    kinds = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_").lower() for e in events)
    return f" (history: {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"


async def _workflow_task_failures(handle: WorkflowHandle[Any, Any]) -> int:
    from temporalio.api.enums.v1 import EventType

    history = await handle.fetch_history()
    return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in history.events)


async def _outcome(handle: WorkflowHandle[Any, Any], timeout_s: float, poll_s: float) -> tuple[bool, str]:
    """``(ok, what)``: ok when the workflow failed with a known error type, non-retryable."""
    from temporalio.client import WorkflowFailureError

    result = asyncio.ensure_future(handle.result())
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            done, _ = await asyncio.wait(
                {result}, timeout=max(0.05, min(poll_s, deadline - time.monotonic()))
            )
            if done:
                break
            stuck = await _retrying(handle)
            if stuck is not None:
                return False, stuck
            if time.monotonic() >= deadline:
                return False, f"no outcome within {timeout_s:.0f} s{await _history_hint(handle)}"
    finally:
        if not result.done():
            result.cancel()
    try:
        value = result.result()
    except WorkflowFailureError as e:
        app = _innermost_application_error(e)
        if app is None:
            return False, f"failed untyped: {type(e.cause).__name__}: {str(e.cause)[:200]}"
        if app.type in KNOWN_ERROR_TYPES and app.non_retryable:
            return True, app.type
        return False, f"failed with {app.type} (non_retryable={app.non_retryable}): {app.message[:200]}"
    except Exception as e:  # noqa: BLE001 - e.g. the result could not be decoded
        return False, f"{type(e).__name__}: {str(e)[:200]}"
    return False, f"completed: {_short(value, 200)}"


async def _send(
    client: Client,
    workflow: str,
    case: Case,
    task_queue: str,
    report: TypeReport,
    timeout_s: float,
    poll_s: float,
) -> None:
    wid = f"fuzz-{workflow.lower()}-{uuid.uuid4().hex}"
    t0 = time.monotonic()
    try:
        handle = await client.start_workflow(
            workflow,
            args=list(case.args),
            id=wid,
            task_queue=task_queue,
            # a safety net: nothing the fuzzer starts outlives it for long
            execution_timeout=timedelta(seconds=max(120.0, 4 * timeout_s)),
        )
    except Exception as e:  # noqa: BLE001 - the client or the server refused it: no workflow exists
        if case.hostile:
            report.add_bad("hostile input not sent", f"{case.label}: {type(e).__name__}: {str(e)[:150]}")
        else:
            report.rejected_at_client += 1
            report.outcomes[f"client: {type(e).__name__}"] += 1
        return
    if case.hostile:
        report.hostile_sent += 1
    else:
        report.sent += 1
    ok, what = await _outcome(handle, timeout_s, poll_s)
    report.slowest_s = max(report.slowest_s, time.monotonic() - t0)
    try:
        wft = await _workflow_task_failures(handle)
    except Exception:  # noqa: BLE001 - history unavailable: count nothing, the outcome still stands
        wft = 0
    report.workflow_task_failures += wft
    if ok and wft:
        ok, what = False, f"{what} after {wft} failed workflow task(s)"
    label = case.label if case.hostile else _short(case.args[0] if case.args else None)
    if ok:
        report.outcomes[what] += 1
        if case.hostile:
            report.hostile_failed_typed += 1
        else:
            report.failed_typed += 1
        return
    report.add_bad(what, f"{wid}: {label}")
    with contextlib.suppress(Exception):  # stop a retry loop or any work it started (unless closed)
        await handle.terminate(reason=f"fuzz: {what}"[:200])


async def fuzz_workflows(
    client: Client,
    task_queue: str,
    per_type: int,
    seed: int,
    concurrency: int = 32,
    *,
    timeout_s: float = 30.0,
    poll_s: float = 3.0,
    part_root: str | None = None,
    hostile: bool = True,
    sdk_limits: bool = False,
    workflows: Sequence[str] | None = None,
) -> FuzzReport:
    """Draw ``per_type`` malformed inputs per workflow input type (deterministically from ``seed``), check
    each is rejected by its model, then send it raw to its workflow on ``task_queue`` (bypassing the model)
    with at most ``concurrency`` in flight, plus the :func:`hostile_inputs` (``part_root``: the worker's part
    root, if known; ``sdk_limits``: see :func:`hostile_inputs`). Each must fail with a typed, non-retryable
    error; anything else is ``bad`` and the workflow is terminated. A workflow retrying a task or an activity
    is caught at the first poll (every ``poll_s``); a silent one (say, a local activity retrying inside its
    workflow task) after ``timeout_s``. ``workflows`` limits the run to some workflow names."""
    report = FuzzReport(seed=seed, per_type=per_type, concurrency=concurrency)
    t0 = time.monotonic()
    plan: list[tuple[TypeReport, str, Case]] = []
    hostile_cases = hostile_inputs(part_root, sdk_limits) if hostile else {}
    for i, t in enumerate(TARGETS):
        if workflows is not None and t.name not in workflows:
            continue
        tr = TypeReport(workflow=t.name, model=t.model.__name__)
        report.types.append(tr)
        values = draw(t.malformed(), per_type, seed + i)
        tr.generated = len(values)
        for value in values:
            _, _, problem = on_the_wire(value)
            try:
                rejected = model_rejects(t.model, value)
            except Exception as e:  # noqa: BLE001
                tr.add_bad(f"model raised {type(e).__name__}", _short(value))
                continue
            if not rejected:
                tr.add_bad("accepted by the model", _short(value))  # never sent: it could start real work
                continue
            tr.rejected_by_model += 1
            if problem is not None and problem.startswith("client"):
                tr.rejected_at_client += 1
                tr.outcomes[problem.split(":")[0] + ": unsendable"] += 1
                continue
            plan.append((tr, t.name, Case("fuzz", (value,))))
        plan += [(tr, t.name, c) for c in hostile_cases.get(t.name, [])]
    report.draw_s = time.monotonic() - t0

    sem = asyncio.Semaphore(concurrency)

    async def one(tr: TypeReport, workflow: str, case: Case) -> None:
        async with sem:
            await _send(client, workflow, case, task_queue, tr, timeout_s, poll_s)

    t1 = time.monotonic()
    await asyncio.gather(*(one(*p) for p in plan))
    report.elapsed_s = time.monotonic() - t1
    return report
