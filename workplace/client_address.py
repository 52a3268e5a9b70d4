"""Who is on the other end of a request, for counting failed logins per client.

Behind a reverse proxy every connection comes from the proxy. Only a proxy the operator
names (``ARREARS_TRUSTED_PROXIES``) is believed about the client it forwarded for: the
X-Forwarded-For entry it appended, read from the right past any other trusted hop. A header
from anyone else says whatever the client likes, so it is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: web.Request, proxies: Sequence[Network]) -> str | None:
    peer = request.remote
    if peer is None or not _trusted(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return peer  # the proxy's own request, or one from another trusted hop
