"""Evidence pictures of a simulated scene: MuJoCo off-screen rendering, tiled PNG strips, animated WebP.

What the images show: the compiled scene (engines.physics.mjcf) as seen from its fixed camera
``overview``. That camera frames the simulation bounds from above and to one side. The images show the
fixtures, the reference solution when the scene contains it, the payload in its material colour, and
the translucent goal, forbidden and build zones. When a model has no camera of the requested name, MuJoCo's
default free camera is used instead. It looks at the model's ``<statistic center/extent>``. Shadows,
reflections and the skybox are turned off because they cost about 90 % of the llvmpipe render time. The
headlight and the scene's key light remain, so parts are still shaded.

Sizes: frames for strips and animations are 320x240 by default; single pictures are 640x480. The scenes
compiled by mjcf.py declare a 1280x960 off-screen buffer, which is the largest size that works. An
animation of about 100 frames at 320x240 is a few hundred kB at most (lossy WebP, quality 60). A 4x2 strip
of 320x240 frames is a 1280x480 PNG.

Measured speeds on the 2-vCPU, CPU-only machine (Mesa llvmpipe through EGL; ``python -m
benchmarks.bench_render``). The scene is a floor, a ramp, four walls and the ball, framed by ``overview``. A
frame is ``mj_forward`` + ``update_scene`` + ``render``; the figures are medians on a quiet machine, and
about x3 when other test suites run at the same time:

- creating a renderer (GL context + MjrContext): 70-120 ms, about 0.6 s for the first one in a process;
- the first frame of each renderer (shader compilation): 55-80 ms;
- later frames: 1.7 ms at 320x240, 4.3 ms at 640x480, 16 ms at 1280x960. Richer scenes cost more: with
  the same flags off, a ramp-and-arena scene with five mesh parts took 7.6 ms a frame at 320x240, and a bin
  of 50 settled free bodies (about 130 contacts) 19 ms;
- so ``render_frames`` of 100 frames at 320x240 takes about 0.3 s in all, and ``picture_png`` at 640x480
  about 0.15 s, which is mostly the renderer's set-up;
- encoding: an 8-frame 1280x480 PNG strip with captions takes 18 ms (14 kB); a 100-frame 320x240 WebP
  animation takes 185 ms (31 kB; about 300 kB even for frames that are all noise).

GL backend: MuJoCo reads ``MUJOCO_GL`` once, when ``mujoco`` is first imported. ``egl`` uses Mesa llvmpipe on
a machine without a GPU and needs no extra package. ``osmesa`` needs ``libosmesa6``, which this machine lacks;
without it ``import mujoco`` itself fails with an ``AttributeError`` from PyOpenGL. ``glfw``, which is
MuJoCo's choice when the variable is unset, needs an X display. ``disabled`` gives no GL at all. Job processes
get the value from the ``mujoco_gl`` setting (environment ``MECHBENCH_MUJOCO_GL``), which the fork server
applies before it imports mujoco. A job forked from the fork server can render with EGL because the fork
server imports mujoco but never creates a context. A process that has created a context must not fork children
that render, because llvmpipe's threads do not survive a fork and the child would hang. This module refuses
such a child with :class:`RenderUnavailable` instead.

This module creates GL contexts only inside the calls below, one renderer per call, always closed. It is
therefore importable, and its image helpers usable, on a machine with no GL at all. A failure to create the
context raises :class:`RenderUnavailable`.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Sequence

import mujoco
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "RenderUnavailable",
    "animation_webp",
    "frame_strip_png",
    "gl_backend",
    "pick_frames",
    "picture_png",
    "render_frames",
]

Image.init()  # every image plugin now, not at the first save: a forked job then finds them imported
_DISABLED = ("disable", "disabled", "off", "false", "0")
_FAST_FLAGS_OFF = (
    mujoco.mjtRndFlag.mjRND_SHADOW,
    mujoco.mjtRndFlag.mjRND_REFLECTION,
    mujoco.mjtRndFlag.mjRND_SKYBOX,
)
WEBP_QUALITY = 60
"""Lossy WebP quality (0-100) of animations: small files, still legible."""
WEBP_METHOD = 4
"""libwebp effort (0 fastest, 6 smallest)."""
PNG_COMPRESS_LEVEL = 6
CAPTION_PER_HEIGHT = 24
"""A single picture's caption is 1/24 of its height (20 px at 480): a strip's frames use 1/16 of theirs."""

_context_pid: int | None = None
"""The process that created a GL context through this module. A forked child of it cannot render: llvmpipe's
threads do not survive a fork, so rendering would hang."""


class RenderUnavailable(RuntimeError):
    """No OpenGL context could be created in this process, so no picture can be rendered."""


def gl_backend() -> str:
    """The ``MUJOCO_GL`` value that MuJoCo applied when it was imported, as MuJoCo's GL module recorded it
    (this module reads no environment). An empty string means the default (GLFW on Linux)."""
    try:
        from mujoco.rendering.classic import gl_context

        return str(getattr(gl_context, "_MUJOCO_GL", ""))
    except ImportError:  # pragma: no cover - other MuJoCo layouts
        return ""


def _has_gl_context_class() -> bool:
    try:
        from mujoco.rendering.classic import gl_context
    except ImportError:  # pragma: no cover - other MuJoCo layouts
        return hasattr(mujoco, "GLContext")
    return getattr(gl_context, "GLContext", None) is not None


_HINT = (
    "On a machine without a display use EGL: set MECHBENCH_MUJOCO_GL=egl for the worker (or MUJOCO_GL=egl "
    "before mujoco is first imported); MECHBENCH_MUJOCO_GL=disabled stores evaluations without pictures."
)


def _unavailable(reason: str, hint: str = _HINT) -> RenderUnavailable:
    backend = gl_backend() or "unset (GLFW)"
    return RenderUnavailable(
        f"cannot create an OpenGL context for rendering (MUJOCO_GL={backend}): {reason}. {hint}"
    )


def _open_renderer(model: mujoco.MjModel, width: int, height: int) -> mujoco.Renderer:
    """A renderer of ``width`` x ``height`` with shadows, reflections and skybox off. The caller closes it."""
    global _context_pid
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    buf_w, buf_h = int(model.vis.global_.offwidth), int(model.vis.global_.offheight)
    if width > buf_w or height > buf_h:
        raise ValueError(
            f"image {width}x{height} exceeds the model's off-screen buffer {buf_w}x{buf_h} "
            "(<visual><global offwidth offheight>)"
        )
    if gl_backend() in _DISABLED or not _has_gl_context_class():
        raise _unavailable("rendering is disabled")
    if _context_pid is not None and _context_pid != os.getpid():
        raise _unavailable(
            f"this process was forked from process {_context_pid} after that one had created a GL context, "
            "and the GL driver's threads do not survive a fork (rendering would hang)",
            "Render only in processes whose ancestors never rendered (the fork server must not render).",
        )
    with warnings.catch_warnings(record=True) as caught:  # GLFW reports its failures as warnings
        warnings.simplefilter("always")
        try:
            renderer = mujoco.Renderer(model, height, width)
        except Exception as e:  # FatalError, ImportError (no libEGL), RuntimeError, GLError, ...
            details = "; ".join(dict.fromkeys(str(w.message) for w in caught))
            reason = f"{type(e).__name__}: {e}" + (f" ({details})" if details else "")
            raise _unavailable(reason) from e
    _context_pid = os.getpid()
    for flag in _FAST_FLAGS_OFF:
        renderer.scene.flags[flag] = False
    return renderer


def _camera_id(model: mujoco.MjModel, camera: str) -> int:
    """The id of the named camera, or -1 (the free camera) when the model has none of that name."""
    return int(mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera))


def render_frames(
    model: mujoco.MjModel,
    qpos: np.ndarray,
    *,
    width: int = 320,
    height: int = 240,
    camera: str = "overview",
) -> list[np.ndarray]:
    """One RGB uint8 (height, width, 3) image per row of qpos (K, model.nq): set data.qpos, mj_forward,
    render.

    A 1-D ``qpos`` of length ``nq`` is one row. Raises :class:`RenderUnavailable` when no GL context can be
    created and ``ValueError`` on a wrong ``qpos`` shape or a size beyond the model's off-screen buffer.
    """
    rows = np.atleast_2d(np.asarray(qpos, dtype=np.float64))
    if rows.ndim != 2 or rows.shape[1] != model.nq:
        raise ValueError(f"qpos must have shape (K, {model.nq}), got {np.shape(qpos)}")
    if len(rows) == 0:
        return []
    cam = _camera_id(model, camera)
    data = mujoco.MjData(model)
    renderer = _open_renderer(model, width, height)
    try:
        frames = []
        for row in rows:
            data.qpos[:] = row
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, cam)
            frames.append(renderer.render())
        return frames
    finally:
        renderer.close()


def picture_png(
    model: mujoco.MjModel,
    qpos: np.ndarray | None = None,
    *,
    width: int = 640,
    height: int = 480,
    camera: str = "overview",
    caption: str | None = None,
) -> bytes:
    """One picture of the scene at qpos (default: the model's initial pose), with ``caption`` (when given)
    in white on a dark box over its top-left corner, in a font about 1/24 of the picture's height."""
    pose = model.qpos0 if qpos is None else np.asarray(qpos, dtype=np.float64).reshape(-1)
    (frame,) = render_frames(model, pose[None, :], width=width, height=height, camera=camera)
    image = Image.fromarray(frame)
    if caption:
        _caption(image, caption, _font(height, per=CAPTION_PER_HEIGHT))
    return _png(image)


def pick_frames(n_available: int, n_wanted: int) -> list[int]:
    """Evenly spaced indices including the first and the last.

    All indices when ``n_wanted >= n_available``. ``[0]`` when ``n_wanted`` is 1, and ``[]`` when nothing is
    available. Raises ``ValueError`` when ``n_wanted < 1`` or ``n_available < 0``.
    """
    if n_wanted < 1:
        raise ValueError(f"n_wanted must be at least 1, got {n_wanted}")
    if n_available < 0:
        raise ValueError(f"n_available must not be negative, got {n_available}")
    if n_wanted >= n_available:
        return list(range(n_available))
    if n_wanted == 1:
        return [0]
    last, gaps = n_available - 1, n_wanted - 1
    # Round half up in integers. The step is > 1, so the indices are strictly increasing.
    return [(i * last * 2 + gaps) // (2 * gaps) for i in range(n_wanted)]


def _check_frames(frames: Sequence[np.ndarray]) -> tuple[int, int]:
    if len(frames) == 0:
        raise ValueError("no frames")
    shape = np.shape(frames[0])
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"frames must be RGB (height, width, 3), got {shape}")
    if any(np.shape(f) != shape for f in frames):
        raise ValueError("all frames must have the same size")
    return int(shape[0]), int(shape[1])


def _font(height: int, per: int = 16) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The default font, ``height / per`` pixels high (at least 10)."""
    size = max(10, height // per)
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _fitted(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float
) -> str:
    """``text``, cut short with ``...`` when it is wider than ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text.rstrip(" ,;:") + "..."


def _caption(tile: Image.Image, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    """``text`` in white on a translucent dark box in the tile's top-left corner (cut short to fit the tile)."""
    overlay = Image.new("RGBA", tile.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = max(2, tile.height // 80)
    text = _fitted(draw, text, font, tile.width - 4 * pad)
    left, top, right, bottom = draw.textbbox((2 * pad, 2 * pad), text, font=font)
    draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=(0, 0, 0, 150))
    draw.text((2 * pad, 2 * pad), text, font=font, fill=(255, 255, 255, 255))
    tile.paste(overlay, (0, 0), overlay)


def frame_strip_png(
    frames: Sequence[np.ndarray], columns: int = 4, labels: Sequence[str] | None = None
) -> bytes:
    """Frames tiled left-to-right, top-to-bottom into one PNG, each optionally captioned (e.g. 't=0.40 s').

    The PNG is ``min(columns, len(frames))`` frames wide and ``ceil(len(frames) / columns)`` frames high,
    with no gaps. Cells after the last frame are white. Each caption is drawn over its frame's top-left
    corner.
    """
    height, width = _check_frames(frames)
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
    cols = min(columns, len(frames))
    rows = math.ceil(len(frames) / cols)
    sheet = Image.new("RGB", (cols * width, rows * height), (255, 255, 255))
    font = _font(height) if labels is not None else None
    for i, frame in enumerate(frames):
        tile = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8))
        if labels is not None and font is not None and labels[i]:
            _caption(tile, str(labels[i]), font)
        sheet.paste(tile, ((i % cols) * width, (i // cols) * height))
    return _png(sheet)


def animation_webp(frames: Sequence[np.ndarray], fps: float) -> bytes:
    """An animated, looping WebP (lossy, modest quality, small: a few hundred KB at most for ~100 frames of
    320x240) that plays ``frames`` at ``fps`` frames per second."""
    _check_frames(frames)
    if not fps > 0 or not math.isfinite(fps):
        raise ValueError(f"fps must be positive, got {fps}")
    images = [Image.fromarray(np.ascontiguousarray(f, dtype=np.uint8)) for f in frames]
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
        lossless=False,
        quality=WEBP_QUALITY,
        method=WEBP_METHOD,
    )
    return buf.getvalue()


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()
