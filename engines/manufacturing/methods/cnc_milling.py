"""CNC milling (3-axis VMC): catalogue rows, DFM rules and cost model.

Data: ``cnc_milling.toml`` next to this module, and the ``[materials.<id>.cnc_milling]`` tables of
``shared/data/materials.toml`` (removal and finishing rates, minimum wall).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from engines.manufacturing.facts import DIRECTION_NAMES, DIRECTIONS, PartFacts
from engines.manufacturing.method import (
    Cost,
    CostModel,
    MaterialParams,
    Method,
    Process,
    Source,
    _Data,
    usd,
)
from engines.manufacturing.metrics import (
    PartMetrics,
    cnc_setup_directions,
    envelope_mask,
    face_median_thickness,
)
from engines.manufacturing.rules import MAX_FACE_IDS, fits, rounded, significant, where
from shared.materials import MaterialProps
from shared.models import DfmFinding, ManufacturingMethod, Severity

# --------------------------------------------------------------------------------------------- catalogue


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

    @property
    def travel_mm(self) -> tuple[float, float, float]:
        return (self.travel_x_mm, self.travel_y_mm, self.travel_z_mm)

    def stock_mm(self, m: PartMetrics) -> tuple[float, float, float]:
        """The stock block: the part's bounding box plus the allowance on every side."""
        a = self.stock_allowance_per_side_mm
        sx, sy, sz = (s + 2 * a for s in m.size_mm)
        return sx, sy, sz

    def stock_fits(self, stock: tuple[float, ...]) -> bool:
        """The stock fits the machine's travel in some axis order (CNC.STOCK_SIZE; the quote's caveat)."""
        return fits(stock, self.travel_mm)

    def too_many_setups(self, setups: int) -> bool:
        return setups > self.max_setups_warn


class CncBands(_Data):
    material_pct: float = Field(ge=0)
    machining_pct: float = Field(ge=0)
    handling_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    programming_pct: float = Field(ge=0)
    source: Source


class CncProcess(Process):
    programming: CncProgramming
    time: CncTime
    limits: CncLimits
    bands: CncBands


class CncMaterial(MaterialParams):
    """How fast a 3-axis mill removes and finishes this material, and its DFM floor."""

    mrr_cm3_per_min: float = Field(gt=0)
    """Roughing material-removal rate."""
    finish_cm2_per_min: float = Field(gt=0)
    """Finishing area rate over machined surfaces."""
    min_wall_mm: float = Field(gt=0)


# --------------------------------------------------------------------------------------------- DFM rules


