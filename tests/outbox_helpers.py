"""Filling the outbox for delivery tests: tenants from a real import, then due SMS messages
written the way the tick and the inbox write them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.runtime import Runtime
from messaging.outbox import insert_outbound, outbound
from messaging.routing import Reachable
from storage.models import Case, ContactPoint
from tests.factories import arrears_csv, phone_for, row


async def due_sms(
    runtime: Runtime, count: int, due: datetime, *, respect_quiet_hours: bool = True
) -> list[str]:
    """``count`` tenants, each with one SMS due at ``due``; returns their addresses."""
    # The list is of the runtime's today: some of these runtimes run on the real clock, and a
    # list from the future is refused.
    today = runtime.clock.now().astimezone(runtime.policy.tz).strftime("%d-%m-%Y")
    rows = [
        row(f"D{i}", name=f"Huurder {i}", phone=phone_for(i), as_of=today) for i in range(count)
    ]
    await runtime.import_data(arrears_csv(*rows), f"due-{count}.csv")
    async with runtime.sessions() as session, session.begin():
        points = list(
            await session.execute(
                select(ContactPoint, Case.id)
                .join(Case, Case.tenant_id == ContactPoint.tenant_id)
                .where(ContactPoint.channel == "sms")
                .order_by(ContactPoint.id)
            )
        )
        queued = [
            outbound(
                route=Reachable(point.id, "sms", point.address, point.verified, point.shared),
                template="reminder_friendly",
                language="nl",
                context={
                    "name": "Huurder",
                    "corporation": "Wonen",
                    "phone": "088",
                    "balance": "€ 650,00",
                },
                kind="reminder" if respect_quiet_hours else "reply",
                now=due,
                case_id=case_id,
                tenant_id=point.tenant_id,
                stage=0,
                idempotency_key=f"test:{point.id}:first",
                respect_quiet_hours=respect_quiet_hours,
            )
            for point, case_id in points
        ]
        await insert_outbound(session, queued)
    return [point.address for point, _ in points]
