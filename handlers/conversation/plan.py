"""The plan conversation: the tenant offers an amount, the bot shows the plan that follows
and asks them to confirm it; a yes agrees it, a no asks the amount again. A plan the policy
does not let the bot agree alone goes to a consultant as a proposal.

The open question lives in the case's dialogue (``case:{id}``), the same on every channel.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from handlers.conversation.turn import Talk, Turn
from messaging.render import plan_context
from rules.cadence import CaseStatus
from rules.dialogue import Step, case_key, expired
from rules.intents import Intent, Reply
from rules.plans import PlanTerms, outside_policy, terms_for
from storage import cases as case_ops
from storage import dialogues
from storage.models import Case, CaseEvent, Dialogue, Message, PaymentPlan, Tenant
from storage.promises import unkept


def plain(reply: Reply) -> bool:
    """A message the parser found nothing firm in, so it may answer the bot's question."""
    if reply.intent is Intent.UNKNOWN:
        return True
    return reply.intent is Intent.PLAN and not (
        reply.amount_cents or reply.months or reply.pay_date
    )


async def open_question(turn: Turn, case: Case) -> Dialogue | None:
    """The question the bot last asked about this case, expired or not."""
    return await dialogues.load(turn.session, case_key(case.id))


async def go_on(talk: Talk, case: Case, dialogue: Dialogue | None, said: bool | None) -> bool:
    """Take a yes or no as the answer to the plan question asked. True when that answered
    the message; otherwise the question is closed (the tenant moved on)."""
    turn = talk.turn
    key = case_key(case.id)
    if dialogue is not None and said is not None and case.status != CaseStatus.CLOSED:
        asked_plan = dialogue.step in (Step.PLAN_CONFIRM, Step.PLAN_AMOUNT)
        if asked_plan:
            # In the plan conversation a yes or no is about the plan.
            (await turn.session.get_one(Message, talk.message_id)).intent = Intent.PLAN.value
        stale = expired(dialogue.expires_at, turn.now)
        if dialogue.step == Step.PLAN_CONFIRM and said and not stale:
            await dialogues.clear(turn.session, key)
            await talk.answer(await _agree(talk, case, dialogue.data))
            return True
        if asked_plan:
            # "No", "another amount", or a yes to a plan shown too long ago: ask again.
            await talk.answer(await _ask_amount(turn, case))
            return True
    if dialogue is not None:
        await dialogues.clear(turn.session, key)
    return False


async def offer(talk: Talk, case: Case, reply: Reply) -> None:
    """Show the plan that follows from the tenant's offer and ask them to confirm it, or
    hand it to a consultant when the policy does not let the bot agree it alone."""
    turn = talk.turn
    terms = terms_for(
        case.balance_cents,
        today=turn.today,
        amount_cents=reply.amount_cents,
        months=reply.months,
        pay_date=reply.pay_date,
    )
    if terms is None:
        await talk.answer(await _ask_amount(turn, case))
        return
    reasons = await _outside_policy(turn, talk.tenant, case, terms)
    if reasons:
        await talk.answer(await _refer(talk, case, terms, reasons))
        return
    await dialogues.save(
        turn.session,
        case_key(case.id),
        Step.PLAN_CONFIRM,
        now=turn.now,
        expires_at=turn.question_expires,
        case_id=case.id,
        data=_numbers(terms),
    )
    _hold(turn, case)
    case_ops.add_event(
        turn.session,
        case.id,
        "plan_offered",
        turn.now,
        "policy",
        **_numbers(terms),
        message_id=talk.message_id,
    )
    talk.context.update(plan_context(terms, talk.tenant.language))
    await talk.answer("reply_plan_confirm")


async def _ask_amount(turn: Turn, case: Case) -> str:
    """Ask how much a month the tenant can pay, holding the reminders while we wait."""
    await dialogues.save(
        turn.session,
        case_key(case.id),
        Step.PLAN_AMOUNT,
        now=turn.now,
        expires_at=turn.question_expires,
        case_id=case.id,
    )
    _hold(turn, case)
    return "reply_plan_ask"


