"""Applying an arrears list: one file, one transaction; the same file twice changes nothing.

A new positive balance opens a case on day one; a balance of zero or less closes the open
case and thanks the tenant; every change is a case event. Tenants absent from the file are
left alone: a partial export must not close anyone's case.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from handlers.arrears_file import ArrearsFile, ArrearsRow
from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.render import money
from messaging.routing import reachable, routes
from rules.cadence import CaseStatus, first_action_at
from rules.plans import PlanTerms, review
from rules.policy import PlanRules, Policy
from storage import cases as case_ops
from storage import promises
from storage.db import SessionMaker
from storage.models import (
    ArrearsSnapshot,
    Case,
    CaseEvent,
    ContactPoint,
    ImportBatch,
    PaymentPlan,
    Tenant,
)
from storage.sql import plan_for_bulk, refresh_statistics

T = TypeVar("T")
_CHUNK = 5000  # keeps IN lists and parameter counts well inside both backends' limits
# The row's fields that are the tenant's (phone and email become contact points).
_TENANT_FIELDS = tuple(
    f.name
    for f in fields(ArrearsRow)
    if f.name not in ("line", "tenant_ref", "phone", "email", "balance_cents", "as_of")
)
# After a bulk load PostgreSQL's planner still believes the tables are small until ANALYZE.
_REFRESH_STATISTICS_AFTER = 1000
NOTICE_CHANNELS = ("whatsapp", "sms", "telegram", "email")


@dataclass(frozen=True)
class ImportSummary:
    batch_id: int
    rows: int
    tenants_created: int
    opened: int
    updated: int
    closed: int
    already_imported: bool = False


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _wanted_points(row: ArrearsRow) -> set[tuple[str, str]]:
    wanted = set()
    if row.phone:
        wanted |= {("sms", row.phone), ("whatsapp", row.phone)}
    if row.email:
        wanted.add(("email", row.email))
    return wanted


async def _load_tenants(session: AsyncSession, refs: list[str]) -> dict[str, Tenant]:
    found: dict[str, Tenant] = {}
    for chunk in _chunks(refs):
        for tenant in await session.scalars(select(Tenant).where(Tenant.external_ref.in_(chunk))):
            found[tenant.external_ref] = tenant
    return found


async def _by_tenant(
    session: AsyncSession, model: Any, tenant_ids: list[int], *where: Any
) -> list[Any]:
    found: list[Any] = []
    for chunk in _chunks(tenant_ids):
        found.extend(await session.scalars(select(model).where(model.tenant_id.in_(chunk), *where)))
    return found


async def _insert_many(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], key: Any = None
) -> dict[Any, int]:
    """Insert in chunks; with ``key``, map each new row's key to its id. The key, not the
    row order, ties ids to rows: ordered RETURNING costs SQLite one statement per row."""
    ids: dict[Any, int] = {}
    for chunk in _chunks(rows):
        if key is None:
            await session.execute(insert(model), list(chunk))
            continue
        result = await session.execute(insert(model).returning(model.id, key), list(chunk))
        ids.update({row_key: row_id for row_id, row_key in result})
    return ids


async def _sync_tenants(
    session: AsyncSession, rows: list[ArrearsRow], now: datetime
) -> tuple[dict[str, int], int]:
    existing = await _load_tenants(session, [row.tenant_ref for row in rows])
    new_rows = [row for row in rows if row.tenant_ref not in existing]
    new_ids = await _insert_many(
        session,
        Tenant,
        [
            {
                "external_ref": row.tenant_ref,
                "created_at": now,
                "updated_at": now,
                **{name: getattr(row, name) for name in _TENANT_FIELDS},
            }
            for row in new_rows
        ],
        key=Tenant.external_ref,
    )
    changed = []
    for row in rows:
        tenant = existing.get(row.tenant_ref)
        if tenant is None:
            continue
        values = {name: getattr(row, name) for name in _TENANT_FIELDS}
        if any(getattr(tenant, name) != value for name, value in values.items()):
            changed.append({"id": tenant.id, "updated_at": now, **values})
    for chunk in _chunks(changed):
        await session.execute(update(Tenant), list(chunk))
    ids = {ref: tenant.id for ref, tenant in existing.items()}
    ids.update(new_ids)
    return ids, len(new_rows)


async def _sync_contact_points(
    session: AsyncSession, rows: list[ArrearsRow], tenant_ids: dict[str, int], now: datetime
) -> dict[int, list[ContactPoint]]:
    points = await _by_tenant(session, ContactPoint, list(tenant_ids.values()))
    by_tenant: dict[int, list[ContactPoint]] = {}
    for point in points:
        by_tenant.setdefault(point.tenant_id, []).append(point)
    to_insert: list[dict[str, Any]] = []
    for row in rows:
        tenant_id = tenant_ids[row.tenant_ref]
        wanted = _wanted_points(row)
        have = {(p.channel, p.address): p for p in by_tenant.get(tenant_id, [])}
        for key in sorted(wanted - have.keys()):
            to_insert.append(
                {
                    "tenant_id": tenant_id,
                    "channel": key[0],
                    "address": key[1],
                    "source": "import",
                    "verified": True,
                    "failures": 0,
                    "created_at": now,
                }
            )
        for key, point in have.items():
            if point.source != "import":
                continue
            # A number gone from the records may belong to someone else now.
            if key not in wanted and point.retired_at is None:
                point.retired_at = now
            elif key in wanted and point.retired_at is not None:
                point.retired_at = None
    if to_insert:
        await _insert_many(session, ContactPoint, to_insert)
        touched = sorted({values["tenant_id"] for values in to_insert})
        for tenant_id in touched:
            by_tenant[tenant_id] = []
        for point in await _by_tenant(session, ContactPoint, touched):
            by_tenant[point.tenant_id].append(point)
    return by_tenant


async def _mark_shared(session: AsyncSession, points: dict[int, list[ContactPoint]]) -> None:
    """Flag every live contact point whose channel and address another tenant uses too, and
    unflag those no longer shared; one statement that writes only the rows that change. The
    points already loaded learn the new value too: this import's notices read it."""
    other = aliased(ContactPoint)
    shared = (
        select(other.id)
        .where(
            other.channel == ContactPoint.channel,
            other.address == ContactPoint.address,
            other.tenant_id != ContactPoint.tenant_id,
            other.retired_at.is_(None),
        )
        .exists()
    )
    result = await session.execute(
        update(ContactPoint)
        .where(ContactPoint.shared != shared)
        .values(shared=shared)
        .returning(ContactPoint.id, ContactPoint.shared)
        .execution_options(synchronize_session=False)
    )
    changed = {point_id: flag for point_id, flag in result}
    for loaded in points.values():
        for point in loaded:
            if point.id in changed:
                set_committed_value(point, "shared", changed[point.id])


