"""``mechbench mcp``: the agent operations (:mod:`workers.agent`) as an MCP server, on the official ``mcp`` SDK.

Tools (their JSON schemas come from the signatures below): ``list_benchmarks``, ``get_benchmark``,
``evaluate_design``, ``get_evaluation``, ``get_evidence`` (MCP image content), ``analyze_part``,
``propose_benchmark``. Resources: the links of the agent view, ``mechbench://benchmarks/{id}/scene.glb`` and
``mechbench://benchmarks/{id}/fixtures/{label}.step``.

A refused input is a tool error (``isError``) whose text names the field; nothing was stored or started and
the server keeps serving. Stdio by default (the SDK points fd 1 at stderr while it serves, so the embedded
dev server's and the worker's output never reach the wire); ``--http HOST:PORT`` serves streamable HTTP,
with a bearer token required unless it binds to a loopback address.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from shared.settings import Settings
from shared.store import make_store
from workers.agent import MAX_PAGE_SIZE, PAGE_SIZE, Agent
from workers.agent_input import AgentInputError, AgentWorkFailed

INSTRUCTIONS = """\
mechbench poses physics puzzles: move payloads into a goal zone with parts you design, built only inside the
build zone, kept out of forbidden zones, under cost and weight caps. list_benchmarks finds published
benchmarks; get_benchmark gives one's zones, fixtures, payloads, caps and simulation settings; evaluate_design
runs your design (a build123d script whose build() returns labelled parts, or STEP/STL files) over jittered
scenes and returns the verdict with every reason; get_evidence shows its picture and frame strip."""


def _agent(ctx: Context) -> Agent:
    agent: Agent = ctx.request_context.lifespan_context
    return agent


async def _guarded(call: Any) -> Any:
    try:
        return await call
    except (AgentInputError, AgentWorkFailed) as e:
        raise ToolError(str(e)) from None


@asynccontextmanager
async def connected_agent(settings: Settings, embedded: bool) -> AsyncIterator[Agent]:
    """The agent operations over a client of the cluster in ``settings``, or of an embedded stack (a dev
    server and a worker in this process) with ``embedded``; one for the server's whole life, whatever the
    transport's sessions."""
    from workers.cli.runner import connect_embedded_or_remote

    async with AsyncExitStack() as stack:
        client, _, _ = await connect_embedded_or_remote(stack, settings, embedded, ui=False)
        yield Agent(settings, client, make_store(settings))


