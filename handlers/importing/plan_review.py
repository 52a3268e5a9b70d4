"""An active payment plan held against the arrears list (the rule is rules.plans.review)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.arrears_file import ArrearsRow
from rules.plans import PlanTerms, review
from rules.policy import PlanRules
from storage import cases as case_ops
from storage.models import Case, PaymentPlan


def track_plan(
    session: AsyncSession,
    case: Case,
    plan: PaymentPlan,
    row: ArrearsRow,
    rules: PlanRules,
    event: Callable[..., None],
    now: datetime,
) -> bool:
    """Hold an active plan against today's list: kept instalments pass quietly, the first
    miss gets a friendly nudge (True: send one), ``misses_to_break`` misses break it for a
    consultant."""
    terms = PlanTerms(plan.amount_cents, plan.months, plan.total_cents, plan.first_due)
    outcomes = review(
        terms, plan.checked_instalments, row.balance_cents, row.as_of, rules.grace_days
    )
    for offset, kept in enumerate(outcomes):
        index = plan.checked_instalments + offset
        event(
            case.id,
            "instalment_kept" if kept else "instalment_missed",
            plan_id=plan.id,
            instalment=index + 1,
        )
        if not kept:
            plan.misses += 1
    plan.checked_instalments += len(outcomes)
    if not outcomes or all(outcomes):
        return False
    if plan.misses >= rules.misses_to_break:
        plan.status = "broken"
        event(case.id, "plan_broken", plan_id=plan.id, misses=plan.misses)
        case_ops.escalate(
            session,
            case,
            "plan_broken",
            now,
            row.monthly_rent_cents,
            actor="import",
            plan_id=plan.id,
            misses=plan.misses,
        )
        return False
    return True
