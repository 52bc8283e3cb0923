"""CNC milling's DFM rules: reach (undercuts, setups), internal corners against the tool, walls and stock,
drilled holes (depth, tap drills) and thin fins.

The module is over 400 lines because it holds every check a quote service makes of a milled part, each
with its own why and fix text, and they share the setup directions and face helpers; the holes' geometry
is measured in :mod:`engines.manufacturing.holes`, not here."""

from __future__ import annotations

import numpy as np

from engines.manufacturing.facts import DIRECTION_NAMES, DIRECTIONS, PartFacts
from engines.manufacturing.methods.cnc_milling.rows import (
    CncFins,
    CncHoles,
    CncLimits,
    CncMaterial,
    CncProcess,
)
from engines.manufacturing.metrics import (
    PartMetrics,
    cnc_setup_directions,
    envelope_mask,
    face_median_thickness,
)
from engines.manufacturing.rules import (
    MAX_FACE_IDS,
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
    f: PartFacts, m: PartMetrics, proc: CncProcess, mat: CncMaterial, opts: DfmOptions
) -> list[DfmFinding]:
    lim = proc.limits
    out: list[DfmFinding] = []
    machined = ~envelope_mask(f)
    unreachable = machined & ~f.reach.any(axis=1) & ~f.void_mask  # a void is CNC.INTERNAL_VOID
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
    out += _corner_findings(f, setups or [4], lim, opts)
    if np.isfinite(m.wall_min_mm) and below(m.wall_min_mm, mat.min_wall_mm):
        per_face = face_median_thickness(f)
        thin = np.isin(f.face_ids, [k for k, v in per_face.items() if below(v, mat.min_wall_mm)])
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
                **where(f, thin, thinnest_face(f, per_face)),
            )
        )
    out += _hole_findings(f, proc.holes)
    out += _fin_findings(f, setups or [4], proc.fins)
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
    out += void_findings(
        f,
        "CNC.INTERNAL_VOID",
        Severity.BLOCKING,
        why="a closed cavity inside the part has no opening a cutter could enter through",
        fix="open the cavity to one side (and machine it from there), or make the part from two halves "
        "joined around it",
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


def _corner_findings(f: PartFacts, setups: list[int], lim: CncLimits, opts: DfmOptions) -> list[DfmFinding]:
    """Internal corners along a setup's tool axis are cut by the tool's side: they keep its radius.

    Corners are measured on the B-rep: a line edge between two planes is sharp (radius 0), a concave
    cylinder is a fillet of its radius. Three kinds of corner below the standard tool radius R, one finding
    each (all ``CNC.INTERNAL_CORNER_RADIUS``):

    - sharp (radius 0): a warning, "corner left at the tool radius R": a shop's quote leaves it at R (the
      price assumes it) and names EDM for a corner that must stay sharp; blocking only when the request says
      corners must stay sharp (``opts.sharp_corners``);
    - a fillet below the smallest end mill's radius: the same, at its measured radius (never "sharp");
    - a fillet between the smallest end mill and R: "radius r below tool radius R", a warning (a smaller,
      slower tool cuts it as modelled).

    A fillet of R or more (within the measurement's resolution) is fine."""
    if not len(f.corner_radius):
        return []
    face_reach: dict[int, np.ndarray] = {}
    standard_r, min_r = lim.tool_radius_standard_mm, lim.tool_radius_min_mm
    left_r = lim.corner_left_mm()

    def reach_share(face: int) -> np.ndarray:
        if face not in face_reach:
            sel = f.face_ids == face
            a = f.areas[sel]
            face_reach[face] = (f.reach[sel] * a[:, None]).sum(axis=0) / max(a.sum(), 1e-12)
        return face_reach[face]

    tight: list[tuple[float, int]] = []  # (radius, corner index)
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
            r = float(f.corner_radius[c])
            tool_r = standard_r if r <= 0 else min(r, standard_r)
            if below(r, standard_r):
                tight.append((r, c))
            if above(depth, lim.max_depth_to_tool_diameter * 2 * max(tool_r, min_r)):
                deep.append((depth / (2 * max(tool_r, min_r)), c))
            break
    sharp = [(r, c) for r, c in tight if r <= 0]
    uncuttable = [(r, c) for r, c in tight if r > 0 and below(r, min_r)]
    smaller_tool = [(r, c) for r, c in tight if r > 0 and not below(r, min_r)]
    blocks = Severity.BLOCKING if opts.sharp_corners else Severity.WARNING
    edm = (
        "the request says corners must stay sharp, which a rotating cutter cannot do: EDM (wire or sinker) "
        "can, quoted separately"
        if opts.sharp_corners
        else f"the quote assumes the {left_r:g} mm radius there; a corner that must stay sharp needs EDM "
        "(wire or sinker), quoted separately"
    )
    fix = (
        f"fillet the vertical internal corners to at least {standard_r:g} mm (ideally "
        f"{1.3 * standard_r:.1f} mm) so the drawing says what the mill makes, relieve them (dog-bone) if a "
        "square mating part must fit, or specify EDM for the corners that must stay sharp"
    )
    out: list[DfmFinding] = []
    stays = " must stay sharp: a cutter leaves at least its radius"
    left = f"corner left at the tool radius {left_r:g} mm"
    r_uncuttable = min(uncuttable)[0] if uncuttable else 0.0
    r_smaller = min(smaller_tool)[0] if smaller_tool else 0.0
    sharp_title = f"{len(sharp)} sharp internal corner(s) along the tool axis" + (
        stays if opts.sharp_corners else f": {left}"
    )
    uncuttable_title = (
        f"{len(uncuttable)} internal corner(s) along the tool axis with radius down to {r_uncuttable:.2f} "
        f"mm, below the smallest end mill's {min_r:g} mm: "
        + ("must stay as modelled" if opts.sharp_corners else left)
    )
    smaller_title = (
        f"{len(smaller_tool)} internal corner(s) along the tool axis: radius {r_smaller:.2f} mm below tool "
        f"radius {standard_r:g} mm"
    )
    uncuttable_why = (
        f"no practical end mill is smaller than {min_r:g} mm in radius, so the mill cannot cut this radius; "
        f"{edm}"
    )
    smaller_why = (
        "a rotating cutter leaves at least its own radius in a corner parallel to its axis: below the "
        f"standard {standard_r:g} mm tool radius a smaller, slower tool is needed"
    )
    for group, severity, title, why in (
        (
            sharp,
            blocks,
            sharp_title,
            f"a rotating cutter leaves its own radius in a corner parallel to its axis; {edm}",
        ),
        (uncuttable, blocks, uncuttable_title, uncuttable_why),
        (smaller_tool, Severity.WARNING, smaller_title, smaller_why),
    ):
        if not group:
            continue
        worst_r, worst_c = min(group)
        corners = [c for _, c in group]
        out.append(
            DfmFinding(
                rule_id="CNC.INTERNAL_CORNER_RADIUS",
                severity=severity,
                title=title,
                measured=rounded(worst_r),
                limit=standard_r,
                unit="mm",
                face_ids=_corner_face_ids(f, worst_c, corners),
                point_mm=tuple(rounded(v) for v in (f.corner_p0[worst_c] + f.corner_p1[worst_c]) / 2),
                why=why,
                fix=fix,
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
                face_ids=_corner_face_ids(f, c, [cc for _, cc in deep]),
                point_mm=tuple(rounded(v) for v in (f.corner_p0[c] + f.corner_p1[c]) / 2),
                why="long, slender tools deflect and chatter: slower feeds, long-reach tooling, worse finish",
                fix="make the pocket shallower or its corner radii larger so a stiffer tool reaches the floor",
            )
        )
    return out


def _corner_face_ids(f: PartFacts, worst: int, corners: list[int]) -> list[int]:
    """The worst corner's faces first, then the other corners' faces in id order."""
    first = sorted({int(x) for x in f.corner_faces[worst]})
    rest = sorted({int(x) for c in corners for x in f.corner_faces[c]} - set(first))
    return (first + rest)[:MAX_FACE_IDS]


def _hole_faces(f: PartFacts, holes: list[int]) -> list[int]:
    """The holes' faces, in the holes' order (the worst first), without repeats."""
    out: list[int] = []
    for h in holes:
        out += [int(x) for x in f.hole_faces[h] if x >= 0 and int(x) not in out]
    return out[:MAX_FACE_IDS]


def _hole_point(f: PartFacts, h: int) -> tuple[float, ...]:
    return tuple(rounded(v) for v in (f.hole_p0[h] + f.hole_p1[h]) / 2)


def _hole_findings(f: PartFacts, holes: CncHoles) -> list[DfmFinding]:
    """``CNC.HOLE_DEPTH``, one finding per depth band (the deepest hole of the band measured), and
    ``CNC.TAPPABLE_HOLE``, one info per thread size whose tap drill a hole's diameter matches.

    Holes are the B-rep's cylindrical holes (``PartFacts.hole_*``, :mod:`engines.manufacturing.holes`);
    a mesh has none, so an STL gets no hole finding. The ratio is the cylindrical wall's depth over its
    diameter (a counterbore's two diameters are two holes)."""
    if not len(f.hole_diameter):
        return []
    ratio = f.hole_depth / f.hole_diameter
    bands = (
        (
            lambda r: not above(r, holes.depth_ratio_drilled, 1e-3),
            Severity.INFO,
            holes.depth_ratio_drilled,
            "drilled with a standard drill",
            "a standard twist drill reaches this depth in one pass",
            "nothing to change",
        ),
        (
            lambda r: (
                above(r, holes.depth_ratio_drilled, 1e-3) and not above(r, holes.depth_ratio_peck, 1e-3)
            ),
            Severity.WARNING,
            holes.depth_ratio_drilled,
            f"deeper than {holes.depth_ratio_drilled:g} x diameter: peck drilling",
            (
                f"beyond about {holes.depth_ratio_drilled:g} x its diameter a drill cannot clear its chips in one pass: it is retracted "
                "repeatedly (peck drilling), which is slower and wanders more"
            ),
            (
                f"keep holes within {holes.depth_ratio_drilled:g} x their diameter where the function allows "
                "(a larger diameter, or a counterbore that shortens the narrow part)"
            ),
        ),
        (
            lambda r: above(r, holes.depth_ratio_peck, 1e-3) and not above(r, holes.depth_ratio_max, 1e-3),
            Severity.WARNING,
            holes.depth_ratio_peck,
            f"deeper than {holes.depth_ratio_peck:g} x diameter: deep-hole drilling",
            (
                f"beyond about {holes.depth_ratio_peck:g} x its diameter a hole needs long-series drills or "
                "deep-hole (gun) drilling: extra tooling, slow feeds, and the hole's straightness suffers"
            ),
            (
                "shorten the narrow part (counterbore from the open side, drill from both sides) or enlarge "
                "the diameter"
            ),
        ),
        (
            lambda r: above(r, holes.depth_ratio_max, 1e-3),
            Severity.BLOCKING,
            holes.depth_ratio_max,
            f"deeper than {holes.depth_ratio_max:g} x diameter",
            (
                f"beyond about {holes.depth_ratio_max:g} x its diameter no drilling a shop quotes as standard "
                "reaches the bottom"
            ),
            "split the part, enlarge the hole, or make it from both sides",
        ),
    )
    out: list[DfmFinding] = []
    for test, severity, limit, what, why, fix in bands:
        group = [h for h in np.argsort(-ratio, kind="stable").tolist() if test(float(ratio[h]))]
        if not group:
            continue
        worst = group[0]
        out.append(
            DfmFinding(
                rule_id="CNC.HOLE_DEPTH",
                severity=severity,
                title=f"{len(group)} hole(s) {what}: up to {ratio[worst]:.1f} x diameter "
                f"({f.hole_depth[worst]:.2f} mm deep, {f.hole_diameter[worst]:.2f} mm)",
                measured=rounded(ratio[worst], 2),
                limit=limit,
                unit="depth/diameter",
                face_ids=_hole_faces(f, group),
                point_mm=_hole_point(f, worst),
                why=why,
                fix=fix,
            )
        )
    for thread, drill in sorted(holes.tap_drills_mm.items(), key=lambda kv: kv[1]):
        group = [
            h
            for h in range(len(f.hole_diameter))
            if abs(float(f.hole_diameter[h]) - drill) <= holes.tap_drill_tolerance_mm + 1e-9
        ]
        if not group:
            continue
        out.append(
            DfmFinding(
                rule_id="CNC.TAPPABLE_HOLE",
                severity=Severity.INFO,
                title=f"{len(group)} hole(s) of {f.hole_diameter[group[0]]:.2f} mm can be threaded {thread}",
                measured=rounded(f.hole_diameter[group[0]]),
                limit=drill,
                unit="mm",
                face_ids=_hole_faces(f, group),
                point_mm=_hole_point(f, group[0]),
                why=f"the diameter is the {thread} coarse thread's tap drill ({drill:g} mm): a shop will ask "
                "whether the hole is to be tapped, which the model cannot say",
                fix=f"mark the hole as {thread} tapped (with the thread depth) on the drawing, or leave it plain",
            )
        )
    return out


def _fin_findings(f: PartFacts, setups: list[int], fins: CncFins) -> list[DfmFinding]:
    """``CNC.FIN_ASPECT``: a machined wall face parallel to the main tool axis (the first setup's: it cuts
    the most surface; a floor seen from a side setup is not a wall) whose height (the face's extent along
    the axis, ``PartFacts.face_lo``/``face_hi``) is over ``max_height_to_thickness`` times the wall behind
    it (the face's median thickness sample). One warning, at the most slender face, listing
    every face over the limit. Stock faces (the bounding box's) are not cut, so they are not walls here;
    a wall's faces without a thickness sample (its narrow ends) are not measured."""
    if len(f.face_lo) != f.n_faces:
        return []
    per_face = face_median_thickness(f)
    machined = ~envelope_mask(f)
    ax = setups[0] // 2  # the first setup cuts the most surface: its tool axis is the part's "up"
    # per-face sums in one pass over the triangles (a mesh has as many faces as planar patches)
    ids, nf = f.face_ids, f.n_faces
    area = np.bincount(ids, weights=f.areas, minlength=nf)
    cut = np.bincount(ids, weights=f.areas * machined, minlength=nf)
    weighted = f.normals.astype(np.float64) * f.areas[:, None]
    normal = np.stack([np.bincount(ids, weights=weighted[:, k], minlength=nf) for k in range(3)], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1), 1e-12)[:, None]
    over: list[tuple[float, int, float, float]] = []  # (ratio, face, height, thickness)
    for face, t in per_face.items():
        if not (np.isfinite(t) and t > 0) or face >= nf or cut[face] < 0.5 * area[face]:
            continue
        if abs(float(normal[face, ax])) > 0.1:  # not a wall along the tool axis (a floor, a chamfer)
            continue
        height = float(f.face_hi[face, ax] - f.face_lo[face, ax])
        if height > 0 and above(height / t, fins.max_height_to_thickness, 1e-3):
            over.append((height / t, face, height, t))
    if not over:
        return []
    over.sort(key=lambda x: (-x[0], x[1]))
    ratio, face, height, t = over[0]
    faces = [fc for _, fc, _, _ in over]
    at = where(f, np.isin(f.face_ids, faces), nearest(f, f.face_ids == face, f.thickness, t))
    return [
        DfmFinding(
            rule_id="CNC.FIN_ASPECT",
            severity=Severity.WARNING,
            title=f"thin wall {height:.1f} mm tall and {t:.2f} mm thick ({ratio:.1f}:1)",
            measured=rounded(ratio, 2),
            limit=fins.max_height_to_thickness,
            unit="height/thickness",
            why="a tall, thin wall or fin chatters and bends away from the cutter: light passes, slow "
            "feeds, and a wall that may not hold its thickness or flatness",
            fix=f"thicken the wall or lower it to within {fins.max_height_to_thickness:g}:1, or brace it "
            "with a rib or a connecting wall",
            **at,
        )
    ]
