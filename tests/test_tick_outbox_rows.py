"""The tick's bulk insert into the outbox (messaging.outbox.insert_outbound_rows through
storage.sql.insert_many; on PostgreSQL a column equal in every row is sent once): the rows
stored are those the one-by-one insert stores, a key queued before is passed over, and a
value too long for its column is refused, not cut short."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError

from messaging.outbox import insert_outbound, insert_outbound_rows
from storage.db import create_engine, session_maker
from storage.models import Base, Message

AT = datetime(2026, 12, 4, 10, 0, 0, 123456, tzinfo=UTC)
COLUMNS = [
    column
    for column in Base.metadata.tables["messages"].c
    if column.name not in ("id", "idempotency_key")
]


def row(key: str, **changes: Any) -> dict[str, Any]:
    return {
        "case_id": None,
        "tenant_id": None,
        "contact_point_id": None,
        "direction": "out",
        "kind": "reminder",
        "channel": "sms",
        "address": "+31612345678",
        "stage": 0,
        "template": "reminder_friendly",
        "language": "nl",
        "context": {"name": "Anna", "has_plan": False},
        "subject": None,
        "body": "Beste Anna,",
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": AT,
        "fallback_channels": [],
        "respect_quiet_hours": True,
        "idempotency_key": key,
        "created_at": AT,
        **changes,
    }


# Batches as the tick makes them and odder: all alike but the key; one column differing in
# one row only; equal values of other types (1 and True in JSON); a single row.
context = {"a": 1}
BATCHES = [
    [row(f"k{i}") for i in range(5)],
    [row("a"), row("b"), row("c", stage=None, subject="Uw huur", fallback_channels=["email"])],
    [row("x", context=context), row("y", context=context), row("z", context={"a": True})],
    [row("x", context={"a": 1}), row("y", context={"a": True}), row("z", attempts=1)],
    [row("one", respect_quiet_hours=False, next_attempt_at=None)],
]


@pytest.mark.parametrize("batch", range(len(BATCHES)))
async def test_bulk_rows_are_stored_as_one_by_one(database_url: str, batch: int) -> None:
    rows = BATCHES[batch]
    engine = create_engine(database_url)
    sessions = session_maker(engine)
    try:
        async with sessions() as session, session.begin():
            bulk = await insert_outbound_rows(session, rows)
        async with sessions() as session, session.begin():
            again = await insert_outbound_rows(session, [*rows, row("new")])
        async with sessions() as session, session.begin():
            stored = {
                key: rest
                for key, *rest in await session.execute(
                    select(Message.idempotency_key, *COLUMNS).where(Message.id.in_(bulk.values()))
                )
            }
            await session.execute(delete(Message))
        async with sessions() as session, session.begin():
            single = await insert_outbound(session, rows)
        async with sessions() as session:
            expected = {
                key: rest
                for key, *rest in await session.execute(
                    select(Message.idempotency_key, *COLUMNS).where(Message.id.in_(single.values()))
                )
            }
    finally:
        await engine.dispose()
    assert sorted(bulk) == sorted(single) == sorted({one["idempotency_key"] for one in rows})
    assert list(again) == ["new"]
    # repr: {"a": 1} == {"a": True}, but the stored JSON differs.
    assert repr(sorted(stored.items())) == repr(sorted(expected.items()))


# SQLite does not hold strings to a length: PostgreSQL's cast is what is tested.
@pytest.mark.postgresql_only
async def test_a_value_too_long_for_its_column_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_maker(engine)
    try:
        # The same in every row (sent once, as one parameter), and in one row of an array.
        for rows in (
            [row("a", kind="x" * 17), row("b", kind="x" * 17)],
            [row("a"), row("b" * 101)],
        ):
            with pytest.raises(DBAPIError):
                async with sessions() as session, session.begin():
                    await insert_outbound_rows(session, rows)
    finally:
        await engine.dispose()
