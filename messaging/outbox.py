"""Writing messages into the outbox, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from messaging.render import money, render
from messaging.routing import Reachable
from storage.models import Message, Tenant
from storage.sql import insert_ignoring_conflicts, insert_many


@dataclass(frozen=True)
class Letterhead:
    """Who the tenant hears from."""

    corporation: str
    phone: str
    greeting: str = "name"  # the policy's [texts] greeting: "name" or "neutral"


def tenant_context(
    letterhead: Letterhead, tenant: Tenant | None, balance_cents: int | None
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "corporation": letterhead.corporation,
        "phone": letterhead.phone,
        "greeting": letterhead.greeting,
    }
    if tenant is not None:
        context["name"] = tenant.name
        context["municipality"] = tenant.municipality
    if balance_cents is not None:
        context["balance"] = money(balance_cents, tenant.language if tenant else "nl")
    return context


def outbound(
    *,
    route: Reachable,
    template: str,
    language: str,
    context: dict[str, Any],
    kind: str,
    now: datetime,
    case_id: int | None = None,
    tenant_id: int | None = None,
    stage: int | None = None,
    idempotency_key: str | None = None,
    fallback: list[str] | None = None,
    respect_quiet_hours: bool = True,
) -> dict[str, Any]:
    """One outbox row, rendered for its channel and address."""
    # Names and amounts only reach addresses that the corporation's records or the tenant
    # proved to be theirs alone.
    private = route.verified and not route.shared
    values = {**context, "show_details": private}
    if not private:
        values.pop("balance", None)
        values["name"] = "huurder" if language != "en" else "tenant"
    rendered = render(template, language, route.channel, values)
    return {
        "case_id": case_id,
        "tenant_id": tenant_id,
        "contact_point_id": route.contact_point_id,
        "direction": "out",
        "kind": kind,
        "channel": route.channel,
        "address": route.address,
        "stage": stage,
        "template": template,
        "language": language,
        "context": context,
        "subject": rendered.subject,
        "body": rendered.body,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "fallback_channels": fallback or [],
        "respect_quiet_hours": respect_quiet_hours,
        "idempotency_key": idempotency_key,
        "created_at": now,
    }


async def insert_outbound(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Queue many keyed messages in one statement; the ids of those not queued before."""
    if not rows:
        return {}
    result = await session.execute(
        insert_ignoring_conflicts(session, Message).returning(Message.id, Message.idempotency_key),
        rows,
    )
    return {key: message_id for message_id, key in result if key is not None}


async def enqueue(session: AsyncSession, **message: Any) -> int | None:
    """Queue one message; None when its idempotency key was queued before."""
    result = await session.execute(
        insert_ignoring_conflicts(session, Message).returning(Message.id), [outbound(**message)]
    )
    return result.scalar_one_or_none()


async def insert_outbound_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """insert_outbound for large batches (the tick): the same rows and answer, sent as one
    array per column (storage.sql.insert_many) instead of one set of values per row."""
    queued = await insert_many(
        session,
        Message.metadata.tables[Message.__tablename__],
        rows,
        ignore_conflicts=True,
        returning=["id", "idempotency_key"],
    )
    return {key: message_id for message_id, key in queued if key is not None}
