"""The stress-map picture (engines.physics.render_stress): the part's surface in von Mises colour bands, hot
where the stress is high, with a caption and a legend; bad values raise."""

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
from engines.physics.mjcf import OFFSCREEN_SIZE
from engines.physics.render import RenderUnavailable
from engines.physics.render_stress import (
    BANDS_BELOW,
    HELD_RGBA,
    LEGEND_PER_WIDTH,
    stress_bands,
    stress_caption,
    stress_map_png,
    stress_scene_model,
)

WIDTH, HEIGHT = OFFSCREEN_SIZE
VIEW_W = WIDTH - WIDTH // LEGEND_PER_WIDTH
"""The 3D view's width: the legend panel is right of it."""


@pytest.fixture(scope="module")
def bar() -> tuple[np.ndarray, np.ndarray]:
    """A 200 x 40 x 60 mm bar centred on the origin, its surface split into ~3000 triangles."""
    mesh = trimesh.creation.box(extents=(200.0, 40.0, 60.0)).subdivide_to_size(8.0)
    return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64)


def _linear(nodes: np.ndarray, top: float = 180.0) -> np.ndarray:
    """0 MPa at x = -100, ``top`` at x = +100."""
    return (nodes[:, 0] + 100.0) / 200.0 * top


@pytest.fixture(scope="module")
def gl(bar) -> None:  # type: ignore[no-untyped-def]
    """Skip the rendering tests, with the reason, when this process cannot make a GL context."""
    nodes, faces = bar
    try:
        stress_map_png(nodes, faces, _linear(nodes), 160.0, label="probe", peak_location_mm=(100, 0, 0))
    except RenderUnavailable as e:
        pytest.skip(f"no GL context in this test process (MuJoCo backend {render.gl_backend()!r}): {e}")


def _pixels(png: bytes, size: tuple[int, int] = OFFSCREEN_SIZE) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == size
    return np.asarray(image.convert("RGB")).astype(int)


def _hot(pixels: np.ndarray) -> np.ndarray:
    """Viridis' yellow end or the reds above the allowable stress, however shaded."""
    r, b = pixels[..., 0], pixels[..., 2]
    return (r > 120) & (b < 0.45 * r) & (r - b > 80)


def _cold(pixels: np.ndarray) -> np.ndarray:
    """Viridis' dark purple end, however shaded; not the grey-blue sky."""
    r, g, b = (pixels[..., k] for k in range(3))
    return (b > g + 30) & (r > g + 15) & (b < 170)


