"""Read queries shared by the CLI and the web pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence import CaseStatus
from storage.models import Case, Message, Tenant


@dataclass(frozen=True)
class QueueEntry:
    case_id: int
    tenant_ref: str
    tenant_name: str
    municipality: str | None
    reason: str
    priority: int
    escalated_at: datetime
    balance_cents: int
    assignee_id: int | None


async def consultant_queue(session: AsyncSession, limit: int = 500) -> list[QueueEntry]:
    """Escalated cases, most urgent first, then the longest waiting."""
    rows = await session.execute(
        select(Case, Tenant)
        .join(Tenant, Case.tenant_id == Tenant.id)
        .where(Case.status == CaseStatus.ESCALATED)
        .order_by(Case.escalation_priority.desc(), Case.escalated_at.asc(), Case.id)
        .limit(limit)
    )
    return [
        QueueEntry(
            case_id=case.id,
            tenant_ref=tenant.external_ref,
            tenant_name=tenant.name,
            municipality=tenant.municipality,
            reason=case.escalation_reason or "",
            priority=case.escalation_priority or 0,
            escalated_at=case.escalated_at or case.opened_at,
            balance_cents=case.balance_cents,
            assignee_id=case.assignee_id,
        )
        for case, tenant in rows
    ]


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
