"""Where ``--embedded`` spends its start-up: the whole stack a command gets (a fresh dev server with our
search attributes, a client, both workers with the fork server warmed), timed per phase, ``--repeat`` times
on fresh ports and data directories, side by side with the fork server warming only after the server is up
(as it did before the two overlapped). The figure is the median time to a ready worker, overlapped. Python's
own start and imports come before any of this (a command's ``--embedded`` pays them too).

    .venv/bin/python -m benchmarks.bench_embedded [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
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
    print(f"\nsequential / overlapped: {before / after:.2f}x")
    report("embedded_start_seconds", after)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
