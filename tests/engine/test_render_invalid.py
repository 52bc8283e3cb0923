"""The invalid-design picture (engines.physics.render_invalid): the offending design parts are red, the others
keep the design blue, through the evidence camera at the scene's off-screen size."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco's first import, if it has not happened yet

import io

import mujoco
import numpy as np
import pytest
import trimesh
from PIL import Image

from engines.physics import render
from engines.physics.collision_pack import Piece
from engines.physics.mjcf import (
    DESIGN_RGBA,
    EVIDENCE_CAMERA,
    OFFSCREEN_SIZE,
    compile_scene_xml,
    evidence_frame,
)
from engines.physics.render import RenderUnavailable
from engines.physics.render_invalid import (
    OFFENDING_RGBA,
    invalid_caption,
    invalid_picture_png,
    invalid_scene_model,
    offending_parts,
    picture_frame,
)
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BenchmarkDefinition,
    Box,
    Finding,
    NamedBox,
    PartSpec,
    Payload,
    Severity,
    SimulationMode,
)


def _box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> Piece:
    mesh = trimesh.creation.box(extents=np.subtract(hi, lo))
    mesh.apply_translation(np.add(lo, hi) / 2)
    return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int32)


def _spec(label: str, role: str, lo: tuple[float, float, float], hi: tuple[float, float, float]) -> PartSpec:
    return PartSpec(
        label=label,
        role=role,
        material="aluminum_6061",
        volume_mm3=1.0,
        mass_kg=1.0,
        bbox=Box(min_mm=lo, max_mm=hi),
    )


FLOOR = ((-300.0, -300.0, -20.0), (300.0, 300.0, 0.0))
FINE = ((-60.0, -20.0, 0.0), (-20.0, 20.0, 40.0))
"""A design part inside the build zone."""
STRAY = ((110.0, -20.0, 0.0), (150.0, 20.0, 40.0))
"""A design part beyond the build zone's +x side (x up to 100)."""


@pytest.fixture(scope="module")
def scene() -> tuple[BenchmarkDefinition, dict[str, list[Piece]], list[PartSpec]]:
    """A floor, a build zone, a goal zone, a (translucent red) forbidden zone and a ball; two design parts."""
    definition = BenchmarkDefinition(
        benchmark_id="invalid-picture-test",
        family="test",
        seed=0,
        generator_version=1,
        fixtures=[_spec("floor", "fixture", *FLOOR)],
        payload=Payload(radius_mm=10, material="steel_carbon", start_mm=(0, 0, 80)),
        goal_zone=Box(min_mm=(-100, 60, 0), max_mm=(-40, 100, 40)),
        build_zone=Box(min_mm=(-100, -100, 0), max_mm=(100, 100, 100)),
        forbidden_zones=[NamedBox(name="pit", min_mm=(0, -60, 0), max_mm=(40, -20, 10))],
        simulation_bounds=Box(min_mm=(-300, -300, -50), max_mm=(300, 300, 300)),
        artifacts=BenchmarkArtifacts(
            collision=ArtifactRef(key="test/collision.npz", sha256="ab" * 32, size_bytes=123)
        ),
    )
    collision = {"floor": [_box(*FLOOR)], "fine": [_box(*FINE)], "stray": [_box(*STRAY)]}
    return definition, collision, [_spec("fine", "design", *FINE), _spec("stray", "design", *STRAY)]


@pytest.fixture(scope="module")
def gl(scene) -> None:  # type: ignore[no-untyped-def]
    """Skip the rendering tests, with the reason, when this process cannot make a GL context."""
    definition, collision, parts = scene
    try:
        render.render_frames(
            invalid_scene_model(definition, collision, parts, []), np.zeros(7), width=8, height=6
        )
    except RenderUnavailable as e:
        pytest.skip(f"no GL context in this test process (MuJoCo backend {render.gl_backend()!r}): {e}")


def _red(pixels: np.ndarray) -> np.ndarray:
    """Pixels of the offending red (OFFENDING_RGBA), however shaded; not the translucent forbidden zone's
    pink over the white floor."""
    r, g, b = (pixels[..., k].astype(int) for k in range(3))
    return (r > 90) & (g < 0.35 * r) & (b < 0.35 * r)


def _blue(pixels: np.ndarray) -> np.ndarray:
    """Pixels of the design blue (DESIGN_RGBA), however shaded, also seen through the translucent build
    zone; not the bluish white floor."""
    r, g, b = (pixels[..., k].astype(int) for k in range(3))
    return (b > 90) & (b - r > 60) & (g < 0.8 * b)


def _pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == OFFSCREEN_SIZE
    return np.asarray(image.convert("RGB"))


