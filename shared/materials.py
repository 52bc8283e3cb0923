"""Material table: physics properties, raw-material prices and per-method manufacturing parameters.

The numbers live in ``shared/data/materials.toml`` (one row per :class:`~shared.models.MaterialId`, each price
and parameter group with its source), not in code, so that a reviewer can check every value against its
source and a user can see what a quote rests on. This module only loads and validates that table.

Why the loader is strict: the physics engine (density, friction), the affordability proof and the
manufacturing engine all read this table, so a missing or malformed row must stop the process at import,
with the file and the row named, rather than surface later as a ``KeyError`` inside a workflow.

Light imports only (stdlib ``tomllib`` and pydantic): this module may be imported inside the Temporal
workflow sandbox. The file is read with the builtin ``open`` at import time (the sandbox restricts
``pathlib.Path.open`` at any time, but ``open`` only at workflow run time).
"""

from __future__ import annotations

import math
import os
import tomllib
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.models import ManufacturingMethod, MaterialId

MATERIALS_TOML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "materials.toml")
"""The material table shipped with the package (inside ``shared/``, so the wheel carries it)."""


class MaterialClass(StrEnum):
    METAL = "metal"
    THERMOPLASTIC = "thermoplastic"
    WOOD = "wood"
    ELASTOMER = "elastomer"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CncMaterialParams(_Row):
    """How fast a 3-axis mill removes and finishes this material (AnkusDrive MRR classes) and its DFM floor."""

    mrr_cm3_per_min: float = Field(gt=0)
    """Roughing material-removal rate."""
    finish_cm2_per_min: float = Field(gt=0)
    """Finishing area rate over machined surfaces."""
    min_wall_mm: float = Field(gt=0)
    source: str = Field(min_length=1)


class MoldingMaterialParams(_Row):
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
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> MoldingMaterialParams:
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


class FdmMaterialParams(_Row):
    """Filament data: the hotend's volumetric flow limit bounds print speed."""

    max_flow_mm3_per_s: float = Field(gt=0)
    min_wall_mm: float = Field(gt=0)
    source: str = Field(min_length=1)


class MaterialProps(BaseModel):
    """One row of the material table. Frozen: shared by every caller, never mutated (copy to override)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    density_kg_m3: float = Field(gt=0)
    friction: float = Field(ge=0)
    """Sliding friction coefficient used in the physics scene."""
    price_usd_per_kg: float = Field(gt=0)
    rgba: tuple[float, float, float, float]
    price_source: str = ""
    properties_source: str = ""
    material_class: MaterialClass = Field(alias="class")
    methods: tuple[ManufacturingMethod, ...] = ()
    cnc_milling: CncMaterialParams | None = None
    injection_molding: MoldingMaterialParams | None = None
    fdm_printing: FdmMaterialParams | None = None

    @model_validator(mode="after")
    def _params_match_methods(self) -> MaterialProps:
        # A method without its parameters could not be priced; parameters without the method would be
        # dead data that silently disagrees with what methods_for() reports.
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods: listed more than once: {[m.value for m in self.methods]}")
        for m in ManufacturingMethod:
            has = getattr(self, m.value) is not None
            if m in self.methods and not has:
                raise ValueError(f"methods lists {m.value!r} but the [{m.value}] parameter table is missing")
            if has and m not in self.methods:
                raise ValueError(f"[{m.value}] parameters are given but {m.value!r} is not in methods")
        return self


def load_materials(path: str = MATERIALS_TOML) -> dict[MaterialId, MaterialProps]:
    """Parse and validate a material table; raise ``ValueError`` naming the file and the offending row."""
    try:
        with open(path, "rb") as f:
            raw: dict[str, Any] = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"material table {path}: cannot read: {e}") from e
    rows = raw.get("materials")
    if not isinstance(rows, dict):
        raise ValueError(f"material table {path}: no [materials.<id>] rows")  # noqa: TRY004 (bad data, not type)
    known = {m.value for m in MaterialId}
    missing = sorted(known - rows.keys())
    extra = sorted(rows.keys() - known)
    if missing or extra:
        raise ValueError(
            f"material table {path} must have exactly one row per MaterialId: "
            f"missing rows {missing}, rows without a MaterialId {extra}"
        )
    out: dict[MaterialId, MaterialProps] = {}
    for mid in MaterialId:
        try:
            out[mid] = MaterialProps.model_validate(rows[mid.value])
        except ValidationError as e:
            raise ValueError(f"material table {path}, row [materials.{mid.value}]: {e}") from e
    return out


MATERIALS: dict[MaterialId, MaterialProps] = load_materials()


def props(material: MaterialId | str) -> MaterialProps:
    return MATERIALS[MaterialId(material)]


def mass_kg(material: MaterialId | str, volume_mm3: float) -> float:
    return props(material).density_kg_m3 * volume_mm3 * 1e-9


def methods_for(material: MaterialId | str) -> tuple[ManufacturingMethod, ...]:
    """The manufacturing methods that take this material, in the table's order."""
    return props(material).methods


def check_method(material: MaterialId | str, method: ManufacturingMethod | str) -> str | None:
    """None when ``method`` takes ``material``; otherwise a message naming the methods that do.

    Callers turn the message into a request error: a quote is never silently moved to another method.
    """
    mat, meth = MaterialId(material), ManufacturingMethod(method)
    takes = methods_for(mat)
    if meth in takes:
        return None
    if not takes:
        return (
            f"{mat.value} cannot be made by {meth.value}: no supported method takes {mat.value} "
            f"(supported methods: {', '.join(m.value for m in ManufacturingMethod)})"
        )
    return (
        f"{mat.value} cannot be made by {meth.value}; {mat.value} is made by: "
        f"{', '.join(m.value for m in takes)}"
    )
