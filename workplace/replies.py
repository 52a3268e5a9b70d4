"""A consultant's own words to a tenant: on the channel the tenant last used unless the
consultant chooses another, signed once with their name, queued through the outbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.routing import Reachable, reachable
from storage import cases as case_ops
from storage.models import Case, Message, User
from workplace.actions import ActionError

WHATSAPP_WINDOW = timedelta(hours=24)


def reply_routes(
    points: Sequence[Reachable],
    last_channel: str | None,
    whatsapp_open: bool,
    available: Collection[str],
) -> list[Reachable]:
    """Where a consultant's own words can go: the channel the tenant last wrote on first,
    then the others in the order they were recorded. WhatsApp takes free text only within
    24 hours of the tenant's last message there; outside it, it is left out."""
    usable = [
        point
        for point in points
        if point.channel in available
        and point.verified
        and not point.shared
        and (point.channel != "whatsapp" or whatsapp_open)
    ]
    first = [point for point in usable if point.channel == last_channel][:1]
    return first + [point for point in usable if point not in first]


async def reply_choices(
    session: AsyncSession, case: Case, *, now: datetime, available: Collection[str]
) -> list[Reachable]:
    """Where a consultant may write now, the one to use by default first: the channel the
    tenant last wrote on, else the one the case last reached them on."""
    tenant = case.tenant
    last = await session.scalar(
        select(Message.channel)
        .where(Message.tenant_id == tenant.id, Message.direction == "in")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last is None:
        last = await session.scalar(
            select(Message.channel)
            .where(
                Message.case_id == case.id,
                Message.direction == "out",
                Message.status.in_(("sent", "delivered", "read")),
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
    whatsapp_open = any(
        point.channel == "whatsapp"
        and point.last_inbound_at is not None
        and point.last_inbound_at > now - WHATSAPP_WINDOW
        for point in tenant.contact_points
    )
    return reply_routes(reachable(tenant.contact_points), last, whatsapp_open, available)


async def reply(
    session: AsyncSession,
    case: Case,
    user: User,
    text: str,
    *,
    now: datetime,
    letterhead: Letterhead,
    available: Collection[str],
    point_id: int | None = None,
) -> Message:
    """Send the consultant's words to the contact point `point_id` (one of
    `reply_choices`), by default the first of them; the others are the fallback."""
    text = text.strip()
    if not text:
        raise ActionError("write a message first")
    if len(text) > 1000:
        raise ActionError("keep it under 1000 characters; a call may say more")
    tenant = case.tenant
    options = await reply_choices(session, case, now=now, available=available)
    if not options:
        raise ActionError("the tenant has no channel we may write on now; call or visit")
    if point_id is not None:
        chosen = [point for point in options if point.contact_point_id == point_id]
        if not chosen:
            raise ActionError("the tenant cannot be reached on that channel now; choose another")
        options = chosen + [point for point in options if point not in chosen]
    first = options[0]
    context: dict[str, Any] = {
        **tenant_context(letterhead, tenant, case.balance_cents),
        "text": text,
        "consultant": user.display_name,
    }
    message_id = await enqueue(
        session,
        route=first,
        template="consultant_reply",
        language=tenant.language,
        context=context,
        kind="reply",
        now=now,
        case_id=case.id,
        tenant_id=tenant.id,
        fallback=[point.channel for point in options[1:]],
        respect_quiet_hours=True,
    )
    assert message_id is not None  # no idempotency key: always inserted
    case_ops.add_event(
        session,
        case.id,
        "consultant_reply",
        now,
        user.username,
        message_id=message_id,
        channel=first.channel,
    )
    case_ops.touch(case)
    return await session.get_one(Message, message_id)
