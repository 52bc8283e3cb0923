"""Object store: a local directory (embedded default) or S3/MinIO (several machines).

Keys are validated so they can never escape their prefix. Writes are atomic: a reader sees the whole
object or nothing. Artifacts are referenced by key + sha256 + size (:class:`~shared.models.ArtifactRef`).

Errors:

- :class:`InvalidKey` (a ``ValueError``) and :class:`IntegrityError` are deterministic: retrying does not help.
- :class:`ObjectNotFound` (a ``KeyError``) means the key holds no object.
- :class:`StoreUnavailable` (a ``ConnectionError``) means the store could not be reached or answered with a
  server error; it is transient and retryable (a Temporal activity that lets it propagate is retried).

``minio`` is imported lazily inside :class:`S3Store`, so importing this module stays cheap. Keys, digests and
:class:`~shared.refs.Blob` live in :mod:`shared.refs`, which the engines use without a store.

Over 400 lines because the two stores share one interface and one set of error meanings, and are best
read side by side: the directory's atomic writes next to the S3 client's mapping of its errors onto them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from shared.models import ArtifactRef
from shared.refs import KEY_SEGMENT, Blob, InvalidKey, model_blob, sha256_hex, validate_key

if TYPE_CHECKING:
    import urllib3
    from minio import Minio

    from shared.settings import Settings

TEMP_PREFIX = ".tmp-"
"""LocalStore temporary files start with this; no valid key segment can (segments start alphanumeric)."""

M = TypeVar("M", bound=BaseModel)


class ObjectNotFound(KeyError):
    """No object is stored under the key."""


class IntegrityError(RuntimeError):
    """Stored bytes do not match the reference's sha256 or size."""


class StoreUnavailable(ConnectionError):
    """The store could not be reached or failed on its side (transient: retry)."""


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty (everything), or a key, optionally ending with one ``/``."""
    if prefix:
        validate_key(prefix.removesuffix("/"))
    return prefix


class ObjectStore(ABC):
    """What every store offers. Implementations only provide the primitives below.

    Keys are validated by the derived operations before any primitive runs, so ``_put``/``_get``
    always receive a valid key.
    """

    @abstractmethod
    def _put(self, key: str, data: bytes, media_type: str) -> None:
        """Store ``data`` under ``key`` atomically (replacing any previous object)."""

    @abstractmethod
    def _get(self, key: str) -> bytes:
        """The object's bytes; :class:`ObjectNotFound` when there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def _delete(self, key: str) -> None:
        """Remove the object if it exists (idempotent)."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix`` (a plain string prefix, as in S3), sorted, recursive."""

    @abstractmethod
    def describe(self) -> str:
        """Where the objects live, for people (a path or an endpoint/bucket)."""

    # --- derived operations ---------------------------------------------------------------

    def delete(self, key: str) -> None:
        """Remove ``key`` if present; deleting a missing object is not an error."""
        self._delete(validate_key(key))

    def put(self, blob: Blob) -> ArtifactRef:
        ref = blob.ref  # validates the key before anything is written
        self._put(blob.key, blob.data, blob.media_type)
        return ref

    def put_bytes(self, key: str, data: bytes, media_type: str = "application/octet-stream") -> ArtifactRef:
        return self.put(Blob(key, data, media_type))

    def put_many(self, blobs: Iterable[Blob]) -> list[ArtifactRef]:
        """Store artifacts that belong together; each write is atomic and re-running is idempotent.

        Every key is validated before the first write, so one bad key writes nothing.
        """
        batch = list(blobs)
        refs = [b.ref for b in batch]
        for blob in batch:
            self._put(blob.key, blob.data, blob.media_type)
        return refs

    def put_model(self, key: str, model: BaseModel) -> ArtifactRef:
        return self.put(model_blob(key, model))

    def get_bytes(self, key: str) -> bytes:
        return self._get(validate_key(key))

    def get_ref(self, ref: ArtifactRef) -> bytes:
        data = self.get_bytes(ref.key)
        if len(data) != ref.size_bytes or sha256_hex(data) != ref.sha256:
            raise IntegrityError(f"object {ref.key} does not match its reference (sha256/size)")
        return data

    def verify(self, ref: ArtifactRef) -> None:
        """Check that the object under ``ref.key`` is the one ``ref`` names: :class:`IntegrityError` when its
        sha256 or size differ, :class:`ObjectNotFound` when there is none."""
        self.get_ref(ref)

    def get_model(self, key: str, model: type[M]) -> M:
        return model.model_validate_json(self.get_bytes(key))

    def get_json(self, key: str) -> object:
        return json.loads(self.get_bytes(key))


# ------------------------------------------------------------------------------------------------
# Local directory
# ------------------------------------------------------------------------------------------------


