"""Outbound HTTP that cannot be turned against the worker's own network.

:func:`http_client` is the worker's one ``httpx.AsyncClient``. Every new connection it opens goes through
:class:`GuardedBackend`: the host name is resolved once, **every** address it resolves to is checked against
:func:`shared.webhooks.address_refusal` (loopback, link-local, private, multicast, reserved, unspecified,
including IPv4 written as ``0x7f000001`` or ``2130706433`` and IPv6 forms that embed one), and the socket is
opened to an address that was checked, never to the name again. There is no second lookup for a rebinding
DNS server to answer differently. The request keeps the name: the ``Host`` header, TLS SNI and certificate
verification all use it.

Redirects are not followed and proxy environment variables are ignored (a proxy would make the check
meaningless: it resolves the name itself).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

from shared.webhooks import ALLOW_SETTING, IPNetwork, address_refusal

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=8)

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``: the system resolver by default."""


class DestinationRefused(Exception):
    """Nothing was sent: the destination resolves to an address outside what the worker may reach."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host, self.address, self.reason = host, address, reason
        # the message names the class of address only: the address a name resolves to stays in worker logs
        super().__init__(
            f"not sent: the destination address is {reason} ({ALLOW_SETTING} allows non-public networks)"
        )


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks and connects to the checked address."""

    def __init__(self, allowed: Iterable[IPNetwork] = (), resolver: Resolver = system_resolver) -> None:
        self._allowed = tuple(allowed)
        self._resolve = resolver
        self._inner = httpcore.AnyIOBackend()

    async def checked_addresses(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """The addresses ``host`` resolves to, once; :class:`DestinationRefused` if any may not be reached
        (a name that also resolves to an internal address is refused whole)."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
            addresses = [str(literal)]
        except ValueError:
            try:
                with anyio.fail_after(timeout):
                    addresses = await self._resolve(host, port)
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
            except OSError as e:
                raise httpcore.ConnectError(
                    f"cannot resolve {host}: {e.strerror or type(e).__name__}"
                ) from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone is not part of the address
            reason = address_refusal(ip, self._allowed)
            if reason is not None:
                raise DestinationRefused(host, address, reason)
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await self.checked_addresses(host, port, timeout):
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                failure = e  # the next checked address, as a resolver's list is meant to be used
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationRefused(path, path, "local socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request mapping, errors, streaming) over a pool that connects through a
    :class:`GuardedBackend`."""

    def __init__(
        self,
        backend: GuardedBackend,
        limits: httpx.Limits = LIMITS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=ssl_context or True),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def http_client(
    allowed: Iterable[IPNetwork] = (),
    *,
    resolver: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """The worker's one outbound HTTP client: connection reuse, timeouts, no redirects, no proxies, no
    ``.netrc``, and only destinations :func:`~shared.webhooks.address_refusal` lets through (plus the
    ``allowed`` networks). ``resolver`` and ``ssl_context`` (trusted CAs) default to the system's."""
    return httpx.AsyncClient(
        transport=GuardedTransport(GuardedBackend(allowed, resolver), ssl_context=ssl_context),
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "mechbench-webhook/1"},
    )
