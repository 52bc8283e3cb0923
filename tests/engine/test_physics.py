"""Physics engine: collision packs, the MJCF compiler and the scene runner (no Temporal)."""

from __future__ import annotations

import io
import math
import zipfile

import mujoco
import numpy as np
import pytest
import trimesh

from engines.physics.collision_pack import Piece, pack, unpack
from engines.physics.mjcf import DESIGN_RGBA, ROLLING_RESISTANCE, compile_scene_xml
from engines.physics.runner import (
    SceneCompileError,
    build_model,
    run_scene,
    scene_jitter,
    simulate,
    total_steps,
    trajectory_npz,
)
from shared.materials import props
from shared.models import (
    ArtifactRef,
    BenchmarkArtifacts,
    BenchmarkDefinition,
    Box,
    NamedBox,
    Outcome,
    PartSpec,
    Payload,
    SceneResult,
    SimulationMode,
    SimulationSettings,
)
from tests.helpers import simulated_xml_sha256

G = 9.81
BASELINE = SimulationMode.BASELINE


def box_piece(
    extents: tuple[float, float, float], centre: tuple[float, float, float] = (0, 0, 0), tilt_deg: float = 0.0
) -> Piece:
    """A convex box (mm), rotated by ``tilt_deg`` about +y, then moved to ``centre``."""
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(math.radians(tilt_deg), [0, 1, 0]))
    mesh.apply_translation(centre)
    return np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int32)


def part(
    label: str, piece: Piece, *, fixed: bool = True, material: str = "aluminum_6061", role: str = "fixture"
) -> PartSpec:
    lo, hi = piece[0].min(axis=0), piece[0].max(axis=0)
    return PartSpec(
        label=label,
        role=role,
        material=material,
        fixed=fixed,
        volume_mm3=1.0,
        mass_kg=1.0,
        bbox=Box(min_mm=tuple(lo.tolist()), max_mm=tuple(hi.tolist())),
    )


FAR_PIECE = box_piece((100, 100, 100), (3000, 3000, 0))
"""A fixture far from the action (a definition needs at least one)."""
FLOOR_PIECE = box_piece((2000, 2000, 20), (0, 0, -10))
"""A floor whose top face is z = 0."""


def definition(
    pieces: dict[str, Piece],
    *,
    start: tuple[float, float, float] = (0, 0, 1000),
    goal: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (900, 900, 900),
        (1000, 1000, 1000),
    ),
    forbidden: list[NamedBox] | None = None,
    bounds: tuple[tuple[float, float, float], tuple[float, float, float]] = ((-5000,) * 3, (5000,) * 3),
    radius: float = 20.0,
    jitter: tuple[float, float, float] = (0, 0, 0),
    reference: dict[str, Piece] | None = None,
    **sim: float,
) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    reference = reference or {}
    d = BenchmarkDefinition(
        benchmark_id="test-scene",
        family="test",
        seed=0,
        generator_version=1,
        fixtures=[part(label, p) for label, p in pieces.items()],
        payload=Payload(radius_mm=radius, material="steel_carbon", start_mm=start, jitter_mm=jitter),
        goal_zone=Box(min_mm=goal[0], max_mm=goal[1]),
        forbidden_zones=forbidden or [],
        build_zone=Box(min_mm=(-100, -100, 0), max_mm=(100, 100, 100)),
        simulation_bounds=Box(min_mm=bounds[0], max_mm=bounds[1]),
        simulation=SimulationSettings(**sim),
        reference_solution=[part(label, p, role="reference") for label, p in reference.items()],
        artifacts=BenchmarkArtifacts(
            collision=ArtifactRef(key="test/collision.npz", sha256="ab" * 32, size_bytes=123)
        ),
    )
    return d, {label: [p] for label, p in {**pieces, **reference}.items()}


def world_vertices(model: mujoco.MjModel, data: mujoco.MjData, geom: str) -> np.ndarray:
    """The compiled mesh vertices of ``geom`` in world metres."""
    g = model.geom(geom)
    mesh = model.mesh(int(g.dataid[0]))
    local = model.mesh_vert[int(mesh.vertadr[0]) : int(mesh.vertadr[0]) + int(mesh.vertnum[0])]
    return local @ data.geom_xmat[g.id].reshape(3, 3).T + data.geom_xpos[g.id]


