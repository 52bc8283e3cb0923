"""Part files people give (a stored object or a path on the worker) and their staged copies in the store."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from shared.models.common import ArtifactRef, Model

PartFormat = Literal["step", "stl", "script"]
PART_SUFFIXES: dict[str, PartFormat] = {".step": "step", ".stp": "step", ".stl": "stl", ".py": "script"}
"""File name suffix -> part format (case-insensitive); the one table the CLI and the workers use."""


_SLASH_LOOKALIKES = frozenset("\u2215\u2044\uff0f\uff3c\u29f8\u29f9")


def _odd_name_char(c: str) -> bool:
    """Characters a file name shown to people must not hold: controls (NUL included), invisible format
    characters (bidi overrides, zero-width), surrogates, private use, line breaks and slash look-alikes.
    Letters of any script, combining marks and emoji are fine."""
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") or c in _SLASH_LOOKALIKES


def check_file_name(name: str) -> str:
    """A bare file name as uploaded (shown in reports, never used as a path): no directories, no ``.``/``..``,
    no control or invisible characters. Raises ``ValueError``."""
    if "/" in name or "\\" in name or name in (".", "..") or any(_odd_name_char(c) for c in name):
        raise ValueError("filename: a bare file name, without directories or control characters")
    return name


class PartSource(Model):
    """Where the part to analyse comes from: an object already in the store (the CLI uploads there), or a
    file path readable by the worker (under one of its ``MECHBENCH_PART_ROOTS``)."""

    artifact: ArtifactRef | None = None
    path: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    format: PartFormat | None = None
    """Default: from the file name's suffix (.step/.stp, .stl, .py)."""
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    """Original file name, for the report (no directories)."""

    @model_validator(mode="after")
    def _one_source(self) -> PartSource:
        if (self.artifact is None) == (self.path is None):
            raise ValueError(
                "give exactly one of 'artifact' (a stored object) or 'path' (a file on the worker)"
            )
        if self.path is not None and "\x00" in self.path:
            raise ValueError("path: must not contain NUL")
        if self.filename is not None:
            check_file_name(self.filename)
        if self.format is None and self.suffix_format() is None:
            raise ValueError(
                "format: cannot tell the part format from the name; give 'format' (step, stl or script) "
                f"or use one of the suffixes {sorted(PART_SUFFIXES)}"
            )
        return self

    def suffix_format(self) -> PartFormat | None:
        name = self.filename or self.path or (self.artifact.key if self.artifact else "")
        dot = name.rfind(".")
        return PART_SUFFIXES.get(name[dot:].lower()) if dot >= 0 else None

    @property
    def resolved_format(self) -> PartFormat:
        fmt = self.format or self.suffix_format()
        assert fmt is not None  # checked by the validator
        return fmt


class StagedPart(Model):
    """A part file copied into the store (content-addressed); a script's is replaced by the STEP it built."""

    artifact: ArtifactRef
    format: PartFormat
    filename: str | None = None
