"""The certification engine (engines/certify) without Temporal: exact binomial bounds, the stopping rules, the
random-design sampler, the difficulty level, the perturbed reference, and a tiny random proof on chute seed 0.

Geometry is checked independently of the sampler's own separating-axis test: a linear programme finds the
largest ball inside both hulls (:func:`_inscribed`), positive when two solids share interior.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.spatial import ConvexHull
from scipy.stats import binomtest

from engines.cad.assembly import motor_findings
from engines.cad.build import build_from_design, family_design
from engines.certify import difficulty, reports, robust, stats, trials
from engines.certify.primitives import TOUCH_MM, Convex, Kind, local_vertices, overlap, rotation
from engines.certify.sampler import MAX_ATTEMPTS, Sampler
from engines.certify.trials import TrialRule, run_trials, sampler_for, seed_of
from engines.manufacturing.catalog import load_catalog
from engines.physics import collision_pack
from shared.materials import MATERIALS, methods_for
from shared.models import SAMPLER_VERSION, Box, Caps, Outcome, ProofBasis, RandomProofReport, SceneResult

# --- fixtures ------------------------------------------------------------------------------------------


def _caps(weight_kg: float, cost_usd: float = 25.0, headroom: float = 1.5) -> Caps:
    return Caps(
        max_unit_cost_usd=cost_usd * headroom,
        max_weight_kg=weight_kg * headroom,
        headroom_factor=headroom,
        reference_unit_cost_usd=cost_usd,
        reference_weight_kg=weight_kg,
        target_quantity=100,
        cost_basis="test",
    )


def _built(family: str):  # type: ignore[no-untyped-def]
    design = family_design(family, 0)
    basis = ProofBasis.asked(None, None, own=design.simulation)
    d, blobs, _ = build_from_design(
        design, family, 0, 1, f"{family}-s0-v1", basis.n_scenes, basis.check_interval_steps
    )
    collision = collision_pack.unpack(next(b.data for b in blobs if b.key == d.artifacts.collision.key))
    caps = _caps(sum(p.mass_kg for p in d.reference_solution))
    return d.model_copy(update={"caps": caps}), collision, caps


catalog = pytest.fixture(scope="module", name="catalog")(lambda: load_catalog())
chute = pytest.fixture(scope="module", name="chute")(lambda: _built("chute"))
lift = pytest.fixture(scope="module", name="lift")(lambda: _built("lift"))


def _inscribed(a: np.ndarray, b: np.ndarray) -> float:
    """Radius of the largest ball inside both convex hulls (negative when they are apart)."""
    eq = np.concatenate([ConvexHull(a).equations, ConvexHull(b).equations])  # n.x + d <= 0, |n| = 1
    a_ub = np.hstack([eq[:, :3], np.ones((len(eq), 1))])
    res = linprog([0, 0, 0, -1], A_ub=a_ub, b_ub=-eq[:, 3], bounds=[(None, None)] * 3 + [(None, 1e4)])
    assert res.status == 0, res.message
    return float(res.x[3])


# --- exact binomial bounds -----------------------------------------------------------------------------


@pytest.mark.parametrize("k,n", [(0, 1000), (0, 30), (3, 25), (10, 100), (37, 50), (999, 1000), (7, 7)])
@pytest.mark.parametrize("conf", [0.95, 0.99])
def test_bounds_are_one_sided_clopper_pearson(k: int, n: int, conf: float) -> None:
    # a one-sided bound at c is a bound of the two-sided exact interval at 2c - 1
    ci = binomtest(k, n).proportion_ci(confidence_level=2 * conf - 1, method="exact")
    assert stats.lower_bound(k, n, conf) == pytest.approx(ci.low, abs=1e-9)
    assert stats.upper_bound(k, n, conf) == pytest.approx(ci.high, abs=1e-9)


def test_bounds_textbook_values() -> None:
    # 0 of n: the upper bound solves (1 - p)^n = alpha ("rule of three": about 3/n)
    assert stats.upper_bound(0, 1000) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-9)
    assert stats.upper_bound(0, 1000) == pytest.approx(0.0029912, abs=1e-7)
    assert stats.upper_bound(0, 60) < 0.05  # the test settings' claim (tests/conftest.py)
    assert stats.lower_bound(0, 1000) == 0.0 and stats.upper_bound(5, 5) == 1.0
    assert stats.lower_bound(20, 20) == pytest.approx(0.05 ** (1 / 20), rel=1e-9)
    ups = [stats.upper_bound(k, 200) for k in range(201)]
    assert all(a < b for a, b in pairwise(ups))  # monotone in k
    assert all(stats.lower_bound(k, 200) < k / 200 < u for k, u in zip(range(1, 200), ups[1:], strict=False))


@pytest.mark.parametrize("args", [(1, 0), (-1, 10), (11, 10), (0, 10, 1.0), (0, 10, 0.0)])
def test_bounds_reject_nonsense(args: tuple) -> None:
    with pytest.raises(ValueError):
        stats.upper_bound(*args)
    with pytest.raises(ValueError):
        stats.lower_bound(*args)


# --- stopping rules (scenes faked: the rule, not the physics) ------------------------------------------


def _fake_scenes(monkeypatch: pytest.MonkeyPatch, goal, cost: float = 1.0) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Replace the scene runner: scene ``i`` of design ``index`` reaches the goal when ``goal(index, i)``;
    every design quotes at ``cost``. Returns the (index, scene) pairs run, in order."""
    calls: list[tuple[int, int]] = []
    index_of: dict[int, int] = {}
    real_scene = trials.design_scene

    def design_scene(definition, collision, design):  # type: ignore[no-untyped-def]
        scene, pieces = real_scene(definition, collision, design)
        index_of[id(scene)] = design.index
        return scene, pieces

    def run_scene(model, scene, i, data=None, settle_s=None, structure=None):  # type: ignore[no-untyped-def]
        index = index_of[id(scene)]
        calls.append((index, i))
        outcome = Outcome.GOAL_REACHED if goal(index, i) else Outcome.TIMEOUT
        return SceneResult(
            scene_index=i, jitter_mm=(0, 0, 0), outcome=outcome, time_s=0, steps=0, min_goal_distance_mm=5.0
        )

    monkeypatch.setattr(trials, "design_scene", design_scene)
    monkeypatch.setattr(trials, "run_scene", run_scene)
    monkeypatch.setattr(trials, "quote_design", lambda design, caps, catalog: (cost, []))
    return calls