# --------------------------------------------------------------------------------------------
# Collision pack
# --------------------------------------------------------------------------------------------


def test_pack_round_trip_is_byte_deterministic() -> None:
    parts = {
        "ramp": [box_piece((10, 20, 30), (1, 2, 3), 20), box_piece((5, 5, 5))],
        "floor": [box_piece((100, 100, 2))],
    }
    reordered = {"floor": parts["floor"], "ramp": parts["ramp"]}
    data = pack(parts)
    assert data == pack(reordered)
    assert all(
        info.date_time == (1980, 1, 1, 0, 0, 0) for info in zipfile.ZipFile(io.BytesIO(data)).infolist()
    )

    back = unpack(data)
    assert list(back) == ["floor", "ramp"]
    for label, pieces in parts.items():
        assert len(back[label]) == len(pieces)
        for (v, f), (v2, f2) in zip(pieces, back[label]):
            assert v2.dtype == np.float64 and f2.dtype == np.int32
            np.testing.assert_array_equal(v, v2)
            np.testing.assert_array_equal(f, f2)
    assert pack(back) == data


@pytest.mark.parametrize(
    "parts, message",
    [
        ({"Bad/Label": [box_piece((1, 1, 1))]}, "invalid part label"),
        ({"empty": []}, "no pieces"),
        ({"p": [(np.zeros((8, 2)), box_piece((1, 1, 1))[1])]}, "vertices must have shape"),
        ({"p": [(box_piece((1, 1, 1))[0], box_piece((1, 1, 1))[1] + 100)]}, "face indices"),
        ({"p": [(box_piece((1, 1, 1))[0] * np.nan, box_piece((1, 1, 1))[1])]}, "finite"),
    ],
)
def test_pack_rejects_malformed_pieces(parts: dict[str, list[Piece]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pack(parts)


def test_unpack_rejects_foreign_archives() -> None:
    buf = io.BytesIO()
    np.savez(buf, something=np.zeros(3))
    with pytest.raises(ValueError, match="unexpected entry"):
        unpack(buf.getvalue())


# --------------------------------------------------------------------------------------------
# Scene compiler
# --------------------------------------------------------------------------------------------


def test_mesh_geoms_keep_the_cad_frame_in_metres() -> None:
    """MuJoCo re-centres meshes; the compiled geoms must still sit exactly where the CAD put them."""
    ramp = box_piece((400, 100, 20), (123.4, -56.7, 89.0), tilt_deg=27)
    block = box_piece((50, 60, 70), (-300, 200, 500), tilt_deg=-40)
    d, collision = definition({"ramp": ramp}, reference={"block": block})
    d = d.model_copy(update={"reference_solution": [part("block", block, fixed=False, role="reference")]})
    model = build_model(d, collision, SimulationMode.REFERENCE)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    for geom, (vertices, _) in (("ramp/0", ramp), ("block/0", block)):
        world = world_vertices(model, data, geom)
        np.testing.assert_allclose(world.min(axis=0), vertices.min(axis=0) / 1000, atol=1e-6)
        np.testing.assert_allclose(world.max(axis=0), vertices.max(axis=0) / 1000, atol=1e-6)


def test_scene_contents_materials_and_modes() -> None:
    d, collision = definition(
        {"floor": FLOOR_PIECE},
        reference={"helper": box_piece((10, 10, 10), (500, 0, 5))},
        forbidden=[NamedBox(name="pit", min_mm=(100, 100, 0), max_mm=(200, 200, 50))],
    )
    xml = compile_scene_xml(d, collision, BASELINE)
    assert xml == compile_scene_xml(d, collision, BASELINE)

    baseline = build_model(d, collision, BASELINE)
    reference = build_model(d, collision, SimulationMode.REFERENCE)
    names = {baseline.geom(i).name for i in range(baseline.ngeom)}
    assert names == {"floor/0", "payload"}
    assert {reference.geom(i).name for i in range(reference.ngeom)} == names | {"helper/0"}
    assert {baseline.site(i).name for i in range(baseline.nsite)} == {"goal", "forbidden/pit", "build_zone"}
    assert baseline.camera("overview").id >= 0
    assert baseline.opt.timestep == d.simulation.timestep_s
    assert baseline.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    np.testing.assert_allclose(baseline.opt.gravity, [0, 0, -G])

    steel, aluminium = props("steel_carbon"), props("aluminum_6061")
    assert baseline.geom("floor/0").friction[0] == pytest.approx(aluminium.friction)
    assert baseline.geom("payload").friction[0] == pytest.approx(steel.friction)
    assert baseline.geom("payload").friction[2] == pytest.approx(ROLLING_RESISTANCE * 0.02)
    volume_m3 = 4 / 3 * math.pi * 0.02**3
    assert baseline.body("payload").mass[0] == pytest.approx(steel.density_kg_m3 * volume_m3, rel=1e-6)
    np.testing.assert_allclose(baseline.site("goal").size, [0.05, 0.05, 0.05])


def test_free_part_gets_material_density() -> None:
    block = box_piece((100, 50, 20), (0, 0, 300))
    d, collision = definition({"floor": FLOOR_PIECE}, reference={"block": block})
    d = d.model_copy(
        update={"reference_solution": [part("block", block, fixed=False, material="abs", role="reference")]}
    )
    model = build_model(d, collision, SimulationMode.REFERENCE)
    assert model.body("block").mass[0] == pytest.approx(
        props("abs").density_kg_m3 * 0.1 * 0.05 * 0.02, rel=1e-3
    )
    assert model.joint("block").type[0] == mujoco.mjtJoint.mjJNT_FREE


PINNED_SCENE_SHA256 = {
    SimulationMode.BASELINE: "7b0a80d5f45c2f84a462d3c1a2d0722ebe1710c9681ccc7af8d7bfc237c927c1",
    SimulationMode.REFERENCE: "4479664b28559fbdb80a7e1911aba816b43dba4883879916f5a3e61b2218bf29",
}
"""SHA-256 of the XML of :func:`_pinned_scene` without its ``<visual>`` element (render settings), computed
before joints and motors existed."""


def _pinned_scene() -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """Fixed fixtures, a fixed and a free reference part, a forbidden zone: every kind of part without a joint."""
    block = box_piece((100, 50, 20), (0, 0, 300), tilt_deg=12)
    d, collision = definition(
        {"floor": FLOOR_PIECE, "ramp": box_piece((400, 100, 20), (123.4, -56.7, 89.0), tilt_deg=27)},
        reference={"block": block, "helper": box_piece((10, 10, 10), (500, 0, 5))},
        forbidden=[NamedBox(name="pit", min_mm=(100, 100, 0), max_mm=(200, 200, 50))],
    )
    free_block = part("block", block, fixed=False, material="abs", role="reference")
    return d.model_copy(update={"reference_solution": [free_block, d.reference_solution[1]]}), collision


@pytest.mark.parametrize("mode", list(PINNED_SCENE_SHA256))
def test_parts_without_joints_compile_to_the_pinned_xml(mode: SimulationMode) -> None:
    """Existing benchmarks must simulate exactly as before joints and motors were added (the material table
    feeds the XML too: a deliberate change there updates these pins)."""
    d, collision = _pinned_scene()
    xml = compile_scene_xml(d, collision, mode)
    assert simulated_xml_sha256(xml) == PINNED_SCENE_SHA256[mode], xml


def test_compile_errors_are_typed() -> None:
    d, _ = definition({"floor": FLOOR_PIECE})
    with pytest.raises(SceneCompileError, match="no collision pieces"):
        compile_scene_xml(d, {}, BASELINE)
    flat = (
        np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], float),
        np.array([[0, 1, 2], [1, 3, 2], [0, 2, 1], [1, 2, 3]]),
    )
    with pytest.raises(SceneCompileError, match="coplanar"):
        build_model(d, {"floor": [flat]}, BASELINE)


