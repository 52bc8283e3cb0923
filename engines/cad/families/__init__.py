"""Registry of the built-in procedural families; the keys equal :data:`shared.families.FAMILIES`."""

from __future__ import annotations

from engines.cad.families.base import CadPart, Family, FamilyDesign
from engines.cad.families.brake import BrakeFamily
from engines.cad.families.bridge import BridgeFamily
from engines.cad.families.chute import ChuteFamily
from engines.cad.families.conveyor import ConveyorFamily
from engines.cad.families.detour import DetourFamily
from engines.cad.families.funnel import FunnelFamily
from engines.cad.families.gap import GapFamily
from engines.cad.families.gate import GateFamily
from engines.cad.families.launch import LaunchFamily
from engines.cad.families.lever import LeverFamily
from engines.cad.families.lift import LiftFamily
from engines.cad.families.relay import RelayFamily
from engines.cad.families.shelf import ShelfFamily
from engines.cad.families.slide import SlideFamily
from engines.cad.families.sorter import SorterFamily

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        ChuteFamily(),
        GapFamily(),
        DetourFamily(),
        LiftFamily(),
        FunnelFamily(),
        RelayFamily(),
        BrakeFamily(),
        ConveyorFamily(),
        LaunchFamily(),
        LeverFamily(),
        GateFamily(),
        SlideFamily(),
        SorterFamily(),
        ShelfFamily(),
        BridgeFamily(),
    )
}

__all__ = ["FAMILIES", "CadPart", "Family", "FamilyDesign"]
