"""mechbench's own Prometheus metrics, recorded through the Temporal SDK's metric meter (so a worker started
with ``MECHBENCH_METRICS_PORT`` serves them beside the SDK's, on one endpoint). The one place that names them.

Light imports only: activities call these after their work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from temporalio.common import MetricMeter

    from shared.models import BenchmarkResult, SimulationReport

BENCHMARKS = "mechbench_benchmarks"
"""Counter of recorded verdicts, by ``family``, ``verdict`` and ``failed_proof`` (``none`` when published)."""
SIMULATION_STEPS_PER_SECOND = "mechbench_simulation_steps_per_second"
"""Histogram of physics steps per second of a simulation job (all scenes), by ``mode``."""
ANALYSIS_SECONDS = "mechbench_analysis_seconds"
"""Histogram of manufacturing-analysis step durations, by ``step`` (``facts`` or ``price``) and ``method``."""


def benchmark_recorded(meter: MetricMeter, result: BenchmarkResult) -> None:
    failed = result.failed_proof.value if result.failed_proof else "none"
    meter.create_counter(BENCHMARKS, "benchmark verdicts recorded").add(
        1, {"family": result.family, "verdict": result.verdict.value, "failed_proof": failed}
    )


def simulation_done(meter: MetricMeter, report: SimulationReport) -> None:
    if report.steps_per_s:
        meter.create_histogram_float(
            SIMULATION_STEPS_PER_SECOND, "physics steps per second of a simulation job", "steps/s"
        ).record(float(report.steps_per_s), {"mode": str(report.mode.value)})


def analysis_step(meter: MetricMeter, step: str, seconds: float, method: str = "") -> None:
    meter.create_histogram_float(ANALYSIS_SECONDS, "manufacturing analysis step duration", "s").record(
        seconds, {"step": step, "method": method}
    )
