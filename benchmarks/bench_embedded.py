"""Where ``--embedded`` spends its start-up: the whole stack a command gets (a fresh dev server with our
search attributes, a client, both workers with the fork server warmed), timed per phase, ``--repeat`` times
on fresh ports and data directories, side by side with nothing overlapped (the server, then the worker's
imports and its fork server). A command also pays Python's start and its imports first, and overlaps the
worker's imports with the rest: so the figure is measured end to end, in a fresh interpreter that does what a
command does (imports the CLI, then starts the embedded stack): the median, over ``--repeat`` fresh processes,
of the seconds from spawning it to its worker being ready. The imports alone are printed beside it.

    .venv/bin/python -m benchmarks.bench_embedded [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


async def once(overlap: bool, ready: str | None = None) -> dict[str, float]:
    """One start of the stack on fresh ports and a fresh data directory: the phases' end times. ``ready`` is
    printed once the worker is ready (the fresh-process child's signal to :func:`command_s`)."""
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
            if ready is not None:
                print(ready, flush=True)
            return phases


def command_s() -> float:
    """Seconds from spawning a fresh interpreter to its embedded worker being ready, as a command gets it."""
    t0 = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_embedded", "--child"], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "READY":
                ready = time.perf_counter() - t0
                break
        else:
            raise RuntimeError(f"the child exited ({proc.wait()}) before its worker was ready")
        proc.wait()
    return ready


def child() -> None:
    """What a ``--embedded`` command does up to a ready worker: import the CLI, start the stack (:func:`once`)."""
    import workers.cli  # noqa: F401 - the console script's import
    from shared.logging import configure_logging

    configure_logging("WARNING")
    asyncio.run(once(overlap=True, ready="READY"))
    sys.stdout.flush()
    os._exit(0)


def imports_s() -> float:
    """Seconds for a fresh interpreter to start and import what an ``--embedded`` command imports."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import workers.cli, workers.worker"], check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
    from shared.logging import configure_logging

    configure_logging("WARNING")
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for _ in range(args.repeat):  # alternating, so both see the same machine
        for overlap in (False, True):
            runs[overlap].append(asyncio.run(once(overlap)))
    for overlap, label in ((False, "one after another"), (True, "overlapped (what commands do)")):
        print(f"\n--embedded start-up, {label}: {args.repeat} runs (median, min, max seconds)")
        for name in runs[overlap][0]:
            values = [r[name] for r in runs[overlap]]
            print(f"{name:<28} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    before = statistics.median(r["total"] for r in runs[False])
    after = statistics.median(r["total"] for r in runs[True])
    imports = statistics.median(imports_s() for _ in range(args.repeat))
    commands = [command_s() for _ in range(args.repeat)]
    command = statistics.median(commands)
    print(f"\none after another / overlapped: {before / after:.2f}x")
    print(f"interpreter start and imports alone (fresh process): {imports:.2f} s")
    print(
        f"a command's time to a ready worker (fresh process, end to end): {command:.2f} s "
        f"(runs: {', '.join(f'{c:.2f}' for c in commands)})"
    )
    report("embedded_start_seconds", command)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
