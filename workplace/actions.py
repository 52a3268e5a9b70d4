"""What a consultant does to a case. Each action is one transaction and one case event with
the consultant's name; the case's `version` guards against two people acting on old data."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.render import plan_context
from messaging.routing import reachable
from rules.cadence import CaseStatus
from rules.plans import PlanTerms
from rules.policy import Partner
from storage import cases as case_ops
from storage.models import Case, Handover, PaymentPlan, Tenant, User


class ActionError(ValueError):
    """The action cannot be done; the message says why, for the consultant."""


class ContactMode(StrEnum):
    """The national vocabulary for contact attempts (vroegsignalering)."""

    SMS_WHATSAPP = "SMS/Whatsapp"
    MAIL = "Mail"
    BRIEF = "Brief"
    TELEFOON = "Telefoon"
    HUISBEZOEK = "Huisbezoek"


def part_of_day(local_hour: int) -> str:
    """Ochtend before noon, Middag until six, Avond after (the national vocabulary)."""
    if local_hour < 12:
        return "Ochtend"
    if local_hour < 18:
        return "Middag"
    return "Avond"


async def claim(session: AsyncSession, case_id: int, user: User, now: datetime) -> bool:
    """Take an escalated case. One statement that only succeeds while nobody has it, so two
    consultants clicking at once never both get it."""
    result = await session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            Case.status == CaseStatus.ESCALATED,
            Case.assignee_id.is_(None),
        )
        .values(assignee_id=user.id, version=Case.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    case_ops.add_event(session, case_id, "claimed", now, user.username)
    return True


async def release(session: AsyncSession, case_id: int, user: User, now: datetime) -> bool:
    """Give a case back to the queue; only its holder (or a coordinator) can."""
    condition = [Case.id == case_id, Case.assignee_id.is_not(None)]
    if user.role != "coordinator":
        condition.append(Case.assignee_id == user.id)
    result = await session.execute(
        update(Case)
        .where(*condition)
        .values(assignee_id=None, version=Case.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    case_ops.add_event(session, case_id, "released", now, user.username)
    return True


async def load_case(session: AsyncSession, case_id: int, version: int | None = None) -> Case:
    case = await session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(selectinload(Case.tenant).selectinload(Tenant.contact_points))
        .with_for_update()
    )
    if case is None:
        raise ActionError("no such case")
    if version is not None and case.version != version:
        raise ActionError(
            "the case changed while you were looking at it; have a look again and repeat"
        )
    return case


async def log_contact(
    session: AsyncSession,
    case: Case,
    user: User,
    *,
    mode: ContactMode,
    reached: bool,
    outcome: str,
    at: datetime,
    local_hour: int,
    now: datetime,
) -> None:
    """A call, a home visit, a letter: what was tried, when, and whether it reached them."""
    case_ops.add_event(
        session,
        case.id,
        "contact_logged",
        now,
        user.username,
        mode=mode.value,
        reached=reached,
        outcome=outcome.strip()[:2000],
        at=at.isoformat(),
        part_of_day=part_of_day(local_hour),
    )
    case.last_contact_at = max(filter(None, [case.last_contact_at, at]))
    case_ops.touch(case)


async def decide_plan(
    session: AsyncSession,
    case: Case,
    user: User,
    plan_id: int,
    *,
    approve: bool,
    now: datetime,
    letterhead: Letterhead,
    note: str = "",
) -> None:
    """Approve or reject a plan a tenant proposed; the tenant is told either way."""
    plan = await session.get(PaymentPlan, plan_id)
    if plan is None or plan.case_id != case.id or plan.status != "proposed":
        raise ActionError("this proposal has been decided already")
    plan.status = "active" if approve else "rejected"
    plan.decided_at, plan.decided_by = now, user.username
    numbers = {
        "plan_id": plan.id,
        "amount_cents": plan.amount_cents,
        "months": plan.months,
        "total_cents": plan.total_cents,
    }
    case_ops.add_event(
        session,
        case.id,
        "plan_approved" if approve else "plan_rejected",
        now,
        user.username,
        **numbers,
        note=note.strip()[:1000],
    )
    terms = PlanTerms(plan.amount_cents, plan.months, plan.total_cents, plan.first_due)
    context = {
        **tenant_context(letterhead, case.tenant, case.balance_cents),
        **plan_context(terms, case.tenant.language),
    }
    if approve:
        case.assignee_id = None
        case_ops.pause(session, case, "plan", now, actor=user.username)
    await _tell(session, case, "reply_plan_agreed" if approve else "plan_rejected", context, now)


async def pause_until(
    session: AsyncSession, case: Case, user: User, until: datetime, now: datetime, note: str
) -> None:
    if until <= now:
        raise ActionError("choose a date in the future")
    if until > now + timedelta(days=366):
        raise ActionError("pause for a year at most")
    if case.status == CaseStatus.CLOSED:
        raise ActionError("this case is closed")
    case.assignee_id = None
    case_ops.pause(session, case, "consultant", now, until=until, actor=user.username)
    if note.strip():
        case_ops.add_event(session, case.id, "note", now, user.username, text=note.strip()[:2000])


RESOLUTIONS = ("paid", "plan", "handed_over", "moved", "deceased", "no_arrears", "other")


async def resolve(
    session: AsyncSession, case: Case, user: User, reason: str, now: datetime, note: str
) -> None:
    if reason not in RESOLUTIONS:
        raise ActionError("choose a reason")
    if case.status == CaseStatus.CLOSED:
        raise ActionError("this case is closed already")
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.close_reason = reason
    case.next_action_at = None
    case.assignee_id = None
    case_ops.touch(case)
    case_ops.add_event(
        session, case.id, "resolved", now, user.username, reason=reason, note=note.strip()[:2000]
    )


async def _tell(
    session: AsyncSession, case: Case, template: str, context: dict[str, Any], now: datetime
) -> None:
    options = reachable(case.tenant.contact_points)
    usable = [point for point in options if point.verified]
    if not usable:
        return
    await enqueue(
        session,
        route=usable[0],
        template=template,
        language=case.tenant.language,
        context=context,
        kind="notice",
        now=now,
        case_id=case.id,
        tenant_id=case.tenant.id,
        fallback=[point.channel for point in usable[1:]],
    )


PARTNER_FEEDBACK = ("accepted", "plan_in_place", "no_contact")


async def hand_over(
    session: AsyncSession,
    case: Case,
    user: User,
    *,
    partner: Partner,
    consent_how: str,
    dossier: dict[str, Any],
    now: datetime,
) -> Handover:
    """A warm handover: only with the tenant's consent, with the dossier as it stands, and
    the reminders paused while the partner takes over."""
    consent_how = consent_how.strip()
    if not consent_how:
        raise ActionError("record how the tenant agreed to the handover")
    if case.status == CaseStatus.CLOSED:
        raise ActionError("this case is closed")
    handover = Handover(
        case_id=case.id,
        partner_name=partner.name,
        partner_kind=partner.kind,
        consent_at=now,
        consent_how=consent_how[:200],
        created_at=now,
        created_by=user.username,
        dossier={
            **dossier,
            "handover": {
                "partner": partner.name,
                "kind": partner.kind,
                "consent": consent_how[:200],
                "by": user.username,
                "at": now.isoformat(),
            },
        },
    )
    session.add(handover)
    await session.flush()
    case_ops.add_event(
        session,
        case.id,
        "handed_over",
        now,
        user.username,
        handover_id=handover.id,
        partner=partner.name,
        partner_kind=partner.kind,
        consent=consent_how[:200],
    )
    case.assignee_id = None
    case_ops.pause(session, case, "handed_over", now, actor=user.username)
    return handover


async def partner_feedback(
    session: AsyncSession,
    case: Case,
    user: User,
    handover_id: int,
    *,
    feedback: str,
    note: str,
    now: datetime,
) -> None:
    """What the partner reported. No contact: the case comes back to the queue."""
    if feedback not in PARTNER_FEEDBACK:
        raise ActionError("choose what the partner reported")
    handover = await session.get(Handover, handover_id)
    if handover is None or handover.case_id != case.id:
        raise ActionError("no such handover")
    handover.feedback = feedback
    handover.feedback_note = note.strip()[:2000] or None
    handover.feedback_at, handover.feedback_by = now, user.username
    case_ops.add_event(
        session,
        case.id,
        "partner_feedback",
        now,
        user.username,
        handover_id=handover.id,
        feedback=feedback,
        note=note.strip()[:2000],
    )
    if feedback == "no_contact" and case.status != CaseStatus.CLOSED:
        case_ops.escalate(
            session,
            case,
            "handover_no_contact",
            now,
            case.tenant.monthly_rent_cents,
            actor=user.username,
            partner=handover.partner_name,
        )
    case_ops.touch(case)
