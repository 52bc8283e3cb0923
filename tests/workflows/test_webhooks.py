"""Completion webhooks: a dataset, an evaluation or an analysis request can name a URL; the result is POSTed
once the work is done, a failing receiver is retried by Temporal, a refusing one does not fail the work, and
the URL's query string (a token) is never logged."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities, http_client
from shared.models import (
    AnalyzeRequest,
    BenchmarkResult,
    DatasetRequest,
    DatasetResult,
    EvaluationResult,
    EvaluationVerdict,
    GenerateBenchmarkRequest,
    ManufacturingReport,
    WebhookRequest,
    redact_url,
)
from shared.store import LocalStore
from shared.temporal import (
    WF_ANALYZE_MANUFACTURING,
    WF_EVALUATE_DESIGN,
    WF_GENERATE_BENCHMARK,
    WF_GENERATE_DATASET,
)

BRACKET = Path(__file__).parents[2] / "examples" / "bracket.step"
TOKEN = "s3cret-token"


@dataclass
class Receiver:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver: ``/ok`` answers 200, ``/flaky`` 503 on its first POST then 200, ``/gone`` 404."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.hits[path] = state.hits.get(path, 0) + 1
            state.posts.append({"path": path, "query": query, "headers": dict(self.headers), "body": body})
            status = {"/ok": 200, "/gone": 404}.get(path, 503 if state.hits[path] == 1 else 200)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _posts(receiver: Receiver, workflow_id: str) -> list[dict[str, Any]]:
    return [p for p in receiver.posts if p["body"]["workflow_id"] == workflow_id]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "http:///no-host",
        "https://user:pw@example.com/hook",
        "https://example.com/a b",
        "https://example.com/\x00",
        "https://example.com:0/hook",
        "https://example.com:99999/hook",
        "https://example.com/" + "a" * 2100,
        "not a url",
    ],
)
def test_webhook_urls_that_cannot_be_a_receiver_are_rejected(url: str) -> None:
    with pytest.raises(ValidationError, match="webhook"):
        DatasetRequest(families=["chute"], count=1, webhook=url)


def test_only_the_redacted_url_is_logged_or_reported(receiver: Receiver) -> None:
    assert (
        redact_url(f"https://hooks.example.com:8443/a/b?token={TOKEN}#frag")
        == "https://hooks.example.com:8443/a/b"
    )

    async def deliver(path: str) -> Any:
        async with http_client() as client:
            req = WebhookRequest(
                url=f"{receiver.url}{path}?token={TOKEN}",
                event="analysis.completed",
                workflow_id=f"direct-{uuid.uuid4().hex[:6]}",
                run_id="r",
                result={"ok": True},
            )
            return await ActivityEnvironment().run(NotifyActivities(client).notify_webhook, req)

    import asyncio

    with structlog.testing.capture_logs() as logs:
        delivered = asyncio.run(deliver("/ok"))
        with pytest.raises(ApplicationError) as refused:
            asyncio.run(deliver("/gone"))
    assert delivered.status == 200 and TOKEN not in delivered.url
    assert refused.value.type == "WebhookRejected" and refused.value.non_retryable
    assert TOKEN not in str(refused.value) and "404" in str(refused.value)
    assert logs and TOKEN not in json.dumps(logs, default=str)


def test_an_unreachable_receiver_is_a_retryable_error_without_the_url() -> None:
    import asyncio

    async def deliver() -> Any:
        async with httpx.AsyncClient(timeout=2) as client:
            req = WebhookRequest(
                url=f"http://127.0.0.1:1/hook?token={TOKEN}",
                event="dataset.completed",
                workflow_id="w",
                run_id="r",
                result={},
            )
            return await ActivityEnvironment().run(NotifyActivities(client).notify_webhook, req)

    with pytest.raises(ApplicationError) as info:
        asyncio.run(deliver())
    assert info.value.type == "WebhookUnavailable" and not info.value.non_retryable
    assert TOKEN not in str(info.value)


@pytest.mark.temporal
async def test_an_analysis_posts_its_report(temporal_env, worker_queue, test_settings, receiver) -> None:  # type: ignore[no-untyped-def]
    part = test_settings.part_roots[0] / "webhook-bracket.step"
    shutil.copy(BRACKET, part)
    wf_id = f"webhook-analysis-{uuid.uuid4().hex[:6]}"
    req = AnalyzeRequest(
        part={"path": str(part)},  # type: ignore[arg-type]
        method="cnc",
        material="aluminum_6061",
        quantity=50,
        webhook=f"{receiver.url}/ok?token={TOKEN}",
    )
    report: ManufacturingReport = await temporal_env.client.execute_workflow(
        WF_ANALYZE_MANUFACTURING, req, id=wf_id, task_queue=worker_queue, result_type=ManufacturingReport
    )
    (post,) = _posts(receiver, wf_id)
    assert post["body"]["event"] == "analysis.completed"
    assert post["body"]["result"]["analysis_id"] == report.analysis_id
    assert post["query"] == f"token={TOKEN}" and post["headers"]["Idempotency-Key"].startswith(f"{wf_id}/")
    # who is notified does not change what the analysis is
    again = await temporal_env.client.execute_workflow(
        WF_ANALYZE_MANUFACTURING,
        req.model_copy(update={"webhook": None}),
        id=f"{wf_id}-again",
        task_queue=worker_queue,
        result_type=ManufacturingReport,
    )
    assert again.analysis_id == report.analysis_id


@pytest.mark.temporal
async def test_a_dataset_retries_a_failing_receiver(
    temporal_env, worker_queue, test_settings, receiver
) -> None:  # type: ignore[no-untyped-def]
    wf_id = f"webhook-dataset-{uuid.uuid4().hex[:6]}"
    req = DatasetRequest(
        families=["chute"],
        count=1,
        base_seed=0,
        dataset_id=f"hook-{uuid.uuid4().hex[:6]}",
        webhook=f"{receiver.url}/flaky?token={TOKEN}",
    )
    result: DatasetResult = await temporal_env.client.execute_workflow(
        WF_GENERATE_DATASET, req, id=wf_id, task_queue=worker_queue, result_type=DatasetResult
    )
    posts = _posts(receiver, wf_id)
    assert len(posts) == 2, "the 503 was retried by Temporal"
    assert all(p["body"]["event"] == "dataset.completed" for p in posts)
    assert posts[-1]["body"]["result"]["manifest"]["key"] == result.manifest.key
    manifest = LocalStore(test_settings.local_store_dir).get_json(result.manifest.key)
    assert TOKEN not in json.dumps(manifest), "the manifest keeps no webhook token"


@pytest.mark.temporal
async def test_a_refusing_receiver_does_not_fail_an_evaluation(  # type: ignore[no-untyped-def]
    temporal_env, worker_queue, test_settings, receiver
) -> None:
    client = temporal_env.client
    published: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="chute", seed=0),
        id=f"webhook-bench-{uuid.uuid4().hex[:6]}",
        task_queue=worker_queue,
        result_type=BenchmarkResult,
    )
    part = test_settings.part_roots[0] / "webhook-chute.step"
    part.write_bytes(
        LocalStore(test_settings.local_store_dir).get_bytes(
            f"benchmarks/{published.benchmark_id}/parts/chute.step"
        )
    )
    wf_id = f"webhook-evaluation-{uuid.uuid4().hex[:6]}"
    req = {
        "benchmark_id": published.benchmark_id,
        "design": {
            "parts": [
                {
                    "source": {"path": str(part)},
                    "metadata": {"label": "hook", "material": "unobtainium", "method": "cnc"},
                }
            ]
        },
        "webhook": f"{receiver.url}/gone?token={TOKEN}",
    }
    result: EvaluationResult = await client.execute_workflow(
        WF_EVALUATE_DESIGN, req, id=wf_id, task_queue=worker_queue, result_type=EvaluationResult
    )
    assert result.verdict == EvaluationVerdict.INVALID
    (post,) = _posts(receiver, wf_id)  # a 404 is final: one POST, no retries
    assert post["body"]["event"] == "evaluation.completed"
    assert post["body"]["result"]["evaluation_id"] == result.evaluation_id