def test_scenes_needed_follow_the_evaluation_rule() -> None:
    cases = {(8, 0.75): 6, (4, 0.75): 3, (10, 0.75): 8, (8, 1.0): 8, (8, 0.01): 1}
    assert {k: TrialRule(*k, 0.1).needed for k in cases} == cases


@pytest.mark.parametrize(
    "pattern,scenes,goals",
    [("GGGGGGGG", 6, 6), ("MMMMMMMM", 3, 0), ("MMGGGGGG", 8, 6), ("GGGGGMMM", 8, 5), ("GMGMGMGM", 6, 3)],
)
def test_a_design_stops_its_scenes_once_decided(  # type: ignore[no-untyped-def]
    monkeypatch, chute, catalog, pattern: str, scenes: int, goals: int
) -> None:
    d, collision, caps = chute
    calls = _fake_scenes(monkeypatch, lambda index, i: pattern[i] == "G")
    r = run_trials(d, collision, caps, catalog, TrialRule(8, 0.75, 0.1), 0, 0, 1)
    (t,) = r.best
    assert calls == [(0, i) for i in range(scenes)]
    assert (r.scenes_run, t.scenes_run, t.goal_scenes) == (scenes, scenes, goals)
    assert t.solved is (goals >= 6) and r.solved == int(t.solved)
    assert (t.unit_cost_usd is not None) is (goals >= 6)  # quoted only when it reached the goal enough


