"""What the ``mechbench`` commands print: the consoles, the tables of a dataset, a benchmark's verdict, a
manufacturing report, an evaluation and the schedules, and how money is written.

Rendering only: nothing here reads settings, starts work or decides an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engines.certify.difficulty import FORMULA
from shared.models import (
    ArtifactRef,
    BenchmarkResult,
    DatasetManifest,
    DatasetResult,
    EvaluationResult,
    Leaderboard,
    ManufacturingReport,
    Proof,
    Verdict,
)
from shared.store import LocalStore, ObjectStore

# Pipes and CI logs get a wide console so tables and URLs are not folded.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)  # error messages are never folded mid-word


def dataset_table(manifest: DatasetManifest) -> Table:
    t = Table(title=f"dataset {manifest.dataset_id}", show_lines=False)
    cols = (
        "benchmark",
        "family",
        "seed",
        "verdict",
        "reason",
        "reference",
        "random",
        "level",
        "max cost $",
        "max kg",
        "reused",
    )
    for col in cols:
        t.add_column(col, overflow="fold")
    colours = {Verdict.PUBLISHED: "green", Verdict.REJECTED: "yellow", Verdict.FAILED: "red"}
    for e in manifest.entries:
        t.add_row(
            e.benchmark_id,
            e.family,
            str(e.seed),
            f"[{colours[e.verdict]}]{e.verdict.value}[/]",
            (f"{e.failed_proof.value}: " if e.failed_proof else "") + (e.reason or ""),
            f"{e.success_share:.0%}" if e.success_share is not None else "",
            random_cell(e.random_designs, e.random_solve_rate, e.random_upper_bound),
            "" if e.level is None else str(e.level),
            f"{e.max_unit_cost_usd:.2f}" if e.max_unit_cost_usd is not None else "",
            f"{e.max_weight_kg:.3f}" if e.max_weight_kg is not None else "",
            "yes" if e.reused else "",
        )
    return t


def random_cell(designs: int | None, rate: float | None, upper: float | None) -> str:
    """``solve rate (upper bound) / N``: how often random designs solved the benchmark."""
    if designs is None or rate is None or upper is None:
        return ""
    return f"{rate:.1%} (<{upper:.1%}) of {designs}"


def certification_summary(manifest: DatasetManifest) -> str:
    """One line: the certification's outcome over the dataset (trivial and fragile rejections, levels)."""
    entries = manifest.entries
    trivial = sum(e.failed_proof == Proof.NOT_TRIVIAL_RANDOM for e in entries)
    fragile = sum(e.failed_proof == Proof.ROBUST for e in entries)
    levels = sorted(e.level for e in entries if e.verdict == Verdict.PUBLISHED and e.level is not None)
    tried = sorted({e.random_designs for e in entries if e.random_designs is not None})
    spread = ", ".join(f"{lv}: {levels.count(lv)}" for lv in sorted(set(levels))) or "none"
    return (
        f"certification: {trivial} rejected as solvable by random designs, {fragile} as not robust to "
        f"perturbation; random = solve rate (95% upper bound) of N random designs "
        f"(N {', '.join(map(str, tried)) or 'not run'}); published levels {spread} "
        f"(level 0-5: {FORMULA})"
    )


def print_locations(store: ObjectStore, result: DatasetResult, url: str | None) -> None:
    def where(key: str) -> str:
        return str(store.path_of(key)) if isinstance(store, LocalStore) else f"{key} in {store.describe()}"

    console.print(f"dataset manifest: {where(result.manifest.key)}")
    console.print(f"benchmarks: {where('benchmarks')}")
    if url:
        console.print(f"history: run `mechbench dev` and open {url}")


