"""FDM printing (desktop-class printer farm): catalogue rows, DFM rules and cost model.

Data: ``fdm_printing.toml`` next to this module, and the ``[materials.<id>.fdm_printing]`` tables of
``shared/data/materials.toml`` (hotend flow limit, minimum wall).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

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
from engines.manufacturing.metrics import (
    PartMetrics,
    face_median_thickness,
    fdm_support_mask,
    overhang_deg,
    weighted_quantile,
)
from engines.manufacturing.rules import (
    DfmOptions,
    above,
    below,
    fits,
    rounded,
    significant,
    thinnest_face,
    void_findings,
    where,
)
from shared.materials import MaterialProps
from shared.models import DfmFinding, ManufacturingMethod, Severity

# --------------------------------------------------------------------------------------------- catalogue


class FdmSlicing(_Data):
    nozzle_mm: float = Field(gt=0)
    line_width_mm: float = Field(gt=0)
    layer_height_mm: float = Field(gt=0)
    perimeters: int = Field(ge=1)
    infill: float = Field(ge=0, le=1)
    support_density: float = Field(ge=0, le=1)
    print_speed_mm_per_s: float = Field(gt=0)
    shell_speed_factor: float = Field(gt=0, le=1)
    overhead: float = Field(ge=1)
    layer_change_s: float = Field(ge=0)
    overhang_limit_deg: float = Field(gt=0, lt=90)
    source: Source


class FdmWaste(_Data):
    waste_fraction: float = Field(ge=0, lt=1)
    source: Source


class FdmPost(_Data):
    base_min_per_part: float = Field(ge=0)
    support_removal_min_per_cm3: float = Field(ge=0)
    source: Source


class FdmWalls(_Data):
    """When walls thinner than the nozzle stop being lost detail and make the part unprintable."""

    unprintable_share: float = Field(gt=0, le=1)
    """The part cannot be printed when more than this share of its measured surface bounds walls thinner
    than the nozzle: its body, not a local feature, is narrower than one extrusion line."""
    source: Source


class FdmLimits(_Data):
    build_x_mm: float = Field(gt=0)
    build_y_mm: float = Field(gt=0)
    build_z_mm: float = Field(gt=0)
    part_spacing_mm: float = Field(ge=0)
    source: Source

    @property
    def build_volume_mm(self) -> tuple[float, float, float]:
        return (self.build_x_mm, self.build_y_mm, self.build_z_mm)


class FdmBands(_Data):
    material_pct: float = Field(ge=0)
    machine_pct: float = Field(ge=0)
    post_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    prep_pct: float = Field(ge=0)
    source: Source


class FdmProcess(Process):
    slicing: FdmSlicing
    material: FdmWaste
    post: FdmPost
    prep: Prep
    walls: FdmWalls
    limits: FdmLimits
    bands: FdmBands


class FdmMaterial(MaterialParams):
    """Filament data: the hotend's volumetric flow limit bounds print speed."""

    max_flow_mm3_per_s: float = Field(gt=0)
    min_wall_mm: float = Field(gt=0)


# --------------------------------------------------------------------------------------------- DFM rules


