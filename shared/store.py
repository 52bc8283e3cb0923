"""Object store: a local directory (embedded default) or S3/MinIO (several machines).

Keys are validated so they can never escape their prefix. Writes are atomic: a reader sees the whole
object or nothing. Artifacts are referenced by key + sha256 + size (:class:`~shared.models.ArtifactRef`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from shared.models import ArtifactRef

KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_KEY_LENGTH = 512

M = TypeVar("M", bound=BaseModel)


class InvalidKey(ValueError):
    pass


class ObjectNotFound(KeyError):
    pass


class IntegrityError(RuntimeError):
    """Stored bytes do not match the reference's sha256 or size."""


def validate_key(key: str) -> str:
    """Reject keys that could escape the store root: absolute, ``..``, empty segments, odd characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"object key must be 1..{MAX_KEY_LENGTH} characters: {key!r:.80}")
    for seg in key.split("/"):
        if not KEY_SEGMENT.match(seg) or seg.strip(".") == "":
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
    return ArtifactRef(key=validate_key(key), sha256=sha256_hex(data), size_bytes=len(data), media_type=media_type)


def model_blob(key: str, model: BaseModel) -> Blob:
    return Blob(key, model.model_dump_json(indent=2).encode(), "application/json")


class ObjectStore(ABC):
    """What every store offers. Implementations only provide the four primitives."""

    @abstractmethod
    def _put(self, key: str, data: bytes, media_type: str) -> None: ...

    @abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> Iterator[str]: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the objects live, for people (a path or an endpoint/bucket)."""

    # --- derived operations ---------------------------------------------------------------

    def put(self, blob: Blob) -> ArtifactRef:
        validate_key(blob.key)
        self._put(blob.key, blob.data, blob.media_type)
        return blob.ref

    def put_bytes(self, key: str, data: bytes, media_type: str = "application/octet-stream") -> ArtifactRef:
        return self.put(Blob(key, data, media_type))

    def put_many(self, blobs: Iterable[Blob]) -> list[ArtifactRef]:
        """Store artifacts that belong together; each write is atomic and re-running is idempotent."""
        return [self.put(b) for b in blobs]

    def put_model(self, key: str, model: BaseModel) -> ArtifactRef:
        return self.put(model_blob(key, model))

    def get_bytes(self, key: str) -> bytes:
        return self._get(validate_key(key))

    def get_ref(self, ref: ArtifactRef) -> bytes:
        data = self.get_bytes(ref.key)
        if len(data) != ref.size_bytes or sha256_hex(data) != ref.sha256:
            raise IntegrityError(f"object {ref.key} does not match its reference (sha256/size)")
        return data

    def get_model(self, key: str, model: type[M]) -> M:
        return model.model_validate_json(self.get_bytes(key))

    def get_json(self, key: str) -> object:
        return json.loads(self.get_bytes(key))


class LocalStore(ObjectStore):
    """A directory tree. Writes go to a temporary file in the target directory, then ``os.replace``."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidKey(f"object key escapes the store: {key!r}")
        return path

    def _put(self, key: str, data: bytes, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if prefix:
            validate_key(prefix.rstrip("/"))
        if not base.exists():
            return iter(())
        keys = sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        return iter(keys)

    def describe(self) -> str:
        return str(self.root)

    def path_of(self, key: str) -> Path:
        """Local path of an object (for people and reports)."""
        return self._path(key)
