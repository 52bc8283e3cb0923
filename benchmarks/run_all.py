"""Run every benchmark in turn (`make bench`). Each prints its own side-by-side table and ratios; the figures
they report (:mod:`benchmarks.results`) are collected into ``bench-results.json`` and printed as one table at
the end. Not a test: nothing gates on the goals.

    .venv/bin/python -m benchmarks.run_all [--out bench-results.json] [--only bench_sim_loop ...] [--scale]

``--scale`` (``make bench SCALE=1``) also runs the scale test (:mod:`benchmarks.bench_scale`, a 400-benchmark
dataset: about an hour on 2 cores), after the others.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from benchmarks.results import GOALS, parse, table

BENCHES = [
    "benchmarks.bench_sim_loop",
    "benchmarks.bench_broadphase",
    "benchmarks.bench_dataset",
    "benchmarks.bench_analysis",
    "benchmarks.bench_render",
    "benchmarks.bench_evaluation",
    "benchmarks.bench_embedded",
    "benchmarks.bench_certify",
    "benchmarks.bench_structure",
]
SCALE = "benchmarks.bench_scale"
"""Not in the default run: it takes about an hour on 2 cores."""


def run(module: str) -> tuple[int, list[dict[str, object]]]:
    """Run one benchmark, echoing its output; its exit code and the figures it reported."""
    entries = []
    with subprocess.Popen(
        [sys.executable, "-m", module], stdout=subprocess.PIPE, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            entry = parse(line)
            if entry is not None:
                entries.append(entry)
    return proc.returncode, entries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--only", nargs="*", help="module names without the package, e.g. bench_sim_loop")
    parser.add_argument(
        "--scale", action="store_true", help="also run the scale test (benchmarks.bench_scale)"
    )
    args = parser.parse_args()
    modules = [m for m in BENCHES if not args.only or m.rsplit(".", 1)[1] in args.only]
    if args.scale:
        modules.append(SCALE)
    failed, entries = [], []
    for mod in modules:
        print(f"\n=== {mod} ===", flush=True)
        code, got = run(mod)
        entries += got
        if code != 0:
            failed.append(mod)
    missing = sorted(set(GOALS) - {str(e["name"]) for e in entries})
    args.out.write_text(json.dumps(entries, indent=2) + "\n")
    print(f"\n=== figures ({args.out}) ===\n{table(entries)}")
    if missing and not args.only:
        print(f"not measured: {', '.join(missing)}")
    if failed:
        sys.exit(f"failed: {failed}")


if __name__ == "__main__":
    main()
