"""Registry of the built-in procedural families; the keys equal :data:`shared.families.FAMILIES`."""

from __future__ import annotations

from engines.cad.families.base import CadPart, Family, FamilyDesign
from engines.cad.families.chute import ChuteFamily
from engines.cad.families.detour import DetourFamily
from engines.cad.families.gap import GapFamily
from engines.cad.families.lever import LeverFamily
from engines.cad.families.lift import LiftFamily

FAMILIES: dict[str, Family] = {f.name: f for f in (ChuteFamily(), GapFamily(), DetourFamily(), LiftFamily(), LeverFamily())}

__all__ = ["FAMILIES", "CadPart", "Family", "FamilyDesign"]
