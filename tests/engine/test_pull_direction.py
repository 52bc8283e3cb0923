"""The mould picks its pull direction: a part with an undercut along Z but none along X is pulled along X
with no side action; the same part with the axis fixed to Z needs one, and says so."""

from __future__ import annotations

import pytest
from build123d import Box, BuildPart, Mode, Rot

from engines.manufacturing import samples
from engines.manufacturing.analysis import analyse, evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import facts_from_shape
from engines.manufacturing.facts import PartFacts
from engines.manufacturing.pull import choose_pull
from shared.models import AnalyzeRequest, MaterialId
from shared.models import ManufacturingMethod as M

IM = M.INJECTION_MOLDING


def x_tunnel_block() -> object:
    """A 60 x 40 x 30 block with a 10 x 10 mm square tunnel through it along X: hidden from a +-Z pull
    (the tunnel's floor and ceiling face each other), open to a +-X pull."""
    with BuildPart() as p:
        Box(60, 40, 30)
        Box(80, 10, 10, mode=Mode.SUBTRACT)
    return p.part


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


@pytest.fixture(scope="module")
def tunnel() -> PartFacts:
    return facts_from_shape(x_tunnel_block(), "tunnel")


def by_rule(findings: list) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def test_the_pull_is_picked_along_the_axis_without_undercuts(tunnel, catalog) -> None:  # type: ignore[no-untyped-def]
    pull, tried = choose_pull(tunnel)
    assert pull.name == "+-X" and pull.side_actions == () and pull.undercut_mm2 == 0
    z = next(p for p in tried if p.name == "+-Z")
    assert len(z.side_actions) == 1 and z.undercut_mm2 > 0
    _, found, _ = evaluate(tunnel, IM, MaterialId.ABS, 1000, catalog)
    rules = by_rule(found)
    [chosen] = rules["IM.PULL_DIRECTION"]
    print(chosen.title, "|", chosen.why)
    assert chosen.measured == 0 and chosen.axis == pytest.approx((1, 0, 0))
    assert "IM.UNDERCUT" not in rules and "IM.INTERNAL_UNDERCUT" not in rules


def test_a_fixed_z_axis_reports_its_side_actions(tunnel, catalog) -> None:  # type: ignore[no-untyped-def]
    _, found, _ = evaluate(tunnel, IM, MaterialId.ABS, 1000, catalog, pull_axis=(0.0, 0.0, 1.0))
    rules = by_rule(found)
    [chosen] = rules["IM.PULL_DIRECTION"]
    assert chosen.measured == 1 and chosen.axis == pytest.approx((0, 0, 1)) and "fixed" in chosen.why
    [undercut] = rules["IM.UNDERCUT"]
    print(undercut.title)
    assert undercut.measured == 1 and "+-Z pull" in undercut.title
    assert undercut.area_mm2 and undercut.area_mm2 > 0
    # either sign of the axis is the same mould
    _, flipped, _ = evaluate(tunnel, IM, MaterialId.ABS, 1000, catalog, pull_axis=(0.0, 0.0, -2.0))
    assert by_rule(flipped)["IM.UNDERCUT"][0].measured == 1


def test_a_part_without_undercuts_keeps_the_z_pull_silently(catalog) -> None:  # type: ignore[no-untyped-def]
    plate = facts_from_shape(samples.plate(2.0), "plate")
    pull, _ = choose_pull(plate)
    assert pull.name == "+-Z"
    _, found, _ = evaluate(plate, IM, MaterialId.ABS, 1000, catalog)
    assert "IM.PULL_DIRECTION" not in by_rule(found)


def test_a_tilted_part_is_pulled_along_its_principal_axis(catalog) -> None:  # type: ignore[no-untyped-def]
    tilted = facts_from_shape(Rot(0, 0, 30) * x_tunnel_block(), "tilted")
    assert len(tilted.extra_dirs) == 6
    pull, tried = choose_pull(tilted)
    assert pull.side_actions == () and pull.plus >= 6  # an inertia axis, not +-X/Y/Z
    assert pull.axis == pytest.approx((0.866025, 0.5, 0.0), abs=1e-3)
    assert all(p.side_actions or p.internal_mm2 > 0 for p in tried if p.plus < 6)  # +-X/Y/Z all worse


def test_an_unmeasured_axis_is_a_request_error(tunnel, catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="pull_axis"):
        analyse(tunnel, IM, MaterialId.ABS, 100, catalog, alternatives=False, pull_axis=(1.0, 1.0, 0.0))


def test_the_request_carries_the_axis_only_when_set() -> None:
    base = {"part": {"path": "part.step"}, "method": "injection_molding", "material": "abs", "quantity": 10}
    assert "pull_axis" not in AnalyzeRequest.model_validate(base).model_dump()
    req = AnalyzeRequest.model_validate({**base, "pull_axis": (0, 0, 1)})
    assert req.pull_axis == (0, 0, 1)
    with pytest.raises(ValueError):
        AnalyzeRequest.model_validate({**base, "pull_axis": (0, 0, 0)})


def test_the_mould_is_priced_along_the_pull_it_chose(tunnel, catalog) -> None:  # type: ignore[no-untyped-def]
    """Picked along X: no side action in the tooling and the footprint seen along X (40 x 30 less the
    tunnel); its twin fixed to Z pays for the side action and is priced on the 60 x 40 footprint."""
    _, _, along_x = evaluate(tunnel, IM, MaterialId.ABS, 1000, catalog)
    _, _, along_z = evaluate(tunnel, IM, MaterialId.ABS, 1000, catalog, pull_axis=(0.0, 0.0, 1.0))
    assert along_x.parameters["side_actions"] == 0 and along_z.parameters["side_actions"] == 1
    assert along_x.parameters["projected_area_mm2"] == pytest.approx(40 * 30 - 10 * 10, rel=1e-3)
    assert along_z.parameters["projected_area_mm2"] == pytest.approx(60 * 40, rel=1e-3)
    assert along_z.parameters["side_actions_cost_usd"] > 0 == along_x.parameters["side_actions_cost_usd"]
