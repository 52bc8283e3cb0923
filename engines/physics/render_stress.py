"""The stress-map evidence picture of one part: its surface coloured by von Mises stress, drawn by MuJoCo.

Input is what a structural FEM solve gives for one part, as plain arrays in the world frame (mm, MPa): the
nodes, the boundary triangles, the nodal von Mises stress, the allowable stress, the peak's location and,
optionally, the held nodes and the load points. Nothing here knows the solver.

What the picture shows (:func:`stress_map_png`):

- the surface in colour bands. A MuJoCo mesh geom has one colour, so each band is one mesh geom holding the
  triangles whose mean nodal stress falls in it. The bands are :func:`stress_bands`: ten equal bands of
  viridis (dark purple, cold, to yellow) from 0 to the allowable stress and, when the peak exceeds it, up to
  :data:`MAX_BANDS_ABOVE` bands of red from the allowable stress to the peak. Yellow is "near the
  allowable", red is "above it";
- the held region (triangles whose three nodes are all held) in neutral grey; when no triangle is wholly held,
  small grey spheres at (up to :data:`MAX_HELD_MARKERS` of) the held surface nodes;
- the peak as a small sphere, black on a light band and white on a dark one, and each load point as a small
  magenta sphere;
- a caption over the top (:func:`stress_caption`, e.g. ``shelf: peak 182 MPa at (12, 0, 40) mm; allowable
  160 MPa - breaks``) and a legend panel on the right: the colour bar with every band edge in MPa (thinned
  when the bands are too thin to label each), the allowable stress as a thick line, the peak as a triangle,
  and a key to the markers.

The part is seen from the evidence pictures' oblique direction (``engines.physics.mjcf._camera_pose``:
from -y, above and to the +x side; +x is to the right), at the distance that fits the surface into the
picture. The 3D view is rendered off screen by ``engines.physics.render`` (shadows and reflections off, as
for every evidence picture; here a light gradient sky is kept as background, which costs little) and the
caption and legend are drawn on it with Pillow, with the caption helper of ``picture_png``.

Values: a NaN or infinite coordinate, stress, allowable stress, peak location or load point raises
``ValueError``, as does a non-positive allowable stress, a triangle index outside the nodes or a surface with
no triangle of non-zero area (zero-area triangles are dropped: they cannot be seen). Negative nodal stresses
(an extrapolation artefact; von Mises stress is never negative) are drawn in the lowest band.

Over 400 lines because the picture is one figure whose parts share the colour bands: the checks of the
solver's arrays, the banded scene, the camera fit and the Pillow legend; the legend would move to a module of
its own if a second picture drew one.

Speed (a 20 000-triangle surface at 640x480, 2-vCPU llvmpipe machine shared with other jobs): 0.33-0.50 s a
picture, of which the renderer's set-up is 0.12-0.22 s, the frame 0.1-0.15 s (the gradient sky adds ~40 ms of
it), the scene's compilation ~30 ms and the PNG ~25 ms; the first GL context of a process costs ~0.5 s
more (see ``engines.physics.render``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import mujoco
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engines.physics.mjcf import _CAMERA_FOVY_DEG, MM_TO_M, OFFSCREEN_SIZE, _camera_pose
from engines.physics.render import (
    CAPTION_PER_HEIGHT,
    _camera_id,
    _caption,
    _font,
    _open_renderer,
    _png,
)
from shared.models import Box

__all__ = [
    "HELD_RGBA",
    "LOAD_RGBA",
    "StressBands",
    "stress_bands",
    "stress_caption",
    "stress_map_png",
    "stress_scene_model",
]

BANDS_BELOW = 10
"""Equal colour bands from 0 to the allowable stress."""
MAX_BANDS_ABOVE = 3
"""At most this many red bands from the allowable stress to the peak (one per band width above it)."""
_VIRIDIS = np.array(
    [
        [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        for h in ["440154", "472c7a", "3b518b", "2c718e", "21908d", "27ad81", "5cc863", "aadc32", "fde725"]
    ]
)
"""Viridis at nine evenly spaced points, interpolated linearly between them."""
_REDS = np.array([[0.93, 0.33, 0.16], [0.80, 0.07, 0.10], [0.55, 0.00, 0.10]])
"""Above the allowable stress: orange-red to dark red."""
HELD_RGBA = (0.55, 0.55, 0.58, 1.0)
"""The held region: neutral grey, in no band of the colour scale."""
LOAD_RGBA = (0.95, 0.15, 0.85, 1.0)
"""Load points: magenta, in no band of the colour scale."""
MAX_HELD_MARKERS = 64
MARKER_PER_SIZE = 0.028
"""The peak sphere's radius as a share of the surface's bounding-box diagonal (load spheres are 0.75 of it)."""
LEGEND_PER_WIDTH = 4
"""The legend panel is 1/4 of the picture's width."""
MIN_SIZE = (240, 180)
MIN_CAPTION_PER_HEIGHT = 34
"""A long caption's font shrinks to 1/34 of the picture's height (14 px at 480) before it is cut short."""
_SKY = ((1.0, 1.0, 1.0), (0.80, 0.83, 0.88))
_FIT_MARGIN = 1.06


