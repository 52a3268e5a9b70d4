"""Email through the real aiosmtplib client to a local aiosmtpd server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from messaging.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from messaging.channels.email import EmailChannel
from messaging.render import render
from tests.fakes.smtp import Mailbox, smtp_server


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


def channel(port: int) -> EmailChannel:
    return EmailChannel(
        host="127.0.0.1",
        port=port,
        sender="Huur <huur@woonconcept.example>",
        security="none",
        timeout=5,
    )


async def test_plain_text_and_html_from_the_same_template(mailbox: Mailbox) -> None:
    rendered = render(
        "reminder_written",
        "nl",
        "email",
        {
            "corporation": "Woonconcept",
            "phone": "088 123 45 67",
            "name": "Anna",
            "balance": "€ 650,00",
            "show_details": True,
        },
    )
    result = await channel(mailbox.port).send(
        OutboundMessage(
            message_id=7,
            channel="email",
            address="anna@example.nl",
            body=rendered.body,
            subject=rendered.subject,
        )
    )
    (mail,) = mailbox.received
    assert mailbox.envelopes == [("huur@woonconcept.example", ["anna@example.nl"])]
    assert mail["Subject"] == rendered.subject and mail["To"] == "anna@example.nl"
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").strip() == rendered.body
    assert "€ 650,00" in html.get_content() and "<br>" in html.get_content()
    assert result.provider_id in mail["Message-ID"]
    assert '<html lang="nl">' in html.get_content()


async def test_an_english_mail_says_it_is_english(mailbox: Mailbox) -> None:
    rendered = render(
        "reminder_written",
        "en",
        "email",
        {"corporation": "Woonconcept", "phone": "088 123 45 67", "name": "Anna"},
    )
    await channel(mailbox.port).send(
        OutboundMessage(
            message_id=8,
            channel="email",
            address="anna@example.nl",
            body=rendered.body,
            subject=rendered.subject,
            language="en",
        )
    )
    (mail,) = mailbox.received
    html = mail.get_body(("html",))
    assert html is not None and '<html lang="en">' in html.get_content()


async def test_a_refused_address_is_permanent_and_unreachable(mailbox: Mailbox) -> None:
    mailbox.refuse["gone@example.nl"] = "550 5.1.1 No such user"
    with pytest.raises(PermanentSendError) as caught:
        await channel(mailbox.port).send(OutboundMessage(1, "email", "gone@example.nl", "x", "s"))
    assert caught.value.unreachable
    assert mailbox.received == []


async def test_a_busy_server_is_transient(mailbox: Mailbox) -> None:
    mailbox.refuse["later@example.nl"] = "451 4.3.0 Try again later"
    with pytest.raises(TransientSendError):
        await channel(mailbox.port).send(OutboundMessage(1, "email", "later@example.nl", "x", "s"))


async def test_no_server_is_transient() -> None:
    with smtp_server() as box:
        port = box.port
    with pytest.raises(TransientSendError):
        await channel(port).send(OutboundMessage(1, "email", "a@example.nl", "x", "s"))
