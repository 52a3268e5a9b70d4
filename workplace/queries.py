"""What the workplace pages and their JSON twins show, read in one place."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from rules.cadence import CaseStatus
from storage.models import (
    ArrearsSnapshot,
    Case,
    CaseEvent,
    ContactPoint,
    Handover,
    Message,
    MunicipalSignal,
    PaymentPlan,
    Tenant,
    User,
)
from workplace import sending


@dataclass(frozen=True)
class QueueFilter:
    reason: str | None = None
    who: str = "all"  # "mine", "unassigned", "all"
    channel: str | None = None
    municipality: str | None = None


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    tenant_name: str
    tenant_ref: str
    municipality: str | None
    reason: str
    priority: int
    escalated_at: datetime
    waiting_hours: float
    overdue: bool
    balance_cents: int
    channel: str | None  # the channel the tenant last wrote on, else the first we have
    assignee: str | None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["escalated_at"] = self.escalated_at.isoformat()
        data["waiting_hours"] = round(self.waiting_hours, 1)
        return data


async def queue(
    session: AsyncSession,
    user: User | None,
    chosen: QueueFilter,
    *,
    now: datetime,
    target_hours: int,
    scope: tuple[str, ...] | None = None,
    limit: int = 300,
) -> list[QueueRow]:
    """Escalated cases, most urgent first, then the longest waiting. `user`: whose "mine"
    is; None for the command line."""
    query = (
        select(Case, Tenant, User.display_name)
        .join(Tenant, Case.tenant_id == Tenant.id)
        .outerjoin(User, Case.assignee_id == User.id)
        .where(Case.status == CaseStatus.ESCALATED)
        .order_by(Case.escalation_priority.desc(), Case.escalated_at.asc(), Case.id)
    )
    if scope is not None:  # a consultant's team: its municipalities only
        query = query.where(func.lower(Tenant.municipality).in_(scope))
    if chosen.reason:
        query = query.where(Case.escalation_reason == chosen.reason)
    if chosen.who == "mine" and user is not None:
        query = query.where(Case.assignee_id == user.id)
    elif chosen.who == "unassigned":
        query = query.where(Case.assignee_id.is_(None))
    if chosen.municipality:
        query = query.where(func.lower(Tenant.municipality) == chosen.municipality.lower())
    rows = list(await session.execute(query.limit(limit * 4 if chosen.channel else limit)))
    channels = await _channels(session, [tenant.id for _, tenant, _ in rows])
    result = []
    for case, tenant, assignee in rows:
        channel = channels.get(tenant.id)
        if chosen.channel and channel != chosen.channel:
            continue
        since = case.escalated_at or case.opened_at
        waiting = (now - since).total_seconds() / 3600
        result.append(
            QueueRow(
                case_id=case.id,
                tenant_name=tenant.name,
                tenant_ref=tenant.external_ref,
                municipality=tenant.municipality,
                reason=case.escalation_reason or "",
                priority=case.escalation_priority or 0,
                escalated_at=since,
                waiting_hours=waiting,
                overdue=waiting > target_hours,
                balance_cents=case.balance_cents,
                channel=channel,
                assignee=assignee,
            )
        )
    return result[:limit]


async def _channels(session: AsyncSession, tenant_ids: list[int]) -> dict[int, str]:
    if not tenant_ids:
        return {}
    latest = (
        select(Message.tenant_id, func.max(Message.id).label("last_id"))
        .where(Message.tenant_id.in_(tenant_ids), Message.direction == "in")
        .group_by(Message.tenant_id)
        .subquery()
    )
    last_written = dict(
        (tenant_id, channel)
        for tenant_id, channel in await session.execute(
            select(Message.tenant_id, Message.channel).join(latest, Message.id == latest.c.last_id)
        )
    )
    points = await session.execute(
        select(ContactPoint.tenant_id, ContactPoint.channel)
        .where(ContactPoint.tenant_id.in_(tenant_ids), ContactPoint.retired_at.is_(None))
        .order_by(ContactPoint.id)
    )
    first: dict[int, str] = {}
    for tenant_id, channel in points:
        first.setdefault(tenant_id, channel)
    return {
        tenant_id: last_written.get(tenant_id, first.get(tenant_id, ""))
        for tenant_id in tenant_ids
        if tenant_id in last_written or tenant_id in first
    }


async def unmatched(session: AsyncSession, since: datetime, limit: int = 50) -> list[Message]:
    """Messages from addresses we could not tie to one tenant, kept for a consultant."""
    return list(
        await session.scalars(
            select(Message)
            .where(
                Message.direction == "in",
                Message.tenant_id.is_(None),
                Message.created_at >= since,
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # "message" or "event"
    title: str
    actor: str
    direction: str | None = None  # messages: "in" / "out"
    channel: str | None = None
    status: str | None = None
    body: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    template: str | None = None  # messages: what was sent
    intent: str | None = None  # messages: what the tenant's reply meant

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


def contact_point_json(point: ContactPoint) -> dict[str, Any]:
    """A contact point as the case JSON and the dossier show it."""
    return {
        "channel": point.channel,
        "address": point.address,
        "opted_out": point.opted_out_at is not None,
        "unreachable": point.unreachable_at is not None,
        "retired": point.retired_at is not None,
        "shared": point.shared,
    }


@dataclass
class CaseView:
    case: Case
    tenant: Tenant
    points: list[ContactPoint]
    assignee: User | None
    snapshots: list[tuple[date, int]]
    plans: list[PaymentPlan]
    timeline: list[TimelineItem]
    messages: list[Message]
    events: list[CaseEvent]
    handovers: list[Handover]
    signalled: bool

    def as_json(self) -> dict[str, Any]:
        case, tenant = self.case, self.tenant
        return {
            "id": case.id,
            "status": case.status,
            "stage": case.stage,
            "balance_cents": case.balance_cents,
            "arrears_since": case.arrears_since.isoformat(),
            "escalation_reason": case.escalation_reason,
            "escalation_priority": case.escalation_priority,
            "pause_reason": case.pause_reason,
            "paused_until": case.paused_until.isoformat() if case.paused_until else None,
            "assignee": self.assignee.username if self.assignee else None,
            "version": case.version,
            "tenant": {
                "ref": tenant.external_ref,
                "name": tenant.name,
                "language": tenant.language,
                "street": tenant.street,
                "postcode": tenant.postcode,
                "house_number": tenant.house_number,
                "city": tenant.city,
                "municipality": tenant.municipality,
                "monthly_rent_cents": tenant.monthly_rent_cents,
            },
            "contact_points": [contact_point_json(p) for p in self.points],
            "balance_history": [
                {"date": day.isoformat(), "balance_cents": cents} for day, cents in self.snapshots
            ],
            "plans": [
                {
                    "id": p.id,
                    "status": p.status,
                    "amount_cents": p.amount_cents,
                    "months": p.months,
                    "total_cents": p.total_cents,
                    "first_due": p.first_due.isoformat(),
                    "source": p.source,
                }
                for p in self.plans
            ],
            "timeline": [item.as_json() for item in self.timeline],
        }


async def case_view(session: AsyncSession, case_id: int) -> CaseView | None:
    case = await session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(selectinload(Case.tenant).selectinload(Tenant.contact_points))
    )
    if case is None:
        return None
    tenant = case.tenant
    assignee = await session.get(User, case.assignee_id) if case.assignee_id else None
    snapshots = [
        (day, cents)
        for day, cents in await session.execute(
            select(ArrearsSnapshot.as_of, ArrearsSnapshot.balance_cents)
            .where(
                ArrearsSnapshot.tenant_id == tenant.id,
                ArrearsSnapshot.as_of >= case.arrears_since - timedelta(days=62),
            )
            .order_by(ArrearsSnapshot.as_of)
        )
    ]
    plans = list(
        await session.scalars(
            select(PaymentPlan).where(PaymentPlan.case_id == case.id).order_by(PaymentPlan.id)
        )
    )
    messages = list(
        await session.scalars(
            select(Message)
            .where(
                Message.tenant_id == tenant.id,
                Message.created_at >= case.opened_at - timedelta(days=1),
            )
            .order_by(Message.created_at, Message.id)
        )
    )
    events = list(
        await session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)
        )
    )
    # An outgoing message stands where it went, as in the conversation; one still waiting
    # (or never sent) where it was queued, with its status saying so.
    went = sending.moments(messages, events)
    timeline = [
        TimelineItem(
            at=went.get(m.id, m.created_at) if m.direction == "out" else m.created_at,
            kind="message",
            title=(m.template or m.intent or m.kind)
            if m.direction == "out"
            else (m.intent or "reply"),
            actor="tenant" if m.direction == "in" else "bot",
            direction=m.direction,
            channel=m.channel,
            status=m.status,
            body=m.body,
            template=m.template,
            intent=m.intent,
        )
        for m in messages
    ] + [
        TimelineItem(at=e.at, kind="event", title=e.kind, actor=e.actor, data=dict(e.data))
        for e in events
    ]
    timeline.sort(key=lambda item: (item.at, item.kind))
    handovers = list(
        await session.scalars(
            select(Handover).where(Handover.case_id == case.id).order_by(Handover.id)
        )
    )
    signal_id = await session.scalar(
        select(MunicipalSignal.id).where(MunicipalSignal.case_id == case.id)
    )
    points = sorted(tenant.contact_points, key=lambda p: (p.retired_at is not None, p.id))
    return CaseView(
        case,
        tenant,
        points,
        assignee,
        snapshots,
        plans,
        timeline,
        messages,
        events,
        handovers,
        signal_id is not None,
    )