@dataclass(frozen=True)
class StressBands:
    """Colour bands: band ``i`` holds stresses in ``[edges[i], edges[i + 1])`` (the last band is closed, and
    values beyond either end fall in the end bands) and is drawn in ``rgba[i]``."""

    edges: np.ndarray
    rgba: np.ndarray
    allowable_mpa: float

    def index(self, stress_mpa: np.ndarray) -> np.ndarray:
        """The band of each stress."""
        inner = self.edges[1:-1]
        return np.searchsorted(inner, np.asarray(stress_mpa, dtype=np.float64), side="right")


def _viridis(t: np.ndarray) -> np.ndarray:
    x = np.clip(t, 0.0, 1.0) * (len(_VIRIDIS) - 1)
    return np.stack([np.interp(x, np.arange(len(_VIRIDIS)), _VIRIDIS[:, k]) for k in range(3)], axis=-1)


def stress_bands(peak_mpa: float, allowable_mpa: float) -> StressBands:
    """:data:`BANDS_BELOW` viridis bands from 0 to ``allowable_mpa`` and, when ``peak_mpa`` exceeds it, between
    1 and :data:`MAX_BANDS_ABOVE` red bands from ``allowable_mpa`` to ``peak_mpa``."""
    if not (math.isfinite(allowable_mpa) and allowable_mpa > 0):
        raise ValueError(f"allowable stress must be finite and positive, got {allowable_mpa}")
    if not math.isfinite(peak_mpa):
        raise ValueError(f"peak stress must be finite, got {peak_mpa}")
    step = allowable_mpa / BANDS_BELOW
    below = np.linspace(0.0, allowable_mpa, BANDS_BELOW + 1)
    colours = [_viridis((np.arange(BANDS_BELOW) + 0.5) / BANDS_BELOW)]
    edges = below
    if peak_mpa > allowable_mpa:
        above = min(MAX_BANDS_ABOVE, max(1, math.ceil((peak_mpa - allowable_mpa) / step - 1e-9)))
        edges = np.concatenate([below, np.linspace(allowable_mpa, peak_mpa, above + 1)[1:]])
        picks = [1] if above == 1 else np.linspace(0, len(_REDS) - 1, above).round().astype(int).tolist()
        colours.append(_REDS[picks])
    rgb = np.concatenate(colours)
    return StressBands(
        edges=edges, rgba=np.column_stack([rgb, np.ones(len(rgb))]), allowable_mpa=float(allowable_mpa)
    )


def _decimals(top_mpa: float) -> int:
    """Decimals that give band edges about three significant digits (0 from 100 MPa up)."""
    return max(0, 2 - math.floor(math.log10(top_mpa))) if top_mpa > 0 else 0


