"""Constant-thickness sheet recognition on the B-rep, and the flat blank it unfolds to.

:func:`measure_sheet` runs at extraction (it needs the exact faces: plane normals and offsets, cylinder axes,
radii and angular spans) and stores a JSON-able summary in ``PartFacts.sheet``; :func:`sheet_geometry`
reads it back (numpy only) for the metrics, the DFM rules and the cost model.

A part is a sheet when:

- its walls are one thickness ``t``: the ray-measured wall behind each face (``PartFacts.thickness``) is
  ``t`` on every face that has one, and each such plane has an anti-parallel plane ``t`` away and each such
  cylinder a coaxial partner whose radius differs by ``t`` (a bend; the smaller radius is the bend radius);
- those faces are the two sides of the sheet: half their area is the mid-surface area ``V / t`` (within
  3 %), which holds exactly for flat and bent regions of one thickness;
- what is left (cut edges, hole walls) is thin: its area is at most half the two sides' (a sheet is at
  least about four thicknesses wide; a block is not a sheet).

The flat blank (:meth:`SheetGeometry.blank_area_mm2`): ``V / t + sum_b theta_b w_b t (K - 1/2)`` (each
bend's mid-surface arc replaced by its bend allowance ``BA = theta (R + K t)``); for bends about parallel
axes the blank length is ``sum of flat lengths + sum BA`` and its width the extent along the bend axes.
The laser's cut length is the edge area over ``t`` (blank perimeter plus holes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_T_REL = 0.05
"""Walls within 5 % (+ 0.02 mm) of the sheet thickness are that thickness (ray samples on tessellated
cylinders are off by up to the chordal deflection)."""
_AREA_REL = 0.03
_EDGE_SHARE = 0.5
_PAR = 1e-3


@dataclass(frozen=True)
class Bend:
    radius_mm: float
    """Inner bend radius."""
    angle_deg: float
    width_mm: float
    """Length of the bend line."""
    axis: tuple[float, float, float]
    point_mm: tuple[float, float, float]
    faces: tuple[int, int]
    partial: bool
    """The flange it leaves from is wider than the bend: the bend ends inside the sheet (needs relief)."""
    flange_width_mm: float


@dataclass(frozen=True)
class Flange:
    face: int
    bend: int
    length_mm: float
    """Straight length from the bend's end (its tangent line) to the flange's far edge."""
    point_mm: tuple[float, float, float]


@dataclass(frozen=True)
class Hole:
    face: int
    radius_mm: float
    center_mm: tuple[float, float, float]
    bend: int
    """Nearest bend on the hole's flange (-1: none)."""
    edge_to_bend_mm: float
    """From the hole's edge to that bend's tangent line, in the flange (inf without a bend)."""


@dataclass(frozen=True)
class SheetGeometry:
    recognised: bool
    reason: str = ""
    thickness_mm: float = 0.0
    mid_area_mm2: float = 0.0
    edge_area_mm2: float = 0.0
    bends: tuple[Bend, ...] = ()
    flanges: tuple[Flange, ...] = ()
    holes: tuple[Hole, ...] = ()
    sharp_corners: int = 0
    """Non-parallel sides that meet without a bend (a zero-radius corner)."""
    parallel_bends: bool = True
    flat_length_mm: float = 0.0
    """Sum of the flat (straight) lengths along the profile (parallel bends), or the blank's length."""
    blank_width_mm: float = 0.0
    faces: tuple[int, ...] = ()
    """The sheet's two sides (faces)."""

    @property
    def cut_length_mm(self) -> float:
        """Laser path: the cut edges' area over the thickness (the blank's perimeter plus holes)."""
        return self.edge_area_mm2 / self.thickness_mm if self.thickness_mm > 0 else 0.0

    def bend_allowance_mm(self, k_factor: float) -> list[float]:
        t = self.thickness_mm
        return [math.radians(b.angle_deg) * (b.radius_mm + k_factor * t) for b in self.bends]

    def blank_length_mm(self, k_factor: float) -> float:
        return self.flat_length_mm + sum(self.bend_allowance_mm(k_factor))

    def blank_area_mm2(self, k_factor: float) -> float:
        t = self.thickness_mm
        return self.mid_area_mm2 + sum(
            math.radians(b.angle_deg) * b.width_mm * t * (k_factor - 0.5) for b in self.bends
        )


