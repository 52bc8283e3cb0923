"""The rules of completion webhooks, in one place: what a request may name, what a worker-side target may
hold, and which network addresses a notification may reach. Standard library only: the request models,
the settings, the workflows (sandboxed) and the sending activity all use it.

A request names its receiver either as a **target** configured on the worker (``"webhook": "ops"``; the
URL and its token stay in ``MECHBENCH_WEBHOOK_TARGETS``) or as a plain URL, which is recorded in the
workflow's history as it is and so may hold no secret: no user or password, no query string, no fragment.
Wherever the URL comes from, it is sent only to publicly routable addresses (:func:`address_refusal`),
checked on the addresses the name resolves to when the notification is sent.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_URL = 2048
TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
"""A webhook target's name: what a request puts in ``webhook`` instead of a URL."""
PATCH_NO_SECRET_URLS = "webhook-no-secret-urls"
"""Workflows record this patch marker when they refuse a request's webhook URL for its query string; a
history without it was recorded before the rule and keeps its URL."""
TARGETS_SETTING = "MECHBENCH_WEBHOOK_TARGETS"
ALLOW_SETTING = "MECHBENCH_WEBHOOK_ALLOW_NETWORKS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_target_name(value: str) -> bool:
    return "://" not in value and TARGET_NAME.match(value) is not None


def url_form_problem(url: str) -> str | None:
    """Why ``url`` cannot be a receiver at all (scheme, host, port, credentials), or None."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return f"at most {MAX_URL} characters, no spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        return f"not a URL ({e})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an http:// or https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        return "no user or password in the URL"
    if port == 0:
        return "port 0"
    return None


def request_secret_problem(webhook: str) -> str | None:
    """Why a request's plain webhook URL may carry a secret (a request is kept in the workflow's history),
    or None. A target name never does."""
    if is_target_name(webhook):
        return None
    parts = urlsplit(webhook)
    if parts.query or parts.fragment or "?" in webhook or "#" in webhook:
        return (
            "a URL in a request is recorded in the workflow's history, so it may have no query string or "
            f"fragment (a token belongs in a webhook target configured on the worker, {TARGETS_SETTING}; "
            "name the target here instead of the URL)"
        )
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), which is where it leads."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why a notification may not go to ``ip`` (``"loopback"``, ``"link-local"``, ...), or None.

    Only publicly routable unicast addresses are reached, unless ``allowed`` (the worker's
    ``MECHBENCH_WEBHOOK_ALLOW_NETWORKS``) names the network; unspecified and multicast addresses never are.
    An IPv6 address that embeds an IPv4 one (``::ffff:127.0.0.1``) is judged by the IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_refusal(inner, allowed)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:  # fec0::/10: deprecated, still internal
        return "site-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "not publicly routable"
    return None
