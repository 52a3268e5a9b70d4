"""Claiming queued messages for one worker, and keeping its claims alive.

A claim is one statement that skips rows another worker has locked and marks the ones it
takes with this worker's token and a lease; a message whose lease ran out (its worker died
mid-send) is due again. The claimed message comes back ready for its channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol, cast

from sqlalchemy import Integer, Table, bindparam, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.channels.base import OutboundMessage
from messaging.connecting import KeptConnection, statements
from messaging.outcomes import Claim
from storage.db import SessionMaker
from storage.models import ContactPoint, Message
from storage.sql import claim as lock_skipping

# WhatsApp allows free text only this long after the tenant's last message.
SESSION_WINDOW = timedelta(hours=24)

_messages = cast(Table, Message.__table__)
_LIMIT = bindparam("limit", type_=Integer)
_CLAIMED = (
    *("id", "case_id", "contact_point_id", "kind", "channel", "address", "body", "subject"),
    *("template", "language", "context", "created_at", "attempts", "respect_quiet_hours"),
    "next_attempt_at",
)


@dataclass(frozen=True)
class Claimed:
    claim: Claim
    message: OutboundMessage
    respect_quiet_hours: bool


class _Queued(Protocol):
    """What a claim reads of a message: a Message, or a row of its columns."""

    id: int
    case_id: int | None
    contact_point_id: int | None
    kind: str
    channel: str
    address: str
    body: str
    subject: str | None
    template: str | None
    language: str | None
    context: dict[str, Any]
    created_at: datetime


def outbound_of(message: _Queued, session_open: bool) -> OutboundMessage:
    return OutboundMessage(
        message_id=message.id,
        channel=message.channel,
        address=message.address,
        body=message.body,
        subject=message.subject,
        template=message.template,
        language=message.language or "nl",
        variables={key: str(value) for key, value in message.context.items() if value},
        session_open=session_open,
    )


def session_open(message: _Queued, open_windows: set[int], now: datetime) -> bool:
    if message.contact_point_id is not None:
        return message.contact_point_id in open_windows
    # An answer to an address we could not tie to one tenant: it was written in reply to a
    # message that just came in, so the window is open for a day from then.
    return message.kind == "reply" and message.created_at > now - SESSION_WINDOW


async def claim_due(
    db: AsyncEngine | KeptConnection,
    token: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    *,
    lapsed: bool = True,
) -> list[Claimed]:
    """Take up to ``limit`` messages that are due at ``now``, oldest first, for ``lease``:
    queued ones and, with ``lapsed``, those whose worker died (its lease ran out)."""
    values = {"now": now, "limit": limit, "until": now + lease, "token": token}
    async with statements(db) as connection:
        rows = list(await connection.execute(_claiming(lapsed), values))
    if not rows:
        return []
    recent = now - SESSION_WINDOW
    open_windows = {
        m.contact_point_id
        for m in rows
        if m.last_inbound_at is not None and m.last_inbound_at > recent
    }
    rows.sort(key=lambda m: (m.next_attempt_at or now, m.id))
    return [
        Claimed(
            Claim(m.id, token, m.case_id, m.contact_point_id, m.channel, m.attempts),
            outbound_of(m, session_open(m, open_windows, now)),
            m.respect_quiet_hours,
        )
        for m in rows
    ]


@cache
def _claiming(lapsed: bool) -> Any:
    """One statement that picks, marks and returns the messages, as plain rows of the
    columns a send needs (no ORM object per message). Built once: building it costs more
    than running it."""
    now = bindparam("now", type_=_messages.c.next_attempt_at.type)
    # Each read in the outbox index's order, so a claim reads about ``limit`` rows however
    # long the queue. Looking for lapsed claims reads every message being sent, and the
    # versions of them that no transaction needs any more but that are still in the index
    # until vacuumed: the caller does that only now and then.
    branches = [_oldest(_messages.c.status == "queued", _messages.c.next_attempt_at <= now)]
    if lapsed:
        branches.append(_oldest(_messages.c.status == "sending", _messages.c.claimed_until < now))
    either = union_all(*(select(branch) for branch in branches)).subquery("due")
    due = select(either.c.id).order_by(either.c.next_attempt_at, either.c.id).limit(_LIMIT)
    # When the tenant last wrote to this address, read in the same statement.
    last_inbound = (
        select(ContactPoint.last_inbound_at)
        .where(ContactPoint.id == _messages.c.contact_point_id)
        .scalar_subquery()
        .label("last_inbound_at")
    )
    return (
        update(_messages)
        .where(_messages.c.id.in_(due))
        .values(
            status="sending",
            claimed_until=bindparam("until"),
            claim_token=bindparam("token"),
            attempts=_messages.c.attempts + 1,
        )
        .returning(*(_messages.c[name] for name in _CLAIMED), last_inbound)
    )


def _oldest(status: Any, ready: Any) -> Any:
    """The oldest ``limit`` messages in this state, locked, skipping those another worker has
    locked (PostgreSQL; SQLite takes turns per transaction instead). Only outbound messages
    are ever queued or sending, and the outbox index is then the one that fits, whatever the
    planner's statistics say (they lag behind a tick that just queued thousands)."""
    return lock_skipping(
        select(_messages.c.id, _messages.c.next_attempt_at)
        .where(status, ready)
        .order_by(_messages.c.next_attempt_at, _messages.c.id)
        .limit(_LIMIT)
    ).cte()


async def renew_leases(
    sessions: SessionMaker, token: str, message_ids: list[int], until: datetime
) -> int:
    """Push to ``until`` the lease of each of these messages still held with ``token``."""
    if not message_ids:
        return 0
    async with sessions() as session, session.begin():
        done = await session.execute(
            update(Message)
            .where(
                Message.claim_token == token,
                Message.status == "sending",
                Message.id.in_(message_ids),
            )
            .values(claimed_until=until)
        )
    return int(done.rowcount)  # type: ignore[attr-defined]