def sheet_geometry(sheet: dict | None) -> SheetGeometry:
    """The facts' summary as a :class:`SheetGeometry` (mesh input: not recognised, saying why)."""
    if not sheet:
        return SheetGeometry(
            recognised=False,
            reason="mesh input (STL): bends and the sheet thickness are recognised on the B-rep only; "
            "analyse the STEP file",
        )
    d = dict(sheet)
    bends = tuple(
        Bend(**{**b, "axis": tuple(b["axis"]), "point_mm": tuple(b["point_mm"]), "faces": tuple(b["faces"])})
        for b in d.pop("bends", [])
    )
    flanges = tuple(Flange(**{**x, "point_mm": tuple(x["point_mm"])}) for x in d.pop("flanges", []))
    holes = tuple(Hole(**{**h, "center_mm": tuple(h["center_mm"])}) for h in d.pop("holes", []))
    d["faces"] = tuple(d.get("faces", ()))
    return SheetGeometry(**d, bends=bends, flanges=flanges, holes=holes)


# ------------------------------------------------------------------------------------------ extraction


def _not(reason: str) -> dict:
    return {"recognised": False, "reason": reason}


def measure_sheet(shape: Any, faces: list, facts: Any) -> dict:
    """The sheet summary of a B-rep part (never raises: a failure is a reason, not a crash)."""
    try:
        return _measure(shape, faces, facts)
    except Exception as e:  # noqa: BLE001 - recognition must never fail the extraction
        return _not(f"sheet recognition failed ({type(e).__name__}: {e})")


def _v(x: Any) -> np.ndarray:
    return np.array([float(c) for c in x])


def _samples(face: Any) -> np.ndarray:
    pts = []
    for e in face.edges():
        for s in (0.0, 0.25, 0.5, 0.75, 1.0):
            pts.append(tuple(e.position_at(s)))
    return np.array(pts, dtype=np.float64)


