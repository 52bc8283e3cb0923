"""The structural engine against closed forms, at its default mesh density, through ``tet_mesh``.

Beams are 100 x 10 x 5 mm boxes (trimesh.creation.box), steel-like (E 200 GPa, nu 0.3), bending about the
thin side: a cantilever clamped at x = 0 with a tip load (root stress 6FL/bh^2, tip deflection FL^3/3EI),
a simply supported beam with a central load (mid-span stress 3FL/2bh^2) and a cantilever under its own
weight (tip deflection wL^4/8EI). Each within 5 %. Then the refusals, typed by rule.
"""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from engines.structure import (
    Elastic,
    StructureError,
    elastic_for,
    prepare,
    solve,
    surface_nodes_near,
    tet_mesh,
)

L, B, H = 100.0, 10.0, 5.0
E, NU = 200_000.0, 0.3
F = 100.0
I_AREA = B * H**3 / 12
STEEL = Elastic(youngs_modulus_mpa=E, poissons_ratio=NU, allowable_mpa=250.0)


def beam(subdivide: bool = False) -> trimesh.Trimesh:
    box = trimesh.creation.box(extents=(L, B, H))
    box.apply_translation((L / 2, B / 2, H / 2))
    # One subdivision puts vertices on the end faces' neutral axis (z = H/2): the pins of a simple support.
    return box.subdivide() if subdivide else box


@pytest.fixture(scope="module")
def cantilever():  # type: ignore[no-untyped-def]
    surface = beam()
    mesh = tet_mesh(surface.vertices, surface.faces)
    return prepare(mesh, STEEL, mesh.nodes[:, 0] < 1e-9)


def test_cantilever_root_stress_and_tip_deflection(cantilever) -> None:  # type: ignore[no-untyped-def]
    result = solve(cantilever, [((L, B / 2, H / 2), (0.0, 0.0, -F))])
    mesh = cantilever.mesh
    stress = 6 * F * L / (B * H**2)
    deflection = F * L**3 / (3 * E * I_AREA)
    tip = -result.displacement_mm[np.isclose(mesh.nodes[:, 0], L), 2].mean()
    assert result.peak_von_mises_mpa == pytest.approx(stress, rel=0.05)
    assert result.peak_location_mm[0] < 0.1 * L  # at the root
    assert result.peak_location_mm[2] in (pytest.approx(0.0, abs=1e-6), pytest.approx(H, abs=1e-6))
    assert tip == pytest.approx(deflection, rel=0.05)
    assert result.max_displacement_mm == pytest.approx(deflection, rel=0.05)
    assert result.max_displacement_location_mm[0] == pytest.approx(L, abs=1e-6)
    assert len(mesh.tets) <= 20_000
    assert result.node_von_mises_mpa.shape == (len(mesh.nodes),)
    assert result.displacement_mm.shape == (len(mesh.nodes), 3)


def test_load_cases_are_linear_and_reuse_the_factorisation(cantilever) -> None:  # type: ignore[no-untyped-def]
    one = solve(cantilever, [((L, B / 2, H / 2), (0.0, 0.0, -F))])
    two = solve(cantilever, [((L, B / 2, H / 2), (0.0, 0.0, -2 * F))])
    np.testing.assert_allclose(two.displacement_mm, 2 * one.displacement_mm, rtol=1e-9, atol=1e-12)
    assert two.peak_von_mises_mpa == pytest.approx(2 * one.peak_von_mises_mpa, rel=1e-9)
    assert two.assemble_s == one.assemble_s  # assembled once, in prepare


