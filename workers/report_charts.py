"""The dataset report's look: its CSS and its summary charts, inline SVG drawn from the gathered data.

No script: a chart is a ``<figure>`` holding an ``<svg>`` with a ``<title>`` per bar or dot (the browser's
tooltip). Family names and benchmark ids are the only stored strings a chart shows; they go through
:func:`~workers.report_format.esc`.
"""

from __future__ import annotations

from collections import Counter

from shared.models import Verdict
from workers.report_data import DatasetReport
from workers.report_format import esc

VERDICT_COLOURS = {Verdict.PUBLISHED: "#2e7d32", Verdict.REJECTED: "#ef8f00", Verdict.FAILED: "#c62828"}
FAMILY_PALETTE = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#ff7f0e")

CSS = """
:root { --ink: #1d232a; --muted: #5f6b76; --line: #d9dee3; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: var(--bg); }
header, main { max-width: 1400px; margin: 0 auto; padding: 16px 24px; }
header { border-bottom: 1px solid var(--line); background: #fff; max-width: none; }
header .inner { max-width: 1352px; margin: 0 auto; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 12px; }
.muted { color: var(--muted); }
.request { margin: 4px 0 10px; }
.counts span { display: inline-block; margin-right: 8px; padding: 2px 10px; border-radius: 12px;
               font-weight: 600; }
.counts .total { background: #eef1f4; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px;
         font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.published { background: #2e7d32; } .rejected { background: #ef8f00; } .failed { background: #c62828; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.chart h3 { font-size: 14px; margin: 0 0 6px; }
.chart svg { display: block; }
.chart svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 16px; }
figure.benchmark { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px;
                   overflow: hidden; border-top: 4px solid var(--verdict); }
figure.benchmark.v-published { --verdict: #2e7d32; }
figure.benchmark.v-rejected { --verdict: #ef8f00; }
figure.benchmark.v-failed { --verdict: #c62828; }
.frame { aspect-ratio: 4 / 3; background: #e9edf1; display: flex; align-items: center;
         justify-content: center; }
img.thumb { display: block; width: 100%; height: 100%; object-fit: contain; image-rendering: auto; }
.placeholder { width: 100%; height: 100%; display: flex; flex-direction: column; align-items: center;
               justify-content: center; color: var(--muted); font-weight: 600; text-align: center;
               padding: 12px; background: repeating-linear-gradient(45deg, #eef1f4, #eef1f4 10px,
               #e4e8ec 10px, #e4e8ec 20px); }
.placeholder small { font-weight: 400; margin-top: 4px; }
figcaption { padding: 8px 12px 12px; }
figcaption .id { font-weight: 700; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px;
                 word-break: break-all; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 6px 0 0; }
dt { color: var(--muted); } dd { margin: 0; }
.why { margin-top: 6px; font-size: 12px; color: #6d4c00; overflow-wrap: anywhere; }
.problem { margin-top: 6px; font-size: 12px; color: #c62828; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.reason { overflow-wrap: anywhere; white-space: pre-wrap; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.running { background: #1f77b4; }
.desc { margin-top: 6px; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.more { margin-top: 6px; font-size: 12px; }
.level { font-weight: 700; }
.formula { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
article.cert { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
               margin: 0 0 12px; }
article.cert h3 { font-size: 14px; margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; }
article.cert p.desc { white-space: normal; font-size: 13px; margin: 4px 0 6px; }
.cert-body { display: grid; grid-template-columns: minmax(260px, 1fr) 2.4fr; gap: 12px; align-items: start; }
@media (max-width: 900px) { .cert-body { grid-template-columns: 1fr; } }
table.best { font-size: 12px; } table.best td.parts { overflow-wrap: anywhere; }
table.best tr.solved { background: #fff4e0; }
.pairs { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
article.uncertified { background: #fff; border: 1px solid var(--line); border-top: 4px solid #ef8f00;
                      border-radius: 8px; overflow: hidden; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 2px; background: var(--line); }
.pair > div { background: #fff; }
.pair .label { font-size: 12px; color: var(--muted); padding: 2px 8px; }
img.shot { display: block; width: 100%; height: 100%; object-fit: contain; }
article.uncertified .caption { padding: 8px 12px 12px; }
article.uncertified .id { font-weight: 700; font-family: ui-monospace, Menlo, Consolas, monospace; }
footer { max-width: 1400px; margin: 0 auto; padding: 16px 24px 32px; color: var(--muted); font-size: 12px; }
"""


