"""Evidence pictures: off-screen render and encode times at the evidence sizes (not a test).

Scene: the synthetic floor/ramp/walls/ball scene of :mod:`benchmarks.bench_sim_loop` (with simulation bounds
tightened around it, so the camera frames it the way it frames a real benchmark), rendered through its
``overview`` camera along the ball's simulated trajectory, with :mod:`engines.physics.render`.

Prints, for each size, the renderer creation time, the first frame, and the median ms per frame
(``mj_forward`` + ``update_scene`` + ``render``). Then it prints the encode times and byte sizes of an
8-frame PNG strip, a ~100-frame WebP animation and one picture.

Usage: ``MUJOCO_GL=egl .venv/bin/python -m benchmarks.bench_render [--frames 100]`` (MUJOCO_GL defaults to
egl here).
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco's first import

import argparse
import statistics
import time

import mujoco
import numpy as np

from benchmarks.bench_sim_loop import scene
from engines.physics import render
from engines.physics.mjcf import OFFSCREEN_SIZE, PAYLOAD_BODY
from engines.physics.runner import build_model, run_scene
from shared.models import Box, SimulationMode


def _qpos_rows(model: mujoco.MjModel, states: np.ndarray) -> np.ndarray:
    """Full qpos rows from the runner's payload states ``[t, x_mm, y_mm, z_mm, qw, qx, qy, qz]``."""
    adr = int(model.joint(PAYLOAD_BODY).qposadr[0])
    rows = np.tile(model.qpos0, (len(states), 1))
    rows[:, adr : adr + 3] = states[:, 1:4] * 1e-3
    rows[:, adr + 3 : adr + 7] = states[:, 4:8]
    return rows


def _time_frames(model: mujoco.MjModel, rows: np.ndarray, width: int, height: int) -> None:
    """Renderer creation, first frame and steady per-frame cost, timed around the same calls as render.py."""
    data = mujoco.MjData(model)
    cam = render._camera_id(model, "overview")
    t0 = time.perf_counter()
    renderer = render._open_renderer(model, width, height)
    t_open = time.perf_counter() - t0
    try:
        per_frame = []
        for row in rows:
            t = time.perf_counter()
            data.qpos[:] = row
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, cam)
            renderer.render()
            per_frame.append(time.perf_counter() - t)
    finally:
        renderer.close()
    steady = statistics.median(per_frame[1:]) if len(per_frame) > 1 else per_frame[0]
    print(
        f"{width}x{height:<5d} {t_open * 1e3:13.0f} {per_frame[0] * 1e3:13.0f} {steady * 1e3:14.1f} "
        f"{1 / steady:8.0f}"
    )


def _timed(label: str, fn, reps: int = 3) -> bytes:  # type: ignore[no-untyped-def]
    times, out = [], b""
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    print(f"{label:52s} {statistics.median(times) * 1e3:9.1f} ms {len(out) / 1024:9.1f} kB")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()

    definition, collision = scene()
    # Frame the floor, ramp and walls (the sim-loop scene's bounds are 20 m wide, so it would look tiny).
    tight = Box(min_mm=(-600, -600, -50), max_mm=(1600, 600, 400))
    definition = definition.model_copy(update={"simulation_bounds": tight})
    model = build_model(definition, collision, SimulationMode.BASELINE)
    _, states = run_scene(model, definition, 0, trajectory=True)
    rows = _qpos_rows(model, states[render.pick_frames(len(states), args.frames)])
    print(
        f"GL backend: MUJOCO_GL={render.gl_backend() or '(unset)'}; {model.ngeom} geoms, {len(rows)} frames"
    )

    print(f"\n{'size':11s} {'open (ms)':>13s} {'1st frame ms':>13s} {'ms per frame':>14s} {'fps':>8s}")
    for width, height in ((320, 240), OFFSCREEN_SIZE):  # the strip's and animation's frames; the picture
        _time_frames(model, rows, width, height)

    t = time.perf_counter()
    frames = render.render_frames(model, rows)
    print(
        f"\nrender_frames, {len(rows)} frames 320x240 (open + all + close): {time.perf_counter() - t:.2f} s"
    )
    times = states[:, 0]
    strip_idx = render.pick_frames(len(frames), 8)
    strip = [frames[i] for i in strip_idx]
    labels = [f"t={times[render.pick_frames(len(states), args.frames)[i]]:.2f} s" for i in strip_idx]
    print(f"\n{'encode':52s} {'time':>12s} {'size':>12s}")
    _timed(
        "frame_strip_png, 8 frames 320x240, labels (1280x480)",
        lambda: render.frame_strip_png(strip, 4, labels),
    )
    _timed(
        f"animation_webp, {len(frames)} frames 320x240, 25 fps", lambda: render.animation_webp(frames, 25.0)
    )
    _timed("picture_png 640x480 (render + encode)", lambda: render.picture_png(model, rows[-1]))


if __name__ == "__main__":
    main()
