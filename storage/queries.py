"""Read queries the scheduler and the demo share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.cadence import CaseStatus
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


@dataclass(frozen=True)
class QueueDepths:
    """How much waits, for operators: per (channel, status) counts and oldest ages."""

    outbox: dict[tuple[str, str], int]
    outbox_due: dict[str, int]
    outbox_oldest_due: datetime | None
    inbox_pending: int
    inbox_oldest: datetime | None
    inbox_failed: int


async def queue_depths(session: AsyncSession, now: datetime) -> QueueDepths:
    waiting = ["queued", "sending"]
    outbox = {
        (channel, status): count
        for channel, status, count in await session.execute(
            select(Message.channel, Message.status, func.count())
            .where(Message.status.in_(waiting), Message.direction == "out")
            .group_by(Message.channel, Message.status)
        )
    }
    due_rows = list(
        await session.execute(
            select(Message.channel, func.count(), func.min(Message.next_attempt_at))
            .where(
                Message.status == "queued",
                Message.direction == "out",
                Message.next_attempt_at <= now,
            )
            .group_by(Message.channel)
        )
    )
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(Message.created_at)).where(
                Message.status == "pending", Message.direction == "in"
            )
        )
    ).one()
    failed = await session.scalar(
        select(func.count()).where(Message.status == "failed", Message.direction == "in")
    )
    oldest_due = [moment for _, _, moment in due_rows if moment is not None]
    return QueueDepths(
        outbox=outbox,
        outbox_due={channel: count for channel, count, _ in due_rows},
        outbox_oldest_due=min(oldest_due) if oldest_due else None,
        inbox_pending=int(pending or 0),
        inbox_oldest=oldest,
        inbox_failed=int(failed or 0),
    )
