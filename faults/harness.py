"""The stage the fault suite plays on: a file-backed Temporal dev server, mechbench workers as separate
processes (so they can be SIGKILLed), an optional S3 endpoint that can be stopped and started, and the
checks that decide whether anything was lost.

The driver makes itself a *child subreaper*: a process orphaned by a killed worker (its fork server, a job,
a sandboxed script) is re-parented to the driver instead of init, so an orphan cannot hide.

Over 400 lines because :class:`Stack` (server, workers, store and their teardown, about half of it) is one
lifecycle whose start, kill and close steps share its state, and the process and store checks beside it are
what its callers use with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from runtime.sandbox_zygote import MODULE as ZYGOTE_MODULE
from shared.models import ArtifactRef
from shared.process import is_job_process
from shared.settings import Settings
from shared.store import TEMP_PREFIX, LocalStore, ObjectStore, make_store
from shared.temporal import DATA_CONVERTER
from workers.devstack import DevServer

PR_SET_CHILD_SUBREAPER = 36
ORPHAN_GRACE_S = 5.0
"""How long after a worker's death its fork server and jobs may take to end before they count as orphans."""
S3_KEYS = ("faults", "faults-secret")
T = TypeVar("T")


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_of(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/children") as fh:
            out += [int(x) for x in fh.read().split()]
    return out


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in _children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def jobs_of(worker_pid: int) -> list[int]:
    """The heavy-job processes below a worker and what they run: the fork server's children named as jobs
    (``shared.process.JOB_PROCESS_NAME``; the fork server and its sandbox zygote live as long as the worker)
    with their descendants, and the scripts the zygote forks for them."""
    fork = forkserver_of(worker_pid)
    if fork is None:
        return []
    kids = _children_of(fork)
    top = [c for c in kids if is_job_process(c)]
    top += [s for z in kids if ZYGOTE_MODULE in cmdline(z) for s in _children_of(z)]
    return top + [d for c in top for d in descendants(c)]


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def forkserver_of(worker_pid: int) -> int | None:
    """The worker's fork server: its child running ``runtime.forkserver``."""
    return next((c for c in _children_of(worker_pid) if "runtime.forkserver" in cmdline(c)), None)


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


@dataclass
class WorkerProcess:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class S3Endpoint:
    """moto's S3 server in a thread of the driver, on a fixed port so it can be stopped and started again.
    The buckets live in this process's memory, so they survive a stop/start of the endpoint."""

    port: int = field(default_factory=free_port)
    _server: Any = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        for _ in range(100):
            if _port_open(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"moto did not start on port {self.port}")

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Stack:
    """One throwaway mechbench deployment under ``root``: server, workers, store, private temp directory."""

    def __init__(
        self,
        root: Path,
        *,
        queue: str = "faults",
        worker_concurrency: int = 1,
        s3: S3Endpoint | None = None,
        part_roots: list[Path] | None = None,
    ) -> None:
        self.root = root
        self.queue = queue
        self.s3 = s3
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.data = root / "data"
        store: dict[str, Any] = {"store": "local", "store_dir": root / "store"}
        if s3 is not None:
            store = {
                "store": "s3",
                "s3_endpoint": s3.endpoint,
                "s3_access_key": S3_KEYS[0],
                "s3_secret_key": S3_KEYS[1],
                "s3_bucket": "faults",
            }
        port = free_port()
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=self.data,
            dev_port=port,
            dev_ui_port=free_port(),
            temporal_address=f"127.0.0.1:{port}",
            task_queue=queue,
            worker_concurrency=worker_concurrency,
            sim_threads=1,
            part_roots=part_roots or [root],
            **store,
        )
        self.server = DevServer(self.settings, ui=False)
        self.workers: list[WorkerProcess] = []
        self._spawned = 0
        self.client: Client | None = None

    @property
    def _address(self) -> str:
        return self.settings.temporal_address

    # --- Temporal server -------------------------------------------------------------------------

    async def start_server(self) -> None:
        self.server.start()
        await self.server.wait_ready()
        self.client = await Client.connect(
            self._address, namespace=self.settings.temporal_namespace, data_converter=DATA_CONVERTER
        )

    def kill_server(self) -> None:
        """SIGKILL the dev server: no shutdown, whatever SQLite has committed is what survives."""
        proc, self.server.proc = self.server.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    async def restart_server(self) -> None:
        """Start the server again on the same database file and ports."""
        self.server = DevServer(self.settings, ui=False)
        self.server.start()
        await self.server.wait_ready()

    # --- workers -------------------------------------------------------------------------------------

    def worker_env(self) -> dict[str, str]:
        s = self.settings
        env = {
            "PATH": "/usr/bin:/bin",  # nothing of the driver's environment leaks in; python is called by path
            "HOME": str(self.root),
            "TMPDIR": str(self.tmp),
            "MECHBENCH_TEMPORAL_ADDRESS": self._address,
            "MECHBENCH_TASK_QUEUE": s.task_queue,
            "MECHBENCH_DATA_DIR": str(s.data_dir),
            "MECHBENCH_WORKER_CONCURRENCY": str(s.worker_concurrency),
            "MECHBENCH_SIM_THREADS": "1",
            "MECHBENCH_PART_ROOTS": json.dumps([str(p) for p in s.part_roots]),
            "MECHBENCH_STORE": s.store,
            "MECHBENCH_LOG_LEVEL": "WARNING",
            "MECHBENCH_GRACEFUL_SHUTDOWN_S": "2",
        }
        if s.store == "s3":
            env |= {
                "MECHBENCH_S3_ENDPOINT": s.s3_endpoint,
                "MECHBENCH_S3_ACCESS_KEY": s.s3_access_key.get_secret_value(),
                "MECHBENCH_S3_SECRET_KEY": s.s3_secret_key.get_secret_value(),
                "MECHBENCH_S3_BUCKET": s.s3_bucket,
            }
        elif s.store_dir is not None:
            env["MECHBENCH_STORE_DIR"] = str(s.store_dir)
        return env

    def spawn_worker(self) -> WorkerProcess:
        self._spawned += 1
        name = f"worker-{self._spawned}"
        log = self.root / f"{name}.log"
        with open(log, "ab") as fh:
            proc = subprocess.Popen(
                # dies with the driver (PR_SET_PDEATHSIG), so an interrupted suite leaves no worker behind
                [sys.executable, "-m", "shared.process", sys.executable, "-m", "workers.cli", "worker"],
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.worker_env(),
                cwd=self.root,  # no developer .env
            )
        w = WorkerProcess(name, proc, log)
        self.workers.append(w)
        return w

    def kill_worker(self, w: WorkerProcess) -> None:
        """SIGKILL the worker process alone: its fork server and jobs must go by themselves."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(w.pid, signal.SIGKILL)
        w.proc.wait()
        self.workers.remove(w)

    def stop_worker(self, w: WorkerProcess, timeout: float = 30.0) -> None:
        """SIGTERM: the worker's graceful shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(w.pid, signal.SIGTERM)
        try:
            w.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        self.workers.remove(w)

    def ready(self, w: WorkerProcess) -> bool:
        """The worker's fork server listens (the worker polls for tasks right after)."""
        return any(self.tmp.glob(f"mechbench-fork-{w.pid}-*/jobs.sock"))

    async def wait_workers_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.ready(w) for w in self.workers):
                await asyncio.sleep(0.5)
                return
            dead = [w.name for w in self.workers if not w.alive()]
            if dead:
                raise RuntimeError(f"{dead} exited at start; see {self.root}/*.log")
            await asyncio.sleep(0.2)
        raise RuntimeError(f"workers not ready after {timeout:.0f} s; see {self.root}/*.log")

    # --- orphans and leftovers ---------------------------------------------------------------------

    def orphans(self) -> list[int]:
        """Live processes re-parented to the driver that are not the server, a live worker or a CPU burner.
        Zombies (orphans that already ended) are reaped on the way."""
        known = {w.pid for w in self.workers} | CpuBurner.pids
        if self.server.proc is not None:
            known.add(self.server.proc.pid)
        found = []
        for pid in _children_of(os.getpid()):
            if pid in known:
                continue
            if _state(pid) == "Z":
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                continue
            found.append(pid)
        return found

    async def orphans_after(self, grace_s: float = ORPHAN_GRACE_S) -> list[int]:
        """Orphans that are still alive ``grace_s`` after a kill (PR_SET_PDEATHSIG takes a moment)."""
        deadline = time.monotonic() + grace_s
        while True:
            found = self.orphans()
            if not found or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.2)

    async def orphan_fate(self, pid: int, role: str, killed_at: float, watch_s: float = 30.0) -> str:
        """What became of an orphan found after a kill, for the report: what it was, and whether it ended by
        itself within ``watch_s`` (a slow exit) or not at all (then it is SIGKILLed, so it cannot disturb the
        next checks)."""
        what = f"{pid} ({role}: {cmdline(pid)[:70]})"
        deadline = time.monotonic() + watch_s
        while time.monotonic() < deadline:
            if _state(pid) in ("Z", "X"):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 - a zombie: WNOHANG returns at once
                return f"{what} exited {time.monotonic() - killed_at:.1f} s after the kill"
            await asyncio.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return f"{what} still alive {time.monotonic() - killed_at:.0f} s after the kill"

    def temp_leftovers(self) -> list[str]:
        """Entries in the workers' private temporary directory."""
        return sorted(p.name for p in self.tmp.iterdir())

    def store(self) -> ObjectStore:
        return make_store(self.settings)

    def job_processes(self) -> list[int]:
        """Heavy-job processes running under the live workers."""
        return [pid for w in self.workers for pid in self.job_processes_of(w)]

    @staticmethod
    def job_processes_of(w: WorkerProcess) -> list[int]:
        return jobs_of(w.pid)

    async def close(self) -> list[int]:
        """Stop the workers gracefully and the server; returns the processes that outlived them (then kills
        them)."""
        for w in list(self.workers):
            self.stop_worker(w)
        self.client = None
        await asyncio.to_thread(self.server.stop)
        left = await self.orphans_after()
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return left


