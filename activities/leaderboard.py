"""Temporal activities of evaluations with a submitter: admission under the per-submitter limit, and the
leaderboard's record of each attempt. Both are quick: one visibility count, one small store write."""

from __future__ import annotations

import asyncio

from temporalio import activity

from shared.keys import leaderboard_entry_key
from shared.logging import get_logger
from shared.models import Admission, AdmissionRequest, LeaderboardEntry, RecordAttemptRequest
from shared.settings import Settings
from shared.store import ObjectNotFound, ObjectStore
from shared.temporal import ACT_ADMIT_EVALUATION, ACT_RECORD_ATTEMPT, SA_SUBMITTER, WF_EVALUATE_DESIGN

log = get_logger(__name__)


def earlier_running_query(req: AdmissionRequest) -> str:
    """Visibility query: the submitter's evaluations that started before this one and are still running
    (waiting ones included, so admission is first come, first served)."""
    started = req.started_at.isoformat().replace("+00:00", "Z")
    return (
        f"WorkflowType = '{WF_EVALUATE_DESIGN}' AND ExecutionStatus = 'Running' "
        f"AND {SA_SUBMITTER.name} = '{req.submitter}' AND StartTime < '{started}' "
        f"AND WorkflowId != '{req.workflow_id}'"
    )


class LeaderboardActivities:
    def __init__(self, store: ObjectStore, settings: Settings):
        self._store = store
        self._settings = settings

    @activity.defn(name=ACT_ADMIT_EVALUATION)
    async def admit_evaluation(self, req: AdmissionRequest) -> Admission:
        """Admitted when fewer than ``evaluations_per_submitter`` of the submitter's earlier evaluations are
        running. The submitter is a checked identifier, so the query cannot be steered by it."""
        limit = self._settings.evaluations_per_submitter
        counted = await activity.client().count_workflows(earlier_running_query(req))
        return Admission(admitted=counted.count < limit, earlier_running=counted.count, limit=limit)

    @activity.defn(name=ACT_RECORD_ATTEMPT)
    async def record_attempt(self, req: RecordAttemptRequest) -> LeaderboardEntry:
        """Record the attempt once: the same design sent again by the same submitter keeps its first entry
        (and with it its place among the attempts). Returns the entry that stands."""
        e = req.entry
        key = leaderboard_entry_key(e.submitter, e.benchmark_id, e.design_sha256)

        def write() -> LeaderboardEntry:
            try:
                return self._store.get_model(key, LeaderboardEntry)
            except (ObjectNotFound, ValueError):
                self._store.put_model(key, e)
                log.info(
                    "leaderboard.attempt",
                    submitter=e.submitter,
                    benchmark_id=e.benchmark_id,
                    verdict=e.verdict.value,
                )
                return e

        return await asyncio.to_thread(write)
