"""Injection moulding's cost model, in named steps: cycle, press (cavity choice), tooling, per-unit cost,
lines, caveats and lead time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engines.manufacturing.method import Cost, CostModel, usd
from engines.manufacturing.methods.injection_molding.rows import MoldingCycle, MoldingMaterial, MoldingProcess
from engines.manufacturing.metrics import PartMetrics
from shared.materials import MaterialProps


def cooling_time_s(wall_mm: float, resin: MoldingMaterial) -> float:
    """One-term plate solution for the average temperature (as in gchen19/AnkusDrive ``analysis/molding.py``).

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
class _Cycle:
    wall_mm: float
    """The thickest wall (or the smallest bbox extent when none was measured): it sets the cooling time."""
    projected_mm2: float
    """The cavity footprint along the pull (or the bbox footprint): clamp force and tooling."""
    cooling_s: float
    cycle_s: float

    def parts_per_hour(self, cavities: int) -> float:
        return 3600 / self.cycle_s * cavities


def _cycle(m: PartMetrics, resin: MoldingMaterial, cyc: MoldingCycle, caveats: list[str]) -> _Cycle:
    """Cycle = inject + pack + cooling of the thickest wall + open/close."""
    wall = m.wall_max_mm
    if not wall > 0:  # none measured (NaN) or degenerate
        wall = min(m.size_mm)
        caveats.append(
            f"no wall thickness was measured; cooling uses the smallest bbox extent {wall:.2f} mm (an upper bound)"
        )
    projected = m.projected_area_z_mm2
    if not projected > 0:
        projected = m.size_mm[0] * m.size_mm[1]
        caveats.append(
            "no projected area was measured; the bbox footprint is used for clamp force and tooling"
        )
    t_cool = cooling_time_s(wall, resin)
    return _Cycle(wall, projected, t_cool, cyc.inject_s + cyc.pack_s + t_cool + cyc.open_close_s)


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


@dataclass(frozen=True)
class _PerUnit:
    """The unit cost before margin of each cavity option at the order's quantity."""

    m: PartMetrics
    proc: MoldingProcess
    cycle: _Cycle
    resin_kg: float
    """Resin in one part."""
    resin_usd: float
    """Resin per part, with runner and scrap."""
    q: int

    def __call__(self, n: int) -> float:
        r, press = self.proc.rates, self.proc.press
        pph = self.cycle.parts_per_hour(n)
        per_part = (
            self.resin_usd + (r.machine_rate_usd_per_h + r.labour_rate_usd_per_h * press.operator_share) / pph
        )
        return (
            per_part
            + (_tooling(self.m, n, self.proc, self.cycle.projected_mm2).total_usd + r.setup_usd) / self.q
        )


def _per_unit(m: PartMetrics, mat: MaterialProps, q: int, proc: MoldingProcess, cycle: _Cycle) -> _PerUnit:
    """Resin per part with runner and scrap allowances; press time, setup and mould follow per cavity count."""
    resin_kg = m.volume_mm3 * 1e-9 * mat.density_kg_m3
    allowance = 1 + proc.material.runner_fraction + proc.material.scrap_fraction
    return _PerUnit(m, proc, cycle, resin_kg, resin_kg * allowance * mat.price_usd_per_kg, q)


def _press(
    proc: MoldingProcess, cycle: _Cycle, unit_cost: _PerUnit, caveats: list[str]
) -> tuple[int, list[int]]:
    """The cavity count (lowest unit cost among the layouts the largest press can clamp) and those layouts."""
    press = proc.press
    options = sorted(proc.tooling.cavity_options)
    feasible = [n for n in options if press.clamp_tonnes(cycle.projected_mm2, n) <= press.max_clamp_tonnes]
    if not feasible:
        feasible = options[:1]
        caveats.append(
            f"clamp force {press.clamp_tonnes(cycle.projected_mm2, options[0]):.0f} t for {options[0]} cavity "
            f"exceeds the largest press ({press.max_clamp_tonnes:g} t): manual review"
        )
    # The lowest unit cost at this quantity wins; ties go to fewer cavities. Each option's unit cost is
    # c_n + F_n / Q, non-increasing in Q, so their minimum never rises along a quantity ladder.
    n = feasible[0]
    for cand in feasible[1:]:
        if unit_cost(cand) < unit_cost(n):
            n = cand
    return n, feasible


