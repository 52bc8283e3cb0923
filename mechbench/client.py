"""The typed Python client: everything a user does with mechbench, without knowing its internal modules.

    from mechbench import Client, SyncClient

    async with Client.connect(embedded=True) as mb:          # or Client.connect(settings) for a cluster
        dataset = await mb.generate(["chute", "gap"], count=4)
        board = await mb.leaderboard(dataset.dataset_id)

    with SyncClient.connect() as mb:                          # the same methods, blocking
        result = mb.evaluate("chute-s0-v3", script=Path("design.py"), submitter="my-agent")

Each method starts (or attaches to) the same workflow, under the same workflow id and after the same checks,
as the ``mechbench`` command and the MCP tools do, and returns the contract models (``shared.models``):
:meth:`Client.generate` a ``DatasetResult``, :meth:`Client.benchmark` a ``BenchmarkResult``,
:meth:`Client.evaluate` an ``EvaluationResult``, :meth:`Client.analyze` a ``ManufacturingReport``,
:meth:`Client.export` an ``ExportSummary``, :meth:`Client.leaderboard` a ``Leaderboard``. Bad input raises
:class:`InputError` (a ``ValueError`` whose message starts with the field) before anything is stored or
started; a workflow that fails for another reason raises :class:`WorkFailed`.

:class:`SyncClient` runs a :class:`Client` on an event loop of its own in a background thread.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from shared.boundary import BoundaryError
from shared.families import GENERATOR_VERSION
from shared.ids import benchmark_id, dataset_id
from shared.models import (
    BenchmarkResult,
    DatasetManifest,
    DatasetResult,
    EvaluationResult,
    GenerateBenchmarkRequest,
    Leaderboard,
    ManufacturingReport,
)
from shared.settings import Settings, get_settings
from workers.agent import ANALYSIS_OPTIONS, Agent
from workers.agent_input import AgentInputError, AgentWorkFailed

T = TypeVar("T")

InputError = AgentInputError
"""Refused input: the message starts with the field; nothing was stored or started."""
WorkFailed = AgentWorkFailed
"""The workflow ended with an error that is not about the input (its type and message)."""


class Client:
    """The asynchronous client over one Temporal connection and the object store of its settings."""

    def __init__(self, agent: Agent):
        self._agent = agent
        self.settings: Settings = agent.settings

    @classmethod
    @asynccontextmanager
    async def connect(cls, settings: Settings | None = None, embedded: bool = False) -> AsyncIterator[Client]:
        """A client of the cluster in ``settings`` (default: the ``MECHBENCH_*`` environment), or with
        ``embedded`` of a dev server and a worker started in this process and stopped on exit."""
        from workers.mcp_server import connected_agent

        async with connected_agent(settings or get_settings(), embedded) as agent:
            yield cls(agent)

    async def generate(
        self, families: list[str], count: int, base_seed: int = 0, **options: Any
    ) -> DatasetResult:
        """Generate a dataset (GenerateDataset, ``dataset-<dataset id>``); ``options`` are the other fields
        of ``DatasetRequest`` (``dataset_id``, ``max_parallel``, ``n_scenes``, ``certify``, ``webhook``)."""
        from shared.temporal import WF_GENERATE_DATASET
        from workers.cli.common import BadInput
        from workers.cli.generate import dataset_request

        try:
            req = dataset_request(families, count, base_seed, self.settings, **options)
        except BadInput as e:
            raise InputError(str(e)) from None
        ds = dataset_id(req, GENERATOR_VERSION)
        return await self._agent.run_workflow(
            WF_GENERATE_DATASET, req, f"dataset-{ds}", DatasetResult, f"dataset {ds}"
        )

    async def benchmark(self, family: str, seed: int) -> BenchmarkResult:
        """Generate (or reuse) one benchmark of a family (GenerateBenchmark, ``benchmark-<benchmark id>``)."""
        from pydantic import ValidationError

        from shared.families import unknown_families_message
        from shared.temporal import WF_GENERATE_BENCHMARK

        try:
            req = GenerateBenchmarkRequest(family=family, seed=seed)
        except ValidationError as e:
            raise AgentInputError(_first_error(e)) from None
        assert req.family is not None
        if (problem := unknown_families_message([req.family], field="family")) is not None:
            raise InputError(problem)
        bid = benchmark_id(req.family, req.seed, GENERATOR_VERSION)
        return await self._agent.run_workflow(
            WF_GENERATE_BENCHMARK, req, f"benchmark-{bid}", BenchmarkResult, f"benchmark {bid}"
        )

    async def evaluate(
        self,
        benchmark_id: str,
        script: str | Path | None = None,
        parts: list[dict[str, Any]] | None = None,
        *,
        submitter: str | None = None,
        scenes: int | None = None,
        evidence: bool = True,
    ) -> EvaluationResult:
        """Evaluate a design: a script's source text or a path to it, or ``parts``
        (``[{"filename": "arm.step", "data_base64": ..., "metadata": {...}}]``; ``"data"`` as bytes also
        works). With ``submitter``, a leaderboard attempt on the benchmark's held-out scenes."""
        if isinstance(script, Path):
            script = await asyncio.to_thread(script.read_text)
        encoded = [_encoded(p) for p in parts] if parts is not None else None
        return await self._agent.evaluate_design(benchmark_id, script, encoded, scenes, evidence, submitter)

    async def analyze(
        self,
        part: bytes | Path,
        method: str,
        material: str,
        quantity: int,
        filename: str | None = None,
        **options: Any,
    ) -> ManufacturingReport:
        """DFM findings and a quote for one part (STEP, STL or a part script) by ``method`` at ``quantity``.

        ``options``: ``tolerance_class`` (ISO 2768 ``f``/``m``/``c``/``v``), ``finish`` (``as_machined``,
        ``bead_blast``, ``anodise``, ``powder_coat``), ``sharp_corners``, ``tooling_class``, ``pull_axis``
        (:class:`shared.models.AnalyzeRequest`); an unknown one is an :class:`InputError`."""
        if isinstance(part, Path):
            filename = filename or part.name
            part = await asyncio.to_thread(part.read_bytes)
        if filename is None:
            raise InputError("filename: name the part's file (its suffix says its format)")
        unknown = sorted(set(options) - set(ANALYSIS_OPTIONS))
        if unknown:
            raise InputError(f"unknown analysis option(s) {unknown}; known: {', '.join(ANALYSIS_OPTIONS)}")
        data = base64.b64encode(part).decode()
        return await self._agent.analyze_part(filename, data, method, material, quantity, **options)

    async def manifest(self, dataset_id: str) -> DatasetManifest:
        """A finished dataset's manifest (the store only)."""
        from shared.keys import manifest_key
        from shared.store import ObjectNotFound

        try:
            return await asyncio.to_thread(
                self._agent.store.get_model, manifest_key(dataset_id), DatasetManifest
            )
        except (ObjectNotFound, ValueError):
            raise InputError(f"dataset: no finished dataset {dataset_id!r} in the store") from None

    async def export(
        self, dataset_id: str, out: Path, include_rejected: bool = False, force: bool = False
    ) -> Any:
        """Export a dataset as ``mechbench export`` does (the store only); returns its ``ExportSummary``."""
        from workers.export import DatasetRunning, OutputRefused, export_dataset
        from workers.report_data import DatasetNotFound

        try:
            return await asyncio.to_thread(
                export_dataset,
                self._agent.store,
                dataset_id,
                out,
                include_rejected=include_rejected,
                force=force,
                protected=(self.settings.data_dir,),
            )
        except OutputRefused as e:
            raise InputError(f"out: {e}") from None
        except (DatasetNotFound, DatasetRunning, ValueError) as e:
            raise InputError(f"dataset_id: {dataset_id!r}: {e or type(e).__name__}") from None

    async def leaderboard(
        self, dataset_id: str, split: str | None = None, fold: int | None = None
    ) -> Leaderboard:
        """Each submitter's standing on the dataset (or a split's test fold) and the Pareto fronts."""
        from workers.leaderboard import read_leaderboard

        try:
            return await asyncio.to_thread(read_leaderboard, self._agent.store, dataset_id, split, fold)
        except BoundaryError as e:
            raise InputError(str(e)) from None


