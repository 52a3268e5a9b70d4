"""Balances from the arrears list: each day's snapshot, and the cases they open, change,
close or resume, with an event for each change.

A new positive balance opens a case on day one; a balance of zero or less closes the open
case and thanks the tenant (unless a colleague was promised and has not been in touch:
storage.promises). Tenants absent from the file are left alone.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.arrears_file import ArrearsRow
from handlers.importing.bulk import by_tenant, chunks, insert_many
from handlers.importing.notices import notify
from handlers.importing.plan_review import track_plan
from messaging.outbox import Letterhead
from rules.cadence import CaseStatus, first_action_at
from rules.policy import Policy
from storage import promises
from storage.models import ArrearsSnapshot, Case, CaseEvent, ContactPoint, PaymentPlan

# The tenant was told that a payment takes "a few days" to show: a list from sooner after
# their "I paid" says nothing yet, and asking them then would contradict us.
PAID_GRACE_DAYS = 3


async def sync_snapshots(
    session: AsyncSession, rows: list[ArrearsRow], tenant_ids: dict[str, int], batch_id: int
) -> None:
    """One balance per tenant per day; a corrected list for the same day overwrites it."""
    dates = sorted({row.as_of for row in rows})
    existing = {
        (snap.tenant_id, snap.as_of): snap
        for snap in await by_tenant(
            session, ArrearsSnapshot, list(tenant_ids.values()), ArrearsSnapshot.as_of.in_(dates)
        )
    }
    new = []
    for row in rows:
        key = (tenant_ids[row.tenant_ref], row.as_of)
        snap = existing.get(key)
        if snap is None:
            new.append(
                {
                    "tenant_id": key[0],
                    "as_of": row.as_of,
                    "batch_id": batch_id,
                    "balance_cents": row.balance_cents,
                }
            )
        elif snap.balance_cents != row.balance_cents:
            snap.balance_cents = row.balance_cents
            snap.batch_id = batch_id
    if new:
        await insert_many(session, ArrearsSnapshot, new)


async def sync_cases(
    session: AsyncSession,
    rows: list[ArrearsRow],
    tenant_ids: dict[str, int],
    points: dict[int, list[ContactPoint]],
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
) -> tuple[int, int, int]:
    """Open, update, close and resume cases as the balances say. Returns how many cases
    were opened, updated and closed."""
    open_cases = {
        case.tenant_id: case
        for case in await by_tenant(
            session, Case, list(tenant_ids.values()), Case.status != CaseStatus.CLOSED
        )
    }
    # Active plans are few next to the tenants in a list: fetch them all, not by id list.
    active_plans = {
        plan.case_id: plan
        for plan in await session.scalars(select(PaymentPlan).where(PaymentPlan.status == "active"))
    }
    events: list[dict[str, Any]] = []
    new_cases: list[dict[str, Any]] = []
    first_at = first_action_at(now, policy)
    opened = updated = closed = 0

    def event(case_id: int, kind: str, **data: Any) -> None:
        events.append(
            {"case_id": case_id, "at": now, "actor": "import", "kind": kind, "data": data}
        )

    async def notice(case: Case, template: str, key: str, **extra: Any) -> None:
        found = points.get(case.tenant_id, [])
        await notify(session, case, found, available, letterhead, now, template, key, extra)

    # Paid, but told that a colleague will get in touch: that comes first (storage.promises).
    paid = [tenant_ids[row.tenant_ref] for row in rows if row.balance_cents <= 0]
    promised = await promises.unkept(session, [open_cases[t].id for t in paid if t in open_cases])

    for row in rows:
        tenant_id = tenant_ids[row.tenant_ref]
        case = open_cases.get(tenant_id)

        if case is None:
            if row.balance_cents > 0:
                new_cases.append(
                    {
                        "tenant_id": tenant_id,
                        "status": CaseStatus.OPEN,
                        "stage": 0,
                        "balance_cents": row.balance_cents,
                        "arrears_since": row.as_of,
                        "opened_at": now,
                        "next_action_at": first_at,
                        "version": 1,
                    }
                )
            continue
        changed = row.balance_cents != case.balance_cents
        if changed:
            event(
                case.id,
                "balance_changed",
                previous_cents=case.balance_cents,
                balance_cents=row.balance_cents,
                as_of=row.as_of.isoformat(),
            )
            plan = active_plans.get(case.id)
            if plan is not None and row.balance_cents <= 0:
                plan.status = "completed"
                event(case.id, "plan_completed", plan_id=plan.id)
            case.balance_cents = row.balance_cents
            case.version += 1
        if row.balance_cents <= 0:
            if case.id in promised:
                rent = row.monthly_rent_cents
                promises.hold_for_contact(session, case, now, rent, event, changed)
                updated += int(changed)
            else:
                case.status = CaseStatus.CLOSED
                case.closed_at = now
                case.close_reason = "paid"
                case.next_action_at = None
                case.version += 1
                event(case.id, "closed", reason="paid")
                closed += 1
            # Thanked once, when the money is seen, also while a colleague is still to call.
            await notice(case, "thanks_cleared", f"case:{case.id}:thanks")
            continue
        plan = active_plans.get(case.id)
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
            updated += 1
    if new_cases:
        case_ids = await insert_many(session, Case, new_cases, key=Case.tenant_id)
        for values in new_cases:
            case_id = case_ids[values["tenant_id"]]
            event(
                case_id,
                "opened",
                balance_cents=values["balance_cents"],
                arrears_since=values["arrears_since"].isoformat(),
            )
        opened = len(case_ids)
    for chunk in chunks(events):
        await session.execute(insert(CaseEvent), list(chunk))
    return opened, updated, closed


def _payment_had_time(case: Case, row: ArrearsRow, policy: Policy) -> bool:
    said = case.last_reply_at
    if said is None:
        return True
    return (row.as_of - said.astimezone(policy.tz).date()).days >= PAID_GRACE_DAYS
