"""Material properties used for mass, the scene compiler (density, friction) and material cost estimates.

Values: densities and $/kg from the earlier system's canonical price table (research/domain-brief.md, 1.5)
and common datasheets; PLA added from typical filament datasheets (1.24 g/cm3, ~$20/kg spool price).
The manufacturing engine (issue 3) owns process pricing; this table only carries raw-material facts.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.models import MaterialId


class MaterialProps(BaseModel):
    model_config = ConfigDict(frozen=True)

    density_kg_m3: float
    friction: float
    """Sliding friction coefficient used in the physics scene."""
    price_usd_per_kg: float
    rgba: tuple[float, float, float, float]


MATERIALS: dict[MaterialId, MaterialProps] = {
    MaterialId.ALUMINUM_6061: MaterialProps(
        density_kg_m3=2700, friction=0.61, price_usd_per_kg=6.0, rgba=(0.75, 0.77, 0.8, 1)
    ),
    MaterialId.STEEL_CARBON: MaterialProps(
        density_kg_m3=7850, friction=0.60, price_usd_per_kg=1.8, rgba=(0.45, 0.47, 0.5, 1)
    ),
    MaterialId.ABS: MaterialProps(
        density_kg_m3=1040, friction=0.50, price_usd_per_kg=2.5, rgba=(0.9, 0.35, 0.2, 1)
    ),
    MaterialId.PLA: MaterialProps(
        density_kg_m3=1240, friction=0.45, price_usd_per_kg=20.0, rgba=(0.2, 0.6, 0.9, 1)
    ),
    MaterialId.HDPE: MaterialProps(
        density_kg_m3=950, friction=0.22, price_usd_per_kg=1.9, rgba=(0.92, 0.92, 0.88, 1)
    ),
    MaterialId.HARDWOOD: MaterialProps(
        density_kg_m3=750, friction=0.50, price_usd_per_kg=3.2, rgba=(0.6, 0.42, 0.25, 1)
    ),
    MaterialId.RUBBER_GENERIC: MaterialProps(
        density_kg_m3=1150, friction=0.90, price_usd_per_kg=8.5, rgba=(0.1, 0.1, 0.1, 1)
    ),
}


MATERIAL_ONLY_COST_BASIS = "material-only estimate of the reference parts (no process cost yet)"
"""Label of caps derived from :func:`material_cost_usd` until the manufacturing engine prices parts."""


def props(material: MaterialId | str) -> MaterialProps:
    return MATERIALS[MaterialId(material)]


def mass_kg(material: MaterialId | str, volume_mm3: float) -> float:
    return props(material).density_kg_m3 * volume_mm3 * 1e-9


def material_cost_usd(material: MaterialId | str, volume_mm3: float) -> float:
    """Raw material only: a clearly labelled lower bound, not a manufacturing quote."""
    return mass_kg(material, volume_mm3) * props(material).price_usd_per_kg
