"""A dataset as one self-contained HTML page (``mechbench report DATASET_ID``).

Pure: objects in the store in, an HTML string out; no Temporal. The page holds everything it shows:
inline CSS, thumbnails as ``data:`` URIs (checked against their references), charts as inline SVG; no
script, no external URL (a Content-Security-Policy says so to the browser too). Every string read from
the store is escaped.

    report = gather_report(store, "my-dataset")   # what the page shows, as data (unit-testable)
    html = render_report(report)
    html = dataset_report(store, "my-dataset")    # both at once

Over 400 lines because the page is one self-contained document: what it shows, its CSS and its inline SVG
charts stay in one module, so that every place a stored string reaches the page can be checked for escaping
in one file.
"""

from __future__ import annotations

import base64
import html
import math
from collections import Counter
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError

from shared.keys import benchmark_definition_key, benchmark_result_key, manifest_key
from shared.models import (
    BenchmarkDefinition,
    BenchmarkResult,
    DatasetEntry,
    DatasetManifest,
    Identifier,
    ProofResult,
    Verdict,
)
from shared.store import IntegrityError, ObjectNotFound, ObjectStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NO_PICTURE = "no picture"

_ID = TypeAdapter(Identifier)


class DatasetNotFound(LookupError):
    """The store holds no manifest for this dataset id."""


def check_dataset_id(dataset_id: str) -> str:
    """The id as the store names datasets (:data:`~shared.models.ID_PATTERN`); ``ValueError`` otherwise."""
    try:
        return _ID.validate_python(dataset_id)
    except ValidationError:
        raise ValueError(
            f"{dataset_id!r:.80} is not a dataset id (lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit, at most 64 characters)"
        ) from None


def known_datasets(store: ObjectStore, limit: int = 20) -> list[str]:
    """Ids of (at most ``limit``) datasets whose manifest is in the store, sorted."""
    ids = []
    for key in store.list("datasets/"):
        parts = key.split("/")
        if len(parts) == 3 and parts[2] == "manifest.json":
            ids.append(parts[1])
            if len(ids) >= limit:
                break
    return ids


# ------------------------------------------------------------------------------------------------
# Gathering
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkCard:
    """One manifest entry with what the store holds about it."""

    entry: DatasetEntry
    result: BenchmarkResult | None = None
    definition: BenchmarkDefinition | None = None
    thumbnail_png: bytes | None = None
    """The PNG, verified against the definition's reference; None shows the placeholder."""
    picture_note: str = NO_PICTURE
    """Why there is no picture (shown on the placeholder)."""
    problems: list[str] = field(default_factory=list)
    """Stored objects that could not be read (shown on the card; the report is still written)."""

    @property
    def failing_proof(self) -> ProofResult | None:
        """The proof that decided a rejection: the entry's failed proof, else the first that did not pass."""
        if self.result is None:
            return None
        proofs = self.result.proofs
        wanted = self.entry.failed_proof or self.result.failed_proof
        for p in proofs:
            if wanted is not None and p.proof == wanted:
                return p
        return next((p for p in proofs if not p.passed), None)


@dataclass(frozen=True)
class DatasetReport:
    manifest: DatasetManifest
    cards: list[BenchmarkCard]

    @property
    def counts(self) -> Counter[Verdict]:
        return Counter(c.entry.verdict for c in self.cards)

    @property
    def pictures(self) -> int:
        return sum(c.thumbnail_png is not None for c in self.cards)


def gather_report(store: ObjectStore, dataset_id: str) -> DatasetReport:
    """Read the manifest and, per entry, its result, definition and thumbnail.

    Raises ``ValueError`` for an id that is not a dataset id and :class:`DatasetNotFound` when the store
    has no such dataset. A missing or damaged benchmark object only costs its card a detail."""
    dataset_id = check_dataset_id(dataset_id)
    try:
        manifest = store.get_model(manifest_key(dataset_id), DatasetManifest)
    except ObjectNotFound:
        raise DatasetNotFound(dataset_id) from None
    entries = sorted(manifest.entries, key=lambda e: e.index)
    return DatasetReport(manifest=manifest, cards=[_card(store, e) for e in entries])


