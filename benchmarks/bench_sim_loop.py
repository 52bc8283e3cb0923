"""Simulation loop overhead and thread scaling, measured side by side in one run (not a test).

Scene: a walled floor, a 20 degree ramp (box meshes) and a 20 mm steel ball that rolls down the ramp and
on across the floor; the goal is out of reach so every scene runs its full 10 s (5000 steps).

Also the detour family's scene, and the assembly scene with the most bodies among the families' hardest
levels (reference included: part-to-part joints, motors, several payloads, moving fixtures).

Prints medians over ``--reps`` repetitions of:
- raw ``mj_step(m, d, nstep=5000)`` vs :func:`run_scene` with check intervals 10 and 1 (steps/s, ratio); in a
  scene with motors the raw loop sets the same controls at the same 10-step boundaries (recorded from the
  scene), since a motor left at rest would make a different, cheaper scene;
- 8 jittered scenes via :func:`simulate` on 1 thread vs 2 threads (wall time, ratio).

Usage: ``.venv/bin/python -m benchmarks.bench_sim_loop [--reps 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import mujoco
import numpy as np
import trimesh

from benchmarks.results import report
from engines.physics.collision_pack import Piece
from engines.physics.judge import Judge
from engines.physics.runner import build_model, run_scene, scene_jitters, simulate
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BenchmarkDefinition,
    Box,
    PartSpec,
    Payload,
    SimulationMode,
    SimulationSettings,
)


def _box(
    extents: tuple[float, float, float], centre: tuple[float, float, float], tilt_deg: float = 0.0
) -> Piece:
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(np.radians(tilt_deg), [0, 1, 0]))
    mesh.apply_translation(centre)
    return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int32)


def _fixture(label: str, piece: Piece) -> PartSpec:
    lo, hi = piece[0].min(axis=0), piece[0].max(axis=0)
    return PartSpec(
        label=label,
        role="fixture",
        material="aluminum_6061",
        volume_mm3=1.0,
        mass_kg=1.0,
        bbox=Box(min_mm=tuple(lo.tolist()), max_mm=tuple(hi.tolist())),
    )


def scene() -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    collision = {
        "floor": [_box((2000, 1000, 20), (500, 0, -10))],
        "ramp": [_box((600, 200, 20), (-200, 0, 120), tilt_deg=20)],
        "walls": [
            _box((20, 1000, 200), (-510, 0, 100)),
            _box((20, 1000, 200), (1510, 0, 100)),
            _box((2000, 20, 200), (500, -510, 100)),
            _box((2000, 20, 200), (500, 510, 100)),
        ],
    }
    definition = BenchmarkDefinition(
        benchmark_id="bench",
        family="bench",
        seed=0,
        generator_version=1,
        fixtures=[_fixture(label, pieces[0]) for label, pieces in collision.items()],
        payload=Payload(radius_mm=20, material="steel_carbon", start_mm=(-400, 0, 250), jitter_mm=(2, 2, 0)),
        goal_zone=Box(min_mm=(5000, 5000, 5000), max_mm=(5100, 5100, 5100)),
        build_zone=Box(min_mm=(0, -100, 0), max_mm=(200, 100, 200)),
        simulation_bounds=Box(min_mm=(-10000, -10000, -1000), max_mm=(10000, 10000, 10000)),
        simulation=SimulationSettings(timestep_s=0.002, duration_s=10.0, check_interval_steps=10),
        artifacts=BenchmarkArtifacts(
            collision=ArtifactRef(key="bench/collision.npz", sha256="0" * 64, size_bytes=0)
        ),
    )
    return definition, collision


def _medians_s(fns: list[Callable[[], object]], reps: int) -> list[float]:
    """The median time of each of ``fns``, their repetitions interleaved (each round runs every one, the
    order rotated by one each round), so that a burst of load on the shared machine falls on all of them
    alike instead of on whichever ran at that moment."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for r in range(reps):
        for j in range(len(fns)):
            i = (j + r) % len(fns)
            t0 = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def _controls(
    model: mujoco.MjModel,
    definition: BenchmarkDefinition,
    data: mujoco.MjData,
    start: Callable[[], None],
    steps: int,
    chunk: int,
) -> list[np.ndarray] | None:
    """The actuator controls scene 0 sets at each chunk boundary (None without motors), recorded once from
    the scene's own jittered start."""
    motors = Judge(model, definition, data, None).motors
    if motors is None:
        return None
    start()
    out = []
    for first in range(0, steps, chunk):
        motors.control(data.time)
        out.append(data.ctrl.copy())
        mujoco.mj_step(model, data, nstep=min(chunk, steps - first))
    return out