def cost(
    m: PartMetrics, mat: MaterialProps, resin: MoldingMaterial, q: int, proc: MoldingProcess
) -> CostModel:
    """Resin with allowances, press time from the cooling-dominated cycle, one batch setup and the mould."""
    caveats: list[str] = []
    cycle = _cycle(m, resin, proc.cycle, caveats)
    unit_cost = _per_unit(m, mat, q, proc, cycle)
    n, feasible = _press(proc, cycle, unit_cost, caveats)
    tool = _tooling(m, n, proc, cycle.projected_mm2)
    pph = cycle.parts_per_hour(n)
    costs = _lines(m, mat, resin, q, proc, cycle, tool, unit_cost, feasible)
    caveats += _caveats(m, mat, resin, proc, cycle)

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
    cyc = proc.cycle
    params = {
        "wall_thickness_mm": cycle.wall_mm,
        "cooling_time_s": cycle.cooling_s,
        "cycle_time_s": cycle.cycle_s,
        "inject_s": cyc.inject_s,
        "pack_s": cyc.pack_s,
        "open_close_s": cyc.open_close_s,
        "cavities": float(n),
        "parts_per_hour": pph,
        "machine_hours_per_part": 1 / pph,
        "clamp_tonnes": proc.press.clamp_tonnes(cycle.projected_mm2, n),
        "projected_area_mm2": cycle.projected_mm2,
        "part_mass_kg": unit_cost.resin_kg,
        "mould_base_mass_kg": tool.base_mass_kg,
        "mould_base_cost_usd": tool.base_usd,
        "cavity_hours_per_cavity": tool.cavity_hours,
        "cavity_machining_cost_usd": tool.cavities_usd,
        "side_actions": float(m.im_side_actions),
        "side_actions_cost_usd": tool.side_actions_usd,
        "tooling_cost_usd": tool.total_usd,
        "tooling_days": tooling_days,
    }
    return CostModel(costs, params, lead, lead_basis, caveats)