# --------------------------------------------------------------------------------------------
# Physics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", [1, 10])
def test_free_fall_reaches_goal_on_time(interval: int) -> None:
    """Centre falls 1 m to the goal's top face: t = sqrt(2h/g) = 0.4515 s.

    The goal is seen at the first check after the crossing, so the measured time lies in
    [t - dt, t + interval * dt + dt] (one dt for the integrator's discretisation).
    """
    d, collision = definition(
        {"far": FAR_PIECE},
        start=(0, 0, 1000),
        goal=((-100, -100, -500), (100, 100, 0)),
        check_interval_steps=interval,
        duration_s=2.0,
    )
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    dt, expected = d.simulation.timestep_s, math.sqrt(2 * 1.0 / G)
    assert result.outcome is Outcome.GOAL_REACHED
    assert expected - dt <= result.time_s <= expected + (interval + 1) * dt
    assert result.steps == round(result.time_s / dt)
    assert result.min_goal_distance_mm == 0.0
    assert result.max_payload_speed_m_s == pytest.approx(G * result.time_s, rel=0.01)


@pytest.mark.parametrize("height_mm", [100.0, 1000.0])
@pytest.mark.parametrize("interval", [1, 10])
def test_ball_dropped_onto_the_floor_lands_on_time_and_rests(height_mm: float, interval: int) -> None:
    """A ball whose bottom is ``h`` above the floor: its centre reaches z = radius (the floor contact) at
    t = sqrt(2h/g). The goal's top face is at z = radius, so the goal is seen at the first check after the
    crossing: t within [t - dt, t + (interval + 1) dt] (one dt for the integrator; measured: -0.4 to +0.4
    steps past t at interval 1). Afterwards the ball rests on the floor: centre within 0.1 mm of z = radius
    after 2 s (measured 0.02 mm)."""
    r = 20.0
    d, collision = definition(
        {"floor": FLOOR_PIECE},
        start=(0, 0, height_mm + r),
        goal=((-100, -100, -5), (100, 100, r)),
        check_interval_steps=interval,
        duration_s=2.0,
    )
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    dt, expected = d.simulation.timestep_s, math.sqrt(2 * height_mm / 1000 / G)
    assert result.outcome is Outcome.GOAL_REACHED
    assert expected - dt <= result.time_s <= expected + (interval + 1) * dt, (
        f"landed at {result.time_s:.4f} s, expected {expected:.4f} s within [-dt, +{interval + 1} dt]"
    )

    resting, _ = definition({"floor": FLOOR_PIECE}, start=(0, 0, height_mm + r), duration_s=2.0)
    result = run_scene(build_model(resting, collision, BASELINE), resting, 0)
    assert result.outcome is Outcome.TIMEOUT
    assert result.final_payload_mm[2] == pytest.approx(r, abs=0.1), "rest height, tolerance 0.1 mm"