def _svg(width: int, height: int, title: str, body: list[str], css_class: str) -> str:
    return (
        f'<figure class="chart {css_class}" style="margin:0"><h3>{esc(title)}</h3>'
        f'<svg class="{css_class}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(title)}">' + "".join(body) + "</svg></figure>"
    )


def _text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{esc(s)}</text>'


def verdict_chart(report: DatasetReport, families: list[str]) -> str:
    """Stacked horizontal bars: published / rejected / failed per family."""
    per: dict[str, Counter[Verdict]] = {f: Counter() for f in families}
    for c in report.cards:
        per[c.entry.family][c.entry.verdict] += 1
    label_w, bar_w, row_h, top = 90, 220, 24, 26
    width, height = label_w + bar_w + 40, top + row_h * max(1, len(families)) + 8
    most = max((sum(cnt.values()) for cnt in per.values()), default=0) or 1
    body = []
    x = label_w
    for v in Verdict:  # legend
        body.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{VERDICT_COLOURS[v]}"/>')
        body.append(_text(x + 14, 13, v.value))
        x += 14 + 7 * len(v.value) + 14
    for i, fam in enumerate(families):
        y = top + i * row_h
        body.append(_text(label_w - 6, y + 15, fam, "end"))
        x0 = float(label_w)
        for v in Verdict:
            n = per[fam][v]
            if not n:
                continue
            w = bar_w * n / most
            body.append(
                f'<rect class="bar {v.value}" data-family="{esc(fam)}" data-count="{n}" x="{x0:.1f}" '
                f'y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{VERDICT_COLOURS[v]}">'
                f"<title>{esc(fam)}: {n} {v.value}</title></rect>"
            )
            if w >= 14:
                body.append(_text(x0 + w / 2, y + 15, str(n), "middle", ' style="fill:#fff;font-weight:600"'))
            x0 += w
        body.append(_text(x0 + 4, y + 15, str(sum(per[fam].values()))))
    return _svg(width, height, "Verdicts per family", body, "verdicts")


HIST_LEFT, HIST_PLOT_H = 28, 120
"""A histogram's left margin and plot height (pixels)."""


def _histogram(
    counts: list[int], plot_w: int, cls: str, colour: str, keys: list[tuple[str, str]]
) -> tuple[list[str], int, int, float]:
    """The axis and one bar per count (``keys``: each bar's ``data-`` attribute text and tooltip label);
    returns the body, the SVG's width and height and the bar width."""
    left, bottom, plot_h = HIST_LEFT, 30, HIST_PLOT_H
    most = max(counts, default=0) or 1
    bw = plot_w / len(counts)
    body = [
        f'<line x1="{left}" y1="{14 + plot_h}" x2="{left + plot_w}" y2="{14 + plot_h}" stroke="#888"/>',
        _text(left - 4, 18, str(most), "end"),
        _text(left - 4, 14 + plot_h, "0", "end"),
    ]
    for i, (n, (data, label)) in enumerate(zip(counts, keys, strict=True)):
        h = plot_h * n / most
        x = left + i * bw
        body.append(
            f'<rect class="bar {cls}" {data} data-count="{n}" x="{x + 1:.1f}" '
            f'y="{14 + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{label}: {n}</title></rect>"
        )
        if n:
            body.append(_text(x + bw / 2, 14 + plot_h - h - 3, str(n), "middle"))
    return body, left + plot_w + 24, plot_h + bottom + 14, bw


