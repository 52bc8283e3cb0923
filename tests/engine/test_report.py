"""The dataset report: every benchmark on a card, pictures embedded and verified, placeholders where there
is none, store strings escaped, nothing external; and the `mechbench report` command's boundary."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from engines.certify.difficulty import FORMULA
from shared.keys import (
    benchmark_definition_key,
    benchmark_result_key,
    manifest_key,
    manifest_part_key,
    random_best_key,
    thumbnail_key,
)
from shared.models import (
    BenchmarkArtifacts,
    BenchmarkDefinition,
    BenchmarkResult,
    Box,
    Caps,
    DatasetEntry,
    DatasetManifest,
    DatasetRequest,
    DifficultyCard,
    JointSpec,
    JointType,
    ManifestPartRequest,
    PartRole,
    PartSpec,
    Payload,
    Proof,
    ProofResult,
    RandomDesignTrial,
    RandomPart,
    RandomProofReport,
    RobustProofReport,
    Verdict,
)
from shared.refs import make_ref
from shared.store import LocalStore, ObjectStore
from tests.helpers import run_cli
from workers.report import DatasetNotFound, dataset_report, gather_report, known_datasets, render_report

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


# ------------------------------------------------------------------------------------------------
# Certification: difficulty cards, random designs, trivial and fragile rejections, running datasets
# ------------------------------------------------------------------------------------------------

CERTIFIED = "cert-test"


def _trial(hostile: bool = False) -> RandomDesignTrial:
    word = EVIL if hostile else "plank"
    return RandomDesignTrial(
        index=17,
        parts=[
            RandomPart(
                label="p0",
                kind=word,
                dims_mm=(120, 20, 5),
                center_mm=(10, 0, 40),
                euler_deg=(0, 15, 0),
                material="aluminum_6061",
                method="cnc_milling",
                joint="hinge x",
            )
        ],
        goal_scenes=7,
        scenes_run=8,
        min_goal_distance_mm=0.0,
        solved=True,
        unit_cost_usd=3.5,
        detail=EVIL if hostile else "reached the goal in 7 of 8 scenes",
    )


def _random(
    store: ObjectStore, bid: str, solved: int, upper: float, picture: bytes | None, hostile: bool = False
) -> RandomProofReport:
    best = store.put_bytes(random_best_key(bid, 0), picture, "image/png") if picture is not None else None
    return RandomProofReport(
        sampler_version=1,
        requested=200,
        simulated=200,
        solved=solved,
        next_index=200,
        rejected_draws={(EVIL if hostile else "outside the build zone"): 12},
        scenes_run=1600,
        best=[_trial(hostile)],
        solve_rate=solved / 200,
        upper_bound=upper,
        confidence=0.95,
        threshold=0.05,
        best_picture=best,
    )


def _robust(share: float, hostile: bool = False) -> RobustProofReport:
    return RobustProofReport(
        perturbations=20,
        position_mm=2.0,
        rotation_deg=3.0,
        solved=round(20 * share),
        share=share,
        required_share=0.8,
        worst_detail=EVIL if hostile else "perturbation 4: missed the goal",
    )


def _certified(
    store: ObjectStore,
    bid: str,
    seed: int,
    *,
    failed: Proof | None = None,
    picture: bytes | None = None,
    hostile: bool = False,
    entry_numbers: bool = True,
) -> DatasetEntry:
    """A benchmark that went through certification: published (``failed`` None), or rejected by
    ``not_trivial_random`` (3 of 200 random designs... 40 of them) or by ``robust``. ``entry_numbers``:
    the manifest entry carries the certification numbers, as the dataset writes them; without, the page
    reads them from the result's difficulty card."""
    definition = _definition(store, bid, "chute", seed, thumbnail=True)
    hinge = PartSpec(
        label="flap",
        role=PartRole.REFERENCE,
        material="aluminum_6061",
        fixed=False,
        volume_mm3=500.0,
        mass_kg=0.05,
        bbox=Box(min_mm=(0, 0, 0), max_mm=(80, 10, 4)),
        joint=JointSpec(type=JointType.HINGE, axis=(0, 1, 0)),
    )
    ramp = hinge.model_copy(update={"label": "ramp", "fixed": True, "joint": None})
    definition = definition.model_copy(
        update={
            "description": EVIL if hostile else "Get the ball into the bin without touching the wall",
            "reference_solution": [ramp, hinge],
        }
    )
    ref = store.put_model(benchmark_definition_key(bid), definition)
    trivial = failed == Proof.NOT_TRIVIAL_RANDOM
    random = _random(store, bid, 40 if trivial else 3, 0.2558 if trivial else 0.0386, picture, hostile)
    robust = None if trivial else _robust(0.5 if failed == Proof.ROBUST else 0.9, hostile)
    difficulty = DifficultyCard(
        level=0 if trivial else 4,
        formula=EVIL if hostile else FORMULA,
        random_designs=random.simulated,
        random_solve_rate=random.solve_rate,
        random_upper_bound=random.upper_bound,
        reference_success_share=0.875,
        robust_share=robust.share if robust is not None else None,
        cost_slack=0.5,
        weight_slack=0.25,
        reference_parts=2,
        needs_joint=True,
    )
    verdict = Verdict.PUBLISHED if failed is None else Verdict.REJECTED
    reason = None if failed is None else (EVIL if hostile else f"{failed.value} failed")
    store.put_model(
        benchmark_result_key(bid),
        BenchmarkResult(
            benchmark_id=bid,
            family="chute",
            seed=seed,
            generator_version=1,
            verdict=verdict,
            failed_proof=failed,
            reason=reason,
            proofs=[ProofResult(proof=p, passed=p != failed, detail="measured") for p in Proof],
            caps=definition.caps,
            definition=ref,
            random=random,
            robust=robust,
            difficulty=difficulty,
        ),
    )
    numbers = {}
    if entry_numbers:
        numbers = {
            "level": difficulty.level,
            "random_designs": random.simulated,
            "random_solve_rate": random.solve_rate,
            "random_upper_bound": random.upper_bound,
            "robust_share": difficulty.robust_share,
        }
    return DatasetEntry(
        index=0,
        benchmark_id=bid,
        family="chute",
        seed=seed,
        verdict=verdict,
        failed_proof=failed,
        reason=reason,
        max_unit_cost_usd=42.5 if failed is None else None,
        max_weight_kg=0.75 if failed is None else None,
        success_share=0.875,
        **numbers,
    )