async def _sync_snapshots(
    session: AsyncSession, rows: list[ArrearsRow], tenant_ids: dict[str, int], batch_id: int
) -> None:
    dates = sorted({row.as_of for row in rows})
    existing = {
        (snap.tenant_id, snap.as_of): snap
        for snap in await _by_tenant(
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
        await _insert_many(session, ArrearsSnapshot, new)


async def _sync_cases(
    session: AsyncSession,
    rows: list[ArrearsRow],
    tenant_ids: dict[str, int],
    points: dict[int, list[ContactPoint]],
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
) -> tuple[int, int, int]:
    open_cases = {
        case.tenant_id: case
        for case in await _by_tenant(
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

    async def notify(case: Case, template: str, key: str, **extra: Any) -> None:
        found = points.get(case.tenant_id, [])
        await _notify(session, case, found, available, letterhead, now, template, key, extra)

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
            await notify(case, "thanks_cleared", f"case:{case.id}:thanks")
            continue
        plan = active_plans.get(case.id)
        if plan is not None and _track_plan(session, case, plan, row, policy.plans, event, now):
            key = f"plan:{plan.id}:nudge:{plan.checked_instalments}"
            await notify(case, "plan_nudge", key, amount_cents=plan.amount_cents)
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
            await notify(case, "paid_follow_up", f"case:{case.id}:paid-follow-up:{row.as_of}")
        if changed or resumed:
            updated += 1
    if new_cases:
        case_ids = await _insert_many(session, Case, new_cases, key=Case.tenant_id)
        for values in new_cases:
            case_id = case_ids[values["tenant_id"]]
            event(
                case_id,
                "opened",
                balance_cents=values["balance_cents"],
                arrears_since=values["arrears_since"].isoformat(),
            )
        opened = len(case_ids)
    for chunk in _chunks(events):
        await session.execute(insert(CaseEvent), list(chunk))
    return opened, updated, closed


# The tenant was told that a payment takes "a few days" to show: a list from sooner after
# their "I paid" says nothing yet, and asking them then would contradict us.
PAID_GRACE_DAYS = 3


def _payment_had_time(case: Case, row: ArrearsRow, policy: Policy) -> bool:
    said = case.last_reply_at
    if said is None:
        return True
    return (row.as_of - said.astimezone(policy.tz).date()).days >= PAID_GRACE_DAYS


async def _notify(
    session: AsyncSession,
    case: Case,
    points: list[ContactPoint],
    available: Collection[str],
    letterhead: Letterhead,
    now: datetime,
    template: str,
    key: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """A notice to the tenant on their first usable channel, once per ``key``."""
    options = routes(NOTICE_CHANNELS, reachable(points), available)
    if not options:
        return
    tenant = await session.get_one(Tenant, case.tenant_id)  # loaded already: no query
    extra = dict(extra or {})
    if "amount_cents" in extra:  # written as the tenant reads amounts
        extra["amount"] = money(extra.pop("amount_cents"), tenant.language)
    await enqueue(
        session,
        route=options[0],
        template=template,
        language=tenant.language,
        context={**tenant_context(letterhead, tenant, None), **extra},
        kind="notice",
        now=now,
        case_id=case.id,
        tenant_id=tenant.id,
        idempotency_key=key,
        respect_quiet_hours=True,
        fallback=[option.channel for option in options[1:]],
    )


def _track_plan(
    session: AsyncSession,
    case: Case,
    plan: PaymentPlan,
    row: ArrearsRow,
    rules: PlanRules,
    event: Callable[..., None],
    now: datetime,
) -> bool:
    """Hold an active plan against today's list: kept instalments pass quietly, the first
    miss gets a friendly nudge (True: send one), ``misses_to_break`` misses break it for a
    consultant."""
    terms = PlanTerms(plan.amount_cents, plan.months, plan.total_cents, plan.first_due)
    outcomes = review(
        terms, plan.checked_instalments, row.balance_cents, row.as_of, rules.grace_days
    )
    for offset, kept in enumerate(outcomes):
        index = plan.checked_instalments + offset
        event(
            case.id,
            "instalment_kept" if kept else "instalment_missed",
            plan_id=plan.id,
            instalment=index + 1,
        )
        if not kept:
            plan.misses += 1
    plan.checked_instalments += len(outcomes)
    if not outcomes or all(outcomes):
        return False
    if plan.misses >= rules.misses_to_break:
        plan.status = "broken"
        event(case.id, "plan_broken", plan_id=plan.id, misses=plan.misses)
        case_ops.escalate(
            session,
            case,
            "plan_broken",
            now,
            row.monthly_rent_cents,
            actor="import",
            plan_id=plan.id,
            misses=plan.misses,
        )
        return False
    return True


async def import_arrears(
    sessions: SessionMaker,
    parsed: ArrearsFile,
    *,
    filename: str,
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
) -> ImportSummary:
    async with sessions() as session, session.begin():
        previous = await session.scalar(
            select(ImportBatch).where(ImportBatch.sha256 == parsed.sha256)
        )
        if previous is not None:
            return ImportSummary(previous.id, previous.rows, 0, 0, 0, 0, already_imported=True)
        batch = ImportBatch(
            sha256=parsed.sha256,
            filename=filename.encode("utf-8", "replace").decode().replace("\x00", "")[:300],
            rows=len(parsed.rows),
            opened=0,
            updated=0,
            closed=0,
            imported_at=now,
        )
        session.add(batch)
        await session.flush()
        await plan_for_bulk(session)
        rows = parsed.rows
        tenant_ids, created = await _sync_tenants(session, rows, now)
        points = await _sync_contact_points(session, rows, tenant_ids, now)
        await _mark_shared(session, points)
        await _sync_snapshots(session, rows, tenant_ids, batch.id)
        opened, updated, closed = await _sync_cases(
            session, rows, tenant_ids, points, policy, letterhead, available, now
        )
        batch.opened, batch.updated, batch.closed = opened, updated, closed
        if created + opened >= _REFRESH_STATISTICS_AFTER:
            await refresh_statistics(session)
        return ImportSummary(batch.id, len(rows), created, opened, updated, closed)
