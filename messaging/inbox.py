"""The inbox: what tenants write, stored once and acknowledged at once.

A webhook only verifies and stores (deduplicated by the provider's id: a provider that
retries finds its message already there); understanding and answering happen later, in the
workers (``handlers.inbox``). Stores wait for a free slot, so a burst of webhooks queues in
front of the connection pool instead of draining it; one that cannot be stored in time is
refused with a retryable status, never half-kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.channels.base import InboundMessage
from storage.db import SessionMaker
from storage.models import Message
from storage.sql import insert_ignoring_conflicts

log = logging.getLogger(__name__)

PENDING = "pending"  # stored, not yet understood
MAX_BODY = 4000


class InboxBusy(Exception):
    """No free slot in time, or the database refused: the sender should try again."""


async def store(session: AsyncSession, inbound: InboundMessage, now: datetime) -> int | None:
    """Insert the message as pending; None when this provider id was stored before."""
    result = await session.execute(
        insert_ignoring_conflicts(session, Message)
        .values(
            direction="in",
            kind="reply",
            channel=inbound.channel,
            # PostgreSQL text cannot hold NUL; a tenant's message is kept without it.
            address=inbound.address.replace("\x00", "")[:320],
            body=inbound.text.replace("\x00", "")[:MAX_BODY],
            status=PENDING,
            provider_id=inbound.provider_id.replace("\x00", "")[:64],
            attempts=0,
            context=dict(inbound.extra),
            fallback_channels=[],
            respect_quiet_hours=False,
            next_attempt_at=now,
            created_at=inbound.received_at or now,
        )
        .returning(Message.id)
    )
    return result.scalar_one_or_none()


class Inbox:
    def __init__(
        self,
        sessions: SessionMaker,
        now: Callable[[], datetime],
        *,
        slots: int,
        max_wait: float,
    ) -> None:
        self._sessions = sessions
        self._now = now
        self._slots = asyncio.Semaphore(max(1, slots))
        self._max_wait = max_wait
        self.listeners: list[Callable[[], None]] = []

    async def accept(self, inbound: InboundMessage) -> int | None:
        """Store one message (None: a replay) and tell the listeners; InboxBusy when it
        could not be stored in time. A store cut off by the deadline may still have been
        committed: the sender's retry then finds it (same provider id), so nothing is lost
        and nothing is kept twice."""
        try:
            async with asyncio.timeout(self._max_wait):
                async with self._slots, self._sessions() as session, session.begin():
                    message_id = await store(session, inbound, self._now())
        except TimeoutError:
            log.warning("an inbound %s message waited too long to be stored", inbound.channel)
            raise InboxBusy("too many messages at once") from None
        except Exception as error:
            # Parameters are hidden from the engine's errors; only the kind is logged.
            log.error("could not store an inbound %s message: %s", inbound.channel, type(error))
            raise InboxBusy("the database did not take the message") from error
        if message_id is not None:
            for listener in self.listeners:
                listener()
        return message_id
