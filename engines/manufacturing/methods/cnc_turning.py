"""CNC turning (2-axis lathe, bar-fed): catalogue rows, DFM rules and cost model.

Data: ``cnc_turning.toml`` next to this module, and the ``[materials.<id>.cnc_turning]`` tables of
``shared/data/materials.toml`` (turning removal and finishing rates). The axis and the profile are
:mod:`engines.manufacturing.axisymmetric`'s.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from engines.manufacturing.axisymmetric import TurnedGeometry
from engines.manufacturing.facts import PartFacts
from engines.manufacturing.method import (
    Cost,
    CostModel,
    MaterialParams,
    Method,
    Process,
    Programming,
    Source,
    _Data,
    usd,
)
from engines.manufacturing.methods.cnc_milling.rows import CncBands
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.rules import DfmOptions, above, below, rounded
from shared.materials import MaterialProps
from shared.models import DfmFinding, ManufacturingMethod, Severity

# --------------------------------------------------------------------------------------------- catalogue


class TurnStock(_Data):
    bar_diameters_mm: list[float] = Field(min_length=1)
    diameter_allowance_mm: float = Field(ge=0)
    facing_allowance_mm: float = Field(ge=0)
    parting_width_mm: float = Field(ge=0)
    source: Source

    @model_validator(mode="after")
    def _ascending(self) -> TurnStock:
        if sorted(self.bar_diameters_mm) != self.bar_diameters_mm:
            raise ValueError("bar_diameters_mm must ascend")
        return self

    def bar_for(self, d: float) -> float | None:
        """The smallest standard bar that cleans up to diameter ``d`` (None: larger than every bar)."""
        need = d + self.diameter_allowance_mm
        return next((b for b in self.bar_diameters_mm if b >= need - 1e-9), None)


class TurnTime(_Data):
    utilisation: float = Field(gt=0, le=1)
    load_unload_min_per_part: float = Field(ge=0)
    source: Source


class TurnLimits(_Data):
    tailstock_l_over_d: float = Field(gt=0)
    steady_rest_l_over_d: float = Field(gt=0)
    min_diameter_mm: float = Field(gt=0)
    bore_reach_over_d: float = Field(gt=0)
    max_length_mm: float = Field(gt=0)
    source: Source


class TurnProcess(Process):
    stock: TurnStock
    time: TurnTime
    programming: Programming
    limits: TurnLimits
    bands: CncBands
    """The same lines as milling's: material, machining, handling, setup, programming."""


class TurnMaterial(MaterialParams):
    mrr_cm3_per_min: float = Field(gt=0)
    """Roughing removal rate, v x f x ap."""
    finish_cm2_per_min: float = Field(gt=0)
    """Finishing pass area rate, v x f."""


# --------------------------------------------------------------------------------------------- DFM rules


def _spot(f: PartFacts, tri: int) -> dict:
    if tri < 0 or tri >= f.n_triangles:
        return {}
    return {"face_ids": [int(f.face_ids[tri])], "point_mm": tuple(rounded(v) for v in f.centroids[tri])}


