"""The manufacturing methods: one module per method (and its data file next to it), registered here.

Adding a method: a ``ManufacturingMethod`` member in ``shared.models``, a module here that declares its
:class:`~engines.manufacturing.method.Method` with a ``<method>.toml`` beside it, one line below, and the
``[materials.<id>.<method>]`` tables of the materials it takes in ``shared/data/materials.toml``. The
catalogue, the analysis and the pricing read :data:`METHODS`.
"""

from __future__ import annotations

from engines.manufacturing.method import Method
from engines.manufacturing.methods import (
    cnc_milling,
    cnc_turning,
    fdm_printing,
    injection_molding,
    sheet_metal,
)
from shared.models import ManufacturingMethod

METHODS: dict[ManufacturingMethod, Method] = {
    m.method: m
    for m in (
        cnc_milling.METHOD,
        injection_molding.METHOD,
        fdm_printing.METHOD,
        sheet_metal.METHOD,
        cnc_turning.METHOD,
    )
}

_unregistered = sorted(m.value for m in ManufacturingMethod if m not in METHODS)
if _unregistered:  # a method users can request must have a module, or every request for it would fail late
    raise ImportError(
        f"manufacturing methods without a module in engines/manufacturing/methods: {_unregistered}"
    )
