"""The input boundary: the checks every entry point makes on a file before any byte of it is stored.

The CLI calls them on a user's files before it uploads anything or starts a workflow; the workers' staging
activities call them on a request's ``part.path`` (or stored upload) before they write anything. One set of
checks, one set of messages, whichever way a file comes in:

- the file name (:func:`checked_file_name`): a bare name, no control or invisible characters;
- the path (:func:`resolve_part_path`): it resolves, symlinks followed, to a regular file under one of the
  part roots (``MECHBENCH_PART_ROOTS``), so neither ``..`` nor a link can reach anything else;
- the size (:func:`check_size`): not empty, at most ``MECHBENCH_MAX_PART_BYTES`` (a script at most
  :data:`MAX_SCRIPT_BYTES`), a design's files together too (:func:`check_design_total`);
- the content (:func:`sniff`): a STEP file begins with ``ISO-10303-21;`` and ends with
  ``END-ISO-10303-21;``, an STL is binary with a size that matches its triangle count or ASCII from
  ``solid`` to ``endsolid``, a script is UTF-8 Python that compiles (parsed only, never run).

And the checks of what a request names: the benchmark an evaluation is against (:func:`published_benchmark`)
and the evaluation id it gets (:func:`checked_evaluation_id`); a dataset's families and count against the
worker's limit (:func:`dataset_request_problem`). A request's own fields (seed, counts, ids) are checked by
its model, the same for every entry point.

A refusal is a :class:`BoundaryError` whose ``error_type`` is ``InvalidRequest`` (name, path, size,
benchmark) or ``InvalidPart`` (content); the CLI exits 2 with its message, an activity raises it as a
non-retryable ``ApplicationError`` of that type. Light imports only.
"""

from __future__ import annotations

import ast
import os
import re
import stat
from pathlib import Path

from pydantic import ValidationError

from shared.families import unknown_families_message
from shared.ids import evaluation_basis, evaluation_id
from shared.keys import benchmark_result_key
from shared.models import (
    PART_SUFFIXES,
    BenchmarkResult,
    DatasetRequest,
    ErrorType,
    PartFormat,
    Verdict,
    check_file_name,
)
from shared.settings import Settings
from shared.store import IntegrityError, ObjectNotFound, ObjectStore

MAX_SCRIPT_BYTES = 1024 * 1024
"""Largest part, design or benchmark script: source code, not data (geometry goes in STEP/STL files).
Also bounds what checking that it compiles costs."""

STEP_HEADER = b"ISO-10303-21;"
STEP_TRAILER = b"END-ISO-10303-21;"
_STL_HEADER_BYTES = 84
_STL_TRIANGLE_BYTES = 50
_EDGE = 4096
"""How far from the start and the end of a file the header and trailer are looked for."""


class BoundaryError(ValueError):
    """A file or reference refused at the boundary; the message names the field and says why."""

    def __init__(self, message: str, error_type: ErrorType = ErrorType.INVALID_REQUEST) -> None:
        super().__init__(message)
        self.error_type = error_type


def checked_file_name(name: str, field: str) -> str:
    """``name`` as it will be recorded (a bare file name, see :func:`shared.models.check_file_name`)."""
    try:
        return check_file_name(name)
    except ValueError as e:
        raise BoundaryError(f"{field}: {name!r}: {e}") from None


def format_of(name: str, field: str) -> PartFormat:
    """The part format a file name's suffix stands for (``.step``/``.stp``, ``.stl``, ``.py``)."""
    fmt = PART_SUFFIXES.get(Path(name).suffix.lower())
    if fmt is None:
        raise BoundaryError(
            f"{field}: cannot tell the format of {name!r}; use one of {sorted(PART_SUFFIXES)}"
        )
    return fmt