def print_benchmark(result: BenchmarkResult, store: ObjectStore) -> None:
    colour = {Verdict.PUBLISHED: "green", Verdict.REJECTED: "yellow", Verdict.FAILED: "red"}[result.verdict]
    reused = " (stored verdict, not proven again)" if result.reused else ""
    console.print(f"[bold]{result.benchmark_id}[/bold] ({result.family}, seed {result.seed}){reused}")
    why = f": {result.failed_proof.value}: {escape(result.reason or '')}" if result.failed_proof else ""
    console.print(f"[{colour}]{result.verdict.value.upper()}[/{colour}]{why}")
    t = Table(title="proofs")
    for col in ("proof", "passed", "measured", "limit", "detail"):
        t.add_column(col, overflow="fold")
    for p in result.proofs:
        t.add_row(
            p.proof.value,
            "[green]yes[/green]" if p.passed else "[red]no[/red]",
            "" if p.measured is None else f"{p.measured:g}",
            "" if p.limit is None else f"{p.limit:g}",
            escape(p.detail),
        )
    console.print(t)
    if result.caps is not None:
        c = result.caps
        console.print(
            f"caps: unit cost ${c.max_unit_cost_usd:.2f}, weight {c.max_weight_kg:.3f} kg (reference "
            f"${c.reference_unit_cost_usd:.2f} and {c.reference_weight_kg:.3f} kg x {c.headroom_factor:g} "
            f"at quantity {c.target_quantity})"
        )
    if result.difficulty is not None:
        d = result.difficulty
        random = random_cell(d.random_designs, d.random_solve_rate, d.random_upper_bound)
        console.print(
            f"difficulty: level {d.level}"
            + (f"; random designs {random}" if random else "")
            + (f"; robust in {d.robust_share:.0%} of perturbations" if d.robust_share is not None else "")
            + f" ({escape(d.formula)})"
        )
    if result.random is not None and result.random.best:
        best = result.random.best[0]
        console.print(
            f"nearest random design #{best.index}: {', '.join(f'{p.kind} {p.material}' for p in best.parts)}; "
            f"goal in {best.goal_scenes} of {best.scenes_run} scenes; {escape(best.detail)}"
        )
    if result.definition is not None:
        key = result.definition.key
        console.print(f"definition: {store.path_of(key) if isinstance(store, LocalStore) else key}")


def money(x: float | None) -> str:
    return "" if x is None else (f"{x:,.2f}" if x >= 0.1 else f"{x:.4f}")


def print_report(report: ManufacturingReport) -> None:
    p, q = report.part, report.quote
    size = " x ".join(f"{s:.1f}" for s in p.bbox.size_mm)
    console.print(
        f"[bold]{p.filename or p.sha256[:12]}[/bold]: {size} mm, {p.volume_mm3 / 1000:.2f} cm3, "
        f"{p.faces} faces, {p.triangles} triangles" + ("" if p.has_brep else " (mesh input)")
    )
    verdict = (
        "[green]manufacturable[/green]"
        if report.manufacturable
        else "[red]NOT manufacturable as designed[/red]"
    )
    console.print(f"{report.method.value} in {report.material.value}, quantity {report.quantity}: {verdict}")
    for r in p.repairs:
        console.print(f"[cyan]repaired:[/cyan] {escape(r)}")
    asked = [
        f"tolerance ISO 2768-{q.tolerance_class.value}" if q.tolerance_class else "",
        f"finish {q.finish.value}",
        f"{q.tooling_class} tooling" if q.tooling_class else "",
    ]
    console.print("priced with " + ", ".join(a for a in asked if a))
    if report.findings:
        t = Table(title="DFM findings", show_lines=True)
        for col in ("severity", "rule", "measured", "limit", "where", "why / fix"):
            t.add_column(col, overflow="fold")
        colour = {"blocking": "red", "warning": "yellow", "info": "cyan"}
        for f in report.findings:
            where = ""
            if f.face_ids:
                where = (
                    "faces " + ", ".join(map(str, f.face_ids[:8])) + (" ..." if len(f.face_ids) > 8 else "")
                )
            if f.point_mm:
                where += f"\nat ({', '.join(f'{v:.1f}' for v in f.point_mm)})"
            t.add_row(
                f"[{colour[f.severity.value]}]{f.severity.value}[/]",
                f"{f.rule_id}\n{escape(f.title)}",
                "" if f.measured is None else f"{f.measured:g} {f.unit or ''}",
                "" if f.limit is None else f"{f.limit:g} {f.unit or ''}",
                where,
                f"{escape(f.why)}\n[bold]fix:[/bold] {escape(f.fix)}",
            )
        console.print(t)
    t = Table(title=f"quote: {q.quantity} x {report.method.value} ({report.catalog})", show_lines=False)
    for col in ("item", "per", "USD", "+-", "basis"):
        t.add_column(col, overflow="fold")
    for line in q.lines:
        t.add_row(line.item, line.per, money(line.usd), f"{line.band_pct:.0f}%", escape(line.basis))
    console.print(t)
    console.print(
        f"unit cost [bold]${money(q.unit_cost_usd)}[/bold] (${money(q.unit_cost_low_usd)} to "
        f"${money(q.unit_cost_high_usd)}, +-{q.band_pct:.0f}%), total ${money(q.total_cost_usd)}, "
        f"lead time {q.lead_time_days:.0f} days ({escape(q.lead_time_basis)})"
    )
    if q.estimate_band_pct is not None:
        console.print(f"[bold]estimate[/bold], not a binding quote: +-{q.estimate_band_pct:.0f}%")
    if q.needs_review:
        console.print("[red]needs review[/red] before it is offered: " + escape("; ".join(q.review_reasons)))
    for c in q.caveats:
        if c not in q.review_reasons:
            console.print(f"[yellow]caveat:[/yellow] {escape(c)}")
    t = Table(title="quantity ladder (same method and material)")
    for col in ("quantity", "unit $", "total $", "+-", "lead days"):
        t.add_column(col, justify="right")
    for r in report.ladder:
        mark = " *" if r.quantity == report.quantity else ""
        t.add_row(
            f"{r.quantity}{mark}",
            money(r.unit_cost_usd),
            money(r.total_cost_usd),
            f"{r.band_pct:.0f}%",
            f"{r.lead_time_days:.0f}",
        )
    console.print(t)
    if report.alternatives:
        t = Table(
            title=f"alternatives at quantity {report.quantity} (for comparison only; not what was asked)"
        )
        for col in ("method", "status", "unit $", "total $", "lead days", "note"):
            t.add_column(col, overflow="fold")
        for a in report.alternatives:
            status = (
                "not offered"
                if not a.available
                else "manufacturable"
                if a.manufacturable
                else "blocked: " + ", ".join(a.blocking)
            )
            t.add_row(
                a.method.value,
                status,
                money(a.unit_cost_usd),
                money(a.total_cost_usd),
                "" if a.lead_time_days is None else f"{a.lead_time_days:.0f}",
                escape(a.note),
            )
        console.print(t)


