"""Ids, object keys, part paths and uploaded file names that try to escape are rejected; whatever is accepted
is safe. Property tests (hypothesis) that generalise the examples in test_store.py and test_contracts.py:
``..`` segments, absolute paths, NUL, very long names and odd unicode (bidi controls, zero-width
characters, combining marks, fullwidth and other slash look-alikes, emoji)."""

from __future__ import annotations

import os
import posixpath
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from temporalio.exceptions import ApplicationError

from activities.analysis import read_source
from faults.fuzz import ESCAPES, analyze_requests, dataset_requests, hostile_text
from shared import keys
from shared.boundary import resolve_part_path
from shared.ids import benchmark_id, dataset_id, evaluation_id, script_benchmark_id
from shared.models import (
    AnalyzeRequest,
    ArtifactRef,
    DatasetRequest,
    DesignSubmission,
    FamilyName,
    Identifier,
    PartSource,
)
from shared.refs import MAX_KEY_LENGTH, InvalidKey, validate_key
from shared.settings import Settings
from shared.store import TEMP_PREFIX, LocalStore, validate_prefix

PROPERTY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
SEGMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
HEX = "0123456789abcdef"

IDENTIFIER = TypeAdapter(Identifier)
FAMILY = TypeAdapter(FamilyName)

# Escape fragments: each one alone makes an id or a key invalid.
POISON = [
    "..", "/", "\\", "\x00", "\n", " ", ":", "~", "%2e",
    "\u202e", "\u200b", "\u200f", "\ufeff", "\u0301", "\uff0f", "\uff0e", "\u2215", "\u2044",
    "\U0001f600", "\u00e9", "\uff41", "\x7f",
]  # fmt: skip
SLASH_LOOKALIKES = {"\u2215", "\u2044", "\uff0f", "\uff3c", "\u29f8", "\u29f9"}

any_text = st.one_of(st.text(max_size=80), hostile_text(), st.sampled_from(ESCAPES))


def poisoned(safe_alphabet: str, max_size: int = 20) -> st.SearchStrategy[str]:
    safe = st.text(alphabet=safe_alphabet, max_size=max_size)
    return st.builds(lambda a, p, b: a + p + b, safe, st.sampled_from(POISON), safe)


def assert_safe_name(value: str, max_len: int) -> None:
    """Invariants of an accepted id or key segment: ASCII, no path syntax, bounded."""
    assert value.isascii() and value.isprintable()
    assert "\x00" not in value and "\\" not in value and ".." not in value.split("/")
    assert not value.startswith(("/", ".", "-")), value
    assert 1 <= len(value) <= max_len


# ================================================================================================
# Identifiers (benchmark, dataset, design, evaluation, part labels)
# ================================================================================================


@PROPERTY
@given(any_text)
def test_identifier_accepts_exactly_the_safe_pattern(value: str) -> None:
    try:
        accepted = IDENTIFIER.validate_python(value)
    except ValidationError:
        assert ID_RE.fullmatch(value) is None, f"{value!r} is a valid id but was rejected"
        return
    assert accepted == value and ID_RE.fullmatch(accepted), f"accepted {value!r}"
    assert_safe_name(accepted, 64)


@PROPERTY
@given(
    st.one_of(
        poisoned("abcdefghijklmnopqrstuvwxyz0123456789_-"),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=65, max_size=400),
    )
)
def test_identifiers_that_try_to_escape_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        IDENTIFIER.validate_python(value)
    with pytest.raises(ValidationError):
        DatasetRequest(families=["chute"], count=1, dataset_id=value)
    with pytest.raises(ValidationError):  # inside the name: trimming cannot remove it
        FAMILY.validate_python(f"a{value}a")


@PROPERTY
@given(any_text)
def test_family_names_are_normalised_to_a_safe_identifier_or_rejected(value: str) -> None:
    """Trimmed and lower-cased first (so ``\\u212a``, the Kelvin sign, becomes ``k``); the result must still
    be a plain ASCII identifier."""
    try:
        accepted = FAMILY.validate_python(value)
    except ValidationError:
        return
    assert ID_RE.fullmatch(accepted), f"{value!r} -> {accepted!r}"
    assert_safe_name(accepted, 64)


