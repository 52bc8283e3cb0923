"""DFM severities as shops use them: a sharp internal pocket corner is quoted with the tool's radius (a
warning naming the radius and EDM) and blocks only when the request says corners must stay sharp; a fillet
is never called sharp; a local feature thinner than the FDM nozzle loses detail (a warning) while a part
whose body is that thin cannot be printed (blocking). Each part has a twin without the finding."""

from __future__ import annotations

import pytest
from build123d import Align, Box, BuildPart, Locations

from engines.manufacturing import samples
from engines.manufacturing.analysis import analyse, evaluate
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import facts_from_shape
from shared.models import AnalyzeRequest, DfmFinding, MaterialId, Severity
from shared.models import ManufacturingMethod as M

CORNER = "CNC.INTERNAL_CORNER_RADIUS"


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def found(part, method: M, material: MaterialId, catalog, **options) -> dict[str, list[DfmFinding]]:  # type: ignore[no-untyped-def]
    _, findings, _ = evaluate(facts_from_shape(part, "test"), method, material, 10, catalog, **options)
    out: dict[str, list[DfmFinding]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def tool_radius(catalog) -> float:  # type: ignore[no-untyped-def]
    return catalog.process(M.CNC_MILLING).limits.tool_radius_standard_mm


# --- CNC: sharp internal corners ---------------------------------------------------------------------


def test_a_sharp_pocket_corner_is_left_at_the_tool_radius_and_quoted(catalog) -> None:  # type: ignore[no-untyped-def]
    r = tool_radius(catalog)
    [corner] = found(samples.pocket_block(0.0), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog)[CORNER]
    assert corner.severity == Severity.WARNING
    assert f"corner left at the tool radius {r:g} mm" in corner.title and "4 sharp" in corner.title
    assert corner.measured == 0.0 and corner.limit == r
    assert "EDM" in corner.why and f"assumes the {r:g} mm radius" in corner.why
    a = analyse(
        facts_from_shape(samples.pocket_block(0.0), "t"), M.CNC_MILLING, MaterialId.ALUMINUM_6061, 10, catalog
    )
    assert a.manufacturable and a.quote.unit_cost_usd > 0


def test_a_sharp_corner_blocks_only_when_the_request_says_it_must_stay_sharp(catalog) -> None:  # type: ignore[no-untyped-def]
    part = samples.pocket_block(0.0)
    [corner] = found(part, M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog, sharp_corners=True)[CORNER]
    assert corner.severity == Severity.BLOCKING and "must stay sharp" in corner.title and "EDM" in corner.why
    # the twin: fillets of the tool radius (and more) need nothing, sharp corners or not
    for radius in (tool_radius(catalog), 4.0):
        filleted = found(
            samples.pocket_block(radius), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog, sharp_corners=True
        )
        assert CORNER not in filleted, radius
        assert not any(f.severity == Severity.BLOCKING for fs in filleted.values() for f in fs)


def test_the_request_carries_the_option_and_dumps_as_before_without_it() -> None:
    base = {"part": {"path": "/parts/p.step"}, "method": "cnc", "material": "aluminum_6061", "quantity": 5}
    plain = AnalyzeRequest.model_validate(base)
    assert plain.sharp_corners is False and "sharp_corners" not in plain.model_dump(mode="json")
    sharp = AnalyzeRequest.model_validate({**base, "sharp_corners": True})
    assert sharp.model_dump(mode="json")["sharp_corners"] is True
    assert AnalyzeRequest.model_validate_json(sharp.model_dump_json()) == sharp


# --- CNC: filleted corners are measured by their radius, never "sharp" -----------------------------------


def test_a_fillet_below_the_tool_radius_is_named_by_its_radius(catalog) -> None:  # type: ignore[no-untyped-def]
    r = tool_radius(catalog)
    [corner] = found(samples.pocket_block(1.0), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog)[CORNER]
    assert corner.severity == Severity.WARNING and corner.measured == pytest.approx(1.0)
    assert f"radius 1.00 mm below tool radius {r:g} mm" in corner.title and "sharp" not in corner.title
    # a smaller tool cuts it as modelled: still a warning when corners must stay as modelled
    [kept] = found(
        samples.pocket_block(1.0), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog, sharp_corners=True
    )[CORNER]
    assert kept.severity == Severity.WARNING


def test_a_fillet_below_the_smallest_end_mill_is_left_at_the_tool_radius_not_called_sharp(catalog) -> None:  # type: ignore[no-untyped-def]
    lim = catalog.process(M.CNC_MILLING).limits
    tiny = 0.6 * lim.tool_radius_min_mm
    [corner] = found(samples.pocket_block(tiny), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog)[CORNER]
    assert corner.severity == Severity.WARNING and corner.measured == pytest.approx(tiny)
    assert "sharp" not in corner.title and f"{tiny:.2f} mm" in corner.title
    assert f"corner left at the tool radius {lim.tool_radius_standard_mm:g} mm" in corner.title
    [must] = found(
        samples.pocket_block(tiny), M.CNC_MILLING, MaterialId.ALUMINUM_6061, catalog, sharp_corners=True
    )[CORNER]
    assert must.severity == Severity.BLOCKING


# --- FDM: thinner than the nozzle --------------------------------------------------------------------


def block_with_fin(fin_mm: float) -> object:
    """A 40 x 40 x 10 block with a 10 mm long, 5 mm high fin ``fin_mm`` thick standing on its top."""
    with BuildPart() as p:
        Box(40, 40, 10, align=(Align.CENTER, Align.CENTER, Align.MIN))
        with Locations((0, 0, 10)):
            Box(fin_mm, 10, 5, align=(Align.CENTER, Align.CENTER, Align.MIN))
    return p.part


def test_a_local_feature_thinner_than_the_nozzle_loses_detail(catalog) -> None:  # type: ignore[no-untyped-def]
    nozzle = catalog.process(M.FDM_PRINTING).slicing.nozzle_mm
    [wall] = found(block_with_fin(0.3), M.FDM_PRINTING, MaterialId.PLA, catalog)["FDM.MIN_WALL"]
    assert wall.severity == Severity.WARNING and "loses detail" in wall.title
    assert wall.measured == pytest.approx(0.3, abs=0.01) and wall.limit == nozzle
    # the twin: a fin as thick as the material's minimum wall is no finding
    assert "FDM.MIN_WALL" not in found(block_with_fin(1.2), M.FDM_PRINTING, MaterialId.PLA, catalog)


def test_a_part_whose_body_is_thinner_than_the_nozzle_cannot_be_printed(catalog) -> None:  # type: ignore[no-untyped-def]
    [wall] = found(samples.plate(0.3), M.FDM_PRINTING, MaterialId.PLA, catalog)["FDM.MIN_WALL"]
    assert wall.severity == Severity.BLOCKING and "cannot be printed" in wall.title
    assert catalog.process(M.FDM_PRINTING).walls.source  # the rule states its source in the method's data
    # the twin: the same plate at two nozzle widths prints (a warning below the material's minimum at most)
    thicker = found(samples.plate(0.8), M.FDM_PRINTING, MaterialId.PLA, catalog)
    assert not any(f.severity == Severity.BLOCKING for fs in thicker.values() for f in fs)
