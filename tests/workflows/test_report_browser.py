"""A real dataset's report in headless Chromium: every benchmark has a visible card, every published one a
picture that loaded; a screenshot is kept in test-artifacts/report.png.

Chromium and its driver are Debian's (`make browser`, which `make test` runs); a missing browser fails
this test rather than skipping it, and selenium-manager never downloads anything (both paths are given)."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from shared.models import DatasetManifest, DatasetRequest, DatasetResult, Verdict
from shared.store import make_store
from shared.temporal import WF_GENERATE_DATASET
from workers.report import dataset_report

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


async def test_report_gallery_in_headless_chromium(
    temporal_env, worker_queue, test_settings, tmp_path: Path
) -> None:
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
    store = make_store(test_settings)
    manifest = DatasetManifest.model_validate_json(store.get_ref(result.manifest))
    page = tmp_path / "report.html"
    page.write_text(dataset_report(store, req.dataset_id), encoding="utf-8")

    from selenium.webdriver.common.by import By

    driver = _chrome(tmp_path / "chromium-profile")
    try:
        driver.get(page.as_uri())
        assert req.dataset_id in driver.title
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
