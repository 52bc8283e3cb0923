"""Injection moulding's DFM rules: undercuts and side actions for a +-Z pull, draft, walls and the envelope."""

from __future__ import annotations

import numpy as np

from engines.manufacturing.facts import DIRECTION_NAMES, PartFacts
from engines.manufacturing.methods.injection_molding.rows import (
    MoldingLimits,
    MoldingMaterial,
    MoldingProcess,
)
from engines.manufacturing.metrics import (
    PartMetrics,
    face_median_thickness,
    im_side_action_directions,
    im_trapped_mask,
    weighted_quantile,
)
from engines.manufacturing.rules import (
    ANGULAR_RESOLUTION_DEG,
    DfmOptions,
    above,
    below,
    nearest,
    rounded,
    significant,
    thinnest_face,
    where,
)
from shared.models import DfmFinding, Severity


def findings(
    f: PartFacts, m: PartMetrics, proc: MoldingProcess, resin: MoldingMaterial, opts: DfmOptions
) -> list[DfmFinding]:
    lim = proc.limits
    out: list[DfmFinding] = []
    trapped = im_trapped_mask(f)
    lateral = f.reach[:, :4].any(axis=1)
    internal = trapped & ~lateral
    if significant(f, internal):
        out.append(
            DfmFinding(
                rule_id="IM.INTERNAL_UNDERCUT",
                severity=Severity.BLOCKING,
                title="undercut no mould half or side action can release",
                measured=rounded(f.areas[internal].sum()),
                limit=0.0,
                unit="mm2",
                why="the surface is hidden from the +-Z pull and from every lateral slide, so the steel that "
                "forms it would be locked inside the part",
                fix="open the feature to the pull direction or a side, or split the part",
                **where(f, internal),
            )
        )
    side = im_side_action_directions(f)
    side_mask = trapped & lateral
    if significant(f, side_mask) and side:
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
                **where(f, side_mask),
            )
        )
    out += _draft_findings(f, trapped, resin)
    out += _wall_findings(f, m, lim, resin)
    env = lim.envelope(m)
    if env.footprint_over or env.depth_over:
        sx, sy, sz = m.size_mm
        footprint = lim.max_footprint_mm
        out.append(
            DfmFinding(
                rule_id="IM.PART_SIZE",
                severity=Severity.BLOCKING,
                title="part larger than the mould envelope",
                measured=rounded(sz if env.depth_over else max(sx, sy)),
                limit=lim.max_depth_mm if env.depth_over else max(footprint),
                unit="mm",
                why=f"{sx:.0f} x {sy:.0f} mm footprint and {sz:.0f} mm along the pull exceed the "
                f"{footprint[0]:.0f} x {footprint[1]:.0f} mm, {lim.max_depth_mm:.0f} mm deep mould envelope",
                fix="split the part, or orient its longest dimension across the pull",
            )
        )
    return out


def _draft_findings(f: PartFacts, trapped: np.ndarray, resin: MoldingMaterial) -> list[DfmFinding]:
    out: list[DfmFinding] = []
    nz = np.abs(f.normals[:, 2].astype(np.float64))
    draft = np.degrees(np.arcsin(np.clip(nz, 0, 1)))
    wall = ~trapped
    below_min = wall & below(draft, resin.min_draft_deg, ANGULAR_RESOLUTION_DEG)
    below_target = wall & below(draft, resin.target_draft_deg, ANGULAR_RESOLUTION_DEG) & ~below_min
    for mask, severity, limit in (
        (below_min, Severity.WARNING, resin.min_draft_deg),
        (below_target, Severity.INFO, resin.target_draft_deg),
    ):
        if significant(f, mask):
            worst = int(np.flatnonzero(mask)[int(np.argmin(draft[mask]))])
            out.append(
                DfmFinding(
                    rule_id="IM.DRAFT",
                    severity=severity,
                    title="walls parallel to the pull with too little draft",
                    measured=rounded(draft[worst], 2),
                    limit=limit,
                    unit="deg",
                    why="walls without draft drag against the mould as the part is ejected: scuffing, "
                    "ejector marks, parts sticking in the cavity",
                    fix=f"add at least {resin.target_draft_deg} deg of draft relative to Z "
                    "(more for textured faces)",
                    **where(f, mask, worst),
                )
            )
    return out


def _wall_findings(
    f: PartFacts, m: PartMetrics, lim: MoldingLimits, resin: MoldingMaterial
) -> list[DfmFinding]:
    out: list[DfmFinding] = []
    per_face = face_median_thickness(f)
    if np.isfinite(m.wall_min_mm) and below(m.wall_min_mm, resin.wall_target_min_mm):
        blocking = below(m.wall_min_mm, resin.wall_min_mm)
        thin_faces = [k for k, v in per_face.items() if below(v, resin.wall_target_min_mm)]
        out.append(
            DfmFinding(
                rule_id="IM.WALL_MIN",
                severity=Severity.BLOCKING if blocking else Severity.WARNING,
                title="wall too thin for the melt to fill",
                measured=rounded(m.wall_min_mm),
                limit=resin.wall_min_mm if blocking else resin.wall_target_min_mm,
                unit="mm",
                why="melt freezes in thin sections before the cavity is full: short shots",
                fix=f"keep walls between {resin.wall_target_min_mm} and {resin.wall_target_max_mm} mm",
                **where(f, np.isin(f.face_ids, thin_faces), thinnest_face(f, per_face)),
            )
        )
    if np.isfinite(m.wall_max_mm) and above(m.wall_max_mm, resin.wall_target_max_mm):
        thick = np.isfinite(f.thickness) & above(np.nan_to_num(f.thickness), resin.wall_target_max_mm)
        over = resin.wall_over_limit(m.wall_max_mm)
        out.append(
            DfmFinding(
                rule_id="IM.WALL_MAX",
                severity=Severity.WARNING,
                title="wall thicker than this resin moulds well",
                measured=rounded(m.wall_max_mm),
                limit=resin.wall_max_mm if over else resin.wall_target_max_mm,
                unit="mm",
                why="cooling time grows with the square of the thickest wall, and thick sections sink and "
                "void",
                fix="core out thick sections to a uniform wall and add ribs for stiffness",
                **where(f, thick, nearest(f, thick, f.thickness, m.wall_max_mm)),
            )
        )
    thin_q = weighted_quantile(f.thickness, f.areas, 0.02)
    if np.isfinite(thin_q) and thin_q > 0 and above(m.wall_max_mm, lim.max_thickness_ratio * thin_q):
        out.append(
            DfmFinding(
                rule_id="IM.WALL_UNIFORMITY",
                severity=Severity.WARNING,
                title="wall thickness varies too much",
                measured=rounded(m.wall_max_mm / thin_q, 2),
                limit=lim.max_thickness_ratio,
                unit="thickest/thinnest",
                why="thick and thin sections cool at different rates: warping, sink marks, residual stress",
                fix="make the walls uniform; change thickness gradually (at most 2:1)",
            )
        )
    return out