@pytest.mark.parametrize("theta_deg, distance_mm", [(10.0, 300.0), (20.0, 1000.0), (30.0, 300.0)])
def test_ball_rolls_a_distance_down_an_incline_in_closed_form_time(
    theta_deg: float, distance_mm: float
) -> None:
    """A ball rolling without slipping covers s in t = sqrt(2 s / a) with a = (5/7) g (sin(theta) -
    c cos(theta)), c the rolling-resistance coefficient (MuJoCo's rolling friction is c * radius, a torque
    of c * radius * N). Within 0.5 % (measured <= 0.22 %; ignoring c would be 0.2-0.9 % off), checking
    every step: the centre crosses the goal plane at x = x0 + s cos(theta)."""
    ramp = box_piece((3000, 300, 20), tilt_deg=theta_deg)
    sin, cos = math.sin(math.radians(theta_deg)), math.cos(math.radians(theta_deg))
    normal, downhill = np.array([sin, 0.0, cos]), np.array([cos, 0.0, -sin])
    start = normal * (10 + 20) - downhill * 1200
    x_goal = start[0] + distance_mm * cos
    d, collision = definition(
        {"ramp": ramp},
        start=tuple(start.tolist()),
        goal=((x_goal, -500, -5000), (5000, 500, 5000)),
        duration_s=3.0,
        check_interval_steps=1,
    )
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    accel = 5 / 7 * G * (sin - ROLLING_RESISTANCE * cos)
    expected = math.sqrt(2 * distance_mm / 1000 / accel)
    assert result.outcome is Outcome.GOAL_REACHED
    assert result.time_s == pytest.approx(expected, rel=5e-3), (
        f"{distance_mm:g} mm in {result.time_s:.4f} s, expected {expected:.4f} s, tolerance 0.5 %"
    )


