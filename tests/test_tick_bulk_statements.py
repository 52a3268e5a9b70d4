"""The statements the tick writes a batch with (storage.sql): rows go in and change exactly
as through the ORM, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from rules.cadence import CaseStatus
from storage.db import create_engine, session_maker
from storage.models import Base, Case, CaseEvent, Tenant
from storage.sql import among, insert_many, unindexed, update_many

AT = datetime(2026, 12, 4, 10, 0, 0, 123456, tzinfo=UTC)
CASES = Base.metadata.tables["cases"]
EVENTS = Base.metadata.tables["case_events"]


async def test_many_rows_go_in_and_change_as_through_the_orm(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_maker(engine)
    try:
        async with sessions() as session, session.begin():
            tenant = Tenant(
                external_ref="T1",
                name="Anna",
                monthly_rent_cents=65000,
                created_at=AT,
                updated_at=AT,
            )
            session.add_all(
                Case(
                    tenant=tenant,
                    balance_cents=1000 * i,
                    arrears_since=date(2026, 11, 1),
                    opened_at=AT,
                    next_action_at=AT,
                )
                for i in range(3)
            )
        async with sessions() as session, session.begin():
            ids = list(await session.scalars(select(Case.id).order_by(Case.id)))
            data = [{"stage": "friendly", "nested": [1, {"é": "€ 417,60"}]}, {}, {"x": None}]
            returned = await insert_many(
                session,
                EVENTS,
                [
                    {"case_id": case_id, "at": AT, "actor": "system", "kind": "k", "data": one}
                    for case_id, one in zip(ids, data, strict=True)
                ],
                returning=["case_id"],
            )
            assert sorted(case_id for (case_id,) in returned) == ids
            # Each row its own values; None, enums, aware times as the ORM writes them.
            await update_many(
                session,
                CASES,
                [
                    {"id": ids[0], "status": CaseStatus.ESCALATED, "next_action_at": None},
                    {"id": ids[1], "status": CaseStatus.PAUSED, "next_action_at": AT},
                ],
            )
            picked = list(
                await session.scalars(
                    select(Case.id).where(
                        among(session, Case.id, ids[1:]),
                        unindexed(session, Case.status).in_(["open", "paused"]),
                    )
                )
            )
            nothing = list(
                await session.scalars(select(Case.id).where(among(session, Case.id, [])))
            )
        async with sessions() as session:
            events = (
                await session.execute(select(CaseEvent.case_id, CaseEvent.at, CaseEvent.data))
            ).all()
            cases = (
                await session.execute(
                    select(Case.id, Case.status, Case.next_action_at).order_by(Case.id)
                )
            ).all()
    finally:
        await engine.dispose()
    assert sorted(events) == [(case_id, AT, one) for case_id, one in zip(ids, data, strict=True)]
    assert cases == [(ids[0], "escalated", None), (ids[1], "paused", AT), (ids[2], "open", AT)]
    assert sorted(picked) == ids[1:] and nothing == []


# SQLite does not hold strings to a length: PostgreSQL's cast is what is tested.
@pytest.mark.postgresql_only
async def test_long_values_are_neither_cut_to_fit_nor_matched_by_their_start(
    database_url: str,
) -> None:
    """PostgreSQL casts an array to VARCHAR(n)[] by cutting each value to n characters: an
    update would store a value the column refuses, and a lookup would match its start."""
    engine = create_engine(database_url)
    sessions = session_maker(engine)
    try:
        async with sessions() as session, session.begin():
            tenant = Tenant(
                external_ref="T" * 64,
                name="Anna",
                monthly_rent_cents=1,
                created_at=AT,
                updated_at=AT,
            )
            session.add(tenant)
            await session.flush()
            tenant_id = tenant.id
        async with sessions() as session:
            found = await session.scalars(
                select(Tenant.id).where(among(session, Tenant.external_ref, ["T" * 65]))
            )
            assert list(found) == []
        tenants = Base.metadata.tables["tenants"]
        for rows in (
            [{"id": tenant_id, "name": "x" * 201}],
            [{"id": tenant_id, "name": "x" * 201}, {"id": -1, "name": "y"}],
        ):
            with pytest.raises(DBAPIError):
                async with sessions() as session, session.begin():
                    await update_many(session, tenants, rows)
    finally:
        await engine.dispose()
