"""``mechbench mcp``: serve the agent tools (:mod:`workers.mcp_server`) over MCP, stdio by default."""

from __future__ import annotations

from typing import Annotated

import typer

from shared.settings import Settings
from workers.cli.common import EXIT_OK, BadInput
from workers.cli.runner import run


def mcp(
    embedded: Annotated[
        bool, typer.Option(help="start the embedded dev server and a worker for the server's whole life")
    ] = False,
    http: Annotated[
        str | None,
        typer.Option(
            help="HOST:PORT: serve streamable HTTP at http://HOST:PORT/mcp instead of stdio; a host other "
            "than loopback needs MECHBENCH_MCP_TOKEN, which every request must then carry as a bearer token"
        ),
    ] = None,
) -> None:
    """Serve mechbench to agents over MCP: list and read benchmarks, evaluate designs, look at evidence,
    analyse parts, propose benchmarks. It talks to Temporal through the settings, as the other commands do."""

    async def main(settings: Settings) -> int:
        from workers.mcp_server import build_server, connected_agent, is_loopback, serve_http

        address = None
        token = settings.mcp_token.get_secret_value() if settings.mcp_token else None
        if http is not None:
            host, _, port = http.rpartition(":")
            host = host.strip("[]")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise BadInput(f"http: {http!r} is not HOST:PORT")
            if not is_loopback(host) and not token:
                raise BadInput(
                    f"http: {host} is not a loopback address; set MECHBENCH_MCP_TOKEN to a secret that "
                    "clients send as 'Authorization: Bearer <token>'"
                )
            address = (host, int(port))
        async with connected_agent(settings, embedded) as agent:
            server = build_server(agent)
            if address is None:
                await server.run_stdio_async()
            else:
                await serve_http(server, address[0], address[1], token)
        return EXIT_OK

    run(main, service=True)