def build_server(agent: Agent) -> MCPServer:
    """The server; every session uses ``agent``."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Agent]:
        yield agent

    server = MCPServer("mechbench", instructions=INSTRUCTIONS, lifespan=lifespan)

    @server.tool(
        description="Published benchmarks, a page at a time, filtered by dataset, family, level, split."
    )
    async def list_benchmarks(
        ctx: Context,
        dataset: Annotated[
            str | None, Field(description="a dataset id; without it, every published benchmark")
        ] = None,
        family: Annotated[str | None, Field(description="a family name, e.g. chute")] = None,
        level: Annotated[int | None, Field(ge=0, le=5, description="difficulty level")] = None,
        split: Annotated[
            str | None,
            Field(description="within_family (seeds held out) or cross_family (families held out)"),
        ] = None,
        fold: Annotated[int | None, Field(ge=0, le=9, description="the split's fold (0-9)")] = None,
        held_out: Annotated[bool, Field(description="the fold's test set (true) or its training set")] = True,
        page: Annotated[int, Field(ge=0)] = 0,
        page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
    ) -> dict[str, Any]:
        return await _guarded(
            _agent(ctx).list_benchmarks(dataset, family, level, split, fold, held_out, page, page_size)
        )

    @server.tool(
        description="One published benchmark as an agent sees it: description, zones, fixtures (with links to "
        "their STEP files), payloads, caps, simulation settings, difficulty numbers. Never the reference."
    )
    async def get_benchmark(ctx: Context, benchmark_id: str) -> dict[str, Any]:
        return await _guarded(_agent(ctx).get_benchmark(benchmark_id))

    @server.tool(
        description="Evaluate a design against a published benchmark and wait for the verdict: every reason, "
        "per-scene outcomes, cost and weight against the caps, the evidence's references. Give the source of "
        "a build123d script whose build() returns labelled parts, or parts as STEP/STL files in base64 with "
        "their metadata. The same design again returns the stored result."
    )
    async def evaluate_design(
        ctx: Context,
        benchmark_id: str,
        script: Annotated[str | None, Field(description="a design script's source text")] = None,
        parts: Annotated[
            list[dict[str, Any]] | None,
            Field(
                description='[{"filename": "plate.step", "data_base64": "...", "metadata": {"label": ...}}]'
            ),
        ] = None,
        scenes: Annotated[
            int | None, Field(ge=1, description="jittered scenes (default: the benchmark's)")
        ] = None,
        evidence: Annotated[bool, Field(description="render a picture, frame strip and animation")] = True,
        submitter: Annotated[
            str | None,
            Field(
                description="your name on the leaderboard: the evaluation is recorded as an attempt and runs "
                "on the benchmark's held-out scenes (without it, on the published ones)"
            ),
        ] = None,
    ) -> dict[str, Any]:
        result = await _guarded(
            _agent(ctx).evaluate_design(benchmark_id, script, parts, scenes, evidence, submitter)
        )
        return result.model_dump(mode="json")

    @server.tool(description="An evaluation by id: its result when finished, else its current stage.")
    async def get_evaluation(
        ctx: Context,
        evaluation_id: str,
        submitter: Annotated[str | None, Field(description="the submitter it was sent with, if any")] = None,
    ) -> dict[str, Any]:
        return await _guarded(_agent(ctx).get_evaluation(evaluation_id, submitter))

    @server.tool(description="The picture and the frame strip of a finished evaluation, as images.")
    async def get_evidence(ctx: Context, evaluation_id: str) -> list[Image]:
        images = await _guarded(_agent(ctx).get_evidence(evaluation_id))
        return [Image(data=data, format="png") for _, data in images]

    @server.tool(
        description="DFM findings and a quote for one part (STEP, STL or a part script, in base64) by the "
        "requested method (cnc_milling, injection_molding, fdm_printing, sheet_metal, cnc_turning), material "
        "and quantity; optional ISO 2768 tolerance class and surface finish, each priced as its own line."
    )
    async def analyze_part(
        ctx: Context,
        filename: Annotated[str, Field(description="the part's file name: .step/.stp, .stl or .py")],
        data_base64: str,
        method: str,
        material: str,
        quantity: Annotated[int, Field(ge=1)],
        tolerance_class: Annotated[
            str | None, Field(description="ISO 2768-1 class: f, m (default), c or v")
        ] = None,
        finish: Annotated[
            str | None,
            Field(
                description="as_machined (default), bead_blast, anodise (aluminium) or powder_coat (metals)"
            ),
        ] = None,
        sharp_corners: Annotated[
            bool,
            Field(description="internal corners must stay sharp (EDM) instead of left at the tool radius"),
        ] = False,
        tooling_class: Annotated[
            str | None, Field(description="injection moulding: prototype or production mould")
        ] = None,
        pull_axis: Annotated[
            list[float] | None, Field(description="injection moulding: the mould's pull axis, e.g. [0, 0, 1]")
        ] = None,
    ) -> dict[str, Any]:
        options = {
            "tolerance_class": tolerance_class,
            "finish": finish,
            "sharp_corners": sharp_corners,
            "tooling_class": tooling_class,
            "pull_axis": pull_axis,
        }
        report = await _guarded(
            _agent(ctx).analyze_part(filename, data_base64, method, material, quantity, **options)
        )
        return report.model_dump(mode="json")

    @server.tool(
        description="Propose a benchmark: a build123d script whose build() returns fixtures and objectives. It "
        "goes through every proof a family's benchmark passes (validity, stability, a reference that solves "
        "it, affordability, random designs fail, robust to perturbation) and returns the verdict with its "
        "numbers."
    )
    async def propose_benchmark(ctx: Context, script: str) -> dict[str, Any]:
        result = await _guarded(_agent(ctx).propose_benchmark(script))
        return result.model_dump(mode="json")

    @server.resource("mechbench://benchmarks/{benchmark_id}/scene.glb", mime_type="model/gltf-binary")
    async def scene_glb(benchmark_id: str, ctx: Context) -> bytes:
        data, _ = await _guarded(_agent(ctx).read_link(f"mechbench://benchmarks/{benchmark_id}/scene.glb"))
        return data

    @server.resource("mechbench://benchmarks/{benchmark_id}/fixtures/{label}.step", mime_type="model/step")
    async def fixture_step(benchmark_id: str, label: str, ctx: Context) -> bytes:
        link = f"mechbench://benchmarks/{benchmark_id}/fixtures/{label}.step"
        data, _ = await _guarded(_agent(ctx).read_link(link))
        return data

    return server


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerGuard:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>`` (401 otherwise)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not secrets.compare_digest(given, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b"a bearer token is required\n"})
                return
        await self.app(scope, receive, send)


async def serve_http(server: MCPServer, host: str, port: int, token: str | None) -> None:
    """Streamable HTTP at ``http://HOST:PORT/mcp``; with ``token``, only for requests that carry it."""
    import uvicorn

    app: Any = server.streamable_http_app()
    if token:
        app = BearerGuard(app, token)
    await uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).serve()