def _lines(
    m: PartMetrics,
    mat: MaterialProps,
    resin: MoldingMaterial,
    q: int,
    proc: MoldingProcess,
    cycle: _Cycle,
    tool: _Tooling,
    unit_cost: _PerUnit,
    feasible: list[int],
) -> list[Cost]:
    """The quote's lines for the chosen cavity count, each with the arithmetic and sources behind it."""
    r, cyc, press, b = proc.rates, proc.cycle, proc.press, proc.bands
    tc, tb, n = proc.tooling.cavity, proc.tooling.base, tool.cavities
    resin_kg, resin_cost = unit_cost.resin_kg, unit_cost.resin_usd
    pph = cycle.parts_per_hour(n)
    machine_h = 1 / pph
    unverified = (
        ""
        if tc.verified
        else " (Boothroyd-Dewhurst-Knight coefficients RECALLED, NOT verified from a source)"
    )
    alternatives = ", ".join(f"{c} cav {usd(unit_cost(c))}" for c in feasible)
    return [
        Cost(
            "resin",
            resin_cost,
            "part",
            f"V {m.volume_mm3 / 1000:.2f} cm3 x {mat.density_kg_m3:g} kg/m3 = {resin_kg * 1000:.2f} g x "
            f"(1 + runner {proc.material.runner_fraction:g} + scrap {proc.material.scrap_fraction:g}) x "
            f"{usd(mat.price_usd_per_kg)}/kg [price: {mat.price_source}; allowances: {proc.material.source}]",
            b.material_pct,
        ),
        Cost(
            "press time",
            r.machine_rate_usd_per_h * machine_h,
            "part",
            f"cooling t_c = s^2/(pi^2 alpha) ln(8(Tm-Tw)/(pi^2(Te-Tw))) with s = {cycle.wall_mm:.2f} mm (thickest "
            f"wall), alpha {resin.alpha_mm2_per_s:g} mm2/s, Tm/Tw/Te {resin.melt_temp_c:g}/{resin.mold_temp_c:g}/"
            f"{resin.eject_temp_c:g} C = {cycle.cooling_s:.2f} s [{resin.source}]; cycle = inject {cyc.inject_s:g} "
            f"+ pack {cyc.pack_s:g} + cool {cycle.cooling_s:.2f} + open/close {cyc.open_close_s:g} = "
            f"{cycle.cycle_s:.2f} s [{cyc.source}]; {n} cavities -> {pph:.1f} parts/h; "
            f"{usd(r.machine_rate_usd_per_h)}/h / {pph:.1f} [rate: {r.machine_rate_source}]",
            b.machine_pct,
        ),
        Cost(
            "press operator",
            r.labour_rate_usd_per_h * press.operator_share * machine_h,
            "part",
            f"{usd(r.labour_rate_usd_per_h)}/h x {press.operator_share:g} operator per press / {pph:.1f} parts/h "
            f"[labour: {r.labour_rate_source}; share: {press.source}]",
            b.machine_pct,
        ),
        Cost(
            "setup",
            r.setup_usd,
            "order",
            f"one production batch x {usd(r.setup_usd)} [{r.setup_source}]",
            b.setup_pct,
        ),
        Cost(
            "tooling (mould)",
            tool.total_usd,
            "order",
            f"{n}-cavity mould (cavities chosen by the lowest unit cost before margin at Q={q} among "
            f"{alternatives}; layouts above the press limit excluded): "
            f"base {usd(tb.fixed_usd)} + {tool.base_mass_kg:.0f} kg steel x {usd(tb.steel_usd_per_kg)}/kg "
            f"(plates {tool.plate_x_mm:.0f} x {tool.plate_y_mm:.0f} x {tool.plate_z_mm:.0f} mm) = "
            f"{usd(tool.base_usd)} [{tb.source}] + cavity machining ({tc.hours_fixed:g} + "
            f"{tc.hours_area_coeff:g} x {cycle.projected_mm2 / 100:.1f} cm2^{tc.hours_area_exponent:g} = "
            f"{tool.area_hours:.1f} h + complexity 2 x {tc.complexity_hours_coeff:g} x "
            f"({tc.complexity_per_face:g} x min({m.n_faces}, {tc.complexity_faces_cap}) faces / 2)"
            f"^{tc.complexity_exponent:g} = {tool.complexity_hours:.1f} h) = {tool.cavity_hours:.1f} h x "
            f"{usd(proc.tooling.mould_shop_rate_usd_per_h)}/h x {n} cavities = {usd(tool.cavities_usd)}"
            f"{unverified} [{tc.source}; shop rate: {proc.tooling.source}] + {m.im_side_actions} side action(s) "
            f"x {usd(proc.tooling.side_action.usd_per_side_action)} x {n} cavities = "
            f"{usd(tool.side_actions_usd)} [{proc.tooling.side_action.source}]",
            b.tooling_pct,
        ),
    ]


def _caveats(
    m: PartMetrics, mat: MaterialProps, resin: MoldingMaterial, proc: MoldingProcess, cycle: _Cycle
) -> list[str]:
    """What the quote cannot stand behind; the envelope and wall checks are the rules' own."""
    lim = proc.limits
    out: list[str] = []
    env = lim.envelope(m)
    if env.footprint_over:
        fx, fy = sorted(m.size_mm[:2], reverse=True)
        out.append(
            f"part outline {fx:.0f} x {fy:.0f} mm exceeds the moulding limit {lim.max_part_x_mm:g} x "
            f"{lim.max_part_y_mm:g} mm [{lim.source}]: manual review"
        )
    if env.depth_over:
        out.append(
            f"part height {m.height_mm:.0f} mm exceeds {lim.max_depth_mm:g} mm from one parting plane "
            f"[{lim.source}]: needs a parting line near mid-height or a manual review"
        )
    if resin.wall_over_limit(cycle.wall_mm):
        out.append(
            f"thickest wall {cycle.wall_mm:.2f} mm is above the {resin.wall_max_mm:g} mm limit for "
            f"{mat.material_class.value} resin: cooling (and so the cycle) is dominated by it, and sink is likely"
        )
    if m.im_side_actions:
        out.append(f"{m.im_side_actions} side action(s) priced into the mould for the undercuts")
    return out
