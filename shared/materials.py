"""Material table: physics properties, raw-material prices and per-method manufacturing parameters.

The numbers live in ``shared/data/materials.toml`` (one row per :class:`~shared.models.MaterialId`, each price
and parameter group with its source), not in code, so that a reviewer can check every value against its
source and a user can see what a quote rests on. This module only loads and validates that table; each
method's parameter tables (``[materials.<id>.<method>]``) are validated by that method's module in
``engines/manufacturing/methods`` when the pricing catalogue loads (this module cannot import the engines),
which a worker does before it takes any work.

Why the loader is strict: the physics engine (density, friction), the affordability proof and the
manufacturing engine all read this table, so a missing or malformed row must stop the process at import,
with the file and the row named, rather than surface later as a ``KeyError`` inside a workflow.

Light imports only (stdlib ``tomllib`` and pydantic): this module may be imported inside the Temporal
workflow sandbox. The file is read with the builtin ``open`` at import time (the sandbox restricts
``pathlib.Path.open`` at any time, but ``open`` only at workflow run time).
"""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.models import ManufacturingMethod, MaterialId, SurfaceFinish

MATERIALS_TOML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "materials.toml")
"""The material table shipped with the package (inside ``shared/``, so the wheel carries it)."""


class MaterialClass(StrEnum):
    METAL = "metal"
    THERMOPLASTIC = "thermoplastic"
    WOOD = "wood"
    ELASTOMER = "elastomer"


class MaterialProps(BaseModel):
    """One row of the material table. Frozen: shared by every caller, never mutated (copy to override)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    """What a benchmark's description calls the material ("a 30 mm steel ball")."""
    density_kg_m3: float = Field(gt=0)
    friction: float = Field(ge=0)
    """Sliding friction coefficient used in the physics scene."""
    price_usd_per_kg: float = Field(gt=0)
    rgba: tuple[float, float, float, float]
    price_source: str = ""
    properties_source: str = ""
    material_class: MaterialClass = Field(alias="class")
    youngs_modulus_mpa: float | None = Field(default=None, gt=0)
    """Linear-elastic data for the structural engine (``engines/structure``); all None for a material that
    linear elasticity does not describe (an elastomer), which the engine then refuses by name."""
    poissons_ratio: float | None = Field(default=None, gt=-1, lt=0.5)
    yield_mpa: float | None = Field(default=None, gt=0)
    """Tensile yield strength of a ductile material: its allowable stress when given."""
    ultimate_mpa: float | None = Field(default=None, gt=0)
    """Ultimate tensile strength: the allowable of a brittle or printed material (no ``yield_mpa``)."""
    fdm_z_knockdown: float | None = Field(default=None, gt=0, le=1)
    """FDM printing: the strength across the layers over the strength along them."""
    elastic_source: str = ""
    methods: tuple[ManufacturingMethod, ...] = ()
    finishes: tuple[SurfaceFinish, ...] = ()
    """The surface finishes besides as-machined a part in this material can be given (anodising: aluminium;
    blasting and powder coat: metals), with ``finishes_source`` saying why."""
    finishes_source: str = ""
    method_params: dict[ManufacturingMethod, dict[str, Any]] = Field(default_factory=dict)
    """The ``[materials.<id>.<method>]`` tables, as written: each method's module validates its own
    (``engines/manufacturing/methods``), so adding a method does not change this loader."""

    @model_validator(mode="before")
    @classmethod
    def _collect_method_tables(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = {m.value for m in ManufacturingMethod}
        tables = {k: v for k, v in data.items() if k in names}
        if not tables:
            return data
        rest = {k: v for k, v in data.items() if k not in names}
        return {**rest, "method_params": {**rest.get("method_params", {}), **tables}}

    @model_validator(mode="after")
    def _elastic_complete(self) -> MaterialProps:
        # The structural engine needs both constants and a strength, or none of them (then it refuses).
        elastic = (self.youngs_modulus_mpa, self.poissons_ratio)
        if any(v is not None for v in elastic) and (
            None in elastic or (self.yield_mpa is None and self.ultimate_mpa is None)
        ):
            raise ValueError(
                "elastic data needs youngs_modulus_mpa, poissons_ratio and yield_mpa or ultimate_mpa"
            )
        if self.youngs_modulus_mpa is not None and not self.elastic_source:
            raise ValueError("elastic data without elastic_source")
        if self.finishes and not self.finishes_source:
            raise ValueError("finishes without finishes_source")
        if SurfaceFinish.AS_MACHINED in self.finishes:
            raise ValueError("finishes: as_machined is always allowed; list only the others")
        return self

    @model_validator(mode="after")
    def _params_match_methods(self) -> MaterialProps:
        # A method without its parameters could not be priced; parameters without the method would be
        # dead data that silently disagrees with what methods_for() reports.
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods: listed more than once: {[m.value for m in self.methods]}")
        for m in ManufacturingMethod:
            has = m in self.method_params
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


def check_finish(material: MaterialId | str, finish: SurfaceFinish | str | None) -> str | None:
    """None when a part in ``material`` can be given ``finish`` (always for as-machined or no finish);
    otherwise a message naming the finishes the material does take."""
    if finish is None or SurfaceFinish(finish) is SurfaceFinish.AS_MACHINED:
        return None
    mat, fin = MaterialId(material), SurfaceFinish(finish)
    takes = props(mat).finishes
    if fin in takes:
        return None
    others = ", ".join(f.value for f in (SurfaceFinish.AS_MACHINED, *takes))
    return f"{mat.value} cannot be given the {fin.value} finish; {mat.value} takes: {others}"


def check_analysis(
    material: MaterialId | str, method: ManufacturingMethod | str, finish: SurfaceFinish | str | None = None
) -> str | None:
    """The catalogue's checks of an analysis request (:func:`check_method`, then :func:`check_finish`), the
    same at every entry point: None, or the message of a request error."""
    return check_method(material, method) or check_finish(material, finish)
