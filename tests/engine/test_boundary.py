"""The input boundary reads only what it checked: a directory above a part swapped for a link between the
path check and the open must not lead outside the part roots. And a request's checks are one function
each, so the CLI and the worker refuse it in the same words."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import boundary
from shared.boundary import BoundaryError, checked_evaluation_id, dataset_request_problem, read_part_file
from shared.families import FAMILIES, unknown_families_message
from shared.ids import evaluation_basis, evaluation_id
from shared.models import DatasetRequest, ErrorType
from shared.settings import Settings
from workers.cli.common import BadInput
from workers.cli.generate import dataset_request

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


@pytest.mark.parametrize(
    ("families", "count", "says"),
    [
        (["gap", "nope"], 1, "families: unknown family ['nope']; known families are "),
        (["gap"], 3, "count: 3 exceeds the configured maximum of 2 (MECHBENCH_MAX_DATASET_COUNT)"),
    ],
)
def test_a_dataset_request_is_refused_in_the_same_words_by_the_cli_and_the_worker(
    families: list[str], count: int, says: str
) -> None:
    settings = Settings(max_dataset_count=2)
    problem = dataset_request_problem(DatasetRequest(families=families, count=count), settings)
    assert problem is not None and problem.startswith(says)
    with pytest.raises(BadInput) as refused:
        dataset_request(families, count, 0, settings)
    assert refused.value.message == problem and refused.value.code == 2
    assert dataset_request_problem(DatasetRequest(families=["gap"], count=2), settings) is None


def test_family_names_are_checked_against_the_names_given() -> None:
    assert unknown_families_message(FAMILIES) is None
    assert unknown_families_message(["gap"], field="family", known=["chute"]) == (
        "family: unknown family ['gap']; known families are ['chute']"
    )


def test_the_cli_and_the_worker_name_an_evaluation_alike() -> None:
    sha, design = "d" * 64, "e" * 64
    eid = checked_evaluation_id("chute-s0-v1", design, 4, True, sha, "catalogue v1")
    assert eid == evaluation_id("chute-s0-v1", design, 4, True, evaluation_basis(sha, "catalogue v1"))
    with pytest.raises(BoundaryError, match="^benchmark_id: cannot form a valid evaluation id") as e:
        checked_evaluation_id("b" * 60, design, None, True, sha, "catalogue v1")
    assert e.value.error_type == ErrorType.INVALID_REQUEST
