"""The exporters: trusted code that runs inside the script sandbox and turns what a script's ``build()``
returned into bytes. The parent chooses one by name (:data:`EXPORTERS`); :mod:`runtime.sandbox_child` runs
it after confinement, in the same interpreter as the script, so its output is untrusted input to the parent.

- ``part_step``: a build123d Part/Solid/Compound (or a list of them) as deterministic STEP bytes;
- ``design``: labelled parts with JSON metadata, as a ``design`` bundle (:mod:`engines.cad.bundle`);
- ``benchmark``: fixtures, a reference solution and JSON objectives, as a ``benchmark`` bundle.

Standard library only at import: build123d, OCP and the bundle writer are imported by each exporter's
*warm* function (after confinement) and inside the converters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any


class InvalidResult(Exception):
    """Raised by an exporter for a value it cannot turn into bytes."""


def _warm_part_step() -> None:
    import engines.cad.export  # noqa: F401 - build123d, OCP, the STEP writer


def _warm_bundle() -> None:
    import engines.cad.bundle  # the bundle writer (standard library only)
    import engines.cad.export  # noqa: F401 - build123d, OCP, the STEP writer


def _checked_shape(item: object, where: str) -> Any:
    """``item`` (a build123d Shape or a ``BuildPart`` builder) as a Shape holding only valid solids with
    volume; :class:`InvalidResult` naming ``where`` otherwise."""
    from build123d import BuildPart, Shape

    if isinstance(item, BuildPart):
        item = item.part
    if not isinstance(item, Shape):
        raise InvalidResult(f"{where} is a {type(item).__name__}, not a build123d Part/Solid/Compound")
    if item.wrapped is None:
        raise InvalidResult(f"{where} is an empty shape")
    found = item.solids()
    if not found:
        raise InvalidResult(f"{where} ({type(item).__name__}) contains no solid")
    for solid in found:
        if not solid.is_valid:
            raise InvalidResult(f"{where} contains an invalid solid")
        if not solid.volume > 0:
            raise InvalidResult(f"{where} contains a solid without volume")
    return item


def part_step(value: object) -> bytes:
    """A build123d Part/Solid/Compound (or a ``BuildPart`` builder, or a non-empty list/tuple of them) as
    deterministic STEP bytes: every solid, in order, under one Compound labelled ``part``."""
    from build123d import Compound

    from engines.cad.export import step_bytes

    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise InvalidResult("build() returned an empty list")
    solids = []
    for i, item in enumerate(items):
        where = f"item {i} of the returned list" if isinstance(value, list | tuple) else "build()'s result"
        solids.extend(_checked_shape(item, where).solids())
    return step_bytes(Compound(solids), label="part")


# --- design and benchmark bundles (format: engines.cad.bundle) ---------------------------------------

JSON_MAX_DEPTH = 32
JSON_MAX_INT = 2**63
_STEP_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A part's label names its STEP root only when it is this tame; otherwise the root is ``part``."""


class _TooLarge(Exception):
    pass


