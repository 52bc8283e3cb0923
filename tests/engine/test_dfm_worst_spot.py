"""A finding points at its worst spot: the face where the reported value was measured comes first in its
face ids, and its point lies on that face, even when a larger face also breaks the limit less badly.
Each part has a twin without the worst spot, whose finding then points at the larger face."""

from __future__ import annotations

import math

import numpy as np
import pytest
from build123d import Align, Axis, Box, BuildPart, Locations, chamfer

from engines.manufacturing.analysis import evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import facts_from_shape
from shared.models import DfmFinding, MaterialId
from shared.models import ManufacturingMethod as M

FIN_X = 25.0
WALL_X = -20.0


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def finding(part, method: M, rule: str, catalog) -> DfmFinding:  # type: ignore[no-untyped-def]
    _, found, _ = evaluate(facts_from_shape(part, "test"), method, MaterialId.ABS, 10, catalog)
    [f] = [f for f in found if f.rule_id == rule]
    return f


def on_face(part, face_id: int, point: tuple[float, float, float]) -> bool:  # type: ignore[no-untyped-def]
    face = part.faces()[face_id]
    return face.distance_to(point) < 1e-3  # type: ignore[no-any-return]


def thin_wall_part(with_fin: bool) -> object:
    """An 80 x 40 x 10 base with a large 0.7 mm wall (36 x 30 mm faces) and, ``with_fin``, a small 0.5 mm
    fin (5 x 5 mm faces): the thinnest spot is on the small face."""
    with BuildPart() as p:
        Box(80, 40, 10, align=(Align.CENTER, Align.CENTER, Align.MIN))
        with Locations((WALL_X, 0, 10)):
            Box(0.7, 36, 30, align=(Align.CENTER, Align.CENTER, Align.MIN))
        if with_fin:
            with Locations((FIN_X, 0, 10)):
                Box(0.5, 5, 5, align=(Align.CENTER, Align.CENTER, Align.MIN))
    return p.part


@pytest.mark.parametrize(
    ("method", "rule"),
    [
        (M.CNC_MILLING, "CNC.THIN_WALL"),
        (M.FDM_PRINTING, "FDM.MIN_WALL"),
        (M.INJECTION_MOLDING, "IM.WALL_MIN"),
    ],
)
def test_a_thin_wall_finding_points_at_the_thinnest_spot(method: M, rule: str, catalog) -> None:  # type: ignore[no-untyped-def]
    part = thin_wall_part(with_fin=True)
    f = finding(part, method, rule, catalog)
    assert f.measured == pytest.approx(0.5, abs=0.01)
    assert f.point_mm is not None and f.point_mm[0] == pytest.approx(FIN_X, abs=0.5)
    assert part.faces()[f.face_ids[0]].area == pytest.approx(25.0)  # the fin's 5 x 5 face, listed first
    assert on_face(part, f.face_ids[0], f.point_mm)
    assert len(f.face_ids) >= 3  # the large thin wall is still listed, after the worst face

    twin = thin_wall_part(with_fin=False)
    g = finding(twin, method, rule, catalog)
    assert g.measured == pytest.approx(0.7, abs=0.01)
    assert g.point_mm is not None and g.point_mm[0] == pytest.approx(WALL_X, abs=0.5)
    assert twin.faces()[g.face_ids[0]].area == pytest.approx(36 * 30)


def chamfered(small_steep: bool) -> object:
    """A 40 x 20 x 20 block on the bed: its bottom +X edge chamfered 30 deg from horizontal over 10 mm (60
    deg from vertical) and, ``small_steep``, its bottom -X edge 10 deg from horizontal over 3 mm (80 deg):
    the steepest overhang is the small face."""
    with BuildPart() as p:
        Box(40, 20, 20, align=(Align.CENTER, Align.CENTER, Align.MIN))
        bottom = p.edges().filter_by(Axis.Y).group_by(Axis.Z)[0].sort_by(Axis.X)
        chamfer(bottom[-1], length=10 * math.tan(math.radians(30)), length2=10)
        if small_steep:
            bottom = p.edges().filter_by(Axis.Y).group_by(Axis.Z)[0].sort_by(Axis.X)
            chamfer(bottom[0], length=3, length2=3 * math.tan(math.radians(10)))
    return p.part


def test_an_overhang_finding_points_at_the_steepest_spot(catalog) -> None:  # type: ignore[no-untyped-def]
    part = chamfered(small_steep=True)
    f = finding(part, M.FDM_PRINTING, "FDM.OVERHANG", catalog)
    assert f.measured == pytest.approx(80.0, abs=0.1)
    assert f.point_mm is not None and f.point_mm[0] < 0 and on_face(part, f.face_ids[0], f.point_mm)
    normal = np.array(tuple(part.faces()[f.face_ids[0]].normal_at()))
    assert math.degrees(math.asin(-normal[2])) == pytest.approx(80.0, abs=0.1)

    twin = chamfered(small_steep=False)
    g = finding(twin, M.FDM_PRINTING, "FDM.OVERHANG", catalog)
    assert g.measured == pytest.approx(60.0, abs=0.1)
    assert g.point_mm is not None and g.point_mm[0] > 0
