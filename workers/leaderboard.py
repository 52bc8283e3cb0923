"""The leaderboard of a dataset, read from the store: the dataset's published benchmarks (or a split's test
fold of them) and every recorded attempt on them (``leaderboard/<submitter>/<benchmark>/<design>.json``,
written by the evaluations that had a submitter). The standings themselves are :mod:`shared.standings`."""

from __future__ import annotations

from shared.boundary import BoundaryError
from shared.keys import leaderboard_prefix, manifest_key
from shared.logging import get_logger
from shared.models import DatasetManifest, Leaderboard, LeaderboardEntry, Verdict
from shared.splits import split_problem
from shared.standings import leaderboard
from shared.store import ObjectNotFound, ObjectStore

log = get_logger(__name__)


def read_leaderboard(
    store: ObjectStore, dataset_id: str, split: str | None = None, fold: int | None = None
) -> Leaderboard:
    """The leaderboard of ``dataset_id``; a :class:`~shared.boundary.BoundaryError` naming the field when the
    dataset is not finished or the split is malformed."""
    if (problem := split_problem(split, fold)) is not None:
        raise BoundaryError(problem)
    try:
        manifest = store.get_model(manifest_key(dataset_id), DatasetManifest)
    except (ObjectNotFound, ValueError):
        raise BoundaryError(f"dataset: no finished dataset {dataset_id!r} in the store") from None
    ids = [
        e.benchmark_id
        for e in manifest.entries
        if e.verdict == Verdict.PUBLISHED and (split is None or getattr(e, f"{split}_fold") == fold)
    ]
    return leaderboard(dataset_id, ids, entries(store, set(ids)), split, fold)


def entries(store: ObjectStore, benchmark_ids: set[str] | None = None) -> list[LeaderboardEntry]:
    """Every recorded attempt (on ``benchmark_ids``, when given); an unreadable one is logged and skipped."""
    found = []
    for key in sorted(store.list(leaderboard_prefix())):
        parts = key.split("/")
        if len(parts) != 4 or not key.endswith(".json"):
            continue
        if benchmark_ids is not None and parts[2] not in benchmark_ids:
            continue
        try:
            found.append(store.get_model(key, LeaderboardEntry))
        except (ObjectNotFound, ValueError) as e:
            log.warning("leaderboard.unreadable_entry", key=key, error=str(e)[:200])
    return found