@PROPERTY
@given(family=any_text, seed=st.integers(), version=st.integers())
def test_benchmark_ids_are_valid_or_refused(family: str, seed: int, version: int) -> None:
    try:
        bid = benchmark_id(family, seed, version)
    except ValueError:
        return
    assert ID_RE.fullmatch(bid), f"benchmark_id({family!r}, {seed}, {version}) = {bid!r}"
    assert_safe_name(bid, 64)


@PROPERTY
@given(
    bid=any_text,
    design=st.text(max_size=70),
    n_scenes=st.none() | st.integers(),
    evidence=st.booleans(),
    proven_on=st.text(max_size=30),
)
def test_evaluation_ids_are_valid_or_refused(
    bid: str, design: str, n_scenes: int | None, evidence: bool, proven_on: str
) -> None:
    try:
        eid = evaluation_id(bid, design, n_scenes, evidence, proven_on)
    except ValueError:
        return
    assert ID_RE.fullmatch(eid), f"evaluation_id({bid!r}, ...) = {eid!r}"
    assert_safe_name(eid, 64)


@PROPERTY
@given(
    sha=st.one_of(st.text(alphabet=HEX, min_size=64, max_size=64), any_text), version=st.integers(1, 10**6)
)
def test_script_benchmark_ids_from_any_accepted_hash_are_valid(sha: str, version: int) -> None:
    """The hash comes from an :class:`ArtifactRef`, whose pattern admits 64 lower-case hex digits only (no
    trailing newline either)."""
    try:
        ref = ArtifactRef(key="uploads/x.py", sha256=sha, size_bytes=1)
    except ValidationError:
        assert re.fullmatch(r"[0-9a-f]{64}", sha) is None
        return
    assert re.fullmatch(r"[0-9a-f]{64}", ref.sha256)
    assert ID_RE.fullmatch(script_benchmark_id(ref.sha256, version))


@PROPERTY
@given(dataset_requests())
def test_dataset_ids_are_valid(raw: dict) -> None:  # type: ignore[type-arg]
    req = DatasetRequest.model_validate(raw)
    did = dataset_id(req, 1)
    assert ID_RE.fullmatch(did)
    assert validate_key(keys.manifest_key(did)) == f"datasets/{did}/manifest.json"


# ================================================================================================
# Object keys
# ================================================================================================