def test_a_design_over_the_cost_cap_does_not_solve(monkeypatch, chute, catalog) -> None:  # type: ignore[no-untyped-def]
    d, collision, caps = chute
    _fake_scenes(monkeypatch, lambda index, i: True, cost=caps.max_unit_cost_usd + 1)
    r = run_trials(d, collision, caps, catalog, TrialRule(8, 0.75, 0.1), 0, 0, 2)
    assert r.solved == 0 and all(t.goal_scenes == 6 and not t.solved for t in r.best)
    assert all("over the caps" in t.detail for t in r.best)


@pytest.mark.parametrize(
    "tenths,trivial_stop,stops_at",
    [(0, True, 100), (1, True, 100), (3, True, 25), (10, True, 25), (10, False, 100)],
)
def test_the_run_stops_early_only_once_trivial_is_decided(  # type: ignore[no-untyped-def]
    monkeypatch, chute, catalog, tenths: int, trivial_stop: bool, stops_at: int
) -> None:
    d, collision, caps = chute
    _fake_scenes(monkeypatch, lambda index, i: index % 10 < tenths)
    rule = TrialRule(8, 0.75, 0.1, stop_when_trivial=trivial_stop)
    seen: list[RandomProofReport] = []
    r = run_trials(d, collision, caps, catalog, rule, 0, 0, 100, on_batch=seen.append)
    assert [x.next_index for x in seen] == list(range(25, stops_at + 1, 25)) and seen[-1] == r
    for x in seen:
        assert x.lower_bound == stats.lower_bound(x.solved, x.simulated)
        assert x.upper_bound == stats.upper_bound(x.solved, x.simulated)
        assert x.stopped_early is (trivial_stop and x.lower_bound >= 0.1 and x.next_index < 100)
    assert r.simulated + r.unsampleable == stops_at


# --- the sampler ----------------------------------------------------------------------------------------


def test_the_sampler_is_a_function_of_seed_and_index(chute, catalog) -> None:  # type: ignore[no-untyped-def]
    d, collision, caps = chute
    a, b, other = (sampler_for(d, collision, caps, catalog, seed) for seed in (7, 7, 8))
    alone = b.draw(5)  # any index can be drawn alone, first
    drawn = [a.draw(i) for i in range(10)]
    assert (alone[0].summary, alone[1]) == (drawn[5][0].summary, drawn[5][1])
    assert [(x.summary, r) for x, r in drawn] == [(x.summary, r) for x, r in map(b.draw, range(10))]
    assert [x.summary for x, _ in drawn] != [other.draw(i)[0].summary for i in range(10)]
    assert len({json.dumps([p.model_dump() for p in x.summary]) for x, _ in drawn}) == 10


def test_the_sampler_version_pins_what_it_draws(lift) -> None:  # type: ignore[no-untyped-def]
    """Fails when the draws change: bump SAMPLER_VERSION (shared/models/common.py), then this fingerprint."""
    d, _, _ = lift  # its reference has a motorised joint, so draws may carry joints
    free = d.model_copy(
        update={
            "fixtures": [],
            "forbidden_zones": [],
            "build_zone": Box(min_mm=(0, 0, 0), max_mm=(200, 100, 150)),
            "payload": d.payload.model_copy(update={"start_mm": (100, 50, 400), "jitter_mm": (0, 0, 0)}),
        }
    )
    s = Sampler(free, {}, _caps(1.0, 100.0), {m: 4.0 for m in MATERIALS}, seed=0)
    summaries = [[p.model_dump() for p in s.draw(i)[0].summary] for i in range(8)]
    digest = hashlib.sha256(json.dumps(summaries, sort_keys=True).encode()).hexdigest()[:16]
    assert (SAMPLER_VERSION, digest) == (3, "0aaf6449e04dcf91")
    assert seed_of("chute-s0-v1") == int(hashlib.sha256(b"chute-s0-v1").hexdigest()[:8], 16)


