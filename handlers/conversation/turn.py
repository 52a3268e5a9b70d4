"""What every step of answering a message shares: the turn (one message, one transaction)
and the talk (one tenant's answer: their contact point, case and the words to fill in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.routing import Reachable
from rules.policy import Policy
from rules.situations import situation
from storage.models import Case, ContactPoint, PaymentPlan, Tenant


@dataclass
class Turn:
    """One incoming message being answered: the transaction and what the rules need."""

    session: AsyncSession
    policy: Policy
    letterhead: Letterhead
    now: datetime
    today: date
    payment_iban: str | None
    provider_confirms: bool  # the provider itself answers STOP and START

    @property
    def question_expires(self) -> datetime:
        return self.now + timedelta(days=self.policy.plans.dialogue_days)


def route(point: ContactPoint, verified: bool | None = None) -> Reachable:
    """`verified`: proven in this conversation (postcode and house number), which also
    speaks for an address several tenants share."""
    if verified is None:
        return Reachable(point.id, point.channel, point.address, point.verified, point.shared)
    return Reachable(point.id, point.channel, point.address, verified, shared=False)


@dataclass
class Talk:
    """A matched tenant's message and the answer being made for it."""

    turn: Turn
    point: ContactPoint
    case: Case | None
    text: str
    message_id: int
    verified: bool | None  # None: as the contact point itself is
    route: Reachable
    context: dict[str, Any]  # the answer template's words

    @classmethod
    async def open(
        cls,
        turn: Turn,
        point: ContactPoint,
        case: Case | None,
        text: str,
        message_id: int,
        verified: bool | None,
    ) -> Talk:
        tenant = point.tenant
        context: dict[str, Any] = tenant_context(
            turn.letterhead, tenant, case.balance_cents if case else None
        )
        # What they told us is acknowledged first; an agreed plan is not offered again.
        context["situation"] = situation(text)
        context["has_plan"] = case is not None and await _has_plan(turn.session, case)
        # Any answer may point to debt help: hard times told beside an offer are heard too.
        context["help"] = turn.policy.help.for_municipality(tenant.municipality).model_dump()
        return cls(turn, point, case, text, message_id, verified, route(point, verified), context)

    @property
    def tenant(self) -> Tenant:
        return self.point.tenant

    @property
    def is_verified(self) -> bool:
        """The address is proven to be this tenant's."""
        return self.point.verified if self.verified is None else self.verified

    async def answer(self, template: str) -> None:
        await enqueue(
            self.turn.session,
            route=self.route,
            template=template,
            language=self.tenant.language,
            context=self.context,
            kind="reply",
            now=self.turn.now,
            case_id=self.case.id if self.case else None,
            tenant_id=self.tenant.id,
            respect_quiet_hours=False,
        )


async def _has_plan(session: AsyncSession, case: Case) -> bool:
    return (
        await session.scalar(
            select(PaymentPlan.id)
            .where(PaymentPlan.case_id == case.id, PaymentPlan.status == "active")
            .limit(1)
        )
    ) is not None