def reference_key_ok(key: str) -> bool:
    """The store's key grammar, written out independently: ASCII segments of allowed characters that
    start alphanumeric, no empty segment, 1..512 characters."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        return False
    return all(SEGMENT_RE.fullmatch(seg) for seg in key.split("/"))


BAD_SEGMENTS = [
    "", ".", "..", "...", ".hidden", TEMP_PREFIX + "1.part", "-x", "_x", "a b", "a\\b", "C:", "a\x00b", "a\n",
    "\u202eexe", "a\u200bb", "caf\u00e9", "cafe\u0301", "\uff0e\uff0e", "a\uff0fb", "a\u2215b", "\U0001f600",
    "x" * 129,
]  # fmt: skip

ok_segment = st.from_regex(SEGMENT_RE, fullmatch=True).filter(lambda s: len(s) <= 24)
bad_segment = st.one_of(
    st.sampled_from(BAD_SEGMENTS),
    st.text(min_size=1, max_size=12).filter(lambda s: "/" not in s and SEGMENT_RE.fullmatch(s) is None),
)
structured_keys = st.builds(
    lambda lead, segs: lead + "/".join(segs),
    st.sampled_from(["", "", "", "/", "//", "./", "../"]),
    st.lists(st.one_of(ok_segment, ok_segment, bad_segment), min_size=1, max_size=8),
)
any_key = st.one_of(structured_keys, any_text, st.lists(ok_segment, min_size=1, max_size=300).map("/".join))


@PROPERTY
@given(any_key)
def test_validate_key_accepts_exactly_safe_keys(key: str) -> None:
    try:
        accepted = validate_key(key)
    except InvalidKey:
        assert not reference_key_ok(key), f"{key!r:.120} is a safe key but was rejected"
        return
    assert accepted == key and reference_key_ok(key), f"accepted {key!r:.200}"
    # what that means: no way out of a prefix, nothing a filesystem or an S3 client would reinterpret
    assert key.isascii() and key.isprintable() and "\x00" not in key and "\\" not in key
    assert not key.startswith("/") and posixpath.normpath(key) == key
    assert not any(seg in ("", ".", "..") or seg.startswith(".") for seg in key.split("/"))
    assert len(key) <= MAX_KEY_LENGTH


@PROPERTY
@given(
    st.lists(ok_segment, max_size=4),
    st.one_of(bad_segment, st.sampled_from(["..", "."])),
    st.lists(ok_segment, max_size=4),
)
def test_keys_with_an_escaping_segment_are_rejected(before: list[str], bad: str, after: list[str]) -> None:
    key = "/".join([*before, bad, *after])
    assume("/" not in bad)
    with pytest.raises(InvalidKey):
        validate_key(key)
    with pytest.raises(InvalidKey):
        validate_key("/" + key)


@PROPERTY
@given(st.one_of(st.just(""), any_key, any_key.map(lambda k: k + "/")))
def test_listing_prefixes_are_keys(prefix: str) -> None:
    try:
        validate_prefix(prefix)
    except InvalidKey:
        return
    assert prefix == "" or reference_key_ok(prefix.removesuffix("/"))


@pytest.fixture(scope="module")
def store_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalStore, Path]:
    """A LocalStore whose root holds a symlink to a directory outside it."""
    base = tmp_path_factory.mktemp("escapes-store")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    store = LocalStore(base / "root")
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    return store, outside


def test_local_store_keeps_every_accepted_key_inside_its_root(store_tree: tuple[LocalStore, Path]) -> None:
    store, outside = store_tree
    written: set[str] = set()

    @PROPERTY
    @given(st.one_of(any_key, structured_keys.map(lambda k: "link/" + k.lstrip("/"))))
    def check(key: str) -> None:
        try:
            path = store.path_of(key)
        except InvalidKey:
            with pytest.raises(InvalidKey):
                store.put_bytes(key, b"x")
            with pytest.raises(InvalidKey):
                store.get_bytes(key)
            return
        assert reference_key_ok(key)
        assert path.is_relative_to(store.root) and path != store.root
        assert path.relative_to(store.root).as_posix() == key, "the key names exactly its file"
        if any(p.is_file() for p in path.parents if p != store.root and p.is_relative_to(store.root)):
            return  # "a" is an object, so "a/b" cannot be one (a local-store limitation, not an escape)
        if path.is_dir():
            return
        store.put_bytes(key, b"x")
        written.add(key)
        assert store.get_bytes(key) == b"x"

    check()
    assert sorted(p.name for p in outside.iterdir()) == ["secret"], "nothing written through the link"
    on_disk = {
        p.relative_to(store.root).as_posix()
        for p in store.root.rglob("*")
        if p.is_file() and not p.is_symlink() and not p.relative_to(store.root).as_posix().startswith("link/")
    }
    assert on_disk == written, "exactly the accepted keys were written, and no temporary file was left"


# Keys the layout builds from accepted ids stay inside their prefix.


@PROPERTY
@given(
    ident=st.from_regex(ID_RE, fullmatch=True),
    sha=st.text(alphabet=HEX, min_size=64, max_size=64),
    chain=st.text(alphabet=HEX, min_size=12, max_size=12),
    index=st.integers(0, 99_999),
    mode=st.sampled_from(["baseline", "reference", "design"]),
    name=st.sampled_from(["scene.npz", "frames.png", "animation.webp", "picture.png"]),
    suffix=st.sampled_from([".step", ".stp", ".stl", ".py"]),
)
def test_layout_keys_from_accepted_ids_are_valid_and_stay_in_their_prefix(
    ident: str, sha: str, chain: str, index: int, mode: str, name: str, suffix: str
) -> None:
    expected = {
        keys.benchmark_result_key(ident): "benchmarks",
        keys.benchmark_definition_key(ident): "benchmarks",
        keys.part_step_key(ident, ident): "benchmarks",
        keys.collision_key(ident): "benchmarks",
        keys.scene_glb_key(ident): "benchmarks",
        keys.trajectory_key(ident, mode): "benchmarks",
        keys.manifest_key(ident): "datasets",
        keys.manifest_part_key(ident, chain, index): "datasets",
        keys.upload_key(sha, suffix): "uploads",
        keys.part_facts_key(sha, 3, principal_frame=index % 2 == 0): "manufacturing",
        keys.analysis_report_key(ident): "manufacturing",
        keys.evaluation_result_key(ident): "evaluations",
        keys.evaluation_collision_key(ident): "evaluations",
        keys.evaluation_trajectory_key(ident): "evaluations",
        keys.evaluation_evidence_key(ident, name): "evaluations",
        keys.design_pieces_key(sha): "designs",
    }
    for key, top in expected.items():
        assert validate_key(key) == key
        assert key.split("/")[0] == top and posixpath.normpath(key) == key


@PROPERTY
@given(analyze_requests(), st.text(alphabet=HEX, min_size=64, max_size=64))
def test_analysis_ids_make_valid_report_keys(raw: dict, sha: str) -> None:  # type: ignore[type-arg]
    from workflows.manufacturing import analysis_id

    aid = analysis_id(AnalyzeRequest.model_validate(raw), sha)
    key = keys.analysis_report_key(aid)
    assert validate_key(key) == key and key.count("/") == 2


# ================================================================================================
# Uploaded and design file names, part paths
# ================================================================================================


def odd_char(c: str) -> bool:
    """Characters a file name shown to people must not hold: controls and format characters (bidi
    overrides and marks, zero-width), surrogates, private-use code points, line and paragraph separators,
    and look-alikes of ``/`` and ``\\``. (Unassigned code points are left alone: which ones are depends on
    the Python's Unicode version.)"""
    return unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") or c in SLASH_LOOKALIKES


def bare_name_ok(name: str) -> bool:
    return (
        1 <= len(name) <= 255
        and name not in (".", "..")
        and not any(c in "/\\" for c in name)
        and not any(odd_char(c) for c in name)
    )


def _source(filename: str) -> dict[str, object]:
    return {"path": "/srv/parts/part.step", "filename": filename, "format": "step"}


ESCAPING_NAMES = [
    "", ".", "..", "../part.step", "/etc/passwd", "a/b.step", "..\\x.step", "x\x00.step", "a" * 256 + ".step",
]  # fmt: skip
ODD_CHARS = [
    "\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\u200e", "\ufeff", "\x1b", "\x7f", "\x85", "\u2028",
    "\uff0f", "\uff3c", "\u2215", "\u2044", "\ue000",
]  # fmt: skip
"""Bidi overrides, isolates and marks, zero-width characters, a BOM, controls, a line separator, slash
look-alikes and a private-use character."""

escaping_names = st.one_of(
    st.sampled_from(ESCAPING_NAMES),
    st.builds(
        lambda a, sep, b: a + sep + b,
        st.text(max_size=20),
        st.sampled_from(["/", "\\", "\x00", "/../", "\\..\\"]),
        st.text(max_size=20),
    ),
    st.text(min_size=256, max_size=600),
)
odd_names = st.builds(
    lambda a, odd, b: a + odd + b + ".step",
    st.text(alphabet="abcdefghij_-. ", max_size=12),
    st.sampled_from(ODD_CHARS),
    st.text(alphabet="abcdefghij_-. ", max_size=12),
)


@PROPERTY
@given(escaping_names)
def test_file_names_with_directories_nul_or_too_long_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError):
        PartSource.model_validate(_source(name))
    with pytest.raises(ValidationError):
        DesignSubmission.model_validate({"parts": [{"source": _source(name), "metadata": {}}]})