@pytest.mark.parametrize("name", ["chute", "lift"])
def test_sampled_designs_are_valid(name: str, request, catalog) -> None:  # type: ignore[no-untyped-def]
    d, collision, caps = request.getfixturevalue(name)
    s = sampler_for(d, collision, caps, catalog, 3)
    lo, hi = np.array(d.build_zone.min_mm), np.array(d.build_zone.max_mm)
    obstacles = [Convex.of_box(z).vertices for z in [*d.forbidden_zones, d.payload.envelope]]
    obstacles += [np.asarray(v) for p in d.fixtures for v, _ in collision[p.label]]
    prices = {m: p for m, (p, _) in catalog.material_prices().items()}
    for i in range(12):
        design, _ = s.draw(i)
        assert design is not None and 1 <= len(design.parts) <= 3
        assert design.mass_kg <= caps.max_weight_kg
        assert sum(p.mass_kg * prices[p.material] for p in design.parts) <= caps.max_unit_cost_usd
        for k, part in enumerate(design.parts):
            v = part.convex.vertices
            assert np.all(v >= lo - 1e-6) and np.all(v <= hi + 1e-6), f"design {i} leaves the build zone"
            assert part.material in prices and part.method in methods_for(part.material)
            for o in obstacles + [q.convex.vertices for q in design.parts[k + 1 :]]:
                assert _inscribed(v, o) <= TOUCH_MM, f"design {i} {part.label} interferes"
            spec = part.spec()
            assert (spec.material, spec.method, spec.mass_kg) == (part.material, part.method, part.mass_kg)


def test_joints_only_when_the_reference_has_one(chute, lift, catalog) -> None:  # type: ignore[no-untyped-def]
    for (d, collision, caps), wanted in ((chute, False), (lift, True)):
        s = sampler_for(d, collision, caps, catalog, 0)
        parts = [p for i in range(40) for p in s.draw(i)[0].parts]
        jointed = [p for p in parts if p.joint is not None or p.motor is not None]
        assert bool(jointed) is wanted
        for p in jointed:  # a joint always has its motor, along a principal axis, within its item's limits
            assert p.joint is not None and p.motor is not None
            assert sorted(map(abs, p.joint.axis)) == [0.0, 0.0, 1.0]
            assert motor_findings(p.spec()) == [], p.spec()
    designs = [sampler_for(*lift, catalog, 0).draw(i)[0] for i in range(40)]
    assert all(sum(p.joint is not None for p in x.parts) <= 1 for x in designs)


def test_invalid_draws_are_rejected_and_counted(chute, catalog) -> None:  # type: ignore[no-untyped-def]
    d, collision, caps = chute
    light = _caps(2e-4)  # 0.3 g
    s = sampler_for(d, collision, light, catalog, 0)
    drawn = [s.draw(i) for i in range(5)]
    assert sum(r["over_weight_cap"] for _, r in drawn) > 0
    assert all(x.mass_kg <= light.max_weight_kg for x, _ in drawn if x is not None)
    # a build zone smaller than any part: every attempt is rejected and the index is unsampleable
    tiny = d.model_copy(update={"build_zone": Box(min_mm=(0, 0, 100), max_mm=(1, 1, 101))})
    nothing = (None, Counter({"outside_build_zone": MAX_ATTEMPTS}))
    assert Sampler(tiny, {}, caps, {m: 1.0 for m in MATERIALS}, 0).draw(0) == nothing
    r = run_trials(tiny, collision, caps, catalog, TrialRule(8, 0.75, 0.1), 0, 0, 3)
    assert (r.simulated, r.unsampleable, r.upper_bound) == (0, 3, None)
    assert r.rejected_draws == {"outside_build_zone": 3 * MAX_ATTEMPTS}


def test_overlap_agrees_with_a_linear_programme() -> None:
    rng = np.random.default_rng(0)
    cube = local_vertices(Kind.BLOCK, (10, 10, 10))
    assert not overlap(Convex.of(cube), Convex.of(cube + (10, 0, 0)))  # face to face: touching
    assert overlap(Convex.of(cube), Convex.of(cube + (9.9, 0, 0)))
    decided = 0
    for _ in range(150):
        solids = []
        for _ in range(2):
            kind = list(Kind)[int(rng.integers(0, 4))]
            v = local_vertices(kind, tuple(rng.uniform(3, 30, size=3))) @ rotation(*rng.uniform(-90, 90, 3)).T
            solids.append(v + rng.uniform(-15, 15, size=3))
        r = _inscribed(*solids)
        if r > 2 * TOUCH_MM or r < -1e-6:
            decided += 1
            assert overlap(Convex.of(solids[0]), Convex.of(solids[1])) is (r > 0)
    assert decided > 100


