"""What an agent can do, in one place: list and read benchmarks (the agent view), evaluate a design sent as
bytes, read an evaluation and its evidence, analyse a part, propose a benchmark script.

:mod:`workers.mcp_server` exposes each operation as an MCP tool. Every input is checked here before anything
is stored or started, with the checks the CLI and the workers make (:mod:`shared.boundary`, the request
models); a refusal is an :class:`AgentInputError` whose message begins with the field it is about, and
nothing is uploaded or started. Work runs as the same workflows the CLI starts, under the same workflow ids
(``evaluate-<evaluation id>``, ``analyze-<analysis id>``, ``benchmark-<benchmark id>``), started or attached
to (``USE_EXISTING``), so asking again after a restart gets the same run's result, and a design evaluated
before gets its stored result.

The agent view of a benchmark is the export's (:func:`workers.export.agent_row` through the export's
whitelist): no reference solution, no family parameters, no picture (the stored thumbnail shows the
reference). Files are links: ``mechbench://benchmarks/<id>/fixtures/<label>.step`` and
``mechbench://benchmarks/<id>/scene.glb`` (fixtures only), which :meth:`Agent.read_link` serves.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.boundary import (
    MAX_SCRIPT_BYTES,
    BoundaryError,
    check_stored_part,
    checked_file_name,
    format_of,
    published_benchmark,
    size_limit,
)
from shared.ids import evaluation_workflow_id
from shared.keys import (
    EVIDENCE_FRAMES,
    EVIDENCE_INVALID,
    EVIDENCE_PICTURE,
    EVIDENCE_STRESS,
    evaluation_evidence_key,
    evaluation_result_key,
    manifest_key,
    upload_key,
)
from shared.models import (
    AnalyzeRequest,
    BenchmarkResult,
    DatasetEntry,
    DatasetManifest,
    EvaluateRequest,
    EvaluationProgress,
    EvaluationResult,
    GenerateBenchmarkRequest,
    ManufacturingReport,
    PartSource,
    Verdict,
)
from shared.models.common import ID_PATTERN
from shared.refs import make_ref, sha256_hex
from shared.settings import Settings
from shared.splits import split_problem
from shared.store import ObjectNotFound, ObjectStore
from workers.agent_input import (
    AgentInputError,
    AgentWorkFailed,
    decoded,
    design_of,
    evaluation_id_of,
    refused,
)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
LINK = re.compile(
    r"^mechbench://benchmarks/(?P<id>[A-Za-z0-9._-]+)/(?:fixtures/(?P<label>[^/]+)\.step|scene\.glb)$"
)
EVIDENCE = (EVIDENCE_PICTURE, EVIDENCE_FRAMES, EVIDENCE_STRESS, EVIDENCE_INVALID)
"""The evidence an agent can look at: the picture of the representative scene, its frame strip and (in a
structural benchmark) the critical part's stress map, or an invalid design's picture with the offending parts
in red."""


ANALYSIS_OPTIONS = ("tolerance_class", "finish", "sharp_corners", "tooling_class", "pull_axis")
"""The :class:`~shared.models.AnalyzeRequest` options :meth:`Agent.analyze_part` takes by keyword."""


@dataclass
class Agent:
    """The operations, over one Temporal client and the object store of ``settings``."""

    settings: Settings
    client: Any
    store: ObjectStore

    # --- benchmarks ----------------------------------------------------------------------------

    async def list_benchmarks(
        self,
        dataset: str | None = None,
        family: str | None = None,
        level: int | None = None,
        split: str | None = None,
        fold: int | None = None,
        held_out: bool = True,
        page: int = 0,
        page_size: int = PAGE_SIZE,
    ) -> dict[str, Any]:
        """Published benchmarks, by id, a page at a time; from a dataset's manifest (which knows levels and
        folds) or, without ``dataset``, every published benchmark in the store. With ``split`` and ``fold``
        (a dataset's), the fold's benchmarks (``held_out``: its test set) or the rest (its training set)."""
        if page < 0:
            raise AgentInputError("page: must be 0 or more")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise AgentInputError(f"page_size: between 1 and {MAX_PAGE_SIZE}")
        if (problem := split_problem(split, fold)) is not None:
            raise AgentInputError(problem)
        if split is not None and dataset is None:
            raise AgentInputError("split: folds belong to a dataset; give dataset too")
        entries = await asyncio.to_thread(self._entries, dataset)
        chosen = [
            e
            for e in entries
            if (family is None or e.family == family)
            and (level is None or e.level == level)
            and (split is None or (getattr(e, f"{split}_fold") == fold) == held_out)
        ]
        rows = chosen[page * page_size : (page + 1) * page_size]
        return {
            "total": len(chosen),
            "page": page,
            "page_size": page_size,
            "benchmarks": [
                {"id": e.benchmark_id, "family": e.family, "seed": e.seed, "level": e.level} for e in rows
            ],
        }

    def _entries(self, dataset: str | None) -> list[DatasetEntry]:
        if dataset is not None:
            try:
                manifest = self.store.get_model(manifest_key(dataset), DatasetManifest)
            except (ObjectNotFound, ValueError):
                raise AgentInputError(f"dataset: no finished dataset {dataset!r} in the store") from None
            return sorted(
                (e for e in manifest.entries if e.verdict == Verdict.PUBLISHED), key=lambda e: e.benchmark_id
            )
        found = []
        for key in sorted(self.store.list("benchmarks/")):
            if not key.endswith("/result.json"):
                continue
            try:
                r = self.store.get_model(key, BenchmarkResult)
            except (ObjectNotFound, ValueError):
                continue
            if r.verdict == Verdict.PUBLISHED:
                found.append(_entry_of(r))
        return found

    async def get_benchmark(self, benchmark_id: str) -> dict[str, Any]:
        """The agent view of a published benchmark."""
        from workers.export import agent_row, whitelisted
        from workers.report_data import BenchmarkCard, stored_definition

        result = await self._published(benchmark_id)
        definition = await asyncio.to_thread(stored_definition, self.store, benchmark_id, result)
        card = BenchmarkCard(entry=_entry_of(result), result=result, definition=definition)
        base = f"mechbench://benchmarks/{benchmark_id}"
        row = agent_row(
            card,
            result.generator_version,
            lambda p: f"{base}/fixtures/{p.label}.step" if p.step is not None else None,
            lambda d: f"{base}/scene.glb" if d.artifacts.scene_glb is not None else None,
        )
        view = whitelisted(row)
        view.pop("index", None)  # a dataset's position: not a property of the benchmark
        view["note"] = (
            "No reference solution, family parameters or picture: the stored picture shows the reference. "
            "simulation.jitter_seed is the published scenes' seed: evaluations without a submitter run on them. "
            "An evaluation with a submitter (a leaderboard attempt) runs on held-out scenes whose jitter seed "
            "this view does not reveal."
        )
        return view

    async def read_link(self, link: str) -> tuple[bytes, str]:
        """The bytes and MIME type behind a link of the agent view (a fixture's STEP, the fixtures-only GLB)."""
        from workers.export import fixtures_only_glb
        from workers.report_data import stored_definition

        match = LINK.match(link)
        if match is None:
            raise AgentInputError(f"uri: not a link of the agent view: {link!r}")
        result = await self._published(match["id"])
        d = await asyncio.to_thread(stored_definition, self.store, match["id"], result)
        if d is None:
            raise AgentInputError(f"uri: {match['id']} has no stored definition")
        if match["label"] is None:
            glb = await asyncio.to_thread(fixtures_only_glb, self.store, d)
            if glb is None:
                raise AgentInputError(f"uri: {match['id']} has no stored scene")
            return glb, "model/gltf-binary"
        part = next((p for p in d.fixtures if p.label == match["label"] and p.step is not None), None)
        if part is None or part.step is None:
            raise AgentInputError(f"uri: {match['id']} has no fixture {match['label']!r}")
        return await asyncio.to_thread(self.store.get_ref, part.step), "model/step"

    async def _published(self, benchmark_id: str) -> BenchmarkResult:
        try:
            return await asyncio.to_thread(published_benchmark, self.store, benchmark_id)
        except BoundaryError as e:
            raise AgentInputError(str(e)) from None

    # --- evaluation ----------------------------------------------------------------------------

    async def evaluate_design(
        self,
        benchmark_id: str,
        script: str | None = None,
        parts: list[dict[str, Any]] | None = None,
        scenes: int | None = None,
        evidence: bool = True,
        submitter: str | None = None,
    ) -> EvaluationResult:
        """Evaluate a design against a published benchmark and wait for the verdict. With a submitter, the
        evaluation is a leaderboard attempt on the benchmark's held-out scenes."""
        from shared.temporal import WF_EVALUATE_DESIGN

        submission, uploads = design_of(script, parts, self.settings)
        try:
            req = EvaluateRequest(
                benchmark_id=benchmark_id,
                design=submission,
                n_scenes=scenes,
                evidence=evidence,
                submitter=submitter,
            )
        except ValidationError as e:
            raise refused(e) from None
        wf_id = evaluation_workflow_id(await self._evaluation_id(req), req.submitter)
        for key, data in uploads:  # every check passed: content-addressed, atomic writes
            await asyncio.to_thread(self.store.put_bytes, key, data)
        return await self.run_workflow(
            WF_EVALUATE_DESIGN, req, wf_id, EvaluationResult, f"evaluate {benchmark_id}"
        )

    async def _evaluation_id(self, req: EvaluateRequest) -> str:
        published = await self._published(req.benchmark_id)
        try:
            return evaluation_id_of(req, published)
        except BoundaryError as e:
            raise AgentInputError(str(e)) from None

    async def get_evaluation(self, evaluation_id: str, submitter: str | None = None) -> dict[str, Any]:
        """A finished evaluation's result, or a running one's stage (a submitter's: give the submitter)."""
        if not re.fullmatch(ID_PATTERN, evaluation_id):
            raise AgentInputError(f"evaluation_id: {evaluation_id!r} is not an evaluation id")
        if submitter is not None and not re.fullmatch(ID_PATTERN, submitter):
            raise AgentInputError(f"submitter: {submitter!r} is not a submitter name")
        try:
            result = await asyncio.to_thread(
                self.store.get_model, evaluation_result_key(evaluation_id), EvaluationResult
            )
            return {"status": "finished", "result": result.model_dump(mode="json")}
        except ObjectNotFound:
            pass
        handle = self.client.get_workflow_handle(evaluation_workflow_id(evaluation_id, submitter))
        try:
            progress = await handle.query("progress", result_type=EvaluationProgress)
        except Exception:  # noqa: BLE001 - no such workflow, or it ended without a stored result
            raise AgentInputError(f"evaluation_id: no evaluation {evaluation_id!r}") from None
        return {"status": "running", "progress": progress.model_dump(mode="json")}

    async def get_evidence(self, evaluation_id: str) -> list[tuple[str, bytes]]:
        """The pictures of a finished evaluation (:data:`EVIDENCE`), as PNG bytes."""
        found = await self.get_evaluation(evaluation_id)
        if found["status"] != "finished":
            raise AgentInputError(f"evaluation_id: {evaluation_id!r} is still running")
        images = []
        for name in EVIDENCE:
            try:
                data = await asyncio.to_thread(
                    self.store.get_bytes, evaluation_evidence_key(evaluation_id, name)
                )
            except ObjectNotFound:
                continue
            images.append((name, data))
        if not images:
            raise AgentInputError(
                f"evaluation_id: {evaluation_id!r} has no pictures (evaluated without evidence, a design that "
                "could not be built, or rendered without a GL context)"
            )
        return images

    # --- manufacturing and authoring -----------------------------------------------------------

    async def analyze_part(
        self,
        filename: str,
        data_base64: str,
        method: str,
        material: str,
        quantity: int,
        *,
        tolerance_class: str | None = None,
        finish: str | None = None,
        sharp_corners: bool = False,
        tooling_class: str | None = None,
        pull_axis: list[float] | None = None,
    ) -> ManufacturingReport:
        """DFM findings and a quote for one part (STEP, STL or a part script), at the requested method and
        quantity; the options are :class:`~shared.models.AnalyzeRequest`'s of the same names."""
        from shared.materials import check_analysis
        from shared.temporal import WF_ANALYZE_MANUFACTURING
        from workflows.manufacturing import analysis_id

        try:
            name = checked_file_name(filename, "filename")
            fmt = format_of(name, "filename")
            data = decoded(data_base64, "data_base64", size_limit(fmt, self.settings))
            check_stored_part(data, fmt, self.settings, "data_base64", name)
            key = upload_key(sha256_hex(data), "." + name.rsplit(".", 1)[1].lower())
            req = AnalyzeRequest(
                part=PartSource(artifact=make_ref(key, data), filename=name),
                method=method,
                material=material,
                quantity=quantity,
                tolerance_class=tolerance_class,
                finish=finish,
                sharp_corners=sharp_corners,
                tooling_class=tooling_class,
                pull_axis=pull_axis,
            )
        except (BoundaryError, ValidationError) as e:
            raise refused(e) from None
        problem = check_analysis(req.material, req.method, req.finish)
        if problem:
            raise AgentInputError(problem)
        wf_id = f"analyze-{analysis_id(req, sha256_hex(data))}"
        await asyncio.to_thread(self.store.put_bytes, key, data)
        return await self.run_workflow(
            WF_ANALYZE_MANUFACTURING, req, wf_id, ManufacturingReport, f"analyze {name}"
        )

    async def propose_benchmark(self, script: str) -> BenchmarkResult:
        """Run every proof a family's benchmark passes on a benchmark script; the verdict with its numbers."""
        from shared.families import GENERATOR_VERSION
        from shared.ids import script_benchmark_id
        from shared.temporal import WF_GENERATE_BENCHMARK

        data = script.encode("utf-8", errors="surrogatepass")
        try:
            if len(data) > MAX_SCRIPT_BYTES:
                raise AgentInputError(f"script: {len(data)} bytes, more than {MAX_SCRIPT_BYTES}")
            check_stored_part(data, "script", self.settings, "script", "benchmark.py")
            key = upload_key(sha256_hex(data), ".py")
            req = GenerateBenchmarkRequest(
                script=PartSource(artifact=make_ref(key, data), filename="benchmark.py")
            )
        except (BoundaryError, ValidationError) as e:
            raise refused(e) from None
        wf_id = f"benchmark-{script_benchmark_id(sha256_hex(data), GENERATOR_VERSION)}"
        await asyncio.to_thread(self.store.put_bytes, key, data)
        return await self.run_workflow(
            WF_GENERATE_BENCHMARK, req, wf_id, BenchmarkResult, "propose a benchmark script"
        )

    async def run_workflow(
        self, workflow: str, req: BaseModel, wf_id: str, result_type: type, summary: str
    ) -> Any:
        """Start ``workflow`` under ``wf_id``, or attach to the run going under it, and wait for its result; a
        failed workflow raises its innermost typed error."""
        from temporalio.client import WorkflowFailureError

        from workers.cli.common import EXIT_BAD_INPUT, workflow_failure
        from workers.cli.runner import start_or_attach

        handle = await start_or_attach(self.client, self.settings, workflow, req, wf_id, result_type, summary)
        try:
            return await handle.result()
        except WorkflowFailureError as e:
            failure = workflow_failure(e, wf_id, None)
            if failure.code == EXIT_BAD_INPUT:  # the input, as the workflow's own check says it
                raise AgentInputError(failure.message) from None
            raise AgentWorkFailed(f"{failure.error_type}: {failure.message}") from None


def _entry_of(result: BenchmarkResult) -> DatasetEntry:
    """A benchmark outside any dataset, as a manifest entry would list it (no folds)."""
    d = result.difficulty
    return DatasetEntry(
        index=0,
        benchmark_id=result.benchmark_id,
        family=result.family,
        seed=result.seed,
        verdict=result.verdict,
        level=d.level if d is not None else None,
    )