def _measure(shape: Any, faces: list, facts: Any) -> dict:
    from build123d import GeomType
    from OCP.BRepAdaptor import BRepAdaptor_Surface
    from OCP.BRepTools import BRepTools

    from engines.manufacturing.metrics import face_median_thickness, weighted_quantile

    volume = float(shape.volume)
    per_face = face_median_thickness(facts)
    info: list[dict] = []
    for fi, face in enumerate(faces):
        kind = face.geom_type
        row: dict[str, Any] = {"kind": kind, "area": float(face.area), "wall": per_face.get(fi, float("nan"))}
        if kind == GeomType.PLANE:
            n = _v(face.normal_at())
            row.update(n=n, o=float(n @ _v(face.center())))
        elif kind == GeomType.CYLINDER:
            cyl = BRepAdaptor_Surface(face.wrapped).Cylinder()
            ax3 = cyl.Position()
            u0, u1, v0, v1 = BRepTools.UVBounds_s(face.wrapped)
            row.update(
                a=_v((ax3.Direction().X(), ax3.Direction().Y(), ax3.Direction().Z())),
                p=_v((ax3.Location().X(), ax3.Location().Y(), ax3.Location().Z())),
                x=_v((ax3.XDirection().X(), ax3.XDirection().Y(), ax3.XDirection().Z())),
                y=_v((ax3.YDirection().X(), ax3.YDirection().Y(), ax3.YDirection().Z())),
                r=float(cyl.Radius()), u0=u0, u1=u1, v0=v0, v1=v1,
            )  # fmt: skip
        info.append(row)

    walls = np.array([r["wall"] for r in info])
    areas = np.array([r["area"] for r in info])
    ok = np.isfinite(walls) & np.array([r["kind"] in (GeomType.PLANE, GeomType.CYLINDER) for r in info])
    if not ok.any():
        return _not("no wall between parallel faces was measured")
    t = weighted_quantile(walls[ok], areas[ok], 0.5)
    tol = _T_REL * t + 0.02
    other = np.isfinite(walls) & (np.abs(walls - t) > tol)
    major = np.zeros(len(info), dtype=bool)

    planes = [i for i, r in enumerate(info) if r["kind"] == GeomType.PLANE]
    for i in planes:
        if not (np.isfinite(walls[i]) and abs(walls[i] - t) <= tol):
            continue
        ni, oi = info[i]["n"], info[i]["o"]
        for j in planes:
            if j != i and float(ni @ info[j]["n"]) < -1 + _PAR and abs(oi + info[j]["o"] - t) <= tol:
                major[i] = True
                break
    cyls = [i for i, r in enumerate(info) if r["kind"] == GeomType.CYLINDER]
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for i in cyls:
        if i in used or not (np.isfinite(walls[i]) and abs(walls[i] - t) <= tol):
            continue
        ci = info[i]
        for j in cyls:
            cj = info[j]
            if j == i or j in used or abs(abs(float(ci["a"] @ cj["a"])) - 1) > _PAR:
                continue
            off = cj["p"] - ci["p"]
            off = off - (off @ ci["a"]) * ci["a"]
            if np.linalg.norm(off) <= tol and abs(abs(ci["r"] - cj["r"]) - t) <= tol:
                inner, outer = (i, j) if ci["r"] < cj["r"] else (j, i)
                pairs.append((inner, outer))
                used |= {i, j}
                major[[i, j]] = True
                break
    unpaired = [i for i in cyls if np.isfinite(walls[i]) and abs(walls[i] - t) <= tol and i not in used]
    curved = [
        i for i, r in enumerate(info)
        if r["kind"] not in (GeomType.PLANE, GeomType.CYLINDER) and np.isfinite(walls[i])
        and abs(walls[i] - t) <= tol
    ]  # fmt: skip
    rolled = [p for p in pairs if info[p[0]]["u1"] - info[p[0]]["u0"] >= 2 * math.pi - 1e-6]
    if rolled:
        return _not(
            f"{len(rolled)} closed cylinder(s) of {t:.2f} mm wall: a tube is rolled or drawn, not bent from "
            "a flat blank on a press brake"
        )
    other_area = float(areas[other & ~major].sum())
    major_area = float(areas[major].sum())
    mid = volume / t
    if curved:
        return _not(
            f"{len(curved)} curved face(s) (cone, torus or free-form) bound the {t:.2f} mm wall: a press "
            "brake only makes straight, cylindrical bends"
        )
    if other_area > 0.02 * max(major_area, 1e-9):
        found = sorted({round(float(w), 2) for w in walls[other & ~major]})[:4]
        return _not(
            f"walls of {', '.join(f'{w:g}' for w in found)} mm besides the {t:.2f} mm sheet "
            f"({other_area:.0f} mm2 of surface): one part is one sheet thickness"
        )
    if unpaired:
        return _not(
            f"{len(unpaired)} curved face(s) {t:.2f} mm from the opposite wall have no coaxial partner "
            f"{t:.2f} mm larger or smaller: not a bend of constant thickness"
        )
    if major_area <= 0 or abs(major_area / 2 - mid) > _AREA_REL * mid:
        return _not(
            f"half the area of the faces {t:.2f} mm apart is {major_area / 2:.0f} mm2, not the "
            f"{mid:.0f} mm2 the volume gives at that thickness: the thickness varies"
        )
    edge_area = float(shape.area) - major_area
    if edge_area > _EDGE_SHARE * major_area:
        return _not(
            f"the part is a block, not a sheet: its faces {t:.2f} mm apart cover {major_area:.0f} mm2 "
            f"and the edges between them {edge_area:.0f} mm2 (a sheet's edges are under half its sides)"
        )

    # --- bends, flanges, holes
    bends: list[dict] = []
    flanges: list[dict] = []
    ends: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # (bend, normal, tangent pt, away dir)
    plane_pts = {i: _samples(faces[i]) for i in planes if major[i]}
    for bi, (inner, outer) in enumerate(pairs):
        c = info[inner]
        a, R = c["a"], c["r"]
        angle = c["u1"] - c["u0"]
        for u, sign in ((c["u0"], -1.0), (c["u1"], 1.0)):
            radial = math.cos(u) * c["x"] + math.sin(u) * c["y"]
            tangent = -math.sin(u) * c["x"] + math.cos(u) * c["y"]
            ends.append((bi, radial, c["p"] + R * radial, sign * tangent))
        mid_v = (c["v0"] + c["v1"]) / 2
        point = (
            c["p"]
            + mid_v * a
            + R * (math.cos((c["u0"] + c["u1"]) / 2) * c["x"] + math.sin((c["u0"] + c["u1"]) / 2) * c["y"])
        )
        bends.append(
            {
                "radius_mm": R, "angle_deg": math.degrees(angle), "width_mm": c["v1"] - c["v0"],
                "axis": a.tolist(), "point_mm": point.tolist(), "faces": [inner, outer],
                "partial": False, "flange_width_mm": c["v1"] - c["v0"],
            }
        )  # fmt: skip
    for i, pts in plane_pts.items():
        n = info[i]["n"]
        for bi, radial, p0, away in ends:
            if abs(abs(float(n @ radial)) - 1) > _PAR:
                continue
            dist = (pts - p0) @ radial
            if not (np.abs(dist) <= t + tol).all():  # the flange's plane through this bend end
                continue
            along = (pts - p0) @ away
            if along.max() <= tol:
                continue
            a = np.array(bends[bi]["axis"])
            fw = float(np.ptp(pts @ a))
            if fw > bends[bi]["width_mm"] + 2 * tol:
                bends[bi]["partial"] = True
                bends[bi]["flange_width_mm"] = max(bends[bi]["flange_width_mm"], fw)
            far = pts[int(np.argmax(along))]
            flanges.append(
                {
                    "face": i,
                    "bend": bi,
                    "length_mm": float(along.max()),
                    "point_mm": ((p0 + far) / 2).tolist(),
                }
            )
    holes: list[dict] = []
    for i in cyls:
        if i in used:
            continue
        c = info[i]
        if c["u1"] - c["u0"] < 2 * math.pi - 1e-6 or abs((c["v1"] - c["v0"]) - t) > tol:
            continue
        center = c["p"] + (c["v0"] + c["v1"]) / 2 * c["a"]
        best, best_d = -1, float("inf")
        for bi, radial, p0, away in ends:
            if abs(abs(float(c["a"] @ radial)) - 1) > _PAR or abs(float((center - p0) @ radial)) > t + tol:
                continue
            s = float((center - p0) @ away)
            if s > 0 and s - c["r"] < best_d:
                best, best_d = bi, s - c["r"]
        holes.append(
            {
                "face": i,
                "radius_mm": c["r"],
                "center_mm": center.tolist(),
                "bend": best,
                "edge_to_bend_mm": best_d,
            }
        )

    axes = [np.array(b["axis"]) for b in bends]
    parallel = all(abs(abs(float(axes[0] @ x)) - 1) <= _PAR for x in axes)
    normals = [info[i]["n"] for i in plane_pts]
    classes: list[np.ndarray] = []
    for n in normals:
        if not any(abs(abs(float(n @ c)) - 1) <= _PAR for c in classes):
            classes.append(n)
    sharp = max(0, len(classes) - 1) if not bends else 0
    if bends and parallel:
        a = axes[0]
        flat = 0.0
        for i, pts in plane_pts.items():
            d = np.cross(a, info[i]["n"])
            flat += float(np.ptp(pts @ d)) / 2
        width = max(float(np.ptp(np.vstack(list(plane_pts.values())) @ a)), max(b["width_mm"] for b in bends))
    else:
        # flat (or not parallel-bent): the largest side's extents along its own principal in-plane axes
        big = max(plane_pts, key=lambda i: info[i]["area"])
        pts = plane_pts[big]
        n = info[big]["n"]
        q = pts - pts.mean(axis=0)
        q = q - np.outer(q @ n, n)
        _, _, vt = np.linalg.svd(q, full_matrices=False)
        ext = sorted((float(np.ptp(q @ vt[k])) for k in range(2)), reverse=True)
        flat, width = ext[0], ext[1]
        if bends:  # not parallel: report the blank as the square of its area (a model estimate)
            flat = width = math.sqrt(mid)
    return {
        "recognised": True,
        "reason": "",
        "thickness_mm": float(t),
        "mid_area_mm2": float(mid),
        "edge_area_mm2": float(edge_area),
        "bends": bends,
        "flanges": flanges,
        "holes": holes,
        "sharp_corners": int(sharp),
        "parallel_bends": bool(parallel),
        "flat_length_mm": float(flat),
        "blank_width_mm": float(width),
        "faces": [int(i) for i in np.flatnonzero(major)],
    }
