"""Quotes against published prices: the calibration table of ``engines/manufacturing/calibration.toml``.

Each reference is a published price of a described part; the test models the part in build123d, prices it
with the shipped catalogue and prints, per method, every reference's error and the median absolute
percentage error (MdAPE). It fails when a method's MdAPE is above :data:`MDAPE_BOUND_PCT`, or when the MdAPE
the catalogue states on every quote (``estimate.calibration_mdape_pct`` in ``catalog.toml``) is not the one
measured here. It iterates over the methods the file lists, so a new method only adds references (and, if it
needs one, a shape below).
"""

from __future__ import annotations

import os
import statistics
import tomllib
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from build123d import (
    Axis,
    Box,
    BuildLine,
    BuildPart,
    BuildSketch,
    Circle,
    Cylinder,
    GridLocations,
    Hole,
    Locations,
    Mode,
    Plane,
    Polyline,
    extrude,
    fillet,
    make_face,
    offset,
)

from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import facts_from_shape
from engines.manufacturing.metrics import PartMetrics, part_metrics
from engines.manufacturing.pricing import quote
from shared.models import ManufacturingMethod

CALIBRATION_TOML = os.path.join(
    os.path.dirname(__file__), "..", "..", "engines", "manufacturing", "calibration.toml"
)
MDAPE_BOUND_PCT: dict[str, float] = {"cnc_milling": 50.0, "injection_molding": 60.0, "fdm_printing": 350.0}
"""A method whose median absolute percentage error against the published prices is above its bound fails.
Each bound is set from what the model achieves after the mfg-3 fixes (the printed table), with a little room,
not from what would look good: the references are single published prices of parts described in a sentence,
from shops in different countries (the moulds of one source are priced in a low-cost country, the FDM table
is a low-cost service's bounding-box formula without fixed costs), so these are the errors the quotes carry
and ``estimate_band_pct`` states. A method not listed here (a new one) is held to :data:`DEFAULT_BOUND_PCT`."""
DEFAULT_BOUND_PCT = 50.0
STATED_TOLERANCE_PCT = 1.0
"""How far the catalogue's stated MdAPE may be from the measured one (it is rounded when written)."""


# --------------------------------------------------------------------------------------------- shapes


def l_bracket(length: float, width: float, height: float, thickness: float, hole_d: float) -> Any:
    """An L-bracket: a base leg ``length`` long and an upright ``height`` tall, ``width`` wide, ``thickness``
    thick, one hole through each leg."""
    t = thickness
    with BuildPart() as p:
        with BuildSketch(Plane.XZ):
            with BuildLine():
                Polyline((0, 0), (length, 0), (length, t), (t, t), (t, height), (0, height), close=True)
            make_face()
        extrude(amount=-width)
        with Locations((length / 2 + t / 2, width / 2, t)):
            Hole(hole_d / 2, depth=t)
        with BuildSketch(Plane.YZ) as s, Locations((width / 2, height / 2 + t / 2)):
            Circle(hole_d / 2)
        extrude(s.sketch, amount=t, mode=Mode.SUBTRACT)
    return p.part


def box_shell(x: float, y: float, z: float, wall: float, fillet_r: float = 0.0) -> Any:
    """An open-top box (an enclosure half): outer ``x`` x ``y`` x ``z``, ``wall`` thick, vertical outer edges
    rounded to ``fillet_r``."""
    with BuildPart() as p:
        Box(x, y, z)
        if fillet_r > 0:
            fillet(p.edges().filter_by(Axis.Z), fillet_r)
        offset(amount=-wall, openings=p.faces().sort_by(Axis.Z)[-1])
    return p.part


def plate_holes(x: float, y: float, t: float, hole_d: float, holes: int = 4) -> Any:
    """A plate with four holes 10 mm in from the corners (or one central hole)."""
    with BuildPart() as p:
        Box(x, y, t)
        if holes == 1:
            Hole(hole_d / 2)
        else:
            with GridLocations(x - 20, y - 20, 2, 2):
                Hole(hole_d / 2)
    return p.part


def washer(od: float, bore: float, t: float) -> Any:
    with BuildPart() as p:
        Cylinder(od / 2, t)
        Hole(bore / 2)
    return p.part


SHAPES: dict[str, Callable[..., Any]] = {
    "l_bracket": l_bracket,
    "box_shell": lambda fillet=0.0, **kw: box_shell(fillet_r=fillet, **kw),
    "plate_holes": plate_holes,
    "washer": washer,
}


# --------------------------------------------------------------------------------------------- table