def findings(
    f: PartFacts, m: PartMetrics, proc: TurnProcess, tm: TurnMaterial, opts: DfmOptions
) -> list[DfmFinding]:
    g, lim = m.turned, proc.limits
    if g is None or not g.recognised:
        return [
            DfmFinding(
                rule_id="TURN.NOT_AXISYMMETRIC",
                severity=Severity.BLOCKING,
                title=g.reason if g else "not axisymmetric: no axis measured",
                measured=rounded(g.off_axis_area_mm2) if g else None,
                limit=0.0,
                unit="mm2",
                why="a lathe makes surfaces of revolution about the spindle axis: planes perpendicular to it "
                "and cylinders, cones and tori around it",
                fix="make the part round about one axis, or mill the off-axis features (a mill-turn centre "
                "or a second operation, quoted separately)",
                **(_spot(f, g.worst) if g else {}),
            )
        ]
    out: list[DfmFinding] = []
    ld = g.length_mm / g.max_diameter_mm if g.max_diameter_mm > 0 else math.inf
    if above(ld, lim.steady_rest_l_over_d, 0.01):
        severity, title = Severity.BLOCKING, "too slender to turn between chuck and tailstock"
    elif above(ld, lim.tailstock_l_over_d, 0.01):
        severity, title = Severity.WARNING, "slender part: needs tailstock support"
    else:
        severity = None
    if severity is not None:
        out.append(
            DfmFinding(
                rule_id="TURN.LENGTH_TO_DIAMETER",
                severity=severity,
                title=title,
                measured=rounded(ld, 2),
                limit=lim.steady_rest_l_over_d if severity == Severity.BLOCKING else lim.tailstock_l_over_d,
                unit="L/D",
                why=f"L {g.length_mm:.1f} mm over D {g.max_diameter_mm:.1f} mm: a long, thin part deflects under "
                f"the cutting force; beyond {lim.tailstock_l_over_d:g} it needs a tailstock centre, beyond "
                f"{lim.steady_rest_l_over_d:g} a steady rest [{lim.source}]",
                fix="shorten or thicken the part, or quote a steady rest or a Swiss-type lathe",
            )
        )
    if below(g.min_diameter_mm, lim.min_diameter_mm):
        out.append(
            DfmFinding(
                rule_id="TURN.MIN_DIAMETER",
                severity=Severity.WARNING,
                title="external diameter below what turns without breaking",
                measured=rounded(g.min_diameter_mm),
                limit=lim.min_diameter_mm,
                unit="mm",
                why=f"a neck thinner than {lim.min_diameter_mm:g} mm bends or snaps under the tool [{lim.source}]",
                fix=f"make every diameter at least {lim.min_diameter_mm:g} mm",
            )
        )
    if above(g.bore_reach_ratio, lim.bore_reach_over_d, 0.01):
        out.append(
            DfmFinding(
                rule_id="TURN.BORE_REACH",
                severity=Severity.WARNING,
                title="internal bore or groove deeper than a boring bar reaches rigidly",
                measured=rounded(g.bore_reach_ratio, 2),
                limit=lim.bore_reach_over_d,
                unit="depth/diameter",
                why=f"internal surface {g.bore_reach_mm:.1f} mm from the nearer end: a boring bar or internal "
                f"grooving tool overhanging more than {lim.bore_reach_over_d:g} x the bore chatters [{lim.source}]",
                fix="make the bore shallower or wider, or reach it from both ends",
                **_spot(f, g.worst),
            )
        )
    if proc.stock.bar_for(g.max_diameter_mm) is None or above(g.length_mm, lim.max_length_mm):
        out.append(
            DfmFinding(
                rule_id="TURN.STOCK_SIZE",
                severity=Severity.BLOCKING,
                title="larger than the lathe's bar capacity or turning length",
                measured=rounded(max(g.max_diameter_mm, g.length_mm)),
                limit=max(proc.stock.bar_diameters_mm[-1], lim.max_length_mm),
                unit="mm",
                why=f"D {g.max_diameter_mm:.0f} mm (largest bar {proc.stock.bar_diameters_mm[-1]:g} mm), L "
                f"{g.length_mm:.0f} mm (max {lim.max_length_mm:g} mm) [{proc.stock.source}; {lim.source}]",
                fix="quote a larger lathe, or split the part",
            )
        )
    return out


# --------------------------------------------------------------------------------------------- cost model


def _cylinder(m: PartMetrics) -> TurnedGeometry:
    """A part that is not turnable: priced as its bounding cylinder about its longest axis."""
    dims = sorted(m.size_mm, reverse=True)
    return TurnedGeometry(recognised=False, length_mm=dims[0], max_diameter_mm=math.hypot(dims[1], dims[2]))


