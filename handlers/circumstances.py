"""What a tenant tells us about their circumstances, beside what they ask: hard times (job
loss, illness… rules.situations) and help they already have (a bewindvoerder, debt
assistance, budget management). Both go on the case's record, so that the consultant reads
them on the timeline in words, whatever the message was about.

A tenant who already has such help cannot agree a plan on their own: under bewind the
bewindvoerder acts for them, and in a debt programme new agreements go through the
programme. So the bot offers no plan to them. It answers kindly, asks who the helper is, and
puts the case in front of a consultant, who then works with that helper instead of starting
over (handlers/conversation/escalation.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rules.intents import Intent, Reply, assisted_by
from rules.situations import situations
from storage import cases as case_ops

# The answer to a tenant who already has help (messaging/templates/*/reply_assisted.txt.j2).
ASSISTED_TEMPLATE = "reply_assisted"
# Their own handling stays: a payment made pauses the reminders, an objection is the law's,
# and STOP/START never reach here. Crisis words keep the crisis answer (checked apart).
_OWN_HANDLING = frozenset({Intent.PAID, Intent.OBJECTION, Intent.STOP, Intent.START})
# A dispute, a call asked for or a question keeps its own reason in the queue; anything else
# a helped tenant writes (an offer, hard times, something unclear) is a help request.
_OWN_REASON = {Intent.DISPUTE: "dispute", Intent.CALLBACK: "callback", Intent.QUESTION: "question"}


def record(
    session: AsyncSession,
    case_id: int,
    reply: Reply,
    text: str,
    now: datetime,
    message_id: int,
) -> None:
    """The circumstances the message tells of, each as an event on the case."""
    told = situations(text)
    if told:
        case_ops.add_event(
            session,
            case_id,
            "situation",
            now,
            "tenant",
            situations=[each.value for each in told],
            message_id=message_id,
        )
    if reply.assisted:
        case_ops.add_event(
            session,
            case_id,
            "assisted",
            now,
            "tenant",
            helper=assisted_by(text) or "other",
            message_id=message_id,
        )


def helped(reply: Reply) -> bool:
    """The tenant already has help, and that decides the answer: no plan, the helper asked."""
    return reply.assisted and not reply.crisis and reply.intent not in _OWN_HANDLING


def helped_answer(reply: Reply) -> tuple[str, str]:
    """(escalation reason, template) for a tenant who already has help."""
    return _OWN_REASON.get(reply.intent, "help"), ASSISTED_TEMPLATE
