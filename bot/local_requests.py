"""Is a request direct from this machine? For the two pages that answer only there when no
token guards them: /metrics and the development sandbox."""

from __future__ import annotations

import ipaddress

from aiohttp import web

# A proxy on the same host makes every visitor's request come from 127.0.0.1; these headers
# are how proxies say so. Their absence proves nothing (a bare proxy may add none), which is
# why the sandbox also refuses any set-up with a public URL or a real provider.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")
_LOCAL_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def from_this_machine(request: web.Request) -> bool:
    """A loopback peer that came through no proxy."""
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    return _loopback(request.remote)


def addressed_locally(request: web.Request) -> bool:
    """The browser asked for localhost by name or address: a page of any other site that
    points its own name at 127.0.0.1 (DNS rebinding) is turned away."""
    host = request.headers.get("Host", "").strip().lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in _LOCAL_NAMES
