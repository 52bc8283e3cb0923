"""Quotes for CNC milling, injection moulding and FDM printing, from part metrics and the pricing catalogue.

Pure functions (stdlib and the catalogue only, no geometry kernel): geometry is measured once into
:class:`~engines.manufacturing.metrics.PartMetrics`; pricing any quantity, ladder or price table is then cheap
and deterministic.

Conventions, the same for every method:

- **Honour the request.** The quote is for the method, material and quantity asked for. A quantity below 1 or
  a material the method does not take raises ``ValueError`` (the message from
  :func:`shared.materials.check_method` names the methods that do take it); there is no fallback method.
- **Lines are prices.** Each line's cost is divided by ``(1 - margin)`` of its process (price = cost / (1 - m)),
  and its basis shows the cost, the margin and the margin's source. So the lines add up to the unit price, and
  a price table with ``margin = 0`` gives pure cost.
- **Lines per part and per order.** ``per="part"`` lines are per part; ``per="order"`` lines (setup,
  programming, tooling, file preparation) are totals for the order.
  ``unit = sum(part lines) + sum(order lines) / quantity`` and ``total = unit x quantity``.
- **Band rule.** ``band_pct = sum_i (contribution_i / unit) x band_i``, where ``contribution_i`` is what line
  *i* adds to the unit price. The line errors are treated as fully correlated, so this is a linear weighted
  mean: it is an upper bound of the root-sum-square of independent errors, on purpose conservative.
  ``unit_cost_low/high = unit x (1 -/+ band/100)`` (low clipped at 0).
- **Parameters are model numbers, before margin** (``tooling_cost_usd`` is the mould's cost; its quote line is
  the price). They echo what the lines were computed from: times, cavities, setups, stock, volumes.
- **Every basis names its sources.** Rates come from the catalogue (``processes.toml``) or the material table
  (``shared/data/materials.toml``), each with a source string; a user price table replaces value and source.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import TypeAdapter

from engines.manufacturing.catalog import Catalog, CncProcess, FdmProcess, MoldingProcess, Rates
from engines.manufacturing.metrics import PartMetrics
from shared.materials import MaterialProps, MoldingMaterialParams, check_method
from shared.models import LadderRung, ManufacturingMethod, Material, MaterialId, Method, Quote, QuoteLine

_METHOD = TypeAdapter(Method)
_MATERIAL = TypeAdapter(Material)
NEWTONS_PER_TONNE_FORCE = 9806.65


@dataclass(frozen=True)
class _Cost:
    """A quote line before the margin is applied."""

    item: str
    cost_usd: float
    per: Literal["part", "order"]
    basis: str
    band_pct: float


@dataclass
class _Model:
    costs: list[_Cost]
    parameters: dict[str, float]
    lead_time_days: float
    lead_time_basis: str
    caveats: list[str] = field(default_factory=list)


def _usd(x: float) -> str:
    """Dollars with cents, or four decimals below a dollar (per-part moulding lines are fractions of a cent)."""
    return f"${x:,.2f}" if abs(x) >= 1 or x == 0 else f"${x:.4f}"


# ------------------------------------------------------------------------------------------------ CNC


def _cnc(m: PartMetrics, mat: MaterialProps, q: int, proc: CncProcess) -> _Model:
    mp = mat.cnc_milling
    assert mp is not None  # check_method ran first
    r, lim, b, t = proc.rates, proc.limits, proc.bands, proc.time
    a = lim.stock_allowance_per_side_mm
    sx, sy, sz = (s + 2 * a for s in m.size_mm)
    stock_mm3 = sx * sy * sz
    removed_mm3 = max(stock_mm3 - m.volume_mm3, 0.0)
    rough_min = removed_mm3 / 1000 / mp.mrr_cm3_per_min
    finish_min = m.cnc_machined_area_mm2 / 100 / mp.finish_cm2_per_min
    cut_h = (rough_min + finish_min) / t.utilisation / 60
    setups = max(1, m.cnc_setups)
    handle_h = setups * t.load_unload_min_per_setup / 60
    stock_kg = stock_mm3 * 1e-9 * mat.density_kg_m3
    cam_h = min(
        proc.programming.hours_max, proc.programming.hours_base + proc.programming.hours_per_face * m.n_faces
    )
    pr = proc.programming

    costs = [
        _Cost(
            "material (stock)",
            stock_kg * mat.price_usd_per_kg,
            "part",
            f"stock {sx:.1f} x {sy:.1f} x {sz:.1f} mm (bbox + {a:g} mm per side) = {stock_mm3 / 1000:.1f} cm3 x "
            f"{mat.density_kg_m3:g} kg/m3 = {stock_kg:.3f} kg x {_usd(mat.price_usd_per_kg)}/kg "
            f"[price: {mat.price_source}]; charged by stock, not by part volume ({m.volume_mm3 / 1000:.1f} cm3)",
            b.material_pct,
        ),
        _Cost(
            "machining",
            cut_h * r.machine_rate_usd_per_h,
            "part",
            f"((stock - V) {removed_mm3 / 1000:.1f} cm3 / MRR {mp.mrr_cm3_per_min:g} cm3/min = {rough_min:.2f} min + "
            f"machined area {m.cnc_machined_area_mm2 / 100:.1f} cm2 / {mp.finish_cm2_per_min:g} cm2/min = "
            f"{finish_min:.2f} min) / utilisation {t.utilisation:g} = {cut_h * 60:.2f} min x "
            f"{_usd(r.machine_rate_usd_per_h)}/h [MRR: {mp.source}; utilisation: {t.source}; "
            f"rate: {r.machine_rate_source}]",
            b.machining_pct,
        ),
        _Cost(
            "load/unload",
            handle_h * (r.machine_rate_usd_per_h + r.labour_rate_usd_per_h),
            "part",
            f"{setups} setup(s) x {t.load_unload_min_per_setup:g} min = {handle_h * 60:.1f} min x (machine "
            f"{_usd(r.machine_rate_usd_per_h)}/h + labour {_usd(r.labour_rate_usd_per_h)}/h; the spindle waits) "
            f"[time: {t.source}; machine: {r.machine_rate_source}; labour: {r.labour_rate_source}]",
            b.handling_pct,
        ),
        _Cost(
            "setup",
            setups * r.setup_usd,
            "order",
            f"{setups} setup(s) from the part's reachability x {_usd(r.setup_usd)} per setup [{r.setup_source}]",
            b.setup_pct,
        ),
        _Cost(
            "programming (CAM)",
            cam_h * pr.cam_rate_usd_per_h,
            "order",
            f"min({pr.hours_max:g} h, {pr.hours_base:g} h + {pr.hours_per_face:g} h x {m.n_faces} faces) = "
            f"{cam_h:.2f} h x {_usd(pr.cam_rate_usd_per_h)}/h [{pr.source}]",
            b.programming_pct,
        ),
    ]

    caveats: list[str] = []
    if m.cnc_setups < 1:
        caveats.append("the geometry gave no setup count; 1 setup assumed")
    if setups > lim.max_setups_warn:
        caveats.append(
            f"{setups} setups exceed the {lim.max_setups_warn} a 3-axis job is expected to need: consider 4/5-axis "
            "or a design change; setup and handling costs grow with every setup"
        )
    travel = sorted((lim.travel_x_mm, lim.travel_y_mm, lim.travel_z_mm))
    if any(s > tr for s, tr in zip(sorted((sx, sy, sz)), travel)):
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
    return _Model(costs, params, lead, lead_basis, caveats)


# ------------------------------------------------------------------------------------------------ moulding


def cooling_time_s(wall_mm: float, resin: MoldingMaterialParams) -> float:
    """One-term plate solution for the average temperature (AnkusDrive ``molding.py``; anchors 3.3).

    ``t_c = s^2 / (pi^2 alpha) * ln(8 (T_melt - T_mold) / (pi^2 (T_eject - T_mold)))``; quadratic in the wall,
    which is why the thickest wall, not the part size, sets the cycle.
    """
    if wall_mm <= 0:
        raise ValueError(f"wall thickness must be > 0 mm, got {wall_mm}")
    ratio = (
        8 * (resin.melt_temp_c - resin.mold_temp_c) / (math.pi**2 * (resin.eject_temp_c - resin.mold_temp_c))
    )
    return wall_mm**2 / (math.pi**2 * resin.alpha_mm2_per_s) * math.log(ratio)


@dataclass(frozen=True)
class _Tooling:
    cavities: int
    plate_x_mm: float
    plate_y_mm: float
    plate_z_mm: float
    base_mass_kg: float
    base_usd: float
    cavity_hours: float
    """Per cavity."""
    area_hours: float
    complexity_hours: float
    cavities_usd: float
    side_actions_usd: float

    @property
    def total_usd(self) -> float:
        return self.base_usd + self.cavities_usd + self.side_actions_usd


def _tooling(m: PartMetrics, n: int, proc: MoldingProcess, projected_mm2: float) -> _Tooling:
    """Kazmer mould base (plates sized from the cavity layout) + cavity machining hours + side actions."""
    tb, tc = proc.tooling.base, proc.tooling.cavity
    x, y, z = m.size_mm
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    px = cols * x + (cols - 1) * tb.cavity_spacing_mm + 2 * tb.plate_margin_mm
    py = rows * y + (rows - 1) * tb.cavity_spacing_mm + 2 * tb.plate_margin_mm
    pz = z + tb.stack_height_mm
    mass = px * py * pz * 1e-9 * tb.steel_density_kg_m3
    base = tb.fixed_usd + mass * tb.steel_usd_per_kg
    area_h = tc.hours_fixed + tc.hours_area_coeff * (projected_mm2 / 100) ** tc.hours_area_exponent
    x_side = tc.complexity_per_face * min(m.n_faces, tc.complexity_faces_cap) / 2
    cx_h = 2 * tc.complexity_hours_coeff * x_side**tc.complexity_exponent
    cav_h = area_h + cx_h
    cav_usd = cav_h * proc.tooling.mould_shop_rate_usd_per_h * n
    side = m.im_side_actions * proc.tooling.side_action.usd_per_side_action * n
    return _Tooling(n, px, py, pz, mass, base, cav_h, area_h, cx_h, cav_usd, side)


def _molding(m: PartMetrics, mat: MaterialProps, q: int, proc: MoldingProcess) -> _Model:
    resin = mat.injection_molding
    assert resin is not None  # check_method ran first
    r, cyc, press, b = proc.rates, proc.cycle, proc.press, proc.bands
    caveats: list[str] = []

    wall = m.wall_max_mm
    if wall <= 0:
        wall = min(m.size_mm)
        caveats.append(
            f"no wall thickness was measured; cooling uses the smallest bbox extent {wall:.2f} mm (an upper bound)"
        )
    projected = m.projected_area_z_mm2
    if projected <= 0:
        projected = m.size_mm[0] * m.size_mm[1]
        caveats.append(
            "no projected area was measured; the bbox footprint is used for clamp force and tooling"
        )

    t_cool = cooling_time_s(wall, resin)
    cycle = cyc.inject_s + cyc.pack_s + t_cool + cyc.open_close_s
    resin_kg = m.volume_mm3 * 1e-9 * mat.density_kg_m3
    allowance = 1 + proc.material.runner_fraction + proc.material.scrap_fraction
    resin_cost = resin_kg * allowance * mat.price_usd_per_kg

    def clamp_t(n: int) -> float:
        return projected * press.cavity_pressure_mpa * n * press.clamp_safety_factor / NEWTONS_PER_TONNE_FORCE

    def unit_cost(n: int) -> float:
        pph = 3600 / cycle * n
        per_part = (
            resin_cost + (r.machine_rate_usd_per_h + r.labour_rate_usd_per_h * press.operator_share) / pph
        )
        return per_part + (_tooling(m, n, proc, projected).total_usd + r.setup_usd) / q

    options = sorted(proc.tooling.cavity_options)
    feasible = [n for n in options if clamp_t(n) <= press.max_clamp_tonnes]
    if not feasible:
        feasible = options[:1]
        caveats.append(
            f"clamp force {clamp_t(options[0]):.0f} t for {options[0]} cavity exceeds the largest press "
            f"({press.max_clamp_tonnes:g} t): manual review"
        )
    # The lowest unit cost at this quantity wins; ties go to fewer cavities. Each option's unit cost is
    # c_n + F_n / Q, non-increasing in Q, so their minimum never rises along a quantity ladder.
    n = feasible[0]
    for cand in feasible[1:]:
        if unit_cost(cand) < unit_cost(n):
            n = cand
    tool = _tooling(m, n, proc, projected)
    pph = 3600 / cycle * n
    machine_h = 1 / pph
    clamp = clamp_t(n)

    tc, tb = proc.tooling.cavity, proc.tooling.base
    unverified = (
        ""
        if tc.verified
        else " (Boothroyd-Dewhurst-Knight coefficients RECALLED, NOT verified from a source)"
    )
    alternatives = ", ".join(f"{c} cav {_usd(unit_cost(c))}" for c in feasible)
    costs = [
        _Cost(
            "resin",
            resin_cost,
            "part",
            f"V {m.volume_mm3 / 1000:.2f} cm3 x {mat.density_kg_m3:g} kg/m3 = {resin_kg * 1000:.2f} g x "
            f"(1 + runner {proc.material.runner_fraction:g} + scrap {proc.material.scrap_fraction:g}) x "
            f"{_usd(mat.price_usd_per_kg)}/kg [price: {mat.price_source}; allowances: {proc.material.source}]",
            b.material_pct,
        ),
        _Cost(
            "press time",
            r.machine_rate_usd_per_h * machine_h,
            "part",
            f"cooling t_c = s^2/(pi^2 alpha) ln(8(Tm-Tw)/(pi^2(Te-Tw))) with s = {wall:.2f} mm (thickest wall), "
            f"alpha {resin.alpha_mm2_per_s:g} mm2/s, Tm/Tw/Te {resin.melt_temp_c:g}/{resin.mold_temp_c:g}/"
            f"{resin.eject_temp_c:g} C = {t_cool:.2f} s [{resin.source}]; cycle = inject {cyc.inject_s:g} + pack "
            f"{cyc.pack_s:g} + cool {t_cool:.2f} + open/close {cyc.open_close_s:g} = {cycle:.2f} s [{cyc.source}]; "
            f"{n} cavities -> {pph:.1f} parts/h; {_usd(r.machine_rate_usd_per_h)}/h / {pph:.1f} "
            f"[rate: {r.machine_rate_source}]",
            b.machine_pct,
        ),
        _Cost(
            "press operator",
            r.labour_rate_usd_per_h * press.operator_share * machine_h,
            "part",
            f"{_usd(r.labour_rate_usd_per_h)}/h x {press.operator_share:g} operator per press / {pph:.1f} parts/h "
            f"[labour: {r.labour_rate_source}; share: {press.source}]",
            b.machine_pct,
        ),
        _Cost(
            "setup",
            r.setup_usd,
            "order",
            f"one production batch x {_usd(r.setup_usd)} [{r.setup_source}]",
            b.setup_pct,
        ),
        _Cost(
            "tooling (mould)",
            tool.total_usd,
            "order",
            f"{n}-cavity mould (cavities chosen by the lowest unit cost before margin at Q={q} among "
            f"{alternatives}; layouts above the press limit excluded): "
            f"base {_usd(tb.fixed_usd)} + {tool.base_mass_kg:.0f} kg steel x {_usd(tb.steel_usd_per_kg)}/kg "
            f"(plates {tool.plate_x_mm:.0f} x {tool.plate_y_mm:.0f} x {tool.plate_z_mm:.0f} mm) = "
            f"{_usd(tool.base_usd)} [{tb.source}] + cavity machining ({tc.hours_fixed:g} + "
            f"{tc.hours_area_coeff:g} x {projected / 100:.1f} cm2^{tc.hours_area_exponent:g} = "
            f"{tool.area_hours:.1f} h + complexity 2 x {tc.complexity_hours_coeff:g} x "
            f"({tc.complexity_per_face:g} x min({m.n_faces}, {tc.complexity_faces_cap}) faces / 2)"
            f"^{tc.complexity_exponent:g} = {tool.complexity_hours:.1f} h) = {tool.cavity_hours:.1f} h x "
            f"{_usd(proc.tooling.mould_shop_rate_usd_per_h)}/h x {n} cavities = {_usd(tool.cavities_usd)}"
            f"{unverified} [{tc.source}; shop rate: {proc.tooling.source}] + {m.im_side_actions} side action(s) "
            f"x {_usd(proc.tooling.side_action.usd_per_side_action)} x {n} cavities = "
            f"{_usd(tool.side_actions_usd)} [{proc.tooling.side_action.source}]",
            b.tooling_pct,
        ),
    ]

    lim = proc.limits
    fx, fy = sorted(m.size_mm[:2], reverse=True)
    if fx > max(lim.max_part_x_mm, lim.max_part_y_mm) or fy > min(lim.max_part_x_mm, lim.max_part_y_mm):
        caveats.append(
            f"part outline {fx:.0f} x {fy:.0f} mm exceeds the moulding limit {lim.max_part_x_mm:g} x "
            f"{lim.max_part_y_mm:g} mm [{lim.source}]: manual review"
        )
    if m.height_mm > lim.max_depth_mm:
        caveats.append(
            f"part height {m.height_mm:.0f} mm exceeds {lim.max_depth_mm:g} mm from one parting plane "
            f"[{lim.source}]: needs a parting line near mid-height or a manual review"
        )
    if wall > resin.wall_max_mm:
        caveats.append(
            f"thickest wall {wall:.2f} mm is above the {resin.wall_max_mm:g} mm limit for {mat.material_class.value} "
            f"resin: cooling (and so the cycle) is dominated by it, and sink is likely"
        )
    if m.im_side_actions:
        caveats.append(f"{m.im_side_actions} side action(s) priced into the mould for the undercuts")

    lt = proc.lead_time
    tooling_days = lt.tooling_base_days + n * tool.cavity_hours / lt.mould_shop_hours_per_day
    prod_days = q / pph / (lt.hours_per_day * lt.parallel_machines)
    lead = lt.base_days + tooling_days + prod_days
    lead_basis = (
        f"tooling {lt.tooling_base_days:g} d + {n} x {tool.cavity_hours:.1f} cavity hours / "
        f"{lt.mould_shop_hours_per_day:g} h/day = {tooling_days:.1f} d ({tooling_days / 7:.1f} weeks) + "
        f"production {q} / {pph:.1f} parts/h / ({lt.hours_per_day:g} h/day x {lt.parallel_machines} press(es)) = "
        f"{prod_days:.1f} d + {lt.base_days:g} d sampling and shipping [{lt.source}]"
    )
    params = {
        "wall_thickness_mm": wall,
        "cooling_time_s": t_cool,
        "cycle_time_s": cycle,
        "inject_s": cyc.inject_s,
        "pack_s": cyc.pack_s,
        "open_close_s": cyc.open_close_s,
        "cavities": float(n),
        "parts_per_hour": pph,
        "machine_hours_per_part": machine_h,
        "clamp_tonnes": clamp,
        "projected_area_mm2": projected,
        "part_mass_kg": resin_kg,
        "mould_base_mass_kg": tool.base_mass_kg,
        "mould_base_cost_usd": tool.base_usd,
        "cavity_hours_per_cavity": tool.cavity_hours,
        "cavity_machining_cost_usd": tool.cavities_usd,
        "side_actions": float(m.im_side_actions),
        "side_actions_cost_usd": tool.side_actions_usd,
        "tooling_cost_usd": tool.total_usd,
        "tooling_days": tooling_days,
    }
    return _Model(costs, params, lead, lead_basis, caveats)


# ------------------------------------------------------------------------------------------------ FDM


def _parts_per_build(m: PartMetrics, proc: FdmProcess) -> int:
    """Parts that fit side by side on one plate (one layer of parts, Z up, either way round in X/Y)."""
    lim = proc.limits
    x, y, z = m.size_mm
    if z > lim.build_z_mm:
        return 0
    g = lim.part_spacing_mm
    best = 0
    for a, c in ((x, y), (y, x)):
        if a <= lim.build_x_mm and c <= lim.build_y_mm:
            best = max(best, int((lim.build_x_mm + g) // (a + g)) * int((lim.build_y_mm + g) // (c + g)))
    return best


def _fdm(m: PartMetrics, mat: MaterialProps, q: int, proc: FdmProcess) -> _Model:
    fp = mat.fdm_printing
    assert fp is not None  # check_method ran first
    r, sl, b = proc.rates, proc.slicing, proc.bands
    line_flow = sl.line_width_mm * sl.layer_height_mm * sl.print_speed_mm_per_s
    flow = min(fp.max_flow_mm3_per_s, line_flow)
    shell = min(m.volume_mm3, m.area_mm2 * sl.perimeters * sl.line_width_mm)
    infill = (m.volume_mm3 - shell) * sl.infill
    support = m.fdm_support_volume_mm3 * sl.support_density
    layers = max(1, math.ceil(m.height_mm / sl.layer_height_mm - 1e-9))
    extrude_s = (shell / (sl.shell_speed_factor * flow) + (infill + support) / flow) * sl.overhead
    print_s = extrude_s + layers * sl.layer_change_s
    print_h = print_s / 3600
    deposited = shell + infill + support
    filament_kg = deposited * 1e-9 * mat.density_kg_m3 * (1 + proc.material.waste_fraction)
    post_min = proc.post.base_min_per_part + proc.post.support_removal_min_per_cm3 * support / 1000

    caveats: list[str] = []
    ppb = _parts_per_build(m, proc)
    if ppb < 1:
        lim = proc.limits
        caveats.append(
            f"part {m.size_mm[0]:.0f} x {m.size_mm[1]:.0f} x {m.size_mm[2]:.0f} mm (Z up) does not fit the build "
            f"volume {lim.build_x_mm:g} x {lim.build_y_mm:g} x {lim.build_z_mm:g} mm [{lim.source}]: "
            "split the part or use a larger printer; priced as one part per build"
        )
        ppb = 1
    builds = math.ceil(q / ppb)

    costs = [
        _Cost(
            "filament",
            filament_kg * mat.price_usd_per_kg,
            "part",
            f"deposited shell {shell / 1000:.2f} + infill {infill / 1000:.2f} + support {support / 1000:.2f} cm3 = "
            f"{deposited / 1000:.2f} cm3 x {mat.density_kg_m3:g} kg/m3 x (1 + waste {proc.material.waste_fraction:g}) "
            f"= {filament_kg * 1000:.1f} g x {_usd(mat.price_usd_per_kg)}/kg [price: {mat.price_source}; "
            f"waste: {proc.material.source}]",
            b.material_pct,
        ),
        _Cost(
            "printer time",
            print_h * r.machine_rate_usd_per_h,
            "part",
            f"shell = min(V, area {m.area_mm2 / 100:.1f} cm2 x {sl.perimeters} perimeters x {sl.line_width_mm:g} mm) "
            f"= {shell / 1000:.2f} cm3; infill = (V - shell) x {sl.infill:g}; support = "
            f"{m.fdm_support_volume_mm3 / 1000:.2f} cm3 region x {sl.support_density:g}; flow = min(hotend "
            f"{fp.max_flow_mm3_per_s:g}, {sl.line_width_mm:g} x {sl.layer_height_mm:g} x {sl.print_speed_mm_per_s:g})"
            f" = {flow:.2f} mm3/s [{fp.source}]; time = (shell/({sl.shell_speed_factor:g} flow) + (infill + "
            f"support)/flow) x {sl.overhead:g} + {layers} layers x {sl.layer_change_s:g} s = {print_h:.2f} h "
            f"[{sl.source}] x {_usd(r.machine_rate_usd_per_h)}/h [{r.machine_rate_source}]",
            b.machine_pct,
        ),
        _Cost(
            "post-processing",
            post_min / 60 * r.labour_rate_usd_per_h,
            "part",
            f"{proc.post.base_min_per_part:g} min + {proc.post.support_removal_min_per_cm3:g} min/cm3 x "
            f"{support / 1000:.2f} cm3 support = {post_min:.1f} min x {_usd(r.labour_rate_usd_per_h)}/h "
            f"[{proc.post.source}; labour: {r.labour_rate_source}]",
            b.post_pct,
        ),
        _Cost(
            "build setup",
            builds * r.setup_usd,
            "order",
            f"{builds} build(s) of up to {ppb} part(s) x {_usd(r.setup_usd)} per build [{r.setup_source}]",
            b.setup_pct,
        ),
        _Cost(
            "file preparation",
            proc.prep.hours * r.labour_rate_usd_per_h,
            "order",
            f"{proc.prep.hours:g} h x {_usd(r.labour_rate_usd_per_h)}/h [{proc.prep.source}; labour: "
            f"{r.labour_rate_source}]",
            b.prep_pct,
        ),
    ]

    lt = proc.lead_time
    prod_days = q * print_h / (lt.hours_per_day * lt.parallel_machines)
    lead = lt.base_days + prod_days
    lead_basis = (
        f"{lt.base_days:g} d + {q} parts x {print_h:.2f} h / ({lt.hours_per_day:g} h/day x "
        f"{lt.parallel_machines} printers) = {prod_days:.1f} d [{lt.source}]"
    )
    params = {
        "flow_mm3_per_s": flow,
        "shell_volume_mm3": shell,
        "infill_volume_mm3": infill,
        "support_region_volume_mm3": m.fdm_support_volume_mm3,
        "support_volume_mm3": support,
        "deposited_volume_mm3": deposited,
        "layers": float(layers),
        "print_hours": print_h,
        "machine_hours_per_part": print_h,
        "post_min_per_part": post_min,
        "parts_per_build": float(ppb),
        "builds": float(builds),
        "filament_kg": filament_kg,
    }
    return _Model(costs, params, lead, lead_basis, caveats)


# ------------------------------------------------------------------------------------------------ public API


def _validate(
    metrics: PartMetrics, method: ManufacturingMethod | str, material: MaterialId | str, quantity: int
) -> tuple[ManufacturingMethod, MaterialId]:
    meth = _METHOD.validate_python(method)
    mat = _MATERIAL.validate_python(material)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValueError(f"quantity must be an integer >= 1, got {quantity!r}")
    msg = check_method(mat, meth)
    if msg is not None:
        raise ValueError(msg)
    if not metrics.volume_mm3 > 0 or any(s <= 0 for s in metrics.size_mm):
        raise ValueError(
            f"part metrics need a positive volume and bounding box, got volume {metrics.volume_mm3} mm3 "
            f"and size {metrics.size_mm} mm"
        )
    return meth, mat


def _assemble(meth: ManufacturingMethod, mat: MaterialId, q: int, model: _Model, rates: Rates) -> Quote:
    margin = rates.margin
    lines = [
        QuoteLine(
            item=c.item,
            usd=c.cost_usd / (1 - margin),
            per=c.per,
            basis=(
                f"{c.basis}; cost {_usd(c.cost_usd)}{' per order' if c.per == 'order' else ''}, "
                f"price = cost / (1 - margin {margin:g}) [margin: {rates.margin_source}]"
            ),
            band_pct=c.band_pct,
        )
        for c in model.costs
    ]
    contrib = [ln.usd if ln.per == "part" else ln.usd / q for ln in lines]
    unit = sum(contrib)
    band = sum(c * ln.band_pct for c, ln in zip(contrib, lines)) / unit if unit > 0 else 0.0
    return Quote(
        method=meth,
        material=mat,
        quantity=q,
        lines=lines,
        unit_cost_usd=unit,
        total_cost_usd=unit * q,
        band_pct=band,
        unit_cost_low_usd=max(0.0, unit * (1 - band / 100)),
        unit_cost_high_usd=unit * (1 + band / 100),
        lead_time_days=model.lead_time_days,
        lead_time_basis=model.lead_time_basis,
        parameters={**model.parameters, "margin": margin},
        caveats=model.caveats,
    )


def quote(
    metrics: PartMetrics,
    method: ManufacturingMethod | str,
    material: MaterialId | str,
    quantity: int,
    catalog: Catalog,
) -> Quote:
    """Price ``quantity`` parts by ``method`` in ``material``; raise ``ValueError`` for an impossible request.

    The request is honoured exactly: a material the method does not take is an error, never a reason to quote
    another method (the caller can price alternatives separately).
    """
    meth, mat = _validate(metrics, method, material, quantity)
    props = catalog.material(mat)
    if meth is ManufacturingMethod.CNC_MILLING:
        model = _cnc(metrics, props, quantity, catalog.cnc_milling)
    elif meth is ManufacturingMethod.INJECTION_MOLDING:
        model = _molding(metrics, props, quantity, catalog.injection_molding)
    else:
        model = _fdm(metrics, props, quantity, catalog.fdm_printing)
    return _assemble(meth, mat, quantity, model, catalog.process(meth).rates)


def ladder(
    metrics: PartMetrics,
    method: ManufacturingMethod | str,
    material: MaterialId | str,
    quantities: Iterable[int],
    catalog: Catalog,
) -> list[LadderRung]:
    """One rung per distinct quantity, ascending: the same model as :func:`quote` at each quantity."""
    qs = list(quantities)
    if not qs:
        raise ValueError("a ladder needs at least one quantity")
    rungs = []
    for q in sorted(set(qs)):
        qt = quote(metrics, method, material, q, catalog)
        rungs.append(
            LadderRung(
                quantity=q,
                unit_cost_usd=qt.unit_cost_usd,
                total_cost_usd=qt.total_cost_usd,
                band_pct=qt.band_pct,
                lead_time_days=qt.lead_time_days,
            )
        )
    return rungs
