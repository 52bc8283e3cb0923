"""Evidence pictures: off-screen MuJoCo rendering (EGL on this CPU-only machine), PNG strips, WebP animations.

MuJoCo picks its GL backend from ``MUJOCO_GL`` when ``mujoco`` is first imported. The ``setdefault`` below
covers runs of this file alone. In a whole-suite run, another test module may import mujoco first (the
suite's conftest is meant to set the variable). When no GL context can be made in this process, the
rendering tests skip and name the reason. The fork test always runs its own interpreter with
``MUJOCO_GL=egl``.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco's first import, if it has not happened yet

import io
import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

import mujoco
import numpy as np
import pytest
import trimesh
from PIL import Image

from engines.physics import render
from engines.physics.collision_pack import Piece
from engines.physics.mjcf import OFFSCREEN_SIZE, compile_scene_xml
from engines.physics.render import (
    RenderUnavailable,
    animation_webp,
    frame_strip_png,
    pick_frames,
    picture_png,
    render_frames,
)
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BenchmarkDefinition,
    Box,
    PartSpec,
    Payload,
    SimulationMode,
)

REPO = Path(__file__).resolve().parents[2]

SCENE_XML = """
<mujoco>
  <visual><global offwidth="1280" offheight="960"/></visual>
  <worldbody>
    <light pos="0 0 3" dir="0 0 -1" directional="true"/>
    <camera name="overview" pos="0 -3 1.5" xyaxes="1 0 0 0 0.447 0.894"/>
    <geom name="floor" type="plane" size="2 2 0.1" rgba="0.6 0.6 0.6 1"/>
    <body name="ball" pos="0 0 0.2">
      <freejoint/>
      <geom type="sphere" size="0.2" rgba="1 0 0 1"/>
    </body>
  </worldbody>
