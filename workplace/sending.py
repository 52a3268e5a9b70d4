"""When an outgoing message really went, and whether it reached the tenant, from what we
know: the outbox row (its status and `sent_at`) and the events its sending wrote. A message
is written into the outbox first and sent later — after quiet hours, a retry or a queue of
others — so the moment it was queued says nothing about when the tenant got it. Pure:
loaded rows in, plain values out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from storage.models import CaseEvent, Message

# Gone to the provider, and what the provider told us after.
SENT = ("sent", "delivered", "read")
# Still in our outbox: queued (maybe waiting for the morning) or in a worker's hands.
NOT_SENT_YET = ("queued", "sending")
# The events that say when a message went (messaging/outcomes.py, handlers/receipts.py), and
# when it failed.
_WENT = ("message_sent", "message_delivered", "message_read")
_FAILED = "send_failed"
# A message counts as reaching the tenant when they wrote back within this time.
REPLY_WINDOW = timedelta(days=7)


def moments(messages: Iterable[Message], events: Iterable[CaseEvent]) -> dict[int, datetime]:
    """Outgoing message id → when it was sent (or, for a failed one, when it failed). A
    message not sent yet has no moment."""
    went: dict[int, datetime] = {}
    failed: dict[int, datetime] = {}
    for event in events:
        message_id = event.data.get("message_id")
        if not isinstance(message_id, int):
            continue
        if event.kind in _WENT and (message_id not in went or event.at < went[message_id]):
            went[message_id] = event.at
        elif event.kind == _FAILED:
            failed[message_id] = event.at  # the last failure is the one that stuck
    found: dict[int, datetime] = {}
    for message in messages:
        if message.direction != "out":
            continue
        if message.status in SENT:
            moment = message.sent_at or went.get(message.id)
        elif message.status == "failed":
            moment = failed.get(message.id)
        else:
            moment = None
        if moment is not None:
            found[message.id] = moment
    return found


def is_answer(message: Message) -> bool:
    """The bot's answer to a tenant's own message (handlers/inbound.py, linking.py): the
    tenant was there, writing to us. A consultant's message is kind "reply" too, but the
    consultant writes when they choose."""
    return message.kind == "reply" and message.template != "consultant_reply"


def reached(message: Message, at: datetime, replies: Sequence[datetime]) -> bool | None:
    """Did this message reach the tenant? True when the provider says it was delivered or
    read, when the tenant wrote back within `REPLY_WINDOW` (as the reports count a reply),
    or when it answered the tenant's own message; False when it failed; None when we do not
    know (sent, no receipt, no answer): an email or a Telegram message gets no receipt, and
    silence is no proof that it never arrived."""
    if message.status == "failed":
        return False
    if message.status in ("delivered", "read") or is_answer(message):
        return True
    if any(at <= reply <= at + REPLY_WINDOW for reply in replies):
        return True
    return None
