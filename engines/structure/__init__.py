"""Structural engine: linear-elastic stress and deflection of a part (quadratic tetrahedra), pure numpy/scipy.

Pipeline: a closed triangle surface in mm (what ``engines.cad.mesh`` makes of every STEP or STL part) ->
:func:`tet_mesh` (``mesh.py``, TetGen) -> :func:`prepare` (``fem.py``: assemble, hold the supported nodes,
factorise once) -> :func:`solve` per load case (a back-substitution) -> :class:`StructuralResult` (peak von
Mises, its place, displacements, the nodal stress map). :func:`elastic_for` (``materials.py``) reads a
material's elastic data from ``shared.materials`` and picks the allowable stress. Refusals are
:class:`StructureError` with a ``rule``. Element, load, stress and peak rules: ``fem.py``'s docstring.

Why TetGen (the ``tetgen`` wheel, pyvista's wrapper, 0.8.4) and not gmsh: we mesh triangle surfaces, never
B-reps, and TetGen's constrained Delaunay mesher is built for exactly that (a piecewise-linear complex), while
gmsh would re-parametrise the STL (``classifySurfaces``/``createGeometry``) first. The wheel is under 1 MB,
depends on numpy only and links nothing outside libstdc++/libc; its import costs a few ms. gmsh's wheel is
~90 MB (libgmsh) and links libGLU, libGL, libX11, libXrender, libXcursor, libXft, libXinerama... which a
fresh Debian (slim) machine lacks; its import takes ~70 ms of its own. Licences: the wrapper is MIT, TetGen
itself AGPL-3.0 (gmsh is GPL-2.0+): both copyleft, to be weighed before the engine is distributed as a
service to others. On our surfaces (welded OCCT tessellations and STL) TetGen refuses what it cannot mesh
(self-intersecting or overlapping facets) with an error, which becomes ``structure.unmeshable``; open or
inconsistently wound surfaces are refused before TetGen by trimesh's checks.

The element and the assembly are our own (about 100 lines of numpy, ``fem.py``), not scikit-fem's (tried
first: its generic form assembly of vector P2 took 1.5 s for 5.5k tetrahedra, ours a few tenths, and its
import over a second cold): one dependency fewer, and the stress recovery needs the same shape-function
gradients anyway. The solver is scipy's SuperLU: CHOLMOD would be faster but has no wheel (scikit-sparse
needs SuiteSparse from the system), and cholespy's bundled CHOLMOD was slower than SuperLU here.
"""

from engines.structure.errors import StructureError
from engines.structure.fem import Elastic, PreparedPart, StructuralResult, prepare, solve
from engines.structure.materials import elastic_for
from engines.structure.mesh import TetMesh, surface_nodes_near, tet_mesh

__all__ = [
    "Elastic",
    "PreparedPart",
    "StructuralResult",
    "StructureError",
    "TetMesh",
    "elastic_for",
    "prepare",
    "solve",
    "surface_nodes_near",
    "tet_mesh",
]
