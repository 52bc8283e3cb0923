"""Sheet metal (fibre-laser cut blank, press-brake bends): catalogue rows, DFM rules and cost model.

Data: ``sheet_metal.toml`` next to this module, and the ``[materials.<id>.sheet_metal]`` tables of
``shared/data/materials.toml`` (sheet price, K-factor, minimum bend radius, laser speeds by thickness).
The geometry (thickness, bends, flanges, holes, flat blank) is :mod:`engines.manufacturing.sheet`'s,
measured on the B-rep at extraction.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from engines.manufacturing.facts import PartFacts
from engines.manufacturing.method import (
    Cost,
    CostModel,
    MaterialParams,
    Method,
    Prep,
    Process,
    Source,
    _Data,
    usd,
)
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.rules import DfmOptions, above, below, fits, rounded
from engines.manufacturing.sheet import SheetGeometry
from shared.materials import MaterialProps
from shared.models import DfmFinding, ManufacturingMethod, Severity

# --------------------------------------------------------------------------------------------- catalogue


class SheetLaser(_Data):
    machine_rate_usd_per_h: float = Field(gt=0)
    pierce_s: float = Field(ge=0)
    load_unload_min_per_part: float = Field(ge=0)
    part_spacing_mm: float = Field(ge=0)
    source: Source


class SheetBrake(_Data):
    machine_rate_usd_per_h: float = Field(gt=0)
    s_per_bend: float = Field(ge=0)
    setup_min_per_bend: float = Field(ge=0)
    source: Source


class SheetLimits(_Data):
    bed_x_mm: float = Field(gt=0)
    bed_y_mm: float = Field(gt=0)
    min_flange_t: float = Field(gt=0)
    hole_to_bend_t: float = Field(ge=0)
    relief_width_t: float = Field(gt=0)
    source: Source


class SheetBands(_Data):
    material_pct: float = Field(ge=0)
    laser_pct: float = Field(ge=0)
    bending_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    prep_pct: float = Field(ge=0)
    source: Source


class SheetProcess(Process):
    laser: SheetLaser
    brake: SheetBrake
    prep: Prep
    limits: SheetLimits
    bands: SheetBands


class SheetMaterial(MaterialParams):
    """Sheet stock price, bending and laser data for one material."""

    sheet_price_usd_per_kg: float = Field(gt=0)
    k_factor: float = Field(gt=0, le=0.5)
    min_bend_radius_t: float = Field(ge=0)
    """Minimum inner bend radius as a multiple of the thickness."""
    min_bend_radius_mm: float = Field(ge=0)
    """And in mm (the larger of the two applies)."""
    cut_thickness_mm: list[float] = Field(min_length=1)
    """Laser speed table: thicknesses (ascending; the last is the laser's capacity) ..."""
    cut_speed_m_per_min: list[float] = Field(min_length=1)
    """... and the cut speed at each."""

    @model_validator(mode="after")
    def _table(self) -> SheetMaterial:
        if len(self.cut_thickness_mm) != len(self.cut_speed_m_per_min):
            raise ValueError("cut_thickness_mm and cut_speed_m_per_min must have the same length")
        if sorted(self.cut_thickness_mm) != self.cut_thickness_mm or min(self.cut_speed_m_per_min) <= 0:
            raise ValueError("cut_thickness_mm must ascend and every cut speed be positive")
        return self

    @property
    def max_thickness_mm(self) -> float:
        return self.cut_thickness_mm[-1]

    def cut_speed(self, t: float) -> float:
        return float(np.interp(t, self.cut_thickness_mm, self.cut_speed_m_per_min))

    def min_radius(self, t: float) -> float:
        return max(self.min_bend_radius_t * t, self.min_bend_radius_mm)


# --------------------------------------------------------------------------------------------- DFM rules


def _point(p: tuple[float, ...]) -> tuple[float, float, float]:
    return tuple(rounded(v) for v in p)  # type: ignore[return-value]


def findings(
    f: PartFacts, m: PartMetrics, proc: SheetProcess, sp: SheetMaterial, opts: DfmOptions
) -> list[DfmFinding]:
    s = m.sheet
    lim = proc.limits
    if s is None or not s.recognised:
        return [
            DfmFinding(
                rule_id="SHEET.NOT_SHEET",
                severity=Severity.BLOCKING,
                title="not a constant-thickness sheet: " + (s.reason if s else "no sheet measurement"),
                why="a laser cuts a flat blank of one thickness and a press brake bends it along straight "
                "lines: the part must be one sheet thickness everywhere, flat or with cylindrical bends",
                fix="make the part from one sheet thickness with bends of one radius, or use CNC milling",
            )
        ]
    t = s.thickness_mm
    out: list[DfmFinding] = []
    if above(t, sp.max_thickness_mm):
        out.append(
            DfmFinding(
                rule_id="SHEET.THICKNESS",
                severity=Severity.BLOCKING,
                title=f"{t:.2f} mm sheet is beyond the laser's capacity in this material",
                measured=rounded(t),
                limit=sp.max_thickness_mm,
                unit="mm",
                why=f"the laser speed table for this material ends at {sp.max_thickness_mm:g} mm [{sp.source}]",
                fix="use thinner sheet, or plasma/waterjet cutting quoted separately",
            )
        )
    r_min = sp.min_radius(t)
    tight = [(b.radius_mm, i) for i, b in enumerate(s.bends) if below(b.radius_mm, r_min)]
    if tight or s.sharp_corners:
        r, i = min(tight) if tight else (0.0, -1)
        b = s.bends[i] if i >= 0 else None
        out.append(
            DfmFinding(
                rule_id="SHEET.BEND_RADIUS",
                severity=Severity.BLOCKING,
                title=f"{len(tight) + s.sharp_corners} bend(s) tighter than the material's minimum radius",
                measured=rounded(r),
                limit=rounded(r_min),
                unit="mm",
                face_ids=list(b.faces) if b else [],
                point_mm=_point(b.point_mm) if b else None,
                why=f"bending below max({sp.min_bend_radius_t:g} t, {sp.min_bend_radius_mm:g} mm) = "
                f"{r_min:.2f} mm inside radius cracks the outside of the bend [{sp.source}]",
                fix=f"make the inside bend radius at least {r_min:.2f} mm (or use a softer temper)",
            )
        )
    short = [x for x in s.flanges if below(x.length_mm, lim.min_flange_t * t)]
    if short:
        x = min(short, key=lambda x: x.length_mm)
        out.append(
            DfmFinding(
                rule_id="SHEET.FLANGE_LENGTH",
                severity=Severity.BLOCKING,
                title=f"{len(short)} flange(s) shorter than {lim.min_flange_t:g} x thickness",
                measured=rounded(x.length_mm),
                limit=rounded(lim.min_flange_t * t),
                unit="mm",
                face_ids=sorted({y.face for y in short}),
                point_mm=_point(x.point_mm),
                why="a flange must span the press brake's V-die to be bent: shorter flanges slip into the "
                f"die and bend unevenly [{lim.source}]",
                fix=f"lengthen the flange to at least {lim.min_flange_t * t:.1f} mm from the bend",
            )
        )
    close = [
        h for h in s.holes
        if h.bend >= 0 and below(h.edge_to_bend_mm + s.bends[h.bend].radius_mm,
                                 lim.hole_to_bend_t * t + s.bends[h.bend].radius_mm)
    ]  # fmt: skip
    if close:
        h = min(close, key=lambda h: h.edge_to_bend_mm)
        rb = s.bends[h.bend].radius_mm
        out.append(
            DfmFinding(
                rule_id="SHEET.HOLE_TO_BEND",
                severity=Severity.WARNING,
                title=f"{len(close)} hole(s) too close to a bend",
                measured=rounded(h.edge_to_bend_mm + rb),
                limit=rounded(lim.hole_to_bend_t * t + rb),
                unit="mm",
                face_ids=sorted({c.face for c in close}),
                point_mm=_point(h.center_mm),
                why="material near a bend stretches as it bends, so a hole closer than "
                f"{lim.hole_to_bend_t:g} t + R to the inside of the bend distorts into an oval "
                f"(measured from the hole's edge to the bend's start, plus R) [{lim.source}]",
                fix=f"move the hole at least {lim.hole_to_bend_t * t:.1f} mm from the bend's start, or "
                "cut it after bending",
            )
        )
    partial = [(i, b) for i, b in enumerate(s.bends) if b.partial]
    if partial:
        i, b = partial[0]
        out.append(
            DfmFinding(
                rule_id="SHEET.BEND_RELIEF",
                severity=Severity.WARNING,
                title=f"{len(partial)} bend(s) end inside the sheet: bend reliefs needed",
                measured=rounded(b.width_mm),
                limit=rounded(b.flange_width_mm),
                unit="mm",
                face_ids=list(b.faces),
                point_mm=_point(b.point_mm),
                why="where a bend stops short of the sheet's edge the material beside it tears unless a relief "
                f"cut separates them [{lim.source}]",
                fix=f"cut reliefs at the bend's ends at least {lim.relief_width_t * t:.1f} mm wide and "
                f"{b.radius_mm + t:.1f} mm (R + t) deep past the bend",
            )
        )
    length, width = s.blank_length_mm(sp.k_factor), s.blank_width_mm
    bed = (lim.bed_x_mm, lim.bed_y_mm)
    if not fits((length, width), bed):
        out.append(
            DfmFinding(
                rule_id="SHEET.BLANK_SIZE",
                severity=Severity.BLOCKING,
                title="flat blank larger than the laser's bed",
                measured=rounded(max(length, width)),
                limit=max(bed),
                unit="mm",
                why=f"blank {length:.0f} x {width:.0f} mm exceeds the bed {bed[0]:g} x {bed[1]:g} mm",
                fix="split the part into pieces joined by welding or fasteners",
            )
        )
    if not s.parallel_bends:
        out.append(
            DfmFinding(
                rule_id="SHEET.BLANK_ESTIMATED",
                severity=Severity.INFO,
                title="bends about non-parallel axes: blank size estimated from its area",
                why="the blank's area is exact (volume / t plus bend allowances); its outline is not unfolded",
                fix="check the flat pattern in CAD before ordering",
            )
        )
    return out


# --------------------------------------------------------------------------------------------- cost model


def _plate(m: PartMetrics) -> SheetGeometry:
    """A part that is not a sheet: priced as a flat plate of its bounding box (the blocking finding says
    it cannot be made so)."""
    a, b, t = sorted(m.size_mm, reverse=True)
    return SheetGeometry(
        recognised=False, thickness_mm=t, mid_area_mm2=a * b, edge_area_mm2=2 * (a + b) * t,
        flat_length_mm=a, blank_width_mm=b,
    )  # fmt: skip


def cost(m: PartMetrics, mat: MaterialProps, sp: SheetMaterial, q: int, proc: SheetProcess) -> CostModel:
    """Blank (rectangle + spacing) x thickness x density x sheet $/kg, laser time (cut length / speed at
    this thickness + pierces), bends on the press brake, and per-order setups and file preparation."""
    s = m.sheet if m.sheet is not None and m.sheet.recognised else _plate(m)
    r, lz, bk, b = proc.rates, proc.laser, proc.brake, proc.bands
    caveats: list[str] = []
    if not s.recognised:
        caveats.append(
            "the part is not a constant-thickness sheet: priced as a flat plate of its bounding box "
            f"({s.flat_length_mm:.0f} x {s.blank_width_mm:.0f} x {s.thickness_mm:.1f} mm)"
        )
    t, k = s.thickness_mm, sp.k_factor
    length, width = s.blank_length_mm(k), s.blank_width_mm
    area = s.blank_area_mm2(k)
    g = lz.part_spacing_mm
    stock_mm2 = (length + g) * (width + g)
    kg = stock_mm2 * t * 1e-9 * mat.density_kg_m3
    speed = sp.cut_speed(t)
    if t > sp.max_thickness_mm:
        speed = sp.cut_speed_m_per_min[-1] * sp.max_thickness_mm / t
        caveats.append(
            f"{t:.1f} mm is beyond the laser table ({sp.max_thickness_mm:g} mm): speed scaled as 1/t"
        )
    cut_m = s.cut_length_mm / 1000
    pierces = 1 + len(s.holes)
    laser_min = cut_m / speed + pierces * lz.pierce_s / 60
    bends = len(s.bends)
    bend_min = bends * bk.s_per_bend / 60
    handle_min = lz.load_unload_min_per_part
    costs = [
        Cost(
            "material (sheet)",
            kg * sp.sheet_price_usd_per_kg,
            "part",
            f"blank {length:.1f} x {width:.1f} mm (+ {g:g} mm spacing) x {t:.2f} mm = {kg * 1000:.1f} g at "
            f"{mat.density_kg_m3:g} kg/m3 x {usd(sp.sheet_price_usd_per_kg)}/kg [{sp.source}]; net blank area "
            f"{area / 100:.1f} cm2 (V/t + bend allowances, K = {k:g})",
            b.material_pct,
        ),
        Cost(
            "laser cutting",
            (laser_min + handle_min) / 60 * lz.machine_rate_usd_per_h,
            "part",
            f"cut {cut_m * 1000:.0f} mm (blank perimeter + holes) / {speed:.2f} m/min at {t:.2f} mm + {pierces} "
            f"pierce(s) x {lz.pierce_s:g} s + {handle_min:g} min sheet handling = {laser_min + handle_min:.2f} min "
            f"x {usd(lz.machine_rate_usd_per_h)}/h [speed: {sp.source}; laser: {lz.source}]",
            b.laser_pct,
        ),
        Cost(
            "bending",
            bend_min / 60 * (bk.machine_rate_usd_per_h + r.labour_rate_usd_per_h),
            "part",
            f"{bends} bend(s) x {bk.s_per_bend:g} s = {bend_min:.2f} min x (brake {usd(bk.machine_rate_usd_per_h)}"
            f"/h + operator {usd(r.labour_rate_usd_per_h)}/h) [{bk.source}; labour: {r.labour_rate_source}]",
            b.bending_pct,
        ),
        Cost(
            "setup",
            r.setup_usd + bends * bk.setup_min_per_bend / 60 * r.labour_rate_usd_per_h,
            "order",
            f"laser job {usd(r.setup_usd)} [{r.setup_source}] + {bends} bend setup(s) x {bk.setup_min_per_bend:g}"
            f" min x {usd(r.labour_rate_usd_per_h)}/h [{bk.source}]",
            b.setup_pct,
        ),
        Cost(
            "file preparation",
            proc.prep.hours * r.labour_rate_usd_per_h,
            "order",
            f"{proc.prep.hours:g} h (flat pattern, nesting) x {usd(r.labour_rate_usd_per_h)}/h [{proc.prep.source}]",
            b.prep_pct,
        ),
    ]
    hours = (laser_min + handle_min + bend_min) / 60
    lt = proc.lead_time
    lead, lead_basis = lt.production(q, hours, "laser and brake")
    params = {
        "thickness_mm": t,
        "k_factor": k,
        "bends": float(bends),
        "blank_length_mm": length,
        "blank_width_mm": width,
        "blank_area_mm2": area,
        "cut_length_mm": s.cut_length_mm,
        "pierces": float(pierces),
        "cut_speed_m_per_min": speed,
        "laser_min_per_part": laser_min,
        "bend_min_per_part": bend_min,
        "machine_hours_per_part": hours,
        "stock_mass_kg": kg,
        "bend_allowance_total_mm": float(sum(s.bend_allowance_mm(k))),
    }
    if not math.isfinite(sum(params.values())):
        caveats.append("some sheet parameters could not be measured")
    return CostModel(costs, params, lead, lead_basis, caveats)


METHOD = Method(
    method=ManufacturingMethod.SHEET_METAL,
    process=SheetProcess,
    material_params=SheetMaterial,
    data_file=__file__.removesuffix(".py") + ".toml",
    findings=findings,
    cost=cost,
    not_this_kind="SHEET.NOT_SHEET",
)
