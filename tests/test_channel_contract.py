"""One contract, every adapter: the same tests against the sandbox, Twilio SMS, Twilio
WhatsApp, Telegram and email (each against its fake provider on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import pytest

from messaging.channels.base import (
    ChannelAdapter,
    OutboundMessage,
    PermanentSendError,
    SendError,
    TransientSendError,
)
from messaging.channels.email import EmailChannel
from messaging.channels.sandbox import SandboxChannel
from messaging.channels.telegram import TelegramChannel, make_bot
from messaging.channels.twilio import TwilioChannel
from tests.fakes.smtp import smtp_server
from tests.fakes.telegram import TOKEN, fake_telegram
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio


@dataclass
class Subject:
    adapter: ChannelAdapter
    channel: str
    address: str
    # Make the provider refuse ``address``: for good (permanent=True) or for now.
    refuse: Callable[[str, bool], None]


@pytest.fixture(params=["sandbox", "twilio-sms", "twilio-whatsapp", "telegram", "email"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    async with AsyncExitStack() as stack:
        kind = request.param
        if kind == "sandbox":
            sandbox = SandboxChannel()
            refusals: dict[str, SendError] = {}
            sandbox.failure_rules.append(lambda m: refusals.get(m.address))

            def refuse_sandbox(address: str, permanent: bool) -> None:
                refusals[address] = (
                    PermanentSendError("no", "x", unreachable=True)
                    if permanent
                    else TransientSendError("later", "y")
                )

            yield Subject(sandbox, "sms", "+31612345678", refuse_sandbox)
        elif kind.startswith("twilio"):
            fake = await stack.enter_async_context(fake_twilio())
            channel = kind.removeprefix("twilio-")
            adapter = TwilioChannel(
                channel=channel,
                account_sid=ACCOUNT_SID,
                auth_token=AUTH_TOKEN,
                sender="+3197010000001",
                per_second=1000,
                api_base_url=fake.url,
            )
            stack.push_async_callback(adapter.close)
            prefix = "whatsapp:" if channel == "whatsapp" else ""

            def refuse_twilio(address: str, permanent: bool) -> None:
                fake.failures[prefix + address] = (
                    (400, 63003, "not on WhatsApp") if permanent else (429, 20429, "too many")
                )

            yield Subject(adapter, channel, "+31612345678", refuse_twilio)
        elif kind == "telegram":
            bot_api = await stack.enter_async_context(fake_telegram())
            telegram = TelegramChannel(
                make_bot(TOKEN, bot_api.url), per_second=1000, per_chat_per_second=1000
            )
            stack.push_async_callback(telegram.close)

            def refuse_telegram(address: str, permanent: bool) -> None:
                bot_api.failures[address] = (
                    (403, "Forbidden: bot was blocked by the user", None)
                    if permanent
                    else (429, "Too Many Requests: retry after 3", 3)
                )

            yield Subject(telegram, "telegram", "777001", refuse_telegram)
        else:
            mailbox = stack.enter_context(smtp_server())
            email = EmailChannel(
                host="127.0.0.1",
                port=mailbox.port,
                sender="huur@example.nl",
                security="none",
                timeout=5,
            )

            def refuse_email(address: str, permanent: bool) -> None:
                mailbox.refuse[address] = "550 5.1.1 unknown" if permanent else "451 4.3.0 later"

            yield Subject(email, "email", "anna@example.nl", refuse_email)


def message(subject: Subject, address: str | None = None, message_id: int = 1) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        channel=subject.channel,
        address=address or subject.address,
        body="Hallo, dit is een test.",
        subject="Test",
        session_open=True,
    )


async def test_send_returns_a_provider_id_per_message(subject: Subject) -> None:
    first = await subject.adapter.send(message(subject, message_id=1))
    second = await subject.adapter.send(message(subject, message_id=2))
    assert first.provider_id and second.provider_id
    assert first.provider_id != second.provider_id
    assert len(first.provider_id) <= 64  # fits messages.provider_id


async def test_a_dead_address_is_a_permanent_error(subject: Subject) -> None:
    subject.refuse(subject.address, True)
    with pytest.raises(PermanentSendError) as caught:
        await subject.adapter.send(message(subject))
    assert caught.value.unreachable and caught.value.code


async def test_a_busy_provider_is_a_transient_error(subject: Subject) -> None:
    subject.refuse(subject.address, False)
    with pytest.raises(TransientSendError):
        await subject.adapter.send(message(subject))


async def test_close_twice_is_harmless(subject: Subject) -> None:
    await subject.adapter.send(message(subject))
    await subject.adapter.close()
    await subject.adapter.close()
