"""The pricing catalogue: each method's data file plus the material table, with a user's price table applied.

Why data and not constants: every rate in a quote must be traceable to a source, and a shop must be able to
price with its own numbers. Each method's data file (``methods/<method>.toml``, read by the method's own
rows) carries a ``source`` string for every number group; a :class:`~shared.models.PriceTable` replaces
values *and* their source strings, so each quote line's basis names whose number it used
(``price table 'acme': ...``) rather than a catalogue citation that no longer applies.

Light imports (stdlib ``tomllib``, pydantic): the catalogue is cheap to load and pure, so the pricing stage can
be re-run for any quantity without touching geometry.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from typing import Any

from pydantic import Field, SerializeAsAny, ValidationError, model_validator

from engines.manufacturing.method import MaterialParams, Process, _Data
from engines.manufacturing.methods import METHODS
from engines.manufacturing.options import OptionRules, default_options
from shared.materials import MATERIALS, MATERIALS_TOML, MaterialProps
from shared.models import ManufacturingMethod, MaterialId, PriceTable

CATALOG_TOML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.toml")
"""The catalogue's version and currency, the review bound and the estimate's basis; each method's numbers
are in its own data file."""


class ReviewRules(_Data):
    """When a quote must be reviewed by a person instead of printed as computed."""

    lead_time_days: float = Field(gt=0)
    """A lead time past this bound is not printed: the quote says it needs review."""
    source: str = Field(min_length=1)


class EstimateRules(_Data):
    """Every quote is an estimate: its band and the basis stated on it."""

    basis: str = Field(min_length=1)
    calibration_mdape_pct: dict[ManufacturingMethod, float] = Field(default_factory=dict)
    """Median absolute percentage error of each method against published prices (``calibration.toml``)."""


class Catalog(_Data):
    """Everything a quote needs besides the part: process data and material rows, user overrides applied."""

    catalog_version: str = Field(min_length=1)
    currency: str = "USD"
    review: ReviewRules
    estimate: EstimateRules
    options: OptionRules
    """The tolerance classes and finishes a request can ask for (``options.toml``)."""
    price_table: str | None = None
    """Name of the user price table applied over the defaults, if any."""
    processes: dict[ManufacturingMethod, SerializeAsAny[Process]]
    """Each method's data file, validated by the method's own rows."""
    materials: dict[MaterialId, MaterialProps] = Field(default_factory=dict)
    """Material rows from :mod:`shared.materials` with the user's prices (and sources) applied."""
    material_params: dict[ManufacturingMethod, dict[MaterialId, SerializeAsAny[MaterialParams]]] = Field(
        default_factory=dict
    )
    """Per method, the parameters of each material it takes, validated by the method's own rows."""

    @model_validator(mode="after")
    def _complete(self) -> Catalog:
        missing = sorted(m.value for m in MaterialId if m not in self.materials)
        if missing:
            raise ValueError(f"catalogue has no material row for {missing}")
        no_process = sorted(m.value for m in METHODS if m not in self.processes)
        if no_process:
            raise ValueError(f"catalogue has no process data for {no_process}")
        return self

    @property
    def label(self) -> str:
        """What a report prints to say which numbers priced it, e.g. ``mfg-1 + price table 'acme'``."""
        if self.price_table is None:
            return self.catalog_version
        return f"{self.catalog_version} + price table '{self.price_table}'"

    def process(self, method: ManufacturingMethod | str) -> Any:
        """The method's data (its own rows class: ``CncProcess``, ``MoldingProcess``, ...)."""
        return self.processes[ManufacturingMethod(method)]

    def material(self, material: MaterialId | str) -> MaterialProps:
        return self.materials[MaterialId(material)]

    def params(self, method: ManufacturingMethod | str, material: MaterialId | str) -> Any:
        """The method's parameters for a material it takes (``KeyError`` otherwise: check the method first)."""
        return self.material_params[ManufacturingMethod(method)][MaterialId(material)]

    def material_prices(self) -> dict[MaterialId, tuple[float, str]]:
        """$/kg and its source per material, after overrides (for reports and the CLI)."""
        return {m: (p.price_usd_per_kg, p.price_source) for m, p in self.materials.items()}


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"process catalogue {path}: cannot read: {e}") from e