@PROPERTY
@given(odd_names)
def test_file_names_with_odd_unicode_are_rejected(name: str) -> None:
    """A bidi override can make ``evil\\u202egpj.step`` read as ``evilpets.jpg`` in a report; a fullwidth
    solidus reads as a directory. Letters, marks and emoji of any script stay allowed."""
    with pytest.raises(ValidationError):
        PartSource.model_validate(_source(name))


@PROPERTY
@given(st.one_of(st.text(max_size=300), odd_names, escaping_names, st.sampled_from(ESCAPES)))
def test_accepted_file_names_are_bare_and_bounded(name: str) -> None:
    try:
        src = PartSource.model_validate(_source(name))
    except ValidationError:
        assert not bare_name_ok(name), f"{name!r} is a fine file name but was rejected"
        return
    assert src.filename is not None and bare_name_ok(src.filename), f"accepted {name!r}"


@PROPERTY
@given(st.one_of(st.text(max_size=80), hostile_text()).map(lambda s: "/srv/parts/" + s))
def test_accepted_part_paths_hold_no_nul_and_are_bounded(path: str) -> None:
    try:
        src = PartSource.model_validate({"path": path, "format": "step"})
    except ValidationError:
        assert "\x00" in path or len(path) > 1024
        return
    assert src.path is not None and "\x00" not in src.path and len(src.path) <= 1024


