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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from handlers.inbound import InboundResult, understand
from messaging.inbox import PENDING
from messaging.outbox import Letterhead
from rules.clock import Clock
from rules.policy import Policy
from rules.retry import MAX_ATTEMPTS, retry_delay
from storage.db import SessionMaker, describe
from storage.models import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conversation:
    """What understanding a message needs besides the message."""

    policy: Policy
    letterhead: Letterhead
    payment_iban: str | None


# How many addresses' oldest messages one look at the inbox returns.
HEADS = 100


async def heads(
    sessions: SessionMaker, now: datetime, address: tuple[str, str] | None = None
) -> list[int]:
    """The oldest pending message of each address (its head), oldest first, if due.

    One cheap scan of what is pending, without locks, then each head is locked on its own
    (``process_one``). A head stays its address's oldest pending message until it is
    handled, so a later message can never be taken before an earlier one. The scan is a
    plain aggregate rather than a join: its cost does not explode when the planner's
    statistics have not seen a sudden burst of pending messages yet.
    """
    pending = (Message.direction == "in") & (Message.status == PENDING)
    if address is not None:
        pending &= (Message.channel == address[0]) & (Message.address == address[1])
    first = func.min(Message.id)
    async with sessions() as session:
        rows = await session.execute(
            select(first, func.min(Message.next_attempt_at))
            .where(pending)
            .group_by(Message.channel, Message.address)
            .order_by(first)
            .limit(HEADS)
        )
        # The head's own moment decides; min() over the address is at most that.
        return [message_id for message_id, due in rows if due is not None and due <= now]


async def process_one(
    sessions: SessionMaker,
    conversation: Conversation,
    clock: Clock,
    message_id: int,
) -> InboundResult | None:
    """Lock and handle this pending message; None when another worker holds it, it was
    handled meanwhile, or it is not due."""
    claimed = False
    try:
        async with sessions() as session, session.begin():
            now = clock.now()
            message = await session.scalar(
                select(Message)
                .where(
                    Message.id == message_id,
                    Message.status == PENDING,
                    Message.next_attempt_at <= now,
                )
                .with_for_update(skip_locked=True)
            )
            if message is None:
                return None
            claimed = True
            # Nothing in one turn reads back what it wrote through the ORM: flush once, at
            # the commit, instead of before every query.
            session.sync_session.autoflush = False
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
        if not claimed:
            raise
        await _postpone(sessions, message_id, clock.now(), error)
        return InboundResult(message_id, matched=False)


async def _postpone(
    sessions: SessionMaker, message_id: int, now: datetime, error: Exception
) -> None:
    """A message we could not handle waits and is tried again (later messages from the same
    address wait behind it); after MAX_ATTEMPTS it is set aside as failed for a person."""
    log.error("inbound message %d could not be handled: %s", message_id, describe(error))
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
    *,
    share: tuple[int, int] = (0, 1),
    each: Callable[[InboundResult], None] | None = None,
    stopping: Callable[[], bool] = lambda: False,
    pause: Callable[[float], Awaitable[None]] | None = None,
) -> list[InboundResult]:
    """Handle everything pending and due now (of one address, if given). ``share``: this
    claimer's part (i of n) of the heads, so a process's claimers do not all try the same
    message first; ``each`` is told of every message handled; ``stopping`` ends the
    round after the message in hand; ``pause`` is awaited after each message with the
    seconds it took."""
    results: list[InboundResult] = []
    index, of = share
    while not stopping():
        found = await heads(sessions, clock.now(), address)
        took = 0
        for message_id in found[index::of] or found:
            if stopping():
                break
            started = time.perf_counter()
            result = await process_one(sessions, conversation, clock, message_id)
            if pause is not None:
                await pause(time.perf_counter() - started)
            if result is not None:
                took += 1
                results.append(result)
                if each is not None:
                    each(result)
        if not took:
            break
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
        intake_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self._sessions = sessions
        self._conversation = conversation
        self._clock = clock
        self._concurrency = max(1, concurrency)
        self._poll = poll_seconds
        self._handled = handled
        self._intake_busy = intake_busy
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self._tasks = [
            asyncio.create_task(self._claimer(index)) for index in range(self._concurrency)
        ]
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Finish the message in hand (its transaction), then stop."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _yield(self, took: float) -> None:
        """While webhooks are coming in to this process, its claimers together take at
        most half of its time: storing (and acknowledging) what tenants send comes first,
        understanding it may lag a little. Another worker process reads the inbox too."""
        if self._intake_busy():
            await asyncio.sleep(took * (2 * self._concurrency - 1))

    async def _claimer(self, index: int) -> None:
        while not self._stopping:
            try:
                handled = await drain(
                    self._sessions,
                    self._conversation,
                    self._clock,
                    share=(index, self._concurrency),
                    each=self._handled,
                    stopping=lambda: self._stopping,
                    pause=self._yield,
                )
            except Exception as error:
                log.error("the inbox could not be read (%s); trying again", describe(error))
                handled = []
                await asyncio.sleep(self._poll)
            if handled:
                continue
            self._wake.clear()
            try:
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            except TimeoutError:
                pass
