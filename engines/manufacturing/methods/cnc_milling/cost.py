"""CNC milling's cost model: stock, roughing and finishing time, handling, setups, fixtures and CAM.

Batches: below the quantity where it pays, each part is loaded on its own in a vise and the spindle cuts for
``time.utilisation`` of the time; a dedicated fixture (``batch``: built once per setup) holds several stock
blocks per load, so the load/unload time is shared by the parts on it and the spindle cuts for
``batch.utilisation`` of the time. The fixture is used when it gives the lower unit price at the order's
quantity, so handling per part falls with the batch and the unit price keeps falling past a few hundred.

Programming time is per surface feature (``PartMetrics.features``): an STL's features are estimated from its
mesh, so a mesh pays about what its STEP twin does, not the maximum for its triangle count.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.manufacturing.method import Cost, CostModel, usd
from engines.manufacturing.methods.cnc_milling.rows import CncMaterial, CncProcess
from engines.manufacturing.metrics import PartMetrics
from shared.materials import MaterialProps


@dataclass(frozen=True)
class _Workholding:
    """How parts are held: one per load in a vise, or several on a dedicated fixture."""

    fixture: bool
    parts_per_load: int
    utilisation: float
    fixture_usd: float
    """Per order: one fixture per setup."""


def _options(proc: CncProcess, stock: tuple[float, float, float], setups: int) -> list[_Workholding]:
    t, bt = proc.time, proc.batch
    vise = _Workholding(False, 1, t.utilisation, 0.0)
    k = bt.parts_per_load(stock, proc.limits.travel_mm)
    return [vise, _Workholding(True, k, bt.utilisation, setups * bt.fixture_usd_per_setup)]


def cost(m: PartMetrics, mat: MaterialProps, mp: CncMaterial, q: int, proc: CncProcess) -> CostModel:
    """Stock (bounding box + allowance) x price, roughing and finishing time, handling, setups, fixture and CAM."""
    r, lim, b, t, bt = proc.rates, proc.limits, proc.bands, proc.time, proc.batch
    a = lim.stock_allowance_per_side_mm
    sx, sy, sz = lim.stock_mm(m)
    stock_mm3 = sx * sy * sz
    removed_mm3 = max(stock_mm3 - m.volume_mm3, 0.0)
    rough_min = removed_mm3 / 1000 / mp.mrr_cm3_per_min
    finish_min = m.cnc_machined_area_mm2 / 100 / mp.finish_cm2_per_min
    setups = max(1, m.cnc_setups)
    stock_kg = stock_mm3 * 1e-9 * mat.density_kg_m3
    pr = proc.programming
    features = m.features
    cam_h = min(pr.hours_max, pr.hours_base + pr.hours_per_feature * features)
    fixed = setups * r.setup_usd + cam_h * pr.cam_rate_usd_per_h
    handling_rate = r.machine_rate_usd_per_h + r.labour_rate_usd_per_h

    def cut_h(w: _Workholding) -> float:
        return (rough_min + finish_min) / w.utilisation / 60

    def handle_h(w: _Workholding) -> float:
        return setups * t.load_unload_min_per_setup / 60 / w.parts_per_load

    def unit(w: _Workholding) -> float:
        per_part = cut_h(w) * r.machine_rate_usd_per_h + handle_h(w) * handling_rate
        return per_part + (fixed + w.fixture_usd) / q

    options = _options(proc, (sx, sy, sz), setups)
    hold = options[0]
    for cand in options[1:]:
        if unit(cand) < unit(hold):  # ties keep the vise
            hold = cand
    cut, handle = cut_h(hold), handle_h(hold)
    how = (
        f"dedicated fixture, {hold.parts_per_load} part(s) per load"
        if hold.fixture
        else "one part per load in a vise"
    )
    alt = ", ".join(f"{'fixture' if w.fixture else 'vise'} {usd(unit(w))}" for w in options)

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
            cut * r.machine_rate_usd_per_h,
            "part",
            f"((stock - V) {removed_mm3 / 1000:.1f} cm3 / MRR {mp.mrr_cm3_per_min:g} cm3/min = {rough_min:.2f} min + "
            f"machined area {m.cnc_machined_area_mm2 / 100:.1f} cm2 / {mp.finish_cm2_per_min:g} cm2/min = "
            f"{finish_min:.2f} min) / utilisation {hold.utilisation:g} ({how}) = {cut * 60:.2f} min x "
            f"{usd(r.machine_rate_usd_per_h)}/h [MRR: {mp.source}; utilisation: "
            f"{bt.source if hold.fixture else t.source}; rate: {r.machine_rate_source}]",
            b.machining_pct,
        ),
        Cost(
            "load/unload",
            handle * handling_rate,
            "part",
            f"{setups} setup(s) x {t.load_unload_min_per_setup:g} min / {hold.parts_per_load} part(s) per load "
            f"({how}) = {handle * 60:.2f} min x (machine {usd(r.machine_rate_usd_per_h)}/h + labour "
            f"{usd(r.labour_rate_usd_per_h)}/h; the spindle waits) [time: {t.source}; batch: {bt.source}; "
            f"machine: {r.machine_rate_source}; labour: {r.labour_rate_source}]",
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
            f"min({pr.hours_max:g} h, {pr.hours_base:g} h + {pr.hours_per_feature:g} h x {features} features) = "
            f"{cam_h:.2f} h x {usd(pr.cam_rate_usd_per_h)}/h [{pr.source}]",
            b.programming_pct,
        ),
    ]
    if hold.fixture:
        costs.append(
            Cost(
                "fixture",
                hold.fixture_usd,
                "order",
                f"{setups} setup(s) x {usd(bt.fixture_usd_per_setup)} dedicated fixture holding "
                f"{hold.parts_per_load} part(s) per load; used because it gives the lower unit cost at Q={q} "
                f"({alt}) [{bt.source}]",
                b.setup_pct,
            )
        )

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
    lead, lead_basis = lt.production(q, cut + handle, "spindle and handling")
    params = {
        "stock_x_mm": sx,
        "stock_y_mm": sy,
        "stock_z_mm": sz,
        "stock_volume_mm3": stock_mm3,
        "removed_volume_mm3": removed_mm3,
        "roughing_min": rough_min,
        "finishing_min": finish_min,
        "machine_hours_per_part": cut,
        "handling_hours_per_part": handle,
        "setups": float(setups),
        "parts_per_load": float(hold.parts_per_load),
        "fixture": 1.0 if hold.fixture else 0.0,
        "features": float(features),
        "programming_hours": cam_h,
        "mrr_cm3_per_min": mp.mrr_cm3_per_min,
        "finish_cm2_per_min": mp.finish_cm2_per_min,
        "utilisation": hold.utilisation,
        "stock_mass_kg": stock_kg,
    }
    return CostModel(costs, params, lead, lead_basis, caveats)
