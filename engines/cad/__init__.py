"""CAD engine: procedural benchmark families, geometry validation, convex decomposition and exports.

Heavy imports (build123d, OCP, trimesh, coacd) happen in the submodules, never here.
"""
