"""Provider rate limits shared by every worker: the next free send slot per sender lives in
the database, so three workers at 1 SMS/s together send 1 SMS/s, not 3.

A worker reserves a slot with one atomic UPDATE … RETURNING and sleeps until it; a worker
that dies after reserving leaves a gap, never a burst. Slots are wall-clock seconds
(``time.time``): a provider counts real seconds, whatever clock the policy runs on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import Float, bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncEngine

from messaging.connecting import KeptConnection, engine_of, statements
from storage.db import SessionMaker
from storage.models import SendBudget
from storage.sql import insert_ignoring_conflicts


class DatabaseBudget:
    def __init__(
        self,
        sessions: SessionMaker,
        per_second: Mapping[str, float],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._interval = {
            sender: 1.0 / rate for sender, rate in per_second.items() if rate and rate > 0
        }
        self._wall = wall

    def limits(self, sender: str) -> bool:
        return sender in self._interval

    def engine(self) -> AsyncEngine:
        return engine_of(self._sessions)

    async def reserve_many(
        self, sender: str, count: int, db: KeptConnection | None = None
    ) -> list[float]:
        """Take the sender's next ``count`` slots in one statement (the sends of a worker
        asking together, ``messaging.turns``, on its kept connection ``db``); the seconds
        to wait until each, in order (0: go now)."""
        interval = self._interval.get(sender)
        if interval is None or count <= 0:
            return [0.0] * max(count, 0)
        now = self._wall()
        span = interval * count
        values = {"which": sender, "now": now, "span": span}
        # On the send path: a plain connection, one statement (messaging.connecting).
        async with statements(db or self.engine()) as connection:
            after = (await connection.execute(_taking(), values)).scalar_one_or_none()
            if after is None:
                await connection.execute(
                    # The first send ever for this sender: create its row, then take.
                    insert_ignoring_conflicts(connection, SendBudget).values(
                        sender=sender, next_slot=now
                    )
                )
                after = (await connection.execute(_taking(), values)).scalar_one()
        first = float(after) - span
        return [max(0.0, first + i * interval - now) for i in range(count)]


@cache
def _taking() -> Any:
    """Push a sender's next free slot ``span`` seconds past the later of it and ``now``;
    built once, as building it costs more than running it."""
    now = bindparam("now", type_=Float)
    later = case((SendBudget.next_slot > now, SendBudget.next_slot), else_=now)
    return (
        update(SendBudget)
        .where(SendBudget.sender == bindparam("which"))
        .values(next_slot=later + bindparam("span", type_=Float))
        .returning(SendBudget.next_slot)
    )
