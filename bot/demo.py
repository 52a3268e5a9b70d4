"""The demo: synthetic tenants who pay, reply or stay silent, on a simulated clock.

Everything runs through the real service: the daily import, the tick, the dispatcher, the
sandbox channel and the inbound handler. Only the tenants are simulated.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from random import Random
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.runtime import Runtime
from handlers.arrears_file import ArrearsFile, ArrearsRow, parse_arrears_file
from handlers.arrears_source import ArrearsRows
from handlers.importer import import_arrears
from messaging.channels.base import InboundMessage, OutboundMessage, PermanentSendError, SendError
from rules.clock import ManualClock
from rules.policy import Policy
from rules.sending_window import next_allowed
from storage.models import Case, CaseEvent, Message, PaymentPlan
from storage.queries import next_due
from workplace import words
from workplace.labels import code_labels

_reason = code_labels("en")

PERSONAS: tuple[tuple[str, int], ...] = (
    ("silent", 30),  # never answers: escalated after the last stage
    ("pays", 20),  # pays a few days after the first reminder
    ("late_payer", 10),  # pays after the written reminder
    ("plan", 12),  # proposes an amount per month after the second reminder
    ("help", 10),  # asks for help after the first reminder
    ("says_paid", 8),  # answers "3" (paid) and the money arrives two days later
    ("says_paid_not_paid", 6),  # says paid, but the next lists still show the arrears
    ("stops", 4),  # sends STOP on the channel that reached them
)
YES_TEXTS = ("Ja", "ja dat is goed", "JA", "Oké, akkoord 👍")
HELP_TEXTS = ("hulp", "2", "Ik heb hulp nodig, ik ben mijn baan kwijt", "I need help please")
PLAN_TEXTS = (
    "Ik kan {amount} euro per maand betalen",
    "1 - {amount} per maand?",
    "Can I pay {amount} euro a month?",
)


def demo_rows() -> list[ArrearsRow]:
    data = resources.files("bot").joinpath("data/demo_tenants.csv").read_bytes()
    return parse_arrears_file(data).rows


@dataclass
class SimTenant:
    row: ArrearsRow
    persona: str
    balance_cents: int
    reacted: set[int] = field(default_factory=set)


def not_on_whatsapp(addresses: set[str]) -> Callable[[OutboundMessage], SendError | None]:
    def rule(message: OutboundMessage) -> SendError | None:
        if message.channel == "whatsapp" and message.address in addresses:
            return PermanentSendError("not a WhatsApp user", code="63003", unreachable=True)
        return None

    return rule


class Simulation:
    def __init__(self, runtime: Runtime, rows: list[ArrearsRow], seed: int) -> None:
        self.runtime = runtime
        self.random = Random(seed)  # noqa: S311 - a seeded simulation, not a secret
        names, weights = zip(*PERSONAS, strict=True)
        self.tenants = {
            row.tenant_ref: SimTenant(
                row, self.random.choices(names, weights)[0], row.balance_cents
            )
            for row in rows
        }
        self.by_address = {
            row.phone or row.email: row.tenant_ref for row in rows if row.phone or row.email
        }
        # Some phones are not on WhatsApp: the dispatcher falls back to SMS for them.
        self.no_whatsapp = {row.phone for row in rows if row.phone and self.random.random() < 0.15}
        self._agenda: list[tuple[datetime, int, Callable[[datetime], Awaitable[None]]]] = []
        self._order = itertools.count()
        self._last_seen = 0
        self._last_import: date | None = None

    def later(self, at: datetime, action: Callable[[datetime], Awaitable[None]]) -> None:
        heapq.heappush(self._agenda, (at, next(self._order), action))

    async def step(self, now: datetime) -> None:
        local = now.astimezone(self.runtime.policy.tz)
        if local.time() >= time(6, 0) and self._last_import != local.date():
            await self.daily_import(local.date(), now)
            self._last_import = local.date()
        while self._agenda and self._agenda[0][0] <= now:
            _, _, action = heapq.heappop(self._agenda)
            await action(now)
        await self.runtime.tick()
        await self.runtime.dispatch()
        await self.observe(now)

    async def run_until(self, clock: ManualClock, end: datetime) -> None:
        """Run the simulation on a manual clock, jumping from one event to the next."""
        while clock.now() < end:
            await self.step(clock.now())
            # The tick's minute is the resolution.
            upcoming = await self.next_moment(clock.now())
            clock.current = min(max(upcoming, clock.now() + timedelta(minutes=1)), end)

    async def next_moment(self, now: datetime) -> datetime:
        """When something will next happen: the headless demo jumps there."""
        tz = self.runtime.policy.tz
        local = now.astimezone(tz)
        import_day = local.date() if local.time() < time(6, 0) else local.date() + timedelta(1)
        moments: list[datetime | None] = [
            datetime.combine(import_day, time(6, 0), tzinfo=tz).astimezone(UTC)
        ]
        if self._agenda:
            moments.append(self._agenda[0][0])
        async with self.runtime.sessions() as session:
            moments.append(await next_due(session, now))
        return min(m for m in moments if m is not None and m > now)

    async def daily_import(self, today: date, now: datetime) -> None:
        rows = [
            replace(t.row, balance_cents=t.balance_cents, as_of=today)
            for t in self.tenants.values()
        ]
        digest = hashlib.sha256(repr(rows).encode()).hexdigest()
        await import_arrears(
            self.runtime.sessions,
            ArrearsRows(ArrearsFile(rows, digest)),
            filename=f"demo-{today}.csv",
            policy=self.runtime.policy,
            letterhead=self.runtime.letterhead,
            available=self.runtime.channels.keys(),
            now=now,
        )

    async def observe(self, now: datetime) -> None:
        async with self.runtime.sessions() as session:
            sent = list(
                await session.execute(
                    select(Message.id, Message.channel, Message.address, Message.stage)
                    .where(
                        Message.id > self._last_seen,
                        Message.direction == "out",
                        Message.kind == "reminder",
                        Message.status == "sent",
                    )
                    .order_by(Message.id)
                )
            )
        for message_id, channel, address, stage in sent:
            self._last_seen = max(self._last_seen, message_id)
            ref = self.by_address.get(address)
            if ref is None or stage is None:
                continue
            self.react(self.tenants[ref], channel, address, stage, now)

    def _hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.random.uniform(low, high))

    def react(
        self, tenant: SimTenant, channel: str, address: str, stage: int, now: datetime
    ) -> None:
        if stage in tenant.reacted:
            return
        tenant.reacted.add(stage)

        def say(text: str) -> Callable[[datetime], Awaitable[None]]:
            async def send(at: datetime) -> None:
                await self.runtime.receive(
                    InboundMessage(
                        channel=channel,
                        address=address,
                        text=text,
                        provider_id=f"sim-{next(self._order)}",
                        received_at=at,
                    )
                )

            return send

        async def pay(_: datetime) -> None:
            tenant.balance_cents = 0

        persona = tenant.persona
        if persona == "pays" and stage == 0:
            self.later(now + self._hours(20, 70), pay)
        elif persona == "late_payer" and stage == 2:
            self.later(now + self._hours(24, 90), pay)
        elif persona == "plan" and stage == 1:
            amount = max(25, round(tenant.row.monthly_rent_cents / 100 * 0.1 / 5) * 5)
            text = self.random.choice(PLAN_TEXTS).format(amount=amount)
            offered = now + self._hours(1, 8)
            self.later(offered, say(text))
            # The bot shows the plan that follows and asks; the tenant says yes.
            self.later(offered + self._hours(0.2, 6), say(self.random.choice(YES_TEXTS)))
        elif persona == "help" and stage == 0:
            self.later(now + self._hours(0.5, 30), say(self.random.choice(HELP_TEXTS)))
        elif persona == "says_paid" and stage == 0:
            self.later(now + self._hours(1, 6), say("3"))
            self.later(now + self._hours(30, 50), pay)
        elif persona == "says_paid_not_paid" and stage == 0:
            self.later(now + self._hours(1, 6), say("Ik heb betaald"))
        elif persona == "stops" and stage == 0:
            self.later(now + self._hours(0.2, 3), say("STOP"))


@dataclass(frozen=True)
class Summary:
    reminders: list[tuple[str, str, int]]  # stage, channel, count
    replies: list[tuple[str, int]]
    statuses: dict[str, int]
    escalations: list[tuple[str, int]]
    paid: int
    fallbacks: int
    plans: dict[str, int]

    def table(self) -> str:
        lines = ["Reminders sent, by stage and channel"]
        lines += [
            f"  {stage:<12} {channel:<20} {count:>4}" for stage, channel, count in self.reminders
        ]
        lines.append("Replies, by what the bot understood")
        lines += [f"  {intent:<33} {count:>4}" for intent, count in self.replies]
        lines.append("Cases")
        cases = [
            ("paid (closed)", self.paid),
            ("in a plan (agreed)", self.plans.get("active", 0)),
            ("plan to a consultant", self.plans.get("proposed", 0)),
            ("paused", self.statuses.get("paused", 0)),
            ("still in the cadence", self.statuses.get("open", 0)),
            ("escalated", self.statuses.get("escalated", 0)),
        ]
        lines += [f"  {label:<33} {count:>4}" for label, count in cases]
        lines += [f"    {reason:<31} {count:>4}" for reason, count in self.escalations]
        lines.append(f"Fallbacks to another channel: {self.fallbacks}")
        return "\n".join(lines)


async def summarise(runtime: Runtime) -> Summary:
    stage_names = {i: stage.name for i, stage in enumerate(runtime.policy.stages)}
    async with runtime.sessions() as session:
        reminders = await session.execute(
            select(Message.stage, Message.channel, func.count())
            .where(
                Message.direction == "out",
                Message.kind == "reminder",
                Message.status.in_(["sent", "delivered"]),
            )
            .group_by(Message.stage, Message.channel)
            .order_by(Message.stage, Message.channel)
        )
        replies = await session.execute(
            select(Message.intent, func.count())
            .where(Message.direction == "in")
            .group_by(Message.intent)
            .order_by(func.count().desc())
        )
        statuses = await session.execute(select(Case.status, func.count()).group_by(Case.status))
        escalations = await session.execute(
            select(Case.escalation_reason, func.count())
            .where(Case.escalation_reason.is_not(None))
            .group_by(Case.escalation_reason)
            .order_by(func.count().desc())
        )
        paid = await session.scalar(
            select(func.count()).select_from(Case).where(Case.close_reason == "paid")
        )
        plans = await session.execute(
            select(PaymentPlan.status, func.count()).group_by(PaymentPlan.status)
        )
        fallbacks = await session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "fallback")
        )
    return Summary(
        # In words, as a newcomer reads them; the codes are the database's.
        reminders=[
            (words.stage(stage_names.get(s or 0, str(s)), "en"), words.channel(c, "en"), n)
            for s, c, n in reminders
        ],
        replies=[(words.word(words.INTENTS, intent, "en") or "?", n) for intent, n in replies],
        statuses={status: n for status, n in statuses},
        escalations=[(_reason(reason) or "?", n) for reason, n in escalations],
        paid=paid or 0,
        fallbacks=fallbacks or 0,
        plans={status: n for status, n in plans},
    )


def demo_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(6, 0), tzinfo=tz).astimezone(UTC)


def demo_end(first_day: date, days: int, policy: Policy) -> datetime:
    """Where the live demo's clock stops: ``days`` after the start, or the first moment after
    that when a message may go out. Stopped at dawn or on a Sunday, the world would hold a
    consultant's reply to the sandbox for ever (replies keep the sending window)."""
    end = demo_start(first_day, policy.tz) + timedelta(days=days)
    return next_allowed(end, policy.sending, policy.tz)
