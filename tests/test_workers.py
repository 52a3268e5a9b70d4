"""Several workers, each with its own engine, on one database: every stage of every case is
queued once and sent once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.settings import Settings
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS
from storage.models import Case, CaseEvent, Message
from storage.queries import next_due
from tests.factories import arrears_csv, phone_for, row


async def _run_workers(settings: Settings, clock: ManualClock, tenants: int, workers: int) -> None:
    settings = settings.model_copy(update={"batch_size": 37})
    sandboxes = [SandboxChannel() for _ in range(workers)]
    runtimes = [
        await Runtime.start(
            settings, clock=clock, channels=dict.fromkeys(CHANNELS, box), migrate=False
        )
        for box in sandboxes
    ]
    try:
        rows = [row(f"T{i}", name=f"Tenant {i}", phone=phone_for(i)) for i in range(tenants)]
        summary = await runtimes[0].import_data(arrears_csv(*rows), "big.csv")
        assert summary.opened == tenants
        queued = 0
        for _ in range(50):
            ticks = await asyncio.gather(*(rt.tick() for rt in runtimes))
            queued += sum(t.queued for t in ticks)
            await asyncio.gather(*(rt.dispatch() for rt in runtimes))
            async with runtimes[0].sessions() as session:
                due = await next_due(session, clock.now())
            if due is None:
                break
            clock.current = due + timedelta(seconds=1)
        stages = len(runtimes[0].policy.stages)
        assert queued == tenants * stages
        sent_ids = [m.message_id for box in sandboxes for m in box.sent]
        assert len(sent_ids) == tenants * stages
        assert len(set(sent_ids)) == len(sent_ids), "a message was sent twice"
        if settings.database_url.startswith("postgresql"):
            # SKIP LOCKED lets workers share the batches; on SQLite one worker may take them
            # all while the other waits for the write lock, which is just as correct.
            assert all(box.sent for box in sandboxes), "every worker should have done some work"
        async with runtimes[0].sessions() as session:
            per_stage = Counter(
                (case_id, stage)
                for case_id, stage in await session.execute(
                    select(Message.case_id, Message.stage).where(Message.kind == "reminder")
                )
            )
            statuses = Counter(await session.scalars(select(Message.status)))
            escalations = Counter(
                await session.scalars(
                    select(CaseEvent.case_id).where(CaseEvent.kind == "escalated")
                )
            )
            open_cases = await session.scalar(
                select(func.count()).select_from(Case).where(Case.status != "escalated")
            )
        assert len(per_stage) == tenants * stages and set(per_stage.values()) == {1}
        assert statuses == {"sent": tenants * stages}
        assert len(escalations) == tenants and set(escalations.values()) == {1}
        assert open_cases == 0
    finally:
        for rt in runtimes:
            await rt.close()


@pytest.mark.postgresql_only
@pytest.mark.parametrize("workers", [2, 4])
async def test_workers_on_postgresql_send_every_stage_exactly_once(
    backend: str, settings: Settings, clock: ManualClock, workers: int
) -> None:
    await _run_workers(settings, clock, tenants=1000, workers=workers)


async def test_two_workers_take_turns_on_every_backend(
    settings: Settings, clock: ManualClock, backend: str
) -> None:
    await _run_workers(settings, clock, tenants=120, workers=2)