def print_evaluation(result: EvaluationResult, store: ObjectStore) -> None:
    def where(ref: ArtifactRef | None) -> str:
        if ref is None:
            return "-"
        return str(store.path_of(ref.key)) if isinstance(store, LocalStore) else ref.key

    colour = {"passed": "green", "failed": "red", "invalid": "yellow"}[result.verdict.value]
    reused = " (stored result, not simulated again)" if result.reused else ""
    console.print(f"[bold]{result.evaluation_id}[/bold]{reused}")
    console.print(f"[{colour}]{result.verdict.value.upper()}[/{colour}]: {escape(result.reason)}")
    if result.findings:
        t = Table(title="validation findings")
        for col in ("rule", "parts", "message"):
            t.add_column(col)
        for f in result.findings:
            t.add_row(f.rule, ", ".join(f.parts), escape(f.message))
        console.print(t)
    sim = result.simulation
    if sim is not None:
        t = Table(title=f"{len(sim.results)} jittered scenes")
        for col in ("scene", "jitter mm", "outcome", "at s", "closest to goal mm", "detail"):
            t.add_column(col)
        for r in sim.results:
            t.add_row(
                str(r.scene_index),
                ", ".join(f"{v:+.1f}" for v in r.jitter_mm),
                r.outcome.value,
                f"{r.time_s:.2f}",
                "" if r.min_goal_distance_mm is None else f"{r.min_goal_distance_mm:.1f}",
                escape(r.detail),
            )
        console.print(t)
        console.print(
            f"success {result.success_share:.0%} (required {result.required_success_share:.0%}); "
            f"{sim.steps_per_s:,.0f} steps/s"
        )
    if result.cost is not None:
        c = result.cost
        console.print(
            f"unit cost ${c.unit_cost_usd:.2f} (cap ${c.max_unit_cost_usd:.2f}) at quantity {c.quantity}; "
            f"weight {c.weight_kg:.3f} kg (cap {c.max_weight_kg:.3f} kg)"
        )
        for p in c.parts:
            blocking = f" [red]not manufacturable: {', '.join(p.blocking)}[/red]" if p.blocking else ""
            console.print(
                f"  {p.label}: {p.method.value} {p.material.value} ${p.unit_cost_usd:.2f} {p.mass_kg:.3f} kg{blocking}"
            )
        for b in c.bought:
            console.print(
                f"  bought {b.count} x {b.item} ({b.name}) ${b.cost_usd:.2f} {b.mass_kg:.3f} kg, for "
                + ", ".join(b.used_by)
            )
    ev = result.evidence
    if ev is not None:
        console.print(f"evidence (scene {ev.scene_index}, {ev.outcome.value}):")
        console.print(f"  trajectory: {where(ev.trajectory)}")
        for name, ref in (("frames", ev.frames), ("animation", ev.animation), ("picture", ev.picture)):
            console.print(f"  {name}: {where(ref)}")
        if ev.render_error:
            console.print(f"  [yellow]no pictures:[/yellow] {escape(ev.render_error)}")
    if result.invalid_picture is not None:
        console.print(
            f"picture of the invalid design (offending parts in red): {where(result.invalid_picture)}"
        )
    if result.timings_s:
        console.print("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings_s.items()))
    console.print(f"result: {where(result.result)}")


def schedule_table(rows: list[Any]) -> Table:
    """The dataset schedules (:func:`workers.schedules.list_dataset_schedules`), one row each."""
    t = Table(title=f"{len(rows)} dataset schedules")
    for col in ("name", "every", "state", "next run", "latest runs"):
        t.add_column(col)
    for r in rows:
        state = f"paused ({r.note})" if r.paused and r.note else ("paused" if r.paused else "active")
        t.add_row(r.schedule_id, r.every, state, str(r.next_run or "-"), "\n".join(r.recent_runs[-3:]) or "-")
    return t


def print_families(infos: Sequence[Any]) -> None:
    """``mechbench families``: one block per family (``engines.cad.families.describe.FamilyInfo``)."""
    for info in infos:
        console.print(
            f"[bold]{info.name}[/bold] ({info.levels} level{'s' if info.levels > 1 else ''}): {info.idea}"
        )
        lo, hi = info.scale_range
        console.print(
            f"  per seed: payload of {', '.join(info.payload_materials)}; scene scale {lo:g}-{hi:g}",
            highlight=False,
        )
        for n in info.needs:
            bought = ", ".join(f"{c} x {item}" for item, c in n.bought.items()) or "none"
            console.print(
                f"  level {n.level}: {n.reference_parts} part{'s' if n.reference_parts != 1 else ''}, "
                f"{n.joints} joint{'s' if n.joints != 1 else ''} ({n.part_to_part_joints} part-to-part), "
                f"motors {', '.join(n.motors) or 'none'}; bought {bought}; {n.payloads} payload"
                f"{'s' if n.payloads != 1 else ''}, {n.moving_fixtures} moving fixture"
                f"{'s' if n.moving_fixtures != 1 else ''}",
                highlight=False,
            )


def print_leaderboard(board: Leaderboard) -> None:
    """Standings, best first, then each benchmark's cost-performance front."""
    scope = f"{board.split} fold {board.fold} (test)" if board.split else "all published benchmarks"
    table = Table(
        title=f"{board.dataset_id}: {scope}, {board.benchmarks} benchmarks, scorer v{board.scorer_version}"
    )
    for col in ("submitter", "attempted", "solved", "evaluations", "AUCCESS", "mean cost ratio"):
        table.add_column(col, justify="left" if col == "submitter" else "right")
    for s in board.standings:
        ratio = f"{s.mean_cost_ratio:.2f}" if s.mean_cost_ratio is not None else "-"
        table.add_row(
            escape(s.submitter),
            str(s.attempted),
            f"{s.solved}/{s.benchmarks}",
            str(s.evaluations),
            f"{s.auccess:.3f}",
            ratio,
        )
    out = Console(soft_wrap=True)
    out.print(table)
    if not board.standings:
        out.print("no attempts yet: evaluations sent with a submitter are recorded here")
    for f in board.fronts:
        points = ", ".join(
            f"{escape(p.submitter)}#{p.attempt} {p.success_share:.0%} at {p.cost_fraction:.2f} of the cap"
            + ("" if p.passed else " (failed)")
            for p in f.front
        )
        out.print(f"[bold]{escape(f.benchmark_id)}[/bold] front: {points or 'no priced attempt'}")
    if board.other_scorer_versions:
        left = ", ".join(f"{n} by v{v}" for v, n in sorted(board.other_scorer_versions.items()))
        out.print(f"left out, scored by another scorer version: {left}")
