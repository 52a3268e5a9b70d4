"""The aiohttp app through real HTTP on 127.0.0.1: health and the sandbox."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import build_app
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from storage.models import Message
from tests.db_helpers import cases, messages
from tests.factories import arrears_csv, row
from tests.pages import hidden


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
    point = re.search(r'<option value="(\d+)"[^>]*>WhatsApp', phone_page)
    assert point

    answer = await client.post(
        "/sandbox/reply",
        data={
            "contact_point": point.group(1),
            "text": "hulp",
            "back": tenant_path.group(1),
            "csrf": hidden(phone_page, "csrf"),
        },
        allow_redirects=False,
    )
    assert answer.status == 303 and answer.headers["Location"] == tenant_path.group(1)
    (case,) = await cases(runtime)
    assert case.escalation_reason == "help"
    replies = await messages(runtime, direction="out", kind="reply")
    assert [m.status for m in replies] == ["sent"]  # answered at once
    after = await (await client.get(tenant_path.group(1))).text()
    assert "understood as: asks for help" in after
    # A developer reads the case in words too, not in the codes the database keeps.
    assert "With a consultant (Asks for help) · after friendly reminder" in after
    for code in ("· escalated", "stage friendly", "queue: help", ">whatsapp "):
        assert code not in after, code


def _chosen(page: str) -> str:
    """The contact point the reply box has selected: channel · address."""
    found = re.findall(r"<option value=\"\d+\" selected>([^<]+)</option>", page)
    assert len(found) == 1, found
    return found[0]


async def test_the_sandbox_answers_on_the_channel_of_the_conversation(
    client: TestClient[object, object], runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", email="anna@example.nl")), "d1.csv")
    path = "/sandbox/tenants/1"
    # Nothing said yet: the first point is as good as any, and none is marked.
    assert "selected>" not in await (await client.get(path)).text()
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()  # the friendly reminder goes out on WhatsApp
    assert _chosen(await (await client.get(path)).text()) == "WhatsApp · +31612345678"
    await runtime.receive(
        InboundMessage("email", "anna@example.nl", "hulp", "sbx-mail-1", clock.now())
    )
    await runtime.dispatch()
    clock.advance(timedelta(days=1))
    await runtime.import_data(
        arrears_csv(row("T1", email="anna@example.nl", balance="0", as_of="05-12-2026")), "d2.csv"
    )
    await runtime.dispatch()
    sent = [(m.direction, m.channel) for m in await messages(runtime)]
    assert sent[-1] == ("out", "whatsapp")  # the thanks came by WhatsApp…
    page = await (await client.get(path)).text()
    assert _chosen(page) == "email · anna@example.nl"  # …but Anna wrote by email


async def test_the_sandbox_pages_say_they_are_english_and_label_the_reply_box(
    client: TestClient[object, object], runtime: Runtime
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    for path in ("/sandbox", "/sandbox/tenants/1"):
        page = await (await client.get(path)).text()
        assert '<html lang="en">' in page, path
        assert "Skip to content" in page and "Naar de inhoud" not in page, path
    phone = await (await client.get("/sandbox/tenants/1")).text()
    box = re.search(r'<textarea id="([^"]+)" name="text"', phone)
    assert box and f'<label for="{box.group(1)}">' in phone
    point = re.search(r'<select id="([^"]+)" name="contact_point"', phone)
    assert point and f'<label for="{point.group(1)}">' in phone


async def test_sandbox_refuses_an_empty_reply(client: TestClient[object, object]) -> None:
    csrf = hidden(await (await client.get("/sandbox")).text(), "csrf")
    response = await client.post("/sandbox/reply", data={"text": "", "csrf": csrf})
    assert response.status == 400


async def test_unknown_tenant_is_404(client: TestClient[object, object]) -> None:
    assert (await client.get("/sandbox/tenants/999")).status == 404


async def test_the_sandbox_is_off_unless_asked_for(runtime: Runtime) -> None:
    runtime.settings = Settings(database_url=runtime.settings.database_url, _env_file=None)  # type: ignore[call-arg]
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        assert (await test_client.get("/sandbox")).status == 404
        assert (await test_client.post("/sandbox/reply", data={"text": "STOP"})).status in (
            404,
            405,
        )
        index = await test_client.get("/", allow_redirects=False)
        assert index.headers["Location"] == "/queue"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9;proto=https"},
        {"X-Real-IP": "203.0.113.9"},
        {"X-Forwarded-Host": "huur.example.nl"},
        {"Host": "huur.example.nl"},  # a proxy that adds nothing but passes the name on
        {"Host": "rebind.attacker.example:8080"},  # DNS rebinding from a web page
    ],
)
async def test_the_sandbox_turns_away_what_did_not_come_straight_from_this_machine(
    client: TestClient[object, object], runtime: Runtime, headers: dict[str, str]
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    csrf = hidden(await (await client.get("/sandbox")).text(), "csrf")
    assert (await client.get("/sandbox", headers=headers)).status == 403
    assert (await client.get("/sandbox/tenants/1", headers=headers)).status == 403
    posted = await client.post(
        "/sandbox/reply",
        data={"channel": "sms", "address": "+31612345678", "text": "STOP", "csrf": csrf},
        headers=headers,
    )
    assert posted.status == 403
    assert await messages(runtime) == []  # nothing received, no tenant opted out


async def test_a_sandbox_reply_needs_the_pages_csrf_token(
    client: TestClient[object, object], runtime: Runtime
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    reply = {"channel": "sms", "address": "+31612345678", "text": "STOP"}
    assert (await client.post("/sandbox/reply", data=reply)).status == 403
    await client.get("/sandbox")  # the cookie is set now, but the form field is missing
    assert (await client.post("/sandbox/reply", data={**reply, "csrf": "guess"})).status == 403
    assert await messages(runtime) == []


@pytest.mark.parametrize(
    "field",
    [
        {"contact_point": "abc"},
        {"contact_point": "9" * 30},
        {"contact_point": "²"},
        {"contact_point": "999999"},
        {"channel": "pigeon", "address": "+31612345678"},
    ],
)
async def test_a_hostile_sandbox_reply_is_a_clear_400(
    client: TestClient[object, object], runtime: Runtime, field: dict[str, str]
) -> None:
    csrf = hidden(await (await client.get("/sandbox")).text(), "csrf")
    response = await client.post("/sandbox/reply", data={"text": "hoi", "csrf": csrf, **field})
    assert response.status == 400
    assert await messages(runtime) == []


async def test_a_sandbox_reply_goes_back_only_to_a_sandbox_page(
    client: TestClient[object, object],
) -> None:
    csrf = hidden(await (await client.get("/sandbox")).text(), "csrf")
    for back in ("//evil.example", "/sandbox/../queue", "/sandbox//evil.example", "https://x.nl"):
        response = await client.post(
            "/sandbox/reply",
            data={
                "channel": "sms",
                "address": "+31699999999",
                "text": "hoi",
                "back": back,
                "csrf": csrf,
            },
            allow_redirects=False,
        )
        assert response.status == 303 and response.headers["Location"] == "/sandbox", back


async def test_the_sandbox_phone_shows_when_a_message_really_went(
    client: TestClient[object, object], runtime: Runtime, clock: ManualClock
) -> None:
    """A reminder queued on Friday night goes on Saturday morning: the phone shows the
    morning, a message still waiting says so, a provider's error has no number, and a
    crisis is named as one."""
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()  # queued Fri 04 Dec 11:00 Amsterdam time
    path = "/sandbox/tenants/1"
    waiting = await (await client.get(path)).text()
    assert "waiting to be sent" in waiting and "owes €650.00" in waiting
    clock.advance(timedelta(hours=2))
    await runtime.dispatch()
    sent = await (await client.get(path)).text()
    assert "Fri 04 Dec 13:00 · sent" in sent and "waiting to be sent" not in sent
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", "ik wil dood", "c-1", clock.now())
    )
    assert "understood as: in crisis, asks for help" in await (await client.get(path)).text()
    async with runtime.sessions() as session, session.begin():
        (message,) = [m for m in await session.scalars(select(Message)) if m.direction == "out"][:1]
        message.status, message.last_error = "failed", "63003 not a WhatsApp user"
    failed = await (await client.get(path)).text()
    assert "· not a WhatsApp user" in failed and "63003" not in failed