def test_ball_rolls_down_incline_at_five_sevenths_g_sin_theta() -> None:
    theta = 20.0
    ramp = box_piece((3000, 300, 20), tilt_deg=theta)  # descends towards +x
    sin, cos = math.sin(math.radians(theta)), math.cos(math.radians(theta))
    normal, downhill = np.array([sin, 0.0, cos]), np.array([cos, 0.0, -sin])
    start = normal * (10 + 20) - downhill * 1200
    d, collision = definition(
        {"ramp": ramp}, start=tuple(start.tolist()), duration_s=0.6, check_interval_steps=1
    )
    result, states = run_scene(build_model(d, collision, BASELINE), d, 0, trajectory=True)
    assert result.outcome is Outcome.TIMEOUT
    t = states[:, 0]
    s = (states[:, 1:4] - states[0, 1:4]) @ downhill / 1000
    heights = (states[:, 1:4] @ normal) - 30
    assert np.abs(heights).max() < 1.0, "the ball must stay on the ramp (mm)"
    fit = t > 0.05
    accel = np.polyfit(t[fit], s[fit], 2)[0] * 2
    rolling = 5 / 7 * G * sin
    assert accel == pytest.approx(rolling, rel=0.05), (accel, rolling)


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------


def test_forbidden_zone_beats_goal_and_is_seen_by_the_sphere_surface() -> None:
    zone = NamedBox(name="ledge", min_mm=(-100, -100, 400), max_mm=(100, 100, 500))
    d, collision = definition(
        {"far": FAR_PIECE}, start=(0, 0, 1000), goal=((-100, -100, -500), (100, 100, 0)), forbidden=[zone]
    )
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    assert result.outcome is Outcome.FORBIDDEN_ZONE and "ledge" in result.detail
    # The sphere's bottom (centre - 20 mm) touches the zone's top before the centre does.
    assert result.final_payload_mm[2] - 20 < 500 < result.final_payload_mm[2] + 10

    overlapping = NamedBox(name="moat", min_mm=(-100, -100, -500), max_mm=(100, 100, 0))
    d2, _ = definition(
        {"far": FAR_PIECE},
        start=(0, 0, 1000),
        goal=((-100, -100, -500), (100, 100, 0)),
        forbidden=[overlapping],
    )
    assert run_scene(build_model(d2, collision, BASELINE), d2, 0).outcome is Outcome.FORBIDDEN_ZONE


def test_out_of_bounds() -> None:
    d, collision = definition(
        {"far": FAR_PIECE}, start=(0, 0, 1000), bounds=((-500, -500, 500), (500, 500, 1500))
    )
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    assert result.outcome is Outcome.OUT_OF_BOUNDS
    assert result.final_payload_mm[2] < 500
    assert result.min_goal_distance_mm > 0


def test_timeout_when_resting_on_the_floor_runs_every_step() -> None:
    d, collision = definition(
        {"floor": FLOOR_PIECE}, start=(0, 0, 20), duration_s=0.5, check_interval_steps=7
    )
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    assert result.outcome is Outcome.TIMEOUT
    assert result.steps == total_steps(d) == 250  # 35 chunks of 7 and a last one of 5
    assert result.time_s == pytest.approx(0.5)
    assert result.final_payload_mm[2] == pytest.approx(20, abs=0.5)
    assert result.max_payload_speed_m_s < 0.05


def test_a_settled_scene_ends_early_only_when_the_goal_is_out_of_creeping_reach() -> None:
    """``settle_s`` (the random-design proof's early stop): a ball at rest far from the goal ends as the
    same ``timeout`` long before the duration; one at rest 1 mm beside the goal runs on until 1 mm/s could no
    longer carry it there (t >= duration - 1 s); a scene that reaches its goal still does."""
    far, collision = definition({"floor": FLOOR_PIECE}, start=(0, 0, 20), duration_s=3.0)
    full = run_scene(build_model(far, collision, BASELINE), far, 0)
    early = run_scene(build_model(far, collision, BASELINE), far, 0, settle_s=0.5)
    assert full.outcome is early.outcome is Outcome.TIMEOUT and "settled" in early.detail
    assert 0.5 <= early.time_s < 1.0 and full.time_s == pytest.approx(3.0)

    near, collision = definition(
        {"floor": FLOOR_PIECE}, start=(0, 0, 20), goal=((1, -100, 0), (200, 100, 100)), duration_s=3.0
    )
    result = run_scene(build_model(near, collision, BASELINE), near, 0, settle_s=0.5)
    assert result.outcome is Outcome.TIMEOUT and result.time_s >= 2.0, (result.time_s, result.detail)

    landing, collision = definition(
        {"floor": FLOOR_PIECE}, start=(0, 0, 200), goal=((-100, -100, 0), (100, 100, 20)), duration_s=3.0
    )
    assert run_scene(build_model(landing, collision, BASELINE), landing, 0, settle_s=0.5).outcome is (
        Outcome.GOAL_REACHED
    )


