"""Twilio SMS and WhatsApp through the `twilio` package's async client.

Twilio's error codes are translated here, in one place, into the channel contract's
transient and permanent errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientSession, ClientTimeout, TCPConnector, encode_basic_auth
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
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


# quote_plus(text, safe="") byte by byte in one C loop: each UTF-8 byte that is not
# unreserved becomes %XX, a space "+".
_FORM_ESCAPED = [
    chr(byte)
    if chr(byte).isascii() and (chr(byte).isalnum() or chr(byte) in "_.-~")
    else "+"
    if byte == 0x20
    else f"%{byte:02X}"
    for byte in range(256)
]


def form_encoded(data: Mapping[str, object]) -> bytes:
    """``urlencode(data, doseq=True)``, as aiohttp would send it, for string values; that
    function quotes character by character in Python, a good part of a send's cost."""
    if not all(isinstance(value, str) for value in data.values()):
        return urlencode(data, doseq=True).encode()
    return "&".join(
        f"{_form_escaped(key)}={_form_escaped(value)}"  # type: ignore[arg-type]
        for key, value in data.items()
    ).encode()


def _authorization(login: str, password: str) -> str:
    # latin-1, as the library's BasicAuth encodes it (without its deprecation warning).
    return encode_basic_auth(login, password, "latin1")


def _form_escaped(text: str) -> str:
    return "".join(map(_FORM_ESCAPED.__getitem__, text.encode()))


class LeanHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The twilio library's async HTTP client, less the work it does on every call that a
    sender of thousands of messages pays for and has no use for: a BasicAuth object per
    call (its own Authorization header is made once), the form built through aiohttp's
    FormData, the request logged line by line (our logger drops INFO) and kept as
    ``_test_only_last_request``. The library still builds the request, and parses and
    checks the answer; this only carries it, over one kept-alive connection pool."""

    def __init__(self, session: ClientSession, account_sid: str, auth_token: str) -> None:
        super().__init__(pool_connections=False, logger=_quiet_logger)
        self.session = session
        self._auth = (account_sid, auth_token)
        self._authorization = _authorization(account_sid, auth_token)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the library's signature
        allow_redirects: bool = False,
    ) -> Response:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        sending = dict(headers or {})
        if auth is not None:
            sending["Authorization"] = (
                self._authorization if tuple(auth) == self._auth else _authorization(*auth)
            )
        options: dict[str, Any] = {}
        if timeout is not None:
            options["timeout"] = ClientTimeout(total=timeout)
        response = await self.session.request(
            method.upper(),
            url,
            params=params,
            data=form_encoded(data) if data else None,
            headers=sending,
            allow_redirects=allow_redirects,
            **options,
        )
        return Response(response.status, await response.text(), response.headers)


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
            session = ClientSession(connector=TCPConnector(limit=self._connections))
            self._http = LeanHttpClient(session, self._account_sid, self._auth_token)
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
