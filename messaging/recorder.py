"""Group commit of sends: one writer per dispatcher records the sends that finish close
together in one transaction, and each send waits for the commit that holds its record.

A send hands its outcome to the writer and waits. The writer takes everything waiting (up
to ``GROUP``) and writes it set-based (``record_sent``); sends that finish while a commit is
under way form the next group. Nothing waits for a group to fill: a lone send is written at
once, and the groups grow with the load. A group the database refuses is retried message by
message, so one bad row cannot take the others down with it; a message whose own commit
fails raises in its send.

Recording a send marks the message sent, clears its contact point's failures, stamps the
case's last contact and writes the ``message_sent`` event, all only for the messages whose
claim this worker still holds (a worker whose lease ran out records nothing over another's
work). On PostgreSQL that is one statement for the group; on SQLite, where every
transaction holds the write lock, a few.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from messaging.connecting import KeptConnection, statements
from messaging.outcomes import Claim, lost
from messaging.settling import settle
from storage.db import describe
from storage.models import Case, CaseEvent, ContactPoint, Message

log = logging.getLogger(__name__)

GROUP = 500  # sends per commit at most

_messages = cast(Table, Message.__table__)
_points = cast(Table, ContactPoint.__table__)
_cases = cast(Table, Case.__table__)
_events = cast(Table, CaseEvent.__table__)


@dataclass(frozen=True)
class Sent:
    """A provider took the message: its id there, and when it answered."""

    claim: Claim
    provider_id: str
    at: datetime


@dataclass
class _Waiting:
    sent: Sent
    recorded: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Recorder:
    def __init__(self, engine: AsyncEngine) -> None:
        self._db = KeptConnection(engine)
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def sent(self, sent: Sent) -> bool:
        """Record one send; return once it is committed: True, or False when this worker
        no longer held the claim. Raises what the database raised for it."""
        waiting = _Waiting(sent)
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        # A send cancelled while it waits cancels only this future, not the write (the
        # writer's task): its record still lands. No shield, one future fewer per send.
        return await waiting.recorded

    def keep(self) -> contextlib.AbstractAsyncContextManager[None]:
        """While open, the writer keeps its connection from one group to the next."""
        return self._db.keep()

    async def settled(self) -> None:
        """Wait until everything handed over is written (or refused)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer])

    async def _write(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:GROUP], self._queue[GROUP:]
            if len(group) == 1 or not await self._together(group):
                await self._one_by_one(group)

    async def _together(self, group: list[_Waiting]) -> bool:
        try:
            held = await record_sent(self._db, [w.sent for w in group])
        except Exception as error:
            log.warning(
                "%d sends could not be recorded together (%s); recording each on its own",
                len(group),
                describe(error),
            )
            return False
        for waiting in group:
            _settle(waiting, waiting.sent.claim.message_id in held)
        return True

    async def _one_by_one(self, group: list[_Waiting]) -> None:
        for waiting in group:
            try:
                held = await record_sent(self._db, [waiting.sent])
            except Exception as error:
                _settle(waiting, error=error)
            else:
                _settle(waiting, bool(held))


def _settle(waiting: _Waiting, held: bool = False, error: Exception | None = None) -> None:
    settle(waiting.recorded, held, error)


# -- the statements ------------------------------------------------------------------------


async def record_sent(db: AsyncEngine | KeptConnection, sent: list[Sent]) -> set[int]:
    """Record a group of sends; the ids recorded: those whose claim was still held."""
    if not sent:
        return set()
    # In id order: two workers' groups then never wait for each other in turn.
    sent = sorted(sent, key=lambda s: s.claim.message_id)
    async with statements(db) as connection:
        if connection.dialect.name == "postgresql":
            held = await _sent_in_one(connection, sent)
        else:
            held = await _sent_one_by_one(connection, sent)
    for s in sent:
        if s.claim.message_id not in held:
            lost(s.claim, "send")
    return held


