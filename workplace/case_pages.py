"""What the queue, the case page, the dossier and the record show besides the rows
themselves: the formatting and the words for one consultant's language, the timeline as
sentences, the plan's real state and the charts. Pure: loaded rows in, template values out;
workplace/web.py only adds what needs the request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

from messaging.routing import Reachable
from workplace.charts import balance_chart
from workplace.dossier import balance_changes
from workplace.formats import Formats
from workplace.plan_state import dossier_plan_state, instalments, plan_state, tracked_plan
from workplace.queries import CaseView
from workplace.timeline_words import timeline
from workplace.words import Vocabulary


def wording(language: str, tz: tzinfo) -> dict[str, Any]:
    """Times, amounts and codes as the consultant reads them (`fmt`, `words`)."""
    return {"fmt": Formats(language, tz), "words": Vocabulary(language)}


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
        "plan_states": {p.id: plan_state(p, language) for p in view.plans},
        "routes": routes,
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
    return {**wording(language, tz), "lines": timeline(view, language, tz)}
