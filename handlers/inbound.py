"""A tenant's message: stored once, matched to a contact point, understood, answered.

Nothing personal goes back to an address we cannot tie to exactly one tenant: an address
several tenants share first asks for postcode and house number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from handlers import circumstances
from messaging.channels.base import InboundMessage
from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.render import money, plan_context
from messaging.routing import Reachable
from rules.cadence import CaseStatus
from rules.dialogue import (
    Step,
    address_key,
    address_matches,
    case_key,
    confirmation,
    expired,
    just_thanks,
    parse_address,
)
from rules.intents import Intent, Reply, parse_reply
from rules.plans import PlanTerms, outside_policy, terms_for
from rules.policy import Policy
from rules.situations import situation
from storage import cases as case_ops
from storage import dialogues
from storage.models import Case, ContactPoint, Dialogue, Message, PaymentPlan, Tenant
from storage.promises import unkept

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


def _route(point: ContactPoint, verified: bool | None = None) -> Reachable:
    """`verified`: proven in this conversation (postcode and house number), which also
    speaks for an address several tenants share."""
    if verified is None:
        return Reachable(point.id, point.channel, point.address, point.verified, point.shared)
    return Reachable(point.id, point.channel, point.address, verified, shared=False)


# After this many wrong answers to "postcode and house number?", an address shared by
# several tenants gets only the general answer until the question expires.
MAX_VERIFY_ATTEMPTS = 3


async def understand(
    session: AsyncSession,
    message: Message,
    *,
    policy: Policy,
    letterhead: Letterhead,
    now: datetime,
    payment_iban: str | None = None,
) -> InboundResult:
    """Act on one stored message from the inbox, in the caller's transaction."""
    message_id = message.id
    inbound = InboundMessage(
        channel=message.channel,
        address=message.address,
        text=message.body,
        provider_id=message.provider_id or "",
        received_at=message.created_at,
        extra={key: str(value) for key, value in (message.context or {}).items()},
    )
    points = list(
        await session.scalars(
            select(ContactPoint)
            .where(
                ContactPoint.channel == inbound.channel,
                ContactPoint.address == inbound.address,
                ContactPoint.retired_at.is_(None),
            )
            .order_by(ContactPoint.id)
            .options(joinedload(ContactPoint.tenant))
        )
    )
    # "Friday" means the Friday after the day it was written, however late we read it.
    today = inbound.received_at.astimezone(policy.tz).date()
    reply = parse_reply(inbound.text, today)
    message.intent = reply.intent.value
    turn = _Turn(
        session,
        policy,
        letterhead,
        now,
        today,
        payment_iban,
        provider_confirms=inbound.extra.get("provider_handles_opt_out") == "yes",
    )
    tenants = {point.tenant_id for point in points}
    if not tenants:
        await turn.answer_stranger(inbound, "reply_unknown_sender")
        return InboundResult(message_id, matched=False, intent=reply.intent)
    for point in points:
        point.last_inbound_at = now  # the WhatsApp window belongs to the address
    acted_on = message
    verified: bool | None = None  # None: as the contact point itself is
    if len(tenants) == 1:
        point = points[0]
    elif reply.intent in (Intent.STOP, Intent.START):
        # Stopping needs no proof of who writes: it holds for everyone at this address.
        for index, each in enumerate(points):
            await turn.react(
                reply,
                inbound.text,
                each,
                await _current_case(session, each.tenant_id),
                message_id,
                verified=False,
                confirm=index == 0,
            )
        return InboundResult(message_id, matched=False, intent=reply.intent)
    else:
        found = await turn.who_is_writing(inbound, points, message)
        if found is None:
            return InboundResult(message_id, matched=False, intent=reply.intent)
        point, acted_on = found
        verified = True
        if acted_on is not message:
            # The question asked before we knew who wrote: answer it now.
            reply = parse_reply(acted_on.body, today)
    tenant = point.tenant
    case = await _current_case(session, tenant.id)
    for written in (message, acted_on):
        written.tenant_id = tenant.id
        written.contact_point_id = point.id
        written.case_id = case.id if case is not None else None
    await turn.react(reply, acted_on.body, point, case, acted_on.id, verified=verified)
    return InboundResult(
        message_id, matched=True, intent=reply.intent, case_id=case.id if case else None
    )


async def _current_case(session: AsyncSession, tenant_id: int) -> Case | None:
    """The open case, else the latest closed one; locked, so two workers answering the
    same tenant (writing on two channels at once) take turns."""
    return await session.scalar(
        select(Case)
        .where(Case.tenant_id == tenant_id)
        .order_by((Case.status == CaseStatus.CLOSED).asc(), Case.opened_at.desc())
        .limit(1)
        .with_for_update()
    )


