"""Temporal plumbing shared by clients, workers, tests and the Replayer: one converter, one client factory,
the search attributes, and the activity timeout/retry profiles.

Light imports only: workflow modules import this inside the sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter

from shared.heavy import (
    BUILD_BENCHMARK,
    BUILD_DESIGN,
    EXTRACT_PART_FACTS,
    RANDOM_PROOF,
    RENDER_EVIDENCE,
    ROBUST_PROOF,
    RUN_PART_SCRIPT,
    SIMULATE_BENCHMARK,
    HeavyJobSpec,
)
from shared.models import DETERMINISTIC_ERRORS

if TYPE_CHECKING:
    from temporalio.client import Client

    from shared.settings import Settings

DATA_CONVERTER = pydantic_data_converter
"""The one data converter: clients, workers, tests and the Replayer all use it."""

# --- Search attributes (dev server budget: at most 10 Keyword and 3 of each other type) ---------
SA_FAMILY = SearchAttributeKey.for_keyword("MechbenchFamily")
SA_VERDICT = SearchAttributeKey.for_keyword("MechbenchVerdict")
SA_STAGE = SearchAttributeKey.for_keyword("MechbenchStage")
SA_DATASET = SearchAttributeKey.for_keyword("MechbenchDataset")
SA_BENCHMARK = SearchAttributeKey.for_keyword("MechbenchBenchmark")
SA_SEED = SearchAttributeKey.for_int("MechbenchSeed")

SA_SUBMITTER = SearchAttributeKey.for_keyword("MechbenchSubmitter")
"""An evaluation's submitter: the per-submitter limit counts running evaluations by it."""

SEARCH_ATTRIBUTES = [SA_FAMILY, SA_VERDICT, SA_STAGE, SA_DATASET, SA_BENCHMARK, SA_SEED, SA_SUBMITTER]

FAIRNESS_DYNAMIC_CONFIG = {"matching.useNewMatcher": "true", "matching.enableFairness": "true"}
"""What a self-hosted server needs for fairness keys (the Temporal docs, "Task Queue Priority and Fairness":
https://docs.temporal.io/develop/task-queue-priority-fairness). Evaluations carry their submitter as fairness
key, so one submitter's backlog cannot starve another's evaluation."""

_SA_TYPE_NAMES = {"KEYWORD": "Keyword", "INT": "Int", "FLOAT": "Double", "BOOL": "Bool", "TEXT": "Text"}