# --- difficulty -----------------------------------------------------------------------------------------


def test_level_known_cases() -> None:
    level = difficulty.level
    bounds = (0.5, 0.1, 0.05, 0.03, 0.02, 0.01, 0.00299)
    assert [level(u, 0.1, 1, False) for u in bounds] == [0, 0, 1, 1, 2, 2, 3]
    assert (level(0.003, 0.1, 2, False), level(0.003, 0.1, 2, True), level(0.003, 0.1, 5, True)) == (4, 5, 5)
    assert (level(None, None, 2, True), level(0.5, 0.1, 2, True), level(None, 0.1, 1, False)) == (2, 2, 0)


def test_level_is_monotone_in_the_random_solve_rate_and_bounded() -> None:
    for threshold in (0.02, 0.1, 0.5):
        for parts in range(4):
            for mechanism in (False, True):
                levels = [difficulty.level(u, threshold, parts, mechanism) for u in np.linspace(0, 1, 401)]
                assert all(a >= b for a, b in pairwise(levels))
                assert all(0 <= x <= 5 for x in levels)


def test_card(chute, lift) -> None:  # type: ignore[no-untyped-def]
    random = reports.with_bounds(
        RandomProofReport(sampler_version=SAMPLER_VERSION, requested=1000, simulated=1000, threshold=0.1),
        0.95,
    )
    for (d, _, caps), parts, mech in ((chute, 1, False), (lift, 2, True)):  # lift: plate and fastened tray
        c = difficulty.card(d, 1.0, caps, random, None)
        assert (
            c.level
            == difficulty.level(random.upper_bound, 0.1, parts, mech)
            == min(5, 3 + (parts > 1) + mech)
        )
        assert (c.formula, c.random_designs, c.random_solve_rate) == (difficulty.FORMULA, 1000, 0.0)
        assert c.cost_slack == c.weight_slack == 0.5 and (c.needs_joint, c.needs_motor) == (mech, mech)
        assert difficulty.card(d, 1.0, None, None, None).level == (parts > 1) + mech


# --- the perturbed reference ----------------------------------------------------------------------------


