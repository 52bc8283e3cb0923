"""Every proof a published benchmark needs, per family and seed, on the engines alone (no Temporal): the
geometry proof (``validate_geometry``), the baseline (stable, not solved), the reference (solved in the required share of scenes),
the caps from the reference's quote, the random-design proof and the perturbation proof, judged as
``GenerateBenchmark`` judges them. Not a test: a study tool for family authors, and the source of the per-
level random solve rates in the families' documentation.

    .venv/bin/python -m benchmarks.study_families --families chute,lift --seeds 0-5 [--n 300] [--threads 2]

One row per benchmark, then per family and complexity level: published / built, random designs solved of
simulated, and the worst upper bound.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import dataclass

from benchmarks.bench_certify import Built, build
from engines.cad.families import FAMILIES
from engines.cad.validate import validate_geometry
from engines.certify.robust import run_perturbations
from engines.certify.trials import TrialRule, run_trials, seed_of
from engines.manufacturing.catalog import Catalog, load_catalog
from engines.physics.runner import simulate
from shared.models import (
    Outcome,
    RandomProofReport,
    RobustProofReport,
    Severity,
    SimulationMode,
    SimulationReport,
)
from shared.settings import Settings


@dataclass(frozen=True)
class Proven:
    """Every proof of one built benchmark, and why it would be rejected (nothing: published)."""

    baseline: SimulationReport
    reference: SimulationReport
    random: RandomProofReport
    upper_bound: float
    robust: RobustProofReport
    failed: list[str]


def prove(b: Built, settings: Settings, catalog: Catalog, n: int, threads: int) -> Proven:
    """The proofs ``GenerateBenchmark`` runs after the affordability proof (:func:`build` ran that one),
    judged as it judges them, on the engines alone."""
    d, sim = b.definition, b.definition.simulation
    geometry = validate_geometry(d, b.shapes)
    base = simulate(d, b.collision, SimulationMode.BASELINE, sim.n_scenes, threads=threads)
    ref = simulate(
        d, b.collision, SimulationMode.REFERENCE, sim.n_scenes, threads=threads, structure=b.structure
    )
    unstable = base.outcome_counts.get(Outcome.PHYSICS_INSTABILITY.value, 0)
    rule = TrialRule(
        n_scenes=sim.n_scenes,
        required_share=sim.required_success_share,
        threshold=settings.trivial_threshold,
        confidence=settings.random_confidence,
        safety_factor=settings.structure_safety_factor,
    )
    rnd = run_trials(
        d,
        b.collision,
        b.caps,
        catalog,
        rule,
        seed_of(d.benchmark_id),
        0,
        n,
        threads=threads,
    )
    rob = run_perturbations(
        d,
        b.collision,
        settings.robust_perturbations,
        settings.robust_required_share,
        seed_of(d.benchmark_id),
        threads=threads,
        structure=b.structure,
    )
    ub = rnd.upper_bound if rnd.upper_bound is not None else 1.0
    failed = [
        name
        for name, bad in (
            (
                "invalid geometry: "
                + ", ".join(sorted({f.rule for f in geometry.findings if f.severity == Severity.BLOCKING})),
                not geometry.valid,
            ),
            ("baseline solved", base.success_share > 0),
            ("baseline unstable", unstable > 0),
            ("reference fails", ref.success_share < sim.required_success_share),
            ("trivial", ub >= settings.trivial_threshold),
            ("fragile", rob.share < settings.robust_required_share),
        )
        if bad
    ]
    return Proven(base, ref, rnd, ub, rob, failed)


def seeds_of(text: str) -> list[int]:
    out: list[int] = []
    for chunk in text.split(","):
        lo, _, hi = chunk.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--seeds", default="0-2", help="e.g. 0-19 or 0,3,6")
    parser.add_argument("--n", type=int, default=300, help="random designs per benchmark")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings, catalog = Settings(), load_catalog()
    names = list(FAMILIES) if args.families == "all" else args.families.split(",")
    per_level: dict[tuple[str, int], list[tuple[bool, int, int, float]]] = defaultdict(list)
    print(
        f"{'benchmark':<16}{'lvl':>4}{'base':>6}{'ref':>6}{'random':>10}{'upper':>8}{'robust':>8}"
        f"{'cost $':>8}{'s':>6}  verdict"
    )
    for family in names:
        for seed in seeds_of(args.seeds):
            t0 = time.perf_counter()
            level = FAMILIES[family].level(seed)
            try:
                b = build(family, settings, catalog, seed)
            except Exception as e:  # noqa: BLE001 - a study reports every failure and goes on
                print(f"{family}-s{seed:<10}{level:>4}  build failed: {type(e).__name__}: {e}")
                per_level[(family, level)].append((False, 0, 0, 1.0))
                continue
            row = prove(b, settings, catalog, args.n, args.threads)
            d, rnd, ub, failed = b.definition, row.random, row.upper_bound, row.failed
            per_level[(family, level)].append((not failed, rnd.solved, rnd.simulated, ub))
            print(
                f"{d.benchmark_id:<16}{level:>4}{row.baseline.success_share:>6.0%}"
                f"{row.reference.success_share:>6.0%}"
                f"{f'{rnd.solved}/{rnd.simulated}':>10}{ub:>8.2%}{row.robust.share:>8.0%}"
                f"{b.caps.reference_unit_cost_usd:>8.2f}{time.perf_counter() - t0:>6.1f}  "
                + ("published" if not failed else "REJECTED: " + ", ".join(failed))
            )
    print(f"\n{'family':<12}{'level':>6}{'published':>11}{'random solved':>15}{'rate':>8}{'worst ub':>10}")
    for (family, level), rows in sorted(per_level.items()):
        solved, simulated = sum(r[1] for r in rows), sum(r[2] for r in rows)
        rate = f"{solved / simulated:.2%}" if simulated else "-"
        print(
            f"{family:<12}{level:>6}{f'{sum(r[0] for r in rows)}/{len(rows)}':>11}"
            f"{f'{solved}/{simulated}':>15}{rate:>8}{max(r[3] for r in rows):>10.2%}"
        )


if __name__ == "__main__":
    main()