def findings(
    f: PartFacts, m: PartMetrics, proc: FdmProcess, fp: FdmMaterial, opts: DfmOptions
) -> list[DfmFinding]:
    overhang, build = proc.slicing.overhang_limit_deg, proc.limits.build_volume_mm
    out: list[DfmFinding] = []
    support = fdm_support_mask(f, overhang)
    if significant(f, support):
        angles = overhang_deg(f)
        worst = int(np.flatnonzero(support)[int(np.argmax(angles[support]))])
        out.append(
            DfmFinding(
                rule_id="FDM.OVERHANG",
                severity=Severity.WARNING,
                title="overhangs need support material (printed Z up)",
                measured=rounded(angles[worst], 1),
                limit=overhang,
                unit="deg from vertical",
                why="a layer can only overhang the one below by so much; steeper surface needs support "
                "that costs material and time and scars the surface",
                fix=f"keep overhangs within {overhang:.0f} deg of vertical (chamfer instead "
                "of flat ceilings), or reorient the part",
                **where(f, support, worst),
            )
        )
    out += _wall_findings(f, m, proc, fp)
    out += void_findings(
        f,
        "FDM.INTERNAL_VOID",
        Severity.INFO,
        why="a closed cavity prints as a sealed chamber (its walls are perimeters like any other): usually "
        "deliberate (weight, buoyancy), but nothing inside it can be removed afterwards",
        fix="none if intended; otherwise fill the cavity, or open it so support and trapped material can be "
        "removed",
    )
    if not fits(m.size_mm, build):
        out.append(
            DfmFinding(
                rule_id="FDM.BUILD_VOLUME",
                severity=Severity.BLOCKING,
                title="part does not fit the build volume",
                measured=rounded(max(m.size_mm)),
                limit=max(build),
                unit="mm",
                why="the printer cannot build it in one piece in any orientation",
                fix="split the part into pieces that fit and join them",
            )
        )
    elif any(above(s, b) for s, b in zip(m.size_mm, build)):
        out.append(
            DfmFinding(
                rule_id="FDM.ORIENTATION",
                severity=Severity.INFO,
                title="fits the build volume only when rotated",
                why="the part as modelled exceeds the build volume on one axis",
                fix="the printer operator will reorient it; overhang findings assume Z up",
            )
        )
    return out


def _wall_findings(f: PartFacts, m: PartMetrics, proc: FdmProcess, fp: FdmMaterial) -> list[DfmFinding]:
    """Walls below the material's minimum are weak (a warning); a local feature thinner than the nozzle
    loses detail (a warning: the slicer drops or widens it); a part whose body is thinner than the nozzle
    over more than ``walls.unprintable_share`` of its measured surface cannot be printed (blocking)."""
    if not (np.isfinite(m.wall_min_mm) and below(m.wall_min_mm, fp.min_wall_mm)):
        return []
    nozzle, walls = proc.slicing.nozzle_mm, proc.walls
    per_face = face_median_thickness(f)
    spot = where(
        f,
        np.isin(f.face_ids, [k for k, v in per_face.items() if below(v, fp.min_wall_mm)]),
        thinnest_face(f, per_face),
    )
    if not below(m.wall_min_mm, nozzle):
        return [
            DfmFinding(
                rule_id="FDM.MIN_WALL",
                severity=Severity.WARNING,
                title="wall thinner than two extrusion widths",
                measured=rounded(m.wall_min_mm),
                limit=fp.min_wall_mm,
                unit="mm",
                why="walls under two extrusion widths are weak and print with gaps",
                fix=f"make walls at least {fp.min_wall_mm} mm thick",
                **spot,
            )
        ]
    measured = np.isfinite(f.thickness)
    thin_share = float(f.areas[measured & below(np.nan_to_num(f.thickness), nozzle)].sum()) / max(
        float(f.areas[measured].sum()), 1e-12
    )
    unprintable = thin_share > walls.unprintable_share
    nominal = weighted_quantile(f.thickness, f.areas, 0.5)
    return [
        DfmFinding(
            rule_id="FDM.MIN_WALL",
            severity=Severity.BLOCKING if unprintable else Severity.WARNING,
            title=(
                f"the part is thinner than the {nozzle:g} mm nozzle: it cannot be printed as modelled"
                if unprintable
                else f"a feature thinner than the {nozzle:g} mm nozzle loses detail"
            ),
            measured=rounded(m.wall_min_mm),
            limit=nozzle,
            unit="mm",
            why=(
                f"{thin_share:.0%} of the measured surface bounds walls under one {nozzle:g} mm extrusion "
                f"line (median wall {nominal:.2f} mm): a slicer drops walls narrower than a line or widens "
                f"them to one, so the part's body itself is lost or printed thicker than designed "
                f"[{walls.source}]"
                if unprintable
                else f"a {nozzle:g} mm nozzle cannot lay down a narrower line: the slicer drops the "
                f"feature or widens it to one line, so it prints too thick or not at all; the rest of the "
                f"part prints [{walls.source}]"
            ),
            fix=f"make walls at least {fp.min_wall_mm} mm thick (two extrusion widths), or print with a "
            "finer nozzle",
            **spot,
        )
    ]


