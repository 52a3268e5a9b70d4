"""The aiohttp app through real HTTP on 127.0.0.1: health and the sandbox."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import ManualClock
from bot.runtime import Runtime
from bot.web import build_app
from tests.db_helpers import cases, messages
from tests.factories import arrears_csv, row


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def test_healthz(client: TestClient[object, object]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body == {"status": "ok", "database": "ok"}  # nothing about the set-up
    assert response.headers["Server"] == "arrears-bot"  # no software versions
    assert (await client.get("/no-such-page")).headers["Server"] == "arrears-bot"


async def test_sandbox_shows_the_phone_and_replies_as_the_tenant(
    client: TestClient[object, object], runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", name="Anna <b>de</b> Vries")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()

    overview = await client.get("/sandbox")
    page = await overview.text()
    assert overview.status == 200
    assert "Anna &lt;b&gt;de&lt;/b&gt; Vries" in page  # escaped
    tenant_path = re.search(r'href="(/sandbox/tenants/\d+)"', page)
    assert tenant_path

    phone = await client.get(tenant_path.group(1))
    phone_page = await phone.text()
    assert "De huur is nog niet" in phone_page and "€ 650,00" in phone_page
    assert "Fri 04 Dec 11:00" in phone_page  # 10:00 UTC shown as Amsterdam time
    point = re.search(r'<option value="(\d+)">whatsapp', phone_page)
    assert point

    answer = await client.post(
        "/sandbox/reply",
        data={"contact_point": point.group(1), "text": "hulp", "back": tenant_path.group(1)},
        allow_redirects=False,
    )
    assert answer.status == 303 and answer.headers["Location"] == tenant_path.group(1)
    (case,) = await cases(runtime)
    assert case.escalation_reason == "help"
    replies = await messages(runtime, direction="out", kind="reply")
    assert [m.status for m in replies] == ["sent"]  # answered at once
    after = await (await client.get(tenant_path.group(1))).text()
    assert "understood as: help" in after


async def test_sandbox_refuses_an_empty_reply(client: TestClient[object, object]) -> None:
    response = await client.post("/sandbox/reply", data={"text": ""})
    assert response.status == 400


async def test_unknown_tenant_is_404(client: TestClient[object, object]) -> None:
    assert (await client.get("/sandbox/tenants/999")).status == 404


async def test_sandbox_is_off_when_disabled(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"sandbox": False})
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        assert (await test_client.get("/sandbox")).status == 404
        assert (await test_client.get("/healthz")).status == 200
