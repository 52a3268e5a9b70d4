"""The inbox workers: claim what tenants wrote and run the conversation, in order per address.

Each message is claimed, understood, answered and marked ``received`` in one transaction:
a worker that dies mid-way leaves it pending for the next, and the answers it queued vanish
with it, so nothing is answered twice. The claim skips rows another worker holds (PostgreSQL
SKIP LOCKED; SQLite takes turns) and never takes a message while an earlier one from the
same address is still pending, so a tenant's "1" is read before their "50". A tenant who
writes on two channels at once is answered in turn: the case row is locked while it is used.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.policy import Policy
from bot.retry import MAX_ATTEMPTS, retry_delay
from handlers.inbound import InboundResult, understand
from messaging.inbox import PENDING
from messaging.outbox import Letterhead
from storage.db import SessionMaker
from storage.models import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conversation:
    """What understanding a message needs besides the message."""

    policy: Policy
    letterhead: Letterhead
    payment_iban: str | None


def _claimable(now: datetime, address: tuple[str, str] | None) -> Any:
    earlier = aliased(Message)
    statement = (
        select(Message)
        .where(
            Message.direction == "in",
            Message.status == PENDING,
            Message.next_attempt_at <= now,
            ~exists().where(
                and_(
                    earlier.direction == "in",
                    earlier.status == PENDING,
                    earlier.channel == Message.channel,
                    earlier.address == Message.address,
                    earlier.id < Message.id,
                )
            ),
        )
        .order_by(Message.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Message)
    )
    if address is not None:
        statement = statement.where(Message.channel == address[0], Message.address == address[1])
    return statement


async def process_one(
    sessions: SessionMaker,
    conversation: Conversation,
    clock: Clock,
    address: tuple[str, str] | None = None,
) -> InboundResult | None:
    """Claim and handle the next message (of ``address``, if given); None when there is
    nothing to take."""
    claimed_id: int | None = None
    try:
        async with sessions() as session, session.begin():
            now = clock.now()
            message = await session.scalar(_claimable(now, address))
            if message is None:
                return None
            claimed_id = message.id
            result = await understand(
                session,
                message,
                policy=conversation.policy,
                letterhead=conversation.letterhead,
                now=now,
                payment_iban=conversation.payment_iban,
            )
            message.status = "received"
            message.last_error = None
            return result
    except Exception as error:
        if claimed_id is None:
            raise
        await _postpone(sessions, claimed_id, clock.now(), error)
        return InboundResult(claimed_id, matched=False)


async def _postpone(
    sessions: SessionMaker, message_id: int, now: datetime, error: Exception
) -> None:
    """A message we could not handle waits and is tried again (later messages from the same
    address wait behind it); after MAX_ATTEMPTS it is set aside as failed for a person."""
    log.exception("inbound message %d could not be handled", message_id, exc_info=error)
    async with sessions() as session, session.begin():
        message = await session.get(Message, message_id)
        if message is None:
            return
        message.attempts += 1
        message.last_error = type(error).__name__[:300]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = "failed"
        else:
            message.next_attempt_at = now + retry_delay(message.attempts)


async def drain(
    sessions: SessionMaker,
    conversation: Conversation,
    clock: Clock,
    address: tuple[str, str] | None = None,
) -> list[InboundResult]:
    """Handle everything pending now (of one address, if given)."""
    results = []
    while (result := await process_one(sessions, conversation, clock, address)) is not None:
        results.append(result)
    return results


class InboxWorker:
    """Keeps the inbox empty: ``concurrency`` claimers, woken by a new message or a poll."""

    def __init__(
        self,
        sessions: SessionMaker,
        conversation: Conversation,
        clock: Clock,
        *,
        concurrency: int = 2,
        poll_seconds: float = 1.0,
        handled: Callable[[InboundResult], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._conversation = conversation
        self._clock = clock
        self._concurrency = max(1, concurrency)
        self._poll = poll_seconds
        self._handled = handled
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self._tasks = [asyncio.create_task(self._claimer()) for _ in range(self._concurrency)]
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Finish the message in hand (its transaction), then stop."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _claimer(self) -> None:
        while not self._stopping:
            try:
                result = await process_one(self._sessions, self._conversation, self._clock)
            except Exception:
                log.exception("the inbox could not be read; trying again")
                result = None
                await asyncio.sleep(self._poll)
            if result is not None:
                if self._handled is not None:
                    self._handled(result)
                continue
            self._wake.clear()
            try:
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            except TimeoutError:
                pass
