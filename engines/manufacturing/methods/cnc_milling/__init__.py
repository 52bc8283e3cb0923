"""CNC milling (3-axis VMC): one method in three modules.

:mod:`.rows` holds the catalogue rows (``methods/cnc_milling.toml`` and the ``[materials.<id>.cnc_milling]``
tables of ``shared/data/materials.toml``), :mod:`.rules` the DFM rules and :mod:`.cost` the cost model; the
method is larger than one module should be, so it is a package like injection moulding.
"""

from __future__ import annotations

import os

from engines.manufacturing.method import Method
from engines.manufacturing.methods.cnc_milling.cost import cost
from engines.manufacturing.methods.cnc_milling.rows import CncMaterial, CncProcess
from engines.manufacturing.methods.cnc_milling.rules import findings
from shared.models import ManufacturingMethod

__all__ = ["METHOD"]

METHOD = Method(
    method=ManufacturingMethod.CNC_MILLING,
    process=CncProcess,
    material_params=CncMaterial,
    data_file=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cnc_milling.toml"),
    findings=findings,
    cost=cost,
)
