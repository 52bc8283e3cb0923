"""Payload shapes (sphere, box, cylinder, capsule): the model's dimension checks, the envelope, the scene
compiler's geom and contact parameters, resting heights, the runner's forbidden-zone box and the geometry
proof's payload solid."""

from __future__ import annotations

import math

import mujoco
import pyarrow as pa
import pytest
from pydantic import ValidationError

from engines.cad.primitives import box, payload_solid
from engines.cad.validate import common_volume_mm3
from engines.physics.mjcf import PART_CONDIM, PAYLOAD_CONDIM, compile_scene_xml
from engines.physics.runner import compile_model, run_scene
from shared.models import NamedBox, Outcome, Payload, SimulationMode
from tests.engine.test_physics import FAR_PIECE, FLOOR_PIECE, definition
from workers.export_schema import PAYLOAD
from workers.report_format import payload_text

SHAPES = {
    "sphere": {"radius_mm": 12.0},
    "box": {"half_size_mm": (20.0, 15.0, 10.0)},
    "cylinder": {"radius_mm": 15.0, "half_length_mm": 20.0},
    "capsule": {"radius_mm": 10.0, "half_length_mm": 15.0},
}
REST_HEIGHT_MM = {"sphere": 12.0, "box": 10.0, "cylinder": 20.0, "capsule": 25.0}
"""The centre's height resting on a floor: the radius; a box on its face, its half-size z; a cylinder upright,
its half-length; a capsule upright, its half-length plus radius."""


def payload(shape: str, start: tuple[float, float, float] = (0.0, 0.0, 60.0), **extra: object) -> Payload:
    return Payload(shape=shape, material="steel_carbon", start_mm=start, **SHAPES[shape], **extra)  # type: ignore[arg-type]


def test_an_old_sphere_parses_and_dumps_unchanged() -> None:
    old = {"radius_mm": 5.0, "material": "abs", "start_mm": [0.0, 0.0, 10.0]}
    p = Payload.model_validate(old)
    assert p.shape == "sphere" and p.half_extents_mm == (5.0, 5.0, 5.0) and p.bounding_radius_mm == 5.0
    assert p.model_dump_json() == (
        '{"label":"payload","shape":"sphere","radius_mm":5.0,"material":"abs",'
        '"start_mm":[0.0,0.0,10.0],"jitter_mm":[0.0,0.0,0.0]}'
    )


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_round_trips_and_bounds_its_envelope(shape: str) -> None:
    p = payload(shape, jitter_mm=(3.0, 3.0, 1.0))
    assert Payload.model_validate_json(p.model_dump_json()) == p
    hx, hy, hz = p.half_extents_mm
    assert p.envelope.min_mm == (-hx - 3.0, -hy - 3.0, 60.0 - hz - 1.0)
    assert p.envelope.max_mm == (hx + 3.0, hy + 3.0, 60.0 + hz + 1.0)
    assert p.bounding_radius_mm >= max(p.half_extents_mm)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"shape": "box"}, "half_size_mm is required for a box payload"),
        ({"shape": "box", "half_size_mm": (1, 1, 1), "radius_mm": 2}, "radius_mm does not apply to a box"),
        ({"shape": "cylinder", "radius_mm": 3}, "half_length_mm is required for a cylinder payload"),
        ({"shape": "capsule", "half_length_mm": 3}, "radius_mm is required for a capsule payload"),
        ({"radius_mm": 3, "half_length_mm": 3}, "half_length_mm does not apply to a sphere"),
        ({}, "radius_mm is required for a sphere payload"),
        ({"shape": "box", "half_size_mm": (1, 0, 1)}, "half_size_mm"),
        ({"radius_mm": 501}, "radius_mm"),
        ({"shape": "cone", "radius_mm": 3}, "shape"),
    ],
)
def test_wrong_dimensions_are_refused_naming_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Payload.model_validate({"material": "abs", "start_mm": (0, 0, 10), **fields})


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_compiles_and_rests_on_the_floor_at_its_height(shape: str) -> None:
    d, col = definition({"floor": FLOOR_PIECE}, start=(0, 0, 60))
    d = d.model_copy(update={"payload": payload(shape)})
    xml = compile_scene_xml(d, col, SimulationMode.BASELINE)
    model = compile_model(xml)
    geom = model.geom("payload")
    assert mujoco.mjtGeom(geom.type[0]).name == f"mjGEOM_{shape.upper()}"
    flat = shape in ("box", "cylinder")
    assert geom.condim[0] == (PART_CONDIM if flat else PAYLOAD_CONDIM)
    assert (geom.friction[1:] == 0).all() == flat  # no torsional or rolling friction on a flat-faced block
    data = mujoco.MjData(model)
    mujoco.mj_step(model, data, nstep=750)  # 1.5 s: dropped from 60 mm, settled
    z_mm = data.qpos[2] * 1e3
    assert abs(z_mm - REST_HEIGHT_MM[shape]) < 1.0, z_mm
    assert float(abs(data.qvel[:3]).max()) < 1e-3