def resolve_part_path(path: str | Path, roots: list[Path], field: str = "part.path") -> Path:
    """The real file ``path`` names: absolute, existing, a regular file, and under one of ``roots`` once
    every symlink is resolved (so ``..`` or a link cannot reach elsewhere)."""
    p = Path(path)
    if not p.is_absolute():
        raise BoundaryError(f"{field}: must be an absolute path, got {str(path)!r}")
    try:
        real = p.resolve(strict=True)
    except (OSError, RuntimeError) as e:
        raise BoundaryError(f"{field}: {str(path)!r} cannot be read ({e.__class__.__name__})") from e
    allowed = [r.resolve() for r in roots]
    if not any(real.is_relative_to(r) for r in allowed):
        where = f"resolves to {str(real)!r}, " if str(real) != os.path.normpath(p) else "is "
        raise BoundaryError(
            f"{field}: {str(path)!r} {where}outside the directories parts are read from "
            f"({', '.join(str(r) for r in allowed) or 'none'}; MECHBENCH_PART_ROOTS)"
        )
    if not real.is_file():
        raise BoundaryError(f"{field}: {str(path)!r} is not a regular file")
    return real


def size_limit(fmt: PartFormat, settings: Settings) -> int:
    return min(MAX_SCRIPT_BYTES, settings.max_part_bytes) if fmt == "script" else settings.max_part_bytes


def check_size(size: int, fmt: PartFormat, settings: Settings, field: str, name: str) -> None:
    """Not empty, and within the limit for its format."""
    limit = size_limit(fmt, settings)
    if size == 0:
        raise BoundaryError(f"{field}: {name!r} is empty")
    if size > limit:
        what = "a script's limit" if fmt == "script" else "the limit (MECHBENCH_MAX_PART_BYTES)"
        raise BoundaryError(f"{field}: {name!r} holds {size} bytes, more than {what} of {limit}")


def check_design_total(total: int, settings: Settings) -> None:
    """A design's files together stay within ``MECHBENCH_MAX_PART_BYTES``."""
    if total > settings.max_part_bytes:
        raise BoundaryError(
            f"design: its files hold more than {settings.max_part_bytes} bytes together "
            "(MECHBENCH_MAX_PART_BYTES)"
        )


