"""Claiming queued messages for one worker, and keeping its claims alive.

A claim is one statement that skips rows another worker has locked and marks the ones it
takes with this worker's token and a lease; a message whose lease ran out (its worker died
mid-send) is due again. The claimed message comes back ready for its channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from messaging.channels.base import OutboundMessage
from messaging.outcomes import Claim
from storage.db import SessionMaker
from storage.models import ContactPoint, Message
from storage.sql import claim as lock_skipping

# WhatsApp allows free text only this long after the tenant's last message.
SESSION_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Claimed:
    claim: Claim
    message: OutboundMessage
    respect_quiet_hours: bool


def outbound_of(message: Message, session_open: bool) -> OutboundMessage:
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


def session_open(message: Message, open_windows: set[int], now: datetime) -> bool:
    if message.contact_point_id is not None:
        return message.contact_point_id in open_windows
    # An answer to an address we could not tie to one tenant: it was written in reply to a
    # message that just came in, so the window is open for a day from then.
    return message.kind == "reply" and message.created_at > now - SESSION_WINDOW


async def claim_due(
    sessions: SessionMaker, token: str, limit: int, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Take up to ``limit`` messages that are due at ``now``, oldest first, for ``lease``."""
    due = lock_skipping(
        select(Message.id)
        .where(
            Message.direction == "out",
            or_(
                (Message.status == "queued") & (Message.next_attempt_at <= now),
                (Message.status == "sending") & (Message.claimed_until < now),
            ),
        )
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    )
    async with sessions() as session, session.begin():
        rows = list(
            await session.scalars(
                update(Message)
                .where(Message.id.in_(due))
                .values(
                    status="sending",
                    claimed_until=now + lease,
                    claim_token=token,
                    attempts=Message.attempts + 1,
                )
                .returning(Message),
                execution_options={"synchronize_session": False},
            )
        )
        if not rows:
            return []
        points = {m.contact_point_id for m in rows if m.contact_point_id is not None}
        open_windows = set(
            await session.scalars(
                select(ContactPoint.id).where(
                    ContactPoint.id.in_(points),
                    ContactPoint.last_inbound_at > now - SESSION_WINDOW,
                )
            )
        )
    rows.sort(key=lambda m: (m.next_attempt_at or now, m.id))
    return [
        Claimed(
            Claim(m.id, token, m.case_id, m.contact_point_id, m.channel, m.attempts),
            outbound_of(m, session_open(m, open_windows, now)),
            m.respect_quiet_hours,
        )
        for m in rows
    ]


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
