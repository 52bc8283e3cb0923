"""``python -m faults [--quick] [--only NAME ...] [--burn] [--repeat N]``: inject every fault into a real mechbench
deployment and print what survived. Exit status 0 when every fault was survived with no work lost, 1 otherwise.

Each scenario starts its own embedded Temporal server (SQLite file), workers as separate processes and a store
in a fresh directory, so scenarios cannot leak into each other. ``--quick`` is the shortened run CI makes.
``--burn`` keeps every core at 100 % while the scenarios run (one busy-looping process per core, stopped by the
suite, each ending by itself after at most :data:`faults.harness.BURN_MAX_S`), as when other work shares the
machine; ``--repeat N`` runs the chosen scenarios N times in a row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

from faults.harness import CpuBurner, become_subreaper
from faults.scenarios.cancel import cancellations
from faults.scenarios.common import Row
from faults.scenarios.datasets import server_restart, store_outage, worker_kills
from faults.scenarios.inputs import escapes, fuzz
from faults.scenarios.replay import replay_guard
from faults.scenarios.soak import soak

Scenario = Callable[[Path, bool], Awaitable[list[Row]]]

SCENARIOS: dict[str, Scenario] = {
    "kills": lambda root, quick: worker_kills(root, benchmarks=8 if quick else 24, kills=4 if quick else 12),
    "server": lambda root, quick: server_restart(
        root, benchmarks=6 if quick else 12, restarts=1 if quick else 3
    ),
    "store": lambda root, quick: store_outage(
        root, benchmarks=6 if quick else 12, outages=1 if quick else 2, down_s=8.0 if quick else 20.0
    ),
    "cancel": lambda root, quick: cancellations(root),
    "replay": lambda root, quick: replay_guard(root),
    "escapes": lambda root, quick: escapes(root),
    "fuzz": lambda root, quick: fuzz(root, per_type=100 if quick else 1000),
    "soak": lambda root, quick: soak(root, simulations=40 if quick else 200),
}


QUICK_SKIPS = {"escapes": "tests/engine/test_escapes.py runs in `make test` itself"}
"""Scenarios the quick run leaves out, and why."""


def table(rows: list[Row]) -> str:
    head = ("fault", "injected", "survived", "work lost", "time")
    body = [(r.fault, str(r.injected), str(r.survived), str(r.work_lost), f"{r.seconds:.0f} s") for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    line = lambda cells: "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    out = [line(head), line(tuple("-" * w for w in widths))]
    for r, cells in zip(rows, body, strict=True):
        out.append(line(cells) + ("" if r.ok else "   <-- FAILED"))
        out += [f"    {n}" for n in r.notes]
    return "\n".join(out)


async def run(names: list[str], quick: bool, root: Path, burn: bool = False, repeat: int = 1) -> list[Row]:
    become_subreaper()
    rows: list[Row] = []
    burner = CpuBurner()
    if burn:
        burner.start()
        print(f"(burning {burner.processes} cores)", flush=True)
    try:
        for i in range(repeat):
            rows += await _run_once(names, quick, root / f"run-{i + 1}" if repeat > 1 else root)
    finally:
        burner.stop()
    return rows


async def _run_once(names: list[str], quick: bool, root: Path) -> list[Row]:
    rows: list[Row] = []
    for name in names:
        started = time.monotonic()
        print(f"== {name} ...", flush=True)
        try:
            got = await SCENARIOS[name](root / name, quick)
        except Exception as e:  # noqa: BLE001 - a scenario that crashes is a fault not survived
            got = [Row(name, 1, 0, 1, [f"the scenario crashed: {type(e).__name__}: {e}"])]
        for r in got:
            r.seconds = r.seconds or time.monotonic() - started
        rows += got
        print(table(got), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the shortened run CI makes")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="run these scenarios only")
    parser.add_argument("--workdir", type=Path, help="where stacks live (default: a temporary directory)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (logs, stores, databases)"
    )
    parser.add_argument("--report", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--burn",
        action="store_true",
        help="keep every core at 100 %% with one busy-looping process per core while the scenarios run",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run the scenarios N times in a row"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: at least 1")

    root = args.workdir or Path(tempfile.mkdtemp(prefix="mechbench-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    names = args.only or [n for n in SCENARIOS if not (args.quick and n in QUICK_SKIPS)]
    for name in set(SCENARIOS) - set(names) if args.quick and not args.only else ():
        print(f"(quick run: {name} left out: {QUICK_SKIPS[name]})")
    rows = asyncio.run(run(names, args.quick, root, burn=args.burn, repeat=args.repeat))
    print(f"\nfault suite ({'quick' if args.quick else 'full'}), work directory {root}\n")
    print(table(rows))
    if args.report:
        args.report.write_text(json.dumps([asdict(r) | {"ok": r.ok} for r in rows], indent=2))
    ok = all(r.ok for r in rows)
    if not args.keep and ok and args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    print("\nevery fault survived, no work lost" if ok else "\nSOME FAULTS WERE NOT SURVIVED (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the Temporal SDK can abort at interpreter exit (sdk-python #300)
