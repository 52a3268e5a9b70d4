"""The dispatcher: claim queued messages, send them through their channel, record the outcome.

Claiming and recording are short transactions; sending happens between them, outside any
transaction, so a slow provider never holds a database lock. A message whose sender died
mid-send is taken again once its lease runs out (at-least-once, like every provider API).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.cadence import CaseStatus
from bot.policy import Policy
from bot.retry import MAX_ATTEMPTS, retry_delay
from bot.sending_window import next_allowed
from messaging.channels.base import (
    ChannelAdapter,
    OutboundMessage,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
)
from messaging.outbox import enqueue
from messaging.routing import reachable, routes
from storage import cases as case_ops
from storage.db import SessionMaker
from storage.models import Case, ContactPoint, Message, Tenant
from storage.sql import claim

# A contact point that failed this often in a row is not tried again.
UNREACHABLE_AFTER_FAILURES = 3


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    fell_back: int = 0
    deferred: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


Outcome = SendResult | SendError


# WhatsApp allows free text only this long after the tenant's last message.
SESSION_WINDOW = timedelta(hours=24)


async def _claim(
    sessions: SessionMaker, now: datetime, batch_size: int, lease: timedelta
) -> tuple[list[Message], set[int]]:
    """Claimed messages, and which of their contact points wrote to us within the window."""
    async with sessions() as session, session.begin():
        ids = list(
            await session.scalars(
                claim(
                    select(Message.id)
                    .where(
                        Message.direction == "out",
                        or_(
                            (Message.status == "queued") & (Message.next_attempt_at <= now),
                            (Message.status == "sending") & (Message.claimed_until < now),
                        ),
                    )
                    .order_by(Message.next_attempt_at, Message.id)
                    .limit(batch_size)
                )
            )
        )
        if not ids:
            return [], set()
        await session.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(status="sending", claimed_until=now + lease, attempts=Message.attempts + 1)
        )
        claimed = list(
            await session.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id))
        )
        point_ids = {m.contact_point_id for m in claimed if m.contact_point_id is not None}
        open_windows = set(
            await session.scalars(
                select(ContactPoint.id).where(
                    ContactPoint.id.in_(point_ids),
                    ContactPoint.last_inbound_at > now - SESSION_WINDOW,
                )
            )
        )
        return claimed, open_windows


def _session_open(message: Message, open_windows: set[int], now: datetime) -> bool:
    if message.contact_point_id is not None:
        return message.contact_point_id in open_windows
    # An answer to an address we could not tie to one tenant: it was written in reply to a
    # message that just came in, so the window is open for a day from then.
    return message.kind == "reply" and message.created_at > now - SESSION_WINDOW


def outbound_of(message: Message, session_open: bool) -> OutboundMessage:
    return OutboundMessage(
        message_id=message.id,
        channel=message.channel,
        address=message.address,
        body=message.body,
        subject=message.subject,
        template=message.template,
        language=message.language or "nl",
        variables={key: str(value) for key, value in message.context.items() if value},
        session_open=session_open,
    )


async def _send(adapter: ChannelAdapter | None, message: OutboundMessage) -> Outcome:
    if adapter is None:
        return PermanentSendError(f"channel {message.channel} is not configured")
    try:
        return await adapter.send(message)
    except SendError as error:
        return error
    except Exception as error:  # an adapter bug must not lose the message: retry it
        return TransientSendError(f"{type(error).__name__}: {error}"[:300])


async def record_failure(
    session: AsyncSession,
    message: Message,
    case: Case | None,
    point: ContactPoint | None,
    error: SendError,
    available: Collection[str],
    now: datetime,
) -> bool:
    """A message that will not arrive: note it, spare the contact point if it is dead, and
    queue the stage on the next channel. True when a fallback was queued. Also used when a
    provider reports the failure later, in a delivery receipt."""
    message.status = "failed"
    message.claimed_until = None
    message.last_error = f"{error.code or ''} {error.detail}".strip()[:300]
    if point is not None:
        point.failures += 1
        if isinstance(error, PermanentSendError) and error.opted_out:
            point.opted_out_at = point.opted_out_at or now
        elif (
            isinstance(error, PermanentSendError) and error.unreachable
        ) or point.failures >= UNREACHABLE_AFTER_FAILURES:
            point.unreachable_at = point.unreachable_at or now
    if case is None:
        return False
    case_ops.add_event(
        session,
        case.id,
        "send_failed",
        now,
        message_id=message.id,
        channel=message.channel,
        attempt=message.attempts,
        error=message.last_error,
    )
    return await _fall_back(session, message, case, available, now)


async def _fall_back(
    session: AsyncSession,
    message: Message,
    case: Case,
    available: Collection[str],
    now: datetime,
) -> bool:
    tenant = case.tenant
    options = routes(
        message.fallback_channels,
        reachable(tenant.contact_points),
        available,
        exclude={message.channel},
    )
    if not options:
        if case.status in (CaseStatus.OPEN, CaseStatus.PAUSED) and message.kind == "reminder":
            case_ops.escalate(
                session,
                case,
                "unreachable",
                now,
                tenant.monthly_rent_cents,
                message_id=message.id,
            )
        return False
    nxt = options[0]
    base_key = message.idempotency_key or f"message:{message.id}"
    new_id = await enqueue(
        session,
        route=nxt,
        template=message.template or "reply_received",
        language=message.language or tenant.language,
        context=message.context,
        kind=message.kind,
        now=now,
        case_id=case.id,
        tenant_id=tenant.id,
        stage=message.stage,
        idempotency_key=f"{base_key.removesuffix(':first')}:{nxt.channel}",
        fallback=[option.channel for option in options[1:]],
        respect_quiet_hours=message.respect_quiet_hours,
    )
    if new_id is None:
        return False
    case_ops.add_event(
        session,
        case.id,
        "fallback",
        now,
        from_channel=message.channel,
        to_channel=nxt.channel,
        message_id=message.id,
        new_message_id=new_id,
    )
    return True


async def _record(
    sessions: SessionMaker,
    outcomes: list[tuple[Message, Outcome]],
    policy: Policy,
    available: Mapping[str, ChannelAdapter],
    now: datetime,
    result: DispatchResult,
) -> None:
    async with sessions() as session, session.begin():
        case_ids = {m.case_id for m, _ in outcomes if m.case_id is not None}
        cases = {
            case.id: case
            for case in await session.scalars(
                select(Case)
                .where(Case.id.in_(case_ids))
                .options(selectinload(Case.tenant).selectinload(Tenant.contact_points))
            )
        }
        points: dict[int, ContactPoint] = {
            p.id: p for case in cases.values() for p in case.tenant.contact_points
        }
        point_ids = {m.contact_point_id for m, _ in outcomes if m.contact_point_id is not None}
        missing = point_ids - points.keys()
        if missing:
            for extra in await session.scalars(
                select(ContactPoint).where(ContactPoint.id.in_(missing))
            ):
                points[extra.id] = extra
        messages = {
            m.id: m
            for m in await session.scalars(
                select(Message).where(Message.id.in_([m.id for m, _ in outcomes]))
            )
        }
        for claimed, outcome in outcomes:
            message = messages[claimed.id]
            case = cases.get(message.case_id) if message.case_id is not None else None
            point = points.get(message.contact_point_id or -1)
            attempt: dict[str, Any] = {
                "message_id": message.id,
                "channel": message.channel,
                "attempt": message.attempts,
            }
            message.claimed_until = None
            if isinstance(outcome, SendResult):
                message.status = "sent"
                message.provider_id = outcome.provider_id
                message.sent_at = now
                message.last_error = None
                if point is not None:
                    point.failures = 0
                if case is not None:
                    case.last_contact_at = now
                    case_ops.add_event(session, case.id, "message_sent", now, **attempt)
                result.sent += 1
                result.by_channel[message.channel] = result.by_channel.get(message.channel, 0) + 1
                continue
            message.last_error = f"{outcome.code or ''} {outcome.detail}".strip()[:300]
            if isinstance(outcome, TransientSendError) and message.attempts < MAX_ATTEMPTS:
                retry_at = now + retry_delay(message.attempts, outcome.retry_after)
                if message.respect_quiet_hours:
                    retry_at = next_allowed(retry_at, policy.sending, policy.tz)
                message.status = "queued"
                message.next_attempt_at = retry_at
                if case is not None:
                    case_ops.add_event(
                        session,
                        case.id,
                        "send_retry",
                        now,
                        **attempt,
                        error=message.last_error,
                        retry_at=retry_at.isoformat(),
                    )
                result.retried += 1
                continue
            result.failed += 1
            if await record_failure(session, message, case, point, outcome, available.keys(), now):
                result.fell_back += 1


async def dispatch(
    sessions: SessionMaker,
    channels: Mapping[str, ChannelAdapter],
    policy: Policy,
    now: datetime,
    *,
    batch_size: int = 200,
    lease: timedelta = timedelta(minutes=5),
) -> DispatchResult:
    """Send everything due at ``now``."""
    result = DispatchResult()
    while True:
        claimed, open_windows = await _claim(sessions, now, batch_size, lease)
        if not claimed:
            return result
        ready: list[Message] = []
        deferred: list[tuple[int, datetime]] = []
        for message in claimed:
            allowed = (
                next_allowed(now, policy.sending, policy.tz) if message.respect_quiet_hours else now
            )
            if allowed > now:
                deferred.append((message.id, allowed))
            else:
                ready.append(message)
        if deferred:
            async with sessions() as session, session.begin():
                for message_id, allowed in deferred:
                    await session.execute(
                        update(Message)
                        .where(Message.id == message_id)
                        .values(
                            status="queued",
                            next_attempt_at=allowed,
                            claimed_until=None,
                            attempts=Message.attempts - 1,
                        )
                    )
            result.deferred += len(deferred)
        sent = await asyncio.gather(
            *(
                _send(channels.get(m.channel), outbound_of(m, _session_open(m, open_windows, now)))
                for m in ready
            )
        )
        await _record(sessions, list(zip(ready, sent, strict=True)), policy, channels, now, result)
