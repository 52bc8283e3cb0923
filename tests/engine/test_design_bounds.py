"""Design validation with out-of-range and lax metadata (no Temporal): a finding that names the part, never a
crash (a crash of the build activity is retried, then fails the evaluation untyped)."""

from __future__ import annotations

import pytest
from build123d import Shape

from engines.cad.build import build_benchmark
from engines.cad.design import DesignInput, check_design
from engines.cad.export import step_bytes
from engines.cad.primitives import box
from shared.models import BenchmarkDefinition

ALU = {"material": "aluminum_6061", "method": "cnc"}


@pytest.fixture(scope="module")
def chute() -> tuple[BenchmarkDefinition, dict[str, Shape], bytes]:
    definition, _, shapes = build_benchmark("chute", 0, 1, "chute-s0-v1")
    fixtures = {p.label: shapes[p.label] for p in definition.fixtures}
    return definition, fixtures, step_bytes(box((40.0, 30.0, 0.0), (60.0, 45.0, 20.0)))


@pytest.mark.parametrize(
    ("metadata", "says"),
    [
        ({"placement": {"position_mm": [1e308, 0, 0]}}, "placement.position_mm.0"),
        ({"placement": {"position_mm": [0, 0, -1e20]}}, "placement.position_mm.2"),
        ({"placement": {"rotation_deg": [0, 1e300, 0]}}, "placement.rotation_deg.1"),
        ({"joint": {"type": "hinge", "axis": [0, 0, 1e308]}}, "joint.axis.2"),
        ({"joint": {"type": "slide", "axis": [0, 0, 1], "anchor_mm": [0, 1e12, 0]}}, "joint.anchor_mm.1"),
        (
            {"joint": {"type": "slide", "axis": [0, 0, 1]}, "motor": {"mode": "on_off", "max_effort": 1e30}},
            "motor.max_effort",
        ),
        ({"fixed": "no"}, "fixed"),
        (
            {"joint": {"type": "slide", "axis": [0, 0, 1]}, "motor": {"mode": "on_off", "max_effort": "2"}},
            "motor.max_effort",
        ),
    ],
)
def test_out_of_range_or_lax_metadata_is_a_finding_naming_the_part(chute, metadata, says) -> None:  # type: ignore[no-untyped-def]
    definition, fixtures, block = chute
    check = check_design(
        definition, [DesignInput({"label": "far", **ALU, **metadata}, block, "step", "a")], fixtures
    )
    assert not check.valid and not check.parts
    (finding,) = check.findings
    assert finding.rule == "part.invalid_metadata" and finding.parts == ["far"], finding
    assert says in finding.message and "'far'" in finding.message, finding.message


def test_a_file_modelled_beyond_the_world_is_a_finding_naming_the_part(chute) -> None:  # type: ignore[no-untyped-def]
    """The placement is in range, but the file's own coordinates put the part 20 m away."""
    definition, fixtures, _ = chute
    far = step_bytes(box((20_000.0, 0.0, 0.0), (20_020.0, 10.0, 10.0)))
    check = check_design(
        definition, [DesignInput({"label": "far", **ALU}, far, "step", "far.step")], fixtures
    )
    assert not check.valid
    (finding,) = check.findings
    assert finding.rule == "part.out_of_range" and finding.parts == ["far"]
    assert "far.step" in finding.message and "10000" in finding.message
