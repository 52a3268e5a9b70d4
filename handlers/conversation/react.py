"""What they meant: a matched tenant's message, its intent, and the step that answers it."""

from __future__ import annotations

from handlers import circumstances
from handlers.conversation import escalation, opt_out, payment, plan
from handlers.conversation.turn import Talk, Turn
from rules.cadence import CaseStatus
from rules.dialogue import confirmation, just_thanks
from rules.intents import Intent, Reply
from storage import cases as case_ops
from storage.models import Case, ContactPoint


async def react(
    turn: Turn,
    reply: Reply,
    text: str,
    point: ContactPoint,
    case: Case | None,
    message_id: int,
    *,
    verified: bool | None,
    confirm: bool = True,
) -> None:
    """Act on a matched tenant's message. `verified`: proven in this conversation (None: as
    the contact point is). `confirm`: False when several tenants' contact points share this
    address and another one's answer already confirms a STOP/START."""
    talk = await Talk.open(turn, point, case, text, message_id, verified)
    if reply.intent in (Intent.STOP, Intent.START):
        await opt_out.switch(talk, reply.intent, confirm=confirm)
        return
    if point.opted_out_at is not None:
        # Writing to us again is consent to talk on this channel.
        point.opted_out_at = None
    if case is None:
        await talk.answer("reply_received")
        return
    question = await plan.open_question(turn, case)
    said = confirmation(text) if plan.plain(reply) else None  # a yes or a no, or neither
    _record(talk, case, reply, said)
    if await plan.go_on(talk, case, question, said):
        return
    if _needs_no_answer(case, reply, text, said):
        return
    reason, _ = escalation.reason_and_template(reply)
    if reply.intent is Intent.PLAN and reason == "plan_request" and _is_open(case):
        await plan.offer(talk, case, reply)
    elif payment.asked(talk, case, reply, helped=circumstances.helped(reply)):
        await payment.answer(talk, case)
    else:
        await escalation.answer(talk, case, reply)


def _is_open(case: Case) -> bool:
    return case.status != CaseStatus.CLOSED


def _record(talk: Talk, case: Case, reply: Reply, said: bool | None) -> None:
    """The reply and what it tells of the tenant's circumstances, on the case's record."""
    turn = talk.turn
    case.last_reply_at = turn.now
    case_ops.add_event(
        turn.session,
        case.id,
        "reply_received",
        turn.now,
        "tenant",
        intent=reply.intent.value,
        message_id=talk.message_id,
        **({"amount_cents": reply.amount_cents} if reply.amount_cents else {}),
        **({"answer": "yes" if said else "no"} if said is not None else {}),
    )
    circumstances.record(turn.session, case.id, reply, talk.text, turn.now, talk.message_id)


def _needs_no_answer(case: Case, reply: Reply, text: str, said: bool | None) -> bool:
    """A "thanks" needs no answer and no consultant: after a plan was agreed ("ok, thanks"),
    or after the case closed."""
    if reply.intent is not Intent.UNKNOWN:
        return False
    if said and case.status == CaseStatus.PAUSED and case.pause_reason == "plan":
        return True
    return not _is_open(case) and bool(said or just_thanks(text))
