"""mechbench, the one top-level package the wheel installs.

Placeholder. In the repository the rooms are top-level folders (``shared``, ``engines``, ``runtime``,
``activities``, ``workflows``, ``workers``); the wheel ships them as ``mechbench.shared``,
``mechbench.engines``, ..., their imports rewritten at build time by ``hatch_build.py``. Modules of this
package import the rooms by their repository names (``from shared.models import ...``), which the wheel
rewrites too.
"""
