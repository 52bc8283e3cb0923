"""A worker started while its Temporal server is down waits for it (backoff, one log line a minute) and
serves as soon as the server answers: a real ``mechbench worker`` process, then a real dev server on its
port."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from shared.models import AnalyzeRequest, ManufacturingReport
from shared.settings import Settings
from shared.temporal import WF_ANALYZE_MANUFACTURING, connect_client, unreachable
from workers.devstack import DevServer

BRACKET = Path(__file__).parents[2] / "examples" / "bracket.step"
WAIT_S = 240.0
"""Upper bound for each condition below (a busy 2-core machine); they are met in seconds."""


class Output:
    """A process's merged stdout and stderr, read by a thread, as JSON log lines where they are."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def events(self, name: str) -> list[dict[str, object]]:
        found = []
        for line in list(self.lines):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event") == name:
                found.append(record)
        return found

    async def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while not condition():
            if self.proc.poll() is not None:
                await asyncio.sleep(0.2)  # the reader thread takes the last lines
                tail = "\n".join(self.lines[-15:])
                pytest.fail(f"the worker exited (rc {self.proc.returncode}) before {what}:\n{tail}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {WAIT_S:.0f} s:\n" + "\n".join(self.lines[-15:]))
            await asyncio.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def worker_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = _free_port()
    parts = tmp_path / "parts"
    parts.mkdir()
    shutil.copy(BRACKET, parts / "bracket.step")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "MECHBENCH_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "MECHBENCH_TASK_QUEUE": f"startup-{uuid.uuid4().hex[:8]}",
        "MECHBENCH_DATA_DIR": str(tmp_path / "data"),
        "MECHBENCH_PART_ROOTS": json.dumps([str(parts)]),
        "MECHBENCH_WORKER_CONCURRENCY": "1",
        "MECHBENCH_SIM_THREADS": "1",
        "MECHBENCH_LOG_LEVEL": "DEBUG",
        "MECHBENCH_LOG_JSON": "true",
        "MECHBENCH_DEV_PORT": str(port),
    }
    yield env


async def test_a_worker_started_before_its_server_waits_and_then_serves(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        [sys.executable, "-m", "workers.cli", "worker"],
        env=worker_env,
        cwd=tmp_path,  # no developer .env
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    out = Output(proc)
    server: DevServer | None = None
    try:
        # down: it says so once, clearly, and keeps trying (every attempt at DEBUG)
        await out.wait_for("a waiting line", lambda: bool(out.events("worker.waiting_for_server")))
        (waiting,) = out.events("worker.waiting_for_server")
        assert waiting["address"] == worker_env["MECHBENCH_TEMPORAL_ADDRESS"]
        assert "unreachable" in str(waiting["detail"]) and waiting["level"] == "warning"
        await out.wait_for("three attempts", lambda: len(out.events("worker.connect_retry")) >= 3)
        assert proc.poll() is None and len(out.events("worker.waiting_for_server")) == 1

        # up: a dev server on that port; the worker connects and serves work
        settings = Settings(
            data_dir=tmp_path / "server",
            dev_port=int(worker_env["MECHBENCH_DEV_PORT"]),
            temporal_address=worker_env["MECHBENCH_TEMPORAL_ADDRESS"],
        )
        server = DevServer(settings, ui=False)
        server.start()
        await server.wait_ready()
        await out.wait_for("the connection", lambda: bool(out.events("worker.connected")))
        await out.wait_for("the worker start", lambda: bool(out.events("worker.started")))
        client = await connect_client(settings)
        part = Path(json.loads(worker_env["MECHBENCH_PART_ROOTS"])[0]) / "bracket.step"
        report: ManufacturingReport = await client.execute_workflow(
            WF_ANALYZE_MANUFACTURING,
            AnalyzeRequest(
                part={"path": str(part)},  # type: ignore[arg-type]
                method="cnc",
                material="aluminum_6061",
                quantity=10,
            ),
            id=f"startup-{uuid.uuid4().hex[:6]}",
            task_queue=worker_env["MECHBENCH_TASK_QUEUE"],
            result_type=ManufacturingReport,
            execution_timeout=timedelta(seconds=WAIT_S),
        )
        assert report.quantity == 10 and proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if server is not None:
            await asyncio.to_thread(server.stop)


async def test_only_an_unreachable_server_is_waited_for() -> None:
    """What the SDK raises for a port nothing listens on is waited for; a malformed address is not."""
    for address, reason in ((f"127.0.0.1:{_free_port()}", "Connection refused"), ("bad address", None)):
        with pytest.raises(Exception) as info:
            await connect_client(Settings(temporal_address=address))
        assert unreachable(info.value) == reason
