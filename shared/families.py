"""The family names and the generator version, light enough for the workflow sandbox.

The family modules in ``engines/cad/families`` register the same names; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable

FAMILIES: tuple[str, ...] = (
    "chute",
    "gap",
    "detour",
    "lift",
    "funnel",
    "relay",
    "brake",
    "conveyor",
    "launch",
    "lever",
    "gate",
    "slide",
    "sorter",
    "shelf",
    "bridge",
)
"""Built-in procedural benchmark families."""

ALL_FAMILIES = "all"
"""What a dataset request (``--families all``) names to mean every family in :data:`FAMILIES`."""

GENERATOR_VERSION = 3
"""Bumped whenever any family's output for a given seed changes; part of every benchmark id."""


def unknown_families_message(
    names: Iterable[str], field: str = "families", known: Iterable[str] = FAMILIES
) -> str | None:
    """The one check of family names and its message, or None when all are known: the CLI, the workflows,
    the dataset activity and the CAD engine (against its registry, as ``known``) all ask here."""
    names_known = list(known)
    bad = [n for n in names if n not in names_known]
    if not bad:
        return None
    return f"{field}: unknown family {bad}; known families are {names_known}"
