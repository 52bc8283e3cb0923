"""A dataset's leaderboard as one self-contained HTML page (``mechbench leaderboard DATASET_ID --html PATH``).

Pure, like the report: a :class:`~shared.models.Leaderboard` in, an HTML string out. The page opens as the
report does (:func:`workers.report.page_head`: its Content-Security-Policy and its CSS), draws its charts as
inline SVG and holds no script and no external URL. Every string from the store (submitters, benchmark ids,
evaluation ids) reaches it through :func:`~workers.report_format.esc`.

    board = read_leaderboard(store, "my-dataset")   # workers.leaderboard
    html = render_leaderboard(board)
    html = leaderboard_page(store, "my-dataset")     # both at once

It shows the standings (best first), the scorer version and the AUCCESS formula, and per attempted
benchmark a scatter of its attempts (cost as a fraction of the cap against success share, the Pareto
front highlighted, the cap drawn at 1.0), the front as a table and every attempt in a folded table.
"""

from __future__ import annotations

from collections import defaultdict

from shared.models import Attempt, FrontPoint, Leaderboard, Standing
from shared.scoring import MAX_ATTEMPTS
from shared.store import ObjectStore
from workers.leaderboard import read_leaderboard
from workers.report import page_head
from workers.report_charts import CSS as REPORT_CSS
from workers.report_charts import FAMILY_PALETTE, _svg, _text
from workers.report_format import DASH, esc, pct

__all__ = ["EMPTY", "leaderboard_page", "render_leaderboard", "scatter"]

EMPTY = (
    "No attempts yet; send evaluations with a submitter "
    "(<code>mechbench evaluate --submitter NAME ...</code>)."
)
"""What the standings say when no attempt is recorded (HTML)."""

CSS = """
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; }
.empty { background: #fff; border: 1px dashed var(--line); border-radius: 8px; padding: 16px; }
td.submitter { font-family: ui-monospace, Menlo, Consolas, monospace; }
.fronts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
article.lb { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
article.lb > h3 { font-size: 14px; margin: 0 0 4px; font-family: ui-monospace, Menlo, Consolas, monospace;
                word-break: break-all; }
article.lb .chart { border: 0; padding: 0; margin: 6px 0; }
article.lb table { font-size: 12px; margin-top: 6px; }
details summary { cursor: pointer; margin-top: 6px; font-size: 12px; color: var(--muted); }
"""
"""The leaderboard's own rules, after the report's."""

# The scatter's geometry (pixels) and its x axis (cost over the cap).
LEFT, TOP, PLOT_W, PLOT_H, BOTTOM = 44, 14, 320, 150, 34
X_MIN_SPAN, X_MAX_SPAN = 1.25, 3.0
"""The x axis reaches 10% past the dearest attempt, at least to 1.25 (the cap always shows) and at most to
3 (a design far over the cap is drawn at the edge, its tooltip saying how far)."""
INK, CAP = "#1d232a", "#c62828"


def leaderboard_page(
    store: ObjectStore, dataset_id: str, split: str | None = None, fold: int | None = None
) -> str:
    """The leaderboard page of a finished dataset (see :func:`~workers.leaderboard.read_leaderboard` for the
    errors)."""
    return render_leaderboard(read_leaderboard(store, dataset_id, split, fold))