def test_goal_on_the_last_step_is_a_goal_not_a_timeout() -> None:
    """One check only (interval > steps), after the last step: the ball is in the goal by then."""
    d, collision = definition(
        {"far": FAR_PIECE},
        start=(0, 0, 1000),
        goal=((-100, -100, -400), (100, 100, 0)),
        duration_s=0.5,
        check_interval_steps=1000,
    )
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    assert result.outcome is Outcome.GOAL_REACHED
    assert result.steps == 250 and result.time_s == pytest.approx(0.5)


def test_instability_from_speed_limit_and_from_non_finite_state() -> None:
    """A 0.5 m/s limit turns ordinary free fall into an 'explosion' after ~0.05 s; NaN gravity poisons the state."""
    d, collision = definition({"far": FAR_PIECE}, start=(0, 0, 1000), max_speed_m_s=0.5)
    model = build_model(d, collision, BASELINE)
    result = run_scene(model, d, 0)
    assert result.outcome is Outcome.PHYSICS_INSTABILITY and "m/s" in result.detail
    assert 0.5 / G <= result.time_s <= 0.5 / G + 11 * d.simulation.timestep_s

    model.opt.gravity[2] = np.nan
    result = run_scene(model, d, 0)
    assert result.outcome is Outcome.PHYSICS_INSTABILITY and "non-finite" in result.detail
    assert result.final_payload_mm is None and result.steps == d.simulation.check_interval_steps


def test_instability_names_the_fast_free_part() -> None:
    block = box_piece((50, 50, 50), (500, 0, 1000))
    d, collision = definition(
        {"floor": FLOOR_PIECE}, reference={"block": block}, start=(0, 0, 20), max_speed_m_s=1.0
    )
    d = d.model_copy(update={"reference_solution": [part("block", block, fixed=False, role="reference")]})
    result = run_scene(build_model(d, collision, SimulationMode.REFERENCE), d, 0)
    assert result.outcome is Outcome.PHYSICS_INSTABILITY and "'block'" in result.detail


# --------------------------------------------------------------------------------------------
# Jitter, determinism, resume
# --------------------------------------------------------------------------------------------


def test_jitter_is_bounded_deterministic_and_per_scene() -> None:
    d, collision = definition({"far": FAR_PIECE}, jitter=(5, 3, 0), jitter_seed=7)
    jitters = [scene_jitter(d, i) for i in range(32)]
    assert jitters == [scene_jitter(d, i) for i in range(32)]
    assert len(set(jitters)) == 32
    for x, y, z in jitters:
        assert abs(x) <= 5 and abs(y) <= 3 and z == 0
    other_seed = d.model_copy(update={"simulation": d.simulation.model_copy(update={"jitter_seed": 8})})
    assert scene_jitter(other_seed, 0) != jitters[0]

    _, states = run_scene(build_model(d, collision, BASELINE), d, 3, trajectory=True)
    np.testing.assert_allclose(states[0, 1:4], np.add((0, 0, 1000), jitters[3]), atol=1e-9)


def _ramp_scene(**sim: float) -> tuple[BenchmarkDefinition, dict[str, list[Piece]]]:
    """A ball rolling off a ramp onto a floor towards a goal it reaches only in some jittered scenes."""
    return definition(
        {"floor": FLOOR_PIECE, "ramp": box_piece((600, 200, 20), (-200, 0, 120), tilt_deg=20)},
        start=(-400, 0, 250),
        jitter=(40, 120, 0),
        goal=((400, -60, 0), (600, 60, 100)),
        duration_s=3.0,
        **sim,
    )


def test_simulate_is_deterministic_across_threads() -> None:
    d, collision = _ramp_scene()
    one = simulate(d, collision, BASELINE, 6, threads=1)
    two = simulate(d, collision, BASELINE, 6, threads=2)
    assert one.results == two.results
    assert [r.scene_index for r in one.results] == list(range(6))
    assert sum(one.outcome_counts.values()) == 6
    assert one.success_share == one.outcome_counts.get("goal_reached", 0) / 6
    assert 0 < one.success_share < 1, one.outcome_counts  # the jitter matters in this scene
    assert one.steps_per_s > 0