class LocalStore(ObjectStore):
    """A directory tree. Writes go to a temporary file in the target directory, then ``os.replace``.

    A crash mid-write leaves at most a ``.tmp-*`` file, which is never listed nor readable as a key.
    Unlike S3, a key cannot be both an object and a "directory" (``a`` and ``a/b``).
    """

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey(f"object key escapes the store: {key!r}")
        return path

    def _put(self, key: str, data: bytes, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; objects are meant to be shared
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)

    def _get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def verify(self, ref: ArtifactRef) -> None:
        """As :meth:`ObjectStore.verify`, without holding the object in memory: the size first, then the hash
        read in chunks."""
        path = self._path(ref.key)
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise ObjectNotFound(ref.key)
            digest = hashlib.sha256()
            if size == ref.size_bytes:
                with path.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        digest.update(chunk)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(ref.key) from None
        if size != ref.size_bytes or digest.hexdigest() != ref.sha256:
            raise IntegrityError(f"object {ref.key} does not match its reference (sha256/size)")

    def _delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        # Walk only the deepest directory the prefix names, then filter by the string prefix.
        base_rel = prefix if prefix.endswith("/") or not prefix else prefix.rpartition("/")[0]
        base = self.root / base_rel if base_rel else self.root
        if not base.is_dir():
            return iter(())
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if KEY_SEGMENT.fullmatch(d)]
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if not KEY_SEGMENT.fullmatch(name):  # temp files and strays are not objects
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        keys.sort()
        return iter(keys)

    def describe(self) -> str:
        return str(self.root)

    def path_of(self, key: str) -> Path:
        """Local path of an object (for people and reports)."""
        return self._path(key)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (best effort: not every platform/filesystem supports it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ------------------------------------------------------------------------------------------------
# S3 / MinIO
# ------------------------------------------------------------------------------------------------


class S3Store(ObjectStore):
    """A bucket on MinIO or any S3-compatible server, through the ``minio`` client.

    An S3 PUT (single or multipart) is atomic: the object becomes visible whole, or not at all.
    The bucket is created when missing (a concurrent creator is tolerated). Transport failures and
    5xx answers surface as :class:`StoreUnavailable` (chained to the original error); the ``minio``
    client already retries them a few times underneath.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        region: str | None = None,
        *,
        http_client: urllib3.PoolManager | None = None,
    ):
        from minio import Minio

        self.endpoint, self.secure = _split_endpoint(endpoint, secure)
        self.bucket = bucket
        self.region = region
        self._client: Minio = Minio(
            self.endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=self.secure,
            region=region,
            http_client=http_client,
        )
        self._ensure_bucket()

    # --- primitives ------------------------------------------------------------------------

    def _put(self, key: str, data: bytes, media_type: str) -> None:
        with self._errors():
            self._client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                length=len(data),
                content_type=media_type,
                metadata={"sha256": sha256_hex(data)},
            )

    def _get(self, key: str) -> bytes:
        with self._errors(not_found=key):
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            with self._errors(not_found=key):
                self._client.stat_object(self.bucket, key)
        except ObjectNotFound:
            return False
        return True

    def _delete(self, key: str) -> None:
        with self._errors():
            self._client.remove_object(self.bucket, key)  # S3 DELETE of a missing key succeeds

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        with self._errors():
            keys = sorted(
                obj.object_name
                for obj in self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
                if obj.object_name is not None and not obj.is_dir
            )
        return iter(keys)

    def describe(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"s3://{self.bucket} at {scheme}://{self.endpoint}"

    # --- helpers ---------------------------------------------------------------------------

    def _ensure_bucket(self) -> None:
        from minio.error import S3Error

        with self._errors():
            if self._client.bucket_exists(self.bucket):
                return
            try:
                if self.region:
                    self._client.make_bucket(self.bucket, location=self.region)
                else:
                    self._client.make_bucket(self.bucket)
            except S3Error as exc:
                # Another worker created it between our check and our create.
                if exc.code == "BucketAlreadyOwnedByYou":
                    return
                if exc.code == "BucketAlreadyExists" and self._client.bucket_exists(self.bucket):
                    return
                raise

    @contextlib.contextmanager
    def _errors(self, not_found: str | None = None) -> Iterator[None]:
        """Translate ``minio``/``urllib3`` errors into the store's exceptions (always chained)."""
        import urllib3.exceptions
        from minio.error import S3Error, ServerError

        try:
            yield
        except S3Error as exc:
            if not_found is not None and exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                raise ObjectNotFound(not_found) from None
            raise
        except ServerError as exc:
            raise StoreUnavailable(f"{self.describe()} answered with a server error: {exc}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise StoreUnavailable(f"cannot reach {self.describe()}: {exc}") from exc


def _split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """``minio`` wants ``host:port``; accept ``http(s)://host:port`` too when it agrees with ``secure``."""
    for scheme, is_secure in (("https://", True), ("http://", False)):
        if endpoint.startswith(scheme):
            if is_secure != secure:
                raise ValueError(f"S3 endpoint {endpoint!r} contradicts s3_secure={secure}")
            endpoint = endpoint[len(scheme) :]
    endpoint = endpoint.rstrip("/")
    if not endpoint or "/" in endpoint:
        raise ValueError(f"S3 endpoint must be host[:port], got {endpoint!r}")
    return endpoint, secure


# ------------------------------------------------------------------------------------------------
# Factory
# ------------------------------------------------------------------------------------------------


def make_store(settings: Settings | None = None) -> ObjectStore:
    """The store the settings ask for: a local directory (``store=local``) or S3/MinIO (``store=s3``)."""
    if settings is None:
        from shared.settings import get_settings

        settings = get_settings()
    if settings.store == "s3":
        return S3Store(
            settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    return LocalStore(settings.local_store_dir)
