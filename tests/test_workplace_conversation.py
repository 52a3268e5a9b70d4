"""What the case page's conversation and the contact attempts say about our own messages,
through real HTTP on 127.0.0.1 and a real database: a message shows when it went, not when
it was queued, and one still waiting says so; "reached" is what we know (a delivery receipt,
the tenant writing back, an answer to the tenant's own message), a failure is "no", and a
consultant's own message is theirs, never a failed attempt of the bot's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.web import build_app
from handlers.receipts import Receipt, apply_receipt
from messaging.channels.base import InboundMessage, PermanentSendError
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from storage.models import CaseEvent, Message
from tests.db_helpers import cases, messages
from tests.factories import arrears_csv, row
from tests.test_what_consultants_see import move, visible
from tests.test_workplace import hidden, log_in, make_user
from workplace.case_pages import conversation
from workplace.queries import case_view

Client = TestClient  # type: ignore[type-arg]
PHONE = "+31612345678"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def tenant_says(runtime: Runtime, text: str, key: str) -> None:
    await runtime.receive(InboundMessage("sms", PHONE, text, key, runtime.clock.now()))
    await runtime.dispatch()  # the bot's answer goes at once


async def consultant_writes(client: Client, runtime: Runtime, case_id: int, text: str) -> None:
    """Marieke logs in (the clock may have passed her last login) and writes to Anna."""
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case_id}")).text()
    form = {"csrf": hidden(page, "csrf"), "version": hidden(page, "version"), "text": text}
    response = await client.post(f"/cases/{case_id}/reply", data=form)
    assert response.status == 200 and 'role="alert"' not in await response.text()


def bubble_with(page: str, text: str) -> str:
    """The header of the conversation's bubble whose message holds `text`."""
    for found in re.finditer(r'<div class="bubble out">(.*?)</div>', page, re.S):
        if text in found.group(1):
            return visible(found.group(1).split("<br>")[0])
    raise AssertionError(f"no bubble with {text!r}")


async def test_a_message_shows_when_it_went_and_one_waiting_says_so(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await tenant_says(runtime, "hulp", "c-1")
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")

    # 21:30 in Amsterdam: past the sending window, so her words wait for the morning.
    move(clock, datetime(2026, 12, 1, 20, 30, tzinfo=UTC))
    await consultant_writes(client, runtime, case.id, "Dag Anna, ik bel u morgen.")
    (reply,) = await messages(runtime, template="consultant_reply")
    assert reply.status == "queued" and reply.sent_at is None
    page = await (await client.get(f"/cases/{case.id}")).text()
    waiting = bubble_with(page, "ik bel u morgen")
    assert waiting.startswith("wacht op verzending") and "21:30" not in waiting

    # 09:10 the next morning it goes: the page shows that moment, not the evening before.
    move(clock, datetime(2026, 12, 2, 8, 10, tzinfo=UTC))
    assert (await runtime.dispatch()).sent == 1
    (reply,) = await messages(runtime, template="consultant_reply")
    assert reply.sent_at == clock.now()
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case.id}")).text()
    sent = bubble_with(page, "ik bel u morgen")
    assert sent.startswith("02-12 09:10") and "verstuurd" in sent
    assert "wacht op verzending" not in sent and "01-12 21:30" not in sent
    # The bot's answer to her "hulp" went at once: its own sending moment (10:00).
    assert bubble_with(page, "hulp").startswith("01-12 10:00")
    # The case's record puts the message where it went too, not where it was queued.
    async with runtime.sessions() as session:
        view = await case_view(session, case.id)
    assert view is not None
    (line,) = [i for i in view.timeline if i.kind == "message" and i.template == "consultant_reply"]
    assert line.at == reply.sent_at


def _out(message_id: int, status: str, created: datetime, **values: object) -> Message:
    return Message(
        id=message_id,
        direction="out",
        kind=str(values.pop("kind", "reply")),
        template=values.pop("template", "consultant_reply"),
        channel="sms",
        address=PHONE,
        body=f"message {message_id}",
        status=status,
        created_at=created,
        **values,
    )


def test_the_conversation_in_order_of_sending_and_in_english() -> None:
    at = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)
    written = Message(
        id=3, direction="in", kind="reply", channel="sms", address=PHONE, body="tenant",
        status="received", created_at=at + timedelta(hours=11),
    )  # fmt: skip
    queued_first = _out(1, "sent", at, sent_at=at + timedelta(hours=12))
    still_waiting = _out(2, "queued", at + timedelta(minutes=5))
    # A row from before `sent_at` was kept: the event that recorded the send has the moment.
    old = _out(4, "delivered", at - timedelta(days=1), kind="reminder", template="reminder")
    sent_event = CaseEvent(
        case_id=1, at=at - timedelta(hours=20), actor="system", kind="message_sent",
        data={"message_id": 4, "channel": "sms"},
    )  # fmt: skip
    failed = _out(5, "failed", at - timedelta(hours=2), kind="reminder", template="reminder")
    failed_event = CaseEvent(
        case_id=1, at=at - timedelta(hours=1), actor="system", kind="send_failed",
        data={"message_id": 5, "channel": "sms"},
    )  # fmt: skip
    rows = [old, failed, queued_first, still_waiting, written]
    shown = conversation(rows, [sent_event, failed_event], "en", AMSTERDAM)
    assert [bubble.body for bubble in shown] == [
        "message 4",
        "message 5",
        "tenant",  # she wrote at 08:30, before the reply queued at night went at 09:30
        "message 1",
        "message 2",  # not said yet: last
    ]
    assert [(bubble.when, bubble.status) for bubble in shown] == [
        ("01/12 01:30", "delivered"),
        ("01/12 20:30", "failed"),
        ("02/12 08:30", ""),
        ("02/12 09:30", "sent"),
        ("waiting to be sent", ""),
    ]
    dutch = conversation(rows, [sent_event, failed_event], "nl", AMSTERDAM)
    assert dutch[-1].when == "wacht op verzending" and dutch[-2].when == "02-12 09:30"


