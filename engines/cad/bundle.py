"""Bundles: what the sandbox's ``design`` and ``benchmark`` exporters hand back, and how to read them.

A bundle is a ZIP archive (every member ``ZIP_STORED``, fixed dates, members in sorted order, so the same
parts give the same bytes) holding ``manifest.json`` and one STEP file per part:

- ``design`` (a design script's ``build()`` returned a list of parts)::

    manifest.json  {"kind": "design", "parts": [{"metadata": {...}, "step": "parts/0.step"}, ...]}
    parts/<i>.step

- ``benchmark`` (a benchmark script's ``build()`` returned a dict)::

    manifest.json  {"kind": "benchmark", "benchmark": {payload, goal_zone, ...},
                    "fixtures": [{"metadata": {...}, "step": "fixtures/0.step"}, ...],
                    "reference_solution": [{"metadata": {...}, "step": "reference/0.step"}, ...]}
    fixtures/<i>.step, reference/<i>.step

``metadata`` is every key of the part's dict but ``shape``, as JSON; part ``i`` is always in member
``<dir>/<i>.step``. The writer (:func:`write_bundle`) runs inside the sandboxed child; the readers
(:func:`read_design_bundle`, :func:`read_benchmark_bundle`) run in the worker on bytes an untrusted
process wrote, so they trust nothing: the archive's structure, sizes, member names and the manifest's
shape are all checked, and anything unexpected is a :class:`BundleError`. What the metadata *means* is
checked by the caller (design validation, :mod:`engines.cad.script_benchmark`).

Standard library only: the child imports this module after confinement.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import Any

MANIFEST_NAME = "manifest.json"
MAX_PARTS = 32
"""At most this many parts in a design, fixtures or reference parts in a benchmark."""
MAX_METADATA_BYTES = 64 * 1024
"""A part's metadata as compact JSON."""
MAX_BENCHMARK_JSON_BYTES = 256 * 1024
"""A benchmark's JSON-able keys (payload, zones, settings, description, params) as compact JSON."""
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_BUNDLE_BYTES = 64 * 1024 * 1024
"""Default limit of the sum of the members' declared sizes."""
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
STEP_MAGIC = b"ISO-10303-21;"

DESIGN_KIND = "design"
BENCHMARK_KIND = "benchmark"
PART_DIRS = {"parts": "parts", "fixtures": "fixtures", "reference_solution": "reference"}
"""Manifest list -> directory of its STEP members."""

_MEMBER = re.compile(r"(?:parts|fixtures|reference)/(?:0|[1-9][0-9]{0,2})\.step")
_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024
_MAX_MEMBERS = 1 + 2 * MAX_PARTS


class BundleError(ValueError):
    """The bytes are not a well-formed bundle of the expected kind."""


@dataclass(frozen=True)
class BundlePart:
    metadata: dict[str, Any]
    """Every key the script gave the part except ``shape`` (JSON values); not validated here."""
    step: bytes


@dataclass(frozen=True)
class BenchmarkBundle:
    benchmark: dict[str, Any]
    """The benchmark's JSON-able keys as the script gave them; not validated here."""
    fixtures: list[BundlePart]
    reference_solution: list[BundlePart]


def step_member(directory: str, index: int) -> str:
    return f"{directory}/{index}.step"


# --------------------------------------------------------------------------------------------
# Writing (inside the sandbox)
# --------------------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Compact, key-sorted, ASCII JSON; NaN and infinities refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def write_bundle(manifest: dict[str, Any], members: dict[str, bytes]) -> bytes:
    """The ZIP archive of ``manifest`` (as ``manifest.json``) and ``members`` (name -> bytes): stored,
    fixed dates and attributes, sorted by name, so equal input gives equal bytes."""
    files = {MANIFEST_NAME: canonical_json(manifest), **members}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Reading (in the worker, untrusted bytes)
