"""Part and script sources (:class:`~shared.models.PartSource`) and the stored artifacts they may name,
valid and invalid on their own; the analysis, benchmark-script and design strategies build on them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import get_args

from hypothesis import strategies as st

from faults.fuzz.bounds import bad_value, longest
from faults.fuzz.mutation import non_object, one_mutation
from faults.fuzz.strategies import HEX, JSON, LONG_NAME, SAFE_CHARS, hostile_text, non_string
from shared.models import ArtifactRef, PartFormat, PartSource

SHA256_HEX = hashlib.sha256().digest_size * 2
"""Hex digits of a SHA-256 digest (FIPS 180-4: 256 bits)."""
PATH_CHARS = longest(PartSource, "path")
FILENAME_CHARS = longest(PartSource, "filename")

_hex64 = st.text(alphabet=HEX, min_size=SHA256_HEX, max_size=SHA256_HEX)


def _artifact(suffix: str) -> st.SearchStrategy[dict[str, JSON]]:
    return st.builds(
        lambda sha, size: {"key": f"uploads/{sha}{suffix}", "sha256": sha, "size_bytes": size},
        _hex64,
        st.integers(0, 10**6),
    )


def _bad_artifact() -> st.SearchStrategy[JSON]:
    bad_sha = st.one_of(
        hostile_text(),
        st.text(alphabet=HEX, min_size=0, max_size=SHA256_HEX - 1),
        st.text(alphabet=HEX, min_size=SHA256_HEX + 1, max_size=SHA256_HEX + 16),
        _hex64.map(str.upper).filter(lambda s: s != s.lower()),
        _hex64.map(lambda s: s + "\n"),
        _hex64.map(lambda s: " " + s),
        non_string(),
    )
    invalid = {
        "key": non_string(),
        "sha256": bad_sha,
        "size_bytes": bad_value(ArtifactRef, "size_bytes"),
        "media_type": non_string(),
    }
    fields = ["key", "sha256", "size_bytes", "media_type"]
    return one_mutation(_artifact(".step"), invalid, ["key", "sha256", "size_bytes"], fields) | non_object(
        _artifact(".step"), none=False
    )


def bad_filename() -> st.SearchStrategy[str]:
    """File names that are not bare names: empty, dot names, directories, NUL, longer than
    :class:`~shared.models.PartSource` allows."""
    safe = st.text(alphabet=SAFE_CHARS, max_size=12)
    return st.one_of(
        st.sampled_from(
            [
                "",
                ".",
                "..",
                "a/b.step",
                "../x.step",
                "/etc/passwd",
                "a\\b.step",
                "x\x00.step",
                "a" * (FILENAME_CHARS + 1),
                LONG_NAME,
            ]
        ),
        st.builds(lambda a, p, b: a + p + b, safe, st.sampled_from(["/", "\\", "\x00"]), safe),
        st.text(min_size=FILENAME_CHARS + 1, max_size=FILENAME_CHARS + 145),
    )


def part_source(suffixes: Sequence[str] = (".step", ".stp", ".stl")) -> st.SearchStrategy[dict[str, JSON]]:
    """A valid :class:`~shared.models.PartSource` with one of ``suffixes`` (its format follows them)."""
    suffix = st.sampled_from(list(suffixes))
    name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)

    def by_path(n: str, s: str, with_name: bool) -> dict[str, JSON]:
        src: dict[str, JSON] = {"path": f"/srv/parts/{n}{s}"}
        if with_name:
            src["filename"] = f"{n}{s}"
        return src

    def by_artifact(art: dict[str, JSON], n: str, s: str) -> dict[str, JSON]:
        return {"artifact": {**art, "key": art["key"].rsplit(".", 1)[0] + s}, "filename": f"{n}{s}"}

    return st.one_of(
        st.builds(by_path, name, suffix, st.booleans()),
        st.builds(by_artifact, _artifact(".bin"), name, suffix),
    )


_FORMATS = set(get_args(PartFormat))


def bad_part_source(
    suffixes: Sequence[str] = (".step", ".stp", ".stl"), none: bool = True
) -> st.SearchStrategy[JSON]:
    """A part source that is invalid on its own: both or neither source, a path with NUL or longer than the
    contract allows, a file name with directories, NUL or too long, an unknown format, an unrecognised suffix
    without a format, a damaged artifact, an unknown field."""
    base = part_source(suffixes)
    bad_path = st.one_of(
        st.just(""),
        st.builds(lambda a, b: f"/srv/{a}\x00{b}", st.text(max_size=10), st.text(max_size=10)),
        st.text(min_size=PATH_CHARS + 1, max_size=PATH_CHARS + 76).map(lambda s: "/" + s),
        st.just("/" + "a/" * 600 + "x.step"),
        non_string(optional=True),
    )
    bad_format = st.one_of(
        st.sampled_from(["STEP", "step ", "stp", "iges", "exe", "py", "", "../step"]),
        hostile_text(),
        non_string(),
    ).filter(lambda f: f is not None and not (isinstance(f, str) and f in _FORMATS))
    invalid = {
        "path": bad_path,
        "filename": st.one_of(bad_filename(), non_string(optional=True)),
        "format": bad_format,
        "artifact": _bad_artifact(),
    }
    fields = ["artifact", "path", "format", "filename"]
    no_suffix = st.sampled_from(
        ["/srv/parts/part", "/srv/parts/part.txt", "/srv/parts/part.step.", "/etc/passwd"]
    )
    both = st.builds(
        lambda p, a: {**p, **a},
        part_source(suffixes),
        part_source(suffixes).filter(lambda s: "artifact" in s),
    )
    return st.one_of(
        one_mutation(base, invalid, [], fields),
        base.map(lambda s: {k: v for k, v in s.items() if k in ("filename", "format")} or {"format": "step"}),
        both.filter(lambda s: "path" in s),
        no_suffix.map(lambda p: {"path": p}),
        non_object(base, none=none),
    )


def script_source() -> st.SearchStrategy[dict[str, JSON]]:
    return part_source((".py",))


def bad_script_source() -> st.SearchStrategy[JSON]:
    """Invalid as a script: an invalid source, or a valid STEP/STL one (never None: no script is valid)."""
    return st.one_of(bad_part_source((".py",), none=False), part_source())