</mujoco>
"""
"""A grey floor and a red ball; the ``overview`` camera looks at the origin from -y, above the floor."""


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(SCENE_XML)


def ball_at(model: mujoco.MjModel, x: float, y: float = 0.0, z: float = 0.2) -> np.ndarray:
    qpos = model.qpos0.copy()
    qpos[:3] = (x, y, z)
    return qpos


def red_mask(frame: np.ndarray) -> np.ndarray:
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (r > 120) & (g < 60) & (b < 60)


@pytest.fixture(scope="module")
def gl(model: mujoco.MjModel) -> None:
    """Skip the rendering tests, with the reason, when this process cannot make a GL context."""
    try:
        render_frames(model, model.qpos0[None, :], width=32, height=24)
    except RenderUnavailable as e:
        pytest.skip(
            f"no GL context in this test process (MuJoCo backend {render.gl_backend()!r}; set MUJOCO_GL=egl "
            f"before mujoco is first imported): {e}"
        )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def test_frames_have_the_requested_shape_and_are_not_blank(gl: None, model: mujoco.MjModel) -> None:
    frames = render_frames(model, np.stack([ball_at(model, 0.0)] * 3))
    assert len(frames) == 3
    for frame in frames:
        assert frame.shape == (240, 320, 3)
        assert frame.dtype == np.uint8
        assert frame.std() > 5
    big = render_frames(model, model.qpos0, width=640, height=480)
    assert [f.shape for f in big] == [(480, 640, 3)]
    assert render_frames(model, np.empty((0, model.nq))) == []


def test_the_red_ball_is_where_its_qpos_puts_it(gl: None, model: mujoco.MjModel) -> None:
    left, right = render_frames(model, np.stack([ball_at(model, -0.6), ball_at(model, 0.6)]))
    assert np.abs(left.astype(int) - right.astype(int)).sum() > 0
    width = left.shape[1]
    for frame, side in ((left, slice(0, width // 2)), (right, slice(width // 2, width))):
        red = red_mask(frame)
        assert red.sum() > 200, "the red ball is visible"
        assert red[:, side].sum() > 0.95 * red.sum(), "and on the side of the image its x says"
    centre_left = np.nonzero(red_mask(left))[1].mean()
    centre_right = np.nonzero(red_mask(right))[1].mean()
    assert centre_left < width / 2 < centre_right


def test_a_missing_camera_falls_back_to_the_free_camera(gl: None, model: mujoco.MjModel) -> None:
    (frame,) = render_frames(model, ball_at(model, 0.0), camera="no-such-camera")
    assert frame.std() > 5
    assert red_mask(frame).sum() > 0


def test_bad_arguments_are_value_errors(model: mujoco.MjModel) -> None:
    with pytest.raises(ValueError, match="qpos must have shape"):
        render_frames(model, np.zeros((2, model.nq + 1)))
    with pytest.raises(ValueError, match="off-screen buffer"):
        render_frames(model, model.qpos0, width=1281, height=960)


def test_picture_png_is_a_png_of_the_initial_pose(gl: None, model: mujoco.MjModel) -> None:
    png = picture_png(model)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (640, 480)
    assert red_mask(np.asarray(image.convert("RGB"))).sum() > 0
    moved = Image.open(io.BytesIO(picture_png(model, ball_at(model, 0.6), width=320, height=240)))
    assert moved.size == (320, 240)


def _box(extents: tuple[float, float, float], centre: tuple[float, float, float]) -> Piece:
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(centre)
    return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int32)


def test_a_compiled_benchmark_scene_renders_through_its_overview_camera(gl: None) -> None:
    floor = _box((1000, 1000, 20), (0, 0, -10))
    lo, hi = floor[0].min(axis=0), floor[0].max(axis=0)
    definition = BenchmarkDefinition(
        benchmark_id="render-test",
        family="test",
        seed=0,
        generator_version=1,
        fixtures=[
            PartSpec(
                label="floor",
                role="fixture",
                material="aluminum_6061",
                volume_mm3=1.0,
                mass_kg=1.0,
                bbox=Box(min_mm=tuple(lo.tolist()), max_mm=tuple(hi.tolist())),
            )
        ],
        payload=Payload(radius_mm=40, material="steel_carbon", start_mm=(0, 0, 100)),
        goal_zone=Box(min_mm=(300, 300, 0), max_mm=(450, 450, 150)),
        build_zone=Box(min_mm=(-100, -100, 0), max_mm=(100, 100, 100)),
        simulation_bounds=Box(min_mm=(-500, -500, -50), max_mm=(500, 500, 400)),
        artifacts=BenchmarkArtifacts(
            collision=ArtifactRef(key="test/collision.npz", sha256="ab" * 32, size_bytes=123)
        ),
    )
    xml = compile_scene_xml(definition, {"floor": [floor]}, SimulationMode.BASELINE)
    model = mujoco.MjModel.from_xml_string(xml)
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "overview") >= 0
    width, height = OFFSCREEN_SIZE  # the largest picture the scene's buffer holds
    image = Image.open(io.BytesIO(picture_png(model, width=width, height=height)))
    assert image.size == OFFSCREEN_SIZE
    pixels = np.asarray(image.convert("RGB"))
    assert pixels.std() > 5
    # The camera frames the bounds: the floor fills a good part of the picture, the goal zone is green.
    assert (pixels.max(axis=2) > 60).mean() > 0.1
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    assert ((g > r + 40) & (g > b + 40)).sum() > 1000


def test_gl_failures_become_render_unavailable(
    model: mujoco.MjModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_context(*_args: object, **_kwargs: object) -> None:
        raise mujoco.FatalError("gladLoadGL error")

    monkeypatch.setattr(mujoco, "Renderer", no_context)
    with pytest.raises(RenderUnavailable, match="MECHBENCH_MUJOCO_GL") as info:
        render_frames(model, model.qpos0)
    assert "gladLoadGL" in str(info.value)

    monkeypatch.setattr(render, "gl_backend", lambda: "disabled")
    with pytest.raises(RenderUnavailable, match="disabled"):
        picture_png(model)


def test_a_child_forked_from_a_process_that_never_rendered_can_render() -> None:
    """What the fork server does: MUJOCO_GL set, mujoco imported, no context; each job is a forked child."""
    script = textwrap.dedent(
        f"""
        import os, sys
        import mujoco, numpy as np
        from engines.physics import render
        model = mujoco.MjModel.from_xml_string({SCENE_XML!r})
        codes = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                try:
                    (frame,) = render.render_frames(model, model.qpos0)
                    print("std", float(frame.std()), flush=True)
                    code = 0
                except render.RenderUnavailable as e:
                    print("unavailable", e, flush=True)
                    code = 3
                os._exit(code)
            codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        # Once this process has rendered, its forked children must refuse instead of hanging.
        render.render_frames(model, model.qpos0)
        pid = os.fork()
        if pid == 0:
            try:
                render.render_frames(model, model.qpos0)
                os._exit(0)
            except render.RenderUnavailable as e:
                print("refused", "forked from process" in str(e), flush=True)
                os._exit(4)
        codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        print("codes", codes, flush=True)
        """
    )
    env = {**os.environ, "MUJOCO_GL": "egl"}
    env.pop("PYOPENGL_PLATFORM", None)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "unavailable" in proc.stdout:
        pytest.skip(f"EGL is not available on this machine: {proc.stdout.strip()}")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["std", "std", "refused", "codes"], proc.stdout
    assert all(float(line.split()[1]) > 5 for line in lines[:2])
    assert lines[2] == "refused True"
    assert lines[3] == "codes [0, 0, 4]"


# --------------------------------------------------------------------------------------------
# Encoding (no GL needed)
# --------------------------------------------------------------------------------------------


def synthetic_frames(n: int, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """Frames with a moving red square on a gradient, so consecutive frames differ."""
    frames = []
    gradient = np.linspace(40, 200, width, dtype=np.uint8)[None, :, None]
    for i in range(n):
        frame = np.broadcast_to(gradient, (height, width, 3)).copy()
        x = (i * 7) % (width - 40)
        frame[100:140, x : x + 40] = (230, 20, 20)
        frames.append(frame)
    return frames


@pytest.mark.parametrize(
    ("n", "columns", "tiles"), [(8, 4, (4, 2)), (5, 4, (4, 2)), (3, 4, (3, 1)), (1, 4, (1, 1))]
)
def test_frame_strip_png_tiles_the_frames(n: int, columns: int, tiles: tuple[int, int]) -> None:
    frames = synthetic_frames(n)
    png = frame_strip_png(frames, columns=columns, labels=[f"t={0.2 * i:.2f} s" for i in range(n)])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (tiles[0] * 320, tiles[1] * 240)
    pixels = np.asarray(image.convert("RGB"))
    # Frame i sits at column i % columns, row i // columns (checked away from the caption corner).
    for i, frame in enumerate(frames):
        top, left = (i // columns) * 240, (i % columns) * 320
        assert np.array_equal(pixels[top + 60 : top + 240, left : left + 320], frame[60:])
    # The caption is drawn on the frame (white text on a dark box in the top-left corner).
    assert not np.array_equal(pixels[:40, :160], frames[0][:40, :160])
    unlabelled = np.asarray(Image.open(io.BytesIO(frame_strip_png(frames, columns=columns))).convert("RGB"))
    assert np.array_equal(unlabelled[:240, :320], frames[0])


def test_frame_strip_png_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        frame_strip_png([])
    with pytest.raises(ValueError, match="labels"):
        frame_strip_png(synthetic_frames(2), labels=["only one"])
    with pytest.raises(ValueError, match="same size"):
        frame_strip_png([*synthetic_frames(1), *synthetic_frames(1, width=100)])


def test_animation_webp_is_a_small_looping_animation() -> None:
    frames = synthetic_frames(100)
    webp = animation_webp(frames, fps=25)
    assert len(webp) < 300 * 1024
    image = Image.open(io.BytesIO(webp))
    assert image.format == "WEBP"
    assert image.is_animated
    assert image.n_frames == 100
    assert image.size == (320, 240)
    assert image.info.get("loop") == 0
    image.load()  # the frame's duration is known once it is read
    assert image.info.get("duration") == 40
    image.seek(50)
    assert np.asarray(image.convert("RGB")).shape == (240, 320, 3)
    with pytest.raises(ValueError):
        animation_webp(frames, fps=0)
    with pytest.raises(ValueError):
        animation_webp([], fps=10)


# --------------------------------------------------------------------------------------------
# Frame selection
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_available", "n_wanted", "expected"),
    [
        (10, 2, [0, 9]),
        (10, 3, [0, 5, 9]),
        (101, 5, [0, 25, 50, 75, 100]),
        (5, 5, [0, 1, 2, 3, 4]),
        (3, 8, [0, 1, 2]),
        (10, 1, [0]),
        (1, 1, [0]),
        (0, 4, []),
    ],
)
def test_pick_frames(n_available: int, n_wanted: int, expected: list[int]) -> None:
    assert pick_frames(n_available, n_wanted) == expected


def test_pick_frames_is_strictly_increasing_and_spans_the_range() -> None:
    for n_available in range(2, 60):
        for n_wanted in range(2, n_available + 1):
            picked = pick_frames(n_available, n_wanted)
            assert len(picked) == n_wanted
            assert picked[0] == 0 and picked[-1] == n_available - 1
            assert all(b > a for a, b in itertools.pairwise(picked))


def test_pick_frames_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        pick_frames(10, 0)
    with pytest.raises(ValueError):
        pick_frames(-1, 3)