def _json(value: object, where: str, budget: list[int], depth: int = 0) -> Any:
    """``value`` as plain JSON types (dict with str keys, list, str, int, float, bool, None; a tuple becomes
    a list, subclasses such as str enums or numpy floats their base type). :class:`InvalidResult` naming
    ``where`` for anything else, a non-finite float, nesting deeper than :data:`JSON_MAX_DEPTH` or more
    than ``budget[0]`` bytes (a lower bound of the JSON size, counted as it goes, so a huge value is
    refused early)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if depth > JSON_MAX_DEPTH:
        raise InvalidResult(f"{where}: nested more than {JSON_MAX_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -JSON_MAX_INT <= value <= JSON_MAX_INT:
            raise InvalidResult(f"{where}: integer out of range (at most 2**63 in magnitude)")
        return int.__int__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidResult(f"{where} is {value!r}, not a finite number")
        return float.__float__(value)
    if isinstance(value, str):
        budget[0] -= len(value) + 1
        if budget[0] < 0:
            raise _TooLarge
        return str.__str__(value)
    if isinstance(value, list | tuple):
        return [_json(v, f"{where}[{i}]", budget, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise InvalidResult(
                    f"{where} has a key {key!r} of type {type(key).__name__}; keys must be str"
                )
            budget[0] -= len(key) + 3
            result[str.__str__(key)] = _json(v, f"{where}[{key!r}]", budget, depth + 1)
        return result
    raise InvalidResult(
        f"{where} is a {type(value).__name__}, not a JSON value (dict, list, str, int, float, bool or None)"
    )


def _json_limited(value: object, where: str, limit: int) -> Any:
    from engines.cad.bundle import canonical_json

    try:
        plain = _json(value, where, [limit])
    except _TooLarge:
        raise InvalidResult(f"{where}: more than {limit // 1024} KiB of JSON") from None
    size = len(canonical_json(plain))
    if size > limit:
        raise InvalidResult(f"{where}: {size} bytes of JSON, more than {limit // 1024} KiB")
    return plain


def _bundle_parts(value: object, name: str, directory: str) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Manifest entries and STEP members of the parts in ``value`` (a list or tuple of dicts, each with a
    ``shape`` and JSON metadata). ``name`` is how messages call the list (``item``, ``fixtures``)."""
    from engines.cad.bundle import MAX_METADATA_BYTES, MAX_PARTS, step_member
    from engines.cad.export import step_bytes

    what = "build()'s result" if name == "item" else f"build()[{name!r}]"
    if not isinstance(value, list | tuple):
        raise InvalidResult(
            f"{what} is a {type(value).__name__}, not a list of parts (dicts with a 'shape' and metadata)"
        )
    if not value:
        raise InvalidResult(f"{what} is an empty list; give at least one part")
    if len(value) > MAX_PARTS:
        raise InvalidResult(f"{what} has {len(value)} parts; at most {MAX_PARTS} are allowed")
    checked = []
    for i, item in enumerate(value):
        where = f"{name} {i}" if name == "item" else f"{name}[{i}]"
        if not isinstance(item, dict):
            raise InvalidResult(f"{where} is a {type(item).__name__}, not a dict with a 'shape' and metadata")
        label = item.get("label")
        if isinstance(label, str):
            where += f" (label {label[:64]!r})"
        for key in item:
            if not isinstance(key, str):
                raise InvalidResult(
                    f"{where} has a key {key!r} of type {type(key).__name__}; keys must be str"
                )
        if "shape" not in item:
            raise InvalidResult(f"{where} has no 'shape' (the part's build123d Part/Solid/Compound)")
        metadata = {k: v for k, v in item.items() if k != "shape"}
        metadata = _json_limited(metadata, f"{where}: metadata", MAX_METADATA_BYTES)
        checked.append((where, item["shape"], metadata))
    entries, members = [], {}
    for i, (where, shape, metadata) in enumerate(checked):
        shape = _checked_shape(shape, f"{where}: 'shape'")
        label = metadata.get("label")
        step_label = label if isinstance(label, str) and _STEP_LABEL.fullmatch(label) else "part"
        member = step_member(directory, i)
        members[member] = step_bytes(shape, step_label)
        entries.append({"metadata": metadata, "step": member})
    return entries, members


def design(value: object) -> bytes:
    """A design script's parts as a ``design`` bundle (see :mod:`engines.cad.bundle`): ``build()``
    returns a non-empty list (or tuple) of at most 32 dicts, each with a ``shape`` and JSON metadata
    (``label``, ``material``, ``method``, ``placement``, ``fixed``, ``joint``, ``motor``; other keys are
    kept too: what they mean is checked by the caller)."""
    from engines.cad.bundle import DESIGN_KIND, PART_DIRS, write_bundle

    entries, members = _bundle_parts(value, "item", PART_DIRS["parts"])
    return write_bundle({"kind": DESIGN_KIND, "parts": entries}, members)


BENCHMARK_PART_LISTS = ("fixtures", "reference_solution")


def benchmark(value: object) -> bytes:
    """A benchmark script's result as a ``benchmark`` bundle: ``build()`` returns a dict with ``fixtures``
    and ``reference_solution`` (non-empty lists of part dicts, as for :func:`design`) and JSON-able keys
    (``payload``, ``goal_zone``, ``build_zone``, ``simulation_bounds``, ``forbidden_zones``,
    ``simulation``, ``description``, ``params``; checked by the caller)."""
    from engines.cad.bundle import BENCHMARK_KIND, MAX_BENCHMARK_JSON_BYTES, PART_DIRS, write_bundle

    if not isinstance(value, dict):
        raise InvalidResult(
            f"build()'s result is a {type(value).__name__}, not a dict with 'fixtures', "
            "'reference_solution', 'payload' and the zones"
        )
    for key in value:
        if not isinstance(key, str):
            raise InvalidResult(
                f"build()'s dict has a key {key!r} of type {type(key).__name__}; keys must be str"
            )
    for key in BENCHMARK_PART_LISTS:
        if key not in value:
            raise InvalidResult(f"build()'s dict has no {key!r} (a non-empty list of parts)")
    rest = {k: v for k, v in value.items() if k not in BENCHMARK_PART_LISTS}
    rest = _json_limited(rest, "build()'s dict", MAX_BENCHMARK_JSON_BYTES)
    manifest: dict[str, Any] = {"kind": BENCHMARK_KIND, "benchmark": rest}
    members: dict[str, bytes] = {}
    for key in BENCHMARK_PART_LISTS:
        entries, files = _bundle_parts(value[key], key, PART_DIRS[key])
        manifest[key] = entries
        members.update(files)
    return write_bundle(manifest, members)


EXPORTERS: dict[str, tuple[Callable[[], None], Callable[[object], bytes]]] = {
    "part_step": (_warm_part_step, part_step),
    "design": (_warm_bundle, design),
    "benchmark": (_warm_bundle, benchmark),
}
"""Exporter name -> (import what it needs, convert). Only names listed here can be chosen."""