def test_offending_parts_are_the_design_labels_of_blocking_findings(scene) -> None:  # type: ignore[no-untyped-def]
    definition, _, _ = scene
    findings = [
        Finding(rule="design.outside_build_zone", message="m", parts=["stray", "build_zone"]),
        Finding(rule="design.in_forbidden_zone", message="m", parts=["fine", "forbidden_zone:pit"]),
        Finding(rule="part.interference", message="m", parts=["floor", "wedge"]),
        Finding(rule="payload.design_interference", message="m", parts=["payload", "block"]),
        Finding(rule="zone.goal_forbidden_overlap", message="m", parts=["goal_zone:b", "goal_zone"]),
        Finding(rule="solid.thin", severity=Severity.WARNING, message="m", parts=["thin"]),
    ]
    assert offending_parts(findings, definition) == ["block", "fine", "stray", "wedge"]
    assert offending_parts([], definition) == []


def test_offending_parts_are_red_and_the_others_design_blue(gl: None, scene) -> None:  # type: ignore[no-untyped-def]
    definition, collision, parts = scene
    pixels = _pixels(invalid_picture_png(definition, collision, parts, ["stray"]))
    red, blue = _red(pixels).sum(), _blue(pixels).sum()
    assert red > 1500, f"the offending part stands out in red ({red} pixels)"
    assert blue > 1500, f"the fine part keeps the design colour ({blue} pixels)"
    # The red is the offending part's, not the translucent forbidden zone's: without offenders there is none.
    calm = _pixels(invalid_picture_png(definition, collision, parts, []))
    assert _red(calm).sum() < 50
    assert _blue(calm).sum() > blue + 0.8 * red


def test_the_red_part_is_the_one_beyond_the_build_zone(gl: None, scene) -> None:  # type: ignore[no-untyped-def]
    """The evidence camera looks from -y, +x is to the right: the stray part (x 110..150) is right of the fine
    one (x -60..-20)."""
    definition, collision, parts = scene
    pixels = _pixels(invalid_picture_png(definition, collision, parts, ["stray"]))
    red_x = np.nonzero(_red(pixels))[1].mean()
    blue_x = np.nonzero(_blue(pixels))[1].mean()
    assert red_x > blue_x + 100


def test_the_scene_has_the_evidence_camera_and_no_joints_or_motors(scene) -> None:  # type: ignore[no-untyped-def]
    definition, collision, parts = scene
    hinged = parts[1].model_copy(update={"joint": {"type": "hinge", "axis": (0, 0, 0)}, "fixed": False})
    model = invalid_scene_model(definition, collision, [parts[0], hinged], ["stray"])
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, EVIDENCE_CAMERA) >= 0
    assert model.njnt == 1  # the payload's free joint only: a zero hinge axis does not stop the picture
    stray = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "stray/0")
    fine = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "fine/0")
    assert tuple(model.geom_rgba[stray]) == pytest.approx(OFFENDING_RGBA)
    assert tuple(model.geom_rgba[fine]) == pytest.approx(DESIGN_RGBA)
    # Parts within the evidence frame leave the camera where the evidence picture has it.
    inside = invalid_scene_model(definition, collision, parts[:1], [])
    evidence = mujoco.MjModel.from_xml_string(
        compile_scene_xml(
            definition.model_copy(update={"reference_solution": parts[:1]}), collision, SimulationMode.DESIGN
        )
    )
    cam = mujoco.mj_name2id(inside, mujoco.mjtObj.mjOBJ_CAMERA, EVIDENCE_CAMERA)
    assert inside.cam_pos[cam] == pytest.approx(evidence.cam_pos[cam], abs=1e-6)
    assert inside.cam_quat[cam] == pytest.approx(evidence.cam_quat[cam], abs=1e-6)
    # A part without meshes is not drawn (and named so by the caption).
    lonely = invalid_scene_model(definition, {"floor": collision["floor"]}, parts, ["stray"])
    assert mujoco.mj_name2id(lonely, mujoco.mjtObj.mjOBJ_GEOM, "stray/0") == -1


def test_the_frame_takes_in_nearby_parts_but_not_far_ones(scene) -> None:  # type: ignore[no-untyped-def]
    definition, _, parts = scene
    base = evidence_frame(definition)
    near = picture_frame(definition, parts)
    assert near.max_mm[0] == 150.0 and near.min_mm == base.min_mm
    far = _spec("far", "design", (5000.0, 0.0, 0.0), (5040.0, 40.0, 40.0))
    assert picture_frame(definition, [far]) == base
    caption = invalid_caption(
        ["far", "ghost", "stray"], [*parts, far], picture_frame(definition, [*parts, far])
    )
    assert caption == "invalid: stray; out of view: far; not drawn: ghost"
    assert invalid_caption(["ghost"], parts, base) == "invalid design; not drawn: ghost"
    many = invalid_caption([f"p{i}" for i in range(7)], [], base)
    assert many == "invalid design; not drawn: p0, p1, p2 +4"


def test_a_long_caption_is_cut_short_to_fit_the_picture(gl: None, scene) -> None:  # type: ignore[no-untyped-def]
    definition, collision, parts = scene
    long = [f"offending-part-{i}" for i in range(3)]
    plain = _pixels(invalid_picture_png(definition, collision, parts, []))
    pixels = _pixels(invalid_picture_png(definition, collision, parts, long))
    changed = np.nonzero(np.any(pixels != plain, axis=2))
    assert changed[1].max() < OFFSCREEN_SIZE[0] - 4, "the caption's box ends inside the picture"
