"""The invalid-design picture: the scene at t = 0 with the parts that make a design invalid drawn red.

A design that validation blocks (``engines.cad.design``) is never simulated, so it gets no evidence picture.
This picture shows what validation saw instead: the benchmark's fixtures, its zones (build, goal and
forbidden, translucent as in the evidence picture), its payloads at their spawn points, the design's parts in
their usual blue (:data:`~engines.physics.mjcf.DESIGN_RGBA`) and the offending ones solid red
(:data:`OFFENDING_RGBA`). The scene compiler (``engines.physics.mjcf``, mode ``DESIGN``) writes the scene and
``engines.physics.render`` draws it through the evidence camera at :data:`~engines.physics.mjcf.OFFSCREEN_SIZE`,
as it draws the evidence picture. A caption names the offending parts.

How it differs from the evidence scene:

- design parts are world geoms at their placed pose, without joints or motors. An invalid joint (a zero axis,
  a missing parent, a cycle) must not stop the picture, and t = 0 is the placed pose anyway;
- a design part's meshes are whatever the caller gives (the job gives the part's tessellation: MuJoCo draws
  a mesh geom's own triangles, and a convex decomposition would take seconds);
- the evidence camera frames the evidence frame together with the drawn design parts, so a part just outside
  the build zone is in the picture. The frame grows by at most :data:`MAX_FRAME_GROWTH` of the evidence
  frame's size on each side, so a part a metre away does not shrink the scene to a dot; the caption says
  which offending parts are out of view or could not be drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import mujoco
import numpy as np

from engines.physics.collision_pack import Piece
from engines.physics.mjcf import (
    EVIDENCE_CAMERA,
    OFFSCREEN_SIZE,
    _camera_pose,
    compile_scene_xml,
    evidence_frame,
)
from engines.physics.render import picture_png
from engines.physics.runner import compile_model
from shared.models import BenchmarkDefinition, Box, PartSpec, SimulationMode, offending_parts

__all__ = [
    "OFFENDING_RGBA",
    "invalid_caption",
    "invalid_picture_png",
    "invalid_scene_model",
    "offending_parts",
    "picture_frame",
]

OFFENDING_RGBA = (0.9, 0.05, 0.05, 1.0)
"""An offending design part is solid red: the forbidden zones are red too, but translucent (alpha 0.3)."""
MAX_FRAME_GROWTH = 1.0
"""The picture frames the evidence frame grown, on each side, by at most this share of its size per axis."""
MAX_CAPTION_NAMES = 3
"""Each group of the caption names at most this many offending parts, then says how many more there are."""
MAX_CAPTION_LABEL_CHARS = 24


def _union(boxes: Sequence[Box]) -> Box:
    return Box(
        min_mm=tuple(min(b.min_mm[k] for b in boxes) for k in range(3)),  # type: ignore[arg-type]
        max_mm=tuple(max(b.max_mm[k] for b in boxes) for k in range(3)),  # type: ignore[arg-type]
    )


def picture_frame(definition: BenchmarkDefinition, parts: Sequence[PartSpec]) -> Box:
    """What the picture frames: the evidence frame and the parts' bounding boxes, clipped to the evidence
    frame grown by :data:`MAX_FRAME_GROWTH` of its size on each side. A part wholly beyond that limit does not
    move the frame (it is out of view), so the scene keeps its evidence-picture scale."""
    frame = evidence_frame(definition)
    grow = [MAX_FRAME_GROWTH * s for s in frame.size_mm]
    limit = Box(
        min_mm=tuple(f - g for f, g in zip(frame.min_mm, grow, strict=True)),  # type: ignore[arg-type]
        max_mm=tuple(f + g for f, g in zip(frame.max_mm, grow, strict=True)),  # type: ignore[arg-type]
    )
    near = [p.bbox for p in parts if p.bbox.overlaps(limit)]
    if not near:
        return frame
    wanted = _union([frame, *near])
    return Box(
        min_mm=tuple(max(w, lo) for w, lo in zip(wanted.min_mm, limit.min_mm, strict=True)),  # type: ignore[arg-type]
        max_mm=tuple(min(w, hi) for w, hi in zip(wanted.max_mm, limit.max_mm, strict=True)),  # type: ignore[arg-type]
    )


def _as_drawn(part: PartSpec) -> PartSpec:
    """A design part as the picture draws it: fastened to the world where it was placed."""
    return part.model_copy(update={"joint": None, "motor": None, "fixed": True})


def invalid_scene_model(
    definition: BenchmarkDefinition,
    collision: Mapping[str, list[Piece]],
    parts: Sequence[PartSpec],
    offenders: Iterable[str],
) -> mujoco.MjModel:
    """The picture's scene: ``definition``'s fixtures, payloads and zones with every part of ``parts`` that has
    meshes in ``collision`` (world millimetres, like the fixtures' pieces, which ``collision`` must hold too),
    those named in ``offenders`` red, and the evidence camera moved to frame :func:`picture_frame`.

    Raises :class:`~engines.physics.mjcf.SceneCompileError` (a ``ValueError``) when the scene does not compile.
    """
    drawn = [_as_drawn(p) for p in parts if collision.get(p.label)]
    scene = definition.model_copy(update={"reference_solution": drawn})
    model = compile_model(compile_scene_xml(scene, dict(collision), SimulationMode.DESIGN))
    red = set(offenders) & {p.label for p in drawn}
    for i in range(model.ngeom):
        if model.geom(i).name.rpartition("/")[0] in red:
            model.geom_rgba[i] = OFFENDING_RGBA
    cam = int(mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, EVIDENCE_CAMERA))
    pos, axes, _ = _camera_pose(picture_frame(definition, drawn))
    x_axis, y_axis = np.array(axes.split(), dtype=np.float64).reshape(2, 3)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.column_stack([x_axis, y_axis, np.cross(x_axis, y_axis)]).ravel())
    model.cam_pos[cam] = np.array(pos.split(), dtype=np.float64)
    model.cam_quat[cam] = quat
    return model


def _names(labels: Sequence[str]) -> str:
    shown = [
        label if len(label) <= MAX_CAPTION_LABEL_CHARS else label[: MAX_CAPTION_LABEL_CHARS - 3] + "..."
        for label in labels[:MAX_CAPTION_NAMES]
    ]
    more = len(labels) - len(shown)
    return ", ".join(shown) + (f" +{more}" if more > 0 else "")


def invalid_caption(offenders: Sequence[str], parts: Sequence[PartSpec], frame: Box) -> str:
    """``invalid: a, b +2; out of view: c; not drawn: d``: the offending parts in the picture, then those
    beyond ``frame`` and those not among the ``parts`` that could be drawn (each group names at most
    :data:`MAX_CAPTION_NAMES` and counts the rest). The picture cuts it short to fit its width."""
    by_label = {p.label: p for p in parts}
    shown = [o for o in offenders if o in by_label and by_label[o].bbox.overlaps(frame)]
    away = [o for o in offenders if o in by_label and not by_label[o].bbox.overlaps(frame)]
    undrawn = [o for o in offenders if o not in by_label]
    groups = [f"invalid: {_names(shown)}" if shown else "invalid design"]
    groups += [f"out of view: {_names(away)}"] if away else []
    groups += [f"not drawn: {_names(undrawn)}"] if undrawn else []
    return "; ".join(groups)


def invalid_picture_png(
    definition: BenchmarkDefinition,
    collision: Mapping[str, list[Piece]],
    parts: Sequence[PartSpec],
    offenders: Sequence[str],
    *,
    width: int = OFFSCREEN_SIZE[0],
    height: int = OFFSCREEN_SIZE[1],
) -> bytes:
    """A PNG of the invalid design in its benchmark's scene at t = 0 (see :func:`invalid_scene_model`),
    captioned with :func:`invalid_caption`.

    Raises :class:`~engines.physics.render.RenderUnavailable` without a GL context, and ``ValueError`` when
    the scene does not compile.
    """
    model = invalid_scene_model(definition, collision, parts, offenders)
    drawn = [p for p in parts if collision.get(p.label)]
    frame = picture_frame(definition, drawn)
    caption = invalid_caption(offenders, drawn, frame)
    return picture_png(model, width=width, height=height, camera=EVIDENCE_CAMERA, caption=caption)
