"""Reading the database back in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.models import Base, Case, CaseEvent, Message


async def table_counts(runtime: Runtime) -> dict[str, int]:
    counts = {}
    async with runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = await session.scalar(select(func.count()).select_from(table)) or 0
    return counts


async def snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for 'nothing changed' checks."""
    rows = {}
    async with runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(r) for r in result]
    return rows


async def cases(runtime: Runtime) -> list[Case]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(Case).order_by(Case.id)))


async def messages(runtime: Runtime, **where: Any) -> list[Message]:
    async with runtime.sessions() as session:
        query = select(Message).order_by(Message.id)
        for name, value in where.items():
            query = query.where(getattr(Message, name) == value)
        return list(await session.scalars(query))


async def events(runtime: Runtime, case_id: int | None = None) -> list[CaseEvent]:
    async with runtime.sessions() as session:
        query = select(CaseEvent).order_by(CaseEvent.id)
        if case_id is not None:
            query = query.where(CaseEvent.case_id == case_id)
        return list(await session.scalars(query))
