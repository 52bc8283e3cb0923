"""Static randomization within a family's seed: the payload's material and the scene's scale, drawn per
seed, recorded in the definition's parameters and description, and the same for the same seed."""

from __future__ import annotations

import math

import pytest

from engines.cad.families import FAMILIES
from engines.cad.families.base import PARAM_SPREAD, PAYLOAD_MATERIALS, SCALE_RANGE, Family
from shared.materials import props

SEEDS = range(30)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_seed_draws_a_listed_material_and_a_scale_and_records_both(name: str) -> None:
    family = FAMILIES[name]
    lo, hi = family.scale_range
    assert set(family.payload_materials) <= set(PAYLOAD_MATERIALS)
    for seed in SEEDS:
        p = family.sample(seed)
        material = family.payload_material(seed)
        assert material in family.payload_materials
        assert lo <= p["scene_scale"] <= hi
        assert p["payload_density_kg_m3"] == props(material).density_kg_m3
        assert p["payload_friction"] == props(material).friction
        for key, nominal in family.nominal.items():
            scale = p["scene_scale"] if key.endswith("_mm") else 1.0
            low, high = nominal * scale * (1 - PARAM_SPREAD), nominal * scale * (1 + PARAM_SPREAD)
            assert low - 1e-3 <= p[key] <= high + 1e-3, (seed, key)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_design_records_what_was_drawn_and_its_payloads_are_of_that_material(name: str) -> None:
    family = FAMILIES[name]
    for seed in range(family.levels):
        d = family.generate(seed)
        material = family.payload_material(seed)
        for key in ("scene_scale", "payload_density_kg_m3", "payload_friction"):
            assert d.params[key] == family.sample(seed)[key]
        assert {p.material for p in [d.payload, *d.extra_payloads]} == {material}
        assert props(material).name in d.description


def test_scales_spread_over_the_range_and_materials_vary() -> None:
    """Over 30 seeds a family's scales cover most of the (log) range and its payloads at least four
    materials (all but the gate's, which must be slippery)."""
    for name, family in FAMILIES.items():
        lo, hi = family.scale_range
        assert SCALE_RANGE[0] <= lo < hi <= SCALE_RANGE[1]
        scales = sorted(math.log(family.scene_scale(s)) for s in SEEDS)
        assert scales[-1] - scales[0] > 0.7 * math.log(hi / lo), name
        materials = {family.payload_material(s) for s in SEEDS}
        assert len(materials) >= min(4, len(family.payload_materials)), name


def test_the_same_seed_draws_the_same_and_another_seed_draws_otherwise() -> None:
    family: Family = FAMILIES["chute"]
    assert family.sample(7) == family.sample(7)
    assert family.generate(7).params == family.generate(7).params
    assert len({family.scene_scale(s) for s in SEEDS}) >= len(SEEDS) - 3  # rounded to 0.001


def test_a_scaled_scene_is_larger_in_every_length() -> None:
    """Two chute seeds' lengths differ by their scales' ratio, within each parameter's own spread."""
    family = FAMILIES["chute"]
    small = min(SEEDS, key=family.scene_scale)
    big = max(SEEDS, key=family.scene_scale)
    ratio = family.scene_scale(big) / family.scene_scale(small)
    assert ratio > 1.4
    radius_small, radius_big = family.sample(small)["radius_mm"], family.sample(big)["radius_mm"]
    spread = (1 + PARAM_SPREAD) / (1 - PARAM_SPREAD)
    assert ratio / spread <= radius_big / radius_small <= ratio * spread
