"""How much and where to pay: the case's own numbers, sent only to an address proven to be
the tenant's, with the reminders held while they pay."""

from __future__ import annotations

from handlers.conversation.turn import Talk
from rules.cadence import CaseStatus
from rules.intents import Reply
from storage import cases as case_ops
from storage.models import Case


def asked(talk: Talk, case: Case, reply: Reply, *, helped: bool) -> bool:
    """The message asks about paying, and we may answer it with the case's numbers."""
    return (
        reply.topic == "payment"
        and not helped
        and bool(talk.turn.payment_iban)
        and talk.is_verified
        and case.status != CaseStatus.CLOSED
        and case.balance_cents > 0
    )


async def answer(talk: Talk, case: Case) -> None:
    turn = talk.turn
    talk.context.update(iban=turn.payment_iban, reference=talk.tenant.external_ref)
    if case.status == CaseStatus.OPEN:
        case_ops.pause(
            turn.session, case, "question_answered", turn.now, until=turn.question_expires
        )
    await talk.answer("reply_payment_details")