def test_the_hot_end_is_hot_and_the_cold_end_cold(gl: None, bar) -> None:  # type: ignore[no-untyped-def]
    """The camera looks from -y with +x to the right: the high-stress +x end is on the right."""
    nodes, faces = bar
    pixels = _pixels(
        stress_map_png(nodes, faces, _linear(nodes), 160.0, label="bar", peak_location_mm=(100, 0, 0))
    )
    view = pixels[:, :VIEW_W]
    hot, cold = _hot(view), _cold(view)
    assert hot.sum() > 1000 and cold.sum() > 1000, (hot.sum(), cold.sum())
    hot_x, cold_x = np.nonzero(hot)[1].mean(), np.nonzero(cold)[1].mean()
    assert hot_x > cold_x + 0.3 * VIEW_W, (hot_x, cold_x)
    left, right = view[:, : VIEW_W // 2], view[:, VIEW_W // 2 :]
    assert _hot(right).sum() > 10 * max(1, _hot(left).sum())
    assert _cold(left).sum() > 10 * max(1, _cold(right).sum())


def test_the_caption_and_the_legend_are_drawn(gl: None, bar) -> None:  # type: ignore[no-untyped-def]
    nodes, faces = bar
    pixels = _pixels(
        stress_map_png(nodes, faces, _linear(nodes), 160.0, label="bar", peak_location_mm=(100, 0, 0))
    )
    top = pixels[:24]  # the caption's band over the picture
    dark = np.all(np.abs(top - 105) < 12, axis=2)  # translucent black (alpha 150) over white
    assert dark.sum() > 2000, "the caption's dark box"
    assert (top.min(axis=2) > 220).sum() > 50, "the caption's white text"
    panel = pixels[:, VIEW_W:]
    assert (panel.max(axis=2) < 90).sum() > 300, "the legend's dark text and outlines"
    # Every band's colour is in the colour bar; the two red bands above the allowable stress too.
    bands = stress_bands(180.0, 160.0)
    assert len(bands.rgba) == BANDS_BELOW + 2
    for rgba in bands.rgba:
        colour = np.round(255 * rgba[:3])
        assert (np.abs(panel - colour).max(axis=2) <= 2).sum() > 100, f"band colour {colour} in the legend"


def test_an_even_field_and_an_unstressed_part_render(gl: None, bar) -> None:  # type: ignore[no-untyped-def]
    nodes, faces = bar
    for value in (50.0, 0.0, 160.0):
        png = stress_map_png(
            nodes, faces, np.full(len(nodes), value), 160.0, label="even", peak_location_mm=(0, 0, 30)
        )
        view = _pixels(png)[:, :VIEW_W]
        # One band covers the whole part: about one hue, brighter or darker by the shading.
        assert np.unique(view.reshape(-1, 3), axis=0).shape[0] > 20


def test_held_nodes_and_load_points_are_drawn(gl: None, bar) -> None:  # type: ignore[no-untyped-def]
    nodes, faces = bar
    held = nodes[:, 1] < -19.99  # the -y face, which faces the camera
    png = stress_map_png(
        nodes,
        faces,
        _linear(nodes),
        160.0,
        label="bar",
        peak_location_mm=(100, 0, 0),
        supported=held,
        load_points=[(100.0, -20.0, 30.0), (0.0, -20.0, 30.0)],
        width=480,
        height=360,
    )
    pixels = _pixels(png, (480, 360))[:, : 480 - 480 // LEGEND_PER_WIDTH]
    r, g, b = (pixels[..., k] for k in range(3))
    grey = (np.abs(r - g) < 8) & (np.abs(g - b) < 14) & (r > 60) & (r < 200)
    assert grey.sum() > 3000, "the held face is grey"
    magenta = (r > 150) & (b > 120) & (g < 0.5 * r)
    assert magenta.sum() > 20, "the load points"


def test_the_scene_has_one_geom_per_used_band_and_held_markers() -> None:
    # Two triangles of a square in two different bands: each band's mesh has 3 vertices and gets a fourth.
    nodes = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], dtype=np.float64)
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    model = stress_scene_model(
        nodes, faces, np.array([0.0, 150.0, 150.0, 0.0]), 160.0, peak_location_mm=(10, 5, 0)
    )
    names = {model.geom(i).name for i in range(model.ngeom)}
    assert {"peak"} < names and sum(n.startswith("band/") for n in names) == 2
    # Held nodes that hold no whole triangle become small grey spheres; a wholly held triangle is grey.
    edge = stress_scene_model(
        nodes, faces, np.zeros(4), 160.0, peak_location_mm=(0, 0, 0), supported=np.array([1, 1, 0, 0], bool)
    )
    spheres = [i for i in range(edge.ngeom) if edge.geom(i).name.startswith("held/")]
    assert len(spheres) == 2 and tuple(edge.geom_rgba[spheres[0]]) == pytest.approx(HELD_RGBA)
    whole = stress_scene_model(
        nodes, faces, np.zeros(4), 160.0, peak_location_mm=(0, 0, 0), supported=np.array([1, 1, 1, 0], bool)
    )
    held = mujoco.mj_name2id(whole, mujoco.mjtObj.mjOBJ_GEOM, "held")
    assert held >= 0 and tuple(whole.geom_rgba[held]) == pytest.approx(HELD_RGBA)
    # Zero-area triangles are dropped; a surface of nothing else is refused.
    flat = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], dtype=np.float64)
    with pytest.raises(ValueError, match="non-zero area"):
        stress_scene_model(
            flat, np.array([[0, 1, 2], [1, 2, 3]]), np.zeros(4), 160.0, peak_location_mm=(0, 0, 0)
        )


