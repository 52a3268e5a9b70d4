"""Delivery receipts: a provider's later word on a message we handed it.

Receipts arrive late and out of order; a status never moves backwards, and a failure
reported after the fact falls back to the next channel just as a refused send does.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from messaging.channels.base import SendError
from messaging.intake import Receipt
from messaging.outcomes import record_failure
from storage import cases as case_ops
from storage.db import SessionMaker
from storage.models import Case, ContactPoint, Message, Tenant

_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
FINAL = {"failed"}

# The value the webhook parses lives beside it (messaging); named here for the use case.
__all__ = ["FINAL", "Receipt", "apply_receipt"]


async def apply_receipt(
    sessions: SessionMaker, receipt: Receipt, *, available: Collection[str], now: datetime
) -> bool:
    """Update the message; False when no message has this provider id."""
    async with sessions() as session, session.begin():
        message = await session.scalar(
            select(Message).where(
                Message.provider_id == receipt.provider_id,
                Message.channel.in_(receipt.channels),
                Message.direction == "out",
            )
        )
        if message is None:
            return False
        if message.status in FINAL:
            return True
        if receipt.status == "failed":
            case = None
            if message.case_id is not None:
                case = await session.scalar(
                    select(Case)
                    .where(Case.id == message.case_id)
                    .options(selectinload(Case.tenant).selectinload(Tenant.contact_points))
                )
            point = (
                await session.get(ContactPoint, message.contact_point_id)
                if message.contact_point_id is not None
                else None
            )
            error = receipt.error or SendError("the provider reported the message failed")
            await record_failure(session, message, case, point, error, available, now)
            return True
        if _RANK.get(receipt.status, -1) > _RANK.get(message.status, -1):
            message.status = receipt.status
            if receipt.status in ("delivered", "read") and message.case_id is not None:
                case_ops.add_event(
                    session,
                    message.case_id,
                    f"message_{receipt.status}",
                    now,
                    message_id=message.id,
                    channel=message.channel,
                )
        return True