# --------------------------------------------------------------------------------------------- cost model


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


def cost(m: PartMetrics, mat: MaterialProps, fp: FdmMaterial, q: int, proc: FdmProcess) -> CostModel:
    """Filament, flow-limited print time (shell, infill, support), post-processing, plates and file prep."""
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
        Cost(
            "filament",
            filament_kg * mat.price_usd_per_kg,
            "part",
            f"deposited shell {shell / 1000:.2f} + infill {infill / 1000:.2f} + support {support / 1000:.2f} cm3 = "
            f"{deposited / 1000:.2f} cm3 x {mat.density_kg_m3:g} kg/m3 x (1 + waste {proc.material.waste_fraction:g}) "
            f"= {filament_kg * 1000:.1f} g x {usd(mat.price_usd_per_kg)}/kg [price: {mat.price_source}; "
            f"waste: {proc.material.source}]",
            b.material_pct,
        ),
        Cost(
            "printer time",
            print_h * r.machine_rate_usd_per_h,
            "part",
            f"shell = min(V, area {m.area_mm2 / 100:.1f} cm2 x {sl.perimeters} perimeters x {sl.line_width_mm:g} mm) "
            f"= {shell / 1000:.2f} cm3; infill = (V - shell) x {sl.infill:g}; support = "
            f"{m.fdm_support_volume_mm3 / 1000:.2f} cm3 region x {sl.support_density:g}; flow = min(hotend "
            f"{fp.max_flow_mm3_per_s:g}, {sl.line_width_mm:g} x {sl.layer_height_mm:g} x {sl.print_speed_mm_per_s:g})"
            f" = {flow:.2f} mm3/s [{fp.source}]; time = (shell/({sl.shell_speed_factor:g} flow) + (infill + "
            f"support)/flow) x {sl.overhead:g} + {layers} layers x {sl.layer_change_s:g} s = {print_h:.2f} h "
            f"[{sl.source}] x {usd(r.machine_rate_usd_per_h)}/h [{r.machine_rate_source}]",
            b.machine_pct,
        ),
        Cost(
            "post-processing",
            post_min / 60 * r.labour_rate_usd_per_h,
            "part",
            f"{proc.post.base_min_per_part:g} min + {proc.post.support_removal_min_per_cm3:g} min/cm3 x "
            f"{support / 1000:.2f} cm3 support = {post_min:.1f} min x {usd(r.labour_rate_usd_per_h)}/h "
            f"[{proc.post.source}; labour: {r.labour_rate_source}]",
            b.post_pct,
        ),
        Cost(
            "build setup",
            builds * r.setup_usd,
            "order",
            f"{builds} build(s) of up to {ppb} part(s) x {usd(r.setup_usd)} per build [{r.setup_source}]",
            b.setup_pct,
        ),
        Cost(
            "file preparation",
            proc.prep.hours * r.labour_rate_usd_per_h,
            "order",
            f"{proc.prep.hours:g} h x {usd(r.labour_rate_usd_per_h)}/h [{proc.prep.source}; labour: "
            f"{r.labour_rate_source}]",
            b.prep_pct,
        ),
    ]

    lt = proc.lead_time
    lead, lead_basis = lt.production(q, print_h, "printing", "printers")
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
    return CostModel(costs, params, lead, lead_basis, caveats)


METHOD = Method(
    method=ManufacturingMethod.FDM_PRINTING,
    process=FdmProcess,
    material_params=FdmMaterial,
    data_file=__file__.removesuffix(".py") + ".toml",
    findings=findings,
    cost=cost,
)
