"""Object store behaviour, the same suite over LocalStore and S3Store (moto on loopback)."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from shared.refs import MAX_KEY_LENGTH, Blob, InvalidKey, make_ref, sha256_hex, validate_key
from shared.settings import Settings
from shared.store import (
    IntegrityError,
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StoreUnavailable,
    make_store,
)

pytestmark = pytest.mark.timeout(120)


class Sample(BaseModel):
    name: str
    values: list[float]


def _bucket() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


def _s3(s3_server: Any, bucket: str | None = None, **kwargs: Any) -> S3Store:
    return S3Store(
        s3_server.endpoint,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        bucket=bucket or _bucket(),
        **kwargs,
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return _s3(request.getfixturevalue("s3_server"))


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


def test_delete_is_idempotent_and_validated(store: ObjectStore) -> None:
    store.put_bytes("gone/soon.txt", b"x")
    store.delete("gone/soon.txt")
    assert not store.exists("gone/soon.txt")
    store.delete("gone/soon.txt")  # again: not an error
    with pytest.raises(InvalidKey):
        store.delete("../escape")


def test_put_get_round_trip(store: ObjectStore) -> None:
    data = os.urandom(4096) + b"\x00\xff"
    ref = store.put_bytes("runs/r1/trace.bin", data)
    assert ref.key == "runs/r1/trace.bin"
    assert ref.sha256 == sha256_hex(data)
    assert ref.size_bytes == len(data)
    assert ref.media_type == "application/octet-stream"
    assert store.exists("runs/r1/trace.bin")
    assert store.get_bytes("runs/r1/trace.bin") == data
    assert store.get_ref(ref) == data


def test_empty_object(store: ObjectStore) -> None:
    ref = store.put_bytes("empty.bin", b"")
    assert ref.size_bytes == 0
    assert store.get_ref(ref) == b""


def test_overwrite_replaces_whole_object(store: ObjectStore) -> None:
    store.put_bytes("a/b.txt", b"first version, rather long" * 100)
    ref = store.put_bytes("a/b.txt", b"second")
    assert store.get_bytes("a/b.txt") == b"second"
    assert store.get_ref(ref) == b"second"
    assert list(store.list("a/")) == ["a/b.txt"]


def test_put_model_get_model(store: ObjectStore) -> None:
    model = Sample(name="payload", values=[1.5, 2.0, -3.25])
    ref = store.put_model("models/sample.json", model)
    assert ref.media_type == "application/json"
    assert store.get_model("models/sample.json", Sample) == model
    assert store.get_json("models/sample.json") == {"name": "payload", "values": [1.5, 2.0, -3.25]}
    assert store.get_ref(ref) == store.get_bytes("models/sample.json")


def test_put_many(store: ObjectStore) -> None:
    blobs = [Blob(f"batch/{i:02d}.bin", bytes([i]) * (i + 1)) for i in range(12)]
    blobs.append(Blob("batch/meta.json", b"{}", "application/json"))
    refs = store.put_many(blobs)
    assert [r.key for r in refs] == [b.key for b in blobs]
    assert refs == [b.ref for b in blobs]
    for blob, ref in zip(blobs, refs, strict=True):
        assert store.get_ref(ref) == blob.data
    # Re-running the batch is idempotent.
    assert store.put_many(iter(blobs)) == refs
    assert list(store.list("batch/")) == sorted(b.key for b in blobs)


def test_put_many_validates_every_key_before_writing(store: ObjectStore) -> None:
    blobs = [Blob("batch/ok-1", b"1"), Blob("batch/../escape", b"x"), Blob("batch/ok-2", b"2")]
    with pytest.raises(InvalidKey):
        store.put_many(blobs)
    assert list(store.list("")) == []


# --------------------------------------------------------------------------------------------
# Missing objects and integrity
# --------------------------------------------------------------------------------------------


def test_missing_object(store: ObjectStore) -> None:
    assert not store.exists("nope/missing.bin")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("nope/missing.bin")
    with pytest.raises(ObjectNotFound):
        store.get_model("nope/missing.json", Sample)
    with pytest.raises(ObjectNotFound):
        store.get_ref(make_ref("nope/missing.bin", b"abc"))


def test_missing_object_under_an_existing_object(store: ObjectStore) -> None:
    store.put_bytes("leaf", b"x")
    assert not store.exists("leaf/child")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("leaf/child")


def test_get_ref_detects_tampered_bytes(store: ObjectStore) -> None:
    ref = store.put_bytes("evidence/metrics.json", b'{"score": 0.91}', "application/json")
    # Same size, different content (someone rewrote the object behind the reference).
    store._put("evidence/metrics.json", b'{"score": 0.99}', "application/json")
    with pytest.raises(IntegrityError):
        store.get_ref(ref)
    # Different size.
    store._put("evidence/metrics.json", b'{"score": 0.91} ', "application/json")
    with pytest.raises(IntegrityError):
        store.get_ref(ref)
    # A reference whose size lies about the stored bytes.
    store._put("evidence/metrics.json", b'{"score": 0.91}', "application/json")
    assert store.get_ref(ref) == b'{"score": 0.91}'
    with pytest.raises(IntegrityError):
        store.get_ref(ref.model_copy(update={"size_bytes": ref.size_bytes + 1}))


# --------------------------------------------------------------------------------------------
# Listing
# --------------------------------------------------------------------------------------------


def test_list_by_prefix(store: ObjectStore) -> None:
    keys = ["runs/a/x.bin", "runs/a/y/z.bin", "runs/ab/q.bin", "runs/b.bin", "other/k.json"]
    for k in keys:
        store.put_bytes(k, k.encode())
    assert list(store.list("runs/a/")) == ["runs/a/x.bin", "runs/a/y/z.bin"]
    # A plain string prefix, as in S3.
    assert list(store.list("runs/a")) == ["runs/a/x.bin", "runs/a/y/z.bin", "runs/ab/q.bin"]
    assert list(store.list("runs/")) == sorted(k for k in keys if k.startswith("runs/"))
    assert list(store.list("")) == sorted(keys)
    assert list(store.list()) == sorted(keys)
    assert list(store.list("runs/c/")) == []
    assert list(store.list("absent/")) == []


@pytest.mark.parametrize("prefix", ["../", "/runs", "runs//", "runs/../x", "ru\x00ns"])
def test_list_rejects_invalid_prefix(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(store.list(prefix))


# --------------------------------------------------------------------------------------------
# Key validation: rejected before any write, nothing written
# --------------------------------------------------------------------------------------------

BAD_KEYS = [
    "",
    ".",
    "..",
    "../x",
    "a/../b",
    "a/..",
    "/abs/path",
    "a//b",
    "a/",
    "a/./b",
    ".hidden",
    "a/.tmp-123.part",
    "-dash-first",
    "a b",
    "a\\b",
    "C:evil",
    "a\x00b",
    "a\nb",
    "a\n",
    "a" * (MAX_KEY_LENGTH + 1),
    "a/" + "b" * 129,
    "\uff0e\uff0e/x",  # fullwidth dots
    "a\uff0fb",  # fullwidth solidus
    "\u2024\u2024/x",  # one-dot leaders
    "a/\u202eexe.txt",  # right-to-left override
    "\u200fa",  # right-to-left mark
    "a\u200bb",  # zero-width space
    "cafe\u0301",  # combining accent
    "\uff41bc",  # fullwidth letter
    "caf\u00e9",  # non-ASCII letter
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=lambda k: repr(k)[:40])
def test_invalid_keys_rejected_before_any_write(store: ObjectStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidKey):
        store.put_bytes(key, b"payload")
    with pytest.raises(InvalidKey):
        store.put(Blob(key, b"payload"))
    with pytest.raises(InvalidKey):
        store.put_model(key, Sample(name="x", values=[]))
    with pytest.raises(InvalidKey):
        store.get_bytes(key)
    with pytest.raises(InvalidKey):
        store.exists(key)
    assert list(store.list("")) == []
    if isinstance(store, LocalStore):
        # Not even a directory or a temporary file was created, inside the root or beside it.
        assert list(store.root.iterdir()) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


@pytest.mark.parametrize("key", [None, b"bytes", 3])
def test_non_string_keys_rejected(key: Any) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


@pytest.mark.parametrize(
    "key", ["a", "A/b_c/d-e/f.g", "runs/2024-01-01/x.tar.gz", "a..b", "x" * 128, "/".join(["seg"] * 128)]
)
def test_valid_keys_accepted(key: str) -> None:
    assert validate_key(key) == key


def test_local_store_rejects_symlink_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    store = LocalStore(tmp_path / "store")
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey):
        store.get_bytes("link/secret")
    with pytest.raises(InvalidKey):
        store.put_bytes("link/new", b"x")
    assert not (outside / "new").exists()


# --------------------------------------------------------------------------------------------
# Atomicity
# --------------------------------------------------------------------------------------------


def _all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_local_crash_mid_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("runs/r1/old.bin", b"old")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash mid-write")

    monkeypatch.setattr(os, fail_at, boom)
    with pytest.raises(OSError, match="simulated crash"):
        store.put_bytes("runs/r1/new.bin", b"n" * 100_000)
    with pytest.raises(OSError, match="simulated crash"):
        store.put_bytes("runs/r1/old.bin", b"replacement")  # an overwrite that fails
    monkeypatch.undo()

    assert not store.exists("runs/r1/new.bin")
    assert store.get_bytes("runs/r1/old.bin") == b"old"
    assert list(store.list("")) == ["runs/r1/old.bin"]
    assert _all_files(store.root) == ["runs/r1/old.bin"]  # no temp file left behind


def test_local_interrupt_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "store")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.put_bytes("a/b.bin", b"data")
    monkeypatch.undo()
    assert _all_files(store.root) == []


def test_local_list_skips_temp_files_and_strays(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("runs/x.bin", b"x")
    # What a hard crash (kill -9) between mkstemp and replace leaves behind, and other strays.
    (store.root / "runs" / ".tmp-abc123.part").write_bytes(b"half")
    (store.root / ".tmp-top.part").write_bytes(b"half")
    (store.root / "runs" / "caf\u00e9").write_bytes(b"not a key")
    (store.root / ".hidden").mkdir()
    (store.root / ".hidden" / "inner").write_bytes(b"not listed")
    assert list(store.list("")) == ["runs/x.bin"]
    assert list(store.list("runs/")) == ["runs/x.bin"]


def test_local_objects_are_readable_by_others(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("a.bin", b"x")
    assert (store.path_of("a.bin").stat().st_mode & 0o777) == 0o644


def test_concurrent_writers_never_expose_partial_objects(store: ObjectStore) -> None:
    payloads = [bytes([i]) * 300_000 for i in range(3)]
    valid = {sha256_hex(p) for p in payloads}
    store.put_bytes("hot/key.bin", payloads[0])
    done = threading.Event()

    def writer(p: bytes) -> None:
        for _ in range(5):
            store.put_bytes("hot/key.bin", p)

    def reader() -> int:
        reads = 0
        while not done.is_set():
            assert sha256_hex(store.get_bytes("hot/key.bin")) in valid
            reads += 1
        return reads

    with ThreadPoolExecutor(max_workers=5) as pool:
        readers = [pool.submit(reader) for _ in range(2)]
        writers = [pool.submit(writer, p) for p in payloads]
        try:
            for f in writers:
                f.result()  # re-raises a writer's error
        finally:
            done.set()
        assert all(f.result() > 0 for f in readers)  # re-raises a reader's error
    assert list(store.list("hot/")) == ["hot/key.bin"]


# --------------------------------------------------------------------------------------------
# S3 specifics
# --------------------------------------------------------------------------------------------


def test_s3_creates_bucket_and_tolerates_existing(s3_server: Any) -> None:
    bucket = _bucket()
    first = _s3(s3_server, bucket)
    first.put_bytes("k", b"v")
    second = _s3(s3_server, bucket)  # bucket already there
    assert second.get_bytes("k") == b"v"
    assert second.describe() == f"s3://{bucket} at http://{s3_server.endpoint}"


def test_s3_tolerates_concurrent_bucket_creator(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from minio import Minio
    from minio.error import S3Error

    bucket = _bucket()
    _s3(s3_server, bucket)  # the "other worker" creates it

    # We checked before the other worker created it, and our create then loses the race.
    def lost_race(self: Minio, bucket_name: str, location: str | None = None, **kw: object) -> None:
        raise S3Error(None, "BucketAlreadyOwnedByYou", "already yours", bucket_name, "req", "host")  # type: ignore[arg-type]

    monkeypatch.setattr(Minio, "bucket_exists", lambda self, name: False)
    monkeypatch.setattr(Minio, "make_bucket", lost_race)
    store = _s3(s3_server, bucket)
    monkeypatch.undo()
    store.put_bytes("k", b"v")
    assert store.get_bytes("k") == b"v"


def test_s3_stores_content_type_and_sha256(s3_server: Any) -> None:
    store = _s3(s3_server)
    ref = store.put_model("m/sample.json", Sample(name="x", values=[1.0]))
    stat = store._client.stat_object(store.bucket, "m/sample.json")
    assert stat.content_type == "application/json"
    assert stat.metadata.get("x-amz-meta-sha256") == ref.sha256


def test_s3_unreachable_raises_retryable_error() -> None:
    import urllib3

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = urllib3.PoolManager(retries=urllib3.Retry(total=0), timeout=urllib3.Timeout(connect=2, read=2))
    with pytest.raises(StoreUnavailable) as info:
        S3Store(f"127.0.0.1:{port}", "k", "s", "bucket", http_client=client)
    assert isinstance(info.value, ConnectionError)
    assert isinstance(info.value.__cause__, urllib3.exceptions.HTTPError)


def test_s3_errors_after_server_goes_away(s3_server: Any) -> None:
    """A store whose server stops answering raises StoreUnavailable on every operation."""
    import urllib3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = urllib3.PoolManager(retries=urllib3.Retry(total=0), timeout=urllib3.Timeout(connect=2, read=5))
    store = S3Store(f"{host}:{port}", "k", "s", _bucket(), http_client=client)
    store.put_bytes("k", b"v")
    server.stop()
    client.clear()
    operations: list[Callable[[], object]] = [
        lambda: store.put_bytes("k2", b"v"),
        lambda: store.get_bytes("k"),
        lambda: store.exists("k"),
        lambda: list(store.list("")),
    ]
    for op in operations:
        with pytest.raises(StoreUnavailable):
            op()


@pytest.mark.parametrize(
    ("endpoint", "secure", "expected"),
    [
        ("minio:9000", False, "minio:9000"),
        ("http://minio:9000", False, "minio:9000"),
        ("http://minio:9000/", False, "minio:9000"),
    ],
)
def test_s3_endpoint_forms(
    s3_server: Any, monkeypatch: pytest.MonkeyPatch, endpoint: str, secure: bool, expected: str
) -> None:
    monkeypatch.setattr(S3Store, "_ensure_bucket", lambda self: None)  # no network needed
    store = S3Store(endpoint, "k", "s", "b", secure=secure)
    assert store.endpoint == expected
    assert store.describe() == f"s3://b at http://{expected}"


@pytest.mark.parametrize(("endpoint", "secure"), [("https://minio:9000", False), ("minio:9000/path", False)])
def test_s3_endpoint_rejected(endpoint: str, secure: bool) -> None:
    with pytest.raises(ValueError):
        S3Store(endpoint, "k", "s", "b", secure=secure)


# --------------------------------------------------------------------------------------------
# make_store
# --------------------------------------------------------------------------------------------


def test_make_store_local_defaults_under_data_dir(tmp_path: Path) -> None:
    store = make_store(Settings(store="local", data_dir=tmp_path / "data"))
    assert isinstance(store, LocalStore)
    assert store.root == (tmp_path / "data" / "store").resolve()
    assert store.describe() == str(store.root)


def test_make_store_local_explicit_dir(tmp_path: Path) -> None:
    store = make_store(Settings(store="local", data_dir=tmp_path / "data", store_dir=tmp_path / "elsewhere"))
    assert isinstance(store, LocalStore)
    assert store.root == (tmp_path / "elsewhere").resolve()


def test_make_store_s3(s3_server: Any) -> None:
    bucket = _bucket()
    settings = Settings(
        store="s3",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_bucket=bucket,
        s3_secure=False,
    )
    store = make_store(settings)
    assert isinstance(store, S3Store)
    assert store.bucket == bucket
    assert store.describe() == f"s3://{bucket} at http://{s3_server.endpoint}"
    ref = store.put_bytes("x/y", b"z")
    assert store.get_ref(ref) == b"z"
