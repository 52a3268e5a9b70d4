"""Who wrote: the contact points of the address, and for an address several tenants share,
which of them, proven by postcode and house number.

Nothing personal goes back to an address we cannot tie to exactly one tenant: until then
an answer says nothing about any tenant or debt.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from handlers.conversation.turn import Turn
from messaging.channels.base import InboundMessage
from messaging.outbox import enqueue, tenant_context
from messaging.routing import Reachable
from rules.cadence import CaseStatus
from rules.dialogue import Step, address_key, address_matches, expired, parse_address
from storage import dialogues
from storage.models import Case, ContactPoint, Dialogue, Message

# After this many wrong answers to "postcode and house number?", an address shared by
# several tenants gets only the general answer until the question expires.
MAX_VERIFY_ATTEMPTS = 3


async def contact_points(turn: Turn, inbound: InboundMessage) -> list[ContactPoint]:
    """The live contact points with this channel and address, with their tenants."""
    return list(
        await turn.session.scalars(
            select(ContactPoint)
            .where(
                ContactPoint.channel == inbound.channel,
                ContactPoint.address == inbound.address,
                ContactPoint.retired_at.is_(None),
            )
            .order_by(ContactPoint.id)
            .options(joinedload(ContactPoint.tenant))
        )
    )


async def current_case(turn: Turn, tenant_id: int) -> Case | None:
    """The open case, else the latest closed one; locked, so two workers answering the
    same tenant (writing on two channels at once) take turns."""
    return await turn.session.scalar(
        select(Case)
        .where(Case.tenant_id == tenant_id)
        .order_by((Case.status == CaseStatus.CLOSED).asc(), Case.opened_at.desc())
        .limit(1)
        .with_for_update()
    )


async def answer_stranger(turn: Turn, inbound: InboundMessage, template: str) -> None:
    """An answer that says nothing about any tenant or debt. The general one goes to an
    address at most once a day: another bot, or someone writing ten times, gets one."""
    if template == "reply_unknown_sender":
        recent = await turn.session.scalar(
            select(Message.id)
            .where(
                Message.direction == "out",
                Message.channel == inbound.channel,
                Message.address == inbound.address,
                Message.template == template,
                Message.created_at > turn.now - timedelta(days=1),
            )
            .limit(1)
        )
        if recent is not None:
            return
    await enqueue(
        turn.session,
        route=Reachable(None, inbound.channel, inbound.address, verified=False),
        template=template,
        language="nl",
        context=tenant_context(turn.letterhead, None, None),
        kind="reply",
        now=turn.now,
        respect_quiet_hours=False,
    )


async def who_is_writing(
    turn: Turn, inbound: InboundMessage, points: list[ContactPoint], message: Message
) -> tuple[ContactPoint, Message] | None:
    """For an address several tenants share: which of them writes, proven by postcode and
    house number. Returns the tenant's contact point and the message to act on, or None
    while we do not know (the answer then asks, or says nothing personal)."""
    key = address_key(inbound.channel, inbound.address)
    dialogue = await _live(turn, key)
    if dialogue is not None and dialogue.step == Step.VERIFIED:
        point = next((p for p in points if p.tenant_id == dialogue.tenant_id), None)
        if point is not None:
            return point, message
        dialogue = None  # that tenant no longer uses this address
    if dialogue is None or dialogue.step != Step.VERIFY:
        await dialogues.save(
            turn.session,
            key,
            Step.VERIFY,
            now=turn.now,
            expires_at=turn.question_expires,
            data={"message_id": message.id},
        )
        await answer_stranger(turn, inbound, "reply_verify_ask")
        return None
    if dialogue.attempts >= MAX_VERIFY_ATTEMPTS:
        await answer_stranger(turn, inbound, "reply_unknown_sender")
        return None
    given = parse_address(inbound.text)
    matches = [
        p
        for p in points
        if given is not None
        and address_matches(
            given, p.tenant.postcode, p.tenant.house_number, p.tenant.house_number_suffix
        )
    ]
    if len(matches) == 1:
        (point,) = matches
        await dialogues.save(
            turn.session,
            key,
            Step.VERIFIED,
            now=turn.now,
            expires_at=turn.question_expires,
            tenant_id=point.tenant_id,
        )
        first = await turn.session.get(Message, dialogue.data.get("message_id", 0))
        return point, first if first is not None else message
    await dialogues.save(
        turn.session,
        key,
        Step.VERIFY,
        now=turn.now,
        expires_at=dialogue.expires_at,
        data=dialogue.data,
        attempts=dialogue.attempts + 1,
    )
    last_try = dialogue.attempts + 1 >= MAX_VERIFY_ATTEMPTS
    await answer_stranger(
        turn, inbound, "reply_unknown_sender" if last_try else "reply_verify_failed"
    )
    return None


async def _live(turn: Turn, key: str) -> Dialogue | None:
    """The address's open question, unless it expired (then it is gone)."""
    dialogue = await dialogues.load(turn.session, key)
    if dialogue is not None and expired(dialogue.expires_at, turn.now):
        await dialogues.clear(turn.session, key)
        return None
    return dialogue
