"""What a request asks for beyond method, material and quantity, priced as lines of their own: the ISO 2768-1
general tolerance class and the surface finish.

Both are data (``options.toml``, each number with its source) read into the pricing catalogue, and both work on
a method's :class:`~engines.manufacturing.method.CostModel` after the method priced the part, so no method
module knows them:

- **Tolerance.** ISO 2768-1 covers parts made by metal removal or formed from sheet, so milling, turning and
  sheet metal price it; moulding and printing get a caveat instead (their parts are toleranced otherwise).
  The class's deviation at the part's largest dimension is compared with the tolerance the method's times are
  calibrated at. Tighter costs ``2 ** (grades / doubling_grades) - 1`` times the machine-time lines, where
  ``grades = grades_per_decade * log10(standard / deviation)`` (IT grades are a factor 1.6 apart); looser
  costs the same as the standard (no discount). The line is always on the quote, $0 when nothing is added,
  so a report says which class it assumed.
- **Finish.** Per part: ``per_part_usd + usd_per_ft2 x area``; per order: the finisher's lot minimum less
  what the parts already pay, when positive. Its days are added to the lead time. Which material takes which
  finish is the material table's (:func:`shared.materials.check_finish`, checked at the request boundary).

Light imports (stdlib, pydantic): re-pricing stays cheap.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import replace
from functools import lru_cache
from typing import Any

from pydantic import Field, ValidationError, model_validator

from engines.manufacturing.method import Cost, CostModel, Source, _Data, usd
from engines.manufacturing.metrics import PartMetrics
from shared.models import ManufacturingMethod, SurfaceFinish, ToleranceClass

OPTIONS_TOML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "options.toml")
MM2_PER_FT2 = 304.8**2
"""Square millimetres in a square foot (finishers publish rates per ft2)."""


class ToleranceRules(_Data):
    default_class: ToleranceClass
    default_source: Source
    methods: tuple[ManufacturingMethod, ...]
    scope_source: Source
    size_bounds_mm: tuple[float, ...]
    deviation_source: Source
    f: tuple[float, ...]
    m: tuple[float, ...]
    c: tuple[float, ...]
    v: tuple[float, ...]
    grades_per_decade: float = Field(gt=0)
    grades_source: Source
    doubling_grades: float = Field(gt=0)
    doubling_source: Source
    band_pct: float = Field(ge=0)
    band_source: Source
    standard: dict[str, Any]
    """Per method in ``methods``: the +- mm its times are calibrated at, and ``<method>_source``."""
    scaled_items: dict[ManufacturingMethod, tuple[str, ...]]

    @model_validator(mode="after")
    def _complete(self) -> ToleranceRules:
        n = len(self.size_bounds_mm) - 1
        for cls in ToleranceClass:
            row = getattr(self, cls.value)
            if len(row) != n or any(d <= 0 for d in row):
                raise ValueError(f"tolerance class {cls.value}: needs {n} positive deviations, got {row}")
        for meth in self.methods:
            if not isinstance(self.standard.get(meth.value), (int, float)) or not self.standard.get(
                f"{meth.value}_source"
            ):
                raise ValueError(f"tolerance.standard: {meth.value} needs a deviation and its source")
            if not self.scaled_items.get(meth):
                raise ValueError(f"tolerance.scaled_items: {meth.value} names no quote line")
        return self

    def deviation_mm(self, cls: ToleranceClass, size_mm: float) -> float:
        """The class's +- deviation for a nominal size (clamped into the table's range)."""
        row = getattr(self, ToleranceClass(cls).value)
        for upper, dev in zip(self.size_bounds_mm[1:], row):
            if size_mm <= upper:
                return dev
        return row[-1]


class FinishRow(_Data):
    per_part_usd: float = Field(ge=0)
    usd_per_ft2: float = Field(ge=0)
    lot_minimum_usd: float = Field(ge=0)
    lead_days: float = Field(ge=0)
    band_pct: float = Field(ge=0)
    source: Source = Field(min_length=1)


class OptionRules(_Data):
    tolerance: ToleranceRules
    finishes: dict[SurfaceFinish, FinishRow]

    @model_validator(mode="after")
    def _every_finish(self) -> OptionRules:
        missing = [
            f.value for f in SurfaceFinish if f is not SurfaceFinish.AS_MACHINED and f not in self.finishes
        ]
        if missing:
            raise ValueError(f"finishes: no row for {missing}")
        return self


def parse_options(raw: dict[str, Any], path: str = OPTIONS_TOML) -> OptionRules:
    try:
        return OptionRules.model_validate(raw)
    except ValidationError as e:
        raise ValueError(f"options table {path}: {e}") from e


@lru_cache(maxsize=1)
def default_options() -> OptionRules:
    try:
        with open(OPTIONS_TOML, "rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"options table {OPTIONS_TOML}: cannot read: {e}") from e
    return parse_options(raw)


def _tolerance(
    model: CostModel,
    meth: ManufacturingMethod,
    metrics: PartMetrics,
    rules: ToleranceRules,
    cls: ToleranceClass,
) -> Cost:
    size = max(metrics.size_mm)
    dev = rules.deviation_mm(cls, size)
    standard = float(rules.standard[meth.value])
    grades = max(0.0, rules.grades_per_decade * math.log10(standard / dev))
    factor = 2 ** (grades / rules.doubling_grades)
    items = rules.scaled_items[meth]
    scaled = [c for c in model.costs if c.item in items]
    base = sum(c.cost_usd for c in scaled)
    per = scaled[0].per if scaled else "part"
    rule = (
        f"{grades:.2f} IT grades finer than the +-{standard:g} mm the {meth.value} times assume "
        f"[{rules.standard[meth.value + '_source']}]; x2 per {rules.doubling_grades:g} grades "
        f"[{rules.doubling_source}]; grades = {rules.grades_per_decade:g} x log10(standard / deviation) "
        f"[{rules.grades_source}]: ({factor:.3f} - 1) x {'+'.join(items)} {usd(base)}"
        if grades > 0
        else f"no finer than the +-{standard:g} mm the {meth.value} times assume, so nothing is added "
        f"[{rules.standard[meth.value + '_source']}]; a looser class is not discounted (model assumption)"
    )
    return Cost(
        f"tolerance ISO 2768-{cls.value}",
        (factor - 1) * base,
        per,
        f"+-{dev:g} mm at the part's largest dimension {size:.1f} mm [{rules.deviation_source}]; {rule}",
        rules.band_pct,
    )


def _finish(metrics: PartMetrics, finish: SurfaceFinish, row: FinishRow, quantity: int) -> list[Cost]:
    ft2 = metrics.area_mm2 / MM2_PER_FT2
    each = row.per_part_usd + row.usd_per_ft2 * ft2
    out = [
        Cost(
            f"finish: {finish.value}",
            each,
            "part",
            f"{usd(row.per_part_usd)} + {usd(row.usd_per_ft2)}/ft2 x {ft2:.3f} ft2 [{row.source}]",
            row.band_pct,
        )
    ]
    top_up = row.lot_minimum_usd - quantity * each
    if top_up > 0:
        out.append(
            Cost(
                f"finish lot minimum: {finish.value}",
                top_up,
                "order",
                f"lot minimum {usd(row.lot_minimum_usd)} - {quantity} x {usd(each)} [{row.source}]",
                row.band_pct,
            )
        )
    return out


def apply_options(
    model: CostModel,
    meth: ManufacturingMethod,
    metrics: PartMetrics,
    quantity: int,
    rules: OptionRules,
    tolerance_class: ToleranceClass | str | None = None,
    finish: SurfaceFinish | str | None = None,
) -> tuple[CostModel, ToleranceClass | None, SurfaceFinish]:
    """The method's cost model with the tolerance and finish lines, days and caveats added; the class priced
    (None where ISO 2768 does not apply) and the finish priced."""
    tol = rules.tolerance
    asked = None if tolerance_class is None else ToleranceClass(tolerance_class)
    fin = SurfaceFinish(finish) if finish is not None else SurfaceFinish.AS_MACHINED
    costs, caveats = list(model.costs), list(model.caveats)
    lead, basis = model.lead_time_days, model.lead_time_basis
    priced: ToleranceClass | None = None
    if meth in tol.methods:
        priced = asked or tol.default_class
        costs.append(_tolerance(model, meth, metrics, tol, priced))
    elif asked is not None:
        caveats.append(
            f"tolerance ISO 2768-{asked.value} is not priced for {meth.value}: {tol.scope_source}; "
            "give the critical dimensions individual tolerances and ask for a review"
        )
    if fin is not SurfaceFinish.AS_MACHINED:
        row = rules.finishes[fin]
        costs += _finish(metrics, fin, row, quantity)
        lead += row.lead_days
        basis = f"{basis}; + {row.lead_days:g} d {fin.value} [{row.source}]"
    return (
        replace(model, costs=costs, caveats=caveats, lead_time_days=lead, lead_time_basis=basis),
        priced,
        fin,
    )
