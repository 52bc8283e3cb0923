"""DFM rules per method: geometry facts and catalogue limits in, findings out.

Every finding names its rule, severity, the measured value against its limit (with the unit), where it is
(face ids and one point), why it matters and how to fix it. The rule ids are stable; the README lists
them. Limits come from the catalogue (``processes.toml`` and ``shared/data/materials.toml``), never from
this module. ``blocking`` means the part cannot be made as designed by this method; ``warning`` means it
can, at a cost or a risk the designer should accept or fix; ``info`` is context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.manufacturing.catalog import Catalog
from engines.manufacturing.facts import DIRECTION_NAMES, DIRECTIONS, PartFacts
from engines.manufacturing.metrics import (
    PartMetrics,
    cnc_setup_directions,
    envelope_mask,
    face_median_thickness,
    fdm_support_mask,
    im_side_action_directions,
    im_trapped_mask,
    weighted_quantile,
)
from shared.materials import check_method
from shared.models import DfmFinding, ManufacturingMethod, MaterialId, Severity

MAX_FACE_IDS = 50
_NEGLIGIBLE_SHARE = 0.002
"""Surface below 0.2 % of the part's area is tessellation noise, not a feature."""


@dataclass(frozen=True)
class CncLimits:
    standard_tool_radius_mm: float
    min_tool_radius_mm: float
    max_depth_to_diameter: float
    max_setups: int
    min_wall_mm: float
    stock_allowance_mm: float
    travel_mm: tuple[float, float, float]


@dataclass(frozen=True)
class ImLimits:
    min_draft_deg: float
    target_draft_deg: float
    wall_min_mm: float
    wall_target_min_mm: float
    wall_target_max_mm: float
    wall_max_mm: float
    max_thickness_ratio: float
    max_footprint_mm: tuple[float, float]
    max_depth_mm: float


@dataclass(frozen=True)
class FdmLimits:
    overhang_limit_deg: float
    nozzle_mm: float
    min_wall_mm: float
    build_volume_mm: tuple[float, float, float]


Limits = CncLimits | ImLimits | FdmLimits


def _where(f: PartFacts, mask: np.ndarray) -> dict:
    """Face ids (largest area first), a point on the largest triangle, and the area of ``mask``."""
    if not mask.any():
        return {}
    idx = np.flatnonzero(mask)
    face_area: dict[int, float] = {}
    for face, a in zip(f.face_ids[idx].tolist(), f.areas[idx].tolist()):
        face_area[face] = face_area.get(face, 0.0) + a
    faces = sorted(face_area, key=lambda k: (-face_area[k], k))[:MAX_FACE_IDS]
    worst = idx[int(np.argmax(f.areas[idx]))]
    return {
        "face_ids": faces,
        "point_mm": tuple(round(float(v), 3) for v in f.centroids[worst]),
        "area_mm2": round(float(f.areas[idx].sum()), 3),
    }


def _significant(f: PartFacts, mask: np.ndarray) -> bool:
    return bool(f.areas[mask].sum() > _NEGLIGIBLE_SHARE * f.areas.sum())


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def _fits(size: tuple[float, ...], box: tuple[float, ...]) -> bool:
    """Fits in some axis-aligned orientation (sorted dimensions)."""
    return all(s <= b for s, b in zip(sorted(size), sorted(box)))


# --- CNC milling --------------------------------------------------------------------------------


