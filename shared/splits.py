"""Dataset splits: each entry's fold in a within-family split (seeds held out) and a cross-family split
(families held out), 10 folds each, a pure function of the dataset id and the benchmark (or its family).

Fold ``k`` of a split is a test set; the other nine are its training set. A within-family fold is drawn per
benchmark, so every family appears in every fold. A cross-family fold is the family's place among the
dataset's families (sorted), so all of a family's benchmarks fall in the same fold and a model tested on fold
``k`` has seen none of its families: with ten families or fewer it is leave-one-family-out, and with more,
families ``k``, ``k + 10``, ... are held out together.
Standard-library only: the dataset workflow assigns folds inside the workflow sandbox.
"""

from __future__ import annotations

import hashlib

FOLDS = 10
SPLITS = ("within_family", "cross_family")
"""The splits, by the name of the manifest entry's fold field (``<split>_fold``)."""


def _fold(*parts: str) -> int:
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % FOLDS


def within_family_fold(dataset_id: str, benchmark_id: str) -> int:
    """The benchmark's fold when seeds are held out within each family."""
    return _fold("within-family", dataset_id, benchmark_id)


def cross_family_fold(family: str, families: list[str]) -> int:
    """The fold of the benchmark's whole family when families are held out (``families``: the dataset's)."""
    return sorted(families).index(family) % FOLDS


def split_problem(split: str | None, fold: int | None) -> str | None:
    """What is wrong with a split and fold asked for (both or neither, a known split, a fold in range)."""
    if (split is None) != (fold is None):
        return "split: give a split and a fold together"
    if split is not None and split not in SPLITS:
        return f"split: one of {', '.join(SPLITS)}"
    if fold is not None and not 0 <= fold < FOLDS:
        return f"fold: between 0 and {FOLDS - 1}"
    return None
