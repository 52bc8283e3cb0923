"""A real dataset's report in headless Chromium: every benchmark has a visible card, every published one a
picture that loaded; a screenshot is kept in test-artifacts/report.png. Its leaderboard page, with two
submitters' attempts on one of its benchmarks: the standings rows and a drawn chart
(test-artifacts/leaderboard.png).

Chromium and its driver are Debian's (`make browser`, which `make test` runs); a missing browser fails
this test rather than skipping it, and selenium-manager never downloads anything (both paths are given)."""

from __future__ import annotations

import math
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from shared.keys import leaderboard_entry_key
from shared.models import (
    DatasetManifest,
    DatasetRequest,
    DatasetResult,
    EvaluationVerdict,
    LeaderboardEntry,
    Verdict,
)
from shared.scoring import score
from shared.store import ObjectStore, make_store
from shared.temporal import WF_GENERATE_DATASET
from workers.report import dataset_report
from workers.report_leaderboard import leaderboard_page

pytestmark = pytest.mark.temporal

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _chrome(profile: Path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        assert binary.is_file(), f"{binary} is missing: run `make browser` (Debian chromium, chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(service=service, options=options)


@dataclass(frozen=True)
class Generated:
    dataset_id: str
    manifest: DatasetManifest
    store: ObjectStore


@pytest.fixture(scope="module")
async def generated(temporal_env, worker_queue, test_settings) -> Generated:  # type: ignore[no-untyped-def]
    """A real dataset of two benchmarks (chute and gap), generated once for the report and its leaderboard."""
    client: Client = temporal_env.client
    req = DatasetRequest(
        families=["chute", "gap"], count=2, base_seed=41, dataset_id=f"report-{uuid.uuid4().hex[:8]}"
    )
    result: DatasetResult = await client.execute_workflow(
        WF_GENERATE_DATASET,
        req,
        id=f"report-{uuid.uuid4().hex[:8]}",
        task_queue=worker_queue,
        result_type=DatasetResult,
    )
    assert result.count == 2 and result.failed == 0
    assert req.dataset_id is not None
    store = make_store(test_settings)
    manifest = DatasetManifest.model_validate_json(store.get_ref(result.manifest))
    return Generated(req.dataset_id, manifest, store)


async def test_report_gallery_in_headless_chromium(generated: Generated, tmp_path: Path) -> None:
    store, manifest = generated.store, generated.manifest
    page = tmp_path / "report.html"
    page.write_text(dataset_report(store, generated.dataset_id), encoding="utf-8")

    from selenium.webdriver.common.by import By

    driver = _chrome(tmp_path / "chromium-profile")
    try:
        driver.get(page.as_uri())
        assert generated.dataset_id in driver.title
        cards = {
            el.get_attribute("data-benchmark"): el
            for el in driver.find_elements(By.CSS_SELECTOR, "figure.benchmark")
        }
        assert set(cards) == {e.benchmark_id for e in manifest.entries}, "one card per manifest entry"
        seen: dict[str, str] = {}
        for entry in manifest.entries:
            card = cards[entry.benchmark_id]
            assert card.is_displayed(), entry.benchmark_id
            assert card.get_attribute("data-verdict") == entry.verdict.value
            assert entry.family in card.text and str(entry.seed) in card.text
            images = card.find_elements(By.CSS_SELECTOR, "img.thumb")
            if images:
                img = images[0]
                driver.execute_script("arguments[0].scrollIntoView();", img)
                loaded = driver.execute_script(
                    "return arguments[0].complete && arguments[0].naturalWidth;", img
                )
                assert loaded and int(loaded) > 0, f"{entry.benchmark_id}: its picture did not load"
                assert img.is_displayed() and img.size["width"] > 0 and img.size["height"] > 0
                seen[entry.benchmark_id] = "picture"
            else:
                placeholder = card.find_element(By.CSS_SELECTOR, ".placeholder")
                assert placeholder.is_displayed() and "no picture" in placeholder.text
                seen[entry.benchmark_id] = "placeholder"
        published = [e.benchmark_id for e in manifest.entries if e.verdict == Verdict.PUBLISHED]
        assert published, [(e.benchmark_id, e.reason) for e in manifest.entries]
        missing = [bid for bid in published if seen[bid] != "picture"]
        assert not missing, f"published benchmarks without a loaded picture: {missing} ({seen})"
        assert driver.find_elements(By.CSS_SELECTOR, "#summary svg")
        # the certification numbers: each benchmark's level on its card, and its difficulty card below
        articles = {
            el.get_attribute("data-benchmark"): el
            for el in driver.find_elements(By.CSS_SELECTOR, "article.cert")
        }
        for entry in manifest.entries:
            if entry.level is not None:
                assert f"{entry.level} of 5" in cards[entry.benchmark_id].text, entry.benchmark_id
            if entry.verdict != Verdict.FAILED:
                article = articles[entry.benchmark_id]
                driver.execute_script("arguments[0].scrollIntoView();", article)
                assert article.is_displayed() and "level" in article.text and "solve rate" in article.text

        driver.execute_script("window.scrollTo(0, 0);")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "report.png"
        shot.unlink(missing_ok=True)
        assert driver.save_screenshot(str(shot))
    finally:
        driver.quit()

    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000, len(data)
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert width >= 1000 and height >= 1000, (width, height)


def _attempt(
    submitter: str, benchmark: str, n: int, passed: bool, share: float, cost: float, cap: float
) -> LeaderboardEntry:
    return LeaderboardEntry(
        submitter=submitter,
        benchmark_id=benchmark,
        design_sha256=f"{n:064x}",
        evaluation_id=f"{benchmark}-{n:016x}",
        started_at=datetime(2026, 12, 7, tzinfo=UTC) + timedelta(seconds=n),
        verdict=EvaluationVerdict.PASSED if passed else EvaluationVerdict.FAILED,
        score=score(passed, share, cost, cap),
        unit_cost_usd=cost,
    )


async def test_leaderboard_page_in_headless_chromium(generated: Generated, tmp_path: Path) -> None:
    store, manifest = generated.store, generated.manifest
    published = [e for e in manifest.entries if e.verdict == Verdict.PUBLISHED]
    assert published and published[0].max_unit_cost_usd, [
        (e.benchmark_id, e.reason) for e in manifest.entries
    ]
    bench, cap = published[0].benchmark_id, published[0].max_unit_cost_usd
    tag = uuid.uuid4().hex[:6]
    first, second = f"ace-{tag}", f"late_{tag}"  # names with "-" and "_"
    entries = [
        _attempt(first, bench, 1, True, 1.0, 0.5 * cap, cap),  # solved at the first attempt, half the cap
        _attempt(second, bench, 2, False, 0.4, 0.3 * cap, cap),
        _attempt(second, bench, 3, True, 0.9, 0.9 * cap, cap),  # solved at the second
    ]
    keys = [leaderboard_entry_key(e.submitter, e.benchmark_id, e.design_sha256) for e in entries]
    for key, e in zip(keys, entries, strict=True):
        store.put_model(key, e)
    try:
        page = tmp_path / "leaderboard.html"
        page.write_text(leaderboard_page(store, generated.dataset_id), encoding="utf-8")
    finally:
        for key in keys:  # the session's store is shared: other tests' leaderboards stay as they were
            store.delete(key)
    n = len(published)

    from selenium.webdriver.common.by import By

    driver = _chrome(tmp_path / "chromium-profile")
    try:
        driver.get(page.as_uri())
        assert generated.dataset_id in driver.title and "leaderboard" in driver.title
        rows = {
            el.get_attribute("data-submitter"): el
            for el in driver.find_elements(By.CSS_SELECTOR, "#standings tbody tr")
        }
        assert {first, second} <= set(rows), list(rows)
        cells = {
            who: [td.text for td in rows[who].find_elements(By.TAG_NAME, "td")] for who in (first, second)
        }
        assert all(rows[who].is_displayed() for who in (first, second))
        # rank, submitter, solved, attempted, evaluations, AUCCESS, mean cost ratio
        assert int(cells[first][0]) < int(cells[second][0]), cells
        assert cells[first][1:] == [first, f"1/{n}", "1", "1", f"{1 / n:.3f}", "0.50"], cells
        late = (1 - math.log(2) / math.log(101)) / n
        assert cells[second][1:] == [second, f"1/{n}", "1", "2", f"{late:.3f}", "0.90"], cells

        article = driver.find_element(By.CSS_SELECTOR, f'article.lb[data-benchmark="{bench}"]')
        driver.execute_script("arguments[0].scrollIntoView();", article)
        svg = article.find_element(By.CSS_SELECTOR, "svg.attempts")
        assert svg.is_displayed() and svg.size["width"] > 0 and svg.size["height"] > 0, svg.size
        for who, count in ((first, 1), (second, 2)):
            dots = article.find_elements(By.CSS_SELECTOR, f'circle.dot[data-submitter="{who}"]')
            assert len(dots) == count, who
            for dot in dots:
                box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON();", dot)
                assert box["width"] > 0 and box["height"] > 0, (who, box)
        front = {
            (el.get_attribute("data-submitter"), el.get_attribute("data-attempt"))
            for el in article.find_elements(By.CSS_SELECTOR, "circle.dot.front")
        }
        assert {(first, "1"), (second, "1")} <= front and (second, "2") not in front, front
        cap_line = article.find_element(By.CSS_SELECTOR, "line.cap")
        assert driver.execute_script("return arguments[0].getBoundingClientRect().height;", cap_line) > 0

        driver.execute_script("window.scrollTo(0, 0);")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "leaderboard.png"
        shot.unlink(missing_ok=True)
        assert driver.save_screenshot(str(shot))
    finally:
        driver.quit()
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
