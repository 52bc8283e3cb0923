"""Injection moulding (two-plate cold-runner mould, P20 steel base): one method in three modules.

:mod:`.rows` holds the catalogue rows (``methods/injection_molding.toml`` and the resin tables of
``shared/data/materials.toml``), :mod:`.rules` the DFM rules and :mod:`.cost` the cost model; the method
is larger than one module should be, so it is a package like this.
"""

from __future__ import annotations

import os

from engines.manufacturing.method import Method
from engines.manufacturing.methods.injection_molding.cost import cooling_time_s, cost
from engines.manufacturing.methods.injection_molding.rows import MoldingMaterial, MoldingProcess
from engines.manufacturing.methods.injection_molding.rules import findings
from shared.models import ManufacturingMethod

__all__ = ["METHOD", "cooling_time_s"]

METHOD = Method(
    method=ManufacturingMethod.INJECTION_MOLDING,
    process=MoldingProcess,
    material_params=MoldingMaterial,
    data_file=os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "injection_molding.toml"
    ),
    findings=findings,
    cost=cost,
)
