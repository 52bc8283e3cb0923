"""The structural engine: its convergence against closed forms, and its speed on a typical part.

1. Convergence: a 100 x 10 x 5 mm steel cantilever (clamped at x = 0, 100 N at the tip) meshed at several
   target sizes and at the engine's default: tetrahedra, nodes, the peak's error against 6FL/bh^2, the tip
   deflection's against FL^3/3EI, and the times of meshing, assembly with factorisation, and one solve.
   The simply supported beam (3FL/2bh^2 at mid-span) is the last row.
2. Speed: the README's bracket (``engines.manufacturing.samples.bracket``, tessellated by
   ``engines.cad.mesh.triangulate`` at 0.05 mm and three angular tolerances), held at its four bolt holes,
   pushed at the top of its upright and under its own weight, at the default density. The tessellation
   sets the tetrahedra (TetGen grades from the bolt holes' short edges), and the factorisation's cost grows
   faster than the unknowns. The budget is 1 s from surface to stress on one core (best of ``--repeat``).

    .venv/bin/python -m benchmarks.bench_structure [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import trimesh

from benchmarks.results import report
from engines.cad.mesh import SURFACE_ANGULAR_TOLERANCE_RAD
from engines.structure import Elastic, prepare, solve, surface_nodes_near, tet_mesh
from engines.structure.mesh import TetMesh

T = TypeVar("T")

L, B, H, F, E = 100.0, 10.0, 5.0, 100.0, 200_000.0
STEEL = Elastic(youngs_modulus_mpa=E, poissons_ratio=0.3, allowable_mpa=250.0)
I_AREA = B * H**3 / 12


def best(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    assert out is not None
    return min(times), out


def beam(subdivide: bool = False) -> trimesh.Trimesh:
    box = trimesh.creation.box(extents=(L, B, H))
    box.apply_translation((L / 2, B / 2, H / 2))
    return box.subdivide() if subdivide else box


def row(label: str, mesh: TetMesh, stress_err: float, defl_err: float, t: tuple[float, float, float]) -> None:
    print(
        f"{label:<16}{len(mesh.tets):>8}{len(mesh.nodes):>8}{stress_err:>+10.1f}{defl_err:>+10.2f}"
        f"{t[0]:>9.3f}{t[1]:>9.3f}{t[2]:>9.4f}{sum(t):>9.3f}"
    )


def cantilever_row(surface: trimesh.Trimesh, size: float | None, repeat: int) -> None:
    stress, deflection = 6 * F * L / (B * H**2), F * L**3 / (3 * E * I_AREA)
    t_mesh, mesh = best(lambda: tet_mesh(surface.vertices, surface.faces, size_mm=size), repeat)
    held = mesh.nodes[:, 0] < 1e-9
    t_asm, part = best(lambda: prepare(mesh, STEEL, held), repeat)
    t_solve, res = best(lambda: solve(part, [((L, B / 2, H / 2), (0.0, 0.0, -F))]), repeat)
    tip = -res.displacement_mm[np.isclose(mesh.nodes[:, 0], L), 2].mean()
    label = f"{mesh.size_mm:.2f}" + (" (default)" if size is None else "")
    stress_err, defl_err = 100 * (res.peak_von_mises_mpa / stress - 1), 100 * (tip / deflection - 1)
    row(label, mesh, stress_err, defl_err, (t_mesh, t_asm, t_solve))


def convergence(sizes: list[float | None], repeat: int) -> None:
    surface = beam()
    print("cantilever 100 x 10 x 5 mm, E 200 GPa, 100 N tip load")
    print(
        f"{'size mm':<16}{'tets':>8}{'nodes':>8}{'stress %':>10}{'defl %':>10}"
        f"{'mesh s':>9}{'asm s':>9}{'solve s':>9}{'total s':>9}"
    )
    for size in sizes:
        cantilever_row(surface, size, repeat)
    surface = beam(subdivide=True)
    mesh = tet_mesh(surface.vertices, surface.faces)
    pins = np.array([(x, y, H / 2) for x in (0.0, L) for y in (0.0, B / 2, B)])
    t_asm, part = best(lambda: prepare(mesh, STEEL, surface_nodes_near(mesh, pins, 1e-6)), repeat)
    t_solve, res = best(lambda: solve(part, [((L / 2, B / 2, H), (0.0, 0.0, -F))]), repeat)
    mid = F * L**3 / (48 * E * I_AREA)
    row(
        "simply supp.",
        mesh,
        100 * (res.peak_von_mises_mpa / (3 * F * L / (2 * B * H**2)) - 1),
        100 * (res.max_displacement_mm / mid - 1),
        (mesh.mesh_s, t_asm, t_solve),
    )


def bracket_surface(angular_tolerance_rad: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    from engines.cad.mesh import triangulate
    from engines.manufacturing import samples

    vertices, faces = triangulate(samples.bracket(), 0.05, angular_tolerance_rad)  # type: ignore[arg-type]
    welded = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
    return np.asarray(welded.vertices), np.asarray(welded.faces)


def speed(angular_tolerance_rad: float, repeat: int) -> float:
    vertices, faces = bracket_surface(angular_tolerance_rad)
    t_mesh, mesh = best(lambda: tet_mesh(vertices, faces), repeat)
    bolts = np.array([(-15, -10), (-15, 10), (25, -10), (25, 10)], dtype=float)
    radial = np.linalg.norm(mesh.nodes[:, None, :2] - bolts[None], axis=2).min(axis=1)
    held = (radial < 3.2 + 1e-3) & (mesh.nodes[:, 2] < 8 + 1e-6)  # the bolt holes' walls
    t_asm, part = best(lambda: prepare(mesh, STEEL, held), repeat)
    load = [((-36.0, 0.0, 50.0), (200.0, 0.0, 0.0))]
    t_solve, res = best(lambda: solve(part, load, body_force_n_per_mm3=(0, 0, -7.7e-5)), repeat)
    total = t_mesh + t_asm + t_solve
    print(
        f"bracket, {len(faces)} triangles at {angular_tolerance_rad} rad (size {mesh.size_mm:.2f} mm): {len(mesh.tets)} tets, {len(mesh.nodes)} nodes, "
        f"{3 * int((~held).sum())} unknowns; peak {res.peak_von_mises_mpa:.1f} MPa at "
        f"{tuple(round(x, 1) for x in res.peak_location_mm)}, max displacement {res.max_displacement_mm:.4f} mm"
    )
    print(
        f"  mesh {t_mesh:.3f} s + assemble and factorise {t_asm:.3f} s + solve {t_solve:.4f} s = {total:.3f} s"
        f"   budget 1 s: {'met' if total <= 1 else 'MISSED'}"
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    convergence([6.0, 5.0, 4.0, None, 3.0, 2.5, 2.0], args.repeat)
    print()
    for angular in (0.8, 0.5, 0.3):
        speed(angular, args.repeat)
    # the figure: the bracket as the structural check tessellates a part (engines.cad.mesh.closed_surface)
    report("structure_part_seconds", speed(SURFACE_ANGULAR_TOLERANCE_RAD, args.repeat))


if __name__ == "__main__":
    main()
