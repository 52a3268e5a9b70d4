"""Read queries the scheduler and the demo share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence import CaseStatus
from storage.models import Case, Message


async def next_due(session: AsyncSession, after: datetime) -> datetime | None:
    """The first moment after ``after`` at which a tick or a dispatch has work."""
    moments = [
        await session.scalar(
            select(func.min(Case.next_action_at)).where(
                Case.status.in_([CaseStatus.OPEN, CaseStatus.PAUSED]), Case.next_action_at > after
            )
        ),
        await session.scalar(
            select(func.min(Message.next_attempt_at)).where(
                Message.status == "queued", Message.next_attempt_at > after
            )
        ),
    ]
    upcoming = [moment for moment in moments if moment is not None]
    return min(upcoming) if upcoming else None
