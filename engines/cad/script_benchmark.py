"""A benchmark written as a script: its bundle (see :mod:`engines.cad.bundle`) turned into the
:class:`~engines.cad.families.base.FamilyDesign` a procedural family would produce.

A *benchmark script* defines ``build()`` returning a dict::

    {
        "fixtures": [{"shape": ..., "label": "floor", "material": "aluminum_6061", "fixed": True}, ...],
        "reference_solution": [{"shape": ..., "label": "ramp", "material": "aluminum_6061",
                                "method": "cnc_milling", "placement": {...}}, ...],
        "payload": {"radius_mm": 12, "material": "steel_carbon", "start_mm": [0, 0, 150], ...},
        "goal_zone": {"min_mm": [...], "max_mm": [...]},
        "build_zone": {...}, "simulation_bounds": {...},
        "forbidden_zones": [{"name": "pit", "min_mm": [...], "max_mm": [...]}],
        "simulation": {"duration_s": 3.0, ...},   # optional: SimulationSettings() by default
        "description": "...",                      # optional
        "params": {"radius_mm": 12.0},             # optional: {} by default
        "extra_payloads": [{"label": "small", ..., "goal_zone": {...}}],  # optional: up to 3 more payloads
        "max_motors": 0,                           # optional: the motors a design may have (default: any)
    }

Shapes are in world millimetres. Fixture metadata: ``label``, ``material``, ``fixed`` (default true),
``joint``, ``motor`` (no manufacturing method: fixtures are not made). Reference parts carry the same
metadata as a design's parts (:class:`~shared.models.DesignPartMeta`), their ``placement`` applied here.
The sandbox's ``benchmark`` exporter packs the result into a bundle; :func:`benchmark_design` validates
it with the contracts and reads the STEP parts back. Everything wrong is an :class:`InvalidBenchmarkScript`
whose message names the part or the field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from build123d import Shape
from pydantic import ValidationError

from engines.cad.bundle import BenchmarkBundle, BundlePart, read_benchmark_bundle
from engines.cad.export import load_step
from engines.cad.families.base import CadPart, FamilyDesign
from engines.cad.placement import place
from shared.models import (
    MAX_DESIGN_PARTS,
    MAX_PAYLOADS,
    DesignPartMeta,
    Identifier,
    JointSpec,
    Material,
    Model,
    MotorSpec,
    NamedZone,
    PartRole,
    Payload,
    SimulationSettings,
    Zone,
    parse_json_value,
)

REQUIRED_KEYS = ("payload", "goal_zone", "build_zone", "simulation_bounds")
OPTIONAL_KEYS = ("forbidden_zones", "simulation", "description", "params", "extra_payloads", "max_motors")
MAX_DESCRIPTION_CHARS = 4000


class InvalidBenchmarkScript(ValueError):
    """A benchmark script's result cannot make a benchmark; the message names the part or the field."""


class FixtureMeta(Model):
    """What a benchmark script says about one of its fixtures."""

    label: Identifier
    material: Material
    fixed: bool = True
    joint: JointSpec | None = None
    motor: MotorSpec | None = None


