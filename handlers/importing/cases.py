"""Balances from the arrears list: each day's snapshot, and the cases they open or change,
with an event for each change, in a handful of statements over the staged list.

A new positive balance opens a case on day one. The few rows that need more than arithmetic
(paid, an active plan, a tenant who said "I paid") are then looked at one by one
(handlers/importing/one_by_one.py). Tenants absent from the file are left alone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.importing.one_by_one import settle
from handlers.importing.staging import rows
from messaging.outbox import Letterhead
from rules.cadence import CaseStatus, first_action_at
from rules.policy import Policy
from storage.models import ArrearsSnapshot, Case, CaseEvent, PaymentPlan, Tenant
from storage.sql import analyze_if_grown, json_object
from storage.types import UTCDateTime

_snapshots = cast(Table, ArrearsSnapshot.__table__)
_cases = cast(Table, Case.__table__)
_events = cast(Table, CaseEvent.__table__)
_plans = cast(Table, PaymentPlan.__table__)
_tenants = cast(Table, Tenant.__table__)


@dataclass(frozen=True)
class CaseCounts:
    opened: int
    updated: int
    closed: int


def _at(now: datetime) -> Any:
    return literal(now, UTCDateTime())


async def sync_snapshots(session: AsyncSession, batch_id: int) -> None:
    """One balance per tenant per day; a corrected list for the same day overwrites it."""
    same_day = and_(_snapshots.c.tenant_id == rows.c.tenant_id, _snapshots.c.as_of == rows.c.as_of)
    await session.execute(
        update(_snapshots)
        .where(same_day, _snapshots.c.balance_cents != rows.c.balance_cents)
        .values(balance_cents=rows.c.balance_cents, batch_id=batch_id)
    )
    await session.execute(
        insert(_snapshots).from_select(
            ["tenant_id", "as_of", "batch_id", "balance_cents"],
            select(rows.c.tenant_id, rows.c.as_of, literal(batch_id), rows.c.balance_cents)
            .where(~exists().where(same_day))
            .order_by(rows.c.line),
        )
    )


async def _write_events(
    session: AsyncSession, now: datetime, kind: str, where: Any, **data: Any
) -> None:
    """One event of ``kind`` for each staged row matching ``where``, in the list's order."""
    await session.execute(
        insert(_events).from_select(
            ["case_id", "at", "actor", "kind", "data"],
            select(
                rows.c.case_id,
                _at(now),
                literal("import"),
                literal(kind),
                json_object(session, **data),
            )
            .where(where)
            .order_by(rows.c.line),
        )
    )


async def identify(session: AsyncSession) -> None:
    """Note each row's tenant and open case, that case's balance before this list, and
    whether it takes more than a new balance (paid, a tenant who said "I paid", an active
    plan: handlers/importing/one_by_one.py). One pass over the staged list: each pass
    writes every row of it again."""
    has_plan = exists().where(_plans.c.case_id == _cases.c.id, _plans.c.status == "active")
    said_paid = and_(_cases.c.status == CaseStatus.PAUSED, _cases.c.pause_reason == "paid")
    known = (
        select(
            _tenants.c.id.label("tenant_id"),
            _tenants.c.external_ref,
            _cases.c.id.label("case_id"),
            _cases.c.balance_cents,
            case((_cases.c.id.is_(None), False), else_=or_(said_paid, has_plan)).label("held"),
        )
        .select_from(_tenants)
        .outerjoin(
            _cases,
            and_(_cases.c.tenant_id == _tenants.c.id, _cases.c.status != CaseStatus.CLOSED),
        )
        .subquery("known")
    )
    await session.execute(
        update(rows)
        .where(known.c.external_ref == rows.c.tenant_ref)
        .values(
            tenant_id=known.c.tenant_id,
            case_id=known.c.case_id,
            previous_cents=known.c.balance_cents,
            look=and_(known.c.case_id.is_not(None), or_(rows.c.balance_cents <= 0, known.c.held)),
        )
    )


async def sync_cases(
    session: AsyncSession,
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
) -> CaseCounts:
    """Open and update cases as the balances say; close, resume and hold plans against the
    list for the rows that need it (``identify`` noted which)."""
    changed = and_(rows.c.case_id.is_not(None), rows.c.previous_cents != rows.c.balance_cents)
    await _write_events(
        session,
        now,
        "balance_changed",
        changed,
        previous_cents=rows.c.previous_cents,
        balance_cents=rows.c.balance_cents,
        as_of=rows.c.as_of,
    )
    await session.execute(
        update(_cases)
        .where(_cases.c.id == rows.c.case_id, rows.c.previous_cents != rows.c.balance_cents)
        .values(balance_cents=rows.c.balance_cents, version=_cases.c.version + 1)
    )
    plainly_changed = await session.scalar(
        select(func.count()).select_from(rows).where(changed, ~rows.c.look)
    )
    opened = await session.execute(
        insert(_cases).from_select(
            [
                "tenant_id",
                "status",
                "stage",
                "balance_cents",
                "arrears_since",
                "opened_at",
                "next_action_at",
                "version",
            ],
            select(
                rows.c.tenant_id,
                literal(CaseStatus.OPEN.value),
                literal(0),
                rows.c.balance_cents,
                rows.c.as_of,
                _at(now),
                _at(first_action_at(now, policy)),
                literal(1),
            )
            .where(rows.c.case_id.is_(None), rows.c.balance_cents > 0)
            .order_by(rows.c.line),
        )
    )
    await analyze_if_grown(session, "cases", int(opened.rowcount))  # type: ignore[attr-defined]
    await session.execute(
        update(rows)
        .where(
            rows.c.case_id.is_(None),
            rows.c.balance_cents > 0,
            _cases.c.tenant_id == rows.c.tenant_id,
            _cases.c.status == CaseStatus.OPEN,
        )
        .values(case_id=_cases.c.id, opened=True)
    )
    await _write_events(
        session,
        now,
        "opened",
        rows.c.opened,
        balance_cents=rows.c.balance_cents,
        arrears_since=rows.c.as_of,
    )
    looked = await settle(session, rows.c.look, policy, letterhead, available, now)
    return CaseCounts(
        opened=max(0, int(opened.rowcount)),  # type: ignore[attr-defined]
        updated=int(plainly_changed or 0) + looked.updated,
        closed=looked.closed,
    )
