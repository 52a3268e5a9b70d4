"""Provider rate limits shared by every worker: the next free send slot per sender lives in
the database, so three workers at 1 SMS/s together send 1 SMS/s, not 3.

A worker reserves a slot with one atomic UPDATE … RETURNING and sleeps until it; a worker
that dies after reserving leaves a gap, never a burst. Slots are wall-clock seconds
(``time.time``): a provider counts real seconds, whatever clock the policy runs on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from sqlalchemy import case, update

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

    async def reserve(self, sender: str) -> float:
        """Take the sender's next slot; the seconds to wait until it (0: go now)."""
        interval = self._interval.get(sender)
        if interval is None:
            return 0.0
        now = self._wall()
        statement = (
            update(SendBudget)
            .where(SendBudget.sender == sender)
            .values(
                next_slot=case((SendBudget.next_slot > now, SendBudget.next_slot), else_=now)
                + interval
            )
            .returning(SendBudget.next_slot)
        )
        async with self._sessions() as session, session.begin():
            after = (await session.execute(statement)).scalar_one_or_none()
            if after is None:
                # The first send ever for this sender: create its row, then take the slot.
                await session.execute(
                    insert_ignoring_conflicts(session, SendBudget).values(
                        sender=sender, next_slot=now
                    )
                )
                after = (await session.execute(statement)).scalar_one()
        return max(0.0, float(after) - interval - now)