def _loop_vs_raw(label: str, definition: BenchmarkDefinition, model: mujoco.MjModel, reps: int) -> float:
    """run_scene vs raw mj_step over the same steps of the same compiled scene, from the same jittered start;
    returns the ratio at the default check interval (10)."""
    data = mujoco.MjData(model)  # both loops reuse it, so allocation is not part of either figure
    result = run_scene(model, definition, 0, data=data)
    steps = result.steps
    chunk = definition.simulation.check_interval_steps
    # Scene 0's jittered start, resolved once so that the raw loop times nothing but the steps.
    payloads = Judge(model, definition, data, None).payloads
    starts = [
        (p.qpos, np.asarray(o) * 1e-3) for p, o in zip(payloads, scene_jitters(definition, 0), strict=True)
    ]

    def start() -> None:
        mujoco.mj_resetData(model, data)
        for adr, offset in starts:
            data.qpos[adr : adr + 3] += offset

    controls = _controls(model, definition, data, start, steps, chunk)

    def raw() -> None:
        start()
        if controls is None:
            mujoco.mj_step(model, data, nstep=steps)
            return
        # Motors: the same controls, set at the same chunk boundaries, so both loops run the same physics.
        for i, ctrl in enumerate(controls):
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data, nstep=min(chunk, steps - i * chunk))

    def with_interval(k: int) -> Callable[[], object]:
        d = definition.model_copy(
            update={"simulation": definition.simulation.model_copy(update={"check_interval_steps": k})}
        )
        return lambda: run_scene(model, d, 0, data=data)

    names = [f"raw mj_step(nstep={steps if controls is None else chunk})"]
    names += [f"run_scene, check every {k}" for k in (10, 1)]
    rows = list(zip(names, _medians_s([raw, with_interval(10), with_interval(1)], reps), strict=True))
    raw_rate = steps / rows[0][1]
    print(
        f"\n{label}: {model.nbody} bodies, {model.ngeom} geoms, {steps} steps "
        f"(outcome {result.outcome.value}), reps {reps}"
    )
    print(f"{'loop':34s} {'steps/s':>10s} {'vs raw':>7s}")
    for name, seconds in rows:
        print(f"{name:34s} {steps / seconds:10,.0f} {steps / seconds / raw_rate:7.3f}")
    return steps / rows[1][1] / raw_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--scenes", type=int, default=8)
    args = parser.parse_args()

    definition, collision = scene()
    model = build_model(definition, collision, SimulationMode.BASELINE)
    ratios = [
        _loop_vs_raw(
            "synthetic scene (floor, ramp, ball; the lightest possible step)", definition, model, args.reps
        )
    ]

    # A published benchmark's own scene: the detour family with its reference solution.
    from engines.cad.build import build_benchmark
    from engines.physics import collision_pack

    family_def, blobs, _ = build_benchmark("detour", 0, 1, "detour-s0-v1")
    family_col = collision_pack.unpack(next(b.data for b in blobs if b.key.endswith("collision.npz")))
    family_def = family_def.model_copy(
        update={"simulation": family_def.simulation.model_copy(update={"duration_s": 10.0})}
    )
    family_model = build_model(family_def, family_col, SimulationMode.BASELINE)
    ratios.append(_loop_vs_raw("detour seed 0, baseline (10 s)", family_def, family_model, args.reps))

    # The assembly scene with the most bodies: every new family's hardest level (seed 2), with its reference
    # (part-to-part joints, motors, several payloads, moving fixtures), the one whose model has most bodies.
    from engines.cad.families import FAMILIES
    from shared.families import GENERATOR_VERSION

    best = None
    for name, family in FAMILIES.items():
        if family.levels < 3:
            continue
        d, b, _ = build_benchmark(name, 2, GENERATOR_VERSION, f"{name}-s2-v{GENERATOR_VERSION}")
        col = collision_pack.unpack(next(x.data for x in b if x.key.endswith("collision.npz")))
        m = build_model(d, col, SimulationMode.REFERENCE)
        if best is None or m.nbody > best[2].nbody:
            best = (name, d, m)
    assert best is not None
    name, d, m = best
    ratios.append(
        _loop_vs_raw(f"{name} seed 2, reference (the assembly scene with the most bodies)", d, m, args.reps)
    )

    n = args.scenes
    seq, par = _medians_s(
        [lambda t=t: simulate(definition, collision, SimulationMode.BASELINE, n, threads=t) for t in (1, 2)],
        args.reps,
    )
    print()
    print(f"{f'simulate({n} scenes)':34s} {'wall s':>10s} {'speed-up':>8s}")
    print(f"{'threads=1':34s} {seq:10.3f} {1.0:8.2f}")
    print(f"{'threads=2':34s} {par:10.3f} {seq / par:8.2f}")
    report("sim_loop_vs_raw_min", min(ratios))


if __name__ == "__main__":
    main()
