"""``mechbench mcp`` through the SDK's own client over stdio, against the session's server and worker: an agent
lists, reads (no trace of the reference), evaluates a good and a bad design, sees the evidence as images,
and analyses a part; bad input is a tool error naming its field, with nothing stored or started, and the
server keeps serving."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from engines.cad.export import step_bytes
from engines.cad.primitives import box
from shared.boundary import MAX_SCRIPT_BYTES
from shared.keys import upload_key
from shared.models import BenchmarkDefinition, EvaluationVerdict
from shared.refs import sha256_hex
from shared.store import LocalStore
from tests.helpers import publish_chute, run_cli, session_cli_env
from workers.mcp_server import BearerGuard

pytestmark = pytest.mark.temporal

REPO = Path(__file__).parents[2]
DESIGNS = REPO / "examples" / "designs"
TOOLS = {
    "list_benchmarks",
    "get_benchmark",
    "evaluate_design",
    "get_evaluation",
    "get_evidence",
    "analyze_part",
    "propose_benchmark",
}


@pytest.fixture(scope="module")
async def published(temporal_env, worker_queue):  # type: ignore[no-untyped-def]
    return await publish_chute(temporal_env.client, worker_queue)


@pytest.fixture
def server(temporal_env, worker_queue, test_settings) -> StdioServerParameters:  # type: ignore[no-untyped-def]
    env = {
        "PATH": "/usr/bin:/bin",
        "MECHBENCH_DATA_DIR": str(test_settings.data_dir),
        **session_cli_env(temporal_env, worker_queue, test_settings),
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "workers.cli", "mcp"], env=env, cwd=str(test_settings.data_dir)
    )


@asynccontextmanager
async def session(server: StdioServerParameters) -> AsyncIterator[ClientSession]:
    async with stdio_client(server) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        yield s


async def call(s: ClientSession, tool: str, **arguments: object) -> dict:  # type: ignore[type-arg]
    result = await s.call_tool(tool, arguments)
    assert not result.is_error, [getattr(c, "text", c) for c in result.content]
    return result.structured_content  # type: ignore[no-any-return]


async def refusal(s: ClientSession, tool: str, **arguments: object) -> str:
    result = await s.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_an_agent_lists_reads_evaluates_analyses_and_sees_images(
    server, published, test_settings
) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(test_settings.local_store_dir)
    definition = store.get_model(published.definition.key, BenchmarkDefinition)
    async with session(server) as s:
        assert {t.name for t in (await s.list_tools()).tools} == TOOLS

        listed = await call(s, "list_benchmarks", family="chute")
        assert published.benchmark_id in [b["id"] for b in listed["benchmarks"]]

        view = await call(s, "get_benchmark", benchmark_id=published.benchmark_id)
        text = json.dumps(view)
        assert view["description"] == definition.description and view["caps"]["max_unit_cost_usd"] > 0
        assert {f["label"] for f in view["fixtures"]} == {p.label for p in definition.fixtures}
        for part in definition.reference_solution:  # no trace of the reference: its name, file or hash
            assert part.step is not None and part.step.sha256 not in text
            assert part.label not in {f["label"] for f in view["fixtures"]}
        assert "reference_solution" not in text and "params" not in view and "thumbnail" not in text
        assert "held-out scenes whose jitter seed this view does not reveal" in view["note"]
        link = view["fixtures"][0]["step"]
        contents = (await s.read_resource(link)).contents
        assert base64.b64decode(contents[0].blob).startswith(b"ISO-10303-21;")

        good = await call(
            s,
            "evaluate_design",
            benchmark_id=published.benchmark_id,
            script=(DESIGNS / "chute_design.py").read_text(),
        )
        assert good["verdict"] == EvaluationVerdict.PASSED, good["reason"]
        assert good["cost"]["unit_cost_usd"] <= good["cost"]["max_unit_cost_usd"]
        again = await call(
            s,
            "evaluate_design",
            benchmark_id=published.benchmark_id,
            script=(DESIGNS / "chute_design.py").read_text(),
        )
        assert again["evaluation_id"] == good["evaluation_id"] and again["reused"], "the stored result"

        bad = await call(
            s,
            "evaluate_design",
            benchmark_id=published.benchmark_id,
            script=(DESIGNS / "chute_design_bad.py").read_text(),
            evidence=False,
            submitter="mcp-agent",
        )
        assert bad["verdict"] == EvaluationVerdict.FAILED and bad["reason"]
        assert bad["simulation"]["results"], "per-scene outcomes"
        attempt = await call(s, "get_evaluation", evaluation_id=bad["evaluation_id"], submitter="mcp-agent")
        assert attempt["status"] == "finished"  # a leaderboard attempt, on the held-out scenes

        finished = await call(s, "get_evaluation", evaluation_id=good["evaluation_id"])
        assert finished["status"] == "finished"
        images = (await s.call_tool("get_evidence", {"evaluation_id": good["evaluation_id"]})).content
        assert [c.type for c in images] == ["image", "image"]
        assert all(c.mime_type == "image/png" for c in images)
        assert all(base64.b64decode(c.data).startswith(b"\x89PNG") for c in images)

        part = step_bytes(box((0.0, 0.0, 0.0), (40.0, 30.0, 10.0)))
        report = await call(
            s,
            "analyze_part",
            filename="plate.step",
            data_base64=base64.b64encode(part).decode(),
            method="cnc_milling",
            material="aluminum_6061",
            quantity=25,
        )
        assert report["method"] == "cnc_milling" and report["quantity"] == 25
        assert report["quote"]["unit_cost_usd"] > 0
        finished = await call(
            s,
            "analyze_part",
            filename="plate.step",
            data_base64=base64.b64encode(part).decode(),
            method="cnc_milling",
            material="aluminum_6061",
            quantity=25,
            tolerance_class="f",
            finish="bead_blast",
        )
        assert finished["quote"]["finish"] == "bead_blast" and finished["quote"]["tolerance_class"] == "f"
        assert finished["quote"]["unit_cost_usd"] > report["quote"]["unit_cost_usd"]


async def test_bad_input_is_a_tool_error_naming_the_field_and_nothing_is_stored(
    server, published, test_settings
) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(test_settings.local_store_dir)
    never = "def build():\n    return []  # never stored\n"
    async with session(server) as s:
        says = await refusal(s, "evaluate_design", benchmark_id="nope-s0-v3", script=never)
        assert "benchmark_id:" in says and "nope-s0-v3" in says
        assert not store.exists(upload_key(sha256_hex(never.encode()), ".py"))
        says = await refusal(
            s, "evaluate_design", benchmark_id=published.benchmark_id, script="x = 1\n" * MAX_SCRIPT_BYTES
        )
        assert says.split(": ", 1)[1].startswith("script:")
        says = await refusal(
            s,
            "evaluate_design",
            benchmark_id=published.benchmark_id,
            parts=[{"filename": "plate.step", "data_base64": "not base64!", "metadata": {}}],
        )
        assert "parts[0].data_base64: not base64" in says
        says = await refusal(
            s,
            "evaluate_design",
            benchmark_id=published.benchmark_id,
            parts=[{"filename": "../plate.step", "data_base64": "QUJD", "metadata": {}}],
        )
        assert "parts[0].filename" in says
        says = await refusal(
            s, "evaluate_design", benchmark_id=published.benchmark_id, script=never, parts=[]
        )
        assert "exactly one of script" in says
        says = await refusal(
            s,
            "analyze_part",
            filename="plate.step",
            data_base64=base64.b64encode(b"not a step file").decode(),
            method="cnc_milling",
            material="aluminum_6061",
            quantity=1,
        )
        assert "data_base64" in says and "plate.step" in says
        plate = base64.b64encode(step_bytes(box((0.0, 0.0, 0.0), (40.0, 30.0, 10.0)))).decode()
        for option, value, words in (
            ("finish", "chrome", "finish"),
            ("tolerance_class", "h7", "tolerance_class"),
            ("finish", "anodise", "cannot be given the anodise finish"),
        ):
            says = await refusal(
                s,
                "analyze_part",
                filename="plate.step",
                data_base64=plate,
                method="cnc_milling",
                material="steel_carbon",
                quantity=1,
                **{option: value},
            )
            assert words in says, says
        says = await refusal(s, "get_evaluation", evaluation_id="../../etc")
        assert "evaluation_id" in says
        says = await refusal(s, "list_benchmarks", split="within_family")
        assert "split" in says
        listed = await call(s, "list_benchmarks")  # still serving
        assert listed["total"] >= 1


def test_serving_http_off_loopback_needs_a_token(tmp_path: Path) -> None:
    done = run_cli("mcp", "--http", "0.0.0.0:8765", data_dir=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "MECHBENCH_MCP_TOKEN" in done.stderr


async def test_the_bearer_guard_refuses_requests_without_the_token() -> None:
    seen: list[int] = []

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.append(1)

    guard = BearerGuard(app, "s3cret")
    sent: list[dict] = []  # type: ignore[type-arg]

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        sent.append(message)

    await guard({"type": "http", "headers": [(b"authorization", b"Bearer wrong")]}, None, send)
    assert sent[0]["status"] == 401 and not seen
    await guard({"type": "http", "headers": [(b"authorization", b"Bearer s3cret")]}, None, send)
    assert seen == [1]


async def test_a_proposed_benchmark_gets_every_proof_and_a_trivial_one_is_rejected_with_its_numbers(
    server,
) -> None:  # type: ignore[no-untyped-def]
    script = (REPO / "tests" / "data" / "wide_goal_benchmark.py").read_text()
    async with session(server) as s:
        verdict = await call(s, "propose_benchmark", script=script)
    assert verdict["verdict"] == "rejected" and verdict["failed_proof"] == "not_trivial_random"
    random = verdict["random"]
    assert random["simulated"] > 0 and random["upper_bound"] >= random["solve_rate"] > 0
    passed = {p["proof"] for p in verdict["proofs"] if p["passed"]}
    assert passed >= {"geometry", "stable", "not_trivial", "solvable", "affordable"}, verdict["proofs"]
