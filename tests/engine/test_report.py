"""The dataset report: every benchmark on a card, pictures embedded and verified, placeholders where there
is none, store strings escaped, nothing external; and the `mechbench report` command's boundary."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from shared.keys import benchmark_definition_key, benchmark_result_key, manifest_key, thumbnail_key
from shared.models import (
    BenchmarkArtifacts,
    BenchmarkDefinition,
    BenchmarkResult,
    Box,
    Caps,
    DatasetEntry,
    DatasetManifest,
    DatasetRequest,
    PartRole,
    PartSpec,
    Payload,
    Proof,
    ProofResult,
    Verdict,
)
from shared.refs import make_ref
from shared.store import LocalStore, ObjectStore
from tests.helpers import run_cli
from workers.report import DatasetNotFound, dataset_report, gather_report, known_datasets

DATASET = "report-test"
EVIL = '<script>alert("x")</script> & "quotes" \'too\''


def _png(colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    image = Image.new("RGB", (320, 240), colour)
    for x in range(40, 120):  # something that is not a flat colour
        for y in range(60, 100):
            image.putpixel((x, y), (250, 250, 250))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _caps() -> Caps:
    return Caps(
        max_unit_cost_usd=42.5,
        max_weight_kg=0.75,
        headroom_factor=1.5,
        reference_unit_cost_usd=28.33,
        reference_weight_kg=0.5,
        target_quantity=100,
        cost_basis="test",
    )


def _definition(store: ObjectStore, bid: str, family: str, seed: int, thumbnail: bool) -> BenchmarkDefinition:
    collision = store.put_bytes(f"benchmarks/{bid}/collision.npz", b"not really an npz")
    thumb = store.put_bytes(thumbnail_key(bid), _png(), "image/png") if thumbnail else None
    part = PartSpec(
        label="floor",
        role=PartRole.FIXTURE,
        material="aluminum_6061",
        volume_mm3=1000.0,
        mass_kg=0.1,
        bbox=Box(min_mm=(-100, -100, -10), max_mm=(100, 100, 0)),
    )
    return BenchmarkDefinition(
        benchmark_id=bid,
        family=family,
        seed=seed,
        generator_version=1,
        fixtures=[part],
        payload=Payload(radius_mm=10, material="steel_carbon", start_mm=(0, 0, 100)),
        goal_zone=Box(min_mm=(50, 50, 0), max_mm=(90, 90, 40)),
        build_zone=Box(min_mm=(-90, -90, 0), max_mm=(90, 90, 90)),
        simulation_bounds=Box(min_mm=(-200, -200, -50), max_mm=(200, 200, 300)),
        caps=_caps(),
        artifacts=BenchmarkArtifacts(collision=collision, thumbnail=thumb),
    )


def _publish(store: ObjectStore, bid: str, family: str, seed: int, thumbnail: bool) -> DatasetEntry:
    definition = _definition(store, bid, family, seed, thumbnail)
    ref = store.put_model(benchmark_definition_key(bid), definition)
    proofs = [ProofResult(proof=p, passed=True, detail="ok") for p in Proof]
    store.put_model(
        benchmark_result_key(bid),
        BenchmarkResult(
            benchmark_id=bid,
            family=family,
            seed=seed,
            generator_version=1,
            verdict=Verdict.PUBLISHED,
            proofs=proofs,
            caps=definition.caps,
            definition=ref,
        ),
    )
    return DatasetEntry(
        index=0,
        benchmark_id=bid,
        family=family,
        seed=seed,
        verdict=Verdict.PUBLISHED,
        max_unit_cost_usd=42.5,
        max_weight_kg=0.75,
        success_share=0.875,
    )


def _reject(store: ObjectStore, bid: str, family: str, seed: int) -> DatasetEntry:
    proofs = [
        ProofResult(proof=Proof.GEOMETRY, passed=True, detail="ok"),
        ProofResult(proof=Proof.STABLE, passed=True, detail="ok"),
        ProofResult(proof=Proof.NOT_TRIVIAL, passed=False, detail=EVIL, measured=0.625, limit=0.0),
    ]
    store.put_model(
        benchmark_result_key(bid),
        BenchmarkResult(
            benchmark_id=bid,
            family=family,
            seed=seed,
            generator_version=1,
            verdict=Verdict.REJECTED,
            failed_proof=Proof.NOT_TRIVIAL,
            reason=EVIL,
            proofs=proofs,
        ),
    )
    return DatasetEntry(
        index=0,
        benchmark_id=bid,
        family=family,
        seed=seed,
        verdict=Verdict.REJECTED,
        failed_proof=Proof.NOT_TRIVIAL,
        reason=EVIL,
    )


def make_dataset(root: Path, dataset_id: str = DATASET) -> LocalStore:
    """A store with four benchmarks: published with a thumbnail, published from before thumbnails existed,
    rejected with a hostile reason, and failed (no result at all)."""
    store = LocalStore(root)
    entries = [
        _publish(store, "chute-s41-v1", "chute", 41, thumbnail=True),
        _publish(store, "gap-s42-v1", "gap", 42, thumbnail=False),
        _reject(store, "chute-s43-v1", "chute", 43),
        DatasetEntry(
            index=0, benchmark_id="gap-s44-v1", family="gap", seed=44, verdict=Verdict.FAILED, reason="boom"
        ),
    ]
    entries = [e.model_copy(update={"index": i}) for i, e in enumerate(entries)]
    manifest = DatasetManifest(
        dataset_id=dataset_id,
        request=DatasetRequest(families=["chute", "gap"], count=4, base_seed=41, dataset_id=dataset_id),
        generator_version=1,
        entries=entries,
    )
    store.put_model(manifest_key(dataset_id), manifest)
    return store


def _cards(page: str) -> dict[str, str]:
    """benchmark id -> the HTML of its gallery card."""
    found = re.findall(
        r'(<figure class="benchmark[^"]*" data-benchmark="([^"]+)".*?</figure>)', page, re.DOTALL
    )
    return {bid: html for html, bid in found}


def test_gather_reads_every_entry_and_verifies_pictures(tmp_path: Path) -> None:
    store = make_dataset(tmp_path / "store")
    report = gather_report(store, DATASET)
    by_id = {c.entry.benchmark_id: c for c in report.cards}
    assert list(by_id) == ["chute-s41-v1", "gap-s42-v1", "chute-s43-v1", "gap-s44-v1"]
    assert by_id["chute-s41-v1"].thumbnail_png is not None
    assert by_id["gap-s42-v1"].thumbnail_png is None and by_id["gap-s42-v1"].definition is not None
    rejected = by_id["chute-s43-v1"]
    assert rejected.failing_proof is not None and rejected.failing_proof.measured == 0.625
    assert by_id["gap-s44-v1"].result is None and not by_id["gap-s44-v1"].problems
    assert report.pictures == 1
    assert report.counts == {Verdict.PUBLISHED: 2, Verdict.REJECTED: 1, Verdict.FAILED: 1}


def test_report_shows_every_benchmark_pictures_placeholders_and_escaped_reasons(tmp_path: Path) -> None:
    store = make_dataset(tmp_path / "store")
    page = dataset_report(store, DATASET)

    cards = _cards(page)
    assert list(cards) == ["chute-s41-v1", "gap-s42-v1", "chute-s43-v1", "gap-s44-v1"]
    # exactly one embedded picture, the stored PNG byte for byte, on the right card
    images = re.findall(r'<img class="thumb" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 1
    assert base64.b64decode(images[0]) == store.get_bytes(thumbnail_key("chute-s41-v1"))
    assert '<img class="thumb"' in cards["chute-s41-v1"]
    for bid in ("gap-s42-v1", "chute-s43-v1", "gap-s44-v1"):
        assert "<img" not in cards[bid] and 'class="placeholder"' in cards[bid] and "no picture" in cards[bid]
    # family, seed, verdict, caps and the reference share on the cards
    assert "chute" in cards["chute-s41-v1"] and ">41<" in cards["chute-s41-v1"]
    assert "$42.50" in cards["chute-s41-v1"] and "0.750 kg" in cards["chute-s41-v1"]
    assert "88%" in cards["chute-s41-v1"] and "needs 75%" in cards["chute-s41-v1"]
    assert 'data-verdict="rejected"' in cards["chute-s43-v1"]
    assert 'data-verdict="failed"' in cards["gap-s44-v1"]

    # the hostile reason is text, never markup
    assert "<script" not in page.lower()
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot; &#x27;too&#x27;" in page
    )
    rejected = page[page.index('<section id="rejected">') :]
    assert "chute-s43-v1" in rejected and "gap-s44-v1" in rejected and "chute-s41-v1" not in rejected
    assert "not_trivial" in rejected and "0.625" in rejected and "boom" in rejected

    # self-contained: nothing external, no script, charts as inline SVG
    assert "http://" not in page and "https://" not in page
    assert re.search(r"\bsrc=\"(?!data:)", page) is None
    assert page.count("<svg") >= 2 and 'class="bar published"' in page
    assert "Dataset <code>report-test</code>" in page and "base seed 41" in page


def test_damaged_or_missing_thumbnail_is_a_placeholder_not_a_broken_image(tmp_path: Path) -> None:
    store = make_dataset(tmp_path / "store")
    store.put_bytes(thumbnail_key("chute-s41-v1"), b"\x89PNG\r\n\x1a\n tampered", "image/png")
    page = dataset_report(store, DATASET)
    assert "<img" not in page
    assert "does not match its reference" in _cards(page)["chute-s41-v1"]

    store.delete(thumbnail_key("chute-s41-v1"))
    page = dataset_report(store, DATASET)
    assert "<img" not in page and "thumbnail missing from the store" in page

    # not a PNG, though it matches its reference: still never shown as an image
    bid = "chute-s41-v1"
    bad = b"GIF89a not a png"
    definition = store.get_model(benchmark_definition_key(bid), BenchmarkDefinition)
    ref = store.put_bytes(thumbnail_key(bid), bad, "image/png")
    definition = definition.model_copy(
        update={"artifacts": definition.artifacts.model_copy(update={"thumbnail": ref})}
    )
    def_ref = store.put_model(benchmark_definition_key(bid), definition)
    result = store.get_model(benchmark_result_key(bid), BenchmarkResult)
    store.put_model(benchmark_result_key(bid), result.model_copy(update={"definition": def_ref}))
    assert make_ref(ref.key, bad, "image/png") == ref
    page = dataset_report(store, DATASET)
    assert "<img" not in page and "not a PNG" in page


def test_unknown_and_invalid_dataset_ids(tmp_path: Path) -> None:
    store = make_dataset(tmp_path / "store")
    with pytest.raises(DatasetNotFound):
        gather_report(store, "no-such-dataset")
    make_dataset(tmp_path / "store", "another")
    assert known_datasets(store) == ["another", DATASET]
    for bad in ("../x", "Report", "", "a/b", "x" * 65):
        with pytest.raises(ValueError, match="not a dataset id"):
            gather_report(store, bad)


# ------------------------------------------------------------------------------------------------
# The command line, in a subprocess as a user runs it
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset_id", ["no-such-dataset", "../etc", "Bad_Id", "a/b"])
def test_cli_rejects_unknown_or_invalid_dataset_and_writes_nothing(dataset_id: str, tmp_path: Path) -> None:
    proc = run_cli("report", dataset_id, data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "dataset_id:" in proc.stderr
    assert not any(tmp_path.iterdir()), "nothing may be written (no report, no store)"

    make_dataset(tmp_path / "data" / "store")  # a store that exists, without this dataset
    before = sorted(tmp_path.rglob("*"))
    proc = run_cli("report", dataset_id, data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "dataset_id:" in proc.stderr.replace("\n", " ")
    assert sorted(tmp_path.rglob("*")) == before
    if dataset_id == "no-such-dataset":  # the message names the datasets that are there
        assert DATASET in proc.stderr


def test_cli_writes_the_report(tmp_path: Path) -> None:
    make_dataset(tmp_path / "data" / "store")
    proc = run_cli("report", DATASET, data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    default = tmp_path / f"{DATASET}-report.html"
    assert proc.stdout.strip() == str(default)
    assert len(_cards(default.read_text())) == 4

    out = tmp_path / "out" / "r.html"
    out.parent.mkdir()
    proc = run_cli("report", DATASET, "--out", str(out), "--json", data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["report"] == str(out) and info["benchmarks"] == 4 and info["pictures"] == 1
    assert (info["published"], info["rejected"], info["failed"]) == (2, 1, 1)
    assert out.read_text() == default.read_text()
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.html"], "no temporary file left"

    proc = run_cli(
        "report",
        DATASET,
        "--out",
        str(tmp_path / "missing" / "r.html"),
        data_dir=tmp_path / "data",
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "--out" in proc.stderr
