"""Objections to the municipal early signal, however the tenant made them. A consultant
records one (by phone, by email, by letter, at the door or in the chat) or its withdrawal:
each is an event in the case's record under the consultant's name, with how and when the
tenant made it and a short note. The tenant's own BEZWAAR in a message is an "objection"
event too (handlers/conversation/escalation.py). Which one stands is
rules.early_signal.standing_objection; the signals page, the export, the case page, the
dossier and the record all read it from here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.early_signal import OBJECTION_WAYS, ObjectionMark, standing_objection
from storage import cases as case_ops
from storage.models import Case, CaseEvent, Message, User
from workplace import words
from workplace.actions import ActionError
from workplace.phrasing import Say
from workplace.timeline_words import Line, describe

OBJECTION = "objection"
WITHDRAWN = "objection_withdrawn"
KINDS = (OBJECTION, WITHDRAWN)
# A note says what the tenant said in a line or two; the rest belongs in their own letter.
NOTE_LIMIT = 500


def _made_at(event: CaseEvent) -> datetime:
    """When the tenant made it: what the consultant gave, else when it was recorded (the
    tenant's own message is recorded as it comes in)."""
    text = event.data.get("at")
    if isinstance(text, str):
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            found = None
        if found is not None and found.tzinfo is not None:
            return found
    return event.at


def _how(event: CaseEvent, channels: Mapping[int, str]) -> str:
    """How it was made: as recorded; for the tenant's own message, by email when it came by
    email, else in the chat."""
    how = event.data.get("how")
    if isinstance(how, str) and how in OBJECTION_WAYS:
        return how
    return "email" if channels.get(event.data.get("message_id") or 0) == "email" else "chat"


def marked(
    events: Iterable[CaseEvent], channels: Mapping[int, str]
) -> list[tuple[CaseEvent, ObjectionMark]]:
    """The case's objections and withdrawals with their events, in the order the rule
    weighs them (the last one is the one that counts). `channels`: message id → channel."""
    found = [
        (
            event,
            ObjectionMark(
                withdrawn=event.kind == WITHDRAWN,
                at=_made_at(event),
                order=event.id,
                how=_how(event, channels),
                by=event.actor,
            ),
        )
        for event in events
        if event.kind in KINDS
    ]
    found.sort(key=lambda pair: (pair[1].at, pair[1].order))
    return found


async def message_channels(session: AsyncSession, events: Iterable[CaseEvent]) -> dict[int, str]:
    """The channel of each tenant's message an objection event points to."""
    ids = {
        event.data["message_id"]
        for event in events
        if event.kind in KINDS and isinstance(event.data.get("message_id"), int)
    }
    if not ids:
        return {}
    rows = await session.execute(
        select(Message.id, Message.channel).where(Message.id.in_(sorted(ids)))
    )
    return {message_id: channel for message_id, channel in rows}


def standing_by_case(
    events: Iterable[CaseEvent], channels: Mapping[int, str]
) -> dict[int, ObjectionMark]:
    """Each case's objection that stands now; a case without one is not in it."""
    by_case: dict[int, list[CaseEvent]] = {}
    for event in events:
        if event.kind in KINDS:
            by_case.setdefault(event.case_id, []).append(event)
    result = {}
    for case_id, found in by_case.items():
        standing = standing_objection(mark for _, mark in marked(found, channels))
        if standing is not None:
            result[case_id] = standing
    return result


def _moment(day: str, hour: str, *, since: date, now: datetime, tz: tzinfo) -> datetime:
    """When the tenant made it, from the form: a day (today when empty) and a time (now
    when today and empty, else the start of office hours, as a logged contact). Never in
    the future, never before the arrears began."""
    today = now.astimezone(tz).date()
    try:
        chosen = date.fromisoformat(day) if day else today
        clock = time.fromisoformat(hour) if hour else None
    except ValueError as error:
        raise ActionError("give a date as yyyy-mm-dd") from error
    if chosen > today:
        raise ActionError("the date and time cannot be in the future")
    if chosen < since:
        raise ActionError("the date is before the arrears began")
    if clock is None:
        return now if chosen == today else datetime.combine(chosen, time(9, 0), tzinfo=tz)
    moment = datetime.combine(chosen, clock.replace(tzinfo=None), tzinfo=tz)
    if moment > now:
        raise ActionError("the date and time cannot be in the future")
    return moment


async def record(
    session: AsyncSession,
    case: Case,
    user: User,
    *,
    kind: str,
    how: str,
    day: str,
    hour: str,
    note: str,
    now: datetime,
    tz: tzinfo,
) -> None:
    """An objection the tenant made, or its withdrawal, as a consultant heard it. Every
    check comes before anything is written. A withdrawal needs an objection that stands,
    made before it: one that would not lift it is refused rather than kept as if it did."""
    if kind not in ("objection", "withdrawal"):  # the form's two buttons
        raise ActionError("record an objection or its withdrawal")
    withdrawn = kind == "withdrawal"
    if how not in OBJECTION_WAYS:
        raise ActionError("choose how the tenant told us")
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise ActionError("keep the note to 500 characters")
    made = _moment(day, hour, since=case.arrears_since, now=now, tz=tz)
    if withdrawn:
        events = list(
            await session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(KINDS))
            )
        )
        channels = await message_channels(session, events)
        standing = standing_objection(mark for _, mark in marked(events, channels))
        if standing is None:
            raise ActionError("there is no objection to withdraw")
        if made < standing.at:
            raise ActionError("the objection was made later; a withdrawal must come after it")
    # The note is the tenant's business: it is kept in the record, never written to a log.
    case_ops.add_event(
        session,
        case.id,
        "objection_withdrawn" if withdrawn else "objection",
        now,
        user.username,
        how=how,
        at=made.astimezone(UTC).isoformat(),
        note=note,
    )
    case_ops.touch(case)