def test_simply_supported_mid_span_stress() -> None:
    surface = beam(subdivide=True)
    mesh = tet_mesh(surface.vertices, surface.faces)
    pins = np.array([(x, y, H / 2) for x in (0.0, L) for y in (0.0, B / 2, B)])
    held = surface_nodes_near(mesh, pins, 1e-6)
    assert held.sum() == len(pins)
    part = prepare(mesh, STEEL, held)
    result = solve(part, [((L / 2, B / 2, H), (0.0, 0.0, -F))])
    stress = 3 * F * L / (2 * B * H**2)
    assert result.peak_von_mises_mpa == pytest.approx(stress, rel=0.05)
    assert abs(result.peak_location_mm[0] - L / 2) < 0.1 * L
    deflection = F * L**3 / (48 * E * I_AREA)
    assert result.max_displacement_mm == pytest.approx(deflection, rel=0.05)


def test_cantilever_under_its_own_weight(cantilever) -> None:  # type: ignore[no-untyped-def]
    gravity = 7.85e-6 * 9.81  # steel: 7.85e-6 kg/mm^3 times 9.81 m/s^2 is N/mm^3
    result = solve(cantilever, [], body_force_n_per_mm3=(0.0, 0.0, -gravity))
    mesh = cantilever.mesh
    w = gravity * B * H  # N/mm
    tip = -result.displacement_mm[np.isclose(mesh.nodes[:, 0], L), 2].mean()
    assert tip == pytest.approx(w * L**4 / (8 * E * I_AREA), rel=0.05)
    assert result.peak_von_mises_mpa == pytest.approx(w * L**2 / 2 * (H / 2) / I_AREA, rel=0.05)


def test_open_and_degenerate_surfaces_are_unmeshable(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # TetGen writes its refusal's files into the working directory
    box = beam()
    with pytest.raises(StructureError) as open_surface:
        tet_mesh(box.vertices, box.faces[:-1])
    assert open_surface.value.rule == "structure.unmeshable"
    flat = np.array(box.vertices, dtype=float)
    flat[:, 2] = 0.0
    with pytest.raises(StructureError) as degenerate:
        tet_mesh(flat, box.faces)
    assert degenerate.value.rule == "structure.unmeshable"
    a = trimesh.creation.box(extents=(10, 10, 10))
    b = trimesh.creation.box(extents=(10, 10, 10))
    b.apply_translation((5, 5, 5))
    crossing = trimesh.util.concatenate([a, b])  # closed, consistently wound, self-intersecting
    with pytest.raises(StructureError) as intersecting:
        tet_mesh(crossing.vertices, crossing.faces)
    assert intersecting.value.rule == "structure.unmeshable"
    assert list(tmp_path.iterdir()) == []  # and tet_mesh removes them


def test_no_support_is_refused(cantilever) -> None:  # type: ignore[no-untyped-def]
    mesh = cantilever.mesh
    with pytest.raises(StructureError) as free:
        prepare(mesh, STEEL, np.zeros(len(mesh.nodes), dtype=bool))
    assert free.value.rule == "structure.unsupported"
    one_edge = (
        np.isclose(mesh.nodes[:, 0], 0.0)
        & np.isclose(mesh.nodes[:, 2], 0.0)
        & np.isclose(mesh.nodes[:, 1], 0.0)
    )
    with pytest.raises(StructureError) as pinned:
        prepare(mesh, STEEL, one_edge)
    assert pinned.value.rule == "structure.unsupported"


def test_elastic_data_and_allowables() -> None:
    steel = elastic_for("steel_carbon", "cnc_milling")
    assert steel.allowable_mpa == 370.0  # yield, a metal
    pla = elastic_for("pla", None)
    printed = elastic_for("pla", "fdm_printing")
    assert printed.allowable_mpa == pytest.approx(pla.allowable_mpa * 0.6)  # ultimate x Z knock-down
    for material in ("aluminum_6061", "abs", "hdpe", "hardwood"):
        got = elastic_for(material, None)
        assert got.youngs_modulus_mpa > 0 and 0 < got.poissons_ratio < 0.5 and got.allowable_mpa > 0
    with pytest.raises(StructureError) as rubber:
        elastic_for("rubber_generic", "cnc_milling")
    assert rubber.value.rule == "structure.no_elastic_data"
    assert "rubber_generic" in str(rubber.value)