def _errors(e: ValidationError) -> str:
    """pydantic's errors as ``field: message; ...`` (without its documentation links)."""
    parts = []
    for err in e.errors(include_url=False):
        loc = ".".join(str(x) for x in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def _validated(model: type[Model], value: Any, where: str) -> Any:
    try:
        return parse_json_value(model, value)  # the bundle's JSON, as strict as a workflow's input
    except ValidationError as e:
        raise InvalidBenchmarkScript(f"{where}: {_errors(e)}") from e


def _part_name(kind: str, index: int, metadata: dict[str, Any]) -> str:
    label = metadata.get("label")
    return f"{kind} {index} ({label[:64]!r})" if isinstance(label, str) else f"{kind} {index}"


def _shape(part: BundlePart, where: str) -> Shape:
    try:
        return load_step(part.step)
    except Exception as e:  # a STEP reader failing on untrusted bytes, in any way
        raise InvalidBenchmarkScript(f"{where}: its STEP data cannot be read: {type(e).__name__}: {e}") from e


def _params(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise InvalidBenchmarkScript(f"params: must be a dict of name -> number, not {type(value).__name__}")
    params: dict[str, float] = {}
    for key, v in value.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InvalidBenchmarkScript(f"params.{key}: must be a finite number, not {v!r}")
        params[key] = float(v)
    return params


def design_parts(
    parts: Sequence[BundlePart], role: PartRole = PartRole.REFERENCE, kind: str = "reference part"
) -> list[CadPart]:
    """Parts whose metadata is :class:`~shared.models.DesignPartMeta` (a benchmark's reference solution,
    or a design bundle's parts) as placed :class:`CadPart` objects of ``role``; messages call them ``kind``.
    Raises :class:`InvalidBenchmarkScript` at the first bad part."""
    result: list[CadPart] = []
    for i, part in enumerate(parts):
        where = _part_name(kind, i, part.metadata)
        meta: DesignPartMeta = _validated(DesignPartMeta, part.metadata, where)
        shape = _shape(part, where)
        try:
            shape = place(shape, meta.placement)
        except Exception as e:  # e.g. a rotation OCCT cannot apply
            raise InvalidBenchmarkScript(f"{where}: placement failed: {type(e).__name__}: {e}") from e
        result.append(
            CadPart(
                label=meta.label,
                role=role,
                material=meta.material,
                method=meta.method,
                shape=shape,
                fixed=meta.fixed,
                joint=meta.joint,
                motor=meta.motor,
            )
        )
    return result


def benchmark_design(bundle: BenchmarkBundle) -> FamilyDesign:
    """The benchmark a script described, as a :class:`FamilyDesign` (shapes read back from STEP,
    reference parts placed). Raises :class:`InvalidBenchmarkScript` naming the offending part or field."""
    spec = bundle.benchmark
    unknown = sorted(set(spec) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise InvalidBenchmarkScript(
            f"unknown benchmark keys {unknown}; known: fixtures, reference_solution, "
            f"{', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in spec]
    if missing:
        raise InvalidBenchmarkScript(f"missing benchmark keys {missing}")

    payload = _validated(Payload, spec["payload"], "payload")
    extras = spec.get("extra_payloads", [])
    if not isinstance(extras, list):
        raise InvalidBenchmarkScript(f"extra_payloads: must be a list, not {type(extras).__name__}")
    if len(extras) > MAX_PAYLOADS - 1:
        raise InvalidBenchmarkScript(
            f"extra_payloads: at most {MAX_PAYLOADS - 1} ({MAX_PAYLOADS} payloads in all), got {len(extras)}"
        )
    extra_payloads = [_validated(Payload, x, f"extra_payloads.{i}") for i, x in enumerate(extras)]
    max_motors = spec.get("max_motors")
    if max_motors is not None and (
        isinstance(max_motors, bool)
        or not isinstance(max_motors, int)
        or not 0 <= max_motors <= MAX_DESIGN_PARTS
    ):
        raise InvalidBenchmarkScript(f"max_motors: an integer from 0 to {MAX_DESIGN_PARTS}, or absent")
    goal_zone = _validated(Zone, spec["goal_zone"], "goal_zone")
    build_zone = _validated(Zone, spec["build_zone"], "build_zone")
    bounds = _validated(Zone, spec["simulation_bounds"], "simulation_bounds")
    zones = spec.get("forbidden_zones", [])
    if not isinstance(zones, list):
        raise InvalidBenchmarkScript(f"forbidden_zones: must be a list, not {type(zones).__name__}")
    forbidden = [_validated(NamedZone, z, f"forbidden_zones.{i}") for i, z in enumerate(zones)]
    names = [z.name for z in forbidden]
    if len(set(names)) != len(names):
        raise InvalidBenchmarkScript(f"forbidden_zones: names must be unique, got {names}")
    simulation = _validated(SimulationSettings, spec.get("simulation", {}), "simulation")
    description = spec.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidBenchmarkScript(
            f"description: must be a string of at most {MAX_DESCRIPTION_CHARS} chars"
        )
    params = _params(spec.get("params", {}))

    fixtures: list[CadPart] = []
    for i, part in enumerate(bundle.fixtures):
        where = _part_name("fixture", i, part.metadata)
        meta: FixtureMeta = _validated(FixtureMeta, part.metadata, where)
        fixtures.append(
            CadPart(
                label=meta.label,
                role=PartRole.FIXTURE,
                material=meta.material,
                method=None,
                shape=_shape(part, where),
                fixed=meta.fixed,
                joint=meta.joint,
                motor=meta.motor,
            )
        )
    reference = design_parts(bundle.reference_solution)

    labels = [p.label for p in fixtures + reference] + [p.label for p in [payload, *extra_payloads]]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise InvalidBenchmarkScript(
            f"part labels must be unique (payload included); duplicated: {duplicated}"
        )

    return FamilyDesign(
        params=params,
        description=description,
        fixtures=fixtures,
        reference=reference,
        payload=payload,
        goal_zone=goal_zone,
        forbidden_zones=forbidden,
        build_zone=build_zone,
        simulation_bounds=bounds,
        simulation=simulation,
        extra_payloads=extra_payloads,
        max_motors=max_motors,
    )


def benchmark_design_from_bytes(data: bytes) -> FamilyDesign:
    """:func:`benchmark_design` of the ``benchmark`` exporter's bytes; a malformed bundle (which only a
    script tampering with its own process can produce) is an :class:`InvalidBenchmarkScript` too."""
    try:
        bundle = read_benchmark_bundle(data)
    except ValueError as e:
        raise InvalidBenchmarkScript(f"the script's result is not a valid benchmark bundle: {e}") from e
    return benchmark_design(bundle)