class SyncClient:
    """:class:`Client`'s methods, blocking: each runs on the client's own event loop in a thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: Client):
        self._loop = loop
        self._client = client
        self.settings = client.settings

    @classmethod
    @contextmanager
    def connect(cls, settings: Settings | None = None, embedded: bool = False) -> Iterator[SyncClient]:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="mechbench-client", daemon=True)
        thread.start()
        stack = AsyncExitStack()

        def call(coro: Coroutine[Any, Any, T]) -> T:
            return asyncio.run_coroutine_threadsafe(coro, loop).result()

        try:
            client = call(stack.enter_async_context(Client.connect(settings, embedded)))
            yield cls(loop, client)
        finally:
            try:
                call(stack.aclose())
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(30)
                loop.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def generate(self, families: list[str], count: int, base_seed: int = 0, **options: Any) -> DatasetResult:
        return self._call(self._client.generate(families, count, base_seed, **options))

    def benchmark(self, family: str, seed: int) -> BenchmarkResult:
        return self._call(self._client.benchmark(family, seed))

    def evaluate(
        self,
        benchmark_id: str,
        script: str | Path | None = None,
        parts: list[dict[str, Any]] | None = None,
        *,
        submitter: str | None = None,
        scenes: int | None = None,
        evidence: bool = True,
    ) -> EvaluationResult:
        return self._call(
            self._client.evaluate(
                benchmark_id, script, parts, submitter=submitter, scenes=scenes, evidence=evidence
            )
        )

    def analyze(
        self,
        part: bytes | Path,
        method: str,
        material: str,
        quantity: int,
        filename: str | None = None,
        **options: Any,
    ) -> ManufacturingReport:
        return self._call(self._client.analyze(part, method, material, quantity, filename, **options))

    def manifest(self, dataset_id: str) -> DatasetManifest:
        return self._call(self._client.manifest(dataset_id))

    def export(self, dataset_id: str, out: Path, include_rejected: bool = False, force: bool = False) -> Any:
        return self._call(self._client.export(dataset_id, out, include_rejected, force))

    def leaderboard(self, dataset_id: str, split: str | None = None, fold: int | None = None) -> Leaderboard:
        return self._call(self._client.leaderboard(dataset_id, split, fold))


def _encoded(part: dict[str, Any]) -> dict[str, Any]:
    """A part as the agent operations take it: ``data`` bytes become ``data_base64``."""
    if "data" in part and "data_base64" not in part:
        rest = {k: v for k, v in part.items() if k != "data"}
        return {**rest, "data_base64": base64.b64encode(part["data"]).decode()}
    return part


def _first_error(e: Exception) -> str:
    from workers.cli.common import validation_message

    return validation_message(e)  # type: ignore[arg-type]
