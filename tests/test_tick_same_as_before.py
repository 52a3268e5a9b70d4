"""The set-based tick writes exactly what the tick before it wrote, row for row.

The tick before it (one ORM object per case, the storage.cases helpers one by one) is kept
below as the reference. Both run on twin databases holding the same mixed batch: a stage
sent, a stage already queued, escalations (no reply, unreachable), resumes, a pause still
running, channels switched off, plan context, Telegram invites, shared and unverified
addresses, the weekly cap. Every table is then compared.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from handlers.linking import invite
from handlers.tick import Invites, TickResult
from handlers.tick import tick as new_tick
from messaging.outbox import Letterhead, insert_outbound, outbound, tenant_context
from messaging.render import month_name
from messaging.routing import reachable, routes
from rules.cadence import CaseState, CaseStatus, Decision, Escalate, SendStage, decide
from rules.policy import CHANNELS, Policy, load_policy
from rules.sending_window import WEEK
from storage import cases as case_ops
from storage.db import SessionMaker, create_engine, session_maker
from storage.models import (
    Base,
    Case,
    ContactPoint,
    LinkToken,
    Message,
    PaymentPlan,
    Tenant,
)
from storage.scratch import create_database, drop_database
from storage.sql import claim
from tests.conftest import PG_URL, Templates

# Friday 4 December 2026, 11:00 in Amsterdam: the first stage of a case opened on Tuesday
# is due.
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
OPENED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LETTERHEAD = Letterhead("Woonstichting", "0522 000 000")
INVITES = Invites("https://t.me/bot?start=", 14)
# WhatsApp has no provider in this installation: its contact points are passed over.
AVAILABLE = frozenset({"sms", "telegram", "email"})


# ---- the reference: the tick as it was, one ORM object per case ---------------------------


async def _recent_reminders(
    session: AsyncSession, tenant_ids: list[int], now: datetime
) -> dict[int, tuple[datetime, ...]]:
    rows = await session.execute(
        select(Message.tenant_id, Message.created_at).where(
            Message.tenant_id.in_(tenant_ids),
            Message.direction == "out",
            Message.kind == "reminder",
            Message.created_at > now - WEEK,
            Message.idempotency_key.like("%:first"),
        )
    )
    recent: dict[int, list[datetime]] = defaultdict(list)
    for tenant_id, created_at in rows:
        if tenant_id is not None:
            recent[tenant_id].append(created_at)
    return {tenant_id: tuple(times) for tenant_id, times in recent.items()}


def _state_of(case: Case, recent: tuple[datetime, ...]) -> CaseState:
    return CaseState(
        status=CaseStatus(case.status),
        stage=case.stage,
        opened_at=case.opened_at,
        last_stage_at=case.last_stage_at,
        paused_until=case.paused_until,
        recent_reminders=recent,
    )


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
        context["arrears_month"] = month_name(case.arrears_since, tenant.language)
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


async def reference_tick(
    sessions: SessionMaker,
    policy: Policy,
    clock: datetime | Callable[[], datetime],
    *,
    available: Collection[str],
    letterhead: Letterhead,
    batch_size: int = 200,
    invites: Invites | None = None,
) -> TickResult:
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
                decision = decide(_state_of(case, recent.get(case.tenant_id, ())), policy, now)
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


# ---- the mixed batch --------------------------------------------------------------------


@dataclass
class _Scenario:
    session: AsyncSession
    count: int = 0

    def tenant(self, *points: tuple[str, str, dict[str, Any]], **fields: Any) -> Tenant:
        self.count += 1
        values: dict[str, Any] = {
            "external_ref": f"T{self.count}",
            "name": f"Huurder {self.count}",
            "language": "nl",
            "monthly_rent_cents": 65000,
            "municipality": "Meppel",
            "created_at": OPENED,
            "updated_at": OPENED,
            **fields,
        }
        tenant = Tenant(**values)
        for channel, address, flags in points:
            tenant.contact_points.append(
                ContactPoint(
                    channel=channel,
                    address=address,
                    verified=flags.get("verified", True),
                    shared=flags.get("shared", False),
                    opted_out_at=flags.get("opted_out_at"),
                    unreachable_at=flags.get("unreachable_at"),
                    retired_at=flags.get("retired_at"),
                    created_at=OPENED,
                )
            )
        self.session.add(tenant)
        return tenant

    def case(self, tenant: Tenant, **fields: Any) -> Case:
        values: dict[str, Any] = {
            "status": "open",
            "stage": 0,
            "balance_cents": 41760 + 1000 * self.count,
            "arrears_since": date(2026, 11, 1),
            "opened_at": OPENED,
            "next_action_at": NOW - timedelta(hours=1, minutes=self.count),
            **fields,
        }
        case = Case(tenant=tenant, **values)
        self.session.add(case)
        return case


def _phone(i: int) -> str:
    return f"+3162000{i:04d}"


async def build_mixed_batch(sessions: SessionMaker) -> None:
    """Every path the tick takes, in one database; the same ids every time."""
    async with sessions() as session, session.begin():
        s = _Scenario(session)
        on = {"verified": True}
        # A stage sent: WhatsApp is off here (channel_off), SMS goes, email falls back.
        t = s.tenant(("whatsapp", _phone(1), on), ("sms", _phone(1), on), ("email", "a@x.nl", on))
        s.case(t)
        # Only email: no event for a channel switched off; an English tenant.
        s.case(s.tenant(("email", "b@x.nl", on), language="en"))
        # No contact point at all; only an unverified and an opted-out one: unreachable.
        s.case(s.tenant())
        s.case(
            s.tenant(
                ("sms", _phone(4), {"verified": False}),
                ("email", "d@x.nl", {"opted_out_at": OPENED}),
            )
        )
        # Only WhatsApp, which is off: channel_off, then unreachable.
        s.case(s.tenant(("whatsapp", _phone(5), on)))
        # An agreed plan, a bewindvoerder, debt assistance: the menu offers no new plan.
        planned = s.case(s.tenant(("sms", _phone(6), on)))
        s.case(s.tenant(("sms", _phone(7), on), administrator="Bewind BV"))
        s.case(s.tenant(("sms", _phone(8), on), debt_assistance=True))
        # A timed pause that has ended: resumed, then the stage goes.
        s.case(
            s.tenant(("sms", _phone(9), on)),
            status="paused",
            pause_reason="paid",
            paused_until=NOW - timedelta(hours=2),
        )
        # A pause still running (looked at early): it waits for its end, nothing else.
        s.case(
            s.tenant(("sms", _phone(10), on)),
            status="paused",
            pause_reason="dialogue",
            paused_until=NOW + timedelta(days=2),
        )
        # Every stage sent, silence since: no_reply.
        s.case(s.tenant(("sms", _phone(11), on)), stage=3, last_stage_at=NOW - timedelta(days=20))
        # A pause ending on a case with every stage sent: resumed and escalated.
        s.case(
            s.tenant(("sms", _phone(12), on)),
            status="paused",
            pause_reason="paid",
            paused_until=NOW - timedelta(days=1),
            stage=3,
            last_stage_at=NOW - timedelta(days=30),
        )
        # Three reminders this week: the next waits until the oldest is a week old.
        capped_tenant = s.tenant(("sms", _phone(13), on))
        capped = s.case(capped_tenant, stage=1, last_stage_at=NOW - timedelta(days=8))
        # This stage was queued before (a doubled tick): no second message, no event.
        twice = s.case(s.tenant(("sms", _phone(14), on)))
        # Telegram: already linked (it goes there, no invite); an opted-out Telegram chat
        # (no invite either); a shared phone (no name, no amount).
        s.case(s.tenant(("telegram", "777015", on), ("sms", _phone(15), on)))
        s.case(s.tenant(("sms", _phone(16), on), ("telegram", "777016", {"opted_out_at": OPENED})))
        s.case(s.tenant(("sms", _phone(17), {"verified": True, "shared": True})))
        # Later stages: the plan offer, and the written one (email first).
        s.case(
            s.tenant(("sms", _phone(18), on), ("email", "r@x.nl", on)),
            stage=1,
            last_stage_at=NOW - timedelta(days=7, hours=2),
        )
        s.case(
            s.tenant(("sms", _phone(19), on), ("email", "s@x.nl", on)),
            stage=2,
            last_stage_at=NOW - timedelta(days=7, hours=2),
            arrears_since=date(2026, 9, 1),
        )
        # Left alone: not due, closed, escalated.
        s.case(s.tenant(("sms", _phone(20), on)), next_action_at=NOW + timedelta(hours=3))
        s.case(s.tenant(("sms", _phone(21), on)), status="closed")
        s.case(s.tenant(("sms", _phone(22), on)), status="escalated", escalation_reason="help")
        await session.flush()
        session.add(
            PaymentPlan(
                case_id=planned.id,
                status="active",
                amount_cents=5000,
                months=9,
                first_due=date(2026, 12, 15),
                total_cents=41760,
                source="tenant",
                created_at=OPENED,
            )
        )
        for days, key in ((6, "first"), (5, "first"), (2, "first"), (1, "whatsapp")):
            session.add(_reminder(capped, capped_tenant, NOW - timedelta(days=days), key))
        session.add(_reminder(twice, twice.tenant, NOW - timedelta(minutes=5), "first", stage=0))


def _reminder(case: Case, tenant: Tenant, at: datetime, key: str, stage: int = 9) -> Message:
    """A reminder already queued; stage 0's carries the key the tick would use."""
    idempotency_key = (
        f"case:{case.id}:stage:0:first" if stage == 0 else f"case:{case.id}:{at:%d%H}:{key}"
    )
    return Message(
        case_id=case.id,
        tenant_id=tenant.id,
        direction="out",
        kind="reminder",
        channel="sms",
        address="+31600000000",
        body="…",
        status="sent",
        stage=stage,
        idempotency_key=idempotency_key,
        created_at=at,
    )


