"""A dataset as one self-contained HTML page (``mechbench report DATASET_ID``).

Pure: objects in the store in, an HTML string out; no Temporal. The page holds everything it shows:
inline CSS, thumbnails as ``data:`` URIs (checked against their references), charts as inline SVG; no
script, no external URL (a Content-Security-Policy says so to the browser too).

    report = gather_report(store, "my-dataset")   # what the page shows, as data (unit-testable)
    html = render_report(report)
    html = dataset_report(store, "my-dataset")    # both at once

Per benchmark the page shows a one-line description (what an agent is given, and the reference), its
difficulty card (level, random designs, their solve rate with its Clopper-Pearson upper bound, robust share,
slacks, reference parts, joint and motor) and the random-design proof's nearest designs; benchmarks rejected
as trivial or not robust get their scene and the best random design side by side. Results recorded before
certification lack those numbers and show a dash. While a dataset is still running (no merged manifest yet)
the page shows the benchmarks of the manifest parts written so far.

The modules: :mod:`workers.report_data` reads the store (no HTML); this one lays out the page, its gallery
and its tables; :mod:`workers.report_certify` the certification sections; :mod:`workers.report_charts` the
CSS and the SVG charts; :mod:`workers.report_format` the escaping and the numbers. Every string read from
the store reaches the page through :func:`~workers.report_format.esc`.
"""

from __future__ import annotations

from collections import Counter

from shared.models import Verdict
from shared.store import ObjectStore
from workers.report_certify import certification_section, has_article, uncertified_section
from workers.report_charts import CSS, caps_chart, level_chart, share_chart, verdict_chart
from workers.report_data import (
    NO_PICTURE,
    PNG_SIGNATURE,
    BenchmarkCard,
    DatasetNotFound,
    DatasetReport,
    check_dataset_id,
    gather_report,
    known_datasets,
)
from workers.report_format import (
    DASH,
    description,
    esc,
    img,
    integer,
    kg,
    level,
    money,
    num,
    pct,
    placeholder,
    rate,
    share,
)

__all__ = [
    "NO_PICTURE",
    "PNG_SIGNATURE",
    "BenchmarkCard",
    "DatasetNotFound",
    "DatasetReport",
    "check_dataset_id",
    "dataset_report",
    "gather_report",
    "known_datasets",
    "page_head",
    "render_report",
]


def dataset_report(store: ObjectStore, dataset_id: str) -> str:
    """The dataset's HTML report (see :func:`gather_report` for the errors)."""
    return render_report(gather_report(store, dataset_id))


