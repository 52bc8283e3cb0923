"""The input boundary reads only what it checked: a directory above a part swapped for a link between the
path check and the open must not lead outside the part roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import boundary
from shared.boundary import BoundaryError, read_part_file
from shared.settings import Settings

STEP = b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"


def test_a_directory_swapped_for_a_link_after_the_check_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "part.step").write_bytes(STEP)
    (outside / "part.step").write_bytes(STEP.replace(b"HEADER;", b"HEADER; /* secret */"))
    settings = Settings(part_roots=[root])
    checked = boundary.resolve_part_path

    def check_then_swap(path, roots, field="part.path"):  # type: ignore[no-untyped-def]
        real = checked(path, roots, field)
        (root / "sub" / "part.step").unlink()
        (root / "sub").rmdir()
        (root / "sub").symlink_to(outside, target_is_directory=True)  # the race, won every time
        return real

    monkeypatch.setattr(boundary, "resolve_part_path", check_then_swap)
    with pytest.raises(BoundaryError, match="outside the directories parts are read from"):
        read_part_file(root / "sub" / "part.step", "step", settings, "part.path")


def test_a_part_that_stays_where_it_was_checked_is_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "part.step").write_bytes(STEP)
    real, data = read_part_file(tmp_path / "sub" / "part.step", "step", Settings(part_roots=[tmp_path]), "p")
    assert real == (tmp_path / "sub" / "part.step").resolve() and data == STEP