def _manifest(store: ObjectStore, entries: list[DatasetEntry], dataset_id: str = CERTIFIED) -> None:
    entries = [e.model_copy(update={"index": i}) for i, e in enumerate(entries)]
    store.put_model(
        manifest_key(dataset_id),
        DatasetManifest(
            dataset_id=dataset_id,
            request=DatasetRequest(
                families=["chute"], count=len(entries), base_seed=1, dataset_id=dataset_id
            ),
            generator_version=1,
            entries=entries,
        ),
    )


def _section(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}">')
    return page[start : page.index("</section>", start)]


def _row(page: str, section: str, bid: str) -> str:
    return re.search(rf'<tr data-benchmark="{bid}">.*?</tr>', _section(page, section), re.DOTALL).group(0)


def _article(page: str, bid: str) -> str:
    return re.search(rf'<article class="cert" id="c-{bid}".*?</article>', page, re.DOTALL).group(0)


@pytest.mark.parametrize("entry_numbers", [True, False], ids=["from-entry", "from-difficulty-card"])
def test_a_certified_benchmark_shows_its_level_solve_rate_and_difficulty_card(
    tmp_path: Path, entry_numbers: bool
) -> None:
    store = LocalStore(tmp_path / "store")
    _manifest(store, [_certified(store, "chute-s1-v1", 1, entry_numbers=entry_numbers)])
    page = dataset_report(store, CERTIFIED)

    card = _cards(page)["chute-s1-v1"]
    assert '<dt>level</dt><dd><span class="level">4</span> of 5</dd>' in card
    assert "3/200 solved, 1.5% (&le; 3.86%)" in card  # solve rate and its upper bound
    assert "<dt>robust</dt><dd>90%</dd>" in card
    assert "Get the ball into the bin without touching the wall." in card  # what an agent is given
    assert "2 parts: ramp" in card and "flap (80×10×4 mm, aluminum_6061, hinge y)" in card

    row = _row(page, "benchmarks", "chute-s1-v1")
    assert '<td class="num level">4</td>' in row and '<td class="num designs">200</td>' in row
    assert '<td class="num rate">1.5% (&le; 3.86%)</td>' in row and '<td class="num robust">90%</td>' in row

    article = _article(page, "chute-s1-v1")
    for shown in (
        "<dt>random designs</dt><dd>200 simulated of 200 requested</dd>",
        "<dt>solved</dt><dd>3</dd>",
        "<dt>solve rate</dt><dd>1.5%</dd>",
        "Clopper&ndash;Pearson, 95% one-sided, trivial at &ge; 5%",
        "18 of 20 perturbations solved",
        "<dt>cost slack</dt><dd>+50%</dd>",
        "<dt>weight slack</dt><dd>+25%</dd>",
        "<dt>reference parts</dt><dd>2</dd>",
        "<dt>joint / motor</dt><dd>yes / no</dd>",
        "outside the build zone 12",
    ):
        assert shown in article, shown
    # the nearest random design, with its parts
    assert 'data-design="17"' in article and "plank 120×20×5 mm" in article and "7/8" in article
    assert f"<b>Difficulty level:</b> {html.escape(FORMULA)}" in page
    assert 'class="bar level" data-level="4" data-count="1"' in page  # the level chart counts it
    assert 'href="#c-chute-s1-v1"' in card  # the card links to its difficulty card


