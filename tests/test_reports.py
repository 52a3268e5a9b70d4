"""The dashboard: the funnel of a period's cases and reply rates per stage and channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import ManualClock
from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from tests.factories import arrears_csv, row
from tests.test_workplace import log_in, make_user

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def test_funnel_and_reply_rates(client: Client, runtime: Runtime, clock: ManualClock) -> None:
    await runtime.import_data(
        arrears_csv(
            row("T1"),
            row("T2", name="Bob", phone="06-11111111"),
            row("T3", name="Carla", phone="06-22222222"),
            row("T4", name="Dirk", phone="06-33333333"),
        ),
        "d1.csv",
    )
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()  # four friendly reminders on WhatsApp

    async def say(phone: str, text: str) -> None:
        await runtime.receive(
            InboundMessage("whatsapp", phone, text, f"r-{phone}-{text}", clock.now())
        )

    await say("+31612345678", "hulp")  # Anna: reached, escalated
    await say("+31611111111", "ik kan 100 euro per maand")  # Bob: a plan…
    await say("+31611111111", "ja")  # …agreed
    clock.advance(timedelta(days=1))
    await runtime.import_data(  # Carla pays; the others still owe
        arrears_csv(
            row("T1", as_of="05-12-2026"),
            row("T2", name="Bob", phone="06-11111111", as_of="05-12-2026"),
            row("T3", name="Carla", phone="06-22222222", balance="0", as_of="05-12-2026"),
            row("T4", name="Dirk", phone="06-33333333", as_of="05-12-2026"),
        ),
        "d2.csv",
    )
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    data = await (await client.get("/api/reports?from=2026-11-01&to=2026-12-31")).json()
    assert data["funnel"] == {
        "opened": 4,
        "reached": 2,
        "plan_agreed": 1,
        "plan_kept": 1,
        "escalated": 1,
        "handed_over": 0,
        "signalled": 0,
        "paid": 1,
    }
    (rate,) = data["reply_rates"]
    assert (rate["template"], rate["channel"], rate["sent"], rate["replied"]) == (
        "reminder_friendly",
        "whatsapp",
        4,
        2,
    )
    page = await (await client.get("/reports?from=2026-11-01&to=2026-12-31")).text()
    assert "<svg" in page and "Betaald" in page and "reminder_friendly" in page
    empty = await (await client.get("/api/reports?from=2027-03-01&to=2027-03-31")).json()
    assert empty["funnel"]["opened"] == 0 and empty["reply_rates"] == []
    assert (await client.get("/reports?from=garbage")).status == 400
