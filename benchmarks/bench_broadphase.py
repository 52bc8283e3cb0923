"""Geometry validation of N random solids: sort-and-sweep broadphase + exact BRep checks vs all-pairs exact.

The solids: half boxes of 4-12 mm (every other one rotated), half spheres of radius 2-7 mm, in a cube of side
60 * (N / 50) ** (1/3) mm, so the solids are as crowded at every N. Both methods must find the same
overlapping pairs; the output shows both timings side by side and their ratio.

    .venv/bin/python -m benchmarks.bench_broadphase [--n 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time

from build123d import Location, Rot, Shape, Vector

from benchmarks import results
from engines.cad.primitives import box, sphere
from engines.cad.validate import common_volume_mm3, validate_geometry
from shared.models import BenchmarkArtifacts, BenchmarkDefinition, Box, GeometryReport, PartSpec, Payload
from shared.refs import make_ref

OVERLAP_MM3 = 1e-6


def random_solids(n: int, seed: int) -> list[Shape]:
    rng = random.Random(seed)
    side = 60.0 * (n / 50) ** (1 / 3)
    solids: list[Shape] = []
    for i in range(n):
        centre = Vector(rng.uniform(0, side), rng.uniform(0, side), rng.uniform(0, side))
        if i % 2 == 0:
            size = [rng.uniform(4, 12) for _ in range(3)]
            shape = box(tuple(-s / 2 for s in size), tuple(s / 2 for s in size))  # type: ignore[arg-type]
            if i % 4 == 0:
                shape = Rot(rng.uniform(0, 90), rng.uniform(0, 90), rng.uniform(0, 90)) * shape
            solids.append(Location(centre) * shape)
        else:
            solids.append(sphere((centre.X, centre.Y, centre.Z), rng.uniform(2, 7)))
    return solids


def definition_for(shapes: list[Shape]) -> BenchmarkDefinition:
    specs = []
    for i, shape in enumerate(shapes):
        bb = shape.bounding_box()
        specs.append(
            PartSpec(
                label=f"s{i}",
                role="fixture",
                material="abs",
                volume_mm3=shape.volume,
                mass_kg=1e-3,
                bbox=Box(min_mm=(bb.min.X, bb.min.Y, bb.min.Z), max_mm=(bb.max.X, bb.max.Y, bb.max.Z)),
            )
        )
    far = 1e4  # the payload and zones sit far away from the solids: only part/part checks matter here
    return BenchmarkDefinition(
        benchmark_id="bench",
        family="bench",
        seed=0,
        generator_version=1,
        fixtures=specs,
        payload=Payload(radius_mm=1, material="steel_carbon", start_mm=(far, far, far)),
        goal_zone=Box(min_mm=(far + 10, far, far), max_mm=(far + 20, far + 10, far + 10)),
        build_zone=Box(min_mm=(far - 10, far - 10, far - 10), max_mm=(far + 10, far + 10, far + 10)),
        simulation_bounds=Box(min_mm=(-far, -far, -far), max_mm=(2 * far, 2 * far, 2 * far)),
        artifacts=BenchmarkArtifacts(collision=make_ref("bench/collision.npz", b"")),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    shapes = random_solids(args.n, args.seed)
    definition = definition_for(shapes)
    by_label = {f"s{i}": s for i, s in enumerate(shapes)}

    def broadphase() -> tuple[float, GeometryReport]:
        started = time.perf_counter()
        report = validate_geometry(definition, by_label, tolerance_mm3=OVERLAP_MM3)
        return time.perf_counter() - started, report

    # Both methods warm (the first BRep boolean initialises OCCT), then the broadphase on either side of the
    # all-pairs run, its median: one short run is at the mercy of a burst of load on the shared machine.
    common_volume_mm3(shapes[0], shapes[1])
    runs = [broadphase()]
    started = time.perf_counter()
    truth = {
        (f"s{i}", f"s{j}")
        for i, j in itertools.combinations(range(len(shapes)), 2)
        if common_volume_mm3(shapes[i], shapes[j]) > OVERLAP_MM3
    }
    naive_s = time.perf_counter() - started
    runs += [broadphase(), broadphase()]
    broadphase_s, report = sorted(runs, key=lambda r: r[0])[1]
    found = {tuple(f.parts) for f in report.findings if f.rule == "part.interference"}
    truth = {tuple(sorted(pair)) for pair in truth}
    n_pairs = len(shapes) * (len(shapes) - 1) // 2

    print(f"{args.n} solids, {n_pairs} pairs, {len(truth)} overlapping (seed {args.seed})")
    print(f"{'method':<38}{'exact checks':>14}{'seconds':>10}")
    print(f"{'all-pairs exact BRep':<38}{n_pairs:>14}{naive_s:>10.3f}")
    print(f"{'validate_geometry (sweep + exact)':<38}{report.exact_checks:>14}{broadphase_s:>10.3f}")
    print(f"ratio all-pairs / broadphase: {naive_s / broadphase_s:.1f}x")
    results.report("broadphase_speedup", naive_s / broadphase_s)
    print(f"same overlapping pairs: {found == truth} ({len(found)} vs {len(truth)})")
    if found != truth:
        raise SystemExit(
            f"disagreement: only broadphase {sorted(found - truth)}, only naive {sorted(truth - found)}"
        )


if __name__ == "__main__":
    main()
