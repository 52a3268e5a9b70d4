"""Sends taking their turns in the shared send budget together: one statement for all the
sends of one worker that ask at about the same moment, instead of one each.

A send asks for its turn only once it holds a send slot and is next to its address, just
before it would call the provider, exactly as if it reserved alone: the budget hands out
consecutive slots, so the sends asking together are spaced by the provider's interval,
and a turn is never taken long before it is used (which could let two go at once). Those
that ask while a reservation is under way are served by the next one.
"""

from __future__ import annotations

import asyncio
import contextlib

from messaging.connecting import KeptConnection
from messaging.send_budget import DatabaseBudget


class Turns:
    def __init__(self, budget: DatabaseBudget) -> None:
        self._budget = budget
        self._db = KeptConnection(budget.engine())
        self._asking: dict[str, list[asyncio.Future[float]]] = {}
        self._reserver: asyncio.Task[None] | None = None

    async def take(self, sender: str) -> float:
        """Take the sender's next slot: the seconds to wait until it (0: go now), as
        ``DatabaseBudget.reserve_many`` gives it. Raises what the database raised for it."""
        if not self._budget.limits(sender):
            return 0.0
        turn: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._asking.setdefault(sender, []).append(turn)
        if self._reserver is None or self._reserver.done():
            self._reserver = asyncio.create_task(self._reserve())
        # A send stopped while it waits cancels only this future: the statement runs in the
        # reserver's task and is not cut off half-way.
        return await turn

    def keep(self) -> contextlib.AbstractAsyncContextManager[None]:
        """While open, the reservations keep their connection from one to the next."""
        return self._db.keep()

    async def settled(self) -> None:
        while self._reserver is not None and not self._reserver.done():
            await asyncio.wait([self._reserver])

    async def _reserve(self) -> None:
        # Started by the first to ask, it runs after those that ask in the same pass of the
        # event loop (the sends one commit freed): they are all served together.
        while self._asking:
            sender, asking = self._asking.popitem()
            try:
                waits = await self._budget.reserve_many(sender, len(asking), self._db)
            except Exception as error:
                for turn in asking:
                    if not turn.done():
                        turn.set_exception(error)
                        turn.exception()  # retrieved: a send that was stopped is no error
                continue
            for turn, wait in zip(asking, waits, strict=True):
                if not turn.done():
                    turn.set_result(wait)