def _hold(turn: Turn, case: Case) -> None:
    """No reminders while the plan question is open (a consultant's case stays theirs)."""
    if case.status != CaseStatus.ESCALATED:
        case_ops.pause(turn.session, case, "plan_dialogue", turn.now, until=turn.question_expires)


async def _agree(talk: Talk, case: Case, offered: dict[str, Any]) -> str:
    """The tenant said yes to the plan shown: agree it, unless something changed since
    that puts it outside the policy (another plan agreed meanwhile)."""
    turn, tenant = talk.turn, talk.tenant
    terms = PlanTerms(
        amount_cents=int(offered["amount_cents"]),
        months=int(offered["months"]),
        total_cents=int(offered["total_cents"]),
        first_due=date.fromisoformat(offered["first_due"]),
    )
    reasons = await _outside_policy(turn, tenant, case, terms)
    if reasons:
        return await _refer(talk, case, terms, reasons)
    plan = _plan_row(turn, case, terms, "active")
    turn.session.add(plan)
    await turn.session.flush()
    case_ops.add_event(
        turn.session,
        case.id,
        "plan_agreed",
        turn.now,
        "policy",
        plan_id=plan.id,
        **_numbers(terms),
        message_id=talk.message_id,
    )
    # A colleague was promised (an earlier "hulp"): the plan stands, and the case stays in
    # the queue until someone has been in touch.
    if case.status != CaseStatus.ESCALATED or not await unkept(turn.session, [case.id]):
        case_ops.pause(turn.session, case, "plan", turn.now)
    talk.context.update(plan_context(terms, tenant.language))
    return "reply_plan_agreed"


async def _outside_policy(turn: Turn, tenant: Tenant, case: Case, terms: PlanTerms) -> list[str]:
    """Why the bot may not agree these terms alone (none: it may). A tenant who has help
    (a bewindvoerder, a debt programme: in the list, or told us) agrees nothing alone: a
    consultant weighs the offer with that helper."""
    helped = bool(tenant.administrator) or tenant.debt_assistance
    if not helped:
        told = await turn.session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == "assisted")
        )
        helped = bool(told)
    earlier = await turn.session.scalar(
        select(func.count())
        .select_from(PaymentPlan)
        .join(Case, PaymentPlan.case_id == Case.id)
        .where(
            Case.tenant_id == tenant.id,
            PaymentPlan.source == "tenant",
            PaymentPlan.status.in_(["active", "completed", "broken"]),
            PaymentPlan.created_at > turn.now - timedelta(days=365),
        )
    )
    reasons = outside_policy(terms, turn.policy.plans, earlier or 0)
    return [*reasons, "has_help"] if helped else reasons


async def _refer(talk: Talk, case: Case, terms: PlanTerms, reasons: list[str]) -> str:
    """A proposal the bot may not agree alone: to the queue, with its numbers."""
    turn, tenant = talk.turn, talk.tenant
    plan = _plan_row(turn, case, terms, "proposed")
    turn.session.add(plan)
    await turn.session.flush()
    numbers = {**_numbers(terms), "plan_id": plan.id, "message_id": talk.message_id}
    case_ops.add_event(
        turn.session, case.id, "plan_proposed", turn.now, "tenant", **numbers, reasons=reasons
    )
    case_ops.escalate(
        turn.session,
        case,
        "plan_request",
        turn.now,
        tenant.monthly_rent_cents,
        **numbers,
        reasons=reasons,
    )
    talk.context.update(plan_context(terms, tenant.language))
    return "reply_plan_received"


def _numbers(terms: PlanTerms) -> dict[str, Any]:
    return {
        "amount_cents": terms.amount_cents,
        "months": terms.months,
        "total_cents": terms.total_cents,
        "first_due": terms.first_due.isoformat(),
    }


def _plan_row(turn: Turn, case: Case, terms: PlanTerms, status: str) -> PaymentPlan:
    agreed = status == "active"
    return PaymentPlan(
        case_id=case.id,
        status=status,
        amount_cents=terms.amount_cents,
        months=terms.months,
        first_due=terms.first_due,
        total_cents=terms.total_cents,
        source="tenant",
        created_at=turn.now,
        decided_at=turn.now if agreed else None,
        decided_by="policy" if agreed else None,
    )
