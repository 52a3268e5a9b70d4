"""Linking a chat app to a tenant: a single-use, expiring token in a deep link sent over a
channel we already trust. Opening it proves the chat belongs to the person who read it."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.inbox import storable
from messaging.outbox import Letterhead, enqueue, tenant_context
from messaging.routing import Reachable
from rules.cadence import CaseStatus
from storage import cases as case_ops
from storage.db import SessionMaker
from storage.models import Case, ContactPoint, LinkToken, Tenant


def new_token() -> str:
    # 32 characters of [A-Za-z0-9_-]: inside Telegram's 64-character start payload.
    return secrets.token_urlsafe(24)


_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def invite(session: AsyncSession, tenant_id: int, channel: str, now: datetime, days: int) -> str:
    token = new_token()
    session.add(
        LinkToken(
            token=token,
            tenant_id=tenant_id,
            channel=channel,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    return token


async def link_chat(
    sessions: SessionMaker,
    *,
    channel: str,
    token: str,
    address: str,
    letterhead: Letterhead,
    now: datetime,
) -> bool:
    """Tie ``address`` on ``channel`` to the token's tenant; False if the token is no good."""
    address = storable(address, 320)
    async with sessions() as session, session.begin():
        # Only what new_token() makes is looked up: anything else (a NUL, half a character)
        # is no link, not a database error.
        link = (
            await session.scalar(
                select(LinkToken).where(LinkToken.token == token, LinkToken.channel == channel)
            )
            if _TOKEN.fullmatch(token)
            else None
        )
        if link is None or link.used_at is not None or link.expires_at <= now:
            await enqueue(
                session,
                route=Reachable(None, channel, address, verified=False),
                template="telegram_link_invalid",
                language="nl",
                context=tenant_context(letterhead, None, None),
                kind="reply",
                now=now,
                respect_quiet_hours=False,
            )
            return False
        tenant = await session.get_one(Tenant, link.tenant_id)
        point = await session.scalar(
            select(ContactPoint).where(
                ContactPoint.tenant_id == tenant.id,
                ContactPoint.channel == channel,
                ContactPoint.address == address,
            )
        )
        if point is None:
            point = ContactPoint(
                tenant_id=tenant.id,
                channel=channel,
                address=address,
                source="linked",
                verified=True,
                failures=0,
                created_at=now,
            )
            session.add(point)
        point.opted_out_at = point.unreachable_at = None
        point.last_inbound_at = now
        await session.flush()
        link.used_at = now
        link.contact_point_id = point.id
        case = await session.scalar(
            select(Case).where(Case.tenant_id == tenant.id, Case.status != CaseStatus.CLOSED)
        )
        if case is not None:
            case_ops.add_event(session, case.id, "channel_linked", now, "tenant", channel=channel)
        await enqueue(
            session,
            route=Reachable(point.id, channel, address, verified=True),
            template="telegram_linked",
            language=tenant.language,
            context=tenant_context(letterhead, tenant, None),
            kind="reply",
            now=now,
            case_id=case.id if case else None,
            tenant_id=tenant.id,
            respect_quiet_hours=False,
        )
        return True