def _rigid(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rotation and translation with dst = src @ R.T + t (Kabsch)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    u, _, vt = np.linalg.svd((src - ms).T @ (dst - md))
    r = vt.T @ np.diag([1, 1, np.sign(np.linalg.det(vt.T @ u.T))]) @ u.T
    return r, md - ms @ r.T


@pytest.mark.parametrize("name", ["chute", "lift"])
def test_perturbations_stay_within_2_mm_and_1_degree(name: str, request) -> None:  # type: ignore[no-untyped-def]
    d, collision, _ = request.getfixturevalue(name)
    moved = []
    for k in range(8):
        scene, pieces = robust.perturbed(d, collision, np.random.default_rng([5, k]))
        again, _ = robust.perturbed(d, collision, np.random.default_rng([5, k]))
        assert again == scene and all(pieces[p.label] is collision[p.label] for p in d.fixtures)
        for old, new in zip(d.reference_solution, scene.reference_solution, strict=True):
            src = np.concatenate([v for v, _ in collision[old.label]])
            dst = np.concatenate([v for v, _ in pieces[new.label]])
            r, t = _rigid(src, dst)
            assert np.abs(src @ r.T + t - dst).max() < 1e-6  # moved as one rigid body
            turn = math.degrees(math.acos(min(1.0, (np.trace(r) - 1) / 2)))
            c = np.array(old.bbox.center_mm)
            moved.append((np.abs(c @ r.T + t - c).max(), turn))  # the shift per axis, at the centre
            assert np.allclose(new.bbox.min_mm, dst.min(axis=0)) and np.allclose(
                new.bbox.max_mm, dst.max(axis=0)
            )
            if old.joint is not None:  # the joint moves and turns with its part
                a = np.array(old.joint.anchor_mm or old.bbox.center_mm)
                assert np.allclose(new.joint.anchor_mm, a @ r.T + t)
                assert np.allclose(new.joint.axis, np.asarray(old.joint.axis) @ r.T)
    shift, turn = np.max(moved, axis=0)
    assert 1.0 < shift <= 2.0 + 1e-6 and 0.5 < turn <= 1.0 + 1e-6  # moved, but no more than ±2 mm, ±1°


def test_run_perturbations_counts(chute) -> None:  # type: ignore[no-untyped-def]
    d, collision, _ = chute
    done: list[int] = []
    r = robust.run_perturbations(d, collision, 2, 0.75, seed=1, on_done=lambda k, s: done.append(k))
    need = d.simulation.required_success_share
    assert done == [0, 1] and len(r.success_shares) == 2
    assert r.solved == sum(s >= need for s in r.success_shares) and r.share == r.solved / 2
    assert (r.position_mm, r.rotation_deg, r.required_share) == (2.0, 1.0, 0.75)


def test_run_perturbations_names_the_worst_and_refuses_none(chute, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The detail names the perturbation with the lowest success share (scripted shares: the selection, not
    the physics, is under test), and zero perturbations is a ValueError, not a division by zero."""
    from types import SimpleNamespace

    d, collision, _ = chute
    shares = iter([1.0, 0.5, 0.25, 0.5])

    def scripted(*_args, **_kw):  # type: ignore[no-untyped-def]
        share = next(shares)
        return SimpleNamespace(success_share=share, outcome_counts={"goal_reached": int(share * 8)})

    monkeypatch.setattr(robust, "simulate", scripted)
    r = robust.run_perturbations(d, collision, 4, 0.75, seed=1)
    assert r.solved == 1 and r.worst_detail.startswith("perturbation 2 (success share 25%)"), r.worst_detail
    with pytest.raises(ValueError, match="at least 1"):
        robust.run_perturbations(d, collision, 0, 0.75, seed=1)


# --- a tiny real random proof ---------------------------------------------------------------------------


def test_tiny_random_proof_on_chute(chute, catalog) -> None:  # type: ignore[no-untyped-def]
    d, collision, caps = chute
    rule, seed = TrialRule(4, 0.75, 0.1), seed_of(d.benchmark_id)
    batches: list[RandomProofReport] = []
    r = run_trials(d, collision, caps, catalog, rule, seed, 0, 5, on_batch=batches.append)
    assert batches == [r] and (r.sampler_version, r.requested, r.next_index) == (SAMPLER_VERSION, 5, 5)
    assert r.simulated + r.unsampleable == 5 and not r.stopped_early and len(r.best) == r.simulated
    assert r.scenes_run == sum(t.scenes_run for t in r.best) and r.solved == sum(t.solved for t in r.best)
    for t in r.best:
        assert 0 <= t.goal_scenes <= t.scenes_run <= 4 and t.scenes_run >= 2
        assert sum(int(x.split()[-1]) for x in t.detail.split(";")[0].split(", ")) == t.scenes_run
    expected: Counter[str] = Counter()
    for i in range(5):
        expected.update(sampler_for(d, collision, caps, catalog, seed).draw(i)[1])
    assert Counter(r.rejected_draws) - Counter({"scene_compile": r.unsampleable}) == expected
    assert r.upper_bound == stats.upper_bound(r.solved, r.simulated) and r.compile_s > 0 and r.simulate_s > 0
    # the same counts with two threads, and resumed after three designs (timings aside)
    two = run_trials(d, collision, caps, catalog, rule, seed, 0, 5, threads=2)
    first = run_trials(d, collision, caps, catalog, rule, seed, 0, 3)
    resumed = run_trials(d, collision, caps, catalog, rule, seed, 0, 5, resume=first)
    timing = {"compile_s", "simulate_s", "price_s"}
    assert (
        two.model_dump(exclude=timing) == r.model_dump(exclude=timing) == resumed.model_dump(exclude=timing)
    )
