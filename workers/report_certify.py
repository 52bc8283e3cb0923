"""The dataset report's certification sections: the benchmarks rejected as trivial or not robust, each scene
beside the picture of its best random design, and per benchmark its difficulty card and the random-design
proof's nearest designs.

Every stored string (reasons, details, the random designs' parts, the level formula) goes through
:func:`~workers.report_format.esc`; a number a result recorded before certification lacks is a dash.
"""

from __future__ import annotations

from engines.certify.difficulty import FORMULA
from shared.models import Proof, RandomDesignTrial, RandomProofReport
from workers.report_data import BenchmarkCard, DatasetReport
from workers.report_format import (
    DASH,
    description,
    esc,
    img,
    integer,
    level,
    mm,
    money,
    pct,
    placeholder,
    random_part,
    rate,
    slack,
)


def uncertified_section(report: DatasetReport) -> str:
    """Rejected as trivial or not robust: the scene beside the best random design, with the numbers."""
    cards = [c for c in report.cards if c.uncertified is not None]
    head = '<section id="uncertified"><h2>Rejected as trivial or not robust</h2>'
    if not cards:
        return (
            head
            + '<p class="muted">None: no benchmark was rejected by random designs or perturbations.</p>'
            + "</section>"
        )
    items = []
    for c in cards:
        e = c.entry
        bid = esc(e.benchmark_id)
        proof = c.uncertified
        assert proof is not None
        r, rb = c.random, c.robust
        if proof == Proof.NOT_TRIVIAL_RANDOM:
            threshold = (
                f", trivial at &ge; {pct(r.threshold)}" if r is not None and r.threshold is not None else ""
            )
            summary = (
                f"{integer(c.random_solved)} of {integer(c.random_designs)} random designs solved it: "
                f"solve rate {rate(c)}{threshold}"
            )
        else:
            summary = f"robust share {pct(c.robust_share)}"
            if rb is not None:
                summary = (
                    f"{rb.solved} of {rb.perturbations} perturbed references solved it: {pct(rb.share)} "
                    f"(needs {pct(rb.required_share)})"
                )
        scene = (
            img(c.thumbnail_png, "shot", f"scene of {e.benchmark_id} with its reference")
            if c.thumbnail_png is not None
            else placeholder(c.picture_note)
        )
        top = r.best[0] if r is not None and r.best else None
        label = "best random design"
        if top is not None:
            label += f" #{top.index}: {top.goal_scenes}/{top.scenes_run} goal scenes"
        best = (
            img(c.best_random_png, "shot", f"{label} in {e.benchmark_id}")
            if c.best_random_png is not None
            else placeholder(c.best_random_note)
        )
        items.append(
            f'<article class="uncertified" data-benchmark="{bid}" data-proof="{esc(proof.value)}">'
            '<div class="pair">'
            f'<div><div class="frame">{scene}</div><div class="label">scene with the reference</div></div>'
            f'<div class="best-random"><div class="frame">{best}</div>'
            f'<div class="label">{esc(label)}</div></div>'
            "</div>"
            f'<div class="caption"><a class="id" href="#{"c" if has_article(c) else "b"}-{bid}">{bid}</a> '
            f'<span class="badge rejected">{esc(proof.value)}</span><div>{summary}</div>'
            f'<div class="why">{esc(e.reason or "no reason recorded")}</div></div></article>'
        )
    return head + '<div class="pairs">' + "".join(items) + "</div></section>"


def has_article(card: BenchmarkCard) -> bool:
    """Whether the certification section has an article for the card (``#c-<id>``): a result or a definition
    to show."""
    return card.result is not None or card.definition is not None


def certification_section(report: DatasetReport) -> str:
    """Per benchmark with a result or a definition: the one-line description, the difficulty card and the
    random-design proof's nearest designs. The level formula once (each formula the cards recorded)."""
    cards = [c for c in report.cards if has_article(c)]
    formulas = list(dict.fromkeys(c.difficulty.formula for c in report.cards if c.difficulty is not None))
    if not formulas and any(c.level is not None for c in report.cards):
        formulas = [FORMULA]
    head = '<section id="certification"><h2>Difficulty and random designs</h2>'
    if formulas:
        head += "".join(f'<p class="formula"><b>Difficulty level:</b> {esc(f)}</p>' for f in formulas)
    else:
        head += '<p class="muted">No difficulty recorded (results from before certification).</p>'
    if not cards:
        return head + '<p class="muted">No benchmark result in the store.</p></section>'
    return head + "".join(_cert_article(c) for c in cards) + "</section>"