@pytest.fixture(scope="module")
def part_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A part root with files, a directory, symlinks out of it and within it, a symlink loop; and a
    directory outside it with a secret."""
    base = tmp_path_factory.mktemp("escapes-parts")
    root, outside = base / "root", base / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "part.step").write_bytes(b"part")
    (root / "sub" / "p.stl").write_bytes(b"stl")
    (root / "dir.step").mkdir()
    (outside / "secret.step").write_bytes(b"secret")
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "link_file_out").symlink_to(outside / "secret.step")
    (root / "link_in").symlink_to(root / "part.step")
    (root / "loop").symlink_to(root / "loop")
    return root, outside


PATH_SEGMENTS = [
    "..", ".", "", "part.step", "sub", "p.stl", "dir.step", "link_out", "link_file_out", "link_in", "loop",
    "secret.step", "outside", "root", "missing.step", "a" * 300, "\u202e.step", "\x00", "~", "\uff0f",
]  # fmt: skip


def test_part_paths_resolve_inside_the_part_roots_or_are_refused(part_tree: tuple[Path, Path]) -> None:
    root, outside = part_tree
    real_root = root.resolve()
    prefixes = [str(root), str(root), str(outside), str(root.parent), "/", "", "relative", "/etc"]

    @PROPERTY
    @given(st.sampled_from(prefixes), st.lists(st.sampled_from(PATH_SEGMENTS), max_size=8))
    def check(prefix: str, segments: list[str]) -> None:
        path = "/".join([prefix, *segments]) if prefix else "/".join(segments)
        assume(path)
        try:
            real = resolve_part_path(path, [root])
        except ValueError:
            return
        assert real.is_file() and real.is_relative_to(real_root), f"{path!r} -> {real}"
        assert real == Path(path).resolve()
        assert real.read_bytes() in (b"part", b"stl")

    check()


def test_stored_parts_with_escaping_keys_are_refused_with_a_typed_error(tmp_path: Path) -> None:
    """A part given as a stored object whose key escapes (or is just wrong) is refused with a
    non-retryable ``InvalidRequest`` (not a retryable store error that keeps an activity retrying)."""
    settings_ = Settings(data_dir=tmp_path, store="local", part_roots=[tmp_path])
    store = LocalStore(tmp_path / "store")
    (tmp_path / "store" / "uploads").mkdir()

    @PROPERTY
    @given(st.one_of(any_key, structured_keys), st.sampled_from(["step", "stl", "script"]))
    def check(key: str, fmt: str) -> None:
        src = PartSource(artifact=ArtifactRef(key=key, sha256="0" * 64, size_bytes=4), format=fmt)
        with pytest.raises(ApplicationError) as info:
            read_source(store, settings_, src)
        assert info.value.type == "InvalidRequest" and info.value.non_retryable, info.value

    check()
    assert os.listdir(tmp_path / "store") == ["uploads"] and not os.listdir(tmp_path / "store" / "uploads")
