"""Injection moulding's catalogue rows: the data file's sections and the resin parameters, with their checks.

The mould envelope and the resin's wall limit are checked here once (:meth:`MoldingLimits.envelope`,
:meth:`MoldingMaterial.wall_over_limit`): the rules raise findings from them and the cost model's caveats
read the same checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from engines.manufacturing.method import LeadTime, MaterialParams, Process, Rates, Source, _Data
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.rules import above

NEWTONS_PER_TONNE_FORCE = 9806.65


class MoldingCycle(_Data):
    inject_s: float = Field(ge=0)
    pack_s: float = Field(ge=0)
    open_close_s: float = Field(ge=0)
    source: Source


class MoldingPress(_Data):
    cavity_pressure_mpa: float = Field(gt=0)
    clamp_safety_factor: float = Field(ge=1)
    max_clamp_tonnes: float = Field(gt=0)
    operator_share: float = Field(ge=0, le=1)
    """Share of one operator's time a running press takes."""
    source: Source

    def clamp_tonnes(self, projected_mm2: float, cavities: int) -> float:
        """Clamp force F = A_proj x cavities x P x safety factor, in tonnes-force."""
        return (
            projected_mm2
            * self.cavity_pressure_mpa
            * cavities
            * self.clamp_safety_factor
            / NEWTONS_PER_TONNE_FORCE
        )


class MoldingAllowances(_Data):
    runner_fraction: float = Field(ge=0, lt=1)
    scrap_fraction: float = Field(ge=0, lt=1)
    source: Source


class CavityMachining(_Data):
    hours_fixed: float = Field(ge=0)
    hours_area_coeff: float = Field(ge=0)
    hours_area_exponent: float = Field(gt=0)
    complexity_hours_coeff: float = Field(ge=0)
    complexity_exponent: float = Field(gt=0)
    complexity_per_face: float = Field(ge=0)
    complexity_faces_cap: int = Field(ge=1)
    cavity_count_exponent: float = Field(gt=0, le=1)
    """n identical cavities cost n^exponent x one cavity (the design, the electrodes and the set-ups are shared)."""
    verified: bool
    """False when the coefficients are recalled, not checked against the published source."""
    source: Source


class MouldClass(_Data):
    """One tooling class: what the mould is made of, how many shots it lasts, and what it costs to build."""

    mould_material: str = Field(min_length=1)
    shot_life: int = Field(ge=1)
    """Shots the mould makes before it must be rebuilt: an order past it pays for more moulds."""
    cavity_options: tuple[int, ...] = Field(min_length=1)
    base_fixed_usd: float = Field(ge=0)
    block_usd_per_kg: float = Field(ge=0)
    block_density_kg_m3: float = Field(gt=0)
    plate_margin_mm: float = Field(ge=0)
    cavity_spacing_mm: float = Field(ge=0)
    stack_height_mm: float = Field(ge=0)
    machining_factor: float = Field(gt=0)
    """Cavity machining hours relative to P20 steel (aluminium cuts faster; bench work does not)."""
    side_action_usd: float = Field(ge=0)
    """Per side-action direction, per cavity (slides in steel, hand-loaded pick-outs in aluminium)."""
    tooling_base_days: float = Field(ge=0)
    published_range_usd: tuple[float, float]
    """Published mould prices for this class (simple to moderately complex parts), to check the model with."""
    range_source: Source
    source: Source

    @model_validator(mode="after")
    def _options(self) -> MouldClass:
        if any(n < 1 for n in self.cavity_options) or len(set(self.cavity_options)) != len(
            self.cavity_options
        ):
            raise ValueError("cavity_options must be distinct integers >= 1")
        if not 0 < self.published_range_usd[0] < self.published_range_usd[1]:
            raise ValueError("published_range_usd must be (low, high) with 0 < low < high")
        return self