def findings(f: PartFacts, m: PartMetrics, proc: CncProcess, mat: CncMaterial) -> list[DfmFinding]:
    lim = proc.limits
    out: list[DfmFinding] = []
    machined = ~envelope_mask(f)
    unreachable = machined & ~f.reach.any(axis=1)
    if significant(f, unreachable):
        out.append(
            DfmFinding(
                rule_id="CNC.UNDERCUT",
                severity=Severity.BLOCKING,
                title="surface no straight 3-axis tool path reaches",
                measured=rounded(f.areas[unreachable].sum()),
                limit=0.0,
                unit="mm2",
                why="a 3-axis mill only reaches surface it can see along +-X, +-Y or +-Z; this surface is "
                "hidden from all six (an undercut or an enclosed cavity)",
                fix="open the feature to one principal direction, split the part, or quote 5-axis/EDM",
                **where(f, unreachable),
            )
        )
    setups = cnc_setup_directions(f)
    if len(setups) > 1:
        over = lim.too_many_setups(len(setups))
        out.append(
            DfmFinding(
                rule_id="CNC.SETUPS",
                severity=Severity.WARNING if over else Severity.INFO,
                title=f"{len(setups)} setups: " + ", ".join(DIRECTION_NAMES[k] for k in setups),
                measured=float(len(setups)),
                limit=float(lim.max_setups_warn),
                unit="setups",
                why="each extra direction means re-fixturing the part: setup time, and tolerance stack-up "
                "between features cut in different setups",
                fix="put features on as few faces as possible, preferably all reachable from one side",
            )
        )
    out += _corner_findings(f, setups or [4], lim)
    if np.isfinite(m.wall_min_mm) and m.wall_min_mm < mat.min_wall_mm:
        per_face = face_median_thickness(f)
        thin = np.isin(f.face_ids, [k for k, v in per_face.items() if v < mat.min_wall_mm])
        out.append(
            DfmFinding(
                rule_id="CNC.THIN_WALL",
                severity=Severity.WARNING,
                title="wall thinner than this material machines reliably",
                measured=rounded(m.wall_min_mm),
                limit=mat.min_wall_mm,
                unit="mm",
                why="thin walls chatter and deflect under the cutter, so they lose tolerance or break",
                fix=f"thicken the wall to at least {mat.min_wall_mm} mm or support it with a rib",
                **where(f, thin),
            )
        )
    stock = lim.stock_mm(m)
    if not lim.stock_fits(stock):
        travel = lim.travel_mm
        out.append(
            DfmFinding(
                rule_id="CNC.STOCK_SIZE",
                severity=Severity.BLOCKING,
                title="stock does not fit the machine's travel",
                measured=rounded(max(stock)),
                limit=max(travel),
                unit="mm",
                why=f"stock {stock[0]:.0f} x {stock[1]:.0f} x {stock[2]:.0f} mm exceeds the travel "
                f"{travel[0]:.0f} x {travel[1]:.0f} x {travel[2]:.0f} mm in every orientation",
                fix="split the part or quote a larger machine",
            )
        )
    if not f.has_brep:
        out.append(
            DfmFinding(
                rule_id="CNC.CORNERS_NOT_MEASURED",
                severity=Severity.INFO,
                title="internal corner radii not checked (mesh input)",
                why="an STL carries triangles, not fillets, so corner radii cannot be measured",
                fix="analyse the STEP file to check corner radii against the tool",
            )
        )
    return out


def _corner_findings(f: PartFacts, setups: list[int], lim: CncLimits) -> list[DfmFinding]:
    """Internal corners along a setup's tool axis are cut by the tool's side: they keep its radius."""
    if not len(f.corner_radius):
        return []
    face_reach: dict[int, np.ndarray] = {}
    standard_r, min_r = lim.tool_radius_standard_mm, lim.tool_radius_min_mm

    def reach_share(face: int) -> np.ndarray:
        if face not in face_reach:
            sel = f.face_ids == face
            a = f.areas[sel]
            face_reach[face] = (f.reach[sel] * a[:, None]).sum(axis=0) / max(a.sum(), 1e-12)
        return face_reach[face]

    tight: list[tuple[float, int, float]] = []  # (radius, corner index, depth/diameter)
    deep: list[tuple[float, int]] = []
    for c in range(len(f.corner_radius)):
        for k in setups:
            d = DIRECTIONS[k]
            if abs(float(f.corner_axis[c] @ d)) < 0.99:
                continue
            if any(reach_share(int(face))[k] < 0.5 for face in set(f.corner_faces[c].tolist())):
                continue
            top = float(max(f.bbox_min @ d, f.bbox_max @ d))
            depth = top - float(min(f.corner_p0[c] @ d, f.corner_p1[c] @ d))
            tool_r = standard_r if f.corner_radius[c] <= 0 else min(f.corner_radius[c], standard_r)
            ratio = depth / (2 * max(tool_r, min_r))
            if f.corner_radius[c] < standard_r:
                tight.append((float(f.corner_radius[c]), c, ratio))
            if ratio > lim.max_depth_to_tool_diameter:
                deep.append((ratio, c))
            break
    out: list[DfmFinding] = []
    if tight:
        worst_r, worst_c, _ = min(tight)
        blocking = worst_r < min_r
        corners = [c for _, c, _ in tight]
        out.append(
            DfmFinding(
                rule_id="CNC.INTERNAL_CORNER_RADIUS",
                severity=Severity.BLOCKING if blocking else Severity.WARNING,
                title=(
                    f"{len(corners)} internal corner(s) along the tool axis "
                    + ("are sharp" if worst_r == 0 else f"have radius down to {worst_r:.2f} mm")
                ),
                measured=rounded(worst_r),
                limit=standard_r,
                unit="mm",
                face_ids=sorted({int(x) for c in corners for x in f.corner_faces[c]})[:MAX_FACE_IDS],
                point_mm=tuple(rounded(v) for v in (f.corner_p0[worst_c] + f.corner_p1[worst_c]) / 2),
                why=(
                    "a rotating cutter leaves at least its own radius in a corner parallel to its axis: "
                    + (
                        f"below {min_r} mm no practical end mill fits"
                        if blocking
                        else f"below the standard {standard_r} mm tool radius a smaller, slower tool is needed"
                    )
                ),
                fix=f"fillet the vertical internal corners to at least {standard_r} mm "
                f"(ideally {1.3 * standard_r:.1f} mm), or relieve them (dog-bone)",
            )
        )
    if deep:
        ratio, c = max(deep)
        out.append(
            DfmFinding(
                rule_id="CNC.DEEP_POCKET",
                severity=Severity.WARNING,
                title="deep, narrow pocket corner for the tool that fits it",
                measured=rounded(ratio, 2),
                limit=lim.max_depth_to_tool_diameter,
                unit="depth/tool diameter",
                face_ids=sorted({int(x) for _, cc in deep for x in f.corner_faces[cc]})[:MAX_FACE_IDS],
                point_mm=tuple(rounded(v) for v in (f.corner_p0[c] + f.corner_p1[c]) / 2),
                why="long, slender tools deflect and chatter: slower feeds, long-reach tooling, worse finish",
                fix="make the pocket shallower or its corner radii larger so a stiffer tool reaches the floor",
            )
        )
    return out