def page_head(title: str, css: str = CSS) -> str:
    """The opening of every page the report writes, up to ``<body>``: its Content-Security-Policy, its
    ``title`` (plain text) and the report's CSS (``css``: with a page's own rules after it)."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            # Defence in depth: whatever a stored string holds, the page loads nothing and runs nothing.
            (
                '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
                "style-src 'unsafe-inline'\">"
            ),
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{css}</style></head><body>",
        ]
    )


def render_report(report: DatasetReport) -> str:
    counts = report.counts
    families = report.families
    parts = [
        page_head(f"mechbench dataset {report.dataset_id}{' (running)' if report.running else ''}"),
        _header(report, counts),
        "<main>",
        '<section id="summary"><h2>Summary</h2><div class="charts">',
        verdict_chart(report, families),
        share_chart(report),
        level_chart(report),
        caps_chart(report, families),
        "</div></section>",
        (
            f'<section id="gallery"><h2>Gallery <span class="muted">({len(report.cards)} benchmarks, '
            f"{report.pictures} with a picture)</span></h2>"
        ),
        '<div class="gallery">',
        *(_card_html(c) for c in report.cards),
        "</div></section>",
        _table_section(report),
        uncertified_section(report),
        certification_section(report),
        _rejected_section(report),
        "</main>",
        (
            "<footer>Reference = share of jittered scenes the reference solution solved. Max cost and max "
            "weight are the caps a design must stay within. Random = share of the generic sampler's random "
            "designs that solved the benchmark, with the one-sided (Clopper&ndash;Pearson) upper confidence bound of that share; "
            "robust = share of perturbed references (parts moved and turned a little) that still solved it; "
            "slack = how far a cap lies above the reference's cost or weight. Folds: the benchmark's fold "
            "of a split holding seeds out within each family, and of one holding whole families out. "
            "Written by "
            "<code>mechbench report</code>; self-contained (no scripts, no external resources). The "
            "leaderboard of a finished dataset, as a page like this one: "
            "<code>mechbench leaderboard DATASET_ID --html PATH</code>.</footer>"
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _header(report: DatasetReport, counts: Counter[Verdict]) -> str:
    m = report.manifest
    if m is not None:
        r = m.request
        extra = ""
        if r.n_scenes is not None:
            extra += f", {r.n_scenes} scenes per proof"
        title = f"<h1>Dataset <code>{esc(m.dataset_id)}</code></h1>"
        request = (
            f'<div class="request muted">request: families {esc(", ".join(r.families))}; count {r.count}; '
            f"base seed {r.base_seed}{esc(extra)}; generator version {m.generator_version}</div>"
        )
    else:
        n = report.parts_read
        running = '<span class="badge running">running</span>'
        title = f"<h1>Dataset <code>{esc(report.dataset_id)}</code> {running}</h1>"
        request = (
            '<div class="request muted">still running: no merged manifest yet. Showing the benchmarks of the '
            f"{n} manifest part{'' if n == 1 else 's'} written so far (one per finished chunk); "
            "the request is recorded in the manifest when the dataset completes.</div>"
        )
    problems = "".join(f'<div class="problem">{esc(p)}</div>' for p in report.problems)
    return (
        f'<header><div class="inner">{title}{request}'
        '<div class="counts">'
        f'<span class="total">{len(report.cards)} benchmarks</span>'
        f'<span class="badge published">{counts[Verdict.PUBLISHED]} published</span> '
        f'<span class="badge rejected">{counts[Verdict.REJECTED]} rejected</span> '
        f'<span class="badge failed">{counts[Verdict.FAILED]} failed</span>'
        f"</div>{problems}</div></header>"
    )


def _card_html(card: BenchmarkCard) -> str:
    e = card.entry
    v = e.verdict.value
    bid = esc(e.benchmark_id)
    if card.thumbnail_png is not None:
        picture = img(card.thumbnail_png, "thumb", f"{e.family} seed {e.seed}: scene of {e.benchmark_id}")
    else:
        picture = placeholder(card.picture_note)
    required = ""
    if card.definition is not None:
        required = (
            f' <span class="muted">(needs {card.definition.simulation.required_success_share:.0%})</span>'
        )
    why = ""
    if e.verdict != Verdict.PUBLISHED:
        proof = f"{e.failed_proof.value}: " if e.failed_proof else ""
        why = f'<div class="why">{esc(proof + (e.reason or "no reason recorded"))}</div>'
    problems = "".join(f'<div class="problem">{esc(p)}</div>' for p in card.problems)
    reused = ' <span class="muted">(reused)</span>' if e.reused else ""
    random = DASH
    if card.random_designs is not None or card.random_solve_rate is not None:
        random = f"{integer(card.random_solved)}/{integer(card.random_designs)} solved, {rate(card)}"
    about = description(card)
    more = (
        f'<div class="more"><a href="#c-{bid}">difficulty and random designs</a></div>'
        if has_article(card)
        else ""
    )
    return (
        f'<figure class="benchmark v-{esc(v)}" data-benchmark="{bid}" data-verdict="{esc(v)}" '
        f'id="b-{bid}">'
        f'<div class="frame">{picture}</div>'
        f'<figcaption><div class="id">{bid}</div>'
        f'<span class="badge {esc(v)}">{esc(v)}</span>{reused}'
        f'<div class="desc" title="{esc(about)}">{esc(about)}</div>'
        "<dl>"
        f"<dt>family</dt><dd>{esc(e.family)}</dd>"
        f"<dt>seed</dt><dd>{e.seed}</dd>"
        f"<dt>max unit cost</dt><dd>{money(e.max_unit_cost_usd)}</dd>"
        f"<dt>max weight</dt><dd>{kg(e.max_weight_kg)}</dd>"
        f"<dt>reference</dt><dd>{share(e.success_share)}{required}</dd>"
        f"<dt>level</dt><dd>{level(card)}</dd>"
        f"<dt>random</dt><dd>{random}</dd>"
        f"<dt>robust</dt><dd>{pct(card.robust_share)}</dd>"
        "</dl>"
        f"{why}{problems}{more}</figcaption></figure>"
    )


def _table_section(report: DatasetReport) -> str:
    """Every benchmark in one table: verdict, level, random rate with its bound, robust share, folds."""
    rows = []
    for c in report.cards:
        e = c.entry
        v = e.verdict.value
        rows.append(
            f'<tr data-benchmark="{esc(e.benchmark_id)}">'
            f'<td><a href="#b-{esc(e.benchmark_id)}">{esc(e.benchmark_id)}</a></td>'
            f"<td>{esc(e.family)}</td><td class=num>{e.seed}</td>"
            f'<td><span class="badge {esc(v)}">{esc(v)}</span></td>'
            f'<td class="num level">{integer(c.level)}</td>'
            f'<td class="num designs">{integer(c.random_designs)}</td>'
            f'<td class="num rate">{rate(c)}</td>'
            f'<td class="num robust">{pct(c.robust_share)}</td>'
            f'<td class="num">{share(e.success_share)}</td>'
            f'<td class="num fold-within">{integer(e.within_family_fold)}</td>'
            f'<td class="num fold-cross">{integer(e.cross_family_fold)}</td></tr>'
        )
    return (
        '<section id="benchmarks"><h2>Benchmarks</h2>'
        "<table><thead><tr><th>benchmark</th><th>family</th><th>seed</th><th>verdict</th><th>level</th>"
        "<th>random designs</th><th>random solve rate (&le; upper bound)</th><th>robust</th>"
        "<th>reference</th>"
        "<th>fold (within family)</th><th>fold (cross family)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
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
        measured = num(proof.measured) if proof else DASH
        limit = num(proof.limit) if proof else DASH
        detail = ""
        if proof is not None and proof.detail and proof.detail != e.reason:
            detail = f'<div class="muted">{esc(proof.detail)}</div>'
        body.append(
            f'<tr data-benchmark="{esc(e.benchmark_id)}">'
            f'<td><a href="#b-{esc(e.benchmark_id)}">{esc(e.benchmark_id)}</a></td>'
            f"<td>{esc(e.family)}</td><td class=num>{e.seed}</td>"
            f'<td><span class="badge {esc(e.verdict.value)}">{esc(e.verdict.value)}</span></td>'
            f"<td>{esc(failed) or DASH}</td>"
            f'<td class="reason">{esc(e.reason or "no reason recorded")}{detail}</td>'
            f"<td class=num>{measured}</td><td class=num>{limit}</td></tr>"
        )
    return (
        head + "<table><thead><tr><th>benchmark</th><th>family</th><th>seed</th><th>verdict</th>"
        "<th>failed proof</th><th>reason</th><th>measured</th><th>limit</th></tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></section>"
    )
