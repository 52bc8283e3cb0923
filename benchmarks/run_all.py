"""Run every benchmark in turn (`make bench`). Each prints its own side-by-side table and ratios."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    "benchmarks.bench_sim_loop",
    "benchmarks.bench_broadphase",
    "benchmarks.bench_dataset",
    "benchmarks.bench_analysis",
    "benchmarks.bench_render",
    "benchmarks.bench_evaluation",
    "benchmarks.bench_certify",
]


def main() -> None:
    failed = []
    for mod in BENCHES:
        print(f"\n=== {mod} ===", flush=True)
        if subprocess.call([sys.executable, "-m", mod]) != 0:
            failed.append(mod)
    if failed:
        sys.exit(f"failed: {failed}")


if __name__ == "__main__":
    main()
