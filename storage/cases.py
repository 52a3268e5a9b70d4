"""Changes to a case, each written together with its event in the append-only record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rules.cadence import CaseStatus
from rules.priority import escalation_priority
from storage.models import Case, CaseEvent


def add_event(
    session: AsyncSession,
    case_id: int,
    kind: str,
    now: datetime,
    actor: str = "system",
    **data: Any,
) -> None:
    session.add(CaseEvent(case_id=case_id, at=now, actor=actor, kind=kind, data=data))


def touch(case: Case) -> None:
    case.version += 1


def escalate(
    session: AsyncSession,
    case: Case,
    reason: str,
    now: datetime,
    monthly_rent_cents: int,
    actor: str = "system",
    **data: Any,
) -> None:
    """Put the case in the consultant queue; a case already there keeps its place unless the
    new reason is more urgent."""
    priority = escalation_priority(reason, case.balance_cents, monthly_rent_cents)
    if case.status != CaseStatus.ESCALATED or priority > (case.escalation_priority or 0):
        case.escalation_reason = reason
        case.escalation_priority = priority
    if case.status != CaseStatus.ESCALATED:
        case.escalated_at = now
    case.status = CaseStatus.ESCALATED
    case.next_action_at = None
    touch(case)
    add_event(session, case.id, "escalated", now, actor, reason=reason, priority=priority, **data)


def pause(
    session: AsyncSession,
    case: Case,
    reason: str,
    now: datetime,
    until: datetime | None = None,
    actor: str = "system",
) -> None:
    case.status = CaseStatus.PAUSED
    case.pause_reason = reason
    case.paused_until = until
    case.next_action_at = until
    touch(case)
    add_event(
        session,
        case.id,
        "paused",
        now,
        actor,
        reason=reason,
        until=until.isoformat() if until else None,
    )


def resume(session: AsyncSession, case: Case, now: datetime, reason: str) -> None:
    case.status = CaseStatus.OPEN
    case.pause_reason = None
    case.paused_until = None
    case.next_action_at = now
    touch(case)
    add_event(session, case.id, "resumed", now, reason=reason)
