"""Manufacturing analysis: the request and price tables, DFM findings, quotes, the report, and the analysis
activities' requests."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

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
    aliased,
)
from shared.models.files import PartFormat, PartSource, StagedPart
from shared.models.geometry import Box
from shared.models.notify import WebhookUrl

DEFAULT_QUANTITY_LADDER = (1, 10, 100, 1000, 10000)
ToolingClass = Literal["prototype", "production"]
"""Injection-mould classes: aluminium prototype tooling or steel production tooling."""
MAX_LADDER_RUNGS = 12


class ToleranceClass(StrEnum):
    """ISO 2768-1 general tolerance classes for linear dimensions: fine, medium, coarse, very coarse."""

    F = "f"
    M = "m"
    C = "c"
    V = "v"


_TOLERANCE_ALIASES = {
    "fine": "f",
    "medium": "m",
    "coarse": "c",
    "very_coarse": "v",
    **{
        f"{p}{c}": c
        for p in ("iso_2768_", "iso2768_", "iso_2768", "iso2768", "2768_", "2768")
        for c in "fmcv"
    },
}


Tolerance = Annotated[ToleranceClass, BeforeValidator(aliased(_TOLERANCE_ALIASES))]
"""A tolerance class as people write it: ``f``, ``fine``, ``ISO 2768-f``, ``2768-m``..."""


class SurfaceFinish(StrEnum):
    """Finishes a quote can price: left as cut, glass-bead blasted, Type II sulfuric anodised (aluminium),
    powder coated (metals)."""

    AS_MACHINED = "as_machined"
    BEAD_BLAST = "bead_blast"
    ANODISE = "anodise"
    POWDER_COAT = "powder_coat"


_FINISH_ALIASES = {
    "none": "as_machined",
    "as_cut": "as_machined",
    "standard": "as_machined",
    "bead_blasted": "bead_blast",
    "bead_blasting": "bead_blast",
    "anodize": "anodise",
    "anodized": "anodise",
    "anodised": "anodise",
    "anodizing": "anodise",
    "anodising": "anodise",
    "type_ii_anodize": "anodise",
    "powder_coated": "powder_coat",
    "powder_coating": "powder_coat",
    "powdercoat": "powder_coat",
}


Finish = Annotated[SurfaceFinish, BeforeValidator(aliased(_FINISH_ALIASES))]
"""A finish as people write it: ``anodize``, ``Anodised``, ``powder-coat``..."""


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


AxisComponent = Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)]
PullAxis = Annotated[
    tuple[AxisComponent, AxisComponent, AxisComponent],
    AfterValidator(lambda v: v if any(c != 0 for c in v) else _zero_axis()),
]
"""A direction (any length up to unit components; normalised by the analysis), not the zero vector."""


def _zero_axis() -> tuple[float, float, float]:
    raise ValueError("pull_axis must be a direction, not (0, 0, 0)")


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
    tooling_class: ToolingClass | None = None
    """Injection moulding: the mould class to price, ``prototype`` (aluminium, single cavity, limited shot
    life) or ``production`` (steel, multi-cavity). Unset: the class with the lower unit price at the
    quantity among those whose shot life covers it (the quote states the rule)."""
    pull_axis: PullAxis | None = None
    """Injection moulding: the axis the mould must open along (either sign), e.g. ``(0, 0, 1)``. Unset: the
    analysis picks it among +-X, +-Y, +-Z and the part's principal axes of inertia (fewest side actions,
    least undercut), and the ``IM.PULL_DIRECTION`` finding reports it."""
    tolerance_class: Tolerance | None = None
    """ISO 2768-1 general tolerance class (``f``, ``m``, ``c``, ``v``) for milling, turning and sheet metal
    (the standard's scope: parts made by metal removal or formed from sheet). Unset: the class the machining
    times are calibrated at. Priced as its own quote line; moulded and printed parts get a caveat instead."""
    finish: Finish | None = None
    """Surface finish (``as_machined``, ``bead_blast``, ``anodise``, ``powder_coat``), priced as its own lines
    (per part and the finisher's lot minimum). Anodising takes aluminium only, blasting and powder coat
    metals only (:func:`shared.materials.check_finish`). Unset: as machined."""

    @model_serializer(mode="wrap")
    def _without_unset_options(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """A request without the options dumps as it did before the options existed (same analysis id)."""
        data = handler(self)
        if not self.sharp_corners:
            data.pop("sharp_corners", None)
        if self.tooling_class is None:
            data.pop("tooling_class", None)
        for option in ("pull_axis", "tolerance_class", "finish"):
            if getattr(self, option) is None:
                data.pop(option, None)
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
    axis: Vec3 | None = None
    """A direction the finding is about, as a unit vector (``IM.PULL_DIRECTION``: the mould's pull axis)."""


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
    binding: bool = False
    """Always False: this is an estimate from geometry and published rates, not a shop's binding offer."""
    estimate_band_pct: Amount | None = None
    """± band of the estimate, in percent of the unit price (``estimate_basis`` says how it is set)."""
    estimate_basis: str = ""
    """Why the band is what it is: the line bands and the calibration against published prices."""
    needs_review: bool = False
    """A person must review the quote before it is offered (``review_reasons`` says why)."""
    review_reasons: list[str] = Field(default_factory=list)
    tooling_class: ToolingClass | None = None
    """Injection moulding: the mould class priced (see ``AnalyzeRequest.tooling_class``)."""
    tolerance_class: ToleranceClass | None = None
    """The ISO 2768-1 class priced (see ``AnalyzeRequest.tolerance_class``); None where the standard does not
    apply (moulding, printing)."""
    finish: SurfaceFinish = SurfaceFinish.AS_MACHINED
    """The surface finish priced (see ``AnalyzeRequest.finish``)."""


class LadderRung(Model):
    quantity: PositiveCount
    unit_cost_usd: float
    total_cost_usd: float
    band_pct: float
    lead_time_days: float
    needs_review: bool = False
    """The quote at this quantity needs a review (e.g. its lead time is past the bound)."""


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
    repairs: list[str] = Field(default_factory=list)
    """What the mesh repair changed before the analysis (STL), e.g. "merged 12 duplicate faces",
    "closed 2 holes of 0.04 mm2 in all"; empty for a clean input (``PartFacts.repairs``)."""


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
    finish: Finish | None = None
    """The request's finish, checked against the material before anything is staged."""

    @model_serializer(mode="wrap")
    def _without_unset_finish(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """Without a finish it dumps as it did before finishes existed (recorded histories replay unchanged)."""
        data = handler(self)
        if self.finish is None:
            data.pop("finish", None)
        return data


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
