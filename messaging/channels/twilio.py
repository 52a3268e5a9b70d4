"""Twilio SMS and WhatsApp through the `twilio` package's async client.

Twilio's error codes are translated here, in one place, into the channel contract's
transient and permanent errors.
"""

from __future__ import annotations

import json
import logging

from aiohttp import ClientSession, TCPConnector
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from messaging.channels.base import (
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from messaging.ratelimit import RateLimiter
from messaging.render import buttons

# The http client logs every request with its body at INFO: phone numbers and debts.
_quiet_logger = logging.getLogger("arrears_bot.twilio_http")
_quiet_logger.setLevel(logging.WARNING)

# The address cannot be reached on this channel at all.
UNREACHABLE_CODES = {
    21211,  # invalid 'To' number
    21214,  # 'To' cannot be reached
    21408,  # region not enabled
    21612,  # 'To' not reachable via this sender
    21614,  # 'To' is not a mobile number
    63003,  # WhatsApp: the number is not on WhatsApp
    30003,
    30005,
    30006,  # unreachable handset, unknown destination, landline
}
# Outside the WhatsApp 24-hour window without an approved template: SMS may still work.
OUTSIDE_WINDOW_CODES = {63016}
TRANSIENT_CODES = {20429, 20003, 30001, 63018, 63038}
OPTED_OUT_CODE = 21610


# The values each approved template numbers, in order (docs/OPERATIONS.md).
_CONTENT_VARIABLES = {
    "reply_plan_confirm": ("amount", "months", "first_due", "last_amount", "last_due", "total"),
}
_DEFAULT_VARIABLES = ("name", "balance", "corporation", "phone")


def content_variables(message: OutboundMessage) -> dict[str, str]:
    """Approved templates number their values: for reminders {{1}} name, {{2}} amount,
    {{3}} corporation, {{4}} phone; others as listed in _CONTENT_VARIABLES."""
    keys = _CONTENT_VARIABLES.get(message.template or "", _DEFAULT_VARIABLES)
    return {str(i): message.variables.get(key, "") or "-" for i, key in enumerate(keys, 1)}


def translate(error: TwilioRestException) -> TransientSendError | PermanentSendError:
    code = int(error.code) if error.code else None
    detail = str(error.msg or "Twilio error")[:200]
    label = str(code or error.status)
    if error.status == 429 or error.status >= 500 or code in TRANSIENT_CODES:
        return TransientSendError(detail, label)
    return PermanentSendError(
        detail, label, unreachable=code in UNREACHABLE_CODES, opted_out=code == OPTED_OUT_CODE
    )


class TwilioChannel:
    def __init__(
        self,
        *,
        channel: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        per_second: float | None = None,
        status_callback: str | None = None,
        content_sids: dict[str, str] | None = None,
        api_base_url: str | None = None,
        limiter: RateLimiter | None = None,
        connections: int = 100,
    ) -> None:
        if channel not in ("sms", "whatsapp"):
            raise ValueError(f"Twilio does not carry {channel}")
        self.channel = channel
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._sender = sender
        self._status_callback = status_callback
        self._content_sids = content_sids or {}
        self._api_base_url = api_base_url
        # The dispatcher paces sends for all workers together (messaging.send_budget); a
        # limiter here paces this process alone, for callers outside the dispatcher.
        self._limiter = limiter or (RateLimiter(per_second) if per_second else None)
        # The calls this adapter makes at once at most (a worker's send concurrency): one
        # pool of that many connections, kept alive from call to call.
        self._connections = connections
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    def _address(self, number: str) -> str:
        return f"whatsapp:{number}" if self.channel == "whatsapp" else number

    def _api(self) -> Client:
        # The async http client must be created inside the running event loop.
        if self._client is None:
            self._http = AsyncTwilioHttpClient(logger=_quiet_logger, pool_connections=False)
            self._http.session = ClientSession(connector=TCPConnector(limit=self._connections))
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
            if self._api_base_url:
                self._client.api.base_url = self._api_base_url
        return self._client

    def _payload(self, message: OutboundMessage) -> dict[str, str]:
        payload = {"to": self._address(message.address)}
        if self._sender.startswith("MG"):
            payload["messaging_service_sid"] = self._sender
        else:
            payload["from_"] = self._address(self._sender)
        if self._status_callback:
            payload["status_callback"] = self._status_callback
        sid = self._content_sids.get(f"{message.template}:{message.language}")
        # Inside the window free text will do, but a message with reply options goes as its
        # approved quick-reply template when there is one: the tenant then gets buttons.
        with_buttons = sid is not None and bool(buttons(message.template, message.language))
        if self.channel == "whatsapp" and (not message.session_open or with_buttons):
            if sid is None:
                raise PermanentSendError(
                    f"no approved WhatsApp template for {message.template}:{message.language} "
                    "outside the 24-hour window",
                    "63016",
                )
            payload["content_sid"] = sid
            payload["content_variables"] = json.dumps(content_variables(message))
        else:
            payload["body"] = message.body
        return payload

    async def send(self, message: OutboundMessage) -> SendResult:
        payload = self._payload(message)
        if self._limiter is not None:
            await self._limiter.wait()
        try:
            created = await self._api().messages.create_async(**payload)
        except TwilioRestException as error:
            raise translate(error) from error
        return SendResult(provider_id=str(created.sid))

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None
