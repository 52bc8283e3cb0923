"""Artifact integrity and the proof basis a request resolves to (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.models import ProofBasis, SimulationSettings
from shared.store import IntegrityError, LocalStore, ObjectNotFound, ObjectStore, S3Store


def _stores(tmp_path: Path, s3_server) -> list[ObjectStore]:  # type: ignore[no-untyped-def]
    import uuid

    return [
        LocalStore(tmp_path / "store"),
        S3Store(
            s3_server.endpoint,
            s3_server.access_key,
            s3_server.secret_key,
            bucket=f"verify-{uuid.uuid4().hex[:8]}",
        ),
    ]


def test_verify_names_a_damaged_resized_or_missing_object(tmp_path: Path, s3_server) -> None:  # type: ignore[no-untyped-def]
    for store in _stores(tmp_path, s3_server):
        data = bytes(range(256)) * 5000  # more than one read chunk
        ref = store.put_bytes("benchmarks/x-s0-v1/collision.npz", data)
        store.verify(ref)
        damaged = bytearray(data)
        damaged[1000:1005] = b"\x00\x01\x02\x03\x04"
        store.put_bytes(ref.key, bytes(damaged))
        with pytest.raises(IntegrityError, match="collision.npz"):
            store.verify(ref)
        store.put_bytes(ref.key, data[:-1])
        with pytest.raises(IntegrityError):
            store.verify(ref)
        store.delete(ref.key)
        with pytest.raises(ObjectNotFound):
            store.verify(ref)


def test_a_request_resolves_against_the_benchmarks_own_settings() -> None:
    """A request that names no scene count or check interval asks for the benchmark's own (lift checks every 2
    steps); before the benchmark is built, and for verdicts recorded without them, the global defaults."""
    lift = SimulationSettings(check_interval_steps=2, n_scenes=8)
    built = ProofBasis.asked(None, None, own=lift)
    assert (built.n_scenes, built.check_interval_steps) == (8, 2)
    assert (built.own_n_scenes, built.own_check_interval_steps) == (8, 2)
    assert built.scenes_for(None, None) == (8, 2)
    assert built.scenes_for(4, None) == (4, 2)
    assert built.scenes_for(None, 10) == (8, 10)
    overridden = ProofBasis.asked(16, 5, own=lift)
    assert (overridden.n_scenes, overridden.check_interval_steps) == (16, 5)
    assert overridden.scenes_for(None, None) == (8, 2), "the own settings stay what a plain request asks for"
    defaults = SimulationSettings()
    assert ProofBasis.asked(None, None).scenes_for(None, None) == (
        defaults.n_scenes,
        defaults.check_interval_steps,
    )
    legacy = ProofBasis(n_scenes=8, check_interval_steps=2)
    assert legacy.scenes_for(None, None) == (defaults.n_scenes, defaults.check_interval_steps)
