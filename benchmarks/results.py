"""The figures ``make bench`` reports: each benchmark prints its own table and, for each figure it owns, one
machine-readable line (``BENCH-RESULT {json}``) that :mod:`benchmarks.run_all` collects into
``bench-results.json``. One goal per figure, here, so the table, the JSON and the README agree.

A figure's entry: ``{"name": ..., "value": ..., "unit": ..., "goal": ..., "met": true|false}``, where the
goal is a bound (``">= 1.8"``) on the value. Not a test; nothing gates on it.
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass

MARKER = "BENCH-RESULT "


@dataclass(frozen=True)
class Goal:
    unit: str
    op: str
    """``>=`` (the value must reach the bound) or ``<=`` (it must stay under it)."""
    bound: float
    what: str

    def met(self, value: float) -> bool:
        return {">=": operator.ge, "<=": operator.le}[self.op](value, self.bound)


GOALS: dict[str, Goal] = {
    "dataset_speedup_vs_sequential": Goal(
        "x", ">=", 1.8, "GenerateDataset through Temporal vs a sequential loop on one thread, same engines"
    ),
    "dataset_cpu_vs_sequential": Goal(
        "x", "<=", 1.1, "CPU through Temporal vs the one-thread loop's: the price of durability"
    ),
    "evaluation_seconds": Goal("s", "<=", 1.0, "one evaluation of the example design, 8 scenes, evidence"),
    "sim_loop_vs_raw_min": Goal("x", ">=", 0.9, "the simulation loop vs raw mj_step, worst bench scene"),
    "broadphase_speedup": Goal("x", ">=", 15.0, "200-solid validation: all-pairs exact vs broadphase"),
    "analysis_cold_seconds": Goal("s", "<=", 1.0, "manufacturing analysis of a new 20k-triangle part"),
    "reprice_seconds": Goal(
        "s", "<=", 0.01, "the same part at a new quantity: quote and ladder (cached metrics)"
    ),
    "sheet_unfold_seconds": Goal("s", "<=", 1.0, "sheet-metal recognition and unfolding of a 10-bend part"),
    "stl_million_seconds": Goal("s", "<=", 10.0, "a 1-million-triangle STL: facts and the analysis"),
    "embedded_start_seconds": Goal("s", "<=", 5.0, "--embedded to a ready worker"),
    "structure_part_seconds": Goal(
        "s", "<=", 1.0, "structural check of a typical part: mesh, assemble and factorise, one solve"
    ),
}
"""The issues' goals."""


def report(name: str, value: float) -> dict[str, object]:
    """Print the figure's line for :mod:`benchmarks.run_all` and return its entry."""
    goal = GOALS[name]
    entry: dict[str, object] = {
        "name": name,
        "value": round(value, 4),
        "unit": goal.unit,
        "goal": f"{goal.op} {goal.bound:g}",
        "met": goal.met(value),
    }
    print(MARKER + json.dumps(entry), flush=True)
    return entry


def parse(line: str) -> dict[str, object] | None:
    """The entry on a ``BENCH-RESULT`` line, or None for any other line."""
    if not line.startswith(MARKER):
        return None
    entry: dict[str, object] = json.loads(line[len(MARKER) :])
    return entry


def table(entries: list[dict[str, object]]) -> str:
    rows = [f"{'figure':<32} {'value':>10} {'unit':<4} {'goal':<8} met"]
    for e in entries:
        rows.append(f"{e['name']!s:<32} {e['value']!s:>10} {e['unit']!s:<4} {e['goal']!s:<8} {e['met']}")
    return "\n".join(rows)