# --- load ------------------------------------------------------------------------------------------

BURN_CODE = (
    "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass"
)
BURN_MAX_S = 2 * 3600.0
"""A burner ends by itself after this long, whatever happens to the suite."""


class CpuBurner:
    """One busy-looping process per core (``python -m faults --burn``): the suite runs on a machine whose cores
    are all at 100 %, as when other work shares it. Each burner ends by itself after ``max_s`` and dies with
    the driver (PR_SET_PDEATHSIG); :meth:`stop` ends them sooner. Burners are children of the driver, so the
    orphan checks know their pids and skip them."""

    pids: ClassVar[set[int]] = set()
    """Every live burner's pid (class-wide: the stacks' orphan checks read it)."""

    def __init__(self, processes: int | None = None, max_s: float = BURN_MAX_S) -> None:
        self.processes = processes or os.cpu_count() or 1
        self.max_s = max_s
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for _ in range(self.processes):
            proc = subprocess.Popen(
                [sys.executable, "-m", "shared.process", sys.executable, "-c", BURN_CODE, str(self.max_s)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self._procs.append(proc)
            CpuBurner.pids.add(proc.pid)

    def stop(self) -> None:
        for proc in self._procs:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        for proc in self._procs:
            proc.wait()
            CpuBurner.pids.discard(proc.pid)
        self._procs.clear()


# --- waiting through outages ----------------------------------------------------------------------


async def through_outages(call: Callable[[], Awaitable[T]], timeout_s: float, what: str) -> T:
    """``call()`` retried while the server is unreachable (RPC errors), up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await call()
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1.0)
        except TimeoutError as e:
            raise TimeoutError(f"{what}: no answer in {timeout_s:.0f} s") from e


async def wait_closed(handle: WorkflowHandle[Any, Any], timeout_s: float) -> WorkflowExecutionStatus:
    """Poll ``describe`` (tolerating server outages) until the workflow is no longer running."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            desc = await handle.describe()
            if desc.status != WorkflowExecutionStatus.RUNNING:
                assert desc.status is not None
                return desc.status
        except RPCError:
            pass
        await asyncio.sleep(1.0)
    raise TimeoutError(f"workflow {handle.id} still running after {timeout_s:.0f} s")


# --- the store holds nothing half-written ---------------------------------------------------------


@dataclass
class StoreAudit:
    objects: int = 0
    refs_checked: int = 0
    bad: list[str] = field(default_factory=list)
    temp_files: int = 0
    """LocalStore ``.tmp-*`` files: writes cut short by a kill. Never listed nor readable as objects."""


def _refs(value: Any) -> list[ArtifactRef]:
    """Every artifact reference inside a decoded JSON document."""
    found: list[ArtifactRef] = []
    if isinstance(value, dict):
        if {"key", "sha256", "size_bytes"} <= value.keys():
            with contextlib.suppress(ValueError):
                found.append(ArtifactRef.model_validate(value))
        for v in value.values():
            found += _refs(v)
    elif isinstance(value, list):
        for v in value:
            found += _refs(v)
    return found


def audit_store(store: ObjectStore) -> StoreAudit:
    """Every visible JSON object parses, and every artifact it references exists with its sha256 and size."""
    audit = StoreAudit()
    for key in store.list():
        audit.objects += 1
        if not key.endswith(".json"):
            continue
        try:
            doc = store.get_json(key)
        except Exception as e:  # noqa: BLE001 - the finding is the point
            audit.bad.append(f"{key}: unreadable ({e})")
            continue
        for ref in _refs(doc):
            audit.refs_checked += 1
            try:
                store.get_ref(ref)
            except Exception as e:  # noqa: BLE001
                audit.bad.append(f"{key} -> {ref.key}: {type(e).__name__} {e}")
    if isinstance(store, LocalStore):
        audit.temp_files = sum(1 for p in store.root.rglob(f"{TEMP_PREFIX}*"))
    return audit
