"""What each family asks of a design, read from its own generator: the idea (its module docstring's first
paragraph), its complexity levels, and per level what the reference solution needs (parts, part-to-part
joints, motors, bought parts) and how many payloads and moving fixtures the benchmark has; and what a seed
randomizes besides its parameters: the payload's material and the scene's scale.

``mechbench families`` prints this; it generates one seed per level (no STEP export, no simulation).
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import asdict, dataclass, field

from engines.cad.families.base import Family
from shared.cots import bought_lines


@dataclass(frozen=True)
class LevelNeeds:
    level: int
    seed: int
    """The seed that was generated to measure this level (the first seed of the level)."""
    reference_parts: int
    part_to_part_joints: int
    joints: int
    motors: list[str]
    """Catalogue items of the reference's motors."""
    bought: dict[str, int]
    """Every bought item of the reference and its count (motors, fasteners, bearings)."""
    payloads: int
    moving_fixtures: int


@dataclass(frozen=True)
class FamilyInfo:
    name: str
    idea: str
    levels: int
    payload_materials: list[str] = field(default_factory=list)
    """The materials a seed draws its payload from."""
    scale_range: tuple[float, float] = (1.0, 1.0)
    """The range a seed draws its scene scale from (every sampled length times it)."""
    needs: list[LevelNeeds] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def idea_of(family: Family) -> str:
    """The first paragraph of the family module's docstring, on one line."""
    doc = inspect.getdoc(sys.modules[type(family).__module__]) or ""
    text = " ".join(doc.split("\n\n", 1)[0].split())
    return text.removeprefix(f"``{family.name}``: ")


def describe(family: Family) -> FamilyInfo:
    needs = []
    for seed in range(family.levels):
        d = family.generate(seed)
        payloads = [d.payload, *d.extra_payloads]
        needs.append(
            LevelNeeds(
                level=family.level(seed),
                seed=seed,
                reference_parts=len(d.reference),
                part_to_part_joints=sum(
                    p.joint is not None and p.joint.parent is not None for p in d.reference
                ),
                joints=sum(p.joint is not None for p in d.reference),
                motors=[p.motor.item or "?" for p in d.reference if p.motor is not None],
                bought={x.item: x.count for x in bought_lines(d.reference)},
                payloads=len(payloads),
                moving_fixtures=sum(p.joint is not None for p in d.fixtures),
            )
        )
    return FamilyInfo(
        name=family.name,
        idea=idea_of(family),
        levels=family.levels,
        payload_materials=[m.value for m in family.payload_materials],
        scale_range=family.scale_range,
        needs=needs,
    )