def test_a_result_from_before_certification_shows_dashes(tmp_path: Path) -> None:
    store = make_dataset(tmp_path / "store")  # results without random, robust or difficulty
    report = gather_report(store, DATASET)
    old = next(c for c in report.cards if c.entry.benchmark_id == "chute-s41-v1")
    assert old.level is None and old.random_solve_rate is None and old.robust_share is None
    page = render_report(report)

    card = _cards(page)["chute-s41-v1"]
    for name in ("level", "random", "robust"):
        assert f"<dt>{name}</dt><dd>&ndash;</dd>" in card, name
    row = _row(page, "benchmarks", "chute-s41-v1")
    for cell in ("level", "designs", "rate", "robust"):
        assert f'<td class="num {cell}">&ndash;</td>' in row, cell
    article = _article(page, "chute-s41-v1")
    for name in ("level", "random designs", "solved", "solve rate", "upper bound", "robust share"):
        assert f"<dt>{name}</dt><dd>&ndash;</dd>" in article, name
    assert "<dt>reference parts</dt><dd>&ndash;</dd>" in article
    assert "<dt>cost slack</dt><dd>+50%</dd>" in article  # from the caps the result does carry
    assert "No difficulty card" in article
    assert "No difficulty recorded (results from before certification)" in page
    assert "No random design simulated" not in page and 'class="best"' not in page
    # nothing was rejected by the certification proofs
    assert "None: no benchmark was rejected by random designs" in _section(page, "uncertified")
    # the failed benchmark has no result: no article, and its card links to none
    assert 'id="c-gap-s44-v1"' not in page and 'href="#c-gap-s44-v1"' not in page


