"""The pricing catalogue: process data from ``processes.toml`` plus the material table, with a user's price table
applied over both.

Why data and not constants: every rate in a quote must be traceable to a source, and a shop must be able to
price with its own numbers. The TOML carries a ``source`` string for every number group; a
:class:`~shared.models.PriceTable` replaces values *and* their source strings, so each quote line's basis names
whose number it used (``price table 'acme': ...``) rather than a catalogue citation that no longer applies.

Light imports (stdlib ``tomllib``, pydantic): the catalogue is cheap to load and pure, so the pricing stage can
be re-run for any quantity without touching geometry.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.materials import MATERIALS, MaterialProps
from shared.models import ManufacturingMethod, MaterialId, PriceTable

PROCESSES_TOML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "processes.toml")


class _Data(BaseModel):
    """Catalogue rows: unknown keys are errors (a typo in the TOML must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Source = str


class Rates(_Data):
    """The four numbers a user price table can override, each with its own source."""

    machine_rate_usd_per_h: float = Field(gt=0)
    machine_rate_source: Source
    labour_rate_usd_per_h: float = Field(gt=0)
    labour_rate_source: Source
    setup_usd: float = Field(ge=0)
    """CNC: per setup; moulding: per production batch; FDM: per build plate."""
    setup_source: Source
    margin: float = Field(ge=0, lt=1)
    """Share of the price: price = cost / (1 - margin)."""
    margin_source: Source


class LeadTime(_Data):
    base_days: float = Field(ge=0)
    hours_per_day: float = Field(gt=0, le=24)
    parallel_machines: int = Field(ge=1)
    source: Source


# --------------------------------------------------------------------------------------------- CNC


class CncProgramming(_Data):
    cam_rate_usd_per_h: float = Field(gt=0)
    hours_base: float = Field(ge=0)
    hours_per_face: float = Field(ge=0)
    hours_max: float = Field(gt=0)
    source: Source


class CncTime(_Data):
    utilisation: float = Field(gt=0, le=1)
    load_unload_min_per_setup: float = Field(ge=0)
    source: Source


class CncLimits(_Data):
    stock_allowance_per_side_mm: float = Field(ge=0)
    tool_radius_standard_mm: float = Field(gt=0)
    tool_radius_min_mm: float = Field(gt=0)
    max_depth_to_tool_diameter: float = Field(gt=0)
    travel_x_mm: float = Field(gt=0)
    travel_y_mm: float = Field(gt=0)
    travel_z_mm: float = Field(gt=0)
    max_setups_warn: int = Field(ge=1)
    source: Source


class CncBands(_Data):
    material_pct: float = Field(ge=0)
    machining_pct: float = Field(ge=0)
    handling_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    programming_pct: float = Field(ge=0)
    source: Source


class CncProcess(_Data):
    rates: Rates
    programming: CncProgramming
    time: CncTime
    limits: CncLimits
    lead_time: LeadTime
    bands: CncBands


# --------------------------------------------------------------------------------------------- moulding


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


class MoldingMaterial(_Data):
    runner_fraction: float = Field(ge=0, lt=1)
    scrap_fraction: float = Field(ge=0, lt=1)
    source: Source


class MouldBase(_Data):
    fixed_usd: float = Field(ge=0)
    steel_usd_per_kg: float = Field(ge=0)
    steel_density_kg_m3: float = Field(gt=0)
    plate_margin_mm: float = Field(ge=0)
    cavity_spacing_mm: float = Field(ge=0)
    stack_height_mm: float = Field(ge=0)
    source: Source


class CavityMachining(_Data):
    hours_fixed: float = Field(ge=0)
    hours_area_coeff: float = Field(ge=0)
    hours_area_exponent: float = Field(gt=0)
    complexity_hours_coeff: float = Field(ge=0)
    complexity_exponent: float = Field(gt=0)
    complexity_per_face: float = Field(ge=0)
    complexity_faces_cap: int = Field(ge=1)
    verified: bool
    """False when the coefficients are recalled, not checked against the published source."""
    source: Source


class SideAction(_Data):
    usd_per_side_action: float = Field(ge=0)
    source: Source


class MoldingTooling(_Data):
    cavity_options: tuple[int, ...] = Field(min_length=1)
    mould_shop_rate_usd_per_h: float = Field(gt=0)
    source: Source
    base: MouldBase
    cavity: CavityMachining
    side_action: SideAction

    @model_validator(mode="after")
    def _options(self) -> MoldingTooling:
        if any(n < 1 for n in self.cavity_options) or len(set(self.cavity_options)) != len(
            self.cavity_options
        ):
            raise ValueError("cavity_options must be distinct integers >= 1")
        return self


class MoldingLimits(_Data):
    max_part_x_mm: float = Field(gt=0)
    max_part_y_mm: float = Field(gt=0)
    max_depth_mm: float = Field(gt=0)
    max_thickness_ratio: float = Field(gt=1)
    source: Source


class MoldingLeadTime(LeadTime):
    tooling_base_days: float = Field(ge=0)
    mould_shop_hours_per_day: float = Field(gt=0, le=24)


class MoldingBands(_Data):
    material_pct: float = Field(ge=0)
    machine_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    tooling_pct: float = Field(ge=0)
    source: Source


class MoldingProcess(_Data):
    rates: Rates
    cycle: MoldingCycle
    press: MoldingPress
    material: MoldingMaterial
    tooling: MoldingTooling
    limits: MoldingLimits
    lead_time: MoldingLeadTime
    bands: MoldingBands


# --------------------------------------------------------------------------------------------- FDM


class FdmSlicing(_Data):
    nozzle_mm: float = Field(gt=0)
    line_width_mm: float = Field(gt=0)
    layer_height_mm: float = Field(gt=0)
    perimeters: int = Field(ge=1)
    infill: float = Field(ge=0, le=1)
    support_density: float = Field(ge=0, le=1)
    print_speed_mm_per_s: float = Field(gt=0)
    shell_speed_factor: float = Field(gt=0, le=1)
    overhead: float = Field(ge=1)
    layer_change_s: float = Field(ge=0)
    overhang_limit_deg: float = Field(gt=0, lt=90)
    source: Source


class FdmMaterial(_Data):
    waste_fraction: float = Field(ge=0, lt=1)
    source: Source


class FdmPost(_Data):
    base_min_per_part: float = Field(ge=0)
    support_removal_min_per_cm3: float = Field(ge=0)
    source: Source


class FdmPrep(_Data):
    hours: float = Field(ge=0)
    source: Source


class FdmLimits(_Data):
    build_x_mm: float = Field(gt=0)
    build_y_mm: float = Field(gt=0)
    build_z_mm: float = Field(gt=0)
    part_spacing_mm: float = Field(ge=0)
    source: Source


class FdmBands(_Data):
    material_pct: float = Field(ge=0)
    machine_pct: float = Field(ge=0)
    post_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    prep_pct: float = Field(ge=0)
    source: Source


class FdmProcess(_Data):
    rates: Rates
    slicing: FdmSlicing
    material: FdmMaterial
    post: FdmPost
    prep: FdmPrep
    limits: FdmLimits
    lead_time: LeadTime
    bands: FdmBands


# --------------------------------------------------------------------------------------------- catalogue


class Catalog(_Data):
    """Everything a quote needs besides the part: process data and material rows, user overrides applied."""

    catalog_version: str = Field(min_length=1)
    currency: str = "USD"
    price_table: str | None = None
    """Name of the user price table applied over the defaults, if any."""
    cnc_milling: CncProcess
    injection_molding: MoldingProcess
    fdm_printing: FdmProcess
    materials: dict[MaterialId, MaterialProps] = Field(default_factory=dict)
    """Material rows from :mod:`shared.materials` with the user's prices (and sources) applied."""

    @model_validator(mode="after")
    def _every_material(self) -> Catalog:
        missing = sorted(m.value for m in MaterialId if m not in self.materials)
        if missing:
            raise ValueError(f"catalogue has no material row for {missing}")
        return self

    @property
    def label(self) -> str:
        """What a report prints to say which numbers priced it, e.g. ``mfg-1 + price table 'acme'``."""
        if self.price_table is None:
            return self.catalog_version
        return f"{self.catalog_version} + price table '{self.price_table}'"

    def process(self, method: ManufacturingMethod | str) -> CncProcess | MoldingProcess | FdmProcess:
        return getattr(self, ManufacturingMethod(method).value)

    def material(self, material: MaterialId | str) -> MaterialProps:
        return self.materials[MaterialId(material)]

    def material_prices(self) -> dict[MaterialId, tuple[float, str]]:
        """$/kg and its source per material, after overrides (for reports and the CLI)."""
        return {m: (p.price_usd_per_kg, p.price_source) for m, p in self.materials.items()}


def _read_processes(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"process catalogue {path}: cannot read: {e}") from e


def parse_catalog(raw: dict[str, Any], path: str = PROCESSES_TOML) -> Catalog:
    """Validate a parsed ``processes.toml`` and attach the material table; errors name the file and the key."""
    sections = {m.value for m in ManufacturingMethod}
    missing = sorted(sections - raw.keys())
    if missing:
        raise ValueError(f"process catalogue {path}: no section for {missing}")
    try:
        return Catalog.model_validate({**raw, "materials": dict(MATERIALS)})
    except ValidationError as e:
        raise ValueError(f"process catalogue {path}: {e}") from e


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped catalogue, parsed once per process (it is immutable)."""
    return parse_catalog(_read_processes(PROCESSES_TOML))


def _user_source(table: PriceTable, source: str) -> str:
    return f"price table '{table.name}': {source}"


def apply_price_table(catalog: Catalog, table: PriceTable) -> Catalog:
    """Overlay a user's prices: each value given replaces the catalogue's, and so does its source string."""
    materials = dict(catalog.materials)
    for mid, price in table.materials.items():
        materials[mid] = materials[mid].model_copy(
            update={
                "price_usd_per_kg": price.price_usd_per_kg,
                "price_source": _user_source(table, price.source),
            }
        )
    update: dict[str, Any] = {"materials": materials, "price_table": table.name}
    for method, over in table.processes.items():
        proc = catalog.process(method)
        src = _user_source(table, over.source)
        rates: dict[str, Any] = {}
        for value_key, source_key, value in (
            ("machine_rate_usd_per_h", "machine_rate_source", over.machine_rate_usd_per_h),
            ("labour_rate_usd_per_h", "labour_rate_source", over.labour_rate_usd_per_h),
            ("setup_usd", "setup_source", over.setup_usd),
            ("margin", "margin_source", over.margin),
        ):
            if value is not None:
                rates[value_key] = value
                rates[source_key] = src
        update[method.value] = proc.model_copy(update={"rates": proc.rates.model_copy(update=rates)})
    return catalog.model_copy(update=update)


def load_catalog(price_table: PriceTable | None = None) -> Catalog:
    """The catalogue used to price a part: the shipped data, with ``price_table`` applied over it if given."""
    base = default_catalog()
    return base if price_table is None else apply_price_table(base, price_table)
