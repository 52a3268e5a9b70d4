"""Promises of a person: some answers tell a tenant that a colleague will get in touch
("een medewerker neemt contact met u op", "… reageert binnen twee werkdagen"). Such a
promise is kept by a consultant reaching out, not by the rent being paid: until then the
case stays in the consultant queue, whatever the next arrears list says.

Derived from the record, not kept in a flag: the promise is the answer sent (its template),
and what keeps it is a consultant's event after it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.cadence import CaseStatus
from storage import cases as case_ops
from storage.models import Case, CaseEvent, Message

# The answers that promise a person (messaging/templates/*/): help, a plan proposal for a
# consultant, every question, dispute or unclear reply that went to the queue, and the
# promise to contact the helper a tenant already has.
PROMISING_TEMPLATES = ("reply_help", "reply_plan_received", "reply_received", "reply_assisted")
# A consultant got in touch: a call, visit or letter logged, own words in the chat, a
# decision on the plan the tenant proposed, a warm handover, or the case resolved by hand.
KEEPING_EVENTS = (
    "contact_logged",
    "consultant_reply",
    "plan_approved",
    "plan_rejected",
    "handed_over",
    "resolved",
)
_CHUNK = 5000


async def unkept(session: AsyncSession, case_ids: Collection[int]) -> set[int]:
    """The cases among ``case_ids`` whose last promise no consultant has kept yet."""
    ids = sorted(set(case_ids))
    waiting: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        promised: dict[int, datetime] = {
            case_id: at
            for case_id, at in await session.execute(
                select(Message.case_id, func.max(Message.created_at))
                .where(
                    Message.case_id.in_(chunk),
                    Message.direction == "out",
                    Message.template.in_(PROMISING_TEMPLATES),
                )
                .group_by(Message.case_id)
            )
            if case_id is not None
        }
        if not promised:
            continue
        kept: dict[int, datetime] = {
            case_id: at
            for case_id, at in await session.execute(
                select(CaseEvent.case_id, func.max(CaseEvent.at))
                .where(CaseEvent.case_id.in_(promised), CaseEvent.kind.in_(KEEPING_EVENTS))
                .group_by(CaseEvent.case_id)
            )
        }
        # At the same moment counts as kept: the consultant acted on what was there.
        waiting |= {
            case_id for case_id, at in promised.items() if case_id not in kept or kept[case_id] < at
        }
    return waiting


def hold_for_contact(
    session: AsyncSession,
    case: Case,
    now: datetime,
    monthly_rent_cents: int,
    event: Callable[..., None],
    first: bool,
) -> None:
    """The arrears are paid, but a colleague promised to get in touch: the case waits for
    that in the queue instead of closing. ``event`` records with the import's other events;
    ``first``: this list is the first to show it paid (said once, not with every list)."""
    case.next_action_at = None  # paid: no reminder, whatever else happens
    if case.status != CaseStatus.ESCALATED:
        # Paused by a consultant before anyone got in touch: back to the queue, as the
        # call-back it is.
        case_ops.escalate(session, case, "callback", now, monthly_rent_cents, actor="import")
    if first:
        event(case.id, "close_held", reason="contact_promised")
