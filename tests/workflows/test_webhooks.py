"""Completion webhooks: a dataset, an evaluation or an analysis request names a target configured on the worker
or a URL without secrets; the result is POSTed once the work is done, a failing receiver is retried by
Temporal, a refusing one does not fail the work, internal addresses are never reached, and no token reaches
the workflow's history or the logs."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import shutil
import socket
import ssl
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from pydantic import SecretStr, ValidationError
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.egress import DestinationRefused, GuardedBackend
from activities.egress import http_client as guarded_client
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
from shared.settings import Settings
from shared.store import LocalStore
from shared.temporal import (
    WF_ANALYZE_MANUFACTURING,
    WF_EVALUATE_DESIGN,
    WF_GENERATE_BENCHMARK,
    WF_GENERATE_DATASET,
)
from shared.webhooks import PATCH_NO_SECRET_URLS, address_refusal
from tests.helpers import application_error

BRACKET = Path(__file__).parents[2] / "examples" / "bracket.step"
TOKEN = "s3cret-token"
LOCAL = [ipaddress.ip_network("127.0.0.1/32")]
"""What the tests allow: only the receiver's own address (not the rest of loopback, not ::1)."""


@dataclass
class Receiver:
    url: str
    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)


def _serve(host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> tuple[Receiver, Any]:
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

    server = ThreadingHTTPServer((host, port), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    state.url = f"{'https' if tls else 'http'}://{host}:{state.port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state, server = _serve()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
async def hook_queue(temporal_env, test_settings, receiver) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """A worker whose settings name three targets (each URL with a token) and allow the local receiver."""
    from workers.worker import running_worker

    settings: Settings = test_settings.model_copy(
        update={
            "webhook_allow_networks": LOCAL,
            "webhook_targets": {
                name: SecretStr(f"{receiver.url}/{path}?token={TOKEN}")
                for name, path in (("hooks", "ok"), ("flaky", "flaky"), ("gone", "gone"))
            },
        }
    )
    queue = f"hooks-{uuid.uuid4().hex[:8]}"
    async with running_worker(temporal_env.client, settings, task_queue=queue):
        yield queue


def _posts(receiver: Receiver, workflow_id: str) -> list[dict[str, Any]]:
    return [p for p in receiver.posts if p["body"]["workflow_id"] == workflow_id]


async def _history_json(client: Any, workflow_id: str) -> str:
    """The workflow's real history as the dev server keeps it, with every payload (inputs, results, failures,
    summaries) decoded to text, for a search."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    text = history.to_json()
    decoded: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and "metadata" in node:  # a payload
                decoded.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(text))
    assert decoded, "the history has payloads"
    return "\n".join([text, *decoded])


def _deliver(client: httpx.AsyncClient, url: str, targets: dict[str, SecretStr] | None = None) -> Any:
    req = WebhookRequest(
        url=url,
        event="analysis.completed",
        workflow_id=f"direct-{uuid.uuid4().hex[:6]}",
        run_id="r",
        result={"ok": True},
    )

    async def run() -> Any:
        async with client:
            return await ActivityEnvironment().run(NotifyActivities(client, targets).notify_webhook, req)

    return asyncio.run(run())


# --- what a request may name ------------------------------------------------------------------------------


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
        "Ops Target",
        # a request is kept in the workflow's history: no secret may ride in its URL
        f"https://hooks.example.com/mechbench?token={TOKEN}",
        "https://hooks.example.com/mechbench?",
        f"https://hooks.example.com/mechbench#{TOKEN}",
    ],
)
def test_webhooks_that_cannot_be_a_receiver_are_rejected(url: str) -> None:
    with pytest.raises(ValidationError, match="webhook") as info:
        DatasetRequest(families=["chute"], count=1, webhook=url)
    if "token" in url:
        assert "MECHBENCH_WEBHOOK_TARGETS" in str(info.value)


@pytest.mark.parametrize("webhook", ["ops", "team-a.hooks", "https://hooks.example.com/mechbench"])
def test_a_request_names_a_target_or_a_url_without_secrets(webhook: str) -> None:
    assert DatasetRequest(families=["chute"], count=1, webhook=webhook).webhook == webhook
    # the activity's input still takes a URL recorded before query strings were refused (in-flight work)
    WebhookRequest(url=f"http://127.0.0.1:1/hook?token={TOKEN}", event="dataset.completed", workflow_id="w",
                   run_id="r", result={})  # fmt: skip


def test_targets_are_checked_and_stay_secret() -> None:
    settings = Settings(webhook_targets={"ops": f"https://hooks.example.com/m?token={TOKEN}"})
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())
    # job processes get the settings over a pipe, secrets included
    assert (
        Settings.model_validate_json(settings.to_private_json()).webhook_targets == settings.webhook_targets
    )
    for targets, message in (
        ({"Not A Name": "https://hooks.example.com/"}, "target name"),
        ({"ops": f"ftp://hooks.example.com/?token={TOKEN}"}, "ops: an http:// or https:// URL"),
    ):
        with pytest.raises(ValidationError, match=message) as info:
            Settings(webhook_targets=targets)
        assert TOKEN not in str(info.value)


# --- where a notification may go --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),  # deprecated site-local, global to Python 3.11
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "not publicly routable"),  # carrier-grade NAT
        ("192.0.2.1", "private"),  # documentation
        ("224.0.0.1", "multicast"),
        ("ff0e::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
    ],
)
def test_internal_addresses_are_refused(address: str, reason: str) -> None:
    ip = ipaddress.ip_address(address)
    assert address_refusal(ip) == reason
    # allowing one network opens only that network; unspecified and multicast never
    everything = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    assert (address_refusal(ip, everything) is None) == (reason not in ("unspecified", "multicast"))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:85e5", "::ffff:93.184.215.14"])
def test_public_addresses_are_reached(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("0x7f000001", "loopback"),  # hexadecimal
        ("2130706433", "loopback"),  # decimal
        ("0177.0.0.1", "loopback"),  # octal
        ("127.1", "loopback"),
        ("localhost", "loopback"),  # a name that resolves to loopback
        ("[::1]", "loopback"),
        ("::ffff:7f00:1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.1.2.3", "private"),
        ("0.0.0.0", "unspecified"),
    ],
)
async def test_the_guard_checks_what_a_host_resolves_to(host: str, reason: str) -> None:
    """Checked without connecting: the system resolver (no DNS query for these) and the literal forms."""
    with pytest.raises(DestinationRefused) as info:
        await GuardedBackend().checked_addresses(host, 80)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "0x7f000001", "2130706433", "[::ffff:127.0.0.1]", "localhost", "0.0.0.0", "[::1]"]
)
def test_loopback_never_receives_a_notification(receiver: Receiver, host: str) -> None:
    """A receiver listens on 127.0.0.1; every spelling of it is refused before anything is sent, finally, with
    no status of the target in the error."""
    before = dict(receiver.hits)
    with pytest.raises(ApplicationError) as refused:
        _deliver(http_client(Settings()), f"http://{host}:{receiver.port}/ok")
    assert refused.value.type == "WebhookRefused" and refused.value.non_retryable
    assert "not sent" in str(refused.value) and "200" not in str(refused.value)
    assert receiver.hits == before, "nothing reached the receiver"


def test_a_name_is_resolved_once_and_its_checked_address_is_the_one_connected() -> None:
    """DNS rebinding: the resolver answers an allowed address first and a refused one after. The notification
    goes to the checked address (the Host header keeps the name), and no second lookup is made."""
    good, good_server = _serve("127.0.0.1")
    for _ in range(20):  # the same port on another loopback address, where a rebinding name would point
        try:
            bad, bad_server = _serve("127.0.0.2", good.port)
            break
        except OSError:
            good_server.shutdown()
            good_server.server_close()
            good, good_server = _serve("127.0.0.1")
    else:
        pytest.skip("no port free on both 127.0.0.1 and 127.0.0.2")
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["127.0.0.2"]

    async def flipped(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.2"] if len(lookups) == 1 else ["127.0.0.1"]

    async def mixed(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "127.0.0.2"]

    try:
        url = f"http://hooks.rebind.test:{good.port}/ok"
        delivered = _deliver(guarded_client(LOCAL, resolver=rebinding), url)
        assert delivered.status == 200 and lookups == ["hooks.rebind.test"]
        (post,) = good.posts
        assert post["headers"]["Host"] == f"hooks.rebind.test:{good.port}"
        # refused on the first answer: the second (allowed) one is never asked for
        lookups.clear()
        with pytest.raises(ApplicationError, match="not sent"):
            _deliver(guarded_client(LOCAL, resolver=flipped), url)
        assert lookups == ["hooks.rebind.test"]
        # a name that resolves to an allowed and a refused address is refused whole
        with pytest.raises(ApplicationError, match="not sent"):
            _deliver(guarded_client(LOCAL, resolver=mixed), url)
        assert bad.posts == [] and len(good.posts) == 1
    finally:
        for server in (good_server, bad_server):
            server.shutdown()
            server.server_close()


def test_https_keeps_the_name_for_sni_and_the_certificate(tmp_path: Path) -> None:
    """Connecting to the checked address does not change TLS: the server sees the name as SNI and the client
    verifies a certificate issued to the name (not to the address)."""
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    name = "hooks.tls.test"
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    seen: list[str | None] = []
    server_tls.sni_callback = lambda sock, server_name, ctx: seen.append(server_name)  # type: ignore[assignment,misc,return-value]
    tls_receiver, server = _serve(tls=server_tls)

    async def to_loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    try:
        delivered = _deliver(
            guarded_client(LOCAL, resolver=to_loopback, ssl_context=trust),
            f"https://{name}:{tls_receiver.port}/ok",
        )
        assert delivered.status == 200 and seen == [name]
        assert tls_receiver.posts[0]["headers"]["Host"] == f"{name}:{tls_receiver.port}"
    finally:
        server.shutdown()
        server.server_close()


def test_only_the_redacted_url_or_the_target_name_is_logged_or_reported(receiver: Receiver) -> None:
    assert (
        redact_url(f"https://hooks.example.com:8443/a/b?token={TOKEN}#frag")
        == "https://hooks.example.com:8443/a/b"
    )
    targets = {
        "hooks": SecretStr(f"{receiver.url}/ok?token={TOKEN}"),
        "gone": SecretStr(f"{receiver.url}/gone?token={TOKEN}"),
    }
    local = Settings(webhook_allow_networks=LOCAL)
    with structlog.testing.capture_logs() as logs:
        delivered = _deliver(http_client(local), "hooks", targets)
        with pytest.raises(ApplicationError) as refused:
            _deliver(http_client(local), "gone", targets)
        with pytest.raises(ApplicationError) as unknown:
            _deliver(http_client(local), "nobody", targets)
    assert delivered.status == 200 and delivered.url == "target hooks"
    assert refused.value.type == "WebhookRejected" and refused.value.non_retryable
    assert "404" in str(refused.value) and "target gone" in str(refused.value)
    assert unknown.value.type == "WebhookRefused" and unknown.value.non_retryable
    assert "nobody" in str(unknown.value) and "MECHBENCH_WEBHOOK_TARGETS" in str(unknown.value)
    for text in (str(refused.value), str(unknown.value), json.dumps(logs, default=str)):
        assert TOKEN not in text and str(receiver.port) not in text
    assert logs


def test_an_unreachable_receiver_is_a_retryable_error_without_the_url() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ApplicationError) as info:
        _deliver(http_client(Settings(webhook_allow_networks=LOCAL)), "down",
                 {"down": SecretStr(f"http://127.0.0.1:{port}/hook?token={TOKEN}")})  # fmt: skip
    assert info.value.type == "WebhookUnavailable" and not info.value.non_retryable
    assert TOKEN not in str(info.value)


# --- through the workflows --------------------------------------------------------------------------------


@pytest.mark.temporal
async def test_an_analysis_posts_its_report_and_its_history_keeps_no_token(  # type: ignore[no-untyped-def]
    temporal_env, hook_queue, test_settings, receiver
) -> None:
    part = test_settings.part_roots[0] / "webhook-bracket.step"
    shutil.copy(BRACKET, part)
    wf_id = f"webhook-analysis-{uuid.uuid4().hex[:6]}"
    req = AnalyzeRequest(
        part={"path": str(part)},  # type: ignore[arg-type]
        method="cnc",
        material="aluminum_6061",
        quantity=50,
        webhook="hooks",
    )
    report: ManufacturingReport = await temporal_env.client.execute_workflow(
        WF_ANALYZE_MANUFACTURING, req, id=wf_id, task_queue=hook_queue, result_type=ManufacturingReport
    )
    (post,) = _posts(receiver, wf_id)
    assert post["body"]["event"] == "analysis.completed"
    assert post["body"]["result"]["analysis_id"] == report.analysis_id
    assert post["query"] == f"token={TOKEN}" and post["headers"]["Idempotency-Key"].startswith(f"{wf_id}/")
    history = await _history_json(temporal_env.client, wf_id)
    assert "target hooks" in history  # the notification is there, by name
    assert TOKEN not in history and f":{receiver.port}/" not in history
    # who is notified does not change what the analysis is
    again = await temporal_env.client.execute_workflow(
        WF_ANALYZE_MANUFACTURING,
        req.model_copy(update={"webhook": None}),
        id=f"{wf_id}-again",
        task_queue=hook_queue,
        result_type=ManufacturingReport,
    )
    assert again.analysis_id == report.analysis_id


@pytest.mark.temporal
async def test_a_new_request_with_a_token_in_its_url_is_refused_at_once(  # type: ignore[no-untyped-def]
    temporal_env, hook_queue, receiver
) -> None:
    """From ``temporal workflow start`` (raw JSON, no client-side model): InvalidRequest before any work, and
    nothing is sent; the patch marker tells replays of older histories apart."""
    wf_id = f"webhook-secret-{uuid.uuid4().hex[:6]}"
    raw = {
        "part": {"path": "/nowhere/part.step"},
        "method": "cnc",
        "material": "aluminum_6061",
        "quantity": 1,
        "webhook": f"{receiver.url}/ok?token={TOKEN}",
    }
    with pytest.raises(WorkflowFailureError) as failure:
        await temporal_env.client.execute_workflow(
            WF_ANALYZE_MANUFACTURING, raw, id=wf_id, task_queue=hook_queue
        )
    error = application_error(failure.value)
    assert error.type == "InvalidRequest" and "webhook" in error.message
    assert "MECHBENCH_WEBHOOK_TARGETS" in error.message and TOKEN not in error.message
    assert PATCH_NO_SECRET_URLS in await _history_json(temporal_env.client, wf_id)
    assert _posts(receiver, wf_id) == []


@pytest.mark.temporal
async def test_a_dataset_retries_a_failing_receiver(  # type: ignore[no-untyped-def]
    temporal_env, hook_queue, test_settings, receiver
) -> None:
    wf_id = f"webhook-dataset-{uuid.uuid4().hex[:6]}"
    req = DatasetRequest(
        families=["chute"], count=1, base_seed=0, dataset_id=f"hook-{uuid.uuid4().hex[:6]}", webhook="flaky"
    )
    result: DatasetResult = await temporal_env.client.execute_workflow(
        WF_GENERATE_DATASET, req, id=wf_id, task_queue=hook_queue, result_type=DatasetResult
    )
    posts = _posts(receiver, wf_id)
    assert len(posts) == 2, "the 503 was retried by Temporal"
    assert all(p["body"]["event"] == "dataset.completed" and p["query"] == f"token={TOKEN}" for p in posts)
    assert posts[-1]["body"]["result"]["manifest"]["key"] == result.manifest.key
    manifest = LocalStore(test_settings.local_store_dir).get_json(result.manifest.key)
    assert TOKEN not in json.dumps(manifest), "the manifest keeps no webhook token"
    assert TOKEN not in await _history_json(temporal_env.client, wf_id)


@pytest.mark.temporal
async def test_a_refused_destination_is_final_and_does_not_fail_the_work(  # type: ignore[no-untyped-def]
    temporal_env, hook_queue, test_settings, receiver
) -> None:
    """0.0.0.0 reaches this machine's receiver on Linux: it is refused once, without retries, with no status
    of the target in the history, and the analysis completes."""
    part = test_settings.part_roots[0] / "webhook-refused.step"
    shutil.copy(BRACKET, part)
    wf_id = f"webhook-refused-{uuid.uuid4().hex[:6]}"
    req = AnalyzeRequest(
        part={"path": str(part)},  # type: ignore[arg-type]
        method="cnc",
        material="aluminum_6061",
        quantity=7,
        webhook=f"http://0.0.0.0:{receiver.port}/ok",
    )
    await temporal_env.client.execute_workflow(
        WF_ANALYZE_MANUFACTURING, req, id=wf_id, task_queue=hook_queue, result_type=ManufacturingReport
    )
    history = await temporal_env.client.get_workflow_handle(wf_id).fetch_history()
    failures = [
        e.activity_task_failed_event_attributes.failure
        for e in history.events
        if e.HasField("activity_task_failed_event_attributes")
    ]
    (failure,) = failures
    assert failure.application_failure_info.type == "WebhookRefused"
    assert failure.application_failure_info.non_retryable and "unspecified" in failure.message
    assert "answered" not in history.to_json() and _posts(receiver, wf_id) == []


@pytest.mark.temporal
async def test_a_refusing_receiver_does_not_fail_an_evaluation(  # type: ignore[no-untyped-def]
    temporal_env, hook_queue, test_settings, receiver
) -> None:
    client = temporal_env.client
    published: BenchmarkResult = await client.execute_workflow(
        WF_GENERATE_BENCHMARK,
        GenerateBenchmarkRequest(family="chute", seed=0),
        id=f"webhook-bench-{uuid.uuid4().hex[:6]}",
        task_queue=hook_queue,
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
        "webhook": "gone",
    }
    result: EvaluationResult = await client.execute_workflow(
        WF_EVALUATE_DESIGN, req, id=wf_id, task_queue=hook_queue, result_type=EvaluationResult
    )
    assert result.verdict == EvaluationVerdict.INVALID
    (post,) = _posts(receiver, wf_id)  # a 404 is final: one POST, no retries
    assert post["body"]["event"] == "evaluation.completed"
    assert post["body"]["result"]["evaluation_id"] == result.evaluation_id
    assert TOKEN not in await _history_json(client, wf_id)
