"""Twilio's webhooks: inbound SMS and WhatsApp messages, and delivery status callbacks.

Every request is checked against X-Twilio-Signature with the configured public URL (a TLS
proxy changes the URL the request arrives on). A request that fails the check is refused
with 403 before anything is read into the database.
"""

from __future__ import annotations

import asyncio
import logging
import re

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from messaging.channels.base import InboundMessage, PermanentSendError, SendError
from messaging.channels.twilio import OPTED_OUT_CODE, OUTSIDE_WINDOW_CODES, UNREACHABLE_CODES
from messaging.inbox import InboxBusy
from messaging.intake import Intake, Receipt

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_STATUSES = {
    "accepted": "queued",
    "queued": "queued",
    "scheduled": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
_SID = re.compile(r"[A-Za-z0-9]{2,64}")
_CODE = re.compile(r"[0-9]{1,9}")
VALIDATOR = web.AppKey("twilio_validator", RequestValidator)
INTAKE = web.AppKey("twilio_intake", Intake)


async def _verified_form(request: web.Request) -> dict[str, str]:
    try:
        form = {key: str(value) for key, value in (await request.post()).items()}
    except (UnicodeDecodeError, LookupError, ValueError):
        # A body in another charset than it declares: not from Twilio, and nothing to store.
        raise web.HTTPBadRequest(text="the form could not be read") from None
    base = request.app[INTAKE].public_base_url
    url = f"{base.rstrip('/')}{request.path_qs}" if base else str(request.url)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not request.app[VALIDATOR].validate(url, form, signature):
        log.warning("refused a Twilio webhook with a bad signature on %s", request.path)
        raise web.HTTPForbidden(text="invalid signature")
    return form


def _number(address: str) -> str:
    return address.removeprefix("whatsapp:")


async def _inbound(request: web.Request, channel: str) -> web.Response:
    form = await _verified_form(request)
    intake = request.app[INTAKE]
    sid = form.get("MessageSid") or form.get("SmsSid")
    sender = form.get("From")
    if not sid or not sender:
        raise web.HTTPBadRequest(text="MessageSid and From are required")
    if not _SID.fullmatch(sid):
        # Twilio's ids are 34 letters and digits; a longer or stranger one could be cut to
        # look like another message's and be dropped as its replay.
        raise web.HTTPBadRequest(text="MessageSid is not a Twilio message id")
    # A quick-reply button sends its payload; plain text otherwise.
    text = form.get("ButtonPayload") or form.get("Body", "")
    extra = {"provider_handles_opt_out": "yes"} if form.get("OptOutType") else {}
    try:
        # Stored, not yet understood: the workers answer it within seconds.
        await intake.accept(
            InboundMessage(
                channel=channel,
                address=_number(sender),
                text=text,
                provider_id=sid,
                received_at=intake.now(),
                extra=extra,
            )
        )
    except InboxBusy:
        raise web.HTTPServiceUnavailable(
            text="busy, try again", headers={"Retry-After": "5"}
        ) from None
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


async def sms(request: web.Request) -> web.Response:
    return await _inbound(request, "sms")


async def whatsapp(request: web.Request) -> web.Response:
    return await _inbound(request, "whatsapp")


def _error(code_text: str | None) -> SendError | None:
    if not code_text:
        return None
    # Kept in the record as given, but only as characters a database can hold.
    code_text = re.sub(r"[^0-9A-Za-z_-]", "?", code_text[:16])
    # ASCII digits only, and few of them: "²" passes isdigit() and int() refuses it.
    code = int(code_text) if _CODE.fullmatch(code_text) else None
    if code in OUTSIDE_WINDOW_CODES:
        return PermanentSendError("outside the WhatsApp 24-hour window", code_text)
    return PermanentSendError(
        f"Twilio error {code_text}",
        code_text,
        unreachable=code in UNREACHABLE_CODES,
        opted_out=code == OPTED_OUT_CODE,
    )


async def status(request: web.Request) -> web.Response:
    form = await _verified_form(request)
    intake = request.app[INTAKE]
    sid = form.get("MessageSid")
    twilio_status = form.get("MessageStatus", "")
    if not sid or twilio_status not in _STATUSES:
        raise web.HTTPBadRequest(text="MessageSid and a known MessageStatus are required")
    receipt = Receipt(
        ("sms", "whatsapp"), sid, _STATUSES[twilio_status], _error(form.get("ErrorCode"))
    )
    try:
        async with asyncio.timeout(intake.max_wait):
            await intake.record_receipt(receipt)
    except (TimeoutError, SQLAlchemyError) as error:
        # Twilio calls again; the receipt is applied then (a status never moves backwards).
        log.warning("a delivery receipt could not be recorded now: %s", type(error).__name__)
        raise web.HTTPServiceUnavailable(
            text="busy, try again", headers={"Retry-After": "5"}
        ) from None
    return web.Response(status=204)


def add_twilio_routes(app: web.Application, auth_token: str, intake: Intake) -> None:
    """Twilio's three webhooks on ``app``; what they store goes to ``intake``."""
    app[VALIDATOR] = RequestValidator(auth_token)
    app[INTAKE] = intake
    app.router.add_post("/webhooks/twilio/sms", sms)
    app.router.add_post("/webhooks/twilio/whatsapp", whatsapp)
    app.router.add_post("/webhooks/twilio/status", status)
