"""The inbox: what tenants write, stored once and acknowledged at once.

A webhook only verifies and stores (deduplicated by the provider's id: a provider that
retries finds its message already there); understanding and answering happen later, in the
workers (``handlers.inbox``).

Stores are committed in groups: each webhook hands its message to one writer and waits for
the commit that holds it, so a burst of webhooks costs one transaction per group instead of
one each, and never more connections than the writer's one. The webhook answers only after
the commit. One that cannot be stored in time (the database slow or down, or too many
waiting) is refused with a retryable status; a group that fails is retried message by
message, so one bad message cannot take others down with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.channels.base import InboundMessage
from messaging.settling import settle
from storage.db import describe
from storage.models import Message
from storage.sql import insert_ignoring_conflicts

log = logging.getLogger(__name__)

PENDING = "pending"  # stored, not yet understood
MAX_BODY = 4000
GROUP = 500  # messages per commit at most


class InboxBusy(Exception):
    """Not stored in time, or the database refused: the sender should try again."""


def storable(text: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and no database half a character (a lone surrogate,
    # which Telegram's JSON can carry): a tenant's message is kept without them.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


def row(inbound: InboundMessage, now: datetime) -> dict[str, Any]:
    """The pending inbox row for one message."""
    return {
        "direction": "in",
        "kind": "reply",
        "channel": inbound.channel,
        "address": storable(inbound.address, 320),
        "body": storable(inbound.text, MAX_BODY),
        "status": PENDING,
        "provider_id": storable(inbound.provider_id, 64),
        "attempts": 0,
        "context": dict(inbound.extra),
        "fallback_channels": [],
        "respect_quiet_hours": False,
        "next_attempt_at": now,
        "created_at": inbound.received_at or now,
    }


@dataclass
class _Waiting:
    row: dict[str, Any]
    stored: asyncio.Future[int | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def key(self) -> tuple[str, str]:
        return self.row["channel"], self.row["provider_id"]


class Inbox:
    def __init__(
        self,
        engine: AsyncEngine,
        now: Callable[[], datetime],
        *,
        max_wait: float,
        max_waiting: int = 5000,
    ) -> None:
        self._engine = engine
        self._now = now
        self._max_wait = max_wait
        self._max_waiting = max_waiting
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_accept = float("-inf")
        self.listeners: list[Callable[[], None]] = []

    def busy(self, within: float = 1.0) -> bool:
        """A webhook brought a message in the last ``within`` seconds."""
        return time.monotonic() - self._last_accept < within

    async def accept(self, inbound: InboundMessage) -> int | None:
        """Store one message (None: a replay) and tell the listeners; InboxBusy when it
        could not be stored in time. A store cut off by the deadline may still be
        committed: the sender's retry then finds it (same provider id), so nothing is lost
        and nothing is kept twice."""
        self._last_accept = time.monotonic()
        if len(self._queue) >= self._max_waiting:
            raise InboxBusy("too many messages waiting to be stored")
        waiting = _Waiting(row(inbound, self._now()))
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        try:
            async with asyncio.timeout(self._max_wait):
                message_id = await asyncio.shield(waiting.stored)
        except TimeoutError:
            log.warning("an inbound %s message waited too long to be stored", inbound.channel)
            raise InboxBusy("the database is slow") from None
        except InboxBusy:
            raise
        if message_id is not None:
            for listener in self.listeners:
                listener()
        return message_id

    async def _write(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:GROUP], self._queue[GROUP:]
            try:
                stored = await self._insert([w.row for w in group])
            except Exception as error:
                if len(group) == 1:
                    # Parameters are hidden from the engine's errors; only the kind is logged.
                    log.error("could not store an inbound message: %s", describe(error))
                    _settle(group[0], error=InboxBusy("the database did not take the message"))
                    continue
                self._queue[:0] = [_Waiting(w.row, w.stored) for w in group]
                await self._one_by_one(len(group))
                continue
            seen: set[tuple[str, str]] = set()
            for waiting in group:
                first = waiting.key not in seen
                seen.add(waiting.key)
                _settle(waiting, stored.get(waiting.key) if first else None)

    async def _one_by_one(self, count: int) -> None:
        """After a failed group: each of its messages in a commit of its own."""
        for _ in range(count):
            waiting = self._queue.pop(0)
            try:
                stored = await self._insert([waiting.row])
            except Exception as error:
                log.error("could not store an inbound message: %s", describe(error))
                _settle(waiting, error=InboxBusy("the database did not take the message"))
            else:
                _settle(waiting, stored.get(waiting.key))

    async def _insert(self, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                insert_ignoring_conflicts(conn, Message).returning(
                    Message.id, Message.channel, Message.provider_id
                ),
                rows,
            )
            return {(channel, provider): message_id for message_id, channel, provider in result}


def _settle(
    waiting: _Waiting, message_id: int | None = None, error: Exception | None = None
) -> None:
    settle(waiting.stored, message_id, error)
