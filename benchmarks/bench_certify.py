"""The random-design proof (engines/certify/trials.py) on each family's seed 0, as the pipeline runs it: N
random designs on the benchmark's own scenes (its ProofBasis: 8 for every family), caps from the reference's
manufacturing quote. Not a test.

Per family it prints designs/s, where the time goes (scene compile, simulation, quoting: seconds summed over
the threads, so they can exceed the wall time), and two ratios measured side by side in the same run on the
first ``--ratio-n`` designs:

- the settle early stop (a scene ends once nothing moves, ``trials.SETTLE_S``) on vs off;
- 2 threads vs 1 thread.

The target is at most 30 s per benchmark on 2 cores for N = 1000; each family says whether it meets it.

    .venv/bin/python -m benchmarks.bench_certify [--quick] [--n 1000] [--threads 2] [--ratio-n 100]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from build123d import Shape

from engines.cad.build import build_from_design, family_design
from engines.certify import trials
from engines.certify.affordability import Ceilings, judge, price_reference
from engines.certify.trials import TrialRule, run_trials, seed_of
from engines.manufacturing.catalog import Catalog, load_catalog
from engines.manufacturing.extract import facts_from_shape, in_principal_frame
from engines.manufacturing.facts import PartFacts
from engines.physics import collision_pack
from engines.physics.collision_pack import Piece
from engines.physics.structure_check import SceneStructure, scene_structure
from shared.families import FAMILIES, GENERATOR_VERSION
from shared.ids import benchmark_id
from shared.models import BenchmarkDefinition, Caps, PartSpec, ProofBasis, RandomProofReport
from shared.settings import Settings

BUDGET_S = 30.0
"""Target from the issue: one benchmark's random proof of N = 1000 in at most 30 s on 2 cores."""


class NotAffordable(Exception):
    """The reference fails the affordability proof (the pipeline rejects the benchmark there)."""


@dataclass(frozen=True)
class Built:
    definition: BenchmarkDefinition
    collision: dict[str, list[Piece]]
    caps: Caps
    build_s: float
    shapes: dict[str, Shape]
    structure: SceneStructure | None = None
    """A structural benchmark's check of its reference (as the jobs build it)."""


def build(family: str, settings: Settings, catalog: Catalog, seed: int = 0) -> Built:
    """``seed`` built as ``build_job`` builds it, with caps as ``assess_affordability`` sets them; raises
    :class:`NotAffordable` where that proof fails."""
    t0 = time.perf_counter()
    design = family_design(family, seed)
    basis = ProofBasis.asked(None, None, own=design.simulation)
    bid = benchmark_id(family, seed, GENERATOR_VERSION)
    d, blobs, shapes = build_from_design(
        design, family, seed, GENERATOR_VERSION, bid, basis.n_scenes, basis.check_interval_steps
    )
    collision = collision_pack.unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))

    def facts_of(part: PartSpec) -> PartFacts:
        assert part.step is not None
        return facts_from_shape(in_principal_frame(shapes[part.label]), part.step.sha256, "step")

    ceilings = Ceilings.of(settings)
    priced = price_reference(d.reference_solution, facts_of, ceilings.quantity, catalog)
    proof, caps = judge(priced, ceilings, catalog.label)
    if caps is None:
        raise NotAffordable(proof.detail)
    d = d.model_copy(update={"caps": caps})
    structure = None
    if d.artifacts.surfaces is not None:
        packed = collision_pack.unpack(next(b.data for b in blobs if b.key == d.artifacts.surfaces.key))
        surfaces = {label: pieces[0] for label, pieces in packed.items()}
        structure = scene_structure(d, surfaces, collision, settings.structure_safety_factor)
    return Built(d, collision, caps, time.perf_counter() - t0, shapes, structure)


@contextmanager
def settle(on: bool) -> Iterator[None]:
    saved = trials.SETTLE_S
    trials.SETTLE_S = saved if on else None
    try:
        yield
    finally:
        trials.SETTLE_S = saved


def proof(
    b: Built, settings: Settings, catalog: Catalog, n: int, threads: int
) -> tuple[RandomProofReport, float]:
    sim = b.definition.simulation
    rule = TrialRule(
        n_scenes=sim.n_scenes,
        required_share=sim.required_success_share,
        threshold=settings.trivial_threshold,
        confidence=settings.random_confidence,
        safety_factor=settings.structure_safety_factor,
    )
    t0 = time.perf_counter()
    report = run_trials(
        b.definition,
        b.collision,
        b.caps,
        catalog,
        rule,
        seed_of(b.definition.benchmark_id),
        0,
        n,
        threads=threads,
    )
    return report, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N = 100 and ratios on 50 designs")
    parser.add_argument("--n", type=int, default=None, help="random designs (default: the settings' N)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ratio-n", type=int, default=None, help="designs for the side-by-side ratios")
    parser.add_argument("--families", default=",".join(FAMILIES))
    args = parser.parse_args()
    settings, catalog = Settings(), load_catalog()
    n = args.n or (100 if args.quick else settings.random_designs)
    ratio_n = min(n, args.ratio_n or (50 if args.quick else 100))
    budget = BUDGET_S * n / 1000  # the target scaled to N
    print(
        f"random-design proof: N={n}, threads={args.threads}, threshold {settings.trivial_threshold}, "
        f"confidence {settings.random_confidence}; ratios on the first {ratio_n} designs"
    )
    print(
        f"{'family':<8}{'scenes':>7}{'sim':>5}{'solved':>8}{'upper':>8}{'wall s':>8}{'des/s':>8}"
        f"{'compile':>9}{'simulate':>9}{'quote':>7}{'scn/des':>8}  budget {budget:g} s"
    )
    ratios: list[str] = []
    for family in args.families.split(","):
        b = build(family, settings, catalog)
        r, wall = proof(b, settings, catalog, n, args.threads)
        spent = r.compile_s + r.simulate_s + r.price_s or 1.0
        upper = f"{r.upper_bound:.4f}" if r.upper_bound is not None else "-"
        verdict = "met" if wall <= budget else "MISSED"
        print(
            f"{family:<8}{b.definition.simulation.n_scenes:>7}{r.simulated:>5}{r.solved:>8}{upper:>8}"
            f"{wall:>8.2f}{r.simulated / wall:>8.1f}{r.compile_s / spent:>9.0%}{r.simulate_s / spent:>9.0%}"
            f"{r.price_s / spent:>7.0%}{r.scenes_run / max(1, r.simulated):>8.2f}  {verdict}"
            + ("  (stopped early: trivial)" if r.stopped_early else "")
        )
        print(
            f"{'':<8}thread-seconds: compile {r.compile_s:.2f}, simulate {r.simulate_s:.2f}, "
            f"quote {r.price_s:.2f}; build + caps {b.build_s:.2f} s (not in the wall time)"
        )
        _, on = proof(b, settings, catalog, ratio_n, args.threads)
        with settle(False):
            off_r, off = proof(b, settings, catalog, ratio_n, args.threads)
        _, one = proof(b, settings, catalog, ratio_n, 1)
        ratios.append(
            f"{family:<8}settle stop off/on {off:6.2f} s / {on:5.2f} s = {off / on:5.1f}x"
            f" (simulate {off_r.simulate_s:.2f} thread-s)   1/{args.threads} threads"
            f" {one:5.2f} s / {on:5.2f} s = {one / on:4.2f}x"
        )
    print(f"\nside by side, first {ratio_n} designs (wall time):")
    print("\n".join(ratios))


if __name__ == "__main__":
    main()
