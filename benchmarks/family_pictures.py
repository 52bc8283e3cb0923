"""One picture per family for the README (``docs/families/<family>.png``): the benchmark of the family's seed
0 as its thumbnail shows it (fixtures, the reference solution, the payloads at their start; goal zones green,
forbidden zones red, the build zone grey), from the evidence camera. Not a test.

    .venv/bin/python -m benchmarks.family_pictures [--families lift,launch] [--seed 0] [--out docs/families]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engines.cad.build import build_benchmark
from engines.cad.families import FAMILIES
from engines.physics import collision_pack
from engines.physics.mjcf import EVIDENCE_CAMERA
from engines.physics.render import picture_png
from engines.physics.runner import build_model
from shared.families import GENERATOR_VERSION
from shared.ids import benchmark_id
from shared.models import SimulationMode

SIZE = (480, 360)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/families"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for family in args.families.split(","):
        bid = benchmark_id(family, args.seed, GENERATOR_VERSION)
        definition, blobs, _ = build_benchmark(family, args.seed, GENERATOR_VERSION, bid)
        pack = next(b.data for b in blobs if b.key == definition.artifacts.collision.key)
        model = build_model(definition, collision_pack.unpack(pack), SimulationMode.DESIGN)
        png = picture_png(model, width=SIZE[0], height=SIZE[1], camera=EVIDENCE_CAMERA)
        path = args.out / f"{family}.png"
        path.write_bytes(png)
        print(f"wrote {path} ({len(png) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
