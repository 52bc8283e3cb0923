"""What every scenario shares: the :class:`Row` it reports, waiting for a condition or a history event, and
the published chute benchmark with a design request for it."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from faults.harness import Stack
from shared.families import GENERATOR_VERSION
from shared.ids import benchmark_id
from shared.keys import part_step_key
from shared.models import BenchmarkResult, GenerateBenchmarkRequest, Verdict
from shared.temporal import WF_GENERATE_BENCHMARK

CHUTE = benchmark_id("chute", 0, GENERATOR_VERSION)
REPO = Path(__file__).resolve().parents[2]
"""The repository's root."""


@dataclass
class Row:
    fault: str
    injected: int
    survived: int
    work_lost: int
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.injected > 0 and self.survived == self.injected and self.work_lost == 0


async def history_has(handle, *types: EventType) -> list[str]:  # type: ignore[no-untyped-def]
    """The event types among ``types`` that the workflow's history lacks."""
    seen = {e.event_type for e in (await handle.fetch_history()).events}
    return [EventType.Name(t) for t in types if t not in seen]


async def until(predicate, timeout_s: float, every_s: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(every_s)
    return await predicate()


async def publish_chute(stack: Stack) -> Path:
    """Publish chute seed 0 and put its reference part where the worker may read design files."""
    assert stack.client is not None
    result = await stack.client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="chute", seed=0),
        id=f"publish-chute-{uuid.uuid4().hex[:6]}",
        task_queue=stack.queue,
        result_type=BenchmarkResult,
    )
    if result.verdict != Verdict.PUBLISHED:
        raise RuntimeError(f"chute seed 0 was not published: {result.reason}")
    part = stack.root / "designs" / "chute.step"
    part.parent.mkdir(exist_ok=True)
    part.write_bytes(stack.store().get_bytes(part_step_key(CHUTE, "chute")))
    return part


def design_request(part: Path, label: str, benchmark: str = CHUTE, **options: object) -> dict[str, object]:
    meta = {"label": label, "material": "aluminum_6061", "method": "cnc_milling"}
    return {
        "benchmark_id": benchmark,
        "design": {"parts": [{"source": {"path": str(part)}, "metadata": meta}]},
        **options,
    }
