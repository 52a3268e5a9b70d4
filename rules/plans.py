"""Payment plans: the terms that follow from what a tenant offers, and whether the policy
lets the bot agree them alone. Pure: plain values in, plain values out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rules.policy import PlanRules


@dataclass(frozen=True)
class PlanTerms:
    amount_cents: int  # per month, on top of the rent
    months: int
    total_cents: int
    first_due: date

    @property
    def last_amount_cents(self) -> int:
        return self.total_cents - self.amount_cents * (self.months - 1)

    def schedule(self) -> list[tuple[date, int]]:
        """Instalment dates (monthly from the first) and amounts; the last one is the rest."""
        dates = [_add_months(self.first_due, i) for i in range(self.months)]
        amounts = [self.amount_cents] * (self.months - 1) + [self.last_amount_cents]
        return list(zip(dates, amounts, strict=True))


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, 28))


def first_rent_day_after(today: date) -> date:
    """Instalments fall with the rent, on the first of the month."""
    return _add_months(today.replace(day=1), 1)


def terms_for(
    balance_cents: int,
    *,
    today: date,
    amount_cents: int | None = None,
    months: int | None = None,
    pay_date: date | None = None,
) -> PlanTerms | None:
    """The plan a tenant's offer implies, or None when they named neither amount nor months."""
    if balance_cents <= 0:
        return None
    first_due = (
        pay_date if pay_date is not None and pay_date > today else first_rent_day_after(today)
    )
    if amount_cents is not None and amount_cents > 0:
        amount = min(amount_cents, balance_cents)
        count = -(-balance_cents // amount)  # ceiling division
        return PlanTerms(amount, count, balance_cents, first_due)
    if months is not None and months > 0:
        # Whole euros per month; the last instalment takes what is left.
        amount = -(-balance_cents // months)
        amount = -(-amount // 100) * 100
        count = -(-balance_cents // amount)
        return PlanTerms(amount, count, balance_cents, first_due)
    return None


def outside_policy(terms: PlanTerms, rules: PlanRules, self_service_last_year: int) -> list[str]:
    """Why a consultant must decide; empty when the bot may agree the plan itself."""
    reasons = []
    if terms.amount_cents < rules.min_instalment_cents and terms.months > 1:
        reasons.append("below_minimum_instalment")
    if terms.months > rules.max_months:
        reasons.append("too_many_months")
    if self_service_last_year >= rules.self_service_per_12_months:
        reasons.append("self_service_limit")
    return reasons


def review(
    terms: PlanTerms,
    checked: int,
    balance_cents: int,
    as_of: date,
    grace_days: int,
    tolerance_cents: int = 100,
) -> list[bool]:
    """Instalments that fell due (plus grace) since the last review, in order: True if the
    list shows it paid. The balance may not exceed what is left after the instalments so far;
    new rent on the list is not an instalment missed until the grace has passed."""
    outcomes = []
    schedule = terms.schedule()
    for index in range(checked, len(schedule)):
        due, _ = schedule[index]
        if (as_of - due).days < grace_days:
            break
        paid_so_far = sum(amount for _, amount in schedule[: index + 1])
        outcomes.append(balance_cents <= terms.total_cents - paid_so_far + tolerance_cents)
    return outcomes
