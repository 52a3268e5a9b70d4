"""What the workplace needs from the application that mounts it.

The root passes it in (``add_workplace_routes``); the workplace never imports the root. It is
read at each request, so a policy or a clock the root swaps later (the live demo's fast
clock) is the one in use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aiohttp import web

from messaging.outbox import Letterhead
from rules.clock import Clock
from rules.policy import Policy
from storage.db import SessionMaker
from workplace.client_address import Network


class WorkplaceSettings(Protocol):
    """The settings the workplace reads: cookies, login holds and session length."""

    @property
    def public_base_url(self) -> str | None: ...

    @property
    def session_hours(self) -> float: ...

    @property
    def login_max_failures(self) -> int: ...

    @property
    def login_client_max_failures(self) -> int: ...

    @property
    def login_window_minutes(self) -> int: ...

    @property
    def lockout_minutes(self) -> int: ...

    def trusted_networks(self) -> Sequence[Network]: ...


class Host(Protocol):
    @property
    def settings(self) -> WorkplaceSettings: ...

    @property
    def policy(self) -> Policy: ...

    @property
    def sessions(self) -> SessionMaker: ...

    @property
    def clock(self) -> Clock:
        """The tenants' world: cases, waits, reports."""
        ...

    @property
    def wall_clock(self) -> Clock:
        """People's time: logins, their expiry, holds after failed logins."""
        ...

    @property
    def letterhead(self) -> Letterhead: ...

    @property
    def channels(self) -> Mapping[str, object]:
        """The channels that can send now (a reply offers only these)."""
        ...

    async def send_soon(self) -> None:
        """Send what a person waits for now, not at the next dispatch run."""
        ...


HOST: web.AppKey[Host] = web.AppKey("workplace_host")


def host(request: web.Request) -> Host:
    return request.app[HOST]
