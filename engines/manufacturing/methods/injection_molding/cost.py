"""Injection moulding's cost model, in named steps: cycle, tooling class and cavities, tooling, per-unit cost,
lines, caveats and lead time.

Two tooling classes (``methods/injection_molding.toml``): ``prototype`` (aluminium inserts in a standard frame,
one or two cavities, a short shot life) and ``production`` (a P20 steel mould, up to eight cavities). A request
may name the class; otherwise every class and cavity count is priced at the order's quantity, an order past a
mould's shot life paying for the moulds it wears out, and the lowest unit price wins. The quote reports the
break-even quantity from which production tooling prices below prototype tooling.

The module is over 400 lines because every quote line spells out its arithmetic and the source of each
number (a buyer checks the mould line first), and the tooling choice is priced option by option; each step
is its own function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engines.manufacturing.method import Cost, CostModel, usd
from engines.manufacturing.methods.injection_molding.rows import (
    MoldingCycle,
    MoldingMaterial,
    MoldingProcess,
    MouldClass,
)
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
    tooling_class: str
    mould: MouldClass
    cavities: int
    plate_x_mm: float
    plate_y_mm: float
    plate_z_mm: float
    base_mass_kg: float
    base_usd: float
    cavity_hours: float
    """One cavity's machining hours in this class's mould material."""
    area_hours: float
    complexity_hours: float
    cavity_factor: float
    """n^exponent: what n cavities cost in units of one."""
    cavities_usd: float
    side_actions_usd: float

    @property
    def total_usd(self) -> float:
        """One mould."""
        return self.base_usd + self.cavities_usd + self.side_actions_usd

    def moulds(self, q: int) -> int:
        """Moulds the order wears out: shots over the class's shot life."""
        return max(1, math.ceil(math.ceil(q / self.cavities) / self.mould.shot_life))


def _tooling(m: PartMetrics, cls: str, n: int, proc: MoldingProcess, projected_mm2: float) -> _Tooling:
    """Mould base (plates or inserts sized from the cavity layout) + cavity machining hours + side actions."""
    mc, tc = proc.tooling.classes()[cls], proc.tooling.cavity
    x, y, z = m.size_mm
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    px = cols * x + (cols - 1) * mc.cavity_spacing_mm + 2 * mc.plate_margin_mm
    py = rows * y + (rows - 1) * mc.cavity_spacing_mm + 2 * mc.plate_margin_mm
    pz = z + mc.stack_height_mm
    mass = px * py * pz * 1e-9 * mc.block_density_kg_m3
    base = mc.base_fixed_usd + mass * mc.block_usd_per_kg
    area_h = tc.hours_fixed + tc.hours_area_coeff * (projected_mm2 / 100) ** tc.hours_area_exponent
    x_side = tc.complexity_per_face * min(m.features, tc.complexity_faces_cap) / 2
    cx_h = 2 * tc.complexity_hours_coeff * x_side**tc.complexity_exponent
    cav_h = (area_h + cx_h) * mc.machining_factor
    factor = n**tc.cavity_count_exponent
    cav_usd = cav_h * proc.tooling.mould_shop_rate_usd_per_h * factor
    side = m.im_side_actions * mc.side_action_usd * factor
    return _Tooling(cls, mc, n, px, py, pz, mass, base, cav_h, area_h, cx_h, factor, cav_usd, side)


@dataclass(frozen=True)
class _PerUnit:
    """The unit cost before margin of each tooling option (class, cavities) at a quantity."""

    m: PartMetrics
    proc: MoldingProcess
    cycle: _Cycle
    resin_kg: float
    """Resin in one part."""
    resin_usd: float
    """Resin per part, with runner and scrap."""
    q: int

    def per_part(self, n: int) -> float:
        r, press = self.proc.rates, self.proc.press
        pph = self.cycle.parts_per_hour(n)
        return (
            self.resin_usd + (r.machine_rate_usd_per_h + r.labour_rate_usd_per_h * press.operator_share) / pph
        )

    def tooling(self, cls: str, n: int) -> _Tooling:
        return _tooling(self.m, cls, n, self.proc, self.cycle.projected_mm2)

    def at(self, cls: str, n: int, q: int) -> float:
        tool = self.tooling(cls, n)
        return self.per_part(n) + (tool.moulds(q) * tool.total_usd + self.proc.rates.setup_usd) / q

    def __call__(self, cls: str, n: int) -> float:
        return self.at(cls, n, self.q)


