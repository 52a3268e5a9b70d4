"""Ticks racing each other over the same due cases: each case is worked once, each stage
queued once (PostgreSQL: SKIP LOCKED; SQLite: BEGIN IMMEDIATE)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from handlers.tick import tick
from messaging.outbox import Letterhead
from rules.policy import CHANNELS, load_policy
from storage.db import SessionMaker, create_engine, session_maker
from storage.models import Case, CaseEvent, ContactPoint, Message, Tenant

OPENED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # the first stage is due
CASES = 240


async def seed(sessions: SessionMaker) -> None:
    async with sessions() as session, session.begin():
        for i in range(CASES):
            tenant = Tenant(
                external_ref=f"R{i}",
                name=f"Huurder {i}",
                monthly_rent_cents=65000,
                created_at=OPENED,
                updated_at=OPENED,
            )
            tenant.contact_points.append(
                ContactPoint(
                    channel="sms", address=f"+316{i:08d}", verified=True, created_at=OPENED
                )
            )
            session.add(
                Case(
                    tenant=tenant,
                    balance_cents=65000,
                    arrears_since=date(2026, 11, 1),
                    opened_at=OPENED,
                    # Spread out, so the racers' batches interleave in claim order.
                    next_action_at=NOW - timedelta(minutes=i % 17),
                )
            )


async def test_racing_ticks_queue_each_stage_once(database_url: str) -> None:
    # Three engines: three processes' worth of connections, each ticking in small batches.
    engines = [create_engine(database_url) for _ in range(3)]
    makers = [session_maker(engine) for engine in engines]
    try:
        await seed(makers[0])
        policy = load_policy()
        results = await asyncio.gather(
            *(
                tick(
                    sessions,
                    policy,
                    NOW,
                    available=CHANNELS,
                    letterhead=Letterhead("Woonstichting", "0522 000 000"),
                    batch_size=size,
                )
                for sessions, size in zip(makers, (7, 11, 13), strict=True)
            )
        )
        async with makers[0]() as session:
            keys = Counter(await session.scalars(select(Message.idempotency_key)))
            queued = Counter(
                await session.scalars(
                    select(CaseEvent.case_id).where(CaseEvent.kind == "reminder_queued")
                )
            )
            cases = (await session.execute(select(Case.stage, Case.version))).all()
            due = await session.scalar(
                select(func.count()).select_from(Case).where(Case.next_action_at <= NOW)
            )
    finally:
        for engine in engines:
            await engine.dispose()
    # Every case was claimed by exactly one racer, and queued exactly once.
    assert sum(result.cases for result in results) == CASES
    assert sum(result.queued for result in results) == CASES
    assert len(keys) == CASES and set(keys.values()) == {1}
    assert len(queued) == CASES and set(queued.values()) == {1}
    assert set(cases) == {(1, 2)}  # one stage on, one version bump: worked once
    assert due == 0