# ---- comparing ---------------------------------------------------------------------------


# Tables whose ids only say in which order concurrent batches wrote (PostgreSQL ticks with
# two claimers): compared without the id, each case's rows in their order.
_ORDERED_BY_CASE = {"messages": "case_id", "case_events": "case_id", "link_tokens": "tenant_id"}


async def dump(sessions: SessionMaker) -> dict[str, list[str]]:
    """Every row of every table. Message ids become their keys, and link tokens (random)
    their tenants."""
    async with sessions() as session:
        keys = dict((await session.execute(select(Message.id, Message.idempotency_key))).all())
        tokens = dict((await session.execute(select(LinkToken.token, LinkToken.tenant_id))).all())
        tables: dict[str, list[str]] = {}
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table).order_by(*table.primary_key.columns))
            group = _ORDERED_BY_CASE.get(table.name)
            if group is None:
                text = [repr(tuple(row)) for row in rows]
            else:
                # Stable sort: within a case (a tenant), rows keep the order they were written.
                mappings = sorted((dict(row._mapping) for row in rows), key=lambda r: r[group])
                for mapping in mappings:
                    del mapping["id"]
                    data = mapping.get("data")
                    if isinstance(data, dict) and "message_id" in data:
                        data["message_id"] = keys[data["message_id"]]
                text = [repr(mapping) for mapping in mappings]
            for token, tenant_id in tokens.items():
                text = [line.replace(token, f"<token of tenant {tenant_id}>") for line in text]
            tables[table.name] = text
    return tables


