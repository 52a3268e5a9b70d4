"""Telegram through the real aiogram client and webhook handler, against a fake Bot API."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import RUNTIME, build_app
from bot.webhook_wiring import RuntimeIntake
from messaging.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from messaging.channels.sandbox import SandboxChannel
from messaging.channels.telegram import TelegramChannel, make_bot
from messaging.telegram_bot import Polling, register_webhook
from rules.clock import ManualClock
from rules.policy import CHANNELS
from storage.models import ContactPoint, PaymentPlan
from tests.db_helpers import cases, messages
from tests.factories import arrears_csv, row
from tests.fakes.telegram import TOKEN, FakeTelegram, button_update, fake_telegram, message_update

SECRET = "webhook-secret-0123456789"
CHAT = 777001


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        yield fake


async def test_reminder_buttons_and_the_exact_request(telegram: FakeTelegram) -> None:
    channel = TelegramChannel(
        make_bot(TOKEN, telegram.url), per_second=1000, per_chat_per_second=1000
    )
    try:
        result = await channel.send(
            OutboundMessage(
                message_id=1,
                channel="telegram",
                address=str(CHAT),
                body="Hallo Anna",
                template="reminder_friendly",
                language="nl",
            )
        )
    finally:
        await channel.close()
    (call,) = telegram.calls
    assert (call.token, call.method) == (TOKEN, "sendMessage")
    assert call.fields["chat_id"] == str(CHAT) and call.fields["text"] == "Hallo Anna"
    keyboard = json.loads(call.fields["reply_markup"])["inline_keyboard"]
    assert [(b[0]["text"], b[0]["callback_data"]) for b in keyboard] == [
        ("Betaalafspraak", "menu:1"),
        ("Ik wil hulp", "menu:2"),
        ("Al betaald", "menu:3"),
    ]
    assert result.provider_id == f"{CHAT}:100"


@pytest.mark.parametrize(
    ("status", "description", "retry_after", "kind", "unreachable"),
    [
        (403, "Forbidden: bot was blocked by the user", None, PermanentSendError, True),
        (400, "Bad Request: chat not found", None, PermanentSendError, True),
        (429, "Too Many Requests: retry after 7", 7, TransientSendError, None),
    ],
)
async def test_telegram_errors_are_translated(
    telegram: FakeTelegram,
    status: int,
    description: str,
    retry_after: int | None,
    kind: type,
    unreachable: bool | None,
) -> None:
    telegram.failures[str(CHAT)] = (status, description, retry_after)
    channel = TelegramChannel(make_bot(TOKEN, telegram.url))
    try:
        with pytest.raises(kind) as caught:
            await channel.send(OutboundMessage(1, "telegram", str(CHAT), "x"))
    finally:
        await channel.close()
    if unreachable is not None:
        assert caught.value.unreachable is unreachable
    else:
        assert caught.value.retry_after == 7


@pytest.fixture
async def tg_runtime(
    database_url: str, clock: ManualClock, telegram: FakeTelegram
) -> AsyncIterator[Runtime]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=TOKEN,
        telegram_bot_username="huur_test_bot",
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=telegram.url,
    )
    sandbox = SandboxChannel()
    channels = dict.fromkeys(CHANNELS, sandbox)
    channels["telegram"] = TelegramChannel(
        make_bot(TOKEN, telegram.url), per_second=1000, per_chat_per_second=1000
    )
    runtime = await Runtime.start(settings, clock=clock, channels=channels, migrate=False)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
async def client(tg_runtime: Runtime) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(build_app(tg_runtime), host="127.0.0.1")) as c:
        yield c


async def post_update(
    client: TestClient[object, object], update: dict[str, object], secret: str | None = SECRET
) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    status = (await client.post("/webhooks/telegram", json=update, headers=headers)).status
    await client.server.app[RUNTIME].handle_inbox()  # as the workers would, within a second
    return status


async def invited(runtime: Runtime, clock: ManualClock) -> str:
    """Import a tenant, send the first reminder (WhatsApp, sandbox); return its link token."""
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    (reminder,) = await messages(runtime, direction="out", kind="reminder")
    link = re.search(r"https://t\.me/huur_test_bot\?start=([A-Za-z0-9_-]+)", reminder.body)
    assert link, reminder.body
    return link.group(1)


async def test_link_then_reply_by_button_and_text(
    tg_runtime: Runtime,
    client: TestClient[object, object],
    telegram: FakeTelegram,
    clock: ManualClock,
) -> None:
    token = await invited(tg_runtime, clock)
    assert await post_update(client, message_update(1, CHAT, f"/start {token}")) == 200
    await tg_runtime.dispatch()
    (welcome,) = telegram.sent()
    assert welcome.fields["chat_id"] == str(CHAT) and "Telegram" in welcome.fields["text"]
    async with tg_runtime.sessions() as session:
        point = await session.scalar(select(ContactPoint).where(ContactPoint.channel == "telegram"))
    assert point is not None and point.address == str(CHAT) and point.verified
    # A button tap is understood as its digit: 3 = paid.
    assert await post_update(client, button_update(2, CHAT, "menu:3")) == 200
    assert [c.method for c in telegram.calls][-1] == "answerCallbackQuery"
    (case,) = await cases(tg_runtime)
    assert (case.status, case.pause_reason) == ("paused", "paid")
    assert await post_update(client, message_update(3, CHAT, "ik heb toch hulp nodig", 5)) == 200
    (case,) = await cases(tg_runtime)
    assert case.escalation_reason == "help"
    await tg_runtime.dispatch()
    assert "medewerker" in telegram.sent()[-1].fields["text"]


async def test_a_token_links_once_and_only_in_time(
    tg_runtime: Runtime,
    client: TestClient[object, object],
    telegram: FakeTelegram,
    clock: ManualClock,
) -> None:
    token = await invited(tg_runtime, clock)
    assert await post_update(client, message_update(1, CHAT, f"/start {token}")) == 200
    assert await post_update(client, message_update(2, CHAT + 1, f"/start {token}")) == 200
    clock.advance(timedelta(days=30))
    assert await post_update(client, message_update(3, CHAT + 2, "/start made-up-token")) == 200
    async with tg_runtime.sessions() as session:
        linked = list(
            await session.scalars(
                select(ContactPoint.address).where(ContactPoint.channel == "telegram")
            )
        )
    assert linked == [str(CHAT)]
    await tg_runtime.dispatch()
    texts = {c.fields["chat_id"]: c.fields["text"] for c in telegram.sent()}
    assert "werkt niet" in texts[str(CHAT + 1)] and "werkt niet" in texts[str(CHAT + 2)]
    assert "€" not in texts[str(CHAT + 1)]


async def test_an_expired_token_does_not_link(
    tg_runtime: Runtime, client: TestClient[object, object], clock: ManualClock
) -> None:
    token = await invited(tg_runtime, clock)
    clock.advance(timedelta(days=15))
    assert await post_update(client, message_update(1, CHAT, f"/start {token}")) == 200
    async with tg_runtime.sessions() as session:
        assert (
            await session.scalar(select(ContactPoint).where(ContactPoint.channel == "telegram"))
            is None
        )


@pytest.mark.parametrize("secret", [None, "wrong-secret-0123456789"])
async def test_webhook_without_the_secret_is_refused_and_stored_nowhere(
    tg_runtime: Runtime, client: TestClient[object, object], secret: str | None
) -> None:
    await tg_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    status = await post_update(client, message_update(1, CHAT, "hulp"), secret=secret)
    assert status == 401
    assert await messages(tg_runtime, direction="in") == []


async def test_a_blocked_bot_makes_the_chat_unreachable(
    tg_runtime: Runtime,
    client: TestClient[object, object],
    telegram: FakeTelegram,
    clock: ManualClock,
) -> None:
    token = await invited(tg_runtime, clock)
    telegram.failures[str(CHAT)] = (403, "Forbidden: bot was blocked by the user", None)
    assert await post_update(client, message_update(1, CHAT, f"/start {token}")) == 200
    await tg_runtime.dispatch()
    async with tg_runtime.sessions() as session:
        point = await session.scalar(select(ContactPoint).where(ContactPoint.channel == "telegram"))
    assert point is not None and point.unreachable_at is not None


async def test_serve_registers_the_webhook_with_its_secret(
    tg_runtime: Runtime, telegram: FakeTelegram
) -> None:
    channel = tg_runtime.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    await register_webhook(channel.bot, "https://huurbot.example.nl/", SECRET)
    (call,) = telegram.calls
    assert call.method == "setWebhook"
    assert call.fields["url"] == "https://huurbot.example.nl/webhooks/telegram"
    assert call.fields["secret_token"] == SECRET
    assert json.loads(call.fields["allowed_updates"]) == ["message", "callback_query"]


async def test_long_polling_links_and_answers_without_a_public_url(
    tg_runtime: Runtime, telegram: FakeTelegram, clock: ManualClock
) -> None:
    token = await invited(tg_runtime, clock)
    telegram.updates.append(message_update(1, CHAT, f"/start {token}"))
    channel = tg_runtime.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    polling = Polling(RuntimeIntake(tg_runtime), channel.bot, timeout=0)
    await polling.start()
    try:
        await asyncio.wait_for(telegram.drained.wait(), timeout=20)  # a guard, not a delay
    finally:
        await polling.stop()
    assert telegram.calls[0].method == "deleteWebhook"
    async with tg_runtime.sessions() as session:
        point = await session.scalar(select(ContactPoint).where(ContactPoint.channel == "telegram"))
    assert point is not None and point.address == str(CHAT)


async def test_a_whole_plan_conversation_on_telegram_buttons(
    tg_runtime: Runtime,
    client: TestClient[object, object],
    telegram: FakeTelegram,
    clock: ManualClock,
) -> None:
    """First reminder → link Telegram → tap "payment plan" → send an amount → tap "yes" under
    the plan shown → the plan is agreed → the next month's list shows the instalment paid →
    the plan holds."""
    token = await invited(tg_runtime, clock)
    assert await post_update(client, message_update(1, CHAT, f"/start {token}")) == 200
    assert await post_update(client, button_update(2, CHAT, "menu:1")) == 200
    await tg_runtime.dispatch()
    assert "Hoeveel kunt u per maand betalen" in telegram.sent()[-1].fields["text"]
    assert await post_update(client, message_update(3, CHAT, "100 euro", 7)) == 200
    await tg_runtime.dispatch()
    confirm = telegram.sent()[-1].fields
    assert "6 keer € 100,00 en 1 keer € 50,00" in confirm["text"]
    assert "menu:JA" in confirm["reply_markup"] and "Ander bedrag" in confirm["reply_markup"]
    assert await post_update(client, button_update(4, CHAT, "menu:JA")) == 200
    await tg_runtime.dispatch()
    agreed = telegram.sent()[-1].fields["text"]
    assert "Afgesproken" in agreed
    assert "6 keer € 100,00 en 1 keer € 50,00" in agreed and "1 januari 2027" in agreed
    clock.advance(timedelta(days=34))
    await tg_runtime.import_data(
        arrears_csv(row("T1", balance="550,00", as_of="07-01-2027")), "jan.csv"
    )
    (case,) = await cases(tg_runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan")
    async with tg_runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    assert (plan.status, plan.checked_instalments, plan.misses) == ("active", 1, 0)


async def test_idle_chat_limiters_are_forgotten_when_there_are_many(telegram: FakeTelegram) -> None:
    # One message per chat every 1000 s: a chat just written to stays busy for the test.
    channel = TelegramChannel(make_bot(TOKEN, telegram.url), per_chat_per_second=0.001, max_chats=3)
    try:
        busy = channel.chat_limiter("1")
        await busy.wait()  # its next slot is far away: it must be kept
        for chat in ("2", "3"):
            channel.chat_limiter(chat)  # never used: idle
        assert channel.chat_limiter("1") is busy
        channel.chat_limiter("4")  # the fourth makes room by dropping the idle ones
        assert channel.chat_limiter("1") is busy
        assert set(channel._chats) == {"1", "4"}
    finally:
        await channel.close()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'"hulp"',
        b'{"update_id": "x"}',
        b'{"update_id": 1, "message": {"chat": 5}}',
        b"[" * 50_000,  # deeper than any parser should follow
        b"\xff\xfe\x00",
        b"",
    ],
)
async def test_an_update_we_cannot_read_is_a_400_and_stored_nowhere(
    tg_runtime: Runtime, client: TestClient[object, object], body: bytes
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    response = await client.post("/webhooks/telegram", data=body, headers=headers)
    assert response.status == 400
    assert "Traceback" not in await response.text()
    assert await messages(tg_runtime) == []
    # Without the secret, it is refused before it is read.
    refused = await client.post(
        "/webhooks/telegram", data=body, headers={"Content-Type": "application/json"}
    )
    assert refused.status == 401


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(max_size=500),
    chat=st.integers(min_value=-(2**70), max_value=2**70),
    update_id=st.integers(min_value=-(2**70), max_value=2**70),
)
async def test_fuzzed_updates_with_the_secret_are_never_a_500(
    tg_runtime: Runtime, client: TestClient[object, object], text: str, chat: int, update_id: int
) -> None:
    update = message_update(1, CHAT, "x")
    update["update_id"] = update_id
    message = update["message"]
    assert isinstance(message, dict)
    message["text"], message["chat"]["id"], message["from"]["id"] = text, chat, chat
    before = len(await messages(tg_runtime, direction="in"))
    status = await post_update(client, update)
    assert status in (200, 400)
    stored = len(await messages(tg_runtime, direction="in")) - before
    assert stored <= (1 if status == 200 else 0)


@pytest.mark.parametrize("text", ["/start \x00", "/start abc\x00def", "/start " + "x" * 5000])
async def test_a_start_link_that_cannot_be_ours_is_answered_as_invalid(
    tg_runtime: Runtime, client: TestClient[object, object], text: str
) -> None:
    assert await post_update(client, message_update(1, CHAT, text)) == 200
    (answer,) = await messages(tg_runtime, direction="out")
    assert answer.template == "telegram_link_invalid"


async def test_half_a_character_is_kept_as_a_question_mark_not_retried_forever(
    tg_runtime: Runtime, client: TestClient[object, object]
) -> None:
    body = json.dumps(message_update(1, CHAT, "hulp \ud800 nodig")).encode()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    response = await client.post("/webhooks/telegram", data=body, headers=headers)
    assert response.status == 200
    (stored,) = await messages(tg_runtime, direction="in")
    assert stored.body == "hulp ? nodig"


async def test_an_update_of_a_kind_we_did_not_ask_for_is_ignored_quietly(
    tg_runtime: Runtime, client: TestClient[object, object], caplog: pytest.LogCaptureFixture
) -> None:
    update = {
        "update_id": 9,
        "zzz_future_update": {"chat": {"id": CHAT}, "text": "mijn man is ziek"},
    }
    assert await post_update(client, update) == 200
    assert await messages(tg_runtime) == []
    assert "ziek" not in caplog.text