def search_attribute_flags() -> list[str]:
    """``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}={_SA_TYPE_NAMES[key.indexed_value_type.name]}"]
    return flags


def dynamic_config_flags() -> list[str]:
    """``--dynamic-config-value KEY=VALUE`` flags for ``temporal server start-dev``: fairness on."""
    flags: list[str] = []
    for key, value in FAIRNESS_DYNAMIC_CONFIG.items():
        flags += ["--dynamic-config-value", f"{key}={value}"]
    return flags


def heavy_queue_for(task_queue: str) -> str:
    """The heavy-activity queue that belongs to a workflow task queue (workflows route by this rule)."""
    return f"{task_queue}-heavy"


# --- Workflow and activity names (stable: histories, the CLI and `temporal workflow start` use them) --
WF_GENERATE_BENCHMARK = "GenerateBenchmark"
WF_GENERATE_DATASET = "GenerateDataset"
WF_ANALYZE_MANUFACTURING = "AnalyzeManufacturing"
WF_EVALUATE_DESIGN = "EvaluateDesign"

ACT_PREPARE_DATASET = "prepare_dataset"
ACT_LOOKUP_BENCHMARK = "lookup_benchmark"
ACT_ASSESS_AFFORDABILITY = "assess_affordability"
ACT_ASSESS_CERTIFICATION = "assess_certification"
ACT_RECORD_BENCHMARK = "record_benchmark"
ACT_WRITE_MANIFEST_PART = "write_manifest_part"
ACT_FINALIZE_DATASET = "finalize_dataset"
ACT_STAGE_PART = "stage_part"
ACT_PRICE_PART = "price_part"
ACT_STAGE_DESIGN = "stage_design"
ACT_LOOKUP_EVALUATION = "lookup_evaluation"
ACT_PRICE_DESIGN = "price_design"
ACT_RECORD_EVALUATION = "record_evaluation"
ACT_DISCARD_EVALUATION = "discard_evaluation"
ACT_ADMIT_EVALUATION = "admit_evaluation"
ACT_RECORD_ATTEMPT = "record_attempt"
ACT_NOTIFY_WEBHOOK = "notify_webhook"
# The heavy activities' names are spelled in their registry entries (shared.heavy).
ACT_BUILD_BENCHMARK = BUILD_BENCHMARK.activity
ACT_SIMULATE_BENCHMARK = SIMULATE_BENCHMARK.activity
ACT_EXTRACT_PART_FACTS = EXTRACT_PART_FACTS.activity
ACT_RUN_PART_SCRIPT = RUN_PART_SCRIPT.activity
ACT_BUILD_DESIGN = BUILD_DESIGN.activity
ACT_RENDER_EVIDENCE = RENDER_EVIDENCE.activity
ACT_PROVE_NOT_TRIVIAL_RANDOM = RANDOM_PROOF.activity
ACT_PROVE_ROBUST = ROBUST_PROOF.activity


# --- Activity profiles ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ActivityProfile:
    start_to_close: timedelta
    heartbeat: timedelta | None
    schedule_to_close: timedelta
    retry: RetryPolicy

    def kwargs(self) -> dict[str, object]:
        kw: dict[str, object] = {
            "start_to_close_timeout": self.start_to_close,
            "schedule_to_close_timeout": self.schedule_to_close,
            "retry_policy": self.retry,
        }
        if self.heartbeat is not None:
            kw["heartbeat_timeout"] = self.heartbeat
        return kw


NON_RETRYABLE_TYPES = [e.value for e in DETERMINISTIC_ERRORS]

LIGHT = ActivityProfile(
    start_to_close=timedelta(seconds=30),
    heartbeat=None,
    schedule_to_close=timedelta(minutes=5),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=20),
        maximum_attempts=8,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    ),
)
"""Store reads/writes and bookkeeping: quick, retried with backoff (e.g. while the store is unreachable)."""

UPLOAD = ActivityProfile(
    start_to_close=timedelta(minutes=5),
    heartbeat=None,
    schedule_to_close=timedelta(minutes=20),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=8,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    ),
)
"""Copying a design's files (up to ``MECHBENCH_MAX_PART_BYTES`` together) into the store."""

HEAVY_JOB_ATTEMPTS = 6
"""Attempts a heavy job may fail by itself (its retryable error, a crashed child, a stall) before its failure is
final. Six (waits of 2, 4, 8, 16 and 30 s between them) ride out a store outage of about a minute; with three, a
20 s S3 outage lost a benchmark. Counted by the activity (``activities.heavy.HeavyActivities``)."""
HEAVY_LOST_WORKER_ATTEMPTS = 10
"""Further attempts for workers lost in the middle of the job (the heartbeat timeout ends their attempt): a
SIGKILLed worker or a machine that is gone does not use up the job's own budget."""

HEAVY = ActivityProfile(
    start_to_close=timedelta(minutes=10),
    heartbeat=timedelta(seconds=15),
    schedule_to_close=timedelta(minutes=40),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=HEAVY_JOB_ATTEMPTS + HEAVY_LOST_WORKER_ATTEMPTS,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    ),
)
"""CAD builds, validation and simulation in supervised child processes. The worker re-sends the last progress
every 5 s while the job shows signs of progress (reports, or CPU time inside a long native call), so the
heartbeat timeout only has to notice a worker that is gone: 15 s after a machine dies its jobs start again
elsewhere. A job without any sign of progress for ``MECHBENCH_STALL_TIMEOUT_S`` fails its attempt
(``JobStalled``), as a crashed child does.
The retry policy cannot tell a lost worker from a failed job, so it allows both budgets
(:data:`HEAVY_JOB_ATTEMPTS` + :data:`HEAVY_LOST_WORKER_ATTEMPTS` attempts in all, within the 40 minutes), and
the activity makes the job's own failure non-retryable once it has used up its budget."""