@pytest.fixture
async def twin_urls(backend: str, templates: Templates, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two freshly migrated, empty databases of the given backend."""
    if backend == "sqlite":
        urls = []
        for name in ("a", "b"):
            shutil.copyfile(templates.sqlite_file, tmp_path / f"{name}.db")
            urls.append(f"sqlite+aiosqlite:///{tmp_path / name}.db")
        yield urls
        return
    assert PG_URL and templates.pg_template_url
    template = make_url(templates.pg_template_url).database
    urls = [await create_database(PG_URL, "arrears_t", template=template) for _ in range(2)]
    yield urls
    for url in urls:
        await drop_database(url, PG_URL)


async def _run(
    url: str, run: Callable[..., Any], batch_size: int, invites: Invites | None
) -> tuple[TickResult, dict[str, list[str]]]:
    engine = create_engine(url)
    sessions = session_maker(engine)
    try:
        await build_mixed_batch(sessions)
        result = await run(
            sessions,
            load_policy(),
            NOW,
            available=AVAILABLE,
            letterhead=LETTERHEAD,
            batch_size=batch_size,
            invites=invites,
        )
        return result, await dump(sessions)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(("batch_size", "invites"), [(500, INVITES), (4, INVITES), (7, None)])
async def test_the_set_based_tick_writes_what_the_orm_tick_wrote(
    twin_urls: list[str], batch_size: int, invites: Invites | None
) -> None:
    before, then = await _run(twin_urls[0], reference_tick, batch_size, invites)
    after, now = await _run(twin_urls[1], new_tick, batch_size, invites)
    assert (after.cases, after.queued, after.escalated) == (
        before.cases,
        before.queued,
        before.escalated,
    )
    assert dict(after.by_stage) == dict(before.by_stage)
    for table in then:
        assert now[table] == then[table], table
    # The batch did take every path.
    assert (before.cases, before.queued, before.escalated) == (19, 11, 5)
    kinds = " ".join(then["case_events"])
    for kind in ("channel_off", "escalated", "resumed", "reminder_queued"):
        assert f"'{kind}'" in kinds
    assert len(then["link_tokens"]) == (10 if invites else 0)