class MoldingTooling(_Data):
    mould_shop_rate_usd_per_h: float = Field(gt=0)
    selection: Source
    """How the class is chosen when the request does not name one (the break-even rule)."""
    source: Source
    cavity: CavityMachining
    prototype: MouldClass
    production: MouldClass
    requested_class: Literal["prototype", "production"] | None = None
    """The class the request asks for (``AnalyzeRequest.tooling_class``); None: chosen by quantity."""

    def classes(self) -> dict[str, MouldClass]:
        return {"prototype": self.prototype, "production": self.production}


@dataclass(frozen=True)
class Envelope:
    """Whether the part fits the mould envelope: the IM.PART_SIZE rule and the quote's caveats read this."""

    footprint_over: bool
    depth_over: bool


class MoldingLimits(_Data):
    max_part_x_mm: float = Field(gt=0)
    max_part_y_mm: float = Field(gt=0)
    max_depth_mm: float = Field(gt=0)
    max_thickness_ratio: float = Field(gt=1)
    source: Source

    @property
    def max_footprint_mm(self) -> tuple[float, float]:
        return (self.max_part_x_mm, self.max_part_y_mm)

    def envelope(self, m: PartMetrics) -> Envelope:
        """The footprint fits in either orientation; the height along the pull is within the depth."""
        fx, fy = sorted(m.size_mm[:2], reverse=True)
        return Envelope(
            footprint_over=above(fx, max(self.max_footprint_mm)) or above(fy, min(self.max_footprint_mm)),
            depth_over=above(m.height_mm, self.max_depth_mm),
        )


class MoldingLeadTime(LeadTime):
    mould_shop_hours_per_day: float = Field(gt=0, le=24)


class MoldingBands(_Data):
    material_pct: float = Field(ge=0)
    machine_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    tooling_pct: float = Field(ge=0)
    source: Source


class MoldingProcess(Process):
    rates: Rates
    cycle: MoldingCycle
    press: MoldingPress
    material: MoldingAllowances
    tooling: MoldingTooling
    limits: MoldingLimits
    lead_time: MoldingLeadTime
    bands: MoldingBands


class MoldingMaterial(MaterialParams):
    """Resin data for the one-term cooling-time solution, the fill-reach screen and the DFM rules."""

    alpha_mm2_per_s: float = Field(gt=0)
    """Thermal diffusivity of the resin."""
    melt_temp_c: float
    mold_temp_c: float
    eject_temp_c: float
    wall_min_mm: float = Field(gt=0)
    """Below this the cavity does not fill (limit)."""
    wall_target_min_mm: float = Field(gt=0)
    wall_target_max_mm: float = Field(gt=0)
    wall_max_mm: float = Field(gt=0)
    """Above this sink and voids are expected (limit)."""
    flow_length_ratio: float = Field(gt=0)
    """Longest flow path over wall thickness the melt reaches (spiral-flow limit)."""
    shrinkage_pct: float = Field(ge=0)
    min_draft_deg: float = Field(ge=0)
    target_draft_deg: float = Field(ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> MoldingMaterial:
        # The cooling-time logarithm needs T_melt > T_eject > T_mold; the wall band must be ordered.
        if not self.melt_temp_c > self.eject_temp_c > self.mold_temp_c:
            raise ValueError("temperatures must satisfy melt_temp_c > eject_temp_c > mold_temp_c")
        if 8 * (self.melt_temp_c - self.mold_temp_c) <= math.pi**2 * (self.eject_temp_c - self.mold_temp_c):
            raise ValueError(
                "the one-term cooling solution needs 8 (T_melt - T_mold) > pi^2 (T_eject - T_mold): "
                "the ejection temperature is too close to the melt temperature"
            )
        walls = (self.wall_min_mm, self.wall_target_min_mm, self.wall_target_max_mm, self.wall_max_mm)
        if list(walls) != sorted(walls):
            raise ValueError("walls must satisfy wall_min <= wall_target_min <= wall_target_max <= wall_max")
        if self.target_draft_deg < self.min_draft_deg:
            raise ValueError("target_draft_deg must be >= min_draft_deg")
        return self

    def wall_over_limit(self, wall_mm: float) -> bool:
        """The thickest wall is above the resin's limit (IM.WALL_MAX at its limit; the quote's caveat)."""
        return bool(above(wall_mm, self.wall_max_mm))
