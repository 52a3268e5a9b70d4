"""Email through the corporation's SMTP server (aiosmtplib): plain text and HTML made from
the same template text."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from messaging.channels.base import (
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from messaging.render import html_version


class EmailChannel:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout

    def compose(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.address
        email["Subject"] = message.subject or ""
        domain = self._sender.rsplit("@", 1)[-1].strip("> ") or None
        email["Message-ID"] = make_msgid(f"arrears.{message.message_id}", domain=domain)
        email.set_content(message.body)
        email.add_alternative(
            html_version(message.body, message.subject or "", message.language), subtype="html"
        )
        return email

    async def send(self, message: OutboundMessage) -> SendResult:
        email = self.compose(message)
        try:
            await aiosmtplib.send(
                email,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refused.code for refused in error.recipients] or [550]
            if any(400 <= code < 500 for code in codes):
                raise TransientSendError(
                    "the mail server asks to try later", str(codes[0])
                ) from error
            raise PermanentSendError(
                "the mail server refused the address", str(codes[0]), unreachable=True
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            code = str(error.code)
            detail = f"mail server: {error.message}"[:200]
            if 400 <= error.code < 500:
                raise TransientSendError(detail, code) from error
            raise PermanentSendError(detail, code) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise TransientSendError(f"mail server unreachable: {error}"[:200]) from error
        return SendResult(provider_id=str(email["Message-ID"]).strip("<>")[:64])

    async def close(self) -> None:
        return None
