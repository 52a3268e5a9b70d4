"""A batch of due cases as plain rows: one statement claims them with their tenants, then
one query each brings the contact points, this week's reminders and the agreed plans."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from rules.cadence import CaseState, CaseStatus
from rules.sending_window import WEEK
from storage.models import Case, ContactPoint, Message, PaymentPlan, Tenant
from storage.sql import among, claim, unindexed

# What the cadence, the escalation and the texts read of a case and its tenant.
_CASE: tuple[Any, ...] = (
    Case.id,
    Case.tenant_id,
    Case.status,
    Case.stage,
    Case.balance_cents,
    Case.arrears_since,
    Case.opened_at,
    Case.last_stage_at,
    Case.paused_until,
    Case.escalation_priority,
    Case.version,
)
_TENANT: tuple[Any, ...] = (
    Tenant.name,
    Tenant.language,
    Tenant.monthly_rent_cents,
    Tenant.municipality,
    Tenant.administrator,
    Tenant.debt_assistance,
)


@dataclass(slots=True)
class Point:
    """A contact point as messaging.routing reads it."""

    id: int
    channel: str
    address: str
    verified: bool
    shared: bool
    usable: bool


@dataclass(frozen=True)
class Batch:
    cases: Sequence[Row[Any]]  # the _CASE and _TENANT columns, in case id order
    points: dict[int, list[Point]]  # every contact point of each tenant, usable or not
    recent: dict[int, tuple[datetime, ...]]  # each tenant's reminders in the last 7 days
    planned: set[int]  # cases with an active payment plan

    def state(self, case: Row[Any]) -> CaseState:
        return CaseState(
            status=CaseStatus(case.status),
            stage=case.stage,
            opened_at=case.opened_at,
            last_stage_at=case.last_stage_at,
            paused_until=case.paused_until,
            recent_reminders=self.recent.get(case.tenant_id, ()),
        )


async def claim_due(session: AsyncSession, now: datetime, size: int) -> Batch | None:
    """Lock up to ``size`` due cases that no one else holds; None when none are left."""
    due = claim(
        select(*_CASE)
        .where(
            Case.next_action_at <= now,
            # The due index finds them in order; status only sorts out the few others.
            unindexed(session, Case.status).in_([CaseStatus.OPEN, CaseStatus.PAUSED]),
        )
        # Longest due first, straight from the due index: a tie-break on id would make
        # PostgreSQL sort every due case (the lock comes before the limit) for each batch.
        .order_by(Case.next_action_at)
        .limit(size)
    ).subquery("due")  # the lock stays inside: the tenants are read, not held
    # Core statements on the session's connection: no ORM objects are made here.
    connection = await session.connection()
    cases = (
        await connection.execute(
            select(due, *_TENANT).join(Tenant, Tenant.id == due.c.tenant_id).order_by(due.c.id)
        )
    ).all()
    if not cases:
        return None
    tenant_ids = list({case.tenant_id for case in cases})
    return Batch(
        cases,
        await _points(connection, tenant_ids),
        await _recent_reminders(connection, tenant_ids, now),
        await _planned(connection, [case.id for case in cases]),
    )


async def _points(connection: AsyncConnection, tenant_ids: list[int]) -> dict[int, list[Point]]:
    rows = await connection.execute(
        select(
            ContactPoint.tenant_id,
            ContactPoint.id,
            ContactPoint.channel,
            ContactPoint.address,
            ContactPoint.verified,
            ContactPoint.shared,
            ContactPoint.opted_out_at,
            ContactPoint.unreachable_at,
            ContactPoint.retired_at,
        ).where(among(connection, ContactPoint.tenant_id, tenant_ids))
    )
    points: dict[int, list[Point]] = defaultdict(list)
    for tenant_id, id_, channel, address, verified, shared, opted_out, unreachable, retired in rows:
        usable = opted_out is None and unreachable is None and retired is None
        points[tenant_id].append(Point(id_, channel, address, verified, shared, usable))
    return points


async def _recent_reminders(
    connection: AsyncConnection, tenant_ids: list[int], now: datetime
) -> dict[int, tuple[datetime, ...]]:
    rows = await connection.execute(
        select(Message.tenant_id, Message.created_at).where(
            among(connection, Message.tenant_id, tenant_ids),
            Message.kind == "reminder",
            Message.created_at > now - WEEK,
            # A fallback to another channel is the same reminder, not another contact.
            # Only the tick writes these keys, outbound: no filter on direction, which
            # both backends would otherwise read through its index (every message sent,
            # for each batch) while their statistics lag behind a large tick.
            Message.idempotency_key.like("%:first"),
        )
    )
    recent: dict[int, list[datetime]] = defaultdict(list)
    for tenant_id, created_at in rows:
        if tenant_id is not None:
            recent[tenant_id].append(created_at)
    return {tenant_id: tuple(times) for tenant_id, times in recent.items()}


async def _planned(connection: AsyncConnection, case_ids: list[int]) -> set[int]:
    return set(
        await connection.scalars(
            select(PaymentPlan.case_id).where(
                among(connection, PaymentPlan.case_id, case_ids), PaymentPlan.status == "active"
            )
        )
    )