# --------------------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _check_end_record(data: bytes) -> None:
    """Bound the work of opening the archive before :mod:`zipfile` parses it: the end-of-central-directory
    record must end the data (no archive comment, which our writer never adds), no ZIP64, few members and a
    small central directory."""
    if len(data) < _EOCD.size or not data.startswith(b"PK"):
        raise BundleError("the result is not a ZIP archive")
    signature, _, _, _, entries, cd_size, _, comment = _EOCD.unpack(data[-_EOCD.size :])
    if signature != _EOCD_SIGNATURE or comment != 0:
        raise BundleError("the result is not a ZIP archive (no end record at its end)")
    if data[-_EOCD.size - 20 : -_EOCD.size - 16] == _ZIP64_LOCATOR_SIGNATURE:
        raise BundleError("ZIP64 archives are not accepted")
    if entries > _MAX_MEMBERS or cd_size > _MAX_CENTRAL_DIRECTORY_BYTES:
        raise BundleError(f"the archive declares {entries} members; at most {_MAX_MEMBERS} are accepted")


def _read_members(data: bytes, max_total_bytes: int) -> dict[str, bytes]:
    """Every member of the archive, after checking names, compression and declared sizes."""
    _check_end_record(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as e:  # any parse failure of untrusted bytes is a bad bundle
        raise BundleError(f"the result is not a readable ZIP archive: {type(e).__name__}: {e}") from e
    with archive:
        infos = archive.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise BundleError(f"the archive holds {len(infos)} members; at most {_MAX_MEMBERS} are accepted")
        names: set[str] = set()
        total = 0
        for info in infos:
            name = info.filename
            if name != info.orig_filename or not (name == MANIFEST_NAME or _MEMBER.fullmatch(name)):
                raise BundleError(
                    f"unexpected member {info.orig_filename!r} in the archive (only {MANIFEST_NAME} and "
                    "parts/<n>.step, fixtures/<n>.step, reference/<n>.step)"
                )
            if name in names:
                raise BundleError(f"member {name!r} appears twice in the archive")
            names.add(name)
            if info.compress_type != zipfile.ZIP_STORED:
                raise BundleError(
                    f"member {name!r} is compressed (method {info.compress_type}); only stored members "
                    "are accepted"
                )
            if info.flag_bits & 0x1:
                raise BundleError(f"member {name!r} is encrypted")
            if info.file_size != info.compress_size:
                raise BundleError(f"member {name!r} declares inconsistent sizes")
            if name == MANIFEST_NAME and info.file_size > MAX_MANIFEST_BYTES:
                raise BundleError(
                    f"{MANIFEST_NAME} declares {info.file_size} bytes; at most {MAX_MANIFEST_BYTES} accepted"
                )
            total += info.file_size
            if total > max_total_bytes:
                raise BundleError(
                    f"the archive's members declare more than {max_total_bytes} bytes in total (at {name!r})"
                )
        if MANIFEST_NAME not in names:
            raise BundleError(f"the archive holds no {MANIFEST_NAME}")
        members: dict[str, bytes] = {}
        for info in infos:
            try:
                content = archive.read(info)
            except Exception as e:  # truncated data, bad CRC, mismatched local header ...
                raise BundleError(f"member {info.filename!r} cannot be read: {type(e).__name__}: {e}") from e
            if len(content) != info.file_size:
                raise BundleError(f"member {info.filename!r} is not as long as declared")
            members[info.filename] = content
    return members


def _manifest(members: dict[str, bytes], kind: str, keys: set[str]) -> dict[str, Any]:
    try:
        manifest = json.loads(
            members[MANIFEST_NAME].decode("utf-8"),
            parse_constant=_no_constants,
            object_pairs_hook=_unique_keys,
        )
    except Exception as e:  # bad UTF-8 or JSON, NaN, duplicate keys, deep nesting ...
        raise BundleError(f"{MANIFEST_NAME} is not valid JSON: {type(e).__name__}: {e}") from e
    if not isinstance(manifest, dict):
        raise BundleError(f"{MANIFEST_NAME} must hold a JSON object, not {type(manifest).__name__}")
    found = manifest.get("kind")
    if found != kind:
        raise BundleError(f"expected a {kind!r} bundle, got kind {found!r}")
    if set(manifest) != keys:
        missing, extra = sorted(keys - set(manifest)), sorted(set(manifest) - keys)
        raise BundleError(
            f"{MANIFEST_NAME} of a {kind} bundle: missing keys {missing}, unexpected keys {extra}"
        )
    return manifest


def _parts(manifest: dict[str, Any], key: str, members: dict[str, bytes], used: set[str]) -> list[BundlePart]:
    entries = manifest[key]
    if not isinstance(entries, list):
        raise BundleError(f"{MANIFEST_NAME}: {key!r} must be a list, not {type(entries).__name__}")
    if not entries:
        raise BundleError(f"{MANIFEST_NAME}: {key!r} is empty")
    if len(entries) > MAX_PARTS:
        raise BundleError(f"{MANIFEST_NAME}: {key!r} lists {len(entries)} parts; at most {MAX_PARTS}")
    parts = []
    for i, entry in enumerate(entries):
        where = f"{MANIFEST_NAME}: {key}[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"metadata", "step"}:
            raise BundleError(f"{where} must be an object with exactly the keys 'metadata' and 'step'")
        metadata, step = entry["metadata"], entry["step"]
        if not isinstance(metadata, dict):
            raise BundleError(f"{where}.metadata must be an object, not {type(metadata).__name__}")
        expected = step_member(PART_DIRS[key], i)
        if step != expected:
            raise BundleError(f"{where}.step must be {expected!r}, not {step!r}")
        if step not in members:
            raise BundleError(f"{where}: member {step!r} is missing from the archive")
        data = members[step]
        if not data.startswith(STEP_MAGIC):
            raise BundleError(f"{where}: member {step!r} is not STEP data")
        used.add(step)
        parts.append(BundlePart(metadata=metadata, step=data))
    return parts


def _no_strays(members: dict[str, bytes], used: set[str]) -> None:
    strays = sorted(set(members) - used - {MANIFEST_NAME})
    if strays:
        raise BundleError(f"the archive holds members the manifest does not list: {strays}")


def read_design_bundle(data: bytes, max_total_bytes: int = DEFAULT_MAX_BUNDLE_BYTES) -> list[BundlePart]:
    """The parts of a ``design`` bundle, in the order ``build()`` returned them; :class:`BundleError` for
    anything but a well-formed design bundle whose members declare at most ``max_total_bytes``."""
    members = _read_members(bytes(data), max_total_bytes)
    manifest = _manifest(members, DESIGN_KIND, {"kind", "parts"})
    used: set[str] = set()
    parts = _parts(manifest, "parts", members, used)
    _no_strays(members, used)
    return parts


def read_benchmark_bundle(data: bytes, max_total_bytes: int = DEFAULT_MAX_BUNDLE_BYTES) -> BenchmarkBundle:
    """The content of a ``benchmark`` bundle; :class:`BundleError` for anything but a well-formed one."""
    members = _read_members(bytes(data), max_total_bytes)
    manifest = _manifest(members, BENCHMARK_KIND, {"kind", "benchmark", "fixtures", "reference_solution"})
    benchmark = manifest["benchmark"]
    if not isinstance(benchmark, dict):
        raise BundleError(f"{MANIFEST_NAME}: 'benchmark' must be an object, not {type(benchmark).__name__}")
    used: set[str] = set()
    fixtures = _parts(manifest, "fixtures", members, used)
    reference = _parts(manifest, "reference_solution", members, used)
    _no_strays(members, used)
    return BenchmarkBundle(benchmark=benchmark, fixtures=fixtures, reference_solution=reference)
