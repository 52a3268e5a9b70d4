"""What the import tells a tenant: thanks when the debt is cleared, a nudge after a missed
instalment, a follow-up when "I paid" is not on the list. Each once, by its key."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.render import money
from messaging.routing import reachable, routes
from storage.models import Case, ContactPoint, Tenant

NOTICE_CHANNELS = ("whatsapp", "sms", "telegram", "email")


async def notify(
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
