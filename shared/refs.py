"""Artifact references without a store: object keys and their validation, sha256 digests, and :class:`Blob`.

Engines build blobs and name their artifacts' digests without ever touching an object store, so these small
data types live here rather than in :mod:`shared.store` (which the engines, as a library, do not import).

Keys are validated so they can never escape their prefix; an invalid key raises :class:`InvalidKey` (a
``ValueError``: deterministic, retrying does not help).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from pydantic import BaseModel

from shared.models import ArtifactRef

KEY_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""One ``/``-separated segment of a key (matched in full, ASCII only)."""
MAX_KEY_LENGTH = 512


class InvalidKey(ValueError):
    """The key could escape its prefix or holds characters outside the allowed set."""


def validate_key(key: str) -> str:
    """Reject keys that could escape the store root: absolute, ``..``, empty segments, odd characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"object key must be 1..{MAX_KEY_LENGTH} characters: {key!r:.80}")
    for seg in key.split("/"):
        if KEY_SEGMENT.fullmatch(seg) is None or seg.strip(".") == "":
            raise InvalidKey(f"invalid object key {key!r:.200}: bad segment {seg!r:.80}")
    return key


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    """Bytes waiting to be stored, with the reference they will have."""

    key: str
    data: bytes
    media_type: str = "application/octet-stream"

    @property
    def ref(self) -> ArtifactRef:
        return make_ref(self.key, self.data, self.media_type)


def make_ref(key: str, data: bytes, media_type: str = "application/octet-stream") -> ArtifactRef:
    return ArtifactRef(
        key=validate_key(key), sha256=sha256_hex(data), size_bytes=len(data), media_type=media_type
    )


def model_blob(key: str, model: BaseModel) -> Blob:
    return Blob(key, model.model_dump_json(indent=2).encode(), "application/json")
