"""The structural engine's one error type: a typed refusal a caller can report without parsing text.

Contract: every refusal of the engine (a surface that cannot be meshed, a material without linear-elastic
data, a part held nowhere, a load that touches no surface) is a :class:`StructureError` whose ``rule`` names
the case; the message says why, in words a user can act on. It is a ``ValueError``: the input is wrong,
retrying cannot help.
"""

from __future__ import annotations

UNMESHABLE = "structure.unmeshable"
NO_ELASTIC_DATA = "structure.no_elastic_data"
UNSUPPORTED = "structure.unsupported"
BAD_LOAD = "structure.bad_load"


class StructureError(ValueError):
    """A structural check that cannot be done; ``rule`` is one of the module's rule names."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.reason = message
