"""What the queue, the case page, the dossier and the record show besides the rows
themselves: the formatting and the words for one consultant's language, the timeline as
sentences, the plan's real state and the charts. Pure: loaded rows in, template values out;
the handlers (workplace/*_routes.py) only add what needs the request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from messaging.routing import Reachable
from storage.models import CaseEvent, Message
from workplace import objections, sending, words
from workplace.charts import balance_chart
from workplace.dossier import balance_changes
from workplace.formats import Formats, local_short
from workplace.plan_state import dossier_plan_state, instalments, plan_state, tracked_plan
from workplace.queries import CaseView
from workplace.timeline_words import timeline
from workplace.words import Vocabulary


def wording(language: str, tz: tzinfo) -> dict[str, Any]:
    """Times, amounts and codes as the consultant reads them (`fmt`, `words`)."""
    return {"fmt": Formats(language, tz), "words": Vocabulary(language)}


@dataclass(frozen=True)
class Bubble:
    """One message in the case page's conversation."""

    direction: str  # "in" or "out"
    channel: str  # the code, for the badge's colour
    channel_words: str
    when: str  # when the tenant wrote, or when ours went; "wacht op verzending" if not yet
    status: str  # ours: sent, delivered, read or failed, in words
    body: str


def conversation(
    messages: Sequence[Message], events: Sequence[CaseEvent], language: str, tz: tzinfo
) -> list[Bubble]:
    """What was said, in the order it reached the other side: the tenant's messages when
    they came in, ours when they went (a reply queued at night goes in the morning). One
    still in the outbox says so and comes last; it has not been said yet."""
    went = sending.moments(messages, events)
    shown: list[tuple[tuple[bool, datetime], Bubble]] = []
    for message in messages:
        waiting = message.direction == "out" and message.status in sending.NOT_SENT_YET
        at = message.created_at if message.direction == "in" else went.get(message.id)
        if waiting:
            when, status = words.not_sent_yet(language), ""
        else:
            when = local_short(at, tz, language)  # a failure without a time shows none
            status = words.status(message.status, language) if message.direction == "out" else ""
        bubble = Bubble(
            direction=message.direction,
            channel=message.channel,
            channel_words=words.channel(message.channel, language),
            when=when,
            status=status,
            body=message.body,
        )
        shown.append(((waiting, at or message.created_at), bubble))
    shown.sort(key=lambda item: item[0])
    return [bubble for _, bubble in shown]


def case_page(
    view: CaseView, language: str, tz: tzinfo, routes: Sequence[Reachable]
) -> dict[str, Any]:
    plan = tracked_plan(view.plans)
    return {
        **wording(language, tz),
        "chart": balance_chart(
            view.snapshots,
            plan=instalments(plan, view.events) if plan else (),
            language=language,
        ),
        "lines": timeline(view, language, tz),
        "conversation": conversation(view.messages, view.events, language, tz),
        "plan_states": {p.id: plan_state(p, language) for p in view.plans},
        "routes": routes,
        "objection": objections.state(view.events, view.messages, language, tz),
    }


def dossier_page(dossier: dict[str, Any], language: str, tz: tzinfo) -> dict[str, Any]:
    """For the dossier as it stands or as it was handed over (stored, maybe by older code)."""
    history = dossier["arrears"]["history"]
    return {
        **wording(language, tz),
        "changes": balance_changes(history),
        "plan_states": [dossier_plan_state(plan, language) for plan in dossier["plans"]],
        "chart": balance_chart(
            [(date.fromisoformat(row["date"]), int(row["balance_cents"])) for row in history],
            language=language,
        ),
    }


def record_page(view: CaseView, language: str, tz: tzinfo) -> dict[str, Any]:
    return {
        **wording(language, tz),
        "lines": timeline(view, language, tz),
        "objection": objections.state(view.events, view.messages, language, tz),
    }
