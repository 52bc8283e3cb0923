"""Registry of the built-in procedural families; the keys equal :data:`shared.catalog.FAMILIES`."""

from __future__ import annotations

from activities.cad.families.base import CadPart, Family, FamilyDesign
from activities.cad.families.chute import ChuteFamily
from activities.cad.families.detour import DetourFamily
from activities.cad.families.gap import GapFamily
from activities.cad.families.lift import LiftFamily

FAMILIES: dict[str, Family] = {f.name: f for f in (ChuteFamily(), GapFamily(), DetourFamily(), LiftFamily())}

__all__ = ["FAMILIES", "CadPart", "Family", "FamilyDesign"]