def _cert_article(card: BenchmarkCard) -> str:
    e = card.entry
    bid = esc(e.benchmark_id)
    v = e.verdict.value
    d, r, rb = card.difficulty, card.random, card.robust
    rows: list[tuple[str, str]] = []
    rows.append(("level", level(card)))
    designs = integer(card.random_designs)
    if r is not None:
        designs = f"{r.simulated} simulated of {r.requested} requested"
        notes = (["stopped early: already decided"] if r.stopped_early else []) + (
            [f"{r.unsampleable} without a valid draw"] if r.unsampleable else []
        )
        if notes:
            designs += f" ({'; '.join(notes)})"
    rows.append(("random designs", designs))
    rows.append(("solved", integer(card.random_solved)))
    rows.append(("solve rate", pct(card.random_solve_rate)))
    upper = pct(card.random_upper_bound)
    if card.random_upper_bound is not None:
        conf = r.confidence if r is not None else None
        notes = [
            f"Clopper&ndash;Pearson, {conf:.0%} one-sided" if conf is not None else "Clopper&ndash;Pearson"
        ]
        if r is not None and r.threshold is not None:
            notes.append(f"trivial at &ge; {pct(r.threshold)}")
        upper += f' <span class="muted">({", ".join(notes)})</span>'
    rows.append(("upper bound", upper))
    robust = pct(card.robust_share)
    if rb is not None:
        robust += (
            f' <span class="muted">({rb.solved} of {rb.perturbations} perturbations solved; '
            f"parts moved up to {rb.position_mm:g} mm and turned up to {rb.rotation_deg:g}&deg;; needs "
            f"{pct(rb.required_share)})</span>"
        )
    rows.append(("robust share", robust))
    cost, weight = card.slacks
    rows.append(("cost slack", slack(cost)))
    rows.append(("weight slack", slack(weight)))
    rows.append(("reference parts", DASH if d is None else str(d.reference_parts)))
    rows.append(("joint / motor", DASH if d is None else f"{_yes(d.needs_joint)} / {_yes(d.needs_motor)}"))
    if r is not None and r.rejected_draws:
        rows.append(("draws thrown away", esc(", ".join(f"{k} {n}" for k, n in r.rejected_draws.items()))))
    if r is not None:
        rows.append(
            (
                "random time",
                f"compile {r.compile_s:.1f} s, simulate {r.simulate_s:.1f} s, price {r.price_s:.1f} s",
            )
        )
    if rb is not None and rb.worst_detail:
        rows.append(("worst perturbation", esc(rb.worst_detail)))
    note = ""
    if d is None and r is None and rb is None:
        note = (
            '<p class="muted">No difficulty card: rejected before its simulations, or recorded before '
            "certification existed.</p>"
        )
    dl = '<dl class="difficulty">' + "".join(f"<dt>{k}</dt><dd>{val}</dd>" for k, val in rows) + "</dl>"
    best = _best_table(r) if r is not None else ""
    problems = "".join(f'<div class="problem">{esc(p)}</div>' for p in card.problems)
    return (
        f'<article class="cert" id="c-{bid}" data-benchmark="{bid}">'
        f'<h3><a href="#b-{bid}">{bid}</a> <span class="badge {esc(v)}">{esc(v)}</span></h3>'
        f'<p class="desc">{esc(description(card))}</p>{note}{problems}'
        f'<div class="cert-body">{dl}{best}</div></article>'
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _best_table(r: RandomProofReport) -> str:
    """The random designs that came nearest, best first (at most five)."""
    if not r.best:
        return '<p class="muted best">No random design simulated.</p>'
    rows = []
    for rank, t in enumerate(r.best, 1):
        rows.append(_best_row(rank, t))
    return (
        '<table class="best"><thead><tr><th>#</th><th>design</th><th>parts</th><th>goal scenes</th>'
        "<th>nearest goal</th><th>unit cost</th><th>detail</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _best_row(rank: int, t: RandomDesignTrial) -> str:
    parts = "; ".join(random_part(p) for p in t.parts) or "no parts"
    solved = ' <span class="badge rejected">solved</span>' if t.solved else ""
    return (
        f'<tr class="{"solved" if t.solved else "missed"}" data-design="{t.index}">'
        f"<td class=num>{rank}</td><td class=num>{t.index}{solved}</td>"
        f'<td class="parts">{esc(parts)}</td>'
        f"<td class=num>{t.goal_scenes}/{t.scenes_run}</td>"
        f"<td class=num>{mm(t.min_goal_distance_mm)}</td>"
        f"<td class=num>{money(t.unit_cost_usd)}</td>"
        f'<td class="reason">{esc(t.detail) or DASH}</td></tr>'
    )
