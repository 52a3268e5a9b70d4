"""The conversation's memory: pure rules, then the plan flow and its expiry on a real
database, and a whole plan conversation through the sandbox phone page."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from rules.dialogue import (
    Address,
    address_matches,
    confirmation,
    expired,
    just_thanks,
    parse_address,
)
from storage.models import Dialogue, PaymentPlan
from tests.db_helpers import cases, events, messages
from tests.factories import arrears_csv, row
from tests.pages import hidden


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("ja", True),
        ("JA", True),
        ("Ja, dat is goed!", True),
        ("ja graag", True),
        ("Oké 👍", True),
        ("👍", True),
        ("akkoord", True),
        ("yes", True),
        ("Yes please", True),
        ("OK", True),
        ("klopt", True),
        ("nee", False),
        ("Nee, dat lukt niet", False),
        ("NO", False),
        ("ander bedrag", False),
        ("Another amount please", False),
        ("niet akkoord", False),
        ("ja maar dan 40 euro", None),  # a new offer: the parser reads it
        ("nee 40", None),
        ("misschien", None),
        ("", None),
        ("wie is dit?", None),
    ],
)
def test_confirmation(text: str, meaning: bool | None) -> None:
    assert confirmation(text) is meaning


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("1234 AB 5", Address("1234AB", "5", "")),
        ("1234ab 5", Address("1234AB", "5", "")),
        ("5, 1234 AB", Address("1234AB", "5", "")),
        ("Postcode 7942 CD huisnummer 12", Address("7942CD", "12", "")),
        ("7942cd, nr 12", Address("7942CD", "12", "")),
        ("Dorpsstraat 12-a, 7942 CD Meppel", Address("7942CD", "12", "A")),
        ("7942 CD 012", Address("7942CD", "12", "")),
        ("7942 CD", None),  # no house number
        ("12345", None),
        ("hallo", None),
        ("", None),
    ],
)
def test_parse_address(text: str, address: Address | None) -> None:
    assert parse_address(text) == address


def test_address_matches() -> None:
    given = Address("7942CD", "12", "")
    assert address_matches(given, "7942 cd", "12", None)
    assert address_matches(given, "7942CD", "12", "A")  # a suffix counts only when typed
    assert not address_matches(Address("7942CD", "12", "B"), "7942CD", "12", "A")
    assert not address_matches(given, "7942CE", "12", None)
    assert not address_matches(given, "7942CD", "13", None)
    assert not address_matches(given, None, None, None)


def test_expiry_is_inclusive() -> None:
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    assert expired(moment, moment) and not expired(moment, moment - timedelta(seconds=1))


_ids = itertools.count()


async def say(runtime: Runtime, text: str) -> None:
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", text, f"d-{next(_ids)}", runtime.clock.now())
    )


async def answers(runtime: Runtime) -> list[str]:
    return [m.template or "" for m in await messages(runtime, direction="out", kind="reply")]


async def plans(runtime: Runtime) -> list[tuple[str, int, int]]:
    async with runtime.sessions() as session:
        return [
            (p.status, p.amount_cents, p.months)
            for p in await session.scalars(select(PaymentPlan).order_by(PaymentPlan.id))
        ]


async def test_no_asks_again_and_a_new_amount_shows_a_new_plan(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await say(runtime, "ik wil een betalingsregeling")
    await say(runtime, "60")
    await say(runtime, "Nee, dat lukt niet")
    await say(runtime, "80 euro")
    await say(runtime, "nee, 65 euro per maand")
    await say(runtime, "ja")
    assert await answers(runtime) == [
        "reply_plan_ask",
        "reply_plan_confirm",
        "reply_plan_ask",
        "reply_plan_confirm",
        "reply_plan_confirm",
        "reply_plan_agreed",
    ]
    assert await plans(runtime) == [("active", 6500, 10)]
    understood = [m.intent for m in await messages(runtime, direction="in")]
    assert understood == ["plan"] * 6  # "nee" and "ja" answered the plan question
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan")
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert kinds.count("plan_offered") == 3 and "escalated" not in kinds
    async with runtime.sessions() as session:
        assert list(await session.scalars(select(Dialogue))) == []  # nothing left open


async def test_a_yes_after_the_question_expired_agrees_nothing(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await say(runtime, "ik kan 100 euro per maand")
    clock.advance(timedelta(days=7))  # policy: plans.dialogue_days
    await say(runtime, "ja")
    assert await answers(runtime) == ["reply_plan_confirm", "reply_plan_ask"]
    assert await plans(runtime) == []
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan_dialogue")


async def test_the_questions_pause_ends_with_it_and_reminders_resume(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    assert (await runtime.tick()).queued == 1
    await say(runtime, "ik kan 100 euro per maand")
    clock.advance(timedelta(days=6))
    assert (await runtime.tick()).queued == 0  # still waiting for the yes
    clock.advance(timedelta(days=2))
    assert (await runtime.tick()).queued == 1  # no answer: the reminders go on


async def test_another_question_in_the_middle_drops_the_plan_question(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await say(runtime, "ik kan 100 euro per maand")
    await say(runtime, "Ik heb hulp nodig, ik ben mijn baan kwijt")
    await say(runtime, "ja")  # no longer an answer to the plan shown
    assert await plans(runtime) == []
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "help")
    assert (await answers(runtime))[:2] == ["reply_plan_confirm", "reply_help"]


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def test_a_whole_plan_conversation_on_the_sandbox_phone(
    client: TestClient[object, object], runtime: Runtime, clock: ManualClock
) -> None:
    """First reminder → "1" → an amount → "JA" → the plan is agreed → the next month's list
    shows the instalment paid → the plan holds, and no reminder goes out."""
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    overview = await (await client.get("/sandbox")).text()
    phone_path = re.search(r'href="(/sandbox/tenants/\d+)"', overview)
    assert phone_path
    page = await (await client.get(phone_path.group(1))).text()
    point = re.search(r'<option value="(\d+)">SMS', page)
    assert point and "1 = ik wil een betaalafspraak" in page

    async def reply(text: str) -> str:
        response = await client.post(
            "/sandbox/reply",
            data={
                "contact_point": point.group(1),
                "text": text,
                "back": phone_path.group(1),
                "csrf": hidden(page, "csrf"),
            },
        )
        assert response.status == 200
        return await response.text()

    assert "Hoeveel kunt u per maand betalen" in await reply("1")
    shown = await reply("100")
    assert "6 keer € 100,00 en 1 keer € 50,00" in shown and "Stuur JA" in shown
    assert "Afgesproken!" in await reply("JA")
    assert await plans(runtime) == [("active", 10000, 7)]
    clock.advance(timedelta(days=34))
    await runtime.import_data(arrears_csv(row("T1", balance="550,00", as_of="07-01-2027")), "j")
    async with runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    assert (plan.status, plan.checked_instalments, plan.misses) == ("active", 1, 0)
    assert (await runtime.tick()).queued == 0


@pytest.mark.parametrize(
    ("text", "thanks"),
    [
        ("bedankt!", True),
        ("top, dank u wel", True),
        ("thank you very much", True),
        ("👍", True),
        ("hulp", False),
        ("bedankt maar ik heb een vraag", False),
        ("dank u, ik kan 50 per maand", False),
    ],
)
def test_a_thank_you_is_told_from_a_question(text: str, thanks: bool) -> None:
    assert just_thanks(text) is thanks