@dataclass(frozen=True)
class ObjectionState:
    """What the case page says about objections: the one that stands, a sentence on where
    things are, and every objection and withdrawal as the timeline words it."""

    standing: ObjectionMark | None
    status: str
    history: list[Line]


def _status(latest: ObjectionMark | None, say: Say) -> str:
    if latest is None:
        return say("Geen bezwaar vastgelegd.", "No objection recorded.")
    how = words.word(words.OBJECTION_WAYS, latest.how, say.language)
    moment = say.moment(latest.at.isoformat())
    if latest.withdrawn:
        return say(
            "Geen bezwaar: {how} ingetrokken op {moment}.",
            "No objection: withdrawn {how} on {moment}.",
        ).format(how=how, moment=moment)
    return say(
        "Er staat een bezwaar: {how} gemaakt op {moment}. Er gaat geen signaal naar de gemeente.",
        "An objection stands: made {how} on {moment}. No signal goes to the municipality.",
    ).format(how=how, moment=moment)


def _shown(event: CaseEvent, mark: ObjectionMark) -> dict[str, Any]:
    """The event's data with how and when filled in for the tenant's own message."""
    return {**event.data, "how": mark.how, "at": mark.at.isoformat()}


def state(
    events: Sequence[CaseEvent], messages: Sequence[Message], language: str, tz: tzinfo
) -> ObjectionState:
    say = Say(language, tz)
    found = marked(events, {message.id: message.channel for message in messages})
    latest = found[-1][1] if found else None
    history = [
        Line(
            event.at,
            describe(event.kind, _shown(event, mark), say),
            words.actor(event.actor, language),
        )
        for event, mark in found
    ]
    return ObjectionState(
        standing_objection([latest] if latest else []), _status(latest, say), history
    )


def dossier_part(events: Sequence[CaseEvent], messages: Sequence[Message]) -> dict[str, Any]:
    """For the dossier and its JSON: whether an objection stands, and each one made or
    withdrawn (how, when, recorded by whom and when). The consultants' notes stay in the
    record: a partner needs to know that the tenant objected, not what was said."""
    found = marked(events, {message.id: message.channel for message in messages})
    return {
        "standing": standing_objection(mark for _, mark in found) is not None,
        "history": [
            {
                "kind": "withdrawal" if mark.withdrawn else "objection",
                "how": mark.how,
                "made_at": mark.at.isoformat(),
                "recorded_at": event.at.isoformat(),
                "by": mark.by,
            }
            for event, mark in found
        ],
    }
