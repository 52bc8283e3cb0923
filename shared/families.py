"""The family names and the generator version, light enough for the workflow sandbox.

The family modules in ``engines/cad/families`` register the same names; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable

FAMILIES: tuple[str, ...] = ("chute", "gap", "detour", "lift")
"""Built-in procedural benchmark families."""

GENERATOR_VERSION = 1
"""Bumped whenever any family's output for a given seed changes; part of every benchmark id."""


def unknown_families_message(names: Iterable[str], field: str = "families") -> str | None:
    """The boundary's message for unknown family names, or None when all are known."""
    bad = [n for n in names if n not in FAMILIES]
    if not bad:
        return None
    return f"{field}: unknown family {bad}; known families are {list(FAMILIES)}"
