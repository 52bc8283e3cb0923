"""A design evaluation end to end through Temporal on a warm worker, its engine work without Temporal (where
the time goes), and what threads buy.

1. ``evaluation_seconds``: EvaluateDesign of ``examples/designs/chute_design.py`` against the published
   ``chute`` seed 0, 8 scenes, evidence included, on an embedded dev server and a worker whose fork server and
   sandbox zygote are warm; each run is a new design (a comment differs), so nothing is reused. The median
   of ``--repeat`` runs, from the client's start to its result.
2. The time split of one evaluation of ``examples/designs/chute_design.py`` against ``chute`` seed 0, through
   the same job functions the heavy activities run: build (the design script in the sandbox, validation,
   collision pieces, geometry facts), compile (the MuJoCo scene), simulate (the jittered scenes) and
   evidence (replay, frame strip, animation, picture).
3. N jittered scenes stepped on one thread vs two, side by side on the same compiled scene, for the chute
   design and for the motor-driven ``lift`` family's reference solution.

    .venv/bin/python -m benchmarks.bench_evaluation [--scenes 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported (evidence pictures)

from benchmarks import results
from engines.physics import collision_pack
from engines.physics.runner import build_model, simulate
from runtime import sandbox
from runtime.jobs import evaluation, generation, use_settings
from runtime.sandbox_zygote import Zygote
from shared.families import FAMILIES, GENERATOR_VERSION
from shared.keys import upload_key
from shared.models import (
    BenchmarkDefinition,
    BuildDesignRequest,
    BuildRequest,
    EvidenceRequest,
    HeavyProgress,
    SimulationMode,
    StagedDesign,
    StagedPart,
)
from shared.refs import sha256_hex
from shared.settings import Settings
from shared.store import make_store

EXAMPLE = Path(__file__).parents[1] / "examples" / "designs" / "chute_design.py"


@contextlib.contextmanager
def _warm_zygote(root: Path) -> Iterator[None]:
    """A warm worker's sandbox: the zygote the fork server keeps, ready before the first script."""
    zygote = Zygote(root)
    try:
        zygote.wait_ready()
        sandbox.use_zygote(zygote.address)
        yield
    finally:
        sandbox.use_zygote(None)
        zygote.close()


async def through_temporal(scenes: int, repeat: int) -> list[float]:
    """Seconds of each of ``repeat`` evaluations, each of a new variant of the example design, after one
    warm-up evaluation (which also waits out the zygote's imports)."""
    from shared.heavy import DiagnoseRequest, DiagnoseResult
    from shared.models import BenchmarkResult, EvaluationResult, GenerateBenchmarkRequest, Verdict
    from shared.temporal import WF_EVALUATE_DESIGN, WF_GENERATE_BENCHMARK
    from workers.devstack import throwaway_server
    from workers.worker import running_worker

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root, store="local", log_level="WARNING", part_roots=[root])
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        async with (
            throwaway_server() as env,
            running_worker(env.client, settings, task_queue=queue) as supervisor,
        ):
            published = await env.client.execute_workflow(
                WF_GENERATE_BENCHMARK,
                GenerateBenchmarkRequest(family="chute", seed=0),
                id=f"bench-generate-{uuid.uuid4().hex[:6]}",
                task_queue=queue,
                result_type=BenchmarkResult,
            )
            assert published.verdict == Verdict.PUBLISHED, published.reason
            times = []
            for i in range(repeat + 1):
                script = root / f"design-{i}.py"
                script.write_bytes(EXAMPLE.read_bytes() + f"\n# variant {i}\n".encode())
                t = time.perf_counter()
                result = await env.client.execute_workflow(
                    WF_EVALUATE_DESIGN,
                    {
                        "benchmark_id": published.benchmark_id,
                        "design": {"script": {"path": str(script)}},
                        "n_scenes": scenes,
                    },
                    id=f"bench-evaluate-{uuid.uuid4().hex[:6]}",
                    task_queue=queue,
                    result_type=EvaluationResult,
                )
                elapsed = time.perf_counter() - t
                assert result.evidence is not None and result.evidence.picture is not None, result.reason
                if i == 0:
                    print(
                        f"warm-up evaluation: {elapsed:.3f} s, {result.verdict.value}; stages {result.timings_s}"
                    )
                    seen = await supervisor.run(
                        "diagnose", DiagnoseRequest(action="echo"), DiagnoseResult, _quiet
                    )
                    assert seen.sandbox_zygote, "the worker's sandbox zygote is not listening"
                else:
                    times.append(elapsed)
            return times