_SENT = text(
    """
    WITH given AS (
        SELECT * FROM unnest(
            CAST(:ids AS INTEGER[]), CAST(:tokens AS VARCHAR[]),
            CAST(:providers AS VARCHAR[]), CAST(:ats AS TIMESTAMPTZ[])
        ) AS given (id, token, provider_id, at)
    ), sent AS (
        UPDATE messages SET status = 'sent', provider_id = given.provider_id,
            sent_at = given.at, last_error = NULL, claimed_until = NULL, claim_token = NULL
        FROM given
        WHERE messages.id = given.id AND messages.claim_token = given.token
        RETURNING messages.id, messages.contact_point_id, messages.case_id,
            messages.channel, messages.attempts, given.at
    ), cleared AS (
        UPDATE contact_points SET failures = 0 FROM sent
        WHERE contact_points.id = sent.contact_point_id AND contact_points.failures <> 0
    ), touched AS (
        UPDATE cases SET last_contact_at = sent.at FROM sent WHERE cases.id = sent.case_id
    ), noted AS (
        INSERT INTO case_events (case_id, at, actor, kind, data)
        SELECT case_id, at, 'system', 'message_sent',
            json_build_object('message_id', id, 'channel', channel, 'attempt', attempts)
        FROM sent WHERE case_id IS NOT NULL
    )
    SELECT id FROM sent
    """
)


async def _sent_in_one(connection: AsyncConnection, sent: list[Sent]) -> set[int]:
    """PostgreSQL: the group as one array per column, written by one statement."""
    result = await connection.execute(
        _SENT,
        {
            "ids": [s.claim.message_id for s in sent],
            "tokens": [s.claim.token for s in sent],
            "providers": [s.provider_id for s in sent],
            "ats": [s.at for s in sent],
        },
    )
    return set(result.scalars())


async def _sent_one_by_one(connection: AsyncConnection, sent: list[Sent]) -> set[int]:
    """SQLite: the transaction holds the write lock, so what is read here stays true."""
    # Marked only where this worker still holds the claim. Nearly always it holds them all,
    # and the count says so without a read before; else the provider ids say which.
    marked = await connection.execute(
        update(_messages)
        .where(_messages.c.id == bindparam("m_id"), _messages.c.claim_token == bindparam("m_token"))
        .values(
            status="sent",
            provider_id=bindparam("m_provider"),
            sent_at=bindparam("m_at"),
            last_error=None,
            claimed_until=None,
            claim_token=None,
        ),
        [
            {
                "m_id": s.claim.message_id,
                "m_token": s.claim.token,
                "m_provider": s.provider_id,
                "m_at": s.at,
            }
            for s in sent
        ],
    )
    held = sent
    if marked.rowcount != len(sent):
        rows = await connection.execute(
            select(_messages.c.id, _messages.c.provider_id).where(
                _messages.c.id.in_([s.claim.message_id for s in sent])
            )
        )
        providers: dict[int, str | None] = {message_id: provider for message_id, provider in rows}
        held = [s for s in sent if providers.get(s.claim.message_id) == s.provider_id]
    if not held:
        return set()
    points = sorted({p for s in held if (p := s.claim.contact_point_id) is not None})
    if points:
        await connection.execute(
            update(_points)
            .where(_points.c.id.in_(points), _points.c.failures != 0)
            .values(failures=0)
        )
    with_case = [s for s in held if s.claim.case_id is not None]
    if with_case:
        await connection.execute(
            update(_cases)
            .where(_cases.c.id == bindparam("c_id"))
            .values(last_contact_at=bindparam("c_at")),
            [{"c_id": s.claim.case_id, "c_at": s.at} for s in with_case],
        )
        await connection.execute(
            insert(_events),
            [
                {
                    "case_id": s.claim.case_id,
                    "at": s.at,
                    "actor": "system",
                    "kind": "message_sent",
                    "data": {
                        "message_id": s.claim.message_id,
                        "channel": s.claim.channel,
                        "attempt": s.claim.attempts,
                    },
                }
                for s in with_case
            ],
        )
    return {s.claim.message_id for s in held}