def _card(store: ObjectStore, entry: DatasetEntry) -> BenchmarkCard:
    bid = entry.benchmark_id
    problems: list[str] = []
    result: BenchmarkResult | None = None
    try:
        result = store.get_model(benchmark_result_key(bid), BenchmarkResult)
    except ObjectNotFound:
        pass  # a failed generation leaves no result
    except (ValueError, IntegrityError) as e:  # ValidationError is a ValueError
        problems.append(f"result unreadable: {_first_line(e)}")

    definition: BenchmarkDefinition | None = None
    try:
        if result is not None and result.definition is not None:
            definition = BenchmarkDefinition.model_validate_json(store.get_ref(result.definition))
        elif store.exists(benchmark_definition_key(bid)):
            definition = store.get_model(benchmark_definition_key(bid), BenchmarkDefinition)
    except ObjectNotFound:
        problems.append("definition missing from the store")
    except (ValueError, IntegrityError) as e:
        problems.append(f"definition unreadable: {_first_line(e)}")

    png: bytes | None = None
    note = NO_PICTURE
    thumb = definition.artifacts.thumbnail if definition is not None else None
    if thumb is not None:
        try:
            data = store.get_ref(thumb)
        except ObjectNotFound:
            note = "no picture (thumbnail missing from the store)"
        except IntegrityError:
            note = "no picture (thumbnail does not match its reference)"
        else:
            if data.startswith(PNG_SIGNATURE):
                png = data
            else:
                note = "no picture (thumbnail is not a PNG)"
    return BenchmarkCard(
        entry=entry,
        result=result,
        definition=definition,
        thumbnail_png=png,
        picture_note=note,
        problems=problems,
    )


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------