def test_bands_run_to_the_allowable_stress_and_redden_beyond() -> None:
    calm = stress_bands(100.0, 160.0)
    assert len(calm.edges) == BANDS_BELOW + 1 and calm.edges[-1] == 160.0
    over = stress_bands(182.0, 160.0)
    assert over.edges[BANDS_BELOW] == 160.0 and over.edges[-1] == 182.0 and len(over.rgba) == BANDS_BELOW + 2
    assert all(r > 0.5 and g < 0.4 for r, g, _, _ in over.rgba[BANDS_BELOW:])
    far = stress_bands(5000.0, 160.0)
    assert len(far.rgba) == BANDS_BELOW + 3 and far.edges[-1] == 5000.0
    assert list(over.index(np.array([-1.0, 0.0, 15.9, 16.0, 160.0, 170.0, 182.0, 999.0]))) == [
        0,
        0,
        0,
        1,
        10,
        10,
        11,
        11,
    ]


def test_the_caption_says_breaks_or_the_margin() -> None:
    assert (
        stress_caption("shelf", 182.4, (12.2, -0.01, 40), 160.0)
        == "shelf: peak 182 MPa at (12, 0, 40) mm; allowable 160 MPa - breaks"
    )
    assert (
        stress_caption("shelf", 84.0, (1.25, 0, 40), 160.0)
        == "shelf: peak 84 MPa at (1.2, 0, 40) mm; allowable 160 MPa (margin 1.9x)"
    )
    assert stress_caption("pin", 4.0, (0, 0, 0), 160.0).endswith("allowable 160 MPa (margin 40x)")
    assert stress_caption("pin", 0.0, (0, 0, 0), 160.0).endswith("(unstressed)")
    assert (
        stress_caption("foil", 0.5, (0, 0, 0), 2.5)
        == "foil: peak 0.50 MPa at (0, 0, 0) mm; allowable 2.50 MPa (margin 5.0x)"
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_values_that_are_not_finite_raise(bar, bad: float) -> None:  # type: ignore[no-untyped-def]
    """No GL needed: the inputs are checked before anything is rendered."""
    nodes, faces = bar
    stress = _linear(nodes)
    stress[7] = bad
    with pytest.raises(ValueError, match="nodal stresses must be finite"):
        stress_map_png(nodes, faces, stress, 160.0, label="bar", peak_location_mm=(0, 0, 0))
    moved = nodes.copy()
    moved[3, 1] = bad
    with pytest.raises(ValueError, match="node coordinates must be finite"):
        stress_map_png(moved, faces, _linear(nodes), 160.0, label="bar", peak_location_mm=(0, 0, 0))
    with pytest.raises(ValueError, match="allowable"):
        stress_map_png(nodes, faces, _linear(nodes), bad, label="bar", peak_location_mm=(0, 0, 0))
    with pytest.raises(ValueError, match="peak location"):
        stress_map_png(nodes, faces, _linear(nodes), 160.0, label="bar", peak_location_mm=(0, bad, 0))
    with pytest.raises(ValueError, match="load points"):
        stress_map_png(
            nodes,
            faces,
            _linear(nodes),
            160.0,
            label="bar",
            peak_location_mm=(0, 0, 0),
            load_points=[(bad, 0, 0)],
        )


def test_inconsistent_inputs_raise(bar) -> None:  # type: ignore[no-untyped-def]
    nodes, faces = bar
    stress = _linear(nodes)
    cases = [
        (nodes, faces + len(nodes), stress, 160.0, "surface indexes"),
        (nodes, faces.astype(float), stress, 160.0, "integer triangles"),
        (nodes, faces, stress[:-1], 160.0, "node_von_mises_mpa must have shape"),
        (nodes, faces, stress, 0.0, "finite and positive"),
        (nodes[:, :2], faces, stress, 160.0, r"nodes must have shape \(N, 3\)"),
    ]
    for n, f, s, allowable, message in cases:
        with pytest.raises(ValueError, match=message):
            stress_map_png(n, f, s, allowable, label="bar", peak_location_mm=(0, 0, 0))
    with pytest.raises(ValueError, match="supported must have shape"):
        stress_map_png(nodes, faces, stress, 160.0, label="bar", peak_location_mm=(0, 0, 0), supported=[True])
    with pytest.raises(ValueError, match="at least"):
        stress_map_png(
            nodes, faces, stress, 160.0, label="bar", peak_location_mm=(0, 0, 0), width=100, height=80
        )
