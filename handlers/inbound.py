"""A tenant's message: stored once, matched to a contact point, understood, answered.

Nothing personal goes back to an address we cannot tie to exactly one tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.cadence import CaseStatus
from bot.intents import Intent, Reply, parse_reply
from bot.plans import outside_policy, terms_for
from bot.policy import PlanRules, Policy
from messaging.channels.base import InboundMessage
from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.render import format_euros
from messaging.routing import Reachable
from storage import cases as case_ops
from storage.db import SessionMaker
from storage.models import Case, ContactPoint, Message, PaymentPlan, Tenant
from storage.sql import insert_ignoring_conflicts

# Intent → (escalation reason or None, answer template).
_ANSWERS: dict[Intent, tuple[str | None, str]] = {
    Intent.HELP: ("help", "reply_help"),
    Intent.PLAN: ("plan_request", "reply_plan_received"),
    Intent.DISPUTE: ("dispute", "reply_received"),
    Intent.CALLBACK: ("callback", "reply_received"),
    Intent.QUESTION: ("question", "reply_received"),
    Intent.UNKNOWN: ("unknown_reply", "reply_received"),
    Intent.OBJECTION: ("objection", "reply_objection"),
    Intent.PAID: (None, "reply_paid"),
}


@dataclass(frozen=True)
class InboundResult:
    message_id: int | None  # None: a replay of a message already stored
    matched: bool
    intent: Intent | None = None
    case_id: int | None = None


async def _store(session: AsyncSession, inbound: InboundMessage, now: datetime) -> int | None:
    result = await session.execute(
        insert_ignoring_conflicts(session, Message)
        .values(
            direction="in",
            kind="reply",
            channel=inbound.channel,
            address=inbound.address,
            body=inbound.text[:4000],
            status="received",
            provider_id=inbound.provider_id,
            attempts=0,
            context={},
            fallback_channels=[],
            respect_quiet_hours=False,
            created_at=inbound.received_at or now,
        )
        .returning(Message.id)
    )
    return result.scalar_one_or_none()


def _route(point: ContactPoint, verified: bool | None = None) -> Reachable:
    return Reachable(
        point.id, point.channel, point.address, point.verified if verified is None else verified
    )


async def handle_inbound(
    sessions: SessionMaker,
    inbound: InboundMessage,
    *,
    policy: Policy,
    letterhead: Letterhead,
    now: datetime,
    payment_iban: str | None = None,
) -> InboundResult:
    async with sessions() as session, session.begin():
        message_id = await _store(session, inbound, now)
        if message_id is None:
            return InboundResult(None, matched=False)
        message = await session.get_one(Message, message_id)
        points = list(
            await session.scalars(
                select(ContactPoint)
                .where(
                    ContactPoint.channel == inbound.channel,
                    ContactPoint.address == inbound.address,
                    ContactPoint.retired_at.is_(None),
                )
                .options(selectinload(ContactPoint.tenant))
            )
        )
        today = now.astimezone(policy.tz).date()
        reply = parse_reply(inbound.text, today)
        message.intent = reply.intent.value
        if len({point.tenant_id for point in points}) != 1:
            # Unknown, or shared by several tenants: a polite answer that reveals nothing.
            await enqueue(
                session,
                route=Reachable(None, inbound.channel, inbound.address, verified=False),
                template="reply_unknown_sender",
                language="nl",
                context=tenant_context(letterhead, None, None),
                kind="reply",
                now=now,
                respect_quiet_hours=False,
            )
            return InboundResult(message_id, matched=False, intent=reply.intent)
        point = points[0]
        tenant = point.tenant
        point.last_inbound_at = now
        message.tenant_id = tenant.id
        message.contact_point_id = point.id
        case = await session.scalar(
            select(Case)
            .where(Case.tenant_id == tenant.id)
            .order_by((Case.status == CaseStatus.CLOSED).asc(), Case.opened_at.desc())
            .limit(1)
        )
        if case is not None:
            message.case_id = case.id
        provider_confirms = inbound.extra.get("provider_handles_opt_out") == "yes"
        await _react(
            session,
            reply,
            point,
            case,
            letterhead=letterhead,
            now=now,
            message_id=message_id,
            provider_confirms=provider_confirms,
            policy=policy,
            today=today,
            payment_iban=payment_iban,
        )
        return InboundResult(
            message_id, matched=True, intent=reply.intent, case_id=case.id if case else None
        )


async def _react(
    session: AsyncSession,
    reply: Reply,
    point: ContactPoint,
    case: Case | None,
    *,
    letterhead: Letterhead,
    now: datetime,
    message_id: int,
    provider_confirms: bool,
    policy: Policy,
    today: date,
    payment_iban: str | None,
) -> None:
    tenant = point.tenant
    context: dict[str, Any] = tenant_context(
        letterhead, tenant, case.balance_cents if case else None
    )

    async def answer(template: str) -> None:
        await enqueue(
            session,
            route=_route(point),
            template=template,
            language=tenant.language,
            context=context,
            kind="reply",
            now=now,
            case_id=case.id if case else None,
            tenant_id=tenant.id,
            respect_quiet_hours=False,
        )

    if reply.intent is Intent.STOP:
        already = point.opted_out_at is not None
        point.opted_out_at = point.opted_out_at or now
        if case is not None:
            case_ops.add_event(
                session,
                case.id,
                "opted_out",
                now,
                "tenant",
                channel=point.channel,
                message_id=message_id,
            )
        # Confirm once, on the channel they left, unless the provider already did.
        if not already and not provider_confirms:
            await answer("optout_confirm")
        return
    if reply.intent is Intent.START:
        was_out = point.opted_out_at is not None
        point.opted_out_at = None
        if case is not None:
            case_ops.add_event(
                session,
                case.id,
                "opted_in",
                now,
                "tenant",
                channel=point.channel,
                message_id=message_id,
            )
        if was_out and not provider_confirms:
            await answer("optin_confirm")
        return
    if point.opted_out_at is not None:
        # Writing to us again is consent to talk on this channel.
        point.opted_out_at = None
    if case is None:
        await answer("reply_received")
        return
    case.last_reply_at = now
    case_ops.add_event(
        session,
        case.id,
        "reply_received",
        now,
        "tenant",
        intent=reply.intent.value,
        message_id=message_id,
        **({"amount_cents": reply.amount_cents} if reply.amount_cents else {}),
    )
    reason, template = _answers(reply)
    if (
        reply.intent is Intent.PLAN
        and reason == "plan_request"
        and case.status != CaseStatus.CLOSED
    ):
        template = await _plan(
            session, reply, case, tenant, context, policy.plans, today, now, message_id
        )
        await answer(template)
        return
    if (
        reply.topic == "payment"
        and payment_iban
        and point.verified
        and case.status != CaseStatus.CLOSED
        and case.balance_cents > 0
    ):
        # How much and where to pay: the case's own data, to an address that is theirs.
        context.update(iban=payment_iban, reference=tenant.external_ref)
        if case.status == CaseStatus.OPEN:
            case_ops.pause(
                session,
                case,
                "question_answered",
                now,
                until=now + timedelta(days=policy.plans.dialogue_days),
            )
        await answer("reply_payment_details")
        return
    if reply.amount_cents:
        context["amount"] = format_euros(reply.amount_cents)
    context["crisis"] = reason == "crisis"
    context["help"] = policy.help.for_municipality(tenant.municipality).model_dump()
    if case.status != CaseStatus.CLOSED:
        if reply.intent is Intent.PAID:
            if case.status != CaseStatus.ESCALATED:
                case_ops.pause(session, case, "paid", now)
        elif reason is not None:
            if reply.intent is Intent.OBJECTION:
                # The municipal early signal must respect this (Wgs).
                case_ops.add_event(
                    session, case.id, "objection", now, "tenant", message_id=message_id
                )
            details: dict[str, Any] = {"message_id": message_id}
            if reply.amount_cents:
                details["amount_cents"] = reply.amount_cents
            if reply.months:
                details["months"] = reply.months
            case_ops.escalate(session, case, reason, now, tenant.monthly_rent_cents, **details)
    await answer(template)


def _day(day: date) -> str:
    return day.strftime("%d-%m-%Y")


async def _plan(
    session: AsyncSession,
    reply: Reply,
    case: Case,
    tenant: Tenant,
    context: dict[str, Any],
    rules: PlanRules,
    today: date,
    now: datetime,
    message_id: int,
) -> str:
    """Agree the plan the tenant offers when policy allows, else hand it to a consultant
    with the numbers. Returns the answer's template."""
    terms = terms_for(
        case.balance_cents,
        today=today,
        amount_cents=reply.amount_cents,
        months=reply.months,
        pay_date=reply.pay_date,
    )
    if terms is None:
        # "1" or "a plan please": ask how much, and hold the reminders while we wait.
        if case.status != CaseStatus.ESCALATED:
            case_ops.pause(
                session, case, "plan_dialogue", now, until=now + timedelta(days=rules.dialogue_days)
            )
        return "reply_plan_ask"
    earlier = await session.scalar(
        select(func.count())
        .select_from(PaymentPlan)
        .join(Case, PaymentPlan.case_id == Case.id)
        .where(
            Case.tenant_id == tenant.id,
            PaymentPlan.source == "tenant",
            PaymentPlan.status.in_(["active", "completed", "broken"]),
            PaymentPlan.created_at > now - timedelta(days=365),
        )
    )
    reasons = outside_policy(terms, rules, earlier or 0)
    plan = PaymentPlan(
        case_id=case.id,
        status="proposed" if reasons else "active",
        amount_cents=terms.amount_cents,
        months=terms.months,
        first_due=terms.first_due,
        total_cents=terms.total_cents,
        source="tenant",
        created_at=now,
        decided_at=None if reasons else now,
        decided_by=None if reasons else "policy",
    )
    session.add(plan)
    await session.flush()
    schedule = terms.schedule()
    numbers: dict[str, Any] = {
        "plan_id": plan.id,
        "amount_cents": terms.amount_cents,
        "months": terms.months,
        "total_cents": terms.total_cents,
        "first_due": terms.first_due.isoformat(),
        "message_id": message_id,
    }
    context.update(
        amount=format_euros(terms.amount_cents),
        months=terms.months,
        total=format_euros(terms.total_cents),
        first_due=_day(schedule[0][0]),
        last_due=_day(schedule[-1][0]),
        last_amount=format_euros(schedule[-1][1]),
    )
    if reasons:
        case_ops.add_event(
            session, case.id, "plan_proposed", now, "tenant", **numbers, reasons=reasons
        )
        case_ops.escalate(
            session,
            case,
            "plan_request",
            now,
            tenant.monthly_rent_cents,
            **numbers,
            reasons=reasons,
        )
        return "reply_plan_received"
    case_ops.add_event(session, case.id, "plan_agreed", now, "policy", **numbers)
    case_ops.pause(session, case, "plan", now)
    return "reply_plan_agreed"


def _answers(reply: Reply) -> tuple[str | None, str]:
    if reply.crisis:
        return "crisis", "reply_help"
    return _ANSWERS.get(reply.intent, ("unknown_reply", "reply_received"))
