"""A material's linear-elastic data and its allowable stress, from ``shared.materials``.

Contract: :func:`elastic_for` returns the :class:`~engines.structure.fem.Elastic` of a material made by a
method. The allowable (before any safety factor) is the yield strength when the table gives one (ductile
materials: the metals and HDPE, for which yielding is failure) and otherwise the ultimate tensile strength
(brittle or printed materials: ABS, PLA, wood fail by fracture), times the table's ``fdm_z_knockdown``
when the method is FDM printing (a printed part is weakest across its layers, and the engine does not know
the build direction, so it assumes the worst). A
material without elastic data (an elastomer: linear elasticity does not describe it) raises
``StructureError("structure.no_elastic_data")`` naming the material.
"""

from __future__ import annotations

from engines.structure.errors import NO_ELASTIC_DATA, StructureError
from engines.structure.fem import Elastic
from shared.materials import props
from shared.models import ManufacturingMethod, MaterialId


def elastic_for(material_id: str, method: str | None = None) -> Elastic:
    """The elastic constants and allowable stress of ``material_id`` made by ``method`` (None: as stock)."""
    try:
        row = props(MaterialId(material_id))
    except ValueError as e:
        raise StructureError(NO_ELASTIC_DATA, f"unknown material {material_id!r}") from e
    name = f"{material_id} ({row.name})"
    if row.youngs_modulus_mpa is None or row.poissons_ratio is None:
        raise StructureError(
            NO_ELASTIC_DATA,
            f"{name} has no linear-elastic data (class {row.material_class.value}): "
            "its stress cannot be computed by a linear-elastic model",
        )
    strength = row.yield_mpa if row.yield_mpa is not None else row.ultimate_mpa
    if strength is None:
        raise StructureError(NO_ELASTIC_DATA, f"{name} has no yield or ultimate strength")
    if method is not None and ManufacturingMethod(method) is ManufacturingMethod.FDM_PRINTING:
        if row.fdm_z_knockdown is None:
            raise StructureError(NO_ELASTIC_DATA, f"{name} has no FDM layer-direction knock-down")
        strength *= row.fdm_z_knockdown
    return Elastic(
        youngs_modulus_mpa=row.youngs_modulus_mpa, poissons_ratio=row.poissons_ratio, allowable_mpa=strength
    )
