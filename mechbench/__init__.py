"""mechbench, the one top-level package the wheel installs, and the typed Python client.

``from mechbench import Client, SyncClient, InputError, WorkFailed`` (see :mod:`mechbench.client`).

In the repository the rooms are top-level folders (``shared``, ``engines``, ``runtime``, ``activities``,
``workflows``, ``workers``); the wheel ships them as ``mechbench.shared``, ``mechbench.engines``, ..., their
imports rewritten at build time by ``hatch_build.py``. Modules of this package import the rooms by their
repository names (``from shared.models import ...``), which the wheel rewrites too.
"""

from typing import Any

__all__ = ["Client", "InputError", "SyncClient", "WorkFailed"]


def __getattr__(name: str) -> Any:
    """The client's names, imported on first use: ``import mechbench.shared`` alone imports nothing more."""
    if name in __all__:
        from mechbench import client

        return getattr(client, name)
    raise AttributeError(f"module 'mechbench' has no attribute {name!r}")
