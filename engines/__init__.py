"""The engines: CAD (:mod:`engines.cad`), physics (:mod:`engines.physics`) and manufacturing
(:mod:`engines.manufacturing`).

Pure libraries: they import neither temporalio nor the worker's settings or object store, so they can be used
from a notebook or a test as ``from engines.physics.runner import simulate``. Heavy imports (build123d, OCP,
MuJoCo, trimesh) happen in the submodules, never here.
"""