def load_references() -> tuple[list[dict[str, Any]], dict[str, float]]:
    with open(CALIBRATION_TOML, "rb") as f:
        data = tomllib.load(f)
    fx = {k: float(v) for k, v in data["fx"].items() if k != "source"}
    return data["reference"], {"USD": 1.0, **fx}


@cache
def _metrics(shape: str, params: tuple[tuple[str, float], ...]) -> PartMetrics:
    part = SHAPES[shape](**dict(params))
    return part_metrics(facts_from_shape(part, f"calibration-{shape}-{params}"))


def modelled(ref: dict[str, Any]) -> float:
    """The catalogue's number for what the reference's price covers, in USD."""
    m = _metrics(ref["shape"], tuple(sorted(ref["params"].items())))
    q = quote(
        m,
        ref["method"],
        ref["material"],
        ref["quantity"],
        load_catalog(),
        tooling_class=ref.get("tooling_class"),
    )
    tooling = sum(ln.usd for ln in q.lines if ln.item.startswith("tooling"))
    kind = ref["price_kind"]
    if kind == "unit":
        return q.unit_cost_usd
    if kind == "unit_ex_tooling":
        return q.unit_cost_usd - tooling / q.quantity
    if kind == "tooling":
        return tooling
    raise ValueError(f"calibration reference {ref['id']}: unknown price_kind {kind!r}")


@cache
def table() -> dict[str, list[tuple[dict[str, Any], float, float, float]]]:
    """Per method: (reference, published USD, modelled USD, error %) rows."""
    refs, fx = load_references()
    out: dict[str, list[tuple[dict[str, Any], float, float, float]]] = {}
    for ref in refs:
        published = ref["price"] * fx[ref["currency"]]
        model = modelled(ref)
        out.setdefault(ref["method"], []).append(
            (ref, published, model, 100 * (model - published) / published)
        )
    return out


def mdape(rows: list[tuple[dict[str, Any], float, float, float]]) -> float:
    return statistics.median(abs(r[3]) for r in rows)


def render(rows_by_method: dict[str, list[tuple[dict[str, Any], float, float, float]]]) -> str:
    lines = [f"{'reference':<30} {'qty':>6} {'covers':<16} {'published $':>12} {'model $':>12} {'error':>8}"]
    for method, rows in rows_by_method.items():
        lines.append(f"-- {method}")
        for ref, pub, mod, err in rows:
            lines.append(
                f"{ref['id']:<30} {ref['quantity']:>6} {ref['price_kind']:<16} {pub:>12,.2f} {mod:>12,.2f} "
                f"{err:>+7.0f}%"
            )
        bound = MDAPE_BOUND_PCT.get(method, DEFAULT_BOUND_PCT)
        lines.append(
            f"   {method}: median absolute error {mdape(rows):.0f}% over {len(rows)} references (bound {bound:g}%)"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- tests


def test_every_reference_is_complete_and_cited() -> None:
    refs, fx = load_references()
    ids = [r["id"] for r in refs]
    assert len(ids) == len(set(ids))
    for r in refs:
        assert ManufacturingMethod(r["method"]) and r["shape"] in SHAPES, r["id"]
        assert r["price"] > 0 and r["currency"] in fx and r["quantity"] >= 1, r["id"]
        assert r["source"] and r["url"].startswith("https://") and r["date"], r["id"]
        assert r["geometry"].startswith(("published", "assumed: ")), r["id"]
    per_method: dict[str, int] = {}
    for r in refs:
        per_method[r["method"]] = per_method.get(r["method"], 0) + 1
    assert all(n >= 5 for n in per_method.values()), per_method


def test_calibration_table_is_within_bound(capsys: pytest.CaptureFixture[str]) -> None:
    rows = table()
    with capsys.disabled():
        print("\n" + render(rows))
    over = {
        m: round(mdape(r), 1) for m, r in rows.items() if mdape(r) > MDAPE_BOUND_PCT.get(m, DEFAULT_BOUND_PCT)
    }
    assert not over, f"median absolute error above the bound ({MDAPE_BOUND_PCT}): {over}\n{render(rows)}"


def test_the_catalogue_states_the_measured_error_on_every_quote() -> None:
    stated = load_catalog().estimate.calibration_mdape_pct
    for method, rows in table().items():
        assert stated.get(ManufacturingMethod(method)) == pytest.approx(
            mdape(rows), abs=STATED_TOLERANCE_PCT
        ), f"catalog.toml [estimate.calibration_mdape_pct] {method} should be {mdape(rows):.0f}"