def _per_unit(m: PartMetrics, mat: MaterialProps, q: int, proc: MoldingProcess, cycle: _Cycle) -> _PerUnit:
    """Resin per part with runner and scrap allowances; press time, setup and mould follow per option."""
    resin_kg = m.volume_mm3 * 1e-9 * mat.density_kg_m3
    allowance = 1 + proc.material.runner_fraction + proc.material.scrap_fraction
    return _PerUnit(m, proc, cycle, resin_kg, resin_kg * allowance * mat.price_usd_per_kg, q)


Option = tuple[str, int]


def _options(
    proc: MoldingProcess, cycle: _Cycle, classes: list[str], caveats: list[str] | None
) -> list[Option]:
    """(class, cavities) layouts the largest press can clamp; the smallest layout of each class if none can."""
    press = proc.press
    out: list[Option] = []
    for cls in classes:
        opts = sorted(proc.tooling.classes()[cls].cavity_options)
        feasible = [n for n in opts if press.clamp_tonnes(cycle.projected_mm2, n) <= press.max_clamp_tonnes]
        if not feasible:
            feasible = opts[:1]
            if caveats is not None:
                caveats.append(
                    f"clamp force {press.clamp_tonnes(cycle.projected_mm2, opts[0]):.0f} t for {opts[0]} cavity "
                    f"exceeds the largest press ({press.max_clamp_tonnes:g} t): manual review"
                )
        out += [(cls, n) for n in feasible]
    return out


def _cheapest(options: list[Option], unit_cost: _PerUnit, q: int) -> Option:
    """The lowest unit cost at ``q``; ties go to the earlier option (fewer cavities, prototype first). Each
    option's unit cost is c + k(q) F / q with k(q) = moulds worn out, so the minimum falls along a ladder
    except where an extra mould is started."""
    best = options[0]
    for cand in options[1:]:
        if unit_cost.at(*cand, q) < unit_cost.at(*best, q):
            best = cand
    return best


def _break_even(options: list[Option], unit_cost: _PerUnit) -> float:
    """The smallest quantity at which the production class prices below the prototype class (0: never in
    1..10^8, e.g. when only one class is feasible)."""
    proto = [o for o in options if o[0] == "prototype"]
    prod = [o for o in options if o[0] == "production"]
    if not proto or not prod:
        return 0.0

    def production_wins(q: int) -> bool:
        return min(unit_cost.at(*o, q) for o in prod) < min(unit_cost.at(*o, q) for o in proto)

    lo, hi = 1, 10**8
    if production_wins(lo):
        return 1.0
    if not production_wins(hi):
        return 0.0
    while hi - lo > 1:  # production wins from hi on (prototype moulds wear out, production's do not)
        mid = (lo + hi) // 2
        if production_wins(mid):
            hi = mid
        else:
            lo = mid
    return float(hi)


def _press(
    proc: MoldingProcess, cycle: _Cycle, unit_cost: _PerUnit, caveats: list[str]
) -> tuple[Option, list[Option], float]:
    """The tooling option priced (the requested class, or the cheapest of both), the options compared and the
    break-even quantity between the classes."""
    requested = proc.tooling.requested_class
    every = _options(proc, cycle, ["prototype", "production"], None)
    classes = [requested] if requested else ["prototype", "production"]
    feasible = _options(proc, cycle, classes, caveats)
    return _cheapest(feasible, unit_cost, unit_cost.q), feasible, _break_even(every, unit_cost)


