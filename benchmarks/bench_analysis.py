"""Manufacturing analysis of a ~20k-triangle part: a cold analysis (STEP import, tessellation, rays, corner
extraction, then rules and pricing) side by side with a warm one (a new quantity re-prices cached facts);
then a re-price alone (quote and ladder over the part's metrics), the sheet-metal recognition and unfolding of
a 10-bend part, and a 1-million-triangle STL.

The budgets: 1 s for a typical part of up to 20k triangles, 10 ms for a re-price, 1 s for the 10-bend part,
10 s for the million triangles. Each stage is timed (best of ``--repeat``, the STL once) and the table prints
the cold/warm ratio, which is what caching by content hash buys.

    .venv/bin/python -m benchmarks.bench_analysis [--triangles 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.results import report
from engines.cad.export import step_bytes
from engines.manufacturing import samples
from engines.manufacturing.analysis import analyse
from engines.manufacturing.catalog import load_catalog
from engines.manufacturing.extract import extract, facts_from_shape, load_step
from engines.manufacturing.facts import PartFacts
from engines.manufacturing.metrics import part_metrics
from engines.manufacturing.pricing import ladder, quote
from shared.models import ManufacturingMethod, MaterialId


def best(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triangles", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = step_bytes(samples.dense_part(args.triangles))
    catalog = load_catalog()
    method, material = ManufacturingMethod.CNC_MILLING, MaterialId.ALUMINUM_6061

    t_import, _ = best(lambda: load_step(data), args.repeat)
    t_facts, facts = best(lambda: extract(data, "step"), args.repeat)
    assert isinstance(facts, PartFacts)
    blob = facts.to_npz()
    t_load, _ = best(lambda: PartFacts.from_npz(blob), args.repeat)
    t_price, _ = best(lambda: analyse(facts, method, material, 100, catalog), args.repeat)
    cold = t_facts + t_price
    warm = t_load + t_price
    print(f"part: {facts.n_triangles} triangles, {facts.n_faces} faces, STEP {len(data) / 1024:.0f} KiB")
    print(f"{'stage':<44}{'seconds':>10}")
    print(f"{'  STEP import (part of facts)':<44}{t_import:>10.3f}")
    print(f"{'  facts: import + tessellate + rays + corners':<44}{t_facts:>10.3f}")
    print(f"{'  load cached facts (npz)':<44}{t_load:>10.4f}")
    print(f"{'  rules + quote + ladder + alternatives':<44}{t_price:>10.4f}")
    print(f"{'cold analysis (new part)':<44}{cold:>10.3f}   budget 1 s: {'met' if cold <= 1 else 'MISSED'}")
    print(f"{'warm analysis (new quantity, cached facts)':<44}{warm:>10.4f}")
    print(f"cold / warm = {cold / warm:.0f}x")
    metrics = part_metrics(facts)
    t_reprice, _ = best(
        lambda: (
            quote(metrics, method, material, 250, catalog),
            ladder(metrics, method, material, [1, 10, 100, 1000, 10_000], catalog),
        ),
        args.repeat,
    )
    print(f"{'re-price (quote + ladder, cached metrics)':<44}{t_reprice:>10.4f}")
    sheet = samples.zigzag(bends=10)
    t_sheet, m = best(lambda: part_metrics(facts_from_shape(sheet, "zigzag")), args.repeat)
    assert m.sheet is not None and m.sheet.recognised and len(m.sheet.bends) == 10
    print(f"{'sheet: facts + recognise + unfold, 10 bends':<44}{t_sheet:>10.3f}")
    import trimesh

    sphere = trimesh.creation.icosphere(subdivisions=8, radius=50)
    stl = sphere.export(file_type="stl")
    started = time.perf_counter()
    big = extract(stl, "stl")
    analyse(big, ManufacturingMethod.INJECTION_MOLDING, MaterialId.ABS, 100, catalog)
    t_stl = time.perf_counter() - started
    print(f"{f'{len(sphere.faces):,} triangle STL: facts + analysis':<44}{t_stl:>10.3f}")
    report("analysis_cold_seconds", cold)
    report("reprice_seconds", t_reprice)
    report("sheet_unfold_seconds", t_sheet)
    report("stl_million_seconds", t_stl)


if __name__ == "__main__":
    main()
