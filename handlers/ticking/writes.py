"""A batch's outcomes written with one statement per table: invites, messages, events,
and the cases' new columns (one executemany per shape of change)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.ticking.outcome import Outcome, TickResult, event
from messaging.outbox import insert_outbound_rows
from storage.models import Base, Case, CaseEvent, LinkToken
from storage.sql import insert_many, update_many

_CASES = Base.metadata.tables[Case.__tablename__]
_EVENTS = Base.metadata.tables[CaseEvent.__tablename__]
_TOKENS = Base.metadata.tables[LinkToken.__tablename__]


async def write(
    session: AsyncSession, outcomes: Sequence[Outcome], now: datetime, result: TickResult
) -> None:
    tokens = [out.token for out in outcomes if out.token is not None]
    await insert_many(session, _TOKENS, tokens)
    sending = [(out.case_id, out.message) for out in outcomes if out.message is not None]
    # The unique key per stage drops a stage queued before (a doubled tick, another
    # process): only what went in now gets its event.
    queued = await insert_outbound_rows(session, [message.row for _, message in sending])
    events = [row for out in outcomes for row in out.events]
    for case_id, message in sending:
        message_id = queued.get(message.row["idempotency_key"])
        if message_id is None:
            continue
        events.append(
            event(
                case_id,
                "reminder_queued",
                now,
                stage=message.stage,
                channel=message.row["channel"],
                message_id=message_id,
            )
        )
        result.queued += 1
        result.by_stage[message.stage] += 1
    await insert_many(session, _EVENTS, events)
    await _update_cases(session, outcomes)
    result.cases += len(outcomes)
    result.escalated += sum(out.escalated for out in outcomes)


async def _update_cases(session: AsyncSession, outcomes: Sequence[Outcome]) -> None:
    """The cases' new columns, one statement per shape of change (a stage sent, a pause
    ended, an escalation…); the claim holds their rows."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for out in outcomes:
        if out.changes:
            shapes[tuple(sorted(out.changes))].append({"id": out.case_id, **out.changes})
    for rows in shapes.values():
        await update_many(session, _CASES, rows)