def _mpa(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _mm(value: float) -> str:
    s = f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def stress_caption(
    label: str, peak_mpa: float, peak_location_mm: Sequence[float], allowable_mpa: float
) -> str:
    """``shelf: peak 182 MPa at (12, 0, 40) mm; allowable 160 MPa - breaks`` when the peak exceeds the
    allowable stress, else ``...; allowable 160 MPa (margin 1.9x)`` (allowable / peak)."""
    decimals = min(_decimals(max(peak_mpa, allowable_mpa)), 3)
    where = ", ".join(_mm(float(v)) for v in peak_location_mm)
    head = (
        f"{label}: peak {_mpa(peak_mpa, decimals)} MPa at ({where}) mm; "
        f"allowable {_mpa(allowable_mpa, decimals)} MPa"
    )
    if peak_mpa > allowable_mpa:
        return f"{head} - breaks"
    if peak_mpa <= 0:
        return f"{head} (unstressed)"
    margin = allowable_mpa / peak_mpa
    return f"{head} (margin {margin:.1f}x)" if margin < 10 else f"{head} (margin {margin:.0f}x)"


# ------------------------------------------------------------------------------------------------ checks


def _finite(name: str, values: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite: {int(np.size(values) - np.isfinite(values).sum())} are not")
    return values


def _points(name: str, values: object) -> np.ndarray:
    points = np.asarray(values, dtype=np.float64).reshape(-1, 3) if np.size(values) else np.zeros((0, 3))
    return _finite(name, points)


def _checked(
    nodes: object, surface: object, stress: object, supported: object | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    xyz = np.asarray(nodes, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(xyz) == 0:
        raise ValueError(f"nodes must have shape (N, 3), got {np.shape(nodes)}")
    tris = np.asarray(surface)
    if tris.ndim != 2 or tris.shape[1] != 3 or len(tris) == 0 or not np.issubdtype(tris.dtype, np.integer):
        raise ValueError(f"surface must be integer triangles of shape (K, 3), got {tris.dtype} {tris.shape}")
    if tris.min() < 0 or tris.max() >= len(xyz):
        raise ValueError(f"surface indexes nodes {tris.min()}..{tris.max()}, but there are {len(xyz)} nodes")
    vm = np.asarray(stress, dtype=np.float64)
    if vm.shape != (len(xyz),):
        raise ValueError(f"node_von_mises_mpa must have shape ({len(xyz)},), got {vm.shape}")
    held = None
    if supported is not None:
        held = np.asarray(supported, dtype=bool)
        if held.shape != (len(xyz),):
            raise ValueError(f"supported must have shape ({len(xyz)},), got {held.shape}")
    return _finite("node coordinates", xyz), tris.astype(np.int64), _finite("nodal stresses", vm), held


# ------------------------------------------------------------------------------------------------ scene


def _add_mesh_geom(
    spec: mujoco.MjSpec, name: str, xyz_m: np.ndarray, faces: np.ndarray, rgba: Sequence[float]
) -> None:
    """One visual mesh geom of ``faces`` (into ``xyz_m``), re-indexed to the vertices they use. A mesh needs
    at least 4 vertices: one triangle gets a fourth, unused vertex just off its plane."""
    used, inverse = np.unique(faces, return_inverse=True)
    vertices = xyz_m[used]
    if len(vertices) < 4:
        a, b, c = xyz_m[faces[0]]
        normal = np.cross(b - a, c - a)
        size = float(np.linalg.norm(b - a) + np.linalg.norm(c - a))
        pad = (a + b + c) / 3 + normal / max(float(np.linalg.norm(normal)), 1e-300) * 1e-3 * size
        vertices = np.vstack([vertices, pad[None, :]])
    mesh = spec.add_mesh(name=name)
    mesh.uservert = vertices.ravel().tolist()
    mesh.userface = inverse.reshape(-1).tolist()
    mesh.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL  # an open surface has no volume
    spec.worldbody.add_geom(
        name=name,
        type=mujoco.mjtGeom.mjGEOM_MESH,
        meshname=name,
        contype=0,
        conaffinity=0,
        rgba=list(rgba),
        material="stress",
    )


def _add_sphere(
    spec: mujoco.MjSpec, name: str, centre_mm: np.ndarray, radius_m: float, rgba: Sequence[float]
) -> None:
    spec.worldbody.add_geom(
        name=name,
        type=mujoco.mjtGeom.mjGEOM_SPHERE,
        size=[radius_m, 0.0, 0.0],
        pos=(np.asarray(centre_mm) * MM_TO_M).tolist(),
        contype=0,
        conaffinity=0,
        rgba=list(rgba),
        material="stress",
    )


def _place_camera(spec: mujoco.MjSpec, points_m: np.ndarray, aspect: float) -> None:
    """The evidence camera's direction, aimed at the points' projected middle, at the distance that fits them
    (with a margin) into a ``aspect`` (width / height) picture."""
    lo_mm, hi_mm = points_m.min(axis=0) / MM_TO_M, points_m.max(axis=0) / MM_TO_M
    _, axes, _ = _camera_pose(Box(min_mm=tuple(lo_mm.tolist()), max_mm=tuple(hi_mm.tolist())))
    x_axis, y_axis = np.array(axes.split(), dtype=np.float64).reshape(2, 3)
    back = np.cross(x_axis, y_axis)  # from the scene towards the camera
    centre = (points_m.min(axis=0) + points_m.max(axis=0)) / 2
    rel = points_m - centre
    u, v = rel @ x_axis, rel @ y_axis
    centre = centre + x_axis * (u.max() + u.min()) / 2 + y_axis * (v.max() + v.min()) / 2
    rel = points_m - centre
    u, v, w = rel @ x_axis, rel @ y_axis, rel @ back
    tan_y = math.tan(math.radians(_CAMERA_FOVY_DEG) / 2)
    tan_x = tan_y * aspect
    size = max(float(np.linalg.norm(points_m.max(axis=0) - points_m.min(axis=0))), 1e-6)
    distance = max(
        float(np.max(_FIT_MARGIN * np.abs(u) / tan_x + w)),
        float(np.max(_FIT_MARGIN * np.abs(v) / tan_y + w)),
        float(w.max()) + 0.05 * size,
    )
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.column_stack([x_axis, y_axis, back]).ravel())
    spec.worldbody.add_camera(
        name="stress", pos=(centre + back * distance).tolist(), quat=quat.tolist(), fovy=_CAMERA_FOVY_DEG
    )
    spec.stat.center = centre.tolist()
    spec.stat.extent = 2 * (distance + size)  # the near and far clipping planes scale with it


def _peak_marker_rgba(bands: StressBands, peak_mpa: float) -> tuple[float, float, float, float]:
    r, g, b, _ = bands.rgba[int(bands.index(np.array([peak_mpa]))[0])]
    light = 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4
    return (0.05, 0.05, 0.05, 1.0) if light else (1.0, 1.0, 1.0, 1.0)


def stress_scene_model(
    nodes: np.ndarray,
    surface: np.ndarray,
    node_von_mises_mpa: np.ndarray,
    allowable_mpa: float,
    *,
    peak_location_mm: Sequence[float],
    supported: np.ndarray | None = None,
    load_points: Iterable[Sequence[float]] = (),
    width: int = OFFSCREEN_SIZE[0],
    height: int = OFFSCREEN_SIZE[1],
) -> mujoco.MjModel:
    """The MuJoCo model of the stress map (see the module docstring): geoms ``band/<i>`` (only the bands that
    hold triangles), ``held``, ``held/<j>``, ``peak`` and ``load/<j>``, all visual only, a gradient sky and a
    camera ``stress`` framing it all for a ``width`` x ``height`` view (the off-screen buffer's size)."""
    xyz, tris, vm, held = _checked(nodes, surface, node_von_mises_mpa, supported)
    peak_at = _points("peak location", peak_location_mm)
    if len(peak_at) != 1:
        raise ValueError(f"peak_location_mm must be one point (x, y, z), got {peak_location_mm!r}")
    loads = _points("load points", list(load_points))
    bands = stress_bands(float(vm.max()), allowable_mpa)

    corners = xyz[tris]
    double_area = np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    diag = max(float(np.linalg.norm(np.ptp(xyz[tris].reshape(-1, 3), axis=0))), 1e-9)
    visible = double_area > 1e-12 * diag * diag
    if not visible.any():
        raise ValueError("the surface has no triangle of non-zero area")
    tris = tris[visible]

    spec = mujoco.MjSpec()
    spec.modelname = "stress-map"
    spec.visual.global_.offwidth = int(width)
    spec.visual.global_.offheight = int(height)
    spec.visual.quality.shadowsize = 0
    spec.visual.headlight.ambient = [0.42, 0.42, 0.42]
    spec.visual.headlight.diffuse = [0.45, 0.45, 0.45]
    spec.visual.headlight.specular = [0.05, 0.05, 0.05]
    spec.add_texture(
        name="sky",
        type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        rgb1=list(_SKY[0]),
        rgb2=list(_SKY[1]),
        width=64,
        height=384,
    )
    spec.add_material(name="stress", specular=0.08, shininess=0.2, reflectance=0.0)
    xyz_m = xyz * MM_TO_M
    centre = (xyz_m[tris].reshape(-1, 3).min(axis=0) + xyz_m[tris].reshape(-1, 3).max(axis=0)) / 2
    spec.worldbody.add_light(
        name="key",
        type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL,
        pos=(centre + [0, 0, diag * MM_TO_M]).tolist(),
        dir=[0.3, 0.5, -1.0],
        diffuse=[0.35, 0.35, 0.35],
        specular=[0.05, 0.05, 0.05],
        castshadow=False,
    )

    wholly_held = held[tris].all(axis=1) if held is not None else np.zeros(len(tris), dtype=bool)
    band_of = bands.index(vm[tris].mean(axis=1))
    for i in range(len(bands.rgba)):
        chosen = tris[(band_of == i) & ~wholly_held]
        if len(chosen):
            _add_mesh_geom(spec, f"band/{i}", xyz_m, chosen, bands.rgba[i])
    radius = MARKER_PER_SIZE * diag * MM_TO_M
    if wholly_held.any():
        _add_mesh_geom(spec, "held", xyz_m, tris[wholly_held], HELD_RGBA)
    elif held is not None and held.any():
        on_surface = np.intersect1d(np.nonzero(held)[0], np.unique(tris))
        picks = on_surface[
            np.linspace(0, len(on_surface) - 1, min(len(on_surface), MAX_HELD_MARKERS)).astype(int)
        ]
        for j, node in enumerate(picks.tolist() if len(on_surface) else []):
            _add_sphere(spec, f"held/{j}", xyz[node], 0.45 * radius, HELD_RGBA)
    _add_sphere(spec, "peak", peak_at[0], radius, _peak_marker_rgba(bands, float(vm.max())))
    for j, point in enumerate(loads):
        _add_sphere(spec, f"load/{j}", point, 0.75 * radius, LOAD_RGBA)

    framed = np.vstack([xyz_m[np.unique(tris)], peak_at * MM_TO_M, loads * MM_TO_M])
    _place_camera(spec, framed, width / height)
    return spec.compile()


# ------------------------------------------------------------------------------------------------ picture


def _rgb255(rgba: Sequence[float]) -> tuple[int, int, int]:
    return tuple(round(255 * float(c)) for c in rgba[:3])  # type: ignore[return-value]


def _text_height(draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    _, top, _, bottom = draw.textbbox((0, 0), "0123456789", font=font)
    return int(bottom - top)


def _legend(
    image: Image.Image,
    box: tuple[int, int, int, int],
    bands: StressBands,
    peak_mpa: float,
    keys: Sequence[tuple[str, tuple[float, float, float, float], str]],
) -> None:
    """The legend in ``box`` (left, top, right, bottom) of ``image``: a title, the colour bar (0 at the
    bottom, one equal-height cell per band) with its edges in MPa, the allowable stress as a thick line, the
    peak as a triangle, and under the bar a key ``(text, rgba, "disc" | "square")`` per marker."""
    left, top, right, bottom = box
    draw = ImageDraw.Draw(image)
    font = _font(image.height, per=36)
    bold = _font(image.height, per=30)
    line_h = _text_height(draw, font)
    pad = max(4, (right - left) // 16)
    y = top + line_h
    for text in ("von Mises", "stress, MPa"):
        draw.text((left + pad, y), text, font=bold, fill=(20, 20, 20), anchor="lt")
        y = draw.textbbox((left + pad, y), text, font=bold, anchor="lt")[3] + line_h // 3
    bar_top = y + line_h
    bar_bottom = bottom - pad - len(keys) * int(1.6 * line_h) - line_h
    bar_left = left + pad + line_h  # room for the peak's triangle
    bar_right = bar_left + max(12, (right - left) // 7)
    n = len(bands.rgba)
    cell = (bar_bottom - bar_top) / n
    decimals = _decimals(float(bands.edges[-1]))
    for i in range(n):
        y0, y1 = bar_bottom - (i + 1) * cell, bar_bottom - i * cell
        draw.rectangle((bar_left, round(y0), bar_right, round(y1)), fill=_rgb255(bands.rgba[i]))
    draw.rectangle((bar_left, bar_top, bar_right, bar_bottom), outline=(60, 60, 60))
    allowable_at = int(np.argmin(np.abs(bands.edges - bands.allowable_mpa)))
    every = max(1, math.ceil(1.15 * line_h / max(cell, 1e-9)))
    text_left = bar_right + pad
    for k, value in enumerate(bands.edges.tolist()):
        y = bar_bottom - k * cell
        is_allowable = k == allowable_at
        if not (k % every == 0 or k == n or is_allowable):
            continue
        if not is_allowable and abs(k - allowable_at) < every and k != 0:
            continue  # the allowable's label would overlap this one
        draw.line((bar_right, round(y), bar_right + pad // 2, round(y)), fill=(40, 40, 40))
        text = _mpa(value, decimals)
        if is_allowable and draw.textlength(text + " allowable", font=font) <= right - text_left - 2:
            text += " allowable"  # else the red line and figure say it
        colour = (170, 0, 20) if is_allowable else (30, 30, 30)
        draw.text((text_left, y), text, font=font, fill=colour, anchor="lm")
    y = round(bar_bottom - allowable_at * cell)
    draw.line((bar_left - 3, y, bar_right + pad // 2, y), fill=(170, 0, 20), width=max(2, line_h // 5))
    # The peak: a triangle left of the bar, pointing at its value (linear within its band).
    band = int(bands.index(np.array([peak_mpa]))[0])
    lo, hi = float(bands.edges[band]), float(bands.edges[band + 1])
    share = min(max((peak_mpa - lo) / (hi - lo), 0.0), 1.0) if hi > lo else 0.0
    py = bar_bottom - (band + share) * cell
    size = max(4, line_h // 2)
    draw.polygon(
        [(bar_left - 2, py), (bar_left - 2 - size * 1.4, py - size), (bar_left - 2 - size * 1.4, py + size)],
        fill=(20, 20, 20),
    )
    # The key.
    ky = bar_bottom + line_h + line_h // 2
    for text, rgba, shape in keys:
        r = line_h // 2 + 1
        cx, cy = left + pad + r, ky + r
        swatch = (cx - r, cy - r, cx + r, cy + r)
        if shape == "disc":
            draw.ellipse(swatch, fill=_rgb255(rgba), outline=(60, 60, 60))
        else:
            draw.rectangle(swatch, fill=_rgb255(rgba), outline=(60, 60, 60))
        draw.text((cx + r + pad, cy), text, font=font, fill=(30, 30, 30), anchor="lm")
        ky += int(1.6 * line_h)


def _caption_font(
    draw: ImageDraw.ImageDraw, caption: str, width: int, height: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The caption's font: the evidence pictures' (1/:data:`CAPTION_PER_HEIGHT` of the height) or smaller, down
    to 1/:data:`MIN_CAPTION_PER_HEIGHT`, until the caption fits the width (beyond that it is cut short)."""
    pad = max(2, height // 80)
    for per in range(CAPTION_PER_HEIGHT, MIN_CAPTION_PER_HEIGHT + 1):
        font = _font(height, per=per)
        if draw.textlength(caption, font=font) <= width - 4 * pad:
            break
    return font


def stress_map_png(
    nodes: np.ndarray,
    surface: np.ndarray,
    node_von_mises_mpa: np.ndarray,
    allowable_mpa: float,
    *,
    label: str,
    peak_location_mm: Sequence[float],
    supported: np.ndarray | None = None,
    load_points: Iterable[Sequence[float]] = (),
    width: int = OFFSCREEN_SIZE[0],
    height: int = OFFSCREEN_SIZE[1],
) -> bytes:
    """A ``width`` x ``height`` PNG of the part's stress map (see the module docstring): the 3D view on the
    left, the legend panel (1/:data:`LEGEND_PER_WIDTH` of the width) on the right, the caption
    (:func:`stress_caption`) over the top.

    Raises :class:`~engines.physics.render.RenderUnavailable` without a GL context and ``ValueError`` on
    inputs that are not finite or not consistent (see the module docstring) or a picture smaller than
    :data:`MIN_SIZE`.
    """
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        raise ValueError(f"a stress map is at least {MIN_SIZE[0]}x{MIN_SIZE[1]}, got {width}x{height}")
    loads = list(load_points)
    _, _, vm, _ = _checked(nodes, surface, node_von_mises_mpa, supported)
    peak = float(vm.max())
    bands = stress_bands(peak, allowable_mpa)
    location = _points("peak location", peak_location_mm)
    if len(location) != 1:
        raise ValueError(f"peak_location_mm must be one point (x, y, z), got {peak_location_mm!r}")
    caption = stress_caption(label, peak, location[0].tolist(), allowable_mpa)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    caption_font = _caption_font(probe, caption, width, height)
    band_h = _text_height(probe, caption_font) + 4 * max(2, height // 80)
    view_w, view_h = width - width // LEGEND_PER_WIDTH, height - band_h
    model = stress_scene_model(
        nodes,
        surface,
        node_von_mises_mpa,
        allowable_mpa,
        peak_location_mm=peak_location_mm,
        supported=supported,
        load_points=loads,
        width=view_w,
        height=view_h,
    )
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = _open_renderer(model, view_w, view_h)
    try:
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = True  # the light background
        renderer.update_scene(data, _camera_id(model, "stress"))
        frame = renderer.render()
    finally:
        renderer.close()

    image = Image.new("RGB", (width, height), (255, 255, 255))
    image.paste(Image.fromarray(frame), (0, band_h))
    keys: list[tuple[str, tuple[float, float, float, float], str]] = [
        ("peak", _peak_marker_rgba(bands, peak), "disc")
    ]
    if loads:
        keys.append(("load", LOAD_RGBA, "disc"))
    if supported is not None and np.any(supported):
        keys.append(("held", HELD_RGBA, "square"))
    _legend(image, (view_w, band_h, width, height), bands, peak, keys)
    _caption(image, caption, caption_font)
    return _png(image)
