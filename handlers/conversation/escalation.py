"""The answers that need no question back: "I paid" holds the reminders; help and crisis,
a dispute, an objection, a question or a call asked for put the case before a colleague,
and the answer says one will read it."""

from __future__ import annotations

from typing import Any

from handlers import circumstances
from handlers.conversation.turn import Talk
from messaging.render import money
from rules.cadence import CaseStatus
from rules.intents import Intent, Reply
from storage import cases as case_ops
from storage.models import Case

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


def reason_and_template(reply: Reply) -> tuple[str | None, str]:
    """Why a colleague should look (None: no one need) and the answer's template."""
    if circumstances.helped(reply):  # no plan offered: the helper acts for them
        return circumstances.helped_answer(reply)
    if reply.crisis:
        return "crisis", "reply_help"
    return _ANSWERS.get(reply.intent, ("unknown_reply", "reply_received"))


async def answer(talk: Talk, case: Case, reply: Reply) -> None:
    """Pause or escalate the case as the message asks, then answer it."""
    reason, template = reason_and_template(reply)
    if reply.amount_cents:
        talk.context["amount"] = money(reply.amount_cents, talk.tenant.language)
    talk.context["crisis"] = reason == "crisis"
    if case.status != CaseStatus.CLOSED:
        if reply.intent is Intent.PAID:
            _paid(talk, case)
        elif reason is not None:
            _to_colleague(talk, case, reply, reason)
    elif reason is not None and reason != "objection":
        # The answer says a colleague will read it: a closed case goes back to the queue,
        # so someone does.
        case.closed_at, case.close_reason = None, None
        case_ops.escalate(
            talk.turn.session,
            case,
            reason,
            talk.turn.now,
            talk.tenant.monthly_rent_cents,
            message_id=talk.message_id,
        )
    await talk.answer(template)


def _paid(talk: Talk, case: Case) -> None:
    """Reminders wait for the next arrears list to show the payment (a consultant's case
    stays in the queue)."""
    if case.status != CaseStatus.ESCALATED:
        case_ops.pause(talk.turn.session, case, "paid", talk.turn.now)


def _to_colleague(talk: Talk, case: Case, reply: Reply, reason: str) -> None:
    turn = talk.turn
    if reply.intent is Intent.OBJECTION:
        # The municipal early signal must respect this (Wgs).
        case_ops.add_event(
            turn.session, case.id, "objection", turn.now, "tenant", message_id=talk.message_id
        )
    details: dict[str, Any] = {"message_id": talk.message_id}
    if reply.amount_cents:
        details["amount_cents"] = reply.amount_cents
    if reply.months:
        details["months"] = reply.months
    case_ops.escalate(
        turn.session, case, reason, turn.now, talk.tenant.monthly_rent_cents, **details
    )