_PROFILES = {"HEAVY": HEAVY}
"""The profiles a heavy job's registry entry may name (``HeavyJobSpec.profile``)."""


def heavy_options(spec: HeavyJobSpec, task_queue: str) -> dict[str, object]:
    """The options of a workflow's call of a heavy activity, from its registry entry: its queue beside the
    workflow's ``task_queue``, its result model and its profile's timeouts and retry policy."""
    if not spec.activity:
        raise ValueError(f"heavy job {spec.job!r} has no activity")
    return {
        "task_queue": heavy_queue_for(task_queue),
        "result_type": spec.result,
        **_PROFILES[spec.profile].kwargs(),
    }


_RUNTIMES: dict[str, object] = {}


def metrics_runtime(settings: Settings) -> object | None:
    """The process's Temporal runtime serving Prometheus metrics on ``settings.metrics_port`` (one per bind
    address, made on first use), or None when metrics are off. Our own metrics (:mod:`shared.metrics`) are
    recorded through the activities' metric meter, so they are served by the same endpoint."""
    if settings.metrics_port is None:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    bind = f"{settings.metrics_host}:{settings.metrics_port}"
    if bind not in _RUNTIMES:
        _RUNTIMES[bind] = Runtime(
            telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind, durations_as_seconds=True))
        )
    return _RUNTIMES[bind]


WEBHOOK = ActivityProfile(
    start_to_close=timedelta(seconds=30),
    heartbeat=None,
    schedule_to_close=timedelta(minutes=30),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(minutes=2),
        maximum_attempts=12,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    ),
)
"""A completion notification: an unreachable or failing receiver is retried for about 15 minutes; a 4xx is
final."""


def unreachable(error: BaseException) -> str | None:
    """The short reason a connection attempt failed because the server cannot be reached (refused, no route,
    a name that does not resolve yet, a timeout), or None for an error that waiting does not cure (a bad
    address, a rejected API key, an unreadable certificate). The one test of it: the CLI prints a hint for
    it, a worker waits through it."""
    text = str(error)
    if not isinstance(error, RuntimeError) or "Server connection error" not in text:
        return None
    found = re.search(r'(?:message|error): "([^"]+)"', text)
    return found.group(1) if found else text.removeprefix("Failed client connect: ")[:200]


async def connect_client(settings: Settings, *, metrics: bool = False) -> Client:
    """The one client factory: address, namespace, TLS or API key from settings, the shared converter. With
    ``metrics`` (long-running workers), the client and the workers on it export Prometheus metrics when
    ``MECHBENCH_METRICS_PORT`` is set."""
    from temporalio.client import Client
    from temporalio.service import TLSConfig

    tls: TLSConfig | bool = False
    if settings.temporal_tls or settings.temporal_tls_ca_cert or settings.temporal_tls_client_cert:
        tls = TLSConfig(
            server_root_ca_cert=settings.temporal_tls_ca_cert.read_bytes()
            if settings.temporal_tls_ca_cert
            else None,
            client_cert=settings.temporal_tls_client_cert.read_bytes()
            if settings.temporal_tls_client_cert
            else None,
            client_private_key=(
                settings.temporal_tls_client_key.read_bytes() if settings.temporal_tls_client_key else None
            ),
            domain=settings.temporal_tls_server_name,
        )
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    if api_key and tls is False:
        tls = True
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        tls=tls,
        api_key=api_key,
        runtime=metrics_runtime(settings) if metrics else None,  # type: ignore[arg-type]
    )