def test_forbidden_zone_uses_the_tilted_box_extent() -> None:
    """A 40 x 30 x 20 mm box centred 30 mm up, falling for one check (20 ms, 2 mm): lying flat, its lowest
    point stays above a zone reaching 17 mm up; stood on end (turned 90 degrees about y) it reaches into it."""
    zone = NamedBox(name="strip", min_mm=(-100, -100, 0), max_mm=(100, 100, 17))
    p = Payload(shape="box", half_size_mm=(20, 15, 10), material="abs", start_mm=(0, 0, 30))
    for euler, outcome in (("0 0 0", Outcome.TIMEOUT), ("0 1.5707963 0", Outcome.FORBIDDEN_ZONE)):
        d, col = definition({"far": FAR_PIECE}, forbidden=[zone], duration_s=0.02)
        d = d.model_copy(update={"payload": p})
        xml = compile_scene_xml(d, col, SimulationMode.BASELINE)
        body = '<body name="payload" pos="0 0 0.03">'
        assert body in xml
        xml = xml.replace(body, f'<body name="payload" pos="0 0 0.03" euler="{euler}">')
        result = run_scene(compile_model(xml), d, 0)
        assert result.outcome == outcome, result


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_geometry_proof_checks_the_payload_solid(shape: str) -> None:
    p = payload(shape, start=(0.0, 0.0, 0.0))
    solid = payload_solid(p, p.start_mm)
    hx, hy, hz = p.half_extents_mm
    exact = {
        "sphere": 4 / 3 * math.pi * 12.0**3,
        "box": 8 * hx * hy * hz,
        "cylinder": math.pi * 15.0**2 * 40.0,
        "capsule": math.pi * 10.0**2 * 30.0 + 4 / 3 * math.pi * 10.0**3,
    }[shape]
    assert solid.volume == pytest.approx(exact, rel=1e-6)
    # A slab whose top lies 1 mm inside the payload's lowest point overlaps it; one 1 mm below does not.
    assert common_volume_mm3(solid, box((-50, -50, -hz - 10), (50, 50, -hz + 1))) > 0
    assert common_volume_mm3(solid, box((-50, -50, -hz - 10), (50, 50, -hz - 1))) == 0


def test_report_and_export_describe_every_shape() -> None:
    texts = {shape: payload_text(payload(shape)) for shape in SHAPES}
    assert texts == {
        "sphere": "24 mm steel_carbon ball",
        "box": "40 x 30 x 20 mm steel_carbon box",
        "cylinder": "30 mm x 40 mm steel_carbon cylinder",
        "capsule": "20 mm x 50 mm steel_carbon capsule",
    }
    rows = [{"payload": payload(shape).model_dump(mode="json")} for shape in SHAPES]
    table = pa.Table.from_pylist(rows, schema=pa.schema([("payload", PAYLOAD)]))
    box_row = table.column("payload").to_pylist()[1]
    assert box_row["half_size_mm"] == [20.0, 15.0, 10.0] and box_row["radius_mm"] is None
    assert table.column("payload").to_pylist()[0]["radius_mm"] == 12.0
