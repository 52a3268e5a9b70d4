"""Where a payment plan really stands, read from its tracking (instalments checked against
the daily lists, misses) rather than its status alone: an active plan with a missed
instalment is behind, not running."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from rules.plans import PlanTerms
from storage.models import CaseEvent, PaymentPlan
from workplace import formats


@dataclass(frozen=True)
class Instalment:
    number: int  # 1-based
    due: date
    amount_cents: int
    expected_after_cents: int  # what the arrears should be once it is paid
    kept: bool | None  # None: not checked yet


def _count(n: int, dutch: tuple[str, str], english: tuple[str, str], language: str) -> str:
    one, many = english if language == "en" else dutch
    return f"{n} {one if n == 1 else many}"


def plan_state(plan: PaymentPlan, language: str) -> str:
    """ "Achter: 1 termijn gemist", "Loopt: 2 van 6 termijnen betaald", …"""
    return state_words(
        plan.status, plan.misses, plan.checked_instalments, plan.months, plan.first_due, language
    )


def dossier_plan_state(plan: Mapping[str, Any], language: str) -> str:
    """The same for a plan as the dossier keeps it."""
    return state_words(
        str(plan.get("status")),
        int(plan.get("instalments_missed") or 0),
        int(plan.get("instalments_checked") or 0),
        int(plan.get("months") or 0),
        date.fromisoformat(str(plan["first_due"])),
        language,
    )


def state_words(
    status: str, misses: int, checked: int, months: int, first_due: date, language: str
) -> str:
    """The plan's state in words; its status alone says "active" when it is behind."""
    english = language == "en"

    def say(dutch: str, in_english: str) -> str:
        return in_english if english else dutch

    missed = _count(misses, ("termijn", "termijnen"), ("instalment", "instalments"), language)
    missed += say(" gemist", " missed")
    kept = max(checked - misses, 0)
    if status == "proposed":
        return say("Voorgesteld: wacht op een besluit", "Proposed: awaiting a decision")
    if status == "rejected":
        return say("Afgewezen", "Rejected")
    if status == "completed":
        return say("Afgerond: alles betaald", "Completed: all paid")
    if status == "broken":
        return say("Niet nagekomen: ", "Broken: ") + missed
    if misses:
        return (
            say("Achter: ", "Behind: ")
            + missed
            + (say(", {n} betaald", ", {n} paid").format(n=kept) if kept else "")
        )
    if checked:
        return say(
            "Loopt: {k} van {n} termijnen betaald", "Running: {k} of {n} instalments paid"
        ).format(k=kept, n=months)
    return say("Loopt: eerste termijn op ", "Running: first instalment on ") + formats.long_day(
        first_due, language
    )


def instalments(plan: PaymentPlan, events: Sequence[CaseEvent]) -> list[Instalment]:
    """The plan's schedule with what the lists showed for each instalment so far."""
    terms = PlanTerms(plan.amount_cents, plan.months, plan.total_cents, plan.first_due)
    seen: dict[int, bool] = {}
    for event in events:
        if event.kind in ("instalment_kept", "instalment_missed") and (
            event.data.get("plan_id") == plan.id
        ):
            seen[int(event.data.get("instalment", 0))] = event.kind == "instalment_kept"
    result, left = [], plan.total_cents
    for number, (due, amount) in enumerate(terms.schedule(), start=1):
        left -= amount
        result.append(Instalment(number, due, amount, max(left, 0), seen.get(number)))
    return result


def tracked_plan(plans: Sequence[PaymentPlan]) -> PaymentPlan | None:
    """The plan the balance is held against: the latest agreed one."""
    agreed = [plan for plan in plans if plan.status in ("active", "broken", "completed")]
    return agreed[-1] if agreed else None
