"""The loads a scene measures on its fixed parts (``engines.physics.loads``) and the structural check they feed
(``engines.physics.structure_check``): a thin shelf breaks where its thick twin holds, no Temporal."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from engines.physics.loads import LoadCase, LoadRecorder, part_geoms
from engines.physics.runner import breakage_detail, build_model, run_scene
from engines.physics.structure_check import held_labels, scene_structure, structure_findings
from engines.structure import StructureError
from shared.materials import props
from shared.models import Outcome, SimulationMode, StructureSpec
from tests.engine.test_physics import FAR_PIECE, box_piece, definition

G = 9.81
RADIUS_MM = 20.0
PLATE_TOP_MM = 100.0


def _shelf_scene(start_x: float = 0.0):  # type: ignore[no-untyped-def]
    plate = box_piece((200, 100, 10), (0, 0, PLATE_TOP_MM - 5))
    d, collision = definition(
        {"far": FAR_PIECE},
        reference={"plate": plate},
        start=(start_x, 0, PLATE_TOP_MM + RADIUS_MM + 0.5),
        radius=RADIUS_MM,
        duration_s=1.0,
    )
    return d, collision


def _ball_weight_n() -> float:
    volume_m3 = 4 / 3 * math.pi * (RADIUS_MM / 1000) ** 3
    return props("steel_carbon").density_kg_m3 * volume_m3 * G


def test_a_resting_ball_loads_its_plate_with_its_weight_downwards() -> None:
    d, collision = _shelf_scene()
    model = build_model(d, collision, SimulationMode.REFERENCE)
    data = mujoco.MjData(model)
    recorder = LoadRecorder(model, ["plate"])
    for _ in range(100):  # 2 s: the ball lands and comes to rest
        mujoco.mj_step(model, data, nstep=10)
    recorder.sample(data)
    case = recorder.peaks["plate"]
    total = case.forces_n.sum(axis=0)
    weight = _ball_weight_n()
    assert math.isclose(total[2], -weight, rel_tol=0.02), (total, weight)
    assert abs(total[0]) < 0.02 * weight and abs(total[1]) < 0.02 * weight
    # the contact is on the plate's top face, under the ball
    assert np.allclose(case.points_mm[:, 2], PLATE_TOP_MM, atol=1.0), case.points_mm
    assert math.isclose(case.total_n, weight, rel_tol=0.02)
    assert case.pairs()[0][0] == tuple(case.points_mm[0].tolist())


def test_the_peak_is_kept_and_unwatched_parts_are_ignored() -> None:
    d, collision = _shelf_scene()
    model = build_model(d, collision, SimulationMode.REFERENCE)
    data = mujoco.MjData(model)
    recorder = LoadRecorder(model, ["plate"])
    nobody = LoadRecorder(model, ["far"])
    totals = []
    for _ in range(100):
        mujoco.mj_step(model, data, nstep=10)
        recorder.sample(data)
        nobody.sample(data)
        if "plate" in recorder.peaks:
            totals.append(recorder.peaks["plate"].total_n)
    assert totals and totals[-1] == max(totals) >= _ball_weight_n() * 0.98
    assert nobody.peaks == {}
    assert set(part_geoms(model, ["plate", "far"])) == {"plate", "far"}


# --- the structural check of a scene (engines.physics.structure_check over engines.structure) ---------

BALL_MM = 40.0
WALL = box_piece((100, 200, 300), (-50, 0, 150))


def _cantilever(thickness_mm: float, **structure: float):  # type: ignore[no-untyped-def]
    """A PLA plate (printed) 150 mm out from a wall's face (x = 0), 80 mm wide, its top at z = 200, and a
    steel ball of radius 40 mm set down on it 120 mm from the wall, in its goal: the scene reaches the goal at
    the first check and the structure's hold records the ball at rest."""
    plate = box_piece((150, 80, thickness_mm), (75, 0, 200 - thickness_mm / 2))
    d, collision = definition(
        {"wall": WALL},
        reference={"plate": plate},
        start=(120, 0, 200 + BALL_MM + 0.2),
        goal=((90, -30, 225), (150, 30, 260)),  # where it rests: the goal at once, then the hold
        radius=BALL_MM,
        duration_s=0.6,
    )
    parts = [p.model_copy(update={"material": "pla", "method": "fdm_printing"}) for p in d.reference_solution]
    d = d.model_copy(update={"structure": StructureSpec(**structure), "reference_solution": parts})
    return d, collision, plate


