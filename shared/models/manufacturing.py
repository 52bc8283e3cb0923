"""Manufacturing analysis: the request and price tables, DFM findings, quotes, the report, and the analysis
activities' requests."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SerializerFunctionWrapHandler, StringConstraints, model_serializer

from shared.models.common import (
    Amount,
    ArtifactRef,
    Material,
    Method,
    Model,
    PositiveCount,
    Quantity,
    Severity,
    Vec3,
)
from shared.models.files import PartFormat, PartSource, StagedPart
from shared.models.geometry import Box
from shared.models.notify import WebhookUrl

DEFAULT_QUANTITY_LADDER = (1, 10, 100, 1000, 10000)
MAX_LADDER_RUNGS = 12


class MaterialPrice(Model):
    price_usd_per_kg: float = Field(gt=0, le=100_000)
    source: str = "user-supplied price table"


MAX_HOURLY_RATE_USD = 10_000
"""US dollars per hour of a machine or of labour a user's price table may set."""
HourlyRate = Annotated[float, Field(gt=0, le=MAX_HOURLY_RATE_USD)]


class ProcessRates(Model):
    """User overrides of a process's rates; unset fields keep the catalogue value."""

    machine_rate_usd_per_h: HourlyRate | None = None
    labour_rate_usd_per_h: HourlyRate | None = None
    setup_usd: float | None = Field(default=None, ge=0, le=1_000_000)
    margin: float | None = Field(default=None, ge=0, lt=1)
    source: str = "user-supplied price table"


class PriceTable(Model):
    """A user's own prices, applied over the catalogue (``mechbench analyze --prices FILE``)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "user"
    materials: dict[Material, MaterialPrice] = Field(default_factory=dict)
    processes: dict[Method, ProcessRates] = Field(default_factory=dict)


class AnalyzeRequest(Model):
    part: PartSource
    method: Method
    material: Material
    quantity: Quantity
    ladder: list[Quantity] | None = Field(default=None, max_length=MAX_LADDER_RUNGS)
    """Quantities to price besides the requested one; default 1, 10, 100, 1000, 10000."""
    price_table: PriceTable | None = None
    alternatives: bool = True
    """Also price the other methods that take this material, at the same quantity (a separate section)."""
    webhook: WebhookUrl | None = None
    """POSTed the report when the analysis completes."""
    sharp_corners: bool = False
    """Internal corners must stay sharp as modelled. By default a sharp internal corner along a mill's tool
    axis is a warning (the corner is left at the tool radius, which the quote assumes, as shops quote it);
    with this set it blocks CNC milling (EDM is the alternative)."""

    @model_serializer(mode="wrap")
    def _without_unset_options(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """A request without the option dumps as it did before the option existed (same analysis id)."""
        data = handler(self)
        if not self.sharp_corners:
            data.pop("sharp_corners", None)
        return data


class DfmFinding(Model):
    rule_id: str
    """``<METHOD>.<RULE>``, e.g. ``CNC.INTERNAL_CORNER_RADIUS``; stable, documented in the rule table."""
    severity: Severity
    title: str
    measured: float | None = None
    limit: float | None = None
    unit: str | None = None
    face_ids: list[int] = Field(default_factory=list)
    """B-rep face indices in ``Shape.faces()`` order (STL: planar patch indices); at most 50 listed."""
    point_mm: Vec3 | None = None
    """One point on the offending geometry."""
    area_mm2: float | None = None
    why: str
    fix: str


class QuoteLine(Model):
    item: str
    usd: Amount
    per: Literal["part", "order"]
    """``order`` lines (setup, programming, tooling) are spread over the quantity."""
    basis: str
    """Formula and inputs, with the source of each rate."""
    band_pct: Amount
    """± uncertainty of this number, in percent."""


class Quote(Model):
    method: Method
    material: Material
    quantity: PositiveCount
    lines: list[QuoteLine]
    unit_cost_usd: Amount
    total_cost_usd: Amount
    band_pct: Amount
    unit_cost_low_usd: Amount
    unit_cost_high_usd: Amount
    lead_time_days: Amount
    lead_time_basis: str
    parameters: dict[str, float] = Field(default_factory=dict)
    """Model quantities behind the numbers (cycle time, cavities, setups, machine hours...)."""
    caveats: list[str] = Field(default_factory=list)


class LadderRung(Model):
    quantity: PositiveCount
    unit_cost_usd: float
    total_cost_usd: float
    band_pct: float
    lead_time_days: float


class MethodAlternative(Model):
    method: Method
    available: bool
    """False when the method does not take the requested material."""
    manufacturable: bool = False
    blocking: list[str] = Field(default_factory=list)
    """Rule ids of blocking findings for this method."""
    unit_cost_usd: float | None = None
    total_cost_usd: float | None = None
    band_pct: float | None = None
    lead_time_days: float | None = None
    note: str = ""


class PartSummary(Model):
    sha256: str
    format: PartFormat
    filename: str | None = None
    volume_mm3: float
    area_mm2: float
    bbox: Box
    faces: int
    triangles: int
    has_brep: bool


class ManufacturingReport(Model):
    analysis_id: str
    part: PartSummary
    method: Method
    material: Material
    quantity: int
    manufacturable: bool
    """False when any finding is blocking: the quote then prices the part as if the findings were fixed."""
    findings: list[DfmFinding]
    quote: Quote
    ladder: list[LadderRung]
    alternatives: list[MethodAlternative] = Field(default_factory=list)
    catalog: str
    """Catalogue version and the user price table applied, if any."""
    facts: ArtifactRef | None = None
    report: ArtifactRef | None = None
    facts_cached: bool = False


class StagePartRequest(Model):
    source: PartSource
    method: Method
    material: Material


class AnalysisProgress(Model):
    stage: str
    detail: str = ""


class FactsRequest(Model):
    part: StagedPart


class FactsResult(Model):
    facts: ArtifactRef
    cached: bool = False


class PriceRequest(Model):
    analysis_id: str
    request: AnalyzeRequest
    part: StagedPart
    facts: FactsResult