# --------------------------------------------------------------------------------------------- cost model


def cost(m: PartMetrics, mat: MaterialProps, mp: CncMaterial, q: int, proc: CncProcess) -> CostModel:
    """Stock (bounding box + allowance) x price, roughing and finishing time, handling, setups and CAM."""
    r, lim, b, t = proc.rates, proc.limits, proc.bands, proc.time
    a = lim.stock_allowance_per_side_mm
    sx, sy, sz = lim.stock_mm(m)
    stock_mm3 = sx * sy * sz
    removed_mm3 = max(stock_mm3 - m.volume_mm3, 0.0)
    rough_min = removed_mm3 / 1000 / mp.mrr_cm3_per_min
    finish_min = m.cnc_machined_area_mm2 / 100 / mp.finish_cm2_per_min
    cut_h = (rough_min + finish_min) / t.utilisation / 60
    setups = max(1, m.cnc_setups)
    handle_h = setups * t.load_unload_min_per_setup / 60
    stock_kg = stock_mm3 * 1e-9 * mat.density_kg_m3
    pr = proc.programming
    cam_h = min(pr.hours_max, pr.hours_base + pr.hours_per_face * m.n_faces)

    costs = [
        Cost(
            "material (stock)",
            stock_kg * mat.price_usd_per_kg,
            "part",
            f"stock {sx:.1f} x {sy:.1f} x {sz:.1f} mm (bbox + {a:g} mm per side) = {stock_mm3 / 1000:.1f} cm3 x "
            f"{mat.density_kg_m3:g} kg/m3 = {stock_kg:.3f} kg x {usd(mat.price_usd_per_kg)}/kg "
            f"[price: {mat.price_source}]; charged by stock, not by part volume ({m.volume_mm3 / 1000:.1f} cm3)",
            b.material_pct,
        ),
        Cost(
            "machining",
            cut_h * r.machine_rate_usd_per_h,
            "part",
            f"((stock - V) {removed_mm3 / 1000:.1f} cm3 / MRR {mp.mrr_cm3_per_min:g} cm3/min = {rough_min:.2f} min + "
            f"machined area {m.cnc_machined_area_mm2 / 100:.1f} cm2 / {mp.finish_cm2_per_min:g} cm2/min = "
            f"{finish_min:.2f} min) / utilisation {t.utilisation:g} = {cut_h * 60:.2f} min x "
            f"{usd(r.machine_rate_usd_per_h)}/h [MRR: {mp.source}; utilisation: {t.source}; "
            f"rate: {r.machine_rate_source}]",
            b.machining_pct,
        ),
        Cost(
            "load/unload",
            handle_h * (r.machine_rate_usd_per_h + r.labour_rate_usd_per_h),
            "part",
            f"{setups} setup(s) x {t.load_unload_min_per_setup:g} min = {handle_h * 60:.1f} min x (machine "
            f"{usd(r.machine_rate_usd_per_h)}/h + labour {usd(r.labour_rate_usd_per_h)}/h; the spindle waits) "
            f"[time: {t.source}; machine: {r.machine_rate_source}; labour: {r.labour_rate_source}]",
            b.handling_pct,
        ),
        Cost(
            "setup",
            setups * r.setup_usd,
            "order",
            f"{setups} setup(s) from the part's reachability x {usd(r.setup_usd)} per setup [{r.setup_source}]",
            b.setup_pct,
        ),
        Cost(
            "programming (CAM)",
            cam_h * pr.cam_rate_usd_per_h,
            "order",
            f"min({pr.hours_max:g} h, {pr.hours_base:g} h + {pr.hours_per_face:g} h x {m.n_faces} faces) = "
            f"{cam_h:.2f} h x {usd(pr.cam_rate_usd_per_h)}/h [{pr.source}]",
            b.programming_pct,
        ),
    ]

    caveats: list[str] = []
    if m.cnc_setups < 1:
        caveats.append("the geometry gave no setup count; 1 setup assumed")
    if lim.too_many_setups(setups):
        caveats.append(
            f"{setups} setups exceed the {lim.max_setups_warn} a 3-axis job is expected to need: consider 4/5-axis "
            "or a design change; setup and handling costs grow with every setup"
        )
    if not lim.stock_fits((sx, sy, sz)):
        caveats.append(
            f"stock {sx:.0f} x {sy:.0f} x {sz:.0f} mm does not fit the machine travel "
            f"{lim.travel_x_mm:g} x {lim.travel_y_mm:g} x {lim.travel_z_mm:g} mm in any axis order: manual review"
        )

    lt = proc.lead_time
    prod_days = q * (cut_h + handle_h) / (lt.hours_per_day * lt.parallel_machines)
    lead = lt.base_days + prod_days
    lead_basis = (
        f"{lt.base_days:g} d standard lead + {q} parts x {cut_h + handle_h:.3f} h spindle and handling / "
        f"({lt.hours_per_day:g} h/day x {lt.parallel_machines} machine(s)) = {prod_days:.1f} d [{lt.source}]"
    )
    params = {
        "stock_x_mm": sx,
        "stock_y_mm": sy,
        "stock_z_mm": sz,
        "stock_volume_mm3": stock_mm3,
        "removed_volume_mm3": removed_mm3,
        "roughing_min": rough_min,
        "finishing_min": finish_min,
        "machine_hours_per_part": cut_h,
        "handling_hours_per_part": handle_h,
        "setups": float(setups),
        "programming_hours": cam_h,
        "mrr_cm3_per_min": mp.mrr_cm3_per_min,
        "finish_cm2_per_min": mp.finish_cm2_per_min,
        "utilisation": t.utilisation,
        "stock_mass_kg": stock_kg,
    }
    return CostModel(costs, params, lead, lead_basis, caveats)


METHOD = Method(
    method=ManufacturingMethod.CNC_MILLING,
    process=CncProcess,
    material_params=CncMaterial,
    data_file=__file__.removesuffix(".py") + ".toml",
    findings=findings,
    cost=cost,
)