def attempt_rows(record: str) -> list[list[str]]:
    """The record's contact attempts, each row's cells as text."""
    table = record.split("Contactpogingen", 1)[1].split("</table>", 1)[0]
    return [
        [visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", found, re.S)]
        for found in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        if "<td" in found
    ]


async def test_reached_is_what_we_know_and_a_consultants_message_is_theirs(
    client: Client, runtime: Runtime, clock: ManualClock, sandbox: SandboxChannel
) -> None:
    sandbox.failure_rules.append(
        lambda m: (
            PermanentSendError("not on WhatsApp", "63003", unreachable=True)
            if m.channel == "whatsapp"
            else None
        )
    )
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    # The friendly reminder: WhatsApp fails, the SMS after it is delivered.
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    friendly = await messages(runtime, template="reminder_friendly")
    assert [(m.channel, m.status) for m in friendly] == [("whatsapp", "failed"), ("sms", "sent")]
    assert await apply_receipt(
        runtime.sessions,
        Receipt(("sms",), str(friendly[1].provider_id), "delivered"),
        available=runtime.channels.keys(),
        now=clock.now() + timedelta(minutes=1),
    )
    # The plan offer a week later: sent, no receipt, no word back within the week.
    clock.advance(timedelta(days=7))
    await runtime.tick()
    await runtime.dispatch()
    (offer,) = await messages(runtime, template="reminder_plan_offer", status="sent")
    clock.advance(timedelta(days=8))
    await tenant_says(runtime, "Ik heb hulp nodig", "r-1")  # the bot answers her
    (case,) = await cases(runtime)
    assert case.status == "escalated"
    await make_user(runtime, "marieke")
    clock.advance(timedelta(minutes=5))
    await consultant_writes(client, runtime, case.id, "Dag Anna, wanneer kan ik u bellen?")
    clock.advance(timedelta(hours=2))
    await tenant_says(runtime, "Morgen na 10 uur", "r-2")  # she answers Marieke
    clock.advance(timedelta(minutes=5))
    await consultant_writes(client, runtime, case.id, "Goed, ik bel u morgen om 11 uur.")
    page = await (await client.get(f"/cases/{case.id}")).text()
    form = {"csrf": hidden(page, "csrf"), "version": hidden(page, "version")}
    logged = await client.post(
        f"/cases/{case.id}/contact",
        data={**form, "mode": "Telefoon", "reached": "no", "outcome": "Geen gehoor"},
    )
    assert logged.status == 200

    record = await (await client.get(f"/cases/{case.id}/record")).text()
    rows = [(r[2], r[3], r[4], r[5]) for r in attempt_rows(record)]
    assert rows[:3] == [
        ("SMS/Whatsapp", "nee", "bot", "Herinnering: vriendelijk"),  # WhatsApp failed
        ("SMS/Whatsapp", "ja", "bot", "Herinnering: vriendelijk"),  # delivered
        ("SMS/Whatsapp", "niet bekend", "bot", "Herinnering: aanbod betaalafspraak"),
    ]
    mine = [r for r in rows if r[2] == "marieke"]
    assert mine == [
        ("SMS/Whatsapp", "ja", "marieke", "Bericht van consulent"),  # she wrote back
        ("SMS/Whatsapp", "niet bekend", "marieke", "Bericht van consulent"),
        ("Telefoon", "nee", "marieke", "Geen gehoor"),
    ]
    # The bot's answers to her own messages: she was there, writing to us.
    answers = [r for r in rows[3:] if r[2] == "bot"]
    assert answers and all(r[1] == "ja" for r in answers)
    assert not any(r[2] == "consulent" for r in rows)  # no anonymous "consultant"

    # The dossier says the same; the national field is yes only where we know it.
    dossier = await (await client.get(f"/api/cases/{case.id}/dossier")).json()
    attempts = dossier["contact_attempts"]
    assert [(a["by"], a["reached"], a["bereikt"]) for a in attempts[:3]] == [
        ("bot", False, False),
        ("bot", True, True),
        ("bot", None, False),
    ]
    assert [a["reached"] for a in attempts if a["by"] == "marieke"] == [True, None, False]
    # An attempt counts from when it went: the plan offer's own sending moment.
    assert attempts[2]["at"] == offer.sent_at.isoformat()  # type: ignore[union-attr]
