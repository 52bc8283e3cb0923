"""Physics engine: convex collision pieces, MJCF scene compiler and the MuJoCo scene runner.

Usable without Temporal; the simulation activity is a thin adapter around :func:`runner.simulate`.
"""
