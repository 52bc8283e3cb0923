"""Heavy jobs: what runs inside a supervised child process forked from the warm fork server.

Each job takes one contract model, reports :class:`~shared.models.HeavyProgress` through ``progress`` and
returns one contract model. Artifacts go to the object store from here, so payloads stay small.

The jobs live in one module per domain (:mod:`.generation`, :mod:`.analysis`, :mod:`.evaluation`,
:mod:`.diagnose`); the registry (:mod:`shared.heavy`) names each job's function. :func:`engines` imports
them all: the fork server calls it once, so every job starts with build123d, OCP, MuJoCo and the engines
loaded. This module holds what the jobs share: their settings, their store, their error type.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.heavy import HEAVY_JOBS
from shared.models import ErrorType, HeavyJob, HeavyProgress
from shared.settings import Settings, get_settings
from shared.store import ObjectStore, make_store

Progress = Callable[[HeavyProgress], None]
Engine = Callable[[Any, Progress, HeavyProgress | None], BaseModel]
"""A job function: ``fn(request, progress, resume) -> result``."""
NPZ = "application/x-npz"
_settings: Settings | None = None


def use_settings(settings: Settings) -> None:
    """Called once by the fork server with the worker's settings; forked jobs inherit them."""
    global _settings
    _settings = settings


def current_settings() -> Settings:
    return _settings or get_settings()


def open_store() -> ObjectStore:
    return make_store(current_settings())


def sandbox_limits() -> dict[str, Any]:
    """The sandbox's limits from the worker's settings (one place for benchmark, part and design scripts)."""
    s = current_settings()
    return {
        "wall_s": s.sandbox_wall_s,
        "cpu_s": s.sandbox_cpu_s,
        "memory_mb": s.sandbox_memory_mb,
        "file_size_mb": s.sandbox_file_size_mb,
        "max_open_files": s.sandbox_max_open_files,
        "require_confinement": s.sandbox_require_confinement,
    }


class JobError(Exception):
    """A job failure with a Temporal error type; deterministic failures are non-retryable."""

    def __init__(self, message: str, type: str, non_retryable: bool = True):
        super().__init__(message)
        self.type = type
        self.non_retryable = non_retryable


@cache
def job_table() -> dict[str, tuple[type[BaseModel], Engine]]:
    """Every registered job's request model and function, by job name. The first call imports every job's
    module (the fork server makes it before it forks any job: that is the warm-up)."""
    found: dict[str, tuple[type[BaseModel], Engine]] = {}
    for spec in HEAVY_JOBS:
        module, _, name = spec.engine.partition(":")
        found[spec.job] = (spec.request, getattr(importlib.import_module(module), name))
    return found


def run_job(job: HeavyJob, progress: Progress) -> BaseModel:
    try:
        input_type, fn = job_table()[job.job]
    except KeyError:
        raise JobError(f"unknown job {job.job!r}", ErrorType.INVALID_REQUEST) from None
    try:
        payload = input_type.model_validate(job.input)
    except ValidationError as e:  # only the job's own input: engine-internal validation errors are bugs
        raise JobError(f"{job.job}: invalid input: {e}", ErrorType.INVALID_REQUEST) from e
    return fn(payload, progress, job.resume)
