"""The envelope of a heavy job run in a supervised child process, and its heartbeat."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.models.common import Model
from shared.models.proofs import RandomProofReport, SceneResult


class HeavyProgress(Model):
    """Heartbeat details of a heavy activity; a retry resumes from ``completed``."""

    stage: str
    done: int = 0
    total: int = 0
    detail: str = ""
    completed: list[SceneResult] = Field(default_factory=list)
    steps: int = 0
    """Simulation steps this attempt has run so far (finished and running scenes), reported every few seconds."""
    random: RandomProofReport | None = None
    """The random-design proof's counts after its last finished batch (a retry resumes after it)."""


class HeavyJob(Model):
    """Envelope sent to a supervised child process."""

    job: str
    input: dict[str, Any]
    resume: HeavyProgress | None = None
    context: dict[str, str] = Field(default_factory=dict)
    """Temporal context (workflow id, run id, activity type, attempt) bound to the child's log lines."""
