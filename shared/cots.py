"""The catalogue of bought (COTS) parts: motors, fasteners, bearings and springs, and what a design buys.

The rows live in ``shared/data/cots.toml``, each with its sources; this module loads and validates them at
import (a malformed row stops the process with the row named, as ``shared.materials`` does) and answers
two questions from one place:

- :func:`motor` and friends: a row by id, or None;
- :func:`bought_lines`: the bought parts a set of parts needs (each motor's item, the fasteners of every
  fixed joint, the bearings of every hinge that names one), priced and weighed. The evaluation's price,
  the reference's caps and the random designs' quotes all add these lines, so caps and designs are priced
  the same way.

Light imports only (stdlib ``tomllib`` and pydantic), like ``shared.materials``.
"""

from __future__ import annotations

import hashlib
import math
import os
import tomllib
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.models import BoughtLine, JointSpec, JointType, MotorMode, MotorSpec

COTS_TOML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "cots.toml")


class MotorKind(StrEnum):
    ROTARY = "rotary"
    """Drives a hinge: ``max_effort`` in N*m, ``max_speed`` in deg/s."""
    LINEAR = "linear"
    """Drives a slide: ``max_effort`` in N, ``max_speed`` in mm/s."""


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    mass_kg: float = Field(gt=0)
    price_usd: float = Field(gt=0)
    source: str = Field(min_length=10)
    price_source: str = Field(min_length=10)


class CatalogueMotor(_Row):
    kind: MotorKind
    max_effort: float = Field(gt=0)
    max_speed: float = Field(gt=0)
    stroke_mm: float | None = Field(default=None, gt=0)
    """A linear motor's travel (mm): a slide it drives must have a range within it. Rotary motors have none."""
    envelope_mm: tuple[float, float, float]

    @model_validator(mode="after")
    def _stroke_for_linear_only(self) -> CatalogueMotor:
        if (self.kind is MotorKind.LINEAR) != (self.stroke_mm is not None):
            raise ValueError("stroke_mm: a linear motor needs one, a rotary motor has none")
        return self

    def joint(self) -> JointType:
        return JointType.HINGE if self.kind is MotorKind.ROTARY else JointType.SLIDE

    @property
    def units(self) -> tuple[str, str]:
        return ("N*m", "deg/s") if self.kind is MotorKind.ROTARY else ("N", "mm/s")


class CatalogueItem(_Row):
    """A fastener or a bearing."""


class CatalogueSpring(_Row):
    rate_n_per_mm: float = Field(gt=0)
    max_extension_mm: float = Field(gt=0)


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    motors: dict[str, CatalogueMotor]
    fasteners: dict[str, CatalogueItem]
    bearings: dict[str, CatalogueItem]
    springs: dict[str, CatalogueSpring] = Field(default_factory=dict)


def _load(path: str) -> tuple[Catalogue, str]:
    with open(path, "rb") as f:
        data = f.read()
    raw: dict[str, Any] = tomllib.loads(data.decode())
    try:
        return Catalogue.model_validate(raw), hashlib.sha256(data).hexdigest()
    except ValidationError as e:
        raise RuntimeError(f"{path}: invalid catalogue row: {e}") from None


CATALOGUE, CATALOGUE_SHA256 = _load(COTS_TOML)
"""The catalogue, and the sha256 of its file (part of what an evaluation's verdict rests on)."""
BEARINGS_PER_HINGE = 2


def motor(item: str | None) -> CatalogueMotor | None:
    return CATALOGUE.motors.get(item) if item else None


def fastener(item: str) -> CatalogueItem | None:
    return CATALOGUE.fasteners.get(item)


def bearing(item: str | None) -> CatalogueItem | None:
    return CATALOGUE.bearings.get(item) if item else None


def motor_items(kind: MotorKind | None = None) -> list[str]:
    """Motor ids, in catalogue order (of one kind, when given)."""
    return [k for k, m in CATALOGUE.motors.items() if kind is None or m.kind is kind]


def linear_for(travel_mm: float, effort_n: float, speed_mm_s: float) -> str:
    """The linear motor with the shortest stroke that covers ``travel_mm`` and gives ``effort_n`` at
    ``speed_mm_s`` (the cheapest such, on a tie); ``ValueError`` when none does."""
    fits = [
        (m.stroke_mm or 0.0, m.price_usd, k)
        for k, m in CATALOGUE.motors.items()
        if m.kind is MotorKind.LINEAR
        and (m.stroke_mm or 0.0) >= travel_mm
        and m.max_effort >= effort_n
        and m.max_speed >= speed_mm_s
    ]
    if not fits:
        raise ValueError(
            f"no linear motor travels {travel_mm:g} mm with {effort_n:g} N at {speed_mm_s:g} mm/s"
        )
    return min(fits)[2]


def peak_speed(spec: MotorSpec) -> float:
    """The fastest the motor is asked to move its joint, deg/s or mm/s: the constant velocity, or a
    sinusoid's ``2 pi f A``; an on/off motor sets a torque, not a speed (0)."""
    if spec.mode is MotorMode.CONSTANT_VELOCITY:
        return abs(spec.velocity)
    if spec.mode is MotorMode.SINUSOIDAL:
        return abs(2 * math.pi * spec.frequency_hz * spec.amplitude)
    return 0.0


class _Jointed(Protocol):
    label: str

    @property
    def joint(self) -> JointSpec | None: ...

    @property
    def motor(self) -> MotorSpec | None: ...


def bought_lines(parts: Iterable[_Jointed]) -> list[BoughtLine]:
    """The bought parts ``parts`` need, one line per catalogue row, in first-use order. Unknown items are
    skipped: validation refuses them first (``motor.unknown_item``, ``joint.unknown_item``)."""
    lines: dict[str, dict[str, Any]] = {}

    def add(kind: str, item: str, row: _Row, count: int, label: str) -> None:
        line = lines.setdefault(
            item, {"item": item, "kind": kind, "name": row.name, "count": 0, "row": row, "used_by": []}
        )
        line["count"] += count
        if label not in line["used_by"]:
            line["used_by"].append(label)

    for part in parts:
        if part.motor is not None and (m := motor(part.motor.item)) is not None:
            add("motor", part.motor.item or "", m, 1, part.label)
        j = part.joint
        if j is None:
            continue
        if j.type is JointType.FIXED and (f := fastener(j.fastener)) is not None:
            add("fastener", j.fastener, f, j.fasteners, part.label)
        if j.type is JointType.HINGE and (b := bearing(j.bearing)) is not None:
            add("bearing", j.bearing or "", b, BEARINGS_PER_HINGE, part.label)
    out = []
    for line in lines.values():
        row: _Row = line.pop("row")
        n = line["count"]
        out.append(
            BoughtLine(
                **line,
                unit_price_usd=row.price_usd,
                mass_kg=round(row.mass_kg * n, 6),
                cost_usd=round(row.price_usd * n, 4),
            )
        )
    return out


def bought_totals(parts: Iterable[_Jointed]) -> tuple[float, float, list[BoughtLine]]:
    """Cost (USD) and mass (kg) of the bought parts ``parts`` need, and their lines."""
    lines = bought_lines(parts)
    return sum(x.cost_usd for x in lines), sum(x.mass_kg for x in lines), lines


def describe(lines: Iterable[BoughtLine]) -> list[str]:
    """One short text per line, for a cost basis: ``2 x screw_m4x12_iso4762 $0.32``."""
    return [f"{x.count} x {x.item} ${x.cost_usd:.2f}" for x in lines]
