"""The leaderboard page: standings best first with the numbers the standings hold, the scorer and its formula,
the held-out note, a cost-success scatter per attempted benchmark with its front and the cap, the empty state,
escaping; and ``mechbench leaderboard --html`` writing it from the store."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.keys import leaderboard_entry_key, manifest_key
from shared.models import (
    DatasetEntry,
    DatasetManifest,
    DatasetRequest,
    EvaluationVerdict,
    LeaderboardEntry,
    Verdict,
)
from shared.scoring import SCORER_VERSION, score
from shared.standings import leaderboard
from shared.store import LocalStore
from tests.helpers import run_cli
from workers.report_leaderboard import EMPTY, ranks, render_leaderboard

T0 = datetime(2026, 12, 7, tzinfo=UTC)
CAP = 10.0
B1, B2, B3 = "chute-s1-v1", "gap_wide-s2-v1", "chute-s3-v1"
ALICE, BOB = "alice-agent_2", "bob"


def entry(
    submitter: str, benchmark: str, n: int, passed: bool, cost: float | None, share: float | None = None
) -> LeaderboardEntry:
    return LeaderboardEntry(
        submitter=submitter,
        benchmark_id=benchmark,
        design_sha256=f"{n:064x}",
        evaluation_id=f"{benchmark}-{n:016x}",
        started_at=T0 + timedelta(seconds=n),
        verdict=EvaluationVerdict.PASSED if passed else EvaluationVerdict.FAILED,
        score=score(passed, share if share is not None else float(passed), cost, CAP if cost else None),
        unit_cost_usd=cost,
    )


ENTRIES = [
    entry(ALICE, B1, 1, True, 5.0),  # B1 at the first attempt, half the cap
    entry(BOB, B1, 2, False, 2.0, share=0.5),
    entry(BOB, B1, 3, True, 8.0),  # B1 at the second attempt
    entry(BOB, B2, 4, True, 6.0),  # B2 at the first
    entry(BOB, B2, 5, False, 40.0, share=0.25),  # four times the cap: drawn at the axis' edge
    entry(ALICE, B2, 6, False, None),  # never priced: not drawn, counted
]


def _section(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}">')
    return page[start : page.index("</section>", start)]


def _rows(page: str) -> list[dict[str, str]]:
    rows = []
    for row in re.findall(r"<tr data-submitter=.*?</tr>", _section(page, "standings")):
        cells = dict(re.findall(r'<td class="(?:num )?([a-z]+)">(.*?)</td>', row))
        cells["submitter"] = re.sub(r"<[^>]+>", "", cells["submitter"])
        rows.append(cells)
    return rows


def _article(page: str, benchmark: str) -> str:
    start = page.index(f'<article class="lb" data-benchmark="{benchmark}"')
    return page[start : page.index("</article>", start)]


def test_the_page_shows_the_standings_best_first_with_their_numbers() -> None:
    board = leaderboard("lb-test", [B1, B2, B3], ENTRIES)
    page = render_leaderboard(board)
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "<title>mechbench leaderboard lb-test</title>" in page
    rows = _rows(page)
    assert [r["submitter"] for r in rows] == [BOB, ALICE]
    bob, alice = rows
    by = {s.submitter: s for s in board.standings}
    assert bob == {
        "rank": "1",
        "submitter": BOB,
        "solved": "2/3",
        "attempted": "2",
        "evaluations": "4",
        "auccess": f"{by[BOB].auccess:.3f}",
        "cost": "0.70",  # (0.8 + 0.6) / 2
    }
    assert alice == {
        "rank": "2",
        "submitter": ALICE,
        "solved": "1/3",
        "attempted": "2",
        "evaluations": "2",
        "auccess": f"{1 / 3:.3f}",
        "cost": "0.50",
    }
    # the scorer, the formula and the held-out scenes
    scoring = _section(page, "scoring")
    assert f"Scorer version {SCORER_VERSION}" in scoring and "PHYRE" in scoring
    assert "w<sub>k</sub> = log(k + 1) &minus; log(k)" in scoring and "held-out scenes" in scoring
    assert "3 published benchmarks" in page and "2 of 3 benchmarks attempted" in page


def test_every_attempted_benchmark_gets_a_scatter_with_its_front_and_the_cap() -> None:
    page = render_leaderboard(leaderboard("lb-test", [B1, B2, B3], ENTRIES))
    assert page.count('<svg class="attempts"') == 2 and 'data-benchmark="chute-s3-v1"' not in page
    b1 = _article(page, B1)
    dots = re.findall(r'<circle class="dot( front)?" data-submitter="([^"]+)" data-attempt="(\d)"', b1)
    assert sorted(dots) == sorted([(" front", ALICE, "1"), (" front", BOB, "1"), ("", BOB, "2")])
    assert '<line class="cap"' in b1 and '<polyline class="front-line"' in b1
    cx = [float(x) for x in re.findall(r'data-passed="\w+" cx="([\d.]+)"', b1)]
    cap = re.search(r'<line class="cap" x1="([\d.]+)"', b1)
    assert len(cx) == 3 and cap and max(cx) < float(cap[1]), "every B1 attempt is within the cap"
    b2 = _article(page, B2)
    assert "1 never priced (not drawn)" in b2 and b2.count('<circle class="dot') == 2
    assert "4.00 of the cap (beyond the axis, drawn at its edge)" in b2
    assert "<td>passed</td>" in b2  # the front table: bob's pass at 0.60
    assert "every attempt (3)" in b2


def test_an_empty_leaderboard_says_how_to_get_attempts() -> None:
    page = render_leaderboard(leaderboard("lb-empty", [B1], []))
    assert EMPTY in _section(page, "standings") and "mechbench evaluate --submitter NAME ..." in page
    assert "<table" not in _section(page, "standings") and "<svg" not in page
    assert 'id="benchmarks"' not in page and "0 of 1 benchmarks attempted" in page
    # entries of another scorer version are left out and said so
    old = entry(BOB, B1, 1, True, 1.0)
    old = old.model_copy(
        update={"score": old.score.model_copy(update={"scorer_version": SCORER_VERSION + 7})}
    )
    page = render_leaderboard(leaderboard("lb-empty", [B1], [old]))
    assert EMPTY in page and f"1 by v{SCORER_VERSION + 7}" in page


def test_names_are_escaped() -> None:
    board = leaderboard("lb-test", [B1, B2], ENTRIES)
    page = render_leaderboard(board)
    # identifiers pass through unchanged (the names here hold "-" and "_")...
    assert f'data-submitter="{ALICE}"' in page and f"<h3>{B2}</h3>" in page
    # ...and whatever a stored name held would reach the page as text (built past validation)
    hostile = 'x<script>"&'
    s0 = board.standings[0].model_copy(update={"submitter": hostile})
    a0 = board.attempts[0]
    a0 = a0.model_copy(
        update={"entry": a0.entry.model_copy(update={"submitter": hostile, "benchmark_id": hostile})}
    )
    page = render_leaderboard(
        board.model_copy(update={"standings": [s0], "attempts": [a0], "dataset_id": hostile})
    )
    assert "<script" not in page and "x&lt;script&gt;&quot;&amp;" in page


def test_level_submitters_share_a_rank() -> None:
    board = leaderboard(
        "lb-test",
        [B1],
        [entry("a", B1, 1, True, 5.0), entry("b", B1, 2, True, 5.0), entry("c", B1, 3, False, 1.0)],
    )
    assert ranks(board.standings) == [1, 1, 3]
    assert [r["rank"] for r in _rows(render_leaderboard(board))] == ["1", "1", "3"]


def test_cli_writes_the_page(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "data" / "store")
    published = [
        DatasetEntry(index=i, benchmark_id=b, family="chute", seed=i + 1, verdict=Verdict.PUBLISHED)
        for i, b in enumerate([B1, B2])
    ]
    store.put_model(
        manifest_key("lb-cli"),
        DatasetManifest(
            dataset_id="lb-cli",
            request=DatasetRequest(families=["chute"], count=2, base_seed=1, dataset_id="lb-cli"),
            generator_version=1,
            entries=published,
        ),
    )
    for e in ENTRIES:
        store.put_model(leaderboard_entry_key(e.submitter, e.benchmark_id, e.design_sha256), e)
    out = tmp_path / "out" / "lb.html"
    out.parent.mkdir()
    proc = run_cli("leaderboard", "lb-cli", "--html", str(out), data_dir=tmp_path / "data", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    assert [r["submitter"] for r in _rows(out.read_text())] == [BOB, ALICE]
    assert sorted(p.name for p in out.parent.iterdir()) == ["lb.html"], "no temporary file left"

    proc = run_cli(
        "leaderboard", "lb-cli", "--html", str(out), "--json", data_dir=tmp_path / "data", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["html"] == str(out) and [s["submitter"] for s in info["standings"]] == [BOB, ALICE]

    for bad in (tmp_path / "out", tmp_path / "missing" / "lb.html"):
        proc = run_cli("leaderboard", "lb-cli", "--html", str(bad), data_dir=tmp_path / "data", cwd=tmp_path)
        assert proc.returncode == 2 and "--html" in proc.stderr, proc.stderr
    assert not (tmp_path / "missing").exists()
