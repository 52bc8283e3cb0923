"""Injection moulding's DFM rules: the pull direction (chosen, or fixed by the request), undercuts and side
actions for it, draft relative to it, walls, enclosed voids and the envelope."""

from __future__ import annotations

import numpy as np

from engines.manufacturing.facts import PartFacts
from engines.manufacturing.methods.injection_molding.rows import (
    MoldingLimits,
    MoldingMaterial,
    MoldingProcess,
)
from engines.manufacturing.metrics import (
    PartMetrics,
    face_median_thickness,
    face_weighted_median,
    weighted_quantile,
)
from engines.manufacturing.pull import Pull, choose_pull
from engines.manufacturing.rules import (
    ANGULAR_RESOLUTION_DEG,
    DfmOptions,
    above,
    below,
    nearest,
    rounded,
    significant,
    thinnest_face,
    void_findings,
    where,
)
from shared.models import DfmFinding, Severity


def findings(
    f: PartFacts, m: PartMetrics, proc: MoldingProcess, resin: MoldingMaterial, opts: DfmOptions
) -> list[DfmFinding]:
    lim = proc.limits
    out: list[DfmFinding] = []
    pull, tried = choose_pull(f, getattr(opts, "pull_axis", None))
    trapped = pull.trapped
    if pull.fixed or pull.plus != 4 or significant(f, trapped):  # the choice mattered: say which
        out.append(_pull_finding(f, pull, tried))
    internal = pull.internal & ~f.void_mask  # a void is its own finding (IM.INTERNAL_VOID)
    if significant(f, internal):
        out.append(
            DfmFinding(
                rule_id="IM.INTERNAL_UNDERCUT",
                severity=Severity.BLOCKING,
                title="undercut no mould half or side action can release",
                measured=rounded(f.areas[internal].sum()),
                limit=0.0,
                unit="mm2",
                why=f"the surface is hidden from the {pull.name} pull and from every lateral slide, so the "
                "steel that forms it would be locked inside the part",
                fix="open the feature to the pull direction or a side, or split the part",
                **where(f, internal),
            )
        )
    side = list(pull.side_actions)
    side_mask = trapped & ~pull.internal
    if significant(f, side_mask) and side:
        out.append(
            DfmFinding(
                rule_id="IM.UNDERCUT",
                severity=Severity.WARNING,
                title=f"undercut for a {pull.name} pull: {len(side)} side action(s) "
                + ", ".join(pull.side_names(f)),
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
    out += void_findings(
        f,
        "IM.INTERNAL_VOID",
        Severity.BLOCKING,
        why="a closed cavity inside the part cannot be moulded: no core can form it and be pulled out",
        fix="open the cavity to the outside (a coring from the pull direction) or make the section solid",
    )
    out += _draft_findings(f, trapped | f.void_mask, resin, pull)
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


def _pull_finding(f: PartFacts, pull: Pull, tried: list[Pull]) -> DfmFinding:
    """Info: the pull the other rules assume, and why (the candidates compared, or the request's axis)."""
    z = next((p for p in tried if p.plus == 4), None)
    if pull.fixed:
        why = "the request fixed the pull axis"
    else:
        why = (
            f"of the candidate axes ({', '.join(p.name for p in tried)}: the principal directions and the "
            "part's principal axes of inertia where they differ), this one needs the fewest side actions and "
            "leaves the least undercut"
        )
        if z is not None and z is not pull:
            why += f" (a +-Z pull: {len(z.side_actions)} side action(s), {z.undercut_mm2:.1f} mm2 undercut)"
    sides = ", ".join(pull.side_names(f)) or "none"
    return DfmFinding(
        rule_id="IM.PULL_DIRECTION",
        severity=Severity.INFO,
        title=f"mould pull along {pull.name}: {len(pull.side_actions)} side action(s) ({sides})",
        measured=float(len(pull.side_actions)),
        limit=None,
        unit="side actions",
        axis=tuple(round(v, 6) for v in pull.axis),  # type: ignore[arg-type]
        area_mm2=rounded(pull.undercut_mm2),
        why=why + " (area_mm2: the undercut for this pull)",
        fix="fix the axis in the request (pull_axis) if the mould must open another way",
    )


def _draft_findings(
    f: PartFacts, trapped: np.ndarray, resin: MoldingMaterial, pull: Pull
) -> list[DfmFinding]:
    out: list[DfmFinding] = []
    nz = np.abs(f.normals.astype(np.float64) @ np.asarray(pull.axis))
    facet = np.degrees(np.arcsin(np.clip(nz, 0, 1)))
    draft = face_weighted_median(f, facet)  # each face's draft, not its facets' (a cone's tilt either way)
    wall = ~trapped
    below_min = wall & below(draft, resin.min_draft_deg, ANGULAR_RESOLUTION_DEG)
    below_target = wall & below(draft, resin.target_draft_deg, ANGULAR_RESOLUTION_DEG) & ~below_min
    for mask, severity, limit in (
        (below_min, Severity.WARNING, resin.min_draft_deg),
        (below_target, Severity.INFO, resin.target_draft_deg),
    ):
        if significant(f, mask):
            inside = np.flatnonzero(mask)
            worst = int(inside[np.lexsort((facet[inside], draft[inside]))[0]])  # worst face, its worst facet
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
                    fix=f"add at least {resin.target_draft_deg} deg of draft relative to the "
                    f"{pull.name[2:]} pull (more for textured faces)",
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
