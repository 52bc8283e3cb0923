"""Where ``--embedded`` spends its start-up: the whole stack a command gets (a fresh dev server with our
search attributes, a client, both workers with the fork server warmed), timed per phase, ``--repeat`` times
on fresh ports and data directories, side by side with the fork server warming only after the server is up
(as it did before the two overlapped). A command also pays Python's start and its imports first: measured
apart, in a fresh interpreter (``python -c "import workers.cli, workers.worker"``). The figure is the median
of both together: a command's time to a ready worker.

    .venv/bin/python -m benchmarks.bench_embedded [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from benchmarks.results import report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def once(overlap: bool) -> dict[str, float]:
    from shared.settings import Settings
    from workers.cli.runner import connect_embedded_or_remote

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            store="local",
            log_level="WARNING",
            dev_port=free_port(),
            dev_ui_port=free_port(),
        )
        async with AsyncExitStack() as stack:
            phases: dict[str, float] = {}
            t0 = time.perf_counter()
            await connect_embedded_or_remote(
                stack, settings, embedded=True, ui=False, phases=phases, overlap=overlap
            )
            phases["total"] = time.perf_counter() - t0
            return phases


def imports_s() -> float:
    """Seconds for a fresh interpreter to start and import what an ``--embedded`` command imports."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import workers.cli, workers.worker"], check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from shared.logging import configure_logging

    configure_logging("WARNING")
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for _ in range(args.repeat):  # alternating, so both see the same machine
        for overlap in (False, True):
            runs[overlap].append(asyncio.run(once(overlap)))
    for overlap, label in ((False, "fork server after the server"), (True, "overlapped (what commands do)")):
        print(f"\n--embedded start-up, {label}: {args.repeat} runs (median, min, max seconds)")
        for name in runs[overlap][0]:
            values = [r[name] for r in runs[overlap]]
            print(f"{name:<28} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    before = statistics.median(r["total"] for r in runs[False])
    after = statistics.median(r["total"] for r in runs[True])
    imports = statistics.median(imports_s() for _ in range(args.repeat))
    print(f"\nsequential / overlapped: {before / after:.2f}x")
    print(f"interpreter start and imports (fresh process): {imports:.2f} s")
    print(f"a command's time to a ready worker: {imports + after:.2f} s")
    report("embedded_start_seconds", imports + after)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