def _material_params(materials: dict[MaterialId, MaterialProps]) -> dict[ManufacturingMethod, dict]:
    """Validate each material's per-method tables with the method's rows; errors name the file and row."""
    out: dict[ManufacturingMethod, dict] = {}
    for method, plugin in METHODS.items():
        rows: dict[MaterialId, MaterialParams] = {}
        for mid, props in materials.items():
            if method not in props.methods:
                continue
            try:
                rows[mid] = plugin.material_params.model_validate(props.method_params[method])
            except ValidationError as e:
                raise ValueError(
                    f"material table {MATERIALS_TOML}, row [materials.{mid.value}.{method.value}]: {e}"
                ) from e
        out[method] = rows
    return out


def parse_catalog(
    header: dict[str, Any],
    processes: dict[ManufacturingMethod, tuple[str, dict[str, Any]]],
    options: OptionRules | None = None,
) -> Catalog:
    """Validate the catalogue header and each method's ``(path, parsed data file)``; errors name the file.
    ``options``: the tolerance and finish rules (default: the shipped ``options.toml``)."""
    validated: dict[ManufacturingMethod, Process] = {}
    for method, plugin in METHODS.items():
        if method not in processes:
            raise ValueError(f"process catalogue: no data file for {method.value}")
        path, raw = processes[method]
        try:
            validated[method] = plugin.process.model_validate(raw)
        except ValidationError as e:
            raise ValueError(f"process catalogue {path}: {e}") from e
    materials = dict(MATERIALS)
    try:
        return Catalog.model_validate(
            {
                **header,
                "processes": validated,
                "options": options or default_options(),
                "materials": materials,
                "material_params": _material_params(materials),
            }
        )
    except ValidationError as e:
        raise ValueError(f"process catalogue {CATALOG_TOML}: {e}") from e


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped catalogue, parsed once per process (it is immutable)."""
    return parse_catalog(
        _read_toml(CATALOG_TOML),
        {method: (plugin.data_file, _read_toml(plugin.data_file)) for method, plugin in METHODS.items()},
    )


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
    processes = dict(catalog.processes)
    for method, over in table.processes.items():
        proc = processes[method]
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
        processes[method] = proc.model_copy(update={"rates": proc.rates.model_copy(update=rates)})
    return catalog.model_copy(
        update={"materials": materials, "processes": processes, "price_table": table.name}
    )


def with_options(
    catalog: Catalog, *, parallel_machines: int | None = None, tooling_class: str | None = None
) -> Catalog:
    """The catalogue with a shop's capacity and a request's tooling class applied.

    ``parallel_machines``: machines (presses, printers) the shop runs one order on at once; it replaces every
    method's ``lead_time.parallel_machines`` and its source says so. ``tooling_class``: the mould class the
    request asks for (``prototype`` or ``production``); methods without tooling classes ignore it."""
    if parallel_machines is None and tooling_class is None:
        return catalog
    if parallel_machines is not None and (isinstance(parallel_machines, bool) or parallel_machines < 1):
        raise ValueError(f"parallel_machines must be an integer >= 1, got {parallel_machines!r}")
    processes = dict(catalog.processes)
    for method, proc in processes.items():
        update: dict[str, Any] = {}
        if parallel_machines is not None:
            lt = proc.lead_time
            update["lead_time"] = lt.model_copy(
                update={
                    "parallel_machines": parallel_machines,
                    "source": f"{lt.source}; parallel machines {parallel_machines}: the shop's capacity setting",
                }
            )
        tooling = getattr(proc, "tooling", None)
        if tooling_class is not None and "requested_class" in getattr(type(tooling), "model_fields", {}):
            # validated, so an unknown class is an error naming the allowed ones
            update["tooling"] = type(tooling).model_validate(
                {**tooling.model_dump(), "requested_class": tooling_class}
            )
        processes[method] = proc.model_copy(update=update) if update else proc
    return catalog.model_copy(update={"processes": processes})


def load_catalog(
    price_table: PriceTable | None = None,
    *,
    parallel_machines: int | None = None,
    tooling_class: str | None = None,
) -> Catalog:
    """The catalogue used to price a part: the shipped data, with ``price_table`` applied over it if given,
    then the shop's capacity and the request's tooling class (:func:`with_options`)."""
    base = default_catalog()
    cat = base if price_table is None else apply_price_table(base, price_table)
    return with_options(cat, parallel_machines=parallel_machines, tooling_class=tooling_class)
