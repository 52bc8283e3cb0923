"""All configuration, read once from the environment (prefix ``MECHBENCH_``) or a ``.env`` file.

Nothing else in the code base reads environment variables; the few that libraries read are set from here
(:meth:`Settings.export_library_environment`).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import webhooks
from shared.models.benchmark import STRUCTURE_SAFETY_FACTOR
from shared.models.common import OpenShare, PerturbationCount, RandomDesignCount


def _default_data_dir() -> Path:
    return Path.cwd() / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MECHBENCH_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    # --- Temporal -----------------------------------------------------------------------------
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_server_name: str | None = None
    temporal_tls_ca_cert: Path | None = None
    temporal_tls_client_cert: Path | None = None
    temporal_tls_client_key: Path | None = None
    temporal_api_key: SecretStr | None = None
    task_queue: str = "mechbench"
    """Workflows and light activities; heavy activities use ``<task_queue>-heavy``."""

    # --- Embedded dev stack -------------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir)
    dev_ip: str = "127.0.0.1"
    dev_port: int = 7233
    dev_ui_port: int = 8233

    # --- Worker -------------------------------------------------------------------------------
    worker_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1)
    """Heavy activities run at once per worker (each in its own child process)."""
    sim_threads: int | None = Field(default=None, ge=1)
    """Threads stepping jittered scenes inside one simulation job (MuJoCo releases the GIL). Default: the
    cores divided among the concurrent heavy jobs, so a busy worker does not oversubscribe the machine."""
    max_dataset_count: int = Field(default=400, ge=1)
    mujoco_gl: Literal["egl", "osmesa", "glfw", "disabled"] = "egl"
    """OpenGL backend for evidence pictures (``MUJOCO_GL`` of the job processes). EGL renders on a CPU-only
    machine through Mesa; ``disabled`` stores evaluations without pictures."""
    graceful_shutdown_s: float = 10.0
    stall_timeout_s: float = Field(default=150.0, ge=1)
    """A heavy job that shows no sign of progress for this long is stalled: it is killed and its attempt fails
    with the retryable ``JobStalled`` error naming its stage. Signs of progress: a report (a new stage, a finished
    scene, simulation steps, which running simulations report every few seconds), or CPU time spent by the job's
    processes (inside one long native call, such as an OCCT operation, a job cannot report). Keep it above
    ``sandbox_wall_s``: a sandboxed script that sleeps is ended by its own wall-clock limit."""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve Prometheus metrics (the Temporal SDK's and mechbench's) at ``http://<metrics_host>:<port>/metrics``
    from ``mechbench worker`` and ``mechbench dev``; unset: no metrics endpoint."""
    metrics_host: str = "127.0.0.1"
    """Interface of the metrics endpoint (``0.0.0.0`` in a container)."""

    # --- Completion webhooks (shared/webhooks.py, activities/notify.py) --------------------------
    webhook_targets: dict[str, SecretStr] = Field(default_factory=dict)
    """Named receivers, name -> URL (a token may ride in its path or query): a request names the target
    (``"webhook": "ops"``), so the URL and its token stay on the worker, out of workflow history. JSON object
    in the environment."""
    webhook_allow_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    """Non-public networks notifications may reach, e.g. ``["127.0.0.0/8", "::1/128"]`` for a receiver on
    this machine (tests, one-machine setups). Unset: only publicly routable addresses. JSON list."""

    @field_validator("webhook_targets")
    @classmethod
    def _targets(cls, targets: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, url in targets.items():
            if not webhooks.is_target_name(name):
                raise ValueError(f"{name!r}: a target name is {webhooks.TARGET_NAME.pattern}")
            problem = webhooks.url_form_problem(url.get_secret_value())
            if problem:  # the URL itself stays out of the message
                raise ValueError(f"{name}: {problem}")
        return targets

    # --- Proof thresholds -------------------------------------------------------------------
    max_reference_unit_cost_usd: float = Field(default=300.0, gt=0)
    """A family whose reference solution costs more than this is not affordable: made parts and bought parts
    together (model assumption: a belt-driven linear module alone lists at about $110)."""
    max_reference_weight_kg: float = Field(default=5.0, gt=0)
    caps_headroom: float = Field(default=1.5, ge=1)
    benchmark_target_quantity: int = Field(default=100, ge=1)
    """Quantity at which a benchmark's reference solution is quoted to set its cost cap."""

    # --- Certification proofs (engines/certify) -------------------------------------------------
    random_designs: RandomDesignCount = 1000
    """N: random designs the ``not_trivial_random`` proof simulates per benchmark. At 1000 with none solving,
    the 95 % upper bound of the solve rate is 0.3 %."""
    trivial_threshold: OpenShare = 0.10
    """A benchmark is trivial when the random solve rate's upper confidence bound is at or above this. PHYRE
    (Bakhtin et al. 2019, "PHYRE: A New Benchmark for Physical Reasoning", NeurIPS) calls a task trivial when
    10 % of random attempts solve it."""
    random_confidence: OpenShare = 0.95
    """Confidence of the one-sided Clopper-Pearson bounds of the random solve rate."""
    random_shard_size: int = Field(default=250, ge=1)
    """Random designs per heavy activity; a larger N runs as parallel shards (model assumption: about 10 s of
    work each on one core, so a retry repeats little)."""
    robust_perturbations: PerturbationCount = 16
    """K: perturbed copies of the reference solution the ``robust`` proof simulates."""
    robust_required_share: float = Field(default=0.75, gt=0, le=1)
    """Share of the K perturbed references that must still solve (model assumption: the solvable proof's own
    required share of scenes)."""

    # --- Manufacturing analysis ---------------------------------------------------------------
    part_roots: list[Path] = Field(default_factory=lambda: [Path.cwd()])
    """Directories a request may name part files under (``part.path``); JSON list in the environment."""
    max_part_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    shop_parallel_machines: int | None = Field(default=None, ge=1)
    """Machines (mills, presses, printers) the shop runs one order on at once, for lead times; unset: each
    method's catalogue default (``lead_time.parallel_machines`` in ``methods/<method>.toml``). The analysis
    activity passes it to ``load_catalog(..., parallel_machines=...)``."""

    # --- Agents: the Gymnasium environment and the MCP server ---------------------------------
    agent_attempts: int = Field(default=3, ge=1, le=100)
    """Attempts per episode of the ``mechbench/Design-v0`` environment (AUCCESS counts up to 100)."""
    mcp_token: SecretStr | None = None
    """Bearer token that ``mechbench mcp --http`` requires of every request; it refuses to bind to an address
    other than loopback without one."""
    evaluations_per_submitter: int = Field(default=4, ge=1, le=1000)
    """Evaluations of one submitter that run at once; later ones wait (in their workflow, on a timer) until
    fewer of the submitter's earlier evaluations are running."""
    held_out_secret: SecretStr | None = None
    """Derives each benchmark's held-out jitter seed (the scenes of evaluations with a submitter). Unset: a
    random secret made once and kept in the object store. Set it on every worker of a cluster."""

    # --- Structural check (engines/physics/structure_check.py) ---------------------------------
    structure_safety_factor: float = Field(default=STRUCTURE_SAFETY_FACTOR, ge=1, le=10)
    """A load-bearing part of a structural benchmark breaks when its peak von Mises stress exceeds its
    material's yield (ultimate for brittle and printed materials) divided by this."""

    # --- Sandbox for untrusted scripts (runtime/sandbox.py) -----------------------------------
    sandbox_wall_s: float = Field(default=120.0, gt=0)
    sandbox_cpu_s: int = Field(default=90, ge=1)
    sandbox_memory_mb: int = Field(default=3072, ge=1280)
    """Address-space limit; importing build123d alone needs about 1 GiB."""
    sandbox_file_size_mb: int = Field(default=64, ge=1)
    """Largest file a script may write, and the largest STEP result accepted."""
    sandbox_max_open_files: int = Field(default=64, ge=16)
    sandbox_require_confinement: bool = True
    """Refuse to run scripts where Landlock is unavailable (False runs them with rlimits only)."""
    sandbox_zygote: bool = True
    """Fork each script's process from a warm zygote that imported build123d once (runtime/sandbox_zygote.py)
    instead of starting a fresh interpreter per script (about 2.5 s of imports); confinement is the same."""

    # --- Object store -------------------------------------------------------------------------
    store: Literal["local", "s3"] = "local"
    store_dir: Path | None = None
    """Local store root; defaults to ``<data_dir>/store``."""
    s3_endpoint: str = "localhost:9000"
    s3_access_key: SecretStr = SecretStr("minioadmin")
    s3_secret_key: SecretStr = SecretStr("minioadmin")
    s3_bucket: str = "mechbench"
    s3_secure: bool = False
    s3_region: str | None = None

    # --- Logging ------------------------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _stall_bound_above_the_sandbox_wall(self) -> Settings:
        if self.stall_timeout_s <= self.sandbox_wall_s:
            raise ValueError(
                f"stall_timeout_s ({self.stall_timeout_s:g}) must be above sandbox_wall_s "
                f"({self.sandbox_wall_s:g}): a sandboxed script that waits is ended by its own wall-clock limit, "
                "as a deterministic failure, not as a stalled job retried 6 times"
            )
        return self

    @property
    def scene_threads(self) -> int:
        return self.sim_threads or max(1, (os.cpu_count() or 2) // self.worker_concurrency)

    def to_private_json(self) -> str:
        """Full JSON including secret values, for handing settings to our own child processes over a pipe
        (never argv or logs)."""
        data = self.model_dump(mode="python")
        for name, value in data.items():
            if isinstance(value, SecretStr):
                data[name] = value.get_secret_value()
            elif isinstance(value, dict):  # webhook_targets
                data[name] = {
                    k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in value.items()
                }
        return json.dumps(data, default=str)

    def export_library_environment(self) -> None:
        """Hand the settings that libraries read from the environment to them (this process and its
        children): ``MUJOCO_GL``, which MuJoCo reads once, when first imported. Call before that import."""
        if self.mujoco_gl != "disabled":
            os.environ["MUJOCO_GL"] = self.mujoco_gl

    @property
    def local_store_dir(self) -> Path:
        return self.store_dir or (self.data_dir / "store")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
