"""The tick: claim due cases, ask the cadence what to do, write the outcome in one transaction.

Any number of processes may tick against one database: the claim locks the rows it takes
(PostgreSQL SKIP LOCKED, SQLite BEGIN IMMEDIATE), each decision moves ``next_action_at`` on,
and the outbox's unique key stops a stage from being queued twice for a case.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from handlers.linking import invite
from messaging.outbox import Letterhead, insert_outbound, outbound, tenant_context
from messaging.render import month_name
from messaging.routing import reachable, routes
from rules.cadence import CaseState, CaseStatus, Decision, Escalate, SendStage, decide
from rules.policy import CHANNELS, Policy
from rules.sending_window import WEEK
from storage import cases as case_ops
from storage.db import SessionMaker
from storage.models import Case, Message, PaymentPlan, Tenant
from storage.sql import claim


@dataclass
class TickResult:
    cases: int = 0
    queued: int = 0
    escalated: int = 0
    by_stage: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def _recent_reminders(
    session: AsyncSession, tenant_ids: list[int], now: datetime
) -> dict[int, tuple[datetime, ...]]:
    rows = await session.execute(
        select(Message.tenant_id, Message.created_at).where(
            Message.tenant_id.in_(tenant_ids),
            Message.direction == "out",
            Message.kind == "reminder",
            Message.created_at > now - WEEK,
            # A fallback to another channel is the same reminder, not another contact.
            Message.idempotency_key.like("%:first"),
        )
    )
    recent: dict[int, list[datetime]] = defaultdict(list)
    for tenant_id, created_at in rows:
        if tenant_id is not None:
            recent[tenant_id].append(created_at)
    return {tenant_id: tuple(times) for tenant_id, times in recent.items()}


def state_of(case: Case, recent: tuple[datetime, ...]) -> CaseState:
    return CaseState(
        status=CaseStatus(case.status),
        stage=case.stage,
        opened_at=case.opened_at,
        last_stage_at=case.last_stage_at,
        paused_until=case.paused_until,
        recent_reminders=recent,
    )


@dataclass(frozen=True)
class Invites:
    """Reminders carry a link to connect Telegram while the tenant has not."""

    link_base: str  # https://t.me/<bot>?start=
    days: int


@dataclass(frozen=True)
class _Queued:
    case: Case
    stage: str
    row: dict[str, Any]


def _apply(
    session: AsyncSession,
    case: Case,
    decision: Decision,
    available: Collection[str],
    letterhead: Letterhead,
    now: datetime,
    result: TickResult,
    pending: list[_Queued],
    invites: Invites | None,
    has_plan: bool = False,
) -> None:
    tenant = case.tenant
    if decision.resume:
        case_ops.resume(session, case, now, reason="pause ended")
    action = decision.action
    if isinstance(action, SendStage):
        points = reachable(tenant.contact_points)
        options = routes(action.stage.channels, points, available)
        # A tenant's channel that this installation does not run is passed over, and the
        # record says so: a reminder must never count as sent where no one could read it.
        for channel in routes(action.stage.channels, points, CHANNELS, exclude=available):
            case_ops.add_event(
                session,
                case.id,
                "channel_off",
                now,
                stage=action.stage.name,
                channel=channel.channel,
            )
        if not options:
            case_ops.escalate(
                session,
                case,
                "unreachable",
                now,
                tenant.monthly_rent_cents,
                stage=action.stage.name,
            )
            result.escalated += 1
            return
        first = options[0]
        context = tenant_context(letterhead, tenant, case.balance_cents)
        # The subject names the month; a tenant with an agreed plan is not offered another.
        context["arrears_month"] = month_name(case.arrears_since, tenant.language)
        # Nor is a tenant whose money a bewindvoerder or a debt programme manages: a plan
        # goes through that helper (handlers/circumstances.py).
        context["has_plan"] = has_plan or bool(tenant.administrator) or tenant.debt_assistance
        if (
            invites is not None
            and "telegram" in available
            and first.channel != "telegram"
            and all(point.channel != "telegram" for point in tenant.contact_points)
        ):
            token = invite(session, tenant.id, "telegram", now, invites.days)
            context["telegram_link"] = f"{invites.link_base}{token}"
        row = outbound(
            route=first,
            template=action.stage.template,
            language=tenant.language,
            context=context,
            kind="reminder",
            now=now,
            case_id=case.id,
            tenant_id=tenant.id,
            stage=action.index,
            # ":first" marks the stage's first channel; fallbacks get their own keys.
            idempotency_key=f"case:{case.id}:stage:{action.index}:first",
            fallback=[option.channel for option in options[1:]],
        )
        pending.append(_Queued(case, action.stage.name, row))
        case.stage = action.index + 1
        case.last_stage_at = now
        case_ops.touch(case)
    elif isinstance(action, Escalate):
        case_ops.escalate(session, case, action.reason, now, tenant.monthly_rent_cents)
        result.escalated += 1
        return
    case.next_action_at = decision.next_action_at


async def tick(
    sessions: SessionMaker,
    policy: Policy,
    clock: datetime | Callable[[], datetime],
    *,
    available: Collection[str],
    letterhead: Letterhead,
    batch_size: int = 200,
    invites: Invites | None = None,
) -> TickResult:
    """Work every due case, one claimed batch per transaction. ``clock``: a fixed moment,
    or a clock read afresh for each batch (a long run decides on the time of each batch)."""
    result = TickResult()
    while True:
        now = clock() if callable(clock) else clock
        async with sessions() as session, session.begin():
            ids = list(
                await session.scalars(
                    claim(
                        select(Case.id)
                        .where(
                            Case.next_action_at <= now,
                            Case.status.in_([CaseStatus.OPEN, CaseStatus.PAUSED]),
                        )
                        .order_by(Case.next_action_at, Case.id)
                        .limit(batch_size)
                    )
                )
            )
            if not ids:
                return result
            batch = list(
                await session.scalars(
                    select(Case)
                    .where(Case.id.in_(ids))
                    .options(selectinload(Case.tenant).selectinload(Tenant.contact_points))
                    .order_by(Case.id)
                )
            )
            recent = await _recent_reminders(session, [case.tenant_id for case in batch], now)
            planned = set(
                await session.scalars(
                    select(PaymentPlan.case_id).where(
                        PaymentPlan.case_id.in_(ids), PaymentPlan.status == "active"
                    )
                )
            )
            pending: list[_Queued] = []
            for case in batch:
                decision = decide(state_of(case, recent.get(case.tenant_id, ())), policy, now)
                _apply(
                    session,
                    case,
                    decision,
                    available,
                    letterhead,
                    now,
                    result,
                    pending,
                    invites,
                    case.id in planned,
                )
                result.cases += 1
            # One statement for the whole batch; the unique key drops a stage queued before.
            queued = await insert_outbound(session, [item.row for item in pending])
            for item in pending:
                message_id = queued.get(item.row["idempotency_key"])
                if message_id is None:
                    continue
                case_ops.add_event(
                    session,
                    item.case.id,
                    "reminder_queued",
                    now,
                    stage=item.stage,
                    channel=item.row["channel"],
                    message_id=message_id,
                )
                result.queued += 1
                result.by_stage[item.stage] += 1