@dataclass
class _Turn:
    """One incoming message being answered: the transaction and what the rules need."""

    session: AsyncSession
    policy: Policy
    letterhead: Letterhead
    now: datetime
    today: date
    payment_iban: str | None
    provider_confirms: bool

    @property
    def question_expires(self) -> datetime:
        return self.now + timedelta(days=self.policy.plans.dialogue_days)

    async def answer_stranger(self, inbound: InboundMessage, template: str) -> None:
        """An answer that says nothing about any tenant or debt. The general one goes to an
        address at most once a day: another bot, or someone writing ten times, gets one."""
        if template == "reply_unknown_sender":
            recent = await self.session.scalar(
                select(Message.id)
                .where(
                    Message.direction == "out",
                    Message.channel == inbound.channel,
                    Message.address == inbound.address,
                    Message.template == template,
                    Message.created_at > self.now - timedelta(days=1),
                )
                .limit(1)
            )
            if recent is not None:
                return
        await enqueue(
            self.session,
            route=Reachable(None, inbound.channel, inbound.address, verified=False),
            template=template,
            language="nl",
            context=tenant_context(self.letterhead, None, None),
            kind="reply",
            now=self.now,
            respect_quiet_hours=False,
        )

    async def who_is_writing(
        self, inbound: InboundMessage, points: list[ContactPoint], message: Message
    ) -> tuple[ContactPoint, Message] | None:
        """For an address several tenants share: which of them writes, proven by postcode and
        house number. Returns the tenant's contact point and the message to act on, or None
        while we do not know (the answer then asks, or says nothing personal)."""
        key = address_key(inbound.channel, inbound.address)
        dialogue = await self._live(key)
        if dialogue is not None and dialogue.step == Step.VERIFIED:
            point = next((p for p in points if p.tenant_id == dialogue.tenant_id), None)
            if point is not None:
                return point, message
            dialogue = None  # that tenant no longer uses this address
        if dialogue is None or dialogue.step != Step.VERIFY:
            await dialogues.save(
                self.session,
                key,
                Step.VERIFY,
                now=self.now,
                expires_at=self.question_expires,
                data={"message_id": message.id},
            )
            await self.answer_stranger(inbound, "reply_verify_ask")
            return None
        if dialogue.attempts >= MAX_VERIFY_ATTEMPTS:
            await self.answer_stranger(inbound, "reply_unknown_sender")
            return None
        given = parse_address(inbound.text)
        matches = [
            p
            for p in points
            if given is not None
            and address_matches(
                given, p.tenant.postcode, p.tenant.house_number, p.tenant.house_number_suffix
            )
        ]
        if len(matches) == 1:
            (point,) = matches
            await dialogues.save(
                self.session,
                key,
                Step.VERIFIED,
                now=self.now,
                expires_at=self.question_expires,
                tenant_id=point.tenant_id,
            )
            first = await self.session.get(Message, dialogue.data.get("message_id", 0))
            return point, first if first is not None else message
        await dialogues.save(
            self.session,
            key,
            Step.VERIFY,
            now=self.now,
            expires_at=dialogue.expires_at,
            data=dialogue.data,
            attempts=dialogue.attempts + 1,
        )
        last_try = dialogue.attempts + 1 >= MAX_VERIFY_ATTEMPTS
        await self.answer_stranger(
            inbound, "reply_unknown_sender" if last_try else "reply_verify_failed"
        )
        return None

    async def _live(self, key: str) -> Dialogue | None:
        dialogue = await dialogues.load(self.session, key)
        if dialogue is not None and expired(dialogue.expires_at, self.now):
            await dialogues.clear(self.session, key)
            return None
        return dialogue

    async def react(
        self,
        reply: Reply,
        text: str,
        point: ContactPoint,
        case: Case | None,
        message_id: int,
        *,
        verified: bool | None,
        confirm: bool = True,
    ) -> None:
        """Act on a matched tenant's message. `confirm`: False when several tenants' contact
        points share this address and another one's answer already confirms a STOP/START."""
        session, now = self.session, self.now
        tenant = point.tenant
        route = _route(point, verified)
        context: dict[str, Any] = tenant_context(
            self.letterhead, tenant, case.balance_cents if case else None
        )
        # What they told us is acknowledged first; an agreed plan is not offered again.
        context["situation"] = situation(text)
        context["has_plan"] = case is not None and await _has_plan(session, case)
        # Any answer may point to debt help: hard times told beside an offer are heard too.
        context["help"] = self.policy.help.for_municipality(tenant.municipality).model_dump()

        async def answer(template: str) -> None:
            await enqueue(
                session,
                route=route,
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
            if confirm and not already and not self.provider_confirms:
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
            if confirm and was_out and not self.provider_confirms:
                await answer("optin_confirm")
            return
        if point.opted_out_at is not None:
            # Writing to us again is consent to talk on this channel.
            point.opted_out_at = None
        if case is None:
            await answer("reply_received")
            return
        case.last_reply_at = now
        key = case_key(case.id)
        dialogue = await dialogues.load(session, key)
        stale = dialogue is not None and expired(dialogue.expires_at, now)
        said = confirmation(text) if _plain(reply) else None
        case_ops.add_event(
            session,
            case.id,
            "reply_received",
            now,
            "tenant",
            intent=reply.intent.value,
            message_id=message_id,
            **({"amount_cents": reply.amount_cents} if reply.amount_cents else {}),
            **({"answer": "yes" if said else "no"} if said is not None else {}),
        )
        circumstances.record(session, case.id, reply, text, now, message_id)
        open_case = case.status != CaseStatus.CLOSED
        if dialogue is not None and said is not None and open_case:
            if dialogue.step in (Step.PLAN_CONFIRM, Step.PLAN_AMOUNT):
                # In the plan conversation a yes or no is about the plan.
                (await session.get_one(Message, message_id)).intent = Intent.PLAN.value
            if dialogue.step == Step.PLAN_CONFIRM and said and not stale:
                await dialogues.clear(session, key)
                await answer(await self.agree(case, tenant, context, dialogue.data, message_id))
                return
            if dialogue.step in (Step.PLAN_CONFIRM, Step.PLAN_AMOUNT):
                # "No", "another amount", or a yes to a plan shown too long ago: ask again.
                await answer(await self.ask_amount(case, key))
                return
        if dialogue is not None:
            await dialogues.clear(session, key)  # the tenant moved on
        if (
            said
            and reply.intent is Intent.UNKNOWN
            and case.status == CaseStatus.PAUSED
            and case.pause_reason == "plan"
        ):
            return  # "ok, thanks" after a plan was agreed needs no answer and no consultant
        if reply.intent is Intent.UNKNOWN and not open_case and (said or just_thanks(text)):
            return  # "thanks" after the case closed needs no answer and no consultant
        reason, template = _answers(reply)
        helped = circumstances.helped(reply)
        if helped:  # no plan offered: the helper acts for them; a consultant takes it up
            reason, template = circumstances.helped_answer(reply)
        if reply.intent is Intent.PLAN and reason == "plan_request" and open_case:
            await answer(await self.offer(reply, case, tenant, context, message_id))
            return
        is_verified = point.verified if verified is None else verified
        if (
            reply.topic == "payment"
            and not helped
            and self.payment_iban
            and is_verified
            and open_case
            and case.balance_cents > 0
        ):
            # How much and where to pay: the case's own data, to an address that is theirs.
            context.update(iban=self.payment_iban, reference=tenant.external_ref)
            if case.status == CaseStatus.OPEN:
                case_ops.pause(session, case, "question_answered", now, until=self.question_expires)
            await answer("reply_payment_details")
            return
        if reply.amount_cents:
            context["amount"] = money(reply.amount_cents, tenant.language)
        context["crisis"] = reason == "crisis"
        if open_case:
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
        elif reason is not None and reason != "objection":
            # The answer says a colleague will read it: a closed case goes back to the queue,
            # so someone does.
            case.closed_at, case.close_reason = None, None
            case_ops.escalate(
                session, case, reason, now, tenant.monthly_rent_cents, message_id=message_id
            )
        await answer(template)

    async def ask_amount(self, case: Case, key: str) -> str:
        """Ask how much a month the tenant can pay, holding the reminders while we wait."""
        await dialogues.save(
            self.session,
            key,
            Step.PLAN_AMOUNT,
            now=self.now,
            expires_at=self.question_expires,
            case_id=case.id,
        )
        if case.status != CaseStatus.ESCALATED:
            case_ops.pause(
                self.session, case, "plan_dialogue", self.now, until=self.question_expires
            )
        return "reply_plan_ask"

    async def offer(
        self,
        reply: Reply,
        case: Case,
        tenant: Tenant,
        context: dict[str, Any],
        message_id: int,
    ) -> str:
        """Show the plan that follows from the tenant's offer and ask them to confirm it, or
        hand it to a consultant when the policy does not let the bot agree it alone."""
        terms = terms_for(
            case.balance_cents,
            today=self.today,
            amount_cents=reply.amount_cents,
            months=reply.months,
            pay_date=reply.pay_date,
        )
        key = case_key(case.id)
        if terms is None:
            return await self.ask_amount(case, key)
        reasons = await self._outside_policy(tenant, terms)
        if reasons:
            return await self._refer(case, tenant, context, terms, reasons, message_id)
        await dialogues.save(
            self.session,
            key,
            Step.PLAN_CONFIRM,
            now=self.now,
            expires_at=self.question_expires,
            case_id=case.id,
            data=_numbers(terms),
        )
        if case.status != CaseStatus.ESCALATED:
            case_ops.pause(
                self.session, case, "plan_dialogue", self.now, until=self.question_expires
            )
        case_ops.add_event(
            self.session,
            case.id,
            "plan_offered",
            self.now,
            "policy",
            **_numbers(terms),
            message_id=message_id,
        )
        _describe(context, terms, tenant.language)
        return "reply_plan_confirm"

    async def agree(
        self,
        case: Case,
        tenant: Tenant,
        context: dict[str, Any],
        offered: dict[str, Any],
        message_id: int,
    ) -> str:
        """The tenant said yes to the plan shown: agree it, unless something changed since
        that puts it outside the policy (another plan agreed meanwhile)."""
        terms = PlanTerms(
            amount_cents=int(offered["amount_cents"]),
            months=int(offered["months"]),
            total_cents=int(offered["total_cents"]),
            first_due=date.fromisoformat(offered["first_due"]),
        )
        reasons = await self._outside_policy(tenant, terms)
        if reasons:
            return await self._refer(case, tenant, context, terms, reasons, message_id)
        plan = _plan_row(case, terms, "active", self.now)
        self.session.add(plan)
        await self.session.flush()
        case_ops.add_event(
            self.session,
            case.id,
            "plan_agreed",
            self.now,
            "policy",
            plan_id=plan.id,
            **_numbers(terms),
            message_id=message_id,
        )
        # A colleague was promised (an earlier "hulp"): the plan stands, and the case stays in
        # the queue until someone has been in touch.
        if case.status != CaseStatus.ESCALATED or not await unkept(self.session, [case.id]):
            case_ops.pause(self.session, case, "plan", self.now)
        _describe(context, terms, tenant.language)
        return "reply_plan_agreed"

    async def _outside_policy(self, tenant: Tenant, terms: PlanTerms) -> list[str]:
        earlier = await self.session.scalar(
            select(func.count())
            .select_from(PaymentPlan)
            .join(Case, PaymentPlan.case_id == Case.id)
            .where(
                Case.tenant_id == tenant.id,
                PaymentPlan.source == "tenant",
                PaymentPlan.status.in_(["active", "completed", "broken"]),
                PaymentPlan.created_at > self.now - timedelta(days=365),
            )
        )
        return outside_policy(terms, self.policy.plans, earlier or 0)

    async def _refer(
        self,
        case: Case,
        tenant: Tenant,
        context: dict[str, Any],
        terms: PlanTerms,
        reasons: list[str],
        message_id: int,
    ) -> str:
        """A proposal the bot may not agree alone: to the queue, with its numbers."""
        plan = _plan_row(case, terms, "proposed", self.now)
        self.session.add(plan)
        await self.session.flush()
        numbers = {**_numbers(terms), "plan_id": plan.id, "message_id": message_id}
        case_ops.add_event(
            self.session, case.id, "plan_proposed", self.now, "tenant", **numbers, reasons=reasons
        )
        case_ops.escalate(
            self.session,
            case,
            "plan_request",
            self.now,
            tenant.monthly_rent_cents,
            **numbers,
            reasons=reasons,
        )
        _describe(context, terms, tenant.language)
        return "reply_plan_received"


def _plain(reply: Reply) -> bool:
    """A message the parser found nothing firm in, so it may answer the bot's question."""
    if reply.intent is Intent.UNKNOWN:
        return True
    return reply.intent is Intent.PLAN and not (
        reply.amount_cents or reply.months or reply.pay_date
    )


def _numbers(terms: PlanTerms) -> dict[str, Any]:
    return {
        "amount_cents": terms.amount_cents,
        "months": terms.months,
        "total_cents": terms.total_cents,
        "first_due": terms.first_due.isoformat(),
    }


def _describe(context: dict[str, Any], terms: PlanTerms, language: str) -> None:
    context.update(plan_context(terms, language))


async def _has_plan(session: AsyncSession, case: Case) -> bool:
    return (
        await session.scalar(
            select(PaymentPlan.id)
            .where(PaymentPlan.case_id == case.id, PaymentPlan.status == "active")
            .limit(1)
        )
    ) is not None


def _plan_row(case: Case, terms: PlanTerms, status: str, now: datetime) -> PaymentPlan:
    agreed = status == "active"
    return PaymentPlan(
        case_id=case.id,
        status=status,
        amount_cents=terms.amount_cents,
        months=terms.months,
        first_due=terms.first_due,
        total_cents=terms.total_cents,
        source="tenant",
        created_at=now,
        decided_at=now if agreed else None,
        decided_by="policy" if agreed else None,
    )


def _answers(reply: Reply) -> tuple[str | None, str]:
    if reply.crisis:
        return "crisis", "reply_help"
    return _ANSWERS.get(reply.intent, ("unknown_reply", "reply_received"))
