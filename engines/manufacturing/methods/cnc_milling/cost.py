"""CNC milling's cost model: stock, roughing and finishing time, handling, setups and CAM."""

from __future__ import annotations

from engines.manufacturing.method import Cost, CostModel, usd
from engines.manufacturing.methods.cnc_milling.rows import CncMaterial, CncProcess
from engines.manufacturing.metrics import PartMetrics
from shared.materials import MaterialProps


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
