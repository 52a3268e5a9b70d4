"""A tenant's message: stored once, matched to a contact point, understood, answered.

The steps, each in its own module of handlers/conversation/: who wrote (``sender``), what
they meant (``react``), and the answer (``opt_out``, ``plan``, ``payment``, ``escalation``).
Nothing personal goes back to an address we cannot tie to exactly one tenant: an address
several tenants share first asks for postcode and house number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.conversation import sender
from handlers.conversation.react import react
from handlers.conversation.turn import Turn
from messaging.channels.base import InboundMessage
from messaging.outbox import Letterhead
from rules.intents import Intent, parse_reply
from rules.policy import Policy
from storage.models import Message


@dataclass(frozen=True)
class InboundResult:
    message_id: int | None  # None: a replay of a message already stored
    matched: bool
    intent: Intent | None = None
    case_id: int | None = None


async def understand(
    session: AsyncSession,
    message: Message,
    *,
    policy: Policy,
    letterhead: Letterhead,
    now: datetime,
    payment_iban: str | None = None,
) -> InboundResult:
    """Act on one stored message from the inbox, in the caller's transaction."""
    message_id = message.id
    inbound = InboundMessage(
        channel=message.channel,
        address=message.address,
        text=message.body,
        provider_id=message.provider_id or "",
        received_at=message.created_at,
        extra={key: str(value) for key, value in (message.context or {}).items()},
    )
    # "Friday" means the Friday after the day it was written, however late we read it.
    today = inbound.received_at.astimezone(policy.tz).date()
    turn = Turn(
        session,
        policy,
        letterhead,
        now,
        today,
        payment_iban,
        provider_confirms=inbound.extra.get("provider_handles_opt_out") == "yes",
    )
    points = await sender.contact_points(turn, inbound)
    reply = parse_reply(inbound.text, today)
    message.intent = reply.intent.value
    tenants = {point.tenant_id for point in points}
    if not tenants:
        await sender.answer_stranger(turn, inbound, "reply_unknown_sender")
        return InboundResult(message_id, matched=False, intent=reply.intent)
    for point in points:
        point.last_inbound_at = now  # the WhatsApp window belongs to the address
    acted_on = message
    verified: bool | None = None  # None: as the contact point itself is
    if len(tenants) == 1:
        point = points[0]
    elif reply.intent in (Intent.STOP, Intent.START):
        # Stopping needs no proof of who writes: it holds for everyone at this address.
        for index, each in enumerate(points):
            case = await sender.current_case(turn, each.tenant_id)
            await react(
                turn,
                reply,
                inbound.text,
                each,
                case,
                message_id,
                verified=False,
                confirm=index == 0,
            )
        return InboundResult(message_id, matched=False, intent=reply.intent)
    else:
        found = await sender.who_is_writing(turn, inbound, points, message)
        if found is None:
            return InboundResult(message_id, matched=False, intent=reply.intent)
        point, acted_on = found
        verified = True
        if acted_on is not message:
            # The question asked before we knew who wrote: answer it now.
            reply = parse_reply(acted_on.body, today)
    tenant = point.tenant
    case = await sender.current_case(turn, tenant.id)
    for written in (message, acted_on):
        written.tenant_id = tenant.id
        written.contact_point_id = point.id
        written.case_id = case.id if case is not None else None
    await react(turn, reply, acted_on.body, point, case, acted_on.id, verified=verified)
    return InboundResult(
        message_id, matched=True, intent=reply.intent, case_id=case.id if case else None
    )
