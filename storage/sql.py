"""Statements that differ per backend, kept in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def insert_ignoring_conflicts(session: AsyncSession | AsyncConnection, model: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the session's (or connection's) backend."""
    dialect = (
        session.dialect if isinstance(session, AsyncConnection) else session.get_bind().dialect
    )
    if dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()


def upsert(session: AsyncSession, model: Any, key: list[str], values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE with the given values, for the session's backend."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values)
    return statement.on_conflict_do_update(
        index_elements=key,
        set_={name: getattr(statement.excluded, name) for name in values if name not in key},
    )


async def plan_for_bulk(session: AsyncSession) -> None:
    """Within a bulk load, plan each statement for its own values (PostgreSQL).

    The planner's statistics do not yet know the rows this transaction added; a generic plan
    for `IN (5000 values)` then scans the table once per value. A custom plan hashes the list.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def refresh_statistics(session: AsyncSession) -> None:
    """Let PostgreSQL's planner see the rows a bulk load added (SQLite plans without)."""
    if session.get_bind().dialect.name == "postgresql":
        for table in ("tenants", "contact_points", "cases", "arrears_snapshots", "case_events"):
            await session.execute(text(f"ANALYZE {table}"))


def claim(statement: Select[Any]) -> Select[Any]:
    """Lock the selected rows so another worker skips them (PostgreSQL). SQLite drops the
    clause; there every transaction starts with BEGIN IMMEDIATE (storage.db) instead."""
    return statement.with_for_update(skip_locked=True)