def dataset_report(store: ObjectStore, dataset_id: str) -> str:
    """The dataset's HTML report (see :func:`gather_report` for the errors)."""
    return render_report(gather_report(store, dataset_id))


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


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
footer { max-width: 1400px; margin: 0 auto; padding: 16px 24px 32px; color: var(--muted); font-size: 12px; }
"""


def render_report(report: DatasetReport) -> str:
    m = report.manifest
    counts = report.counts
    families = _families(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Defence in depth: whatever a stored string holds, the page loads nothing and runs nothing.
        (
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            "style-src 'unsafe-inline'\">"
        ),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>mechbench dataset {_e(m.dataset_id)}</title>",
        f"<style>{CSS}</style></head><body>",
        _header(report, counts),
        "<main>",
        '<section id="summary"><h2>Summary</h2><div class="charts">',
        _verdict_chart(report, families),
        _share_chart(report),
        _caps_chart(report, families),
        "</div></section>",
        (
            f'<section id="gallery"><h2>Gallery <span class="muted">({len(report.cards)} benchmarks, '
            f"{report.pictures} with a picture)</span></h2>"
        ),
        '<div class="gallery">',
        *(_card_html(c) for c in report.cards),
        "</div></section>",
        _rejected_section(report),
        "</main>",
        (
            "<footer>Reference = share of jittered scenes the reference solution solved. Max cost and max "
            "weight are the caps a design must stay within. Written by <code>mechbench report</code>; "
            "self-contained (no scripts, no external resources).</footer>"
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _families(report: DatasetReport) -> list[str]:
    """Families in request order, then any others the entries name."""
    seen = list(dict.fromkeys([*report.manifest.request.families, *(c.entry.family for c in report.cards)]))
    return seen


def _header(report: DatasetReport, counts: Counter[Verdict]) -> str:
    m = report.manifest
    r = m.request
    extra = ""
    if r.n_scenes is not None:
        extra += f", {r.n_scenes} scenes per proof"
    return (
        '<header><div class="inner">'
        f"<h1>Dataset <code>{_e(m.dataset_id)}</code></h1>"
        f'<div class="request muted">request: families {_e(", ".join(r.families))}; count {r.count}; '
        f"base seed {r.base_seed}{_e(extra)}; generator version {m.generator_version}</div>"
        '<div class="counts">'
        f'<span class="total">{len(report.cards)} benchmarks</span>'
        f'<span class="badge published">{counts[Verdict.PUBLISHED]} published</span> '
        f'<span class="badge rejected">{counts[Verdict.REJECTED]} rejected</span> '
        f'<span class="badge failed">{counts[Verdict.FAILED]} failed</span>'
        "</div></div></header>"
    )


def _money(x: float | None) -> str:
    return "&ndash;" if x is None else f"${x:,.2f}"


def _kg(x: float | None) -> str:
    return "&ndash;" if x is None else f"{x:.3f} kg"


def _share(x: float | None) -> str:
    return "&ndash;" if x is None else f"{x:.0%}"


def _num(x: float | None) -> str:
    if x is None:
        return "&ndash;"
    return f"{x:.4g}" if math.isfinite(x) else _e(x)


def _card_html(card: BenchmarkCard) -> str:
    e = card.entry
    v = e.verdict.value
    bid = _e(e.benchmark_id)
    if card.thumbnail_png is not None:
        src = "data:image/png;base64," + base64.b64encode(card.thumbnail_png).decode("ascii")
        picture = (
            f'<img class="thumb" src="{src}" width="320" height="240" '
            f'alt="{_e(f"{e.family} seed {e.seed}: scene of {e.benchmark_id}")}">'
        )
    else:
        note = card.picture_note
        detail = note[len(NO_PICTURE) :].strip(" ()") if note.startswith(NO_PICTURE) else note
        picture = (
            f'<div class="placeholder" role="img" aria-label="{_e(NO_PICTURE)}">{_e(NO_PICTURE)}'
            + (f"<small>{_e(detail)}</small>" if detail else "")
            + "</div>"
        )
    required = ""
    if card.definition is not None:
        required = (
            f' <span class="muted">(needs {card.definition.simulation.required_success_share:.0%})</span>'
        )
    why = ""
    if e.verdict != Verdict.PUBLISHED:
        proof = f"{e.failed_proof.value}: " if e.failed_proof else ""
        why = f'<div class="why">{_e(proof + (e.reason or "no reason recorded"))}</div>'
    problems = "".join(f'<div class="problem">{_e(p)}</div>' for p in card.problems)
    reused = ' <span class="muted">(reused)</span>' if e.reused else ""
    return (
        f'<figure class="benchmark v-{_e(v)}" data-benchmark="{bid}" data-verdict="{_e(v)}" '
        f'id="b-{bid}">'
        f'<div class="frame">{picture}</div>'
        f'<figcaption><div class="id">{bid}</div>'
        f'<span class="badge {_e(v)}">{_e(v)}</span>{reused}'
        "<dl>"
        f"<dt>family</dt><dd>{_e(e.family)}</dd>"
        f"<dt>seed</dt><dd>{e.seed}</dd>"
        f"<dt>max unit cost</dt><dd>{_money(e.max_unit_cost_usd)}</dd>"
        f"<dt>max weight</dt><dd>{_kg(e.max_weight_kg)}</dd>"
        f"<dt>reference</dt><dd>{_share(e.success_share)}{required}</dd>"
        "</dl>"
        f"{why}{problems}</figcaption></figure>"
    )


def _rejected_section(report: DatasetReport) -> str:
    rows = [c for c in report.cards if c.entry.verdict != Verdict.PUBLISHED]
    head = '<section id="rejected"><h2>Rejected and failed</h2>'
    if not rows:
        return head + '<p class="muted">None: every benchmark was published.</p></section>'
    body = []
    for c in rows:
        e = c.entry
        proof = c.failing_proof
        failed = e.failed_proof.value if e.failed_proof else (proof.proof.value if proof else "")
        measured = _num(proof.measured) if proof else "&ndash;"
        limit = _num(proof.limit) if proof else "&ndash;"
        detail = ""
        if proof is not None and proof.detail and proof.detail != e.reason:
            detail = f'<div class="muted">{_e(proof.detail)}</div>'
        body.append(
            f'<tr data-benchmark="{_e(e.benchmark_id)}">'
            f'<td><a href="#b-{_e(e.benchmark_id)}">{_e(e.benchmark_id)}</a></td>'
            f"<td>{_e(e.family)}</td><td class=num>{e.seed}</td>"
            f'<td><span class="badge {_e(e.verdict.value)}">{_e(e.verdict.value)}</span></td>'
            f"<td>{_e(failed) or '&ndash;'}</td>"
            f'<td class="reason">{_e(e.reason or "no reason recorded")}{detail}</td>'
            f"<td class=num>{measured}</td><td class=num>{limit}</td></tr>"
        )
    return (
        head + "<table><thead><tr><th>benchmark</th><th>family</th><th>seed</th><th>verdict</th>"
        "<th>failed proof</th><th>reason</th><th>measured</th><th>limit</th></tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></section>"
    )


# ------------------------------------------------------------------------------------------------
# Charts (inline SVG, no script)
# ------------------------------------------------------------------------------------------------


def _svg(width: int, height: int, title: str, body: list[str], css_class: str) -> str:
    return (
        f'<figure class="chart {css_class}" style="margin:0"><h3>{_e(title)}</h3>'
        f'<svg class="{css_class}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_e(title)}">' + "".join(body) + "</svg></figure>"
    )


def _text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{_e(s)}</text>'


def _verdict_chart(report: DatasetReport, families: list[str]) -> str:
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
                f'<rect class="bar {v.value}" data-family="{_e(fam)}" data-count="{n}" x="{x0:.1f}" '
                f'y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{VERDICT_COLOURS[v]}">'
                f"<title>{_e(fam)}: {n} {v.value}</title></rect>"
            )
            if w >= 14:
                body.append(_text(x0 + w / 2, y + 15, str(n), "middle", ' style="fill:#fff;font-weight:600"'))
            x0 += w
        body.append(_text(x0 + 4, y + 15, str(sum(per[fam].values()))))
    return _svg(width, height, "Verdicts per family", body, "verdicts")


def _share_chart(report: DatasetReport) -> str:
    """Histogram of the reference solution's success share (entries that have one)."""
    shares = [c.entry.success_share for c in report.cards if c.entry.success_share is not None]
    bins = [0] * 10
    for s in shares:
        bins[min(9, max(0, int(s * 10)))] += 1
    left, bottom, plot_w, plot_h = 28, 30, 280, 120
    width, height = left + plot_w + 24, plot_h + bottom + 14
    most = max(bins) or 1
    bw = plot_w / 10
    body = [
        f'<line x1="{left}" y1="{14 + plot_h}" x2="{left + plot_w}" y2="{14 + plot_h}" stroke="#888"/>',
        _text(left - 4, 18, str(most), "end"),
        _text(left - 4, 14 + plot_h, "0", "end"),
    ]
    for i, n in enumerate(bins):
        h = plot_h * n / most
        x = left + i * bw
        body.append(
            f'<rect class="bar share" data-bin="{i * 10}-{i * 10 + 10}" data-count="{n}" x="{x + 1:.1f}" '
            f'y="{14 + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" fill="#1f77b4">'
            f"<title>{i * 10}-{i * 10 + 10}%: {n}</title></rect>"
        )
        if n:
            body.append(_text(x + bw / 2, 14 + plot_h - h - 3, str(n), "middle"))
    for pct in (0, 50, 100):
        body.append(_text(left + plot_w * pct / 100, 14 + plot_h + 14, f"{pct}%", "middle"))
    if not shares:
        body.append(_text(left + plot_w / 2, 14 + plot_h / 2, "no reference runs", "middle"))
    return _svg(width, height, f"Reference success share ({len(shares)} benchmarks)", body, "shares")


def _caps_chart(report: DatasetReport, families: list[str]) -> str:
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
            f'<circle class="dot" data-benchmark="{_e(e.benchmark_id)}" cx="{px:.1f}" cy="{py:.1f}" r="5" '
            f'fill="{colour.get(e.family, "#333")}" fill-opacity="0.8">'
            f"<title>{_e(e.benchmark_id)}: ${cy:,.2f}, {wx:.3f} kg</title></circle>"
        )
    return _svg(width, height, f"Caps ({len(pts)} benchmarks)", body, "caps")