def share_chart(report: DatasetReport) -> str:
    """Histogram of the reference solution's success share (entries that have one)."""
    shares = [c.entry.success_share for c in report.cards if c.entry.success_share is not None]
    bins = [0] * 10
    for s in shares:
        bins[min(9, max(0, int(s * 10)))] += 1
    keys = [(f'data-bin="{i * 10}-{i * 10 + 10}"', f"{i * 10}-{i * 10 + 10}%") for i in range(10)]
    body, width, height, _ = _histogram(bins, 280, "share", "#1f77b4", keys)
    left, plot_w, plot_h = HIST_LEFT, 280, HIST_PLOT_H
    for pct in (0, 50, 100):
        body.append(_text(left + plot_w * pct / 100, 14 + plot_h + 14, f"{pct}%", "middle"))
    if not shares:
        body.append(_text(left + plot_w / 2, 14 + plot_h / 2, "no reference runs", "middle"))
    return _svg(width, height, f"Reference success share ({len(shares)} benchmarks)", body, "shares")


def level_chart(report: DatasetReport) -> str:
    """Bars: benchmarks per difficulty level (those that have one)."""
    levels = Counter(c.level for c in report.cards if c.level is not None)
    keys = [(f'data-level="{lv}"', f"level {lv}") for lv in range(6)]
    body, width, height, bw = _histogram([levels[lv] for lv in range(6)], 180, "level", "#9467bd", keys)
    left, plot_w, plot_h = HIST_LEFT, 180, HIST_PLOT_H
    for lv in range(6):
        body.append(_text(left + lv * bw + bw / 2, 14 + plot_h + 14, str(lv), "middle"))
    total = sum(levels.values())
    if not total:
        body.append(_text(left + plot_w / 2, 14 + plot_h / 2, "no difficulty recorded", "middle"))
    return _svg(width, height, f"Difficulty level ({total} benchmarks)", body, "levels")


def caps_chart(report: DatasetReport, families: list[str]) -> str:
    """Scatter: max unit cost against max weight, one dot per benchmark with caps, coloured by family."""
    pts = [
        (c.entry.max_weight_kg, c.entry.max_unit_cost_usd, c.entry)
        for c in report.cards
        if c.entry.max_weight_kg is not None and c.entry.max_unit_cost_usd is not None
    ]
    left, bottom, plot_w, plot_h, top = 52, 34, 280, 140, 24
    width, height = left + plot_w + 24, top + plot_h + bottom
    colour = {f: FAMILY_PALETTE[i % len(FAMILY_PALETTE)] for i, f in enumerate(families)}
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>',
        _text(left + plot_w / 2, height - 4, "max weight (kg)", "middle"),
        _text(4, top - 10, "max unit cost ($)"),
    ]
    x = left + 110
    for f in families:  # legend
        body.append(f'<circle cx="{x}" cy="{top - 14}" r="4" fill="{colour[f]}"/>')
        body.append(_text(x + 7, top - 10, f))
        x += 20 + 7 * len(f)
    if not pts:
        body.append(_text(left + plot_w / 2, top + plot_h / 2, "no caps (nothing published)", "middle"))
        return _svg(width, height, "Caps", body, "caps")
    xmax = max(p[0] for p in pts) * 1.1 or 1.0
    ymax = max(p[1] for p in pts) * 1.1 or 1.0
    for frac in (0.0, 0.5, 1.0):
        body.append(_text(left + plot_w * frac, top + plot_h + 14, f"{xmax * frac:.3g}", "middle"))
        body.append(_text(left - 4, top + plot_h - plot_h * frac + 4, f"{ymax * frac:.3g}", "end"))
    for wx, cy, e in pts:
        px = left + plot_w * wx / xmax
        py = top + plot_h - plot_h * cy / ymax
        body.append(
            f'<circle class="dot" data-benchmark="{esc(e.benchmark_id)}" cx="{px:.1f}" cy="{py:.1f}" r="5" '
            f'fill="{colour.get(e.family, "#333")}" fill-opacity="0.8">'
            f"<title>{esc(e.benchmark_id)}: ${cy:,.2f}, {wx:.3f} kg</title></circle>"
        )
    return _svg(width, height, f"Caps ({len(pts)} benchmarks)", body, "caps")