def _closed_form_root_stress(thickness_mm: float, arm_mm: float) -> float:
    """6 M / (b h^2) at the wall: the ball's weight at its arm plus the plate's own weight."""
    weight = props("steel_carbon").density_kg_m3 * 4 / 3 * math.pi * (BALL_MM / 1000) ** 3 * G
    own = props("pla").density_kg_m3 * G * 1e-9 * 80 * thickness_mm  # N/mm along the plate
    moment = weight * arm_mm + own * 150**2 / 2
    return 6 * moment / (80 * thickness_mm**2)


def test_a_thin_shelf_breaks_where_its_thick_twin_holds() -> None:
    results = {}
    for h in (2.0, 6.0):
        d, collision, plate = _cantilever(h)
        structure = scene_structure(d, {"plate": plate}, collision, safety_factor=1.5)
        assert structure is not None and structure.labels == ["plate"]
        model = build_model(d, collision, SimulationMode.REFERENCE)
        results[h] = run_scene(model, d, 0, structure=structure)
    thin, thick = results[2.0], results[6.0]
    assert thin.outcome is Outcome.BREAKAGE and "part plate breaks" in thin.detail, thin.detail
    assert thick.outcome is Outcome.GOAL_REACHED, thick.detail
    for h, r in results.items():
        (stress,) = r.structure
        assert stress.broke == (h == 2.0)
        assert stress.location_mm[0] < 15  # at the root, by the wall
        arm = r.final_payload_mm[0] if r.final_payload_mm else 120.0
        expected = _closed_form_root_stress(h, arm)
        assert stress.peak_von_mises_mpa == pytest.approx(expected, rel=0.2), (h, stress, expected)
    assert thin.structure[0].margin < 1 < thick.structure[0].margin
    assert breakage_detail(thin.structure[0]) == thin.detail


def test_a_sag_limit_breaks_a_shelf_that_bends_too_far() -> None:
    d, collision, plate = _cantilever(6.0, max_deflection_mm=0.05)
    structure = scene_structure(d, {"plate": plate}, collision, safety_factor=1.5)
    assert structure is not None
    r = run_scene(build_model(d, collision, SimulationMode.REFERENCE), d, 0, structure=structure)
    assert r.outcome is Outcome.BREAKAGE and "sags" in r.detail, r.detail
    assert r.structure[0].max_displacement_mm > 0.05


def test_supports_are_where_the_part_touches_a_fixture() -> None:
    d, collision, plate = _cantilever(4.0)
    assert held_labels(d, {"plate": plate}, collision) == {"plate"}
    assert structure_findings(d, {"plate": plate}, collision) == []
    floating = box_piece((150, 80, 4.0), (80, 0, 198))  # 5 mm off the wall
    collision = {**collision, "plate": [floating]}
    findings = structure_findings(d, {"plate": floating}, collision)
    assert [f.rule for f in findings] == ["part.unsupported"] and findings[0].parts == ["plate"]
    rubber = d.model_copy(
        update={
            "reference_solution": [d.reference_solution[0].model_copy(update={"material": "rubber_generic"})]
        }
    )
    (finding,) = structure_findings(rubber, {"plate": plate}, {**collision, "plate": [plate]})
    assert finding.rule == "structure.no_elastic_data" and "rubber" in finding.message
    (missing,) = structure_findings(d, {}, {**collision, "plate": [plate]})
    assert missing.rule == "structure.unmeshable" and "no closed surface" in missing.message
    with pytest.raises(StructureError, match="no closed surface"):
        scene_structure(d, {}, collision, 1.5)
    # without a structure nothing is checked
    plain = d.model_copy(update={"structure": None})
    assert (
        scene_structure(plain, {}, collision, 1.5) is None and structure_findings(plain, {}, collision) == []
    )


def test_the_critical_case_is_the_one_that_bends_most_not_the_largest_force() -> None:
    d, collision, plate = _cantilever(4.0)
    structure = scene_structure(d, {"plate": plate}, collision, safety_factor=1.5)
    assert structure is not None

    def case(t: float, x: float, newtons: float) -> LoadCase:
        return LoadCase(t, np.array([[x, 0.0, 200.0]]), np.array([[0.0, 0.0, -newtons]]))

    # a ball pressing hard by the wall, then rolling out to the tip lighter; more cases than are solved
    cases = [case(0.05 * i, 10 + 20 * i, 30.0 - 2 * i) for i in range(7)]
    stress, critical = structure.worst("plate", cases)
    assert critical is cases[-1], critical.time_s
    assert stress.peak_von_mises_mpa == pytest.approx(structure.check("plate", cases[-1]).peak_von_mises_mpa)
    assert stress.peak_von_mises_mpa > structure.check("plate", cases[0]).peak_von_mises_mpa