def read_part_file(path: str | Path, fmt: PartFormat, settings: Settings, field: str) -> tuple[Path, bytes]:
    """Resolve ``path`` inside the part roots, check its size, read it (without following a symlink swapped
    in after the check, without blocking on a FIFO) and check its content. Returns the real path and the
    bytes."""
    real = resolve_part_path(path, settings.part_roots, field)
    shown = str(path)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise BoundaryError(f"{field}: {shown!r} cannot be read ({e.__class__.__name__})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BoundaryError(f"{field}: {shown!r} is not a regular file")
        # O_NOFOLLOW guards the last name only: a directory above it swapped for a link after the check would
        # lead elsewhere. What was opened is checked again, by the path the kernel holds for it.
        opened = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if opened != real and not any(opened.is_relative_to(r.resolve()) for r in settings.part_roots):
            raise BoundaryError(
                f"{field}: {shown!r} changed while it was read and now leads outside the directories parts "
                "are read from (MECHBENCH_PART_ROOTS)"
            )
        check_size(st.st_size, fmt, settings, field, shown)
        data = fh.read(size_limit(fmt, settings) + 1)
    check_size(len(data), fmt, settings, field, shown)  # it may have changed since fstat
    sniff(data, fmt, field, real.name)
    return real, data


def check_stored_part(data: bytes, fmt: PartFormat, settings: Settings, field: str, name: str) -> None:
    """The size and content checks of :func:`read_part_file` for bytes already read (a stored upload)."""
    check_size(len(data), fmt, settings, field, name)
    sniff(data, fmt, field, name)


# --- content --------------------------------------------------------------------------------------


def sniff(data: bytes, fmt: PartFormat, field: str, name: str) -> None:
    """``data`` is what its format says (cheap checks of the framing; the worker reads the geometry).
    ``InvalidPart`` naming the file and what is wrong."""
    problem = {"step": _step_problem, "stl": _stl_problem, "script": _script_problem}[fmt](data)
    if problem:
        raise BoundaryError(f"{field}: {name!r} {problem}", ErrorType.INVALID_PART)


def _step_problem(data: bytes) -> str | None:
    head = data[:_EDGE].removeprefix(b"\xef\xbb\xbf").lstrip()
    if head[: len(STEP_HEADER)].upper() != STEP_HEADER:
        return "is not a STEP file: it does not begin with the ISO-10303-21; header"
    if STEP_TRAILER not in data[-_EDGE:].upper():
        return "is not a whole STEP file: it does not end with END-ISO-10303-21; (cut off?)"
    return None


def _stl_problem(data: bytes) -> str | None:
    n = len(data)
    if n >= _STL_HEADER_BYTES:
        count = int.from_bytes(data[80:84], "little")
        if n == _STL_HEADER_BYTES + _STL_TRIANGLE_BYTES * count:
            return None if count else "is an STL file without triangles"
    if data[:_EDGE].lstrip()[:5].lower() == b"solid":
        if not re.search(rb"\bendsolid\b", data[-_EDGE:], re.IGNORECASE):
            return "is not a whole ASCII STL file: it does not end with endsolid (cut off?)"
        if not re.search(rb"\bfacet\b", data, re.IGNORECASE):
            return "is an ASCII STL file without facets"
        return None
    if n < _STL_HEADER_BYTES:
        return f"is not an STL file: {n} bytes, shorter than a binary STL's {_STL_HEADER_BYTES}-byte header"
    count = int.from_bytes(data[80:84], "little")
    return (
        f"is not an STL file: a binary STL of {count} triangles is "
        f"{_STL_HEADER_BYTES + _STL_TRIANGLE_BYTES * count} bytes, this file {n}; an ASCII STL begins "
        "with 'solid'"
    )


def _script_problem(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"is not a Python script: byte {e.start} is not UTF-8"
    if b"\x00" in data:
        return "is not a Python script: it holds NUL bytes"
    try:  # parsed only: nothing in it runs here
        compile(data, "script.py", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as e:
        return f"does not compile: {type(e).__name__}: {e.msg} (line {e.lineno})"
    except (ValueError, MemoryError, RecursionError) as e:
        return f"does not compile: {type(e).__name__}"
    return None


# --- references -----------------------------------------------------------------------------------


def published_benchmark(store: ObjectStore, benchmark_id: str) -> BenchmarkResult:
    """The stored verdict of a published benchmark, which a design can be evaluated against;
    ``InvalidRequest`` saying what to do when it does not exist, was not published or is damaged."""
    try:
        result = store.get_model(benchmark_result_key(benchmark_id), BenchmarkResult)
    except ObjectNotFound:
        raise BoundaryError(
            f"benchmark_id: no benchmark {benchmark_id!r} in the store; publish it first "
            "(mechbench benchmark FAMILY SEED, or a benchmark script) or check the id"
        ) from None
    except (ValidationError, IntegrityError) as e:
        raise BoundaryError(
            f"benchmark_id: the stored result of {benchmark_id!r} is damaged ({type(e).__name__}); "
            "generate the benchmark again"
        ) from None
    if result.verdict != Verdict.PUBLISHED or result.definition is None:
        raise BoundaryError(
            f"benchmark_id: {benchmark_id!r} was not published ({result.verdict.value}: {result.reason}); "
            "only published benchmarks can be evaluated against"
        )
    return result


def checked_evaluation_id(
    benchmark_id: str,
    design_sha256: str,
    n_scenes: int | None,
    evidence: bool,
    definition_sha256: str,
    catalog_label: str,
    held_out: bool = False,
) -> str:
    """The id of an evaluation (:func:`shared.ids.evaluation_id` on :func:`shared.ids.evaluation_basis`), the
    CLI's (it names the workflow) and the worker's lookup alike; ``InvalidRequest`` when the benchmark id
    leaves no room for one."""
    proven_on = evaluation_basis(definition_sha256, catalog_label)
    try:
        return evaluation_id(benchmark_id, design_sha256, n_scenes, evidence, proven_on, held_out)
    except ValueError as e:
        raise BoundaryError(f"benchmark_id: {e}") from None


def dataset_request_problem(req: DatasetRequest, settings: Settings) -> str | None:
    """What is wrong with a valid dataset request on this worker (an unknown family, more benchmarks than
    ``MECHBENCH_MAX_DATASET_COUNT``), or None: the CLI asks before it starts the workflow, the dataset
    activity before anything is written."""
    problem = unknown_families_message(req.families)
    if problem is None and req.count > settings.max_dataset_count:
        problem = (
            f"count: {req.count} exceeds the configured maximum of {settings.max_dataset_count} "
            "(MECHBENCH_MAX_DATASET_COUNT)"
        )
    return problem
