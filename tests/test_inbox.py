"""The inbox: a webhook stores what a tenant wrote and answers at once; the workers
understand it later, in order per address, and a message that cannot be handled waits (and
holds back the later ones from the same address) instead of being lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime, build_channels
from bot.web import build_app
from rules.clock import ManualClock
from storage.models import Message, PaymentPlan
from storage.scratch import _admin_dsn
from tests.db_helpers import cases, messages
from tests.factories import arrears_csv, row
from tests.fakes.twilio import signature
from tests.twilio_fixtures import ANNA, PUBLIC, inbound_form


@pytest.fixture
async def raw_client(twilio_runtime: Runtime) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(build_app(twilio_runtime), host="127.0.0.1")) as c:
        yield c


async def post(client: TestClient[object, object], form: dict[str, str]) -> int:
    """A signed inbound SMS; the workers are not asked to handle it."""
    path = "/webhooks/twilio/sms"
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
    response = await client.post(path, data=form, headers=headers)
    assert "Traceback" not in await response.text()
    return response.status


async def test_the_webhook_stores_and_answers_before_understanding(
    twilio_runtime: Runtime, raw_client: TestClient[object, object]
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    form = inbound_form("ik heb hulp nodig", "SM" + "a" * 32)
    assert await post(raw_client, form) == 200
    assert await post(raw_client, form) == 200  # Twilio retried: kept once
    (stored,) = await messages(twilio_runtime, direction="in")
    assert (stored.status, stored.intent, stored.case_id) == ("pending", None, None)
    assert await messages(twilio_runtime, direction="out") == []
    (result,) = await twilio_runtime.handle_inbox()
    assert result.matched and result.intent is not None and result.intent.value == "help"
    (stored,) = await messages(twilio_runtime, direction="in")
    assert (stored.status, stored.intent) == ("received", "help")
    (case,) = await cases(twilio_runtime)
    assert case.escalation_reason == "help" and stored.case_id == case.id
    (answer,) = await messages(twilio_runtime, direction="out")
    assert answer.template == "reply_help"
    assert await twilio_runtime.handle_inbox() == []


async def test_one_address_is_understood_in_order_by_concurrent_workers(
    twilio_runtime: Runtime, raw_client: TestClient[object, object]
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    for n, text in enumerate(["1", "100 euro", "JA"]):
        assert await post(raw_client, inbound_form(text, f"SM{n:032d}")) == 200
    others = [
        await Runtime.start(
            twilio_runtime.settings,
            clock=twilio_runtime.clock,
            channels=build_channels(twilio_runtime.settings),
            migrate=False,
        )
        for _ in range(3)
    ]
    try:
        # Four workers at once; each message must wait for the one before it.
        await asyncio.gather(*(w.handle_inbox() for w in [twilio_runtime, *others]))
        await twilio_runtime.handle_inbox()
    finally:
        for worker in others:
            await worker.close()
    answers = [m.template for m in await messages(twilio_runtime, direction="out")]
    assert answers == ["reply_plan_ask", "reply_plan_confirm", "reply_plan_agreed"]
    async with twilio_runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    assert (plan.status, plan.amount_cents) == ("active", 10000)


@pytest.mark.postgresql_only
async def test_a_webhook_that_cannot_store_in_time_gets_503_and_its_retry_is_kept(
    backend: str, twilio_runtime: Runtime, raw_client: TestClient[object, object]
) -> None:
    twilio_runtime.inbox._max_wait = 0.5
    form = inbound_form("hulp", "SM" + "b" * 32)
    blocker = await asyncpg.connect(_admin_dsn(twilio_runtime.settings.database_url))
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE messages IN EXCLUSIVE MODE")
        path = "/webhooks/twilio/sms"
        headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
        response = await raw_client.post(path, data=form, headers=headers)
        assert response.status == 503 and response.headers["Retry-After"] == "5"
        await transaction.rollback()
    finally:
        await blocker.close()
    assert await post(raw_client, form) == 200  # Twilio's retry
    assert len(await messages(twilio_runtime, direction="in")) == 1


@pytest.mark.postgresql_only
async def test_a_message_that_cannot_be_handled_waits_and_holds_back_later_ones(
    backend: str,
    twilio_runtime: Runtime,
    raw_client: TestClient[object, object],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    admin = await asyncpg.connect(_admin_dsn(twilio_runtime.settings.database_url))
    try:
        # A real failure inside the database while the reply is recorded.
        await admin.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            # An error that quotes a row, as PostgreSQL's DETAIL lines do: never logged.
            "$$ BEGIN RAISE EXCEPTION 'refused' USING DETAIL = (SELECT string_agg(address "
            "|| ' ' || body, ',') FROM messages WHERE direction = 'in'); END $$;"
            "CREATE TRIGGER refuse BEFORE INSERT ON case_events FOR EACH ROW "
            "WHEN (NEW.kind = 'reply_received') EXECUTE FUNCTION refuse();"
        )
        assert await post(raw_client, inbound_form("hulp", "SM" + "c" * 32)) == 200
        assert await post(raw_client, inbound_form("ik betaal morgen", "SM" + "d" * 32)) == 200
        await twilio_runtime.handle_inbox()
        first, second = await messages(twilio_runtime, direction="in")
        assert (first.status, first.attempts) == ("pending", 1)
        assert second.status == "pending" and second.attempts == 0  # waits its turn
        assert await messages(twilio_runtime, direction="out") == []
        for _ in range(4):  # the retries come later, and fail again
            clock.advance(timedelta(hours=2))
            await twilio_runtime.handle_inbox()
        first = (await messages(twilio_runtime, direction="in"))[0]
        assert (first.status, first.attempts) == ("failed", 5)  # set aside for a person
        await admin.execute("DROP TRIGGER refuse ON case_events")
        clock.advance(timedelta(hours=2))
        await twilio_runtime.handle_inbox()
    finally:
        await admin.close()
    first, second = await messages(twilio_runtime, direction="in")
    assert (first.status, second.status) == ("failed", "received")
    assert "could not be handled" in caplog.text and "refused" not in caplog.text
    assert ANNA not in caplog.text and "betaal morgen" not in caplog.text
    async with twilio_runtime.sessions() as session:
        stuck = await session.scalar(select(Message.id).where(Message.status == "pending"))
    assert stuck is None


@pytest.mark.postgresql_only
async def test_a_delivery_receipt_that_cannot_be_recorded_in_time_gets_503(
    backend: str, twilio_runtime: Runtime, raw_client: TestClient[object, object]
) -> None:
    twilio_runtime.settings = twilio_runtime.settings.model_copy(
        update={"webhook_max_wait_seconds": 0.5}
    )
    form = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered", "To": ANNA}
    path = "/webhooks/twilio/status"
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
    blocker = await asyncpg.connect(_admin_dsn(twilio_runtime.settings.database_url))
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
        response = await raw_client.post(path, data=form, headers=headers)
        assert response.status == 503 and response.headers["Retry-After"] == "5"
        await transaction.rollback()
    finally:
        await blocker.close()
    assert (await raw_client.post(path, data=form, headers=headers)).status == 204


async def test_odd_ids_and_error_codes_are_refused_or_read_never_a_500(
    twilio_runtime: Runtime, raw_client: TestClient[object, object]
) -> None:
    for sid in ["SM" + "x" * 498, "SMnul\x003", "SM-1", "S"]:
        assert await post(raw_client, inbound_form("hulp", sid)) == 400, sid
    assert await messages(twilio_runtime, direction="in") == []
    path = "/webhooks/twilio/status"
    for code in ["²", "9" * 5000, "30003x", ""]:
        form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed", "ErrorCode": code}
        headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
        response = await raw_client.post(path, data=form, headers=headers)
        assert response.status == 204, code  # no such message: nothing to update


@pytest.mark.postgresql_only
async def test_a_later_message_waits_while_another_worker_holds_the_earlier_one(
    backend: str, twilio_runtime: Runtime, raw_client: TestClient[object, object]
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    for n, text in enumerate(["1", "100 euro"]):
        assert await post(raw_client, inbound_form(text, f"SM{n:032d}")) == 200
    first, second = await messages(twilio_runtime, direction="in")
    worker = await asyncpg.connect(_admin_dsn(twilio_runtime.settings.database_url))
    try:
        # Another worker is busy with the first message: this one must not take the second.
        transaction = worker.transaction()
        await transaction.start()
        await worker.execute("SELECT id FROM messages WHERE id = $1 FOR UPDATE", first.id)
        assert await twilio_runtime.handle_inbox() == []
        await transaction.rollback()
    finally:
        await worker.close()
    assert [r.message_id for r in await twilio_runtime.handle_inbox()] == [first.id, second.id]
    answers = [m.template for m in await messages(twilio_runtime, direction="out")]
    assert answers == ["reply_plan_ask", "reply_plan_confirm"]
