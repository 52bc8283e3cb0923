"""Certifying a benchmark beyond "it can be solved": random designs must fail it (``random``), its reference
must survive small perturbations (``robust``), and its difficulty is measured (``difficulty``).

Pure libraries over the physics and manufacturing engines: no Temporal, no store. ``sampler`` draws random
designs from primitives, ``primitives`` holds their geometry and the overlap test the sampler rejects with,
``stats`` the binomial bounds.
"""