def cnc_findings(f: PartFacts, m: PartMetrics, lim: CncLimits) -> list[DfmFinding]:
    out: list[DfmFinding] = []
    machined = ~envelope_mask(f)
    unreachable = machined & ~f.reach.any(axis=1)
    if _significant(f, unreachable):
        out.append(
            DfmFinding(
                rule_id="CNC.UNDERCUT",
                severity=Severity.BLOCKING,
                title="surface no straight 3-axis tool path reaches",
                measured=_r(f.areas[unreachable].sum()),
                limit=0.0,
                unit="mm2",
                why="a 3-axis mill only reaches surface it can see along +-X, +-Y or +-Z; this surface is "
                "hidden from all six (an undercut or an enclosed cavity)",
                fix="open the feature to one principal direction, split the part, or quote 5-axis/EDM",
                **_where(f, unreachable),
            )
        )
    setups = cnc_setup_directions(f)
    if len(setups) > 1:
        over = len(setups) > lim.max_setups
        out.append(
            DfmFinding(
                rule_id="CNC.SETUPS",
                severity=Severity.WARNING if over else Severity.INFO,
                title=f"{len(setups)} setups: " + ", ".join(DIRECTION_NAMES[k] for k in setups),
                measured=float(len(setups)),
                limit=float(lim.max_setups),
                unit="setups",
                why="each extra direction means re-fixturing the part: setup time, and tolerance stack-up "
                "between features cut in different setups",
                fix="put features on as few faces as possible, preferably all reachable from one side",
            )
        )
    out += _cnc_corner_findings(f, setups or [4], lim)
    if np.isfinite(m.wall_min_mm) and m.wall_min_mm < lim.min_wall_mm:
        per_face = face_median_thickness(f)
        thin = np.isin(f.face_ids, [k for k, v in per_face.items() if v < lim.min_wall_mm])
        out.append(
            DfmFinding(
                rule_id="CNC.THIN_WALL",
                severity=Severity.WARNING,
                title="wall thinner than this material machines reliably",
                measured=_r(m.wall_min_mm),
                limit=lim.min_wall_mm,
                unit="mm",
                why="thin walls chatter and deflect under the cutter, so they lose tolerance or break",
                fix=f"thicken the wall to at least {lim.min_wall_mm} mm or support it with a rib",
                **_where(f, thin),
            )
        )
    stock = tuple(s + 2 * lim.stock_allowance_mm for s in m.size_mm)
    if not _fits(stock, lim.travel_mm):
        out.append(
            DfmFinding(
                rule_id="CNC.STOCK_SIZE",
                severity=Severity.BLOCKING,
                title="stock does not fit the machine's travel",
                measured=_r(max(stock)),
                limit=max(lim.travel_mm),
                unit="mm",
                why=f"stock {stock[0]:.0f} x {stock[1]:.0f} x {stock[2]:.0f} mm exceeds the travel "
                f"{lim.travel_mm[0]:.0f} x {lim.travel_mm[1]:.0f} x {lim.travel_mm[2]:.0f} mm in every orientation",
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


def _cnc_corner_findings(f: PartFacts, setups: list[int], lim: CncLimits) -> list[DfmFinding]:
    """Internal corners along a setup's tool axis are cut by the tool's side: they keep its radius."""
    if not len(f.corner_radius):
        return []
    face_reach: dict[int, np.ndarray] = {}

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
            tool_r = (
                lim.standard_tool_radius_mm
                if f.corner_radius[c] <= 0
                else min(f.corner_radius[c], lim.standard_tool_radius_mm)
            )
            ratio = depth / (2 * max(tool_r, lim.min_tool_radius_mm))
            if f.corner_radius[c] < lim.standard_tool_radius_mm:
                tight.append((float(f.corner_radius[c]), c, ratio))
            if ratio > lim.max_depth_to_diameter:
                deep.append((ratio, c))
            break
    out: list[DfmFinding] = []
    if tight:
        worst_r, worst_c, _ = min(tight)
        blocking = worst_r < lim.min_tool_radius_mm
        corners = [c for _, c, _ in tight]
        out.append(
            DfmFinding(
                rule_id="CNC.INTERNAL_CORNER_RADIUS",
                severity=Severity.BLOCKING if blocking else Severity.WARNING,
                title=(
                    f"{len(corners)} internal corner(s) along the tool axis "
                    + ("are sharp" if worst_r == 0 else f"have radius down to {worst_r:.2f} mm")
                ),
                measured=_r(worst_r),
                limit=lim.standard_tool_radius_mm,
                unit="mm",
                face_ids=sorted({int(x) for c in corners for x in f.corner_faces[c]})[:MAX_FACE_IDS],
                point_mm=tuple(_r(v) for v in (f.corner_p0[worst_c] + f.corner_p1[worst_c]) / 2),
                why=(
                    "a rotating cutter leaves at least its own radius in a corner parallel to its axis: "
                    + (
                        f"below {lim.min_tool_radius_mm} mm no practical end mill fits"
                        if blocking
                        else f"below the standard {lim.standard_tool_radius_mm} mm tool radius a smaller, "
                        "slower tool is needed"
                    )
                ),
                fix=f"fillet the vertical internal corners to at least {lim.standard_tool_radius_mm} mm "
                f"(ideally {1.3 * lim.standard_tool_radius_mm:.1f} mm), or relieve them (dog-bone)",
            )
        )
    if deep:
        ratio, c = max(deep)
        out.append(
            DfmFinding(
                rule_id="CNC.DEEP_POCKET",
                severity=Severity.WARNING,
                title="deep, narrow pocket corner for the tool that fits it",
                measured=_r(ratio, 2),
                limit=lim.max_depth_to_diameter,
                unit="depth/tool diameter",
                face_ids=sorted({int(x) for _, cc in deep for x in f.corner_faces[cc]})[:MAX_FACE_IDS],
                point_mm=tuple(_r(v) for v in (f.corner_p0[c] + f.corner_p1[c]) / 2),
                why="long, slender tools deflect and chatter: slower feeds, long-reach tooling, worse finish",
                fix="make the pocket shallower or its corner radii larger so a stiffer tool reaches the floor",
            )
        )
    return out


# --- Injection molding --------------------------------------------------------------------------


def im_findings(f: PartFacts, m: PartMetrics, lim: ImLimits) -> list[DfmFinding]:
    out: list[DfmFinding] = []
    trapped = im_trapped_mask(f)
    lateral = f.reach[:, :4].any(axis=1)
    internal = trapped & ~lateral
    if _significant(f, internal):
        out.append(
            DfmFinding(
                rule_id="IM.INTERNAL_UNDERCUT",
                severity=Severity.BLOCKING,
                title="undercut no mould half or side action can release",
                measured=_r(f.areas[internal].sum()),
                limit=0.0,
                unit="mm2",
                why="the surface is hidden from the +-Z pull and from every lateral slide, so the steel that "
                "forms it would be locked inside the part",
                fix="open the feature to the pull direction or a side, or split the part",
                **_where(f, internal),
            )
        )
    side = im_side_action_directions(f)
    side_mask = trapped & lateral
    if _significant(f, side_mask) and side:
        out.append(
            DfmFinding(
                rule_id="IM.UNDERCUT",
                severity=Severity.WARNING,
                title=f"undercut for a +-Z pull: {len(side)} side action(s) "
                + ", ".join(DIRECTION_NAMES[k] for k in side),
                measured=float(len(side)),
                limit=0.0,
                unit="side actions",
                why="surface hidden from both mould halves needs a sliding core (side action): more "
                "tooling cost, longer lead time, a witness line",
                fix="turn the feature toward the pull direction, or make it a through-slot both halves can "
                "shut off",
                **_where(f, side_mask),
            )
        )
    nz = np.abs(f.normals[:, 2].astype(np.float64))
    wall = ~trapped
    below_min = wall & (nz < np.sin(np.radians(lim.min_draft_deg)))
    below_target = wall & (nz < np.sin(np.radians(lim.target_draft_deg))) & ~below_min
    for mask, severity, limit in (
        (below_min, Severity.WARNING, lim.min_draft_deg),
        (below_target, Severity.INFO, lim.target_draft_deg),
    ):
        if _significant(f, mask):
            out.append(
                DfmFinding(
                    rule_id="IM.DRAFT",
                    severity=severity,
                    title="walls parallel to the pull with too little draft",
                    measured=_r(np.degrees(np.arcsin(np.clip(nz[mask].min(), 0, 1))), 2),
                    limit=limit,
                    unit="deg",
                    why="walls without draft drag against the mould as the part is ejected: scuffing, "
                    "ejector marks, parts sticking in the cavity",
                    fix=f"add at least {lim.target_draft_deg} deg of draft relative to Z "
                    "(more for textured faces)",
                    **_where(f, mask),
                )
            )
    per_face = face_median_thickness(f)
    if np.isfinite(m.wall_min_mm) and m.wall_min_mm < lim.wall_target_min_mm:
        blocking = m.wall_min_mm < lim.wall_min_mm
        thin_faces = [k for k, v in per_face.items() if v < lim.wall_target_min_mm]
        out.append(
            DfmFinding(
                rule_id="IM.WALL_MIN",
                severity=Severity.BLOCKING if blocking else Severity.WARNING,
                title="wall too thin for the melt to fill",
                measured=_r(m.wall_min_mm),
                limit=lim.wall_min_mm if blocking else lim.wall_target_min_mm,
                unit="mm",
                why="melt freezes in thin sections before the cavity is full: short shots",
                fix=f"keep walls between {lim.wall_target_min_mm} and {lim.wall_target_max_mm} mm",
                **_where(f, np.isin(f.face_ids, thin_faces)),
            )
        )
    if np.isfinite(m.wall_max_mm) and m.wall_max_mm > lim.wall_target_max_mm:
        thick = np.isfinite(f.thickness) & (f.thickness > lim.wall_target_max_mm)
        over = m.wall_max_mm > lim.wall_max_mm
        out.append(
            DfmFinding(
                rule_id="IM.WALL_MAX",
                severity=Severity.WARNING,
                title="wall thicker than this resin moulds well",
                measured=_r(m.wall_max_mm),
                limit=lim.wall_max_mm if over else lim.wall_target_max_mm,
                unit="mm",
                why="cooling time grows with the square of the thickest wall, and thick sections sink and "
                "void",
                fix="core out thick sections to a uniform wall and add ribs for stiffness",
                **_where(f, thick),
            )
        )
    thin_q = weighted_quantile(f.thickness, f.areas, 0.02)
    if np.isfinite(thin_q) and thin_q > 0 and m.wall_max_mm / thin_q > lim.max_thickness_ratio:
        out.append(
            DfmFinding(
                rule_id="IM.WALL_UNIFORMITY",
                severity=Severity.WARNING,
                title="wall thickness varies too much",
                measured=_r(m.wall_max_mm / thin_q, 2),
                limit=lim.max_thickness_ratio,
                unit="thickest/thinnest",
                why="thick and thin sections cool at different rates: warping, sink marks, residual stress",
                fix="make the walls uniform; change thickness gradually (at most 2:1)",
            )
        )
    sx, sy, sz = m.size_mm
    if not _fits((sx, sy), lim.max_footprint_mm) or sz > lim.max_depth_mm:
        out.append(
            DfmFinding(
                rule_id="IM.PART_SIZE",
                severity=Severity.BLOCKING,
                title="part larger than the mould envelope",
                measured=_r(max(sx, sy) if sz <= lim.max_depth_mm else sz),
                limit=max(lim.max_footprint_mm) if sz <= lim.max_depth_mm else lim.max_depth_mm,
                unit="mm",
                why=f"{sx:.0f} x {sy:.0f} mm footprint and {sz:.0f} mm along the pull exceed the "
                f"{lim.max_footprint_mm[0]:.0f} x {lim.max_footprint_mm[1]:.0f} mm, {lim.max_depth_mm:.0f} mm "
                "deep mould envelope",
                fix="split the part, or orient its longest dimension across the pull",
            )
        )
    return out


# --- FDM printing -------------------------------------------------------------------------------


def fdm_findings(f: PartFacts, m: PartMetrics, lim: FdmLimits) -> list[DfmFinding]:
    out: list[DfmFinding] = []
    support = fdm_support_mask(f, lim.overhang_limit_deg)
    if _significant(f, support):
        steepest = float(np.degrees(np.arcsin(np.clip(-f.normals[support, 2].astype(float).max(), 0, 1))))
        out.append(
            DfmFinding(
                rule_id="FDM.OVERHANG",
                severity=Severity.WARNING,
                title="overhangs need support material (printed Z up)",
                measured=_r(steepest, 1),
                limit=lim.overhang_limit_deg,
                unit="deg from vertical",
                why="a layer can only overhang the one below by so much; steeper surface needs support "
                "that costs material and time and scars the surface",
                fix=f"keep overhangs within {lim.overhang_limit_deg:.0f} deg of vertical (chamfer instead "
                "of flat ceilings), or reorient the part",
                **_where(f, support),
            )
        )
    if np.isfinite(m.wall_min_mm) and m.wall_min_mm < lim.min_wall_mm:
        per_face = face_median_thickness(f)
        blocking = m.wall_min_mm < lim.nozzle_mm
        out.append(
            DfmFinding(
                rule_id="FDM.MIN_WALL",
                severity=Severity.BLOCKING if blocking else Severity.WARNING,
                title="wall or feature thinner than the printer lays down",
                measured=_r(m.wall_min_mm),
                limit=lim.nozzle_mm if blocking else lim.min_wall_mm,
                unit="mm",
                why=f"a {lim.nozzle_mm} mm nozzle cannot lay down narrower features; walls under two "
                "extrusion widths are weak",
                fix=f"make walls at least {lim.min_wall_mm} mm thick",
                **_where(f, np.isin(f.face_ids, [k for k, v in per_face.items() if v < lim.min_wall_mm])),
            )
        )
    if not _fits(m.size_mm, lim.build_volume_mm):
        out.append(
            DfmFinding(
                rule_id="FDM.BUILD_VOLUME",
                severity=Severity.BLOCKING,
                title="part does not fit the build volume",
                measured=_r(max(m.size_mm)),
                limit=max(lim.build_volume_mm),
                unit="mm",
                why="the printer cannot build it in one piece in any orientation",
                fix="split the part into pieces that fit and join them",
            )
        )
    elif any(s > b for s, b in zip(m.size_mm, lim.build_volume_mm)):
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


def limits_for(catalog: Catalog, method: ManufacturingMethod, material: MaterialId) -> Limits:
    """The rule limits for ``method`` in ``material``, read from the catalogue (the one source of numbers).

    Raises ``ValueError`` (the catalogue's message) when the material is not made by this method."""
    props = catalog.material(material)
    problem = check_method(material, method)
    if problem:
        raise ValueError(problem)
    if method == ManufacturingMethod.CNC_MILLING:
        p = catalog.cnc_milling.limits
        assert props.cnc_milling is not None
        return CncLimits(
            standard_tool_radius_mm=p.tool_radius_standard_mm,
            min_tool_radius_mm=p.tool_radius_min_mm,
            max_depth_to_diameter=p.max_depth_to_tool_diameter,
            max_setups=p.max_setups_warn,
            min_wall_mm=props.cnc_milling.min_wall_mm,
            stock_allowance_mm=p.stock_allowance_per_side_mm,
            travel_mm=(p.travel_x_mm, p.travel_y_mm, p.travel_z_mm),
        )
    if method == ManufacturingMethod.INJECTION_MOLDING:
        p = catalog.injection_molding.limits
        mp = props.injection_molding
        assert mp is not None
        return ImLimits(
            min_draft_deg=mp.min_draft_deg,
            target_draft_deg=mp.target_draft_deg,
            wall_min_mm=mp.wall_min_mm,
            wall_target_min_mm=mp.wall_target_min_mm,
            wall_target_max_mm=mp.wall_target_max_mm,
            wall_max_mm=mp.wall_max_mm,
            max_thickness_ratio=p.max_thickness_ratio,
            max_footprint_mm=(p.max_part_x_mm, p.max_part_y_mm),
            max_depth_mm=p.max_depth_mm,
        )
    p = catalog.fdm_printing
    assert props.fdm_printing is not None
    return FdmLimits(
        overhang_limit_deg=p.slicing.overhang_limit_deg,
        nozzle_mm=p.slicing.nozzle_mm,
        min_wall_mm=props.fdm_printing.min_wall_mm,
        build_volume_mm=(p.limits.build_x_mm, p.limits.build_y_mm, p.limits.build_z_mm),
    )


def assess(f: PartFacts, m: PartMetrics, method: ManufacturingMethod, lim: Limits) -> list[DfmFinding]:
    """All findings for ``method``, blocking first."""
    if method == ManufacturingMethod.CNC_MILLING:
        assert isinstance(lim, CncLimits)
        found = cnc_findings(f, m, lim)
    elif method == ManufacturingMethod.INJECTION_MOLDING:
        assert isinstance(lim, ImLimits)
        found = im_findings(f, m, lim)
    else:
        assert isinstance(lim, FdmLimits)
        found = fdm_findings(f, m, lim)
    order = {Severity.BLOCKING: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(found, key=lambda x: (order[x.severity], x.rule_id))
