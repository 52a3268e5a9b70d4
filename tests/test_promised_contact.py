"""A promised call-back is kept: once the bot has told a tenant that a colleague will get in
touch, paying the rent does not take the case out of the consultant queue; a consultant's
logged contact does. Through the real import, the real inbound handler and the workplace
over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import build_app
from messaging.channels.base import InboundMessage
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS
from tests.db_helpers import cases, events, messages
from tests.factories import arrears_csv, row
from tests.test_workplace import csrf_of, log_in, make_user

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def runtime(
    settings: Settings, clock: ManualClock, sandbox: SandboxChannel
) -> AsyncIterator[Runtime]:
    """The tenants' days go by; the consultant's login, on the wall clock, stays."""
    rt = await Runtime.start(
        settings,
        clock=clock,
        wall_clock=ManualClock(clock.now()),
        channels=dict.fromkeys(CHANNELS, sandbox),
        migrate=False,
    )
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def tenant_says(runtime: Runtime, text: str, phone: str = "+31612345678") -> None:
    await runtime.receive(
        InboundMessage("whatsapp", phone, text, f"in-{phone}-{text}", runtime.clock.now())
    )


async def paid_list(runtime: Runtime, clock: ManualClock, day: int) -> tuple[int, int]:
    """The next morning's list shows T1 paid: (cases closed, cases updated)."""
    clock.advance(timedelta(days=1))
    summary = await runtime.import_data(
        arrears_csv(row("T1", balance="0", as_of=f"{day:02d}-12-2026")), f"d{day}.csv"
    )
    return summary.closed, summary.updated


async def queued_case_ids(client: Client) -> list[int]:
    return [entry["case_id"] for entry in (await (await client.get("/api/queue")).json())["cases"]]


async def log_contact(client: Client, case_id: int, mode: str = "Telefoon") -> None:
    response = await client.post(
        f"/cases/{case_id}/contact",
        data={
            "csrf": await csrf_of(client, f"/cases/{case_id}"),
            "mode": mode,
            "reached": "yes",
            "outcome": "Gebeld: betaald, alles goed.",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"].endswith("notice=contact")


@pytest.mark.parametrize(
    ("text", "reason", "promise"),
    [
        ("hulp", "help", "reply_help"),
        ("ik kan 10 euro per maand", "plan_request", "reply_plan_received"),  # below the €25
        ("klopt het bedrag wel?", "question", "reply_received"),
    ],
)
async def test_paying_does_not_close_a_case_a_colleague_promised_to_call_about(
    client: Client, runtime: Runtime, clock: ManualClock, text: str, reason: str, promise: str
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await tenant_says(runtime, text)
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", reason)
    assert [m.template for m in await messages(runtime, direction="out")] == [promise]

    assert await paid_list(runtime, clock, 2) == (0, 1)
    (case,) = await cases(runtime)
    assert (case.status, case.balance_cents, case.next_action_at) == ("escalated", 0, None)
    assert case.escalation_reason == reason
    assert [e.kind for e in await events(runtime, case.id)][-2:] == [
        "balance_changed",
        "close_held",
    ]
    (thanks,) = await messages(runtime, template="thanks_cleared")  # the tenant hears it arrived
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    assert await queued_case_ids(client) == [case.id]

    # Another paid list before anyone called changes nothing and says nothing twice.
    assert await paid_list(runtime, clock, 3) == (0, 0)
    assert await queued_case_ids(client) == [case.id]
    assert [e.kind for e in await events(runtime, case.id)].count("close_held") == 1

    await log_contact(client, case.id)
    assert await paid_list(runtime, clock, 4) == (1, 0)
    (case,) = await cases(runtime)
    assert (case.status, case.close_reason) == ("closed", "paid")
    assert await queued_case_ids(client) == []
    assert [m.id for m in await messages(runtime, template="thanks_cleared")] == [thanks.id]


async def test_one_list_closes_what_was_kept_or_never_promised_and_holds_the_rest(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    phones = {"T1": "06-12345678", "T2": "06-11111111", "T3": "06-22222222"}
    await runtime.import_data(
        arrears_csv(*(row(ref, phone=phone) for ref, phone in phones.items())), "d1.csv"
    )
    await tenant_says(runtime, "hulp", "+31612345678")  # T1: called back before paying
    await tenant_says(runtime, "hulp", "+31611111111")  # T2: nobody called yet
    await tenant_says(runtime, "3", "+31622222222")  # T3: "paid" promises no call
    first, second, _ = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    clock.advance(timedelta(hours=2))
    await log_contact(client, first.id, mode="Huisbezoek")
    clock.advance(timedelta(days=1))
    paid = arrears_csv(
        *(row(ref, phone=phone, balance="0", as_of="02-12-2026") for ref, phone in phones.items())
    )
    summary = await runtime.import_data(paid, "d2.csv")
    assert (summary.closed, summary.updated) == (2, 1)
    assert [case.status for case in await cases(runtime)] == ["closed", "escalated", "closed"]
    assert await queued_case_ids(client) == [second.id]


async def test_a_case_paused_before_anyone_called_comes_back_to_the_queue_when_paid(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await tenant_says(runtime, "hulp")
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    paused = await client.post(
        f"/cases/{case.id}/pause",
        data={"csrf": await csrf_of(client, f"/cases/{case.id}"), "until": "2026-12-20"},
        allow_redirects=False,
    )
    assert paused.status == 303
    assert await queued_case_ids(client) == []
    assert await paid_list(runtime, clock, 2) == (0, 1)
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason, case.next_action_at) == (
        "escalated",
        "callback",
        None,
    )
    assert await queued_case_ids(client) == [case.id]


async def test_a_tenant_who_writes_after_the_case_closed_is_answered_by_a_person(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await paid_list(runtime, clock, 2)
    (case,) = await cases(runtime)
    assert case.status == "closed"
    await tenant_says(runtime, "bedankt!")  # thanks for the thank-you: nothing to do
    (case,) = await cases(runtime)
    assert case.status == "closed"
    assert [m.template for m in await messages(runtime, direction="out", kind="reply")] == []
    await tenant_says(runtime, "ik ben mijn baan kwijt, kan iemand mij helpen")
    (case,) = await cases(runtime)
    # The answer says a colleague will get in touch, so the case is in the queue again.
    assert (case.status, case.escalation_reason, case.closed_at) == ("escalated", "help", None)
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.template == "reply_help"


async def test_a_plan_agreed_in_the_chat_keeps_a_promised_call_in_the_queue(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await tenant_says(runtime, "ik ben mijn baan kwijt, kan iemand helpen")
    for text in ("ik kan 100 euro per maand", "JA"):
        clock.advance(timedelta(minutes=5))
        await tenant_says(runtime, text)
    (case,) = await cases(runtime)
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert "plan_agreed" in kinds
    # The plan stands, and a colleague still calls as promised.
    assert (case.status, case.escalation_reason) == ("escalated", "help")
