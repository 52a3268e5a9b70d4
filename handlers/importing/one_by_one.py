"""The rows of a list that take more than a new balance, looked at one by one: a debt paid
(close and thank, or hold for a colleague's promised call), an active plan held against the
list, a tenant who said "I paid" and still owes. They are few on any day; they are read in
chunks, so even a list where everyone paid keeps memory flat.

A balance of zero or less closes the open case and thanks the tenant (unless a colleague
was promised and has not been in touch: storage.promises).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from handlers.arrears_file import ArrearsRow
from handlers.importing.notices import notify
from handlers.importing.plan_review import track_plan
from handlers.importing.staging import rows
from messaging.outbox import Letterhead
from rules.cadence import CaseStatus
from rules.policy import Policy
from storage import promises
from storage.models import Case, CaseEvent, PaymentPlan, Tenant

# The tenant was told that a payment takes "a few days" to show: a list from sooner after
# their "I paid" says nothing yet, and asking them then would contradict us.
PAID_GRACE_DAYS = 3
_CHUNK = 2000
_ROW_FIELDS = tuple(f.name for f in fields(ArrearsRow))


@dataclass
class Looked:
    updated: int = 0
    closed: int = 0


async def settle(
    session: AsyncSession,
    needs_a_look: Any,
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
) -> Looked:
    looked = Looked()
    after = 0
    while True:
        found = list(
            await session.execute(
                select(rows.c.case_id, rows.c.previous_cents, *(rows.c[f] for f in _ROW_FIELDS))
                .where(needs_a_look, rows.c.line > after)
                .order_by(rows.c.line)
                .limit(_CHUNK)
            )
        )
        if not found:
            return looked
        after = found[-1].line
        chunk = [
            (case_id, previous, ArrearsRow(**dict(zip(_ROW_FIELDS, values, strict=True))))
            for case_id, previous, *values in found
        ]
        await _settle_chunk(session, chunk, policy, letterhead, available, now, looked)
        # Each chunk's objects are written; forgetting them keeps memory flat.
        await session.flush()
        session.expunge_all()


async def _settle_chunk(
    session: AsyncSession,
    chunk: list[tuple[int, int, ArrearsRow]],
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
    looked: Looked,
) -> None:
    ids = [case_id for case_id, _, _ in chunk]
    cases = {
        case.id: case
        for case in await session.scalars(
            select(Case)
            .where(Case.id.in_(ids))
            .options(selectinload(Case.tenant).selectinload(Tenant.contact_points))
        )
    }
    active_plans = {
        plan.case_id: plan
        for plan in await session.scalars(
            select(PaymentPlan).where(PaymentPlan.case_id.in_(ids), PaymentPlan.status == "active")
        )
    }
    # Paid, but told that a colleague will get in touch: that comes first (storage.promises).
    promised = await promises.unkept(
        session, [case_id for case_id, _, row in chunk if row.balance_cents <= 0]
    )
    events: list[dict[str, Any]] = []

    def event(case_id: int, kind: str, **data: Any) -> None:
        events.append(
            {"case_id": case_id, "at": now, "actor": "import", "kind": kind, "data": data}
        )

    async def notice(case: Case, template: str, key: str, **extra: Any) -> None:
        points = case.tenant.contact_points
        await notify(session, case, points, available, letterhead, now, template, key, extra)

    for case_id, previous, row in chunk:
        case = cases[case_id]
        changed = previous != row.balance_cents
        plan = active_plans.get(case.id)
        if row.balance_cents <= 0:
            if changed and plan is not None:
                plan.status = "completed"
                event(case.id, "plan_completed", plan_id=plan.id)
            if case.id in promised:
                rent = row.monthly_rent_cents
                promises.hold_for_contact(session, case, now, rent, event, changed)
                looked.updated += int(changed)
            else:
                case.status = CaseStatus.CLOSED
                case.closed_at = now
                case.close_reason = "paid"
                case.next_action_at = None
                case.version += 1
                event(case.id, "closed", reason="paid")
                looked.closed += 1
            # Thanked once, when the money is seen, also while a colleague is still to call.
            await notice(case, "thanks_cleared", f"case:{case.id}:thanks")
            continue
        if plan is not None and track_plan(session, case, plan, row, policy.plans, event, now):
            key = f"plan:{plan.id}:nudge:{plan.checked_instalments}"
            await notice(case, "plan_nudge", key, amount_cents=plan.amount_cents)
        resumed = (
            case.status == CaseStatus.PAUSED
            and case.pause_reason == "paid"
            and _payment_had_time(case, row, policy)
        )
        if resumed:
            # "I paid" holds the reminders until the next list; this is it.
            case.status = CaseStatus.OPEN
            case.pause_reason = None
            case.next_action_at = now
            case.version += 1
            event(case.id, "resumed", reason="balance still open after tenant said paid")
            await notice(case, "paid_follow_up", f"case:{case.id}:paid-follow-up:{row.as_of}")
        if changed or resumed:
            looked.updated += 1
    if events:
        await session.execute(insert(CaseEvent), events)


def _payment_had_time(case: Case, row: ArrearsRow, policy: Policy) -> bool:
    said = case.last_reply_at
    if said is None:
        return True
    return (row.as_of - said.astimezone(policy.tz).date()).days >= PAID_GRACE_DAYS