def test_a_trivial_rejection_shows_the_best_random_design_picture(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    best = _png((200, 40, 40))
    _manifest(
        store,
        [
            _certified(store, "chute-s1-v1", 1),
            _certified(store, "chute-s2-v1", 2, failed=Proof.NOT_TRIVIAL_RANDOM, picture=best),
            _certified(store, "chute-s3-v1", 3, failed=Proof.ROBUST, picture=None),
        ],
    )
    report = gather_report(store, CERTIFIED)
    cards = {c.entry.benchmark_id: c for c in report.cards}
    assert cards["chute-s2-v1"].best_random_png == best
    assert cards["chute-s1-v1"].best_random_png is None  # published: not read at all
    page = render_report(report)

    section = _section(page, "uncertified")
    trivial = re.search(r'<article class="uncertified" data-benchmark="chute-s2-v1".*?</article>', section)
    assert trivial is not None and 'data-proof="not_trivial_random"' in trivial.group(0)
    pictures = re.findall(
        r'<img class="shot" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', trivial.group(0)
    )
    assert len(pictures) == 2  # the scene with its reference, and the best random design
    assert base64.b64decode(pictures[0]) == store.get_bytes(thumbnail_key("chute-s2-v1"))
    assert base64.b64decode(pictures[1]) == store.get_bytes(random_best_key("chute-s2-v1", 0)) == best
    assert "best random design #17: 7/8 goal scenes" in trivial.group(0)
    assert "40 of 200 random designs solved it: solve rate 20% (&le; 25.6%), trivial at &ge; 5%" in section
    # a fragile reference shows its pair too; without a rendered picture, a placeholder that says so
    fragile = re.search(r'<article class="uncertified" data-benchmark="chute-s3-v1".*?</article>', section)
    assert fragile is not None and 'data-proof="robust"' in fragile.group(0)
    assert "10 of 20 perturbed references solved it: 50% (needs 80%)" in fragile.group(0)
    assert "none rendered for the best random design" in fragile.group(0)
    assert "chute-s1-v1" not in section

    # a best picture that does not match its reference is never shown
    store.put_bytes(random_best_key("chute-s2-v1", 0), b"\x89PNG\r\n\x1a\n tampered", "image/png")
    section = _section(dataset_report(store, CERTIFIED), "uncertified")
    trivial = re.search(r'<article class="uncertified" data-benchmark="chute-s2-v1".*?</article>', section)
    assert trivial is not None and trivial.group(0).count("<img") == 1
    assert "picture does not match its reference" in trivial.group(0)


def _part(store: ObjectStore, chain: str, index: int, entries: list[DatasetEntry], dataset_id: str) -> None:
    store.put_model(
        manifest_part_key(dataset_id, chain, index),
        ManifestPartRequest(dataset_id=dataset_id, chain=chain, part_index=index, entries=entries),
    )


def test_a_running_dataset_shows_the_benchmarks_of_its_finished_manifest_parts(tmp_path: Path) -> None:
    running = "still-running"
    store = LocalStore(tmp_path / "data" / "store")
    first = _certified(store, "chute-s1-v1", 1)
    second = _certified(store, "chute-s2-v1", 2, failed=Proof.NOT_TRIVIAL_RANDOM, picture=_png())
    failed = DatasetEntry(
        index=1, benchmark_id="chute-s2-v1", family="chute", seed=2, verdict=Verdict.FAILED, reason="boom"
    )
    _part(store, "aaaa", 0, [first.model_copy(update={"index": 0})], running)
    _part(store, "aaaa", 1, [failed], running)  # an abandoned run's verdict on index 1...
    _part(store, "bbbb", 0, [second.model_copy(update={"index": 1})], running)  # ...that a rerun finished
    store.put_bytes(manifest_part_key(running, "cccc", 0), b"{not json", "application/json")
    assert not store.exists(manifest_key(running))

    report = gather_report(store, running)
    assert report.running and report.manifest is None and report.parts_read == 3
    assert [(c.entry.benchmark_id, c.entry.verdict) for c in report.cards] == [
        ("chute-s1-v1", Verdict.PUBLISHED),
        ("chute-s2-v1", Verdict.REJECTED),
    ]
    assert len(report.problems) == 1 and "cccc-00000.json unreadable" in report.problems[0]
    page = render_report(report)
    assert "no dataset" not in page.lower()
    assert '<span class="badge running">running</span>' in page and "3 manifest parts written so far" in page
    assert list(_cards(page)) == ["chute-s1-v1", "chute-s2-v1"]
    assert '<span class="level">4</span> of 5' in _cards(page)["chute-s1-v1"]
    assert 'data-benchmark="chute-s2-v1"' in _section(page, "uncertified")
    assert "cccc-00000.json unreadable" in page
    assert known_datasets(store) == [running]

    # the command writes it too (no Temporal server: the store only)
    proc = run_cli("report", running, "--json", data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["benchmarks"] == 2

    # parts of another dataset do not make this one exist
    with pytest.raises(DatasetNotFound):
        gather_report(store, "not-started")


def test_stored_strings_in_the_certification_numbers_are_escaped(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    _manifest(
        store,
        [
            _certified(store, "chute-s1-v1", 1, hostile=True),
            _certified(
                store, "chute-s2-v1", 2, failed=Proof.NOT_TRIVIAL_RANDOM, picture=_png(), hostile=True
            ),
        ],
    )
    page = dataset_report(store, CERTIFIED)
    assert "<script" not in page.lower()
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot; &#x27;too&#x27;"
    article = _article(page, "chute-s1-v1")
    # the description, the random design's part and detail, the thrown-away draws, the perturbation's detail
    assert article.count(escaped) >= 5, article
    assert f"<b>Difficulty level:</b> {escaped}" in page  # the stored formula
    assert escaped in _section(page, "uncertified")  # the trivial rejection's reason
    assert f'title="chute, seed 1: {escaped}' in _cards(page)["chute-s1-v1"]  # in an attribute too