def render_leaderboard(board: Leaderboard) -> str:
    colours = submitter_colours(board)
    parts = [
        page_head(f"mechbench leaderboard {board.dataset_id}{_scope_suffix(board)}", REPORT_CSS + CSS),
        _header(board),
        "<main>",
        _standings_section(board, colours),
        _scoring_section(board),
        _benchmarks_section(board, colours),
        "</main>",
        (
            "<footer>Attempts are evaluations sent with a submitter; they run on each benchmark's held-out "
            "scenes. Written by <code>mechbench leaderboard --html</code>; self-contained (no scripts, no "
            "external resources).</footer>"
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def submitter_colours(board: Leaderboard) -> dict[str, str]:
    """One colour per submitter, in standings order (the table's swatch and the scatters' dots agree)."""
    names = [s.submitter for s in board.standings]
    names += sorted({a.entry.submitter for a in board.attempts} - set(names))
    return {n: FAMILY_PALETTE[i % len(FAMILY_PALETTE)] for i, n in enumerate(names)}


def _scope(board: Leaderboard) -> str:
    if board.split is None:
        return f"all {board.benchmarks} published benchmarks"
    return f"{board.split} fold {board.fold} (test): {board.benchmarks} published benchmarks"


def _scope_suffix(board: Leaderboard) -> str:
    return "" if board.split is None else f" ({board.split} fold {board.fold})"


def _header(board: Leaderboard) -> str:
    attempted = len({a.entry.benchmark_id for a in board.attempts})
    left = ""
    if board.other_scorer_versions:
        versions = ", ".join(f"{n} by v{v}" for v, n in sorted(board.other_scorer_versions.items()))
        left = (
            f'<div class="problem">Left out, scored by another scorer version (never rescaled): '
            f"{esc(versions)}.</div>"
        )
    return (
        f'<header><div class="inner"><h1>Leaderboard <code>{esc(board.dataset_id)}</code></h1>'
        f'<div class="request muted">{esc(_scope(board))}; scorer version {board.scorer_version}; '
        "evaluations on held-out scenes</div>"
        '<div class="counts">'
        f'<span class="total">{_count(len(board.standings), "submitter")}</span>'
        f'<span class="total">{_count(len(board.attempts), "attempt")}</span>'
        f'<span class="total">{attempted} of {board.benchmarks} benchmarks attempted</span>'
        f"</div>{left}</div></header>"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def ranks(standings: list[Standing]) -> list[int]:
    """1-based ranks of the standings (best first); submitters level on AUCCESS, solved and mean cost ratio
    share a rank (1, 1, 3)."""
    out: list[int] = []
    for i, s in enumerate(standings):
        prev = standings[i - 1] if i else None
        level = prev is not None and (prev.auccess, prev.solved, prev.mean_cost_ratio) == (
            s.auccess,
            s.solved,
            s.mean_cost_ratio,
        )
        out.append(out[-1] if level else i + 1)
    return out


def ratio(x: float | None) -> str:
    """A fraction of the cap, two decimals (as ``mechbench leaderboard`` prints it)."""
    return DASH if x is None else f"{x:.2f}"


def _standings_section(board: Leaderboard, colours: dict[str, str]) -> str:
    head = '<section id="standings"><h2>Standings</h2>'
    if not board.standings:
        return head + f'<p class="empty">{EMPTY}</p></section>'
    rows = []
    for rank, s in zip(ranks(board.standings), board.standings, strict=True):
        rows.append(
            f'<tr data-submitter="{esc(s.submitter)}">'
            f'<td class="num rank">{rank}</td>'
            f'<td class="submitter"><span class="swatch" style="background:{colours[s.submitter]}"></span>'
            f"{esc(s.submitter)}</td>"
            f'<td class="num solved">{s.solved}/{s.benchmarks}</td>'
            f'<td class="num attempted">{s.attempted}</td>'
            f'<td class="num evaluations">{s.evaluations}</td>'
            f'<td class="num auccess">{s.auccess:.3f}</td>'
            f'<td class="num cost">{ratio(s.mean_cost_ratio)}</td></tr>'
        )
    return (
        head + "<table><thead><tr><th>rank</th><th>submitter</th><th>solved</th><th>attempted</th>"
        "<th>evaluations</th><th>AUCCESS</th><th>mean cost ratio</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _scoring_section(board: Leaderboard) -> str:
    return (
        '<section id="scoring"><h2>Scoring</h2><div class="formula">'
        f"<p>Scorer version {board.scorer_version}. An attempt is an evaluation sent with a submitter; "
        "the same design sent again is the same attempt, and attempts are numbered by start time per "
        "submitter and benchmark. Leaderboard evaluations run on each benchmark's <b>held-out scenes</b> "
        "(jitter seeds derived from the operator's secret, which the published definition does not tell), "
        "so a design tuned to the visible scenes gains nothing.</p>"
        "<p><b>AUCCESS</b>, as PHYRE defines it (Bakhtin et al., &ldquo;PHYRE: A New Benchmark for "
        "Physical Reasoning&rdquo;, NeurIPS 2019, section 3.2): with s<sub>k</sub> the share of the "
        "benchmarks solved within k attempts, AUCCESS = &sum;<sub>k</sub> w<sub>k</sub> s<sub>k</sub> / "
        f"&sum;<sub>k</sub> w<sub>k</sub> over k = 1..{MAX_ATTEMPTS}, with w<sub>k</sub> = log(k + 1) "
        f"&minus; log(k). A benchmark first solved at attempt a adds 1 &minus; log(a) / log({MAX_ATTEMPTS + 1}) "
        f"to the mean; one never solved (never attempted, or not within {MAX_ATTEMPTS} attempts) adds 0.</p>"
        "<p><b>Mean cost ratio</b>: over the solved benchmarks, the unit cost of the cheapest passing "
        "design over the benchmark's cost cap (1.00 is at the cap). Standings rank by AUCCESS, then by "
        "benchmarks solved, then by the lower mean cost ratio.</p>"
        "<p><b>Front</b>: a benchmark's priced attempts that no other beats (a higher success share at no "
        "more cost, or the same share for less).</p></div></section>"
    )


def _benchmarks_section(board: Leaderboard, colours: dict[str, str]) -> str:
    if not board.attempts:
        return ""
    by_benchmark: dict[str, list[Attempt]] = defaultdict(list)
    for a in board.attempts:
        by_benchmark[a.entry.benchmark_id].append(a)
    fronts = {f.benchmark_id: f.front for f in board.fronts}
    articles = [
        _benchmark_article(b, by_benchmark[b], fronts.get(b, []), colours) for b in sorted(by_benchmark)
    ]
    return (
        '<section id="benchmarks"><h2>Benchmarks <span class="muted">(x: unit cost over the cap, y: '
        "success share; filled: passed, hollow: failed, ringed: on the front)</span></h2>"
        '<div class="fronts">' + "".join(articles) + "</div></section>"
    )


def _benchmark_article(
    benchmark_id: str, attempts: list[Attempt], front: list[FrontPoint], colours: dict[str, str]
) -> str:
    bid = esc(benchmark_id)
    submitters = len({a.entry.submitter for a in attempts})
    passed = sum(a.entry.score.passed for a in attempts)
    front_rows = "".join(
        f'<tr data-submitter="{esc(p.submitter)}" data-attempt="{p.attempt}">'
        f"<td>{esc(p.submitter)}</td><td class=num>{p.attempt}</td><td class=num>{pct(p.success_share)}</td>"
        f"<td class=num>{ratio(p.cost_fraction)}</td><td>{'passed' if p.passed else 'failed'}</td></tr>"
        for p in front
    )
    front_table = (
        '<table class="front"><thead><tr><th>front: submitter</th><th>attempt</th><th>success</th>'
        f"<th>cost / cap</th><th>verdict</th></tr></thead><tbody>{front_rows}</tbody></table>"
        if front
        else '<p class="muted">No priced attempt: nothing on the front.</p>'
    )
    every = "".join(
        f'<tr data-submitter="{esc(a.entry.submitter)}"><td>{esc(a.entry.submitter)}</td>'
        f"<td class=num>{a.attempt}</td><td>{esc(a.entry.verdict.value)}</td>"
        f"<td class=num>{pct(a.entry.score.success_share)}</td>"
        f"<td class=num>{ratio(a.entry.score.cost_fraction)}</td>"
        f"<td><code>{esc(a.entry.evaluation_id)}</code></td></tr>"
        for a in attempts
    )
    return (
        f'<article class="lb" data-benchmark="{bid}" id="l-{bid}"><h3>{bid}</h3>'
        f'<div class="muted">{len(attempts)} attempt{"" if len(attempts) == 1 else "s"} by {submitters} '
        f"submitter{'' if submitters == 1 else 's'}, {passed} passed</div>"
        + scatter(benchmark_id, attempts, front, colours)
        + front_table
        + f"<details><summary>every attempt ({len(attempts)})</summary><table><thead><tr><th>submitter</th>"
        "<th>attempt</th><th>verdict</th><th>success</th><th>cost / cap</th><th>evaluation</th></tr>"
        f"</thead><tbody>{every}</tbody></table></details></article>"
    )


def scatter(
    benchmark_id: str, attempts: list[Attempt], front: list[FrontPoint], colours: dict[str, str]
) -> str:
    """One benchmark's priced attempts: x the unit cost as a fraction of the cap (a dashed line at 1.0, the
    cap), y the success share; a dot per attempt in its submitter's colour, filled when it passed, the
    front's dots ringed and joined. Unpriced attempts have no x: the chart counts them."""
    width, height = LEFT + PLOT_W + 16, TOP + PLOT_H + BOTTOM
    priced = [a for a in attempts if a.entry.score.cost_fraction is not None]
    dearest = max((a.entry.score.cost_fraction or 0.0 for a in priced), default=0.0)
    xmax = min(max(X_MIN_SPAN, dearest * 1.1), X_MAX_SPAN)

    def px(cost: float) -> float:
        return LEFT + PLOT_W * min(cost, xmax) / xmax

    def py(share: float) -> float:
        return TOP + PLOT_H - PLOT_H * max(0.0, min(1.0, share))

    base = TOP + PLOT_H
    body = [
        f'<line x1="{LEFT}" y1="{base}" x2="{LEFT + PLOT_W}" y2="{base}" stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#888"/>',
        _text(LEFT + PLOT_W / 2, height - 4, "unit cost / cost cap", "middle"),
    ]
    for share in (0.0, 0.5, 1.0):
        body.append(_text(LEFT - 4, py(share) + 4, f"{share:.0%}", "end"))
    tick = 0.0
    while tick <= xmax + 1e-9:
        body.append(_text(px(tick), base + 14, f"{tick:g}", "middle"))
        tick += 0.5
    cap = px(1.0)
    body.append(
        f'<line class="cap" x1="{cap:.1f}" y1="{TOP}" x2="{cap:.1f}" y2="{base}" stroke="{CAP}" '
        'stroke-dasharray="4 3"><title>the cost cap (1.0)</title></line>'
    )
    body.append(_text(cap + 3, TOP + 10, "cap", extra=f' style="fill:{CAP}"'))
    on_front = {(p.submitter, p.attempt) for p in front}
    if len(front) > 1:
        line = " ".join(f"{px(p.cost_fraction):.1f},{py(p.success_share):.1f}" for p in front)
        body.append(
            f'<polyline class="front-line" points="{line}" fill="none" stroke="{INK}" stroke-width="1"/>'
        )
    # the front last, so that its rings sit on top
    for a in sorted(priced, key=lambda a: (a.entry.submitter, a.attempt) in on_front):
        s, who = a.entry.score, a.entry.submitter
        cost = s.cost_fraction or 0.0
        ringed = (who, a.attempt) in on_front
        colour = colours.get(who, "#333")
        fill = colour if s.passed else "#fff"
        x, y = px(cost), py(s.success_share)
        if ringed:
            body.append(f'<circle class="ring" cx="{x:.1f}" cy="{y:.1f}" r="8" fill="none" stroke="{INK}"/>')
        beyond = " (beyond the axis, drawn at its edge)" if cost > xmax else ""
        body.append(
            f'<circle class="dot{" front" if ringed else ""}" data-submitter="{esc(who)}" '
            f'data-attempt="{a.attempt}" data-passed="{str(s.passed).lower()}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="5" fill="{fill}" stroke="{colour}" stroke-width="2">'
            f"<title>{esc(who)} attempt {a.attempt}: {pct(s.success_share)} of the scenes at "
            f"{cost:.2f} of the cap{beyond}, {'passed' if s.passed else 'failed'}"
            f"{', on the front' if ringed else ''}</title></circle>"
        )
    unpriced = len(attempts) - len(priced)
    if not priced:
        body.append(_text(LEFT + PLOT_W / 2, TOP + PLOT_H / 2, "no priced attempt", "middle"))
    title = f"Cost against success: {len(priced)} priced attempt{'' if len(priced) == 1 else 's'}"
    if unpriced:
        title += f", {unpriced} never priced (not drawn)"
    return _svg(width, height, title, body, "attempts")
