"""What a manufacturing method module provides, and the catalogue rows and cost lines every method shares.

A method is a plug-in, as a family is: ``engines/manufacturing/methods/<method>.py`` declares one
:class:`Method` (its catalogue rows, the material parameters it reads from ``shared/data/materials.toml``,
its DFM rules and its cost model) next to its data file ``<method>.toml``, and
:mod:`engines.manufacturing.methods` registers it. The catalogue, the analysis and the pricing read the
registry, so they name no method.

Light imports (pydantic, dataclasses): pricing stays cheap and pure, without a geometry kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.models import DfmFinding, ManufacturingMethod

if TYPE_CHECKING:
    from engines.manufacturing.facts import PartFacts
    from engines.manufacturing.metrics import PartMetrics
    from engines.manufacturing.rules import DfmOptions
    from shared.materials import MaterialProps


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

    def production(
        self, quantity: int, hours_per_part: float, what: str, machines: str = "machine(s)"
    ) -> tuple[float, str]:
        """Base days plus ``quantity`` parts of ``hours_per_part`` (``what`` the hours are) run on the shop's
        parallel machines, and the basis that says so."""
        days = quantity * hours_per_part / (self.hours_per_day * self.parallel_machines)
        return self.base_days + days, (
            f"{self.base_days:g} d + {quantity} parts x {hours_per_part:.3f} h {what} / ({self.hours_per_day:g} "
            f"h/day x {self.parallel_machines} {machines}) = {days:.1f} d [{self.source}]"
        )


class Programming(_Data):
    """CAM programming of a machined part: ``min(hours_max, hours_base + hours_per_feature x features)``."""

    cam_rate_usd_per_h: float = Field(gt=0)
    hours_base: float = Field(ge=0)
    hours_per_feature: float = Field(ge=0)
    """Per surface feature (``PartMetrics.features``: B-rep faces, or an STL's estimated features)."""
    hours_max: float = Field(gt=0)
    source: Source


class Prep(_Data):
    """File preparation per order (nesting, slicing, checking the model)."""

    hours: float = Field(ge=0)
    source: Source


class Process(_Data):
    """A method's data file: every method has rates (a price table overrides them) and a lead-time model."""

    rates: Rates
    lead_time: LeadTime


class MaterialParams(_Data):
    """A method's parameters for one material (the ``[materials.<id>.<method>]`` table), with their source."""

    source: Source = Field(min_length=1)


@dataclass(frozen=True)
class Cost:
    """A quote line before the margin is applied."""

    item: str
    cost_usd: float
    per: Literal["part", "order"]
    basis: str
    band_pct: float


@dataclass
class CostModel:
    """What a method's cost model returns: the lines, the numbers they came from, and the lead time."""

    costs: list[Cost]
    parameters: dict[str, float]
    lead_time_days: float
    lead_time_basis: str
    caveats: list[str] = field(default_factory=list)


def usd(x: float) -> str:
    """Dollars with cents, or four decimals below a dollar (per-part moulding lines are fractions of a cent)."""
    return f"${x:,.2f}" if abs(x) >= 1 or x == 0 else f"${x:.4f}"


@dataclass(frozen=True)
class Method:
    """One manufacturing method: its data and its two functions, read through the registry.

    ``findings(facts, metrics, process, params, options)`` returns the DFM findings (in any order; the
    analysis sorts them; ``options``: what the request says beyond the geometry, e.g. that corners must stay
    sharp); ``cost(metrics, material, params, quantity, process)`` prices ``quantity`` parts. Both receive
    this method's own ``process`` row and ``params`` (the material's table for this method).
    """

    method: ManufacturingMethod
    process: type[Process]
    """The rows of ``data_file``."""
    material_params: type[MaterialParams]
    """The rows of ``[materials.<id>.<method>]`` in ``shared/data/materials.toml``."""
    data_file: str
    findings: Callable[[PartFacts, PartMetrics, Any, Any, DfmOptions], list[DfmFinding]]
    cost: Callable[[PartMetrics, MaterialProps, Any, int, Any], CostModel]
    not_this_kind: str | None = None
    """The rule id that says the part is not of the kind this method makes (not a sheet, not a part of
    revolution): with it blocking, a price "as if fixed" means nothing, so an alternative is not priced."""