def cost(
    m: PartMetrics, mat: MaterialProps, resin: MoldingMaterial, q: int, proc: MoldingProcess
) -> CostModel:
    """Resin with allowances, press time from the cooling-dominated cycle, one batch setup and the moulds."""
    caveats: list[str] = []
    cycle = _cycle(m, resin, proc.cycle, caveats)
    unit_cost = _per_unit(m, mat, q, proc, cycle)
    (cls, n), feasible, break_even = _press(proc, cycle, unit_cost, caveats)
    tool = unit_cost.tooling(cls, n)
    moulds = tool.moulds(q)
    pph = cycle.parts_per_hour(n)
    costs = _lines(m, mat, resin, q, proc, cycle, tool, unit_cost, feasible, break_even)
    caveats += _caveats(m, mat, resin, proc, cycle)
    if moulds > 1:
        caveats.append(
            f"{q:,} parts need {math.ceil(q / n):,} shots, past the {tool.mould.shot_life:,}-shot life of one "
            f"{cls} mould: {moulds} moulds are priced"
        )

    lt = proc.lead_time
    tooling_days = (
        tool.mould.tooling_base_days + tool.cavity_factor * tool.cavity_hours / lt.mould_shop_hours_per_day
    )
    prod_days = q / pph / (lt.hours_per_day * lt.parallel_machines)
    lead = lt.base_days + tooling_days + prod_days
    lead_basis = (
        f"{cls} tooling {tool.mould.tooling_base_days:g} d + {tool.cavity_factor:.2f} x {tool.cavity_hours:.1f} "
        f"cavity hours / {lt.mould_shop_hours_per_day:g} h/day = {tooling_days:.1f} d ({tooling_days / 7:.1f} weeks) "
        f"[{tool.mould.source}] + production {q} / {pph:.1f} parts/h / ({lt.hours_per_day:g} h/day x "
        f"{lt.parallel_machines} press(es)) = {prod_days:.1f} d + {lt.base_days:g} d sampling and shipping "
        f"[{lt.source}]"
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
        "prototype_tooling": 1.0 if cls == "prototype" else 0.0,
        "mould_shot_life": float(tool.mould.shot_life),
        "moulds": float(moulds),
        "tooling_break_even_quantity": break_even,
        "features": float(m.features),
        "mould_base_mass_kg": tool.base_mass_kg,
        "mould_base_cost_usd": tool.base_usd,
        "cavity_hours_per_cavity": tool.cavity_hours,
        "cavity_machining_cost_usd": tool.cavities_usd,
        "side_actions": float(m.im_side_actions),
        "side_actions_cost_usd": tool.side_actions_usd,
        "mould_cost_usd": tool.total_usd,
        "tooling_cost_usd": tool.total_usd * moulds,
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
    feasible: list[Option],
    break_even: float,
) -> list[Cost]:
    """The quote's lines for the chosen tooling, each with the arithmetic and sources behind it."""
    r, cyc, press, b = proc.rates, proc.cycle, proc.press, proc.bands
    tc, mc, n, cls = proc.tooling.cavity, tool.mould, tool.cavities, tool.tooling_class
    resin_kg, resin_cost = unit_cost.resin_kg, unit_cost.resin_usd
    pph = cycle.parts_per_hour(n)
    machine_h = 1 / pph
    unverified = (
        ""
        if tc.verified
        else " (Boothroyd-Dewhurst-Knight coefficients RECALLED, NOT verified from a source)"
    )
    alternatives = ", ".join(f"{c} {k} cav {usd(unit_cost(c, k))}" for c, k in feasible)
    why = (
        f"requested class {cls}"
        if proc.tooling.requested_class
        else f"chosen by quantity [{proc.tooling.selection}]; break-even (production below prototype) at "
        + (f"Q = {break_even:,.0f}" if break_even else "no quantity up to 10^8")
    )
    moulds = tool.moulds(q)
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
            f"tooling ({cls} mould)",
            tool.total_usd * moulds,
            "order",
            f"{moulds} x {n}-cavity {cls} mould, {mc.mould_material}, {mc.shot_life:,} shots life ({why}; options "
            f"at Q={q}: {alternatives}; layouts above the press limit excluded): "
            f"base {usd(mc.base_fixed_usd)} + {tool.base_mass_kg:.0f} kg x {usd(mc.block_usd_per_kg)}/kg "
            f"(plates {tool.plate_x_mm:.0f} x {tool.plate_y_mm:.0f} x {tool.plate_z_mm:.0f} mm) = "
            f"{usd(tool.base_usd)} + cavity machining ({tc.hours_fixed:g} + "
            f"{tc.hours_area_coeff:g} x {cycle.projected_mm2 / 100:.1f} cm2^{tc.hours_area_exponent:g} = "
            f"{tool.area_hours:.1f} h + complexity 2 x {tc.complexity_hours_coeff:g} x "
            f"({tc.complexity_per_face:g} x min({m.features}, {tc.complexity_faces_cap}) features / 2)"
            f"^{tc.complexity_exponent:g} = {tool.complexity_hours:.1f} h) x {mc.machining_factor:g} "
            f"({cls} material) = {tool.cavity_hours:.1f} h x {usd(proc.tooling.mould_shop_rate_usd_per_h)}/h x "
            f"{n}^{tc.cavity_count_exponent:g} cavities = {usd(tool.cavities_usd)}{unverified} [{tc.source}; shop "
            f"rate: {proc.tooling.source}] + {m.im_side_actions} side action(s) x {usd(mc.side_action_usd)} x "
            f"{tool.cavity_factor:.2f} = {usd(tool.side_actions_usd)} = {usd(tool.total_usd)} per mould [{mc.source}]; "
            f"published {cls} moulds {usd(mc.published_range_usd[0])}-{usd(mc.published_range_usd[1])} "
            f"[{mc.range_source}]",
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
