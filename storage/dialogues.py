"""Reading and writing a conversation's open question (rules.dialogue holds the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.dialogue import Step
from storage.models import Dialogue
from storage.sql import upsert


async def load(session: AsyncSession, key: str) -> Dialogue | None:
    """The dialogue under `key`, locked until the transaction ends (PostgreSQL), so two
    messages from one tenant arriving together take turns."""
    return await session.scalar(
        select(Dialogue)
        .where(Dialogue.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def save(
    session: AsyncSession,
    key: str,
    step: Step,
    *,
    now: datetime,
    expires_at: datetime,
    case_id: int | None = None,
    tenant_id: int | None = None,
    data: dict[str, Any] | None = None,
    attempts: int = 0,
) -> None:
    await session.execute(
        upsert(
            session,
            Dialogue,
            ["key"],
            {
                "key": key,
                "step": step.value,
                "case_id": case_id,
                "tenant_id": tenant_id,
                "data": data or {},
                "attempts": attempts,
                "expires_at": expires_at,
                "updated_at": now,
            },
        )
    )


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(delete(Dialogue).where(Dialogue.key == key))
