"""Recording what became of one message that did not simply go: a retry, a failure (and
its fallback), or a message given back unsent. Each in its own short transaction, right
after its send; they are rare. Sends that went are recorded in groups
(``messaging.recorder``).

Every write is guarded by the claim token: a worker that lost its claim (its lease ran out
and another worker took the message) records nothing over the other's work.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from messaging.channels.base import PermanentSendError, SendError
from messaging.outbox import enqueue
from messaging.routing import reachable, routes
from rules.cadence import CaseStatus
from storage import cases as case_ops
from storage.db import SessionMaker
from storage.models import Case, ContactPoint, Message, Tenant

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Claim:
    """A message this worker holds: its id and the token that proves the claim."""

    message_id: int
    token: str
    case_id: int | None
    contact_point_id: int | None
    channel: str
    attempts: int


def _held(claim: Claim) -> Any:
    return (Message.id == claim.message_id) & (Message.claim_token == claim.token)


def lost(claim: Claim, what: str) -> None:
    log.warning(
        "message %d: claim lost before its %s was recorded (lease ran out?)",
        claim.message_id,
        what,
    )


async def _settle(session: AsyncSession, claim: Claim, what: str, **values: Any) -> bool:
    """Write the outcome and end the claim, if this worker still holds it."""
    done = await session.execute(
        update(Message).where(_held(claim)).values(**values, claimed_until=None, claim_token=None)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        lost(claim, what)
        return False
    return True


async def record_retry(
    sessions: SessionMaker, claim: Claim, error: SendError, retry_at: datetime, now: datetime
) -> bool:
    detail = _detail(error)
    async with sessions() as session, session.begin():
        again = {"status": "queued", "next_attempt_at": retry_at, "last_error": detail}
        if not await _settle(session, claim, "retry", **again):
            return False
        if claim.case_id is not None:
            case_ops.add_event(
                session,
                claim.case_id,
                "send_retry",
                now,
                message_id=claim.message_id,
                channel=claim.channel,
                attempt=claim.attempts,
                error=detail,
                retry_at=retry_at.isoformat(),
            )
    return True


async def release(sessions: SessionMaker, claims: list[Claim], at: datetime | None) -> None:
    """Give messages back unsent: at ``at`` (the next allowed moment), or due again now
    (a worker stopping). The attempt they were claimed for did not happen."""
    if not claims:
        return
    values: dict[str, Any] = {
        "status": "queued",
        "claimed_until": None,
        "claim_token": None,
        "attempts": Message.attempts - 1,
    }
    if at is not None:
        values["next_attempt_at"] = at
    by_token: dict[str, list[int]] = {}
    for claim in claims:
        by_token.setdefault(claim.token, []).append(claim.message_id)
    async with sessions() as session, session.begin():
        for token, ids in by_token.items():  # one worker's claims share one token
            await session.execute(
                update(Message)
                .where(Message.id.in_(ids), Message.claim_token == token)
                .values(**values)
            )


async def record_failed(
    sessions: SessionMaker,
    claim: Claim,
    error: SendError,
    available: Collection[str],
    now: datetime,
) -> bool | None:
    """A permanent failure: True when a fallback was queued; None when the claim was lost."""
    async with sessions() as session, session.begin():
        message = await session.scalar(select(Message).where(_held(claim)))
        if message is None:
            lost(claim, "failure")
            return None
        case = None
        if message.case_id is not None:
            case = await session.scalar(
                select(Case)
                .where(Case.id == message.case_id)
                .options(selectinload(Case.tenant).selectinload(Tenant.contact_points))
            )
        point = None
        if message.contact_point_id is not None:
            point = await session.get(ContactPoint, message.contact_point_id)
        message.claim_token = None
        return await record_failure(session, message, case, point, error, available, now)


def _detail(error: SendError) -> str:
    return f"{error.code or ''} {error.detail}".strip()[:300]


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
    message.last_error = _detail(error)
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
