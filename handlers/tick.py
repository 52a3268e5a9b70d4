"""The tick: claim due cases, ask the cadence what to do, write the outcome in one transaction.

Any number of processes may tick against one database: the claim locks the rows it takes
(PostgreSQL SKIP LOCKED, SQLite BEGIN IMMEDIATE), each decision moves ``next_action_at`` on,
and the outbox's unique key stops a stage from being queued twice for a case.

A batch is read as plain rows and written with one statement per table
(handlers/ticking/): the cost per case is the cadence and the text, not the database.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from handlers.ticking.due import claim_due
from handlers.ticking.outcome import Decisions, Invites, Run, TickResult, work_out
from handlers.ticking.writes import write
from messaging.outbox import Letterhead
from rules.policy import Policy
from storage.db import SessionMaker

__all__ = ["Invites", "TickResult", "tick"]

_CLAIMERS = 2
_frozen = 0  # ticks under way in this process with the heap frozen (see _young_only)


@contextmanager
def _young_only() -> Iterator[None]:
    """Python's collector looks only at what was made during the tick.

    A tick makes a few objects per case, and every so often the collector would walk the
    whole heap (the import's leftovers, the ORM's registries) for them: a third of the
    tick's own time at 10,000 cases. Frozen objects are skipped, not kept: the last tick
    to end hands them back to the collector."""
    global _frozen  # one count per process, as the collector is one
    if _frozen == 0:
        gc.freeze()
    _frozen += 1
    try:
        yield
    finally:
        _frozen -= 1
        if _frozen == 0:
            gc.unfreeze()


async def tick(
    sessions: SessionMaker,
    policy: Policy,
    clock: datetime | Callable[[], datetime],
    *,
    available: Collection[str],
    letterhead: Letterhead,
    batch_size: int = 1000,
    invites: Invites | None = None,
) -> TickResult:
    """Work every due case, one claimed batch per transaction. ``clock``: a fixed moment,
    or a clock read afresh for each batch (a long run decides on the time of each batch)."""
    result = TickResult()
    run = Run(policy, available, letterhead, invites)
    decide = Decisions(policy)

    async def claim_until_done() -> None:
        while True:
            now = clock() if callable(clock) else clock
            async with sessions() as session, session.begin():
                batch = await claim_due(session, now, batch_size)
                if batch is None:
                    return
                outcomes = [
                    work_out(case, decide(case, batch, now), batch, run, now)
                    for case in batch.cases
                ]
                await write(session, outcomes, now, result)

    async with sessions() as session:
        backend = session.get_bind().dialect.name
    # On PostgreSQL a second claimer decides its batch while the first one's is written
    # (SKIP LOCKED keeps them apart, as it does separate processes). SQLite lets one writer
    # in at a time: a second would only wait for the lock.
    claimers = [
        asyncio.create_task(claim_until_done())
        for _ in range(_CLAIMERS if backend == "postgresql" else 1)
    ]
    try:
        with _young_only():
            await asyncio.gather(*claimers)
    finally:
        # One failed: the other stops too (its open batch rolls back), and the error is
        # raised as it came.
        for claimer in claimers:
            claimer.cancel()
        await asyncio.gather(*claimers, return_exceptions=True)
    return result