def test_reused_mjdata_gives_the_same_result_as_a_fresh_one() -> None:
    d, collision = _ramp_scene(jitter_seed=3)
    model = build_model(d, collision, BASELINE)
    data = mujoco.MjData(model)
    mujoco.mj_step(model, data, nstep=321)
    data.qvel[:] = np.nan  # leftovers of a diverged earlier scene
    assert run_scene(model, d, 2, data=data) == run_scene(model, d, 2)


def test_simulate_resumes_from_skipped_results() -> None:
    d, collision = _ramp_scene()
    full = simulate(d, collision, BASELINE, 4)
    marker = full.results[2].model_copy(update={"detail": "from an earlier attempt"})
    seen: list[int] = []
    resumed = simulate(
        d,
        collision,
        BASELINE,
        4,
        skip={0: full.results[0], 2: marker},
        on_scene_done=lambda r: seen.append(r.scene_index),
    )
    assert sorted(seen) == [1, 3]
    assert resumed.results[2] is marker
    assert resumed.results[:2] == full.results[:2] and resumed.results[3] == full.results[3]
    with pytest.raises(ValueError, match="skip"):
        simulate(d, collision, BASELINE, 4, skip={1: full.results[0]})
    nothing_left = simulate(d, collision, BASELINE, 2, skip={0: full.results[0], 1: full.results[1]})
    assert nothing_left.results == full.results[:2] and nothing_left.steps_per_s == 0.0


def test_simulate_reports_the_steps_of_a_scene_that_is_still_running() -> None:
    """Slow progress is still progress: a long scene (a ball resting on the floor for 120 simulated seconds,
    60000 steps) reports its step count while it runs, not only when it ends, so a job proves it advances."""
    d, collision = definition({"floor": FLOOR_PIECE}, start=(0, 0, 20), duration_s=120.0)
    steps: list[int] = []
    finished: list[int] = []

    def on_scene_done(r: SceneResult) -> None:
        finished.append(len(steps))

    report = simulate(
        d,
        collision,
        BASELINE,
        1,
        threads=1,
        on_scene_done=on_scene_done,
        on_steps=steps.append,
        steps_every_s=0.01,
    )
    assert report.results[0].steps == total_steps(d) == 60000
    assert finished[0] >= 2, "step counts were reported before the scene finished"
    assert steps == sorted(set(steps)) and 0 < steps[0] < 60000, steps
    assert steps[-1] <= 60000


def test_trajectory_npz_replays_the_scene() -> None:
    d, collision = _ramp_scene()
    data = trajectory_npz(d, collision, BASELINE, scene_index=1)
    assert data == trajectory_npz(d, collision, BASELINE, scene_index=1)
    report = simulate(d, collision, BASELINE, 2)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        t, pos, quat = npz["t_s"], npz["payload_mm"], npz["payload_quat"]
        assert str(npz["outcome"]) == report.results[1].outcome.value
    assert t[0] == 0 and np.all(np.diff(t) > 0)
    assert pos.shape == (len(t), 3) and quat.shape == (len(t), 4)
    assert t[-1] == pytest.approx(report.results[1].time_s)
    np.testing.assert_allclose(pos[-1], report.results[1].final_payload_mm)
    np.testing.assert_allclose(np.linalg.norm(quat, axis=1), 1.0, atol=1e-9)


def test_scene_result_is_a_valid_contract() -> None:
    d, collision = _ramp_scene()
    result = run_scene(build_model(d, collision, BASELINE), d, 0)
    assert SceneResult.model_validate_json(result.model_dump_json()) == result


def test_design_parts_are_drawn_apart_from_the_fixtures() -> None:
    """A submitted design's parts are blue in every picture, whatever their material; fixtures keep theirs."""
    block = box_piece((100, 50, 20), (0, 0, 300))
    d, collision = definition({"floor": FLOOR_PIECE}, reference={"plate": block})
    d = d.model_copy(update={"reference_solution": [part("plate", block, role="design", material="abs")]})
    model = build_model(d, collision, SimulationMode.DESIGN)
    colours = {
        model.geom(g).name.split("/")[0]: tuple(model.geom_rgba[g].round(3)) for g in range(model.ngeom)
    }
    assert colours["plate"] == DESIGN_RGBA, colours
    assert colours["floor"] != DESIGN_RGBA  # a fixture keeps its material's colour
