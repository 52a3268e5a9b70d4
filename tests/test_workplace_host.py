"""The workplace stands on its own: mounted on a bare aiohttp app with only what
workplace.host.Host names (no runtime, no bot.web), a consultant logs in, sees the queue and
answers a tenant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.settings import Settings
from messaging.outbox import Letterhead
from rules.clock import Clock
from rules.policy import Policy
from storage.db import SessionMaker
from tests.db_helpers import messages
from tests.test_workplace import escalated_case, hidden, log_in, make_user
from workplace.web import add_workplace_routes


@dataclass
class BareHost:
    settings: Settings
    policy: Policy
    sessions: SessionMaker
    clock: Clock
    wall_clock: Clock
    letterhead: Letterhead
    channels: Mapping[str, object]
    asked_to_send: list[bool] = field(default_factory=list)

    async def send_soon(self) -> None:
        self.asked_to_send.append(True)


async def test_the_workplace_runs_on_what_it_is_given(runtime: Runtime) -> None:
    case_id = await escalated_case(runtime)
    await make_user(runtime, "marieke")
    host = BareHost(
        settings=runtime.settings,
        policy=runtime.policy,
        sessions=runtime.sessions,
        clock=runtime.clock,
        wall_clock=runtime.wall_clock,
        letterhead=runtime.letterhead,
        channels=runtime.channels,
    )
    app = web.Application()
    add_workplace_routes(app, host, "a secret for this test only")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert await log_in(client, "marieke") == 303
        assert "Anna de Vries" in await (await client.get("/queue")).text()
        page = await (await client.get(f"/cases/{case_id}")).text()
        response = await client.post(
            f"/cases/{case_id}/reply",
            data={
                "csrf": hidden(page, "csrf"),
                "version": hidden(page, "version"),
                "text": "Dag Anna, ik bel u morgen.",
            },
        )
        assert response.status == 200
    (reply,) = await messages(runtime, template="consultant_reply")
    assert reply.status == "queued"  # sending is the root's: it was asked to, once
    assert host.asked_to_send == [True]