def cost(m: PartMetrics, mat: MaterialProps, tm: TurnMaterial, q: int, proc: TurnProcess) -> CostModel:
    """Bar stock (next standard diameter x (length + facing + parting)), roughing (bar - part volume) / MRR,
    finishing (surface / area rate), load/unload, one setup and CAM per order."""
    g = m.turned if m.turned is not None and m.turned.recognised else _cylinder(m)
    r, st, t, b = proc.rates, proc.stock, proc.time, proc.bands
    caveats: list[str] = []
    if not g.recognised:
        caveats.append(
            f"the part is not axisymmetric: priced as its bounding cylinder (D {g.max_diameter_mm:.0f} x L "
            f"{g.length_mm:.0f} mm)"
        )
    bar = st.bar_for(g.max_diameter_mm)
    if bar is None:
        bar = g.max_diameter_mm + st.diameter_allowance_mm
        caveats.append(f"no standard bar up to {st.bar_diameters_mm[-1]:g} mm fits: priced at D {bar:.0f} mm")
    bar_len = g.length_mm + st.facing_allowance_mm + st.parting_width_mm
    bar_mm3 = math.pi / 4 * bar**2 * bar_len
    removed = max(bar_mm3 - m.volume_mm3, 0.0)
    kg = bar_mm3 * 1e-9 * mat.density_kg_m3
    rough_min = removed / 1000 / tm.mrr_cm3_per_min
    finish_min = m.area_mm2 / 100 / tm.finish_cm2_per_min
    cut_h = (rough_min + finish_min) / t.utilisation / 60
    handle_h = t.load_unload_min_per_part / 60
    pr = proc.programming
    cam_h = min(pr.hours_max, pr.hours_base + pr.hours_per_feature * m.features)
    costs = [
        Cost(
            "material (bar)",
            kg * mat.price_usd_per_kg,
            "part",
            f"bar D {bar:g} mm (next standard >= D {g.max_diameter_mm:.1f} + {st.diameter_allowance_mm:g} mm) x "
            f"({g.length_mm:.1f} + facing {st.facing_allowance_mm:g} + parting {st.parting_width_mm:g}) mm = "
            f"{bar_mm3 / 1000:.1f} cm3 x {mat.density_kg_m3:g} kg/m3 = {kg:.3f} kg x {usd(mat.price_usd_per_kg)}/kg "
            f"[price: {mat.price_source}; bar: {st.source}]",
            b.material_pct,
        ),
        Cost(
            "turning",
            cut_h * r.machine_rate_usd_per_h,
            "part",
            f"((bar - V) {removed / 1000:.1f} cm3 / MRR {tm.mrr_cm3_per_min:g} cm3/min = {rough_min:.2f} min + "
            f"surface {m.area_mm2 / 100:.1f} cm2 / {tm.finish_cm2_per_min:g} cm2/min = {finish_min:.2f} min) / "
            f"utilisation {t.utilisation:g} = {cut_h * 60:.2f} min x {usd(r.machine_rate_usd_per_h)}/h "
            f"[MRR: {tm.source}; utilisation: {t.source}; rate: {r.machine_rate_source}]",
            b.machining_pct,
        ),
        Cost(
            "load/unload",
            handle_h * (r.machine_rate_usd_per_h + r.labour_rate_usd_per_h),
            "part",
            f"{t.load_unload_min_per_part:g} min x (machine {usd(r.machine_rate_usd_per_h)}/h + labour "
            f"{usd(r.labour_rate_usd_per_h)}/h) [{t.source}; labour: {r.labour_rate_source}]",
            b.handling_pct,
        ),
        Cost("setup", r.setup_usd, "order", f"1 setup x {usd(r.setup_usd)} [{r.setup_source}]", b.setup_pct),
        Cost(
            "programming (CAM)",
            cam_h * pr.cam_rate_usd_per_h,
            "order",
            f"min({pr.hours_max:g} h, {pr.hours_base:g} h + {pr.hours_per_feature:g} h x {m.features} features) = "
            f"{cam_h:.2f} h x {usd(pr.cam_rate_usd_per_h)}/h [{pr.source}]",
            b.programming_pct,
        ),
    ]
    lt = proc.lead_time
    lead, lead_basis = lt.production(q, cut_h + handle_h, "turning and handling")
    params = {
        "bar_diameter_mm": bar,
        "bar_length_mm": bar_len,
        "part_length_mm": g.length_mm,
        "part_max_diameter_mm": g.max_diameter_mm,
        "bar_volume_mm3": bar_mm3,
        "removed_volume_mm3": removed,
        "roughing_min": rough_min,
        "finishing_min": finish_min,
        "machine_hours_per_part": cut_h,
        "handling_hours_per_part": handle_h,
        "programming_hours": cam_h,
        "mrr_cm3_per_min": tm.mrr_cm3_per_min,
        "stock_mass_kg": kg,
    }
    return CostModel(costs, params, lead, lead_basis, caveats)


METHOD = Method(
    method=ManufacturingMethod.CNC_TURNING,
    process=TurnProcess,
    material_params=TurnMaterial,
    data_file=__file__.removesuffix(".py") + ".toml",
    findings=findings,
    cost=cost,
    not_this_kind="TURN.NOT_AXISYMMETRIC",
)