def _quiet(_: HeavyProgress) -> None:
    pass


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _threads_row(
    name: str, scene: BenchmarkDefinition, mode: SimulationMode, collision, n: int, repeat: int
) -> None:  # type: ignore[no-untyped-def]
    one = _best(lambda: simulate(scene, collision, mode, n, threads=1), repeat)
    two = _best(lambda: simulate(scene, collision, mode, n, threads=2), repeat)
    print(f"{name:<34} {n:>6} {one:>10.3f} {two:>10.3f} {one / two:>8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = asyncio.run(through_temporal(args.scenes, args.repeat))
    print(
        f"one evaluation through Temporal on a warm worker ({args.scenes} scenes, evidence), {len(runs)} runs:"
    )
    print("  " + "  ".join(f"{t:.3f} s" for t in runs) + f"   median {statistics.median(runs):.3f} s")
    results.report("evaluation_seconds", statistics.median(runs))
    with tempfile.TemporaryDirectory() as tmp, _warm_zygote(Path(tmp)):
        settings = Settings(data_dir=Path(tmp), store="local")
        use_settings(settings)
        store = make_store(settings)
        built = generation.build_job(
            BuildRequest(
                benchmark_id="chute-s0-v1", family="chute", seed=0, generator_version=GENERATOR_VERSION
            ),
            _quiet,
            None,
        )
        script = EXAMPLE.read_bytes()
        ref = store.put_bytes(upload_key(sha256_hex(script), ".py"), script)
        design = StagedDesign.of(script=StagedPart(artifact=ref, format="script"))

        t = time.perf_counter()
        made = evaluation.build_design_job(
            BuildDesignRequest(evaluation_id="bench-eval", definition=built.definition, design=design),
            _quiet,
            None,
        )
        t_build = time.perf_counter() - t
        assert made.valid and made.scene is not None, made.findings
        scene = made.scene
        collision = collision_pack.unpack(store.get_ref(scene.artifacts.collision))
        t_compile = _best(lambda: build_model(scene, collision, SimulationMode.DESIGN), args.repeat)
        t = time.perf_counter()
        report = simulate(
            scene, collision, SimulationMode.DESIGN, args.scenes, threads=settings.scene_threads
        )
        t_simulate = time.perf_counter() - t
        t = time.perf_counter()
        evidence = evaluation.evidence_job(
            EvidenceRequest(
                evaluation_id="bench-eval", scene=scene, scene_index=0, outcome=report.results[0].outcome
            ),
            _quiet,
            None,
        )
        t_evidence = time.perf_counter() - t

        total = t_build + t_compile + t_simulate + t_evidence
        print(
            f"\nits engine work: chute_design.py against chute-s0-v1, {args.scenes} scenes, success "
            f"{report.success_share:.0%}"
        )
        print(f"{'stage':<10} {'s':>8} {'share':>7}")
        for name, secs in (
            ("build", t_build),
            ("compile", t_compile),
            ("simulate", t_simulate),
            ("evidence", t_evidence),
        ):
            print(f"{name:<10} {secs:>8.3f} {secs / total:>7.0%}")
        print(f"{'total':<10} {total:>8.3f}")
        if evidence.render_error:
            print(f"(no pictures: {evidence.render_error})")
        print("build forks the script's process from the warm sandbox zygote (build123d already imported).")

        print(f"\n{'scene':<34} {'scenes':>6} {'1 thread':>10} {'2 threads':>10} {'speed-up':>9}")
        _threads_row(
            "chute + design (goal at 0.44 s)",
            scene,
            SimulationMode.DESIGN,
            collision,
            args.scenes,
            args.repeat,
        )
        bad_script = (EXAMPLE.parent / "chute_design_bad.py").read_bytes()
        bad_ref = store.put_bytes(upload_key(sha256_hex(bad_script), ".py"), bad_script)
        bad = evaluation.build_design_job(
            BuildDesignRequest(
                evaluation_id="bench-eval-bad",
                definition=built.definition,
                design=StagedDesign.of(script=StagedPart(artifact=bad_ref, format="script")),
            ),
            _quiet,
            None,
        ).scene
        assert bad is not None
        bad_collision = collision_pack.unpack(store.get_ref(bad.artifacts.collision))
        for n in (args.scenes, 4 * args.scenes):
            _threads_row(
                "chute + bad design (3 s timeouts)", bad, SimulationMode.DESIGN, bad_collision, n, args.repeat
            )
        if "lift" in FAMILIES:
            lift = generation.build_job(
                BuildRequest(
                    benchmark_id="lift-s0-v1", family="lift", seed=0, generator_version=GENERATOR_VERSION
                ),
                _quiet,
                None,
            ).definition
            lift_collision = collision_pack.unpack(store.get_ref(lift.artifacts.collision))
            _threads_row(
                "lift + reference (motor)",
                lift,
                SimulationMode.REFERENCE,
                lift_collision,
                args.scenes,
                args.repeat,
            )


if __name__ == "__main__":
    main()
