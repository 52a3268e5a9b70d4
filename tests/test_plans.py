"""Payment plans: pure terms and policy, then agreed or handed over in a conversation."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from rules.plans import PlanTerms, outside_policy, review, terms_for
from rules.policy import PlanRules
from storage.models import PaymentPlan
from tests.db_helpers import cases, events, messages
from tests.factories import arrears_csv, row

RULES = PlanRules()
TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("offer", "expected"),
    [
        ({"amount_cents": 10000}, PlanTerms(10000, 7, 65000, date(2027, 1, 1))),
        ({"amount_cents": 65000}, PlanTerms(65000, 1, 65000, date(2027, 1, 1))),
        ({"amount_cents": 90000}, PlanTerms(65000, 1, 65000, date(2027, 1, 1))),
        ({"months": 6}, PlanTerms(10900, 6, 65000, date(2027, 1, 1))),
        (
            {"months": 3, "pay_date": date(2026, 12, 15)},
            PlanTerms(21700, 3, 65000, date(2026, 12, 15)),
        ),
        ({}, None),
    ],
)
def test_terms_follow_from_the_offer(offer: dict[str, object], expected: PlanTerms | None) -> None:
    assert terms_for(65000, today=TODAY, **offer) == expected  # type: ignore[arg-type]


def test_schedule_is_monthly_with_the_rest_last() -> None:
    terms = PlanTerms(10000, 7, 65000, date(2027, 1, 1))
    schedule = terms.schedule()
    assert schedule[0] == (date(2027, 1, 1), 10000)
    assert schedule[-1] == (date(2027, 7, 1), 5000)
    assert sum(amount for _, amount in schedule) == 65000


@pytest.mark.parametrize(
    ("terms", "earlier", "reasons"),
    [
        (PlanTerms(5000, 13, 65000, TODAY), 0, ["too_many_months"]),
        (PlanTerms(2000, 4, 8000, TODAY), 0, ["below_minimum_instalment"]),
        (PlanTerms(2000, 1, 2000, TODAY), 0, []),  # paying it all at once is always fine
        (PlanTerms(10000, 7, 65000, TODAY), 1, ["self_service_limit"]),
        (PlanTerms(10000, 7, 65000, TODAY), 0, []),
    ],
)
def test_policy(terms: PlanTerms, earlier: int, reasons: list[str]) -> None:
    assert outside_policy(terms, RULES, earlier) == reasons


_ids = itertools.count()


async def say(runtime: Runtime, text: str) -> None:
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", text, f"p-{next(_ids)}", runtime.clock.now())
    )


async def test_a_plan_within_policy_is_agreed_and_stops_the_reminders(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await say(runtime, "1")
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan_dialogue")
    assert case.paused_until == clock.now() + timedelta(days=7)
    ask = (await messages(runtime, direction="out", template="reply_plan_ask"))[0]
    assert "Hoeveel" in ask.body
    await say(runtime, "60")
    (confirm,) = await messages(runtime, direction="out", template="reply_plan_confirm")
    assert "10 keer € 60,00 en 1 keer € 50,00" in confirm.body and "Stuur JA" in confirm.body
    async with runtime.sessions() as session:
        assert list(await session.scalars(select(PaymentPlan))) == []
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan_dialogue")
    await say(runtime, "Ja, dat is goed!")
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason, case.next_action_at) == ("paused", "plan", None)
    async with runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    assert (plan.status, plan.amount_cents, plan.months, plan.decided_by) == (
        "active",
        6000,
        11,
        "policy",
    )
    (agreed,) = await messages(runtime, direction="out", template="reply_plan_agreed")
    assert "10 keer € 60,00 en 1 keer € 50,00" in agreed.body
    assert "1 januari 2027" in agreed.body
    assert "€ 650,00" in agreed.body and "naast de huur" in agreed.body
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert kinds.index("plan_offered") < kinds.index("plan_agreed")
    assert "escalated" not in kinds
    await say(runtime, "ok top, bedankt")  # no answer needed, and no consultant
    assert (await cases(runtime))[0].status == "paused"
    assert len(await messages(runtime, direction="out", kind="reply")) == 3
    clock.advance(timedelta(days=30))
    assert (await runtime.tick()).queued == 0


async def test_a_second_self_service_plan_within_a_year_goes_to_a_consultant(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await say(runtime, "ik kan 100 euro per maand")
    await say(runtime, "ja")
    clock.advance(timedelta(days=1))
    await runtime.import_data(arrears_csv(row("T1", balance="0", as_of="02-12-2026")), "d2.csv")
    clock.advance(timedelta(days=60))
    await runtime.import_data(arrears_csv(row("T1", balance="300", as_of="01-02-2027")), "d3.csv")
    await say(runtime, "ik kan 100 euro per maand")
    latest = (await cases(runtime))[-1]
    assert latest.escalation_reason == "plan_request"
    async with runtime.sessions() as session:
        plans = [
            (p.status, p.source)
            for p in await session.scalars(select(PaymentPlan).order_by(PaymentPlan.id))
        ]
    assert plans == [("completed", "tenant"), ("proposed", "tenant")]


async def test_instalments_are_tracked_kept_nudged_then_broken(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await say(runtime, "ik kan 100 euro per maand")  # 7 instalments from 1 January
    await say(runtime, "JA")

    async def day_list(as_of: str, balance: str) -> None:
        # That day's morning list: a list dated after tomorrow is refused.
        day = datetime.strptime(as_of, "%d-%m-%Y").replace(hour=7, tzinfo=UTC)
        clock.current = max(clock.now() + timedelta(days=1), day)
        await runtime.import_data(arrears_csv(row("T1", balance=balance, as_of=as_of)), as_of)

    # New rent on the 2nd is no miss: the instalment's grace runs to the 6th.
    await day_list("02-01-2027", "1.300,00")
    await day_list("06-01-2027", "550,00")  # January's 100 paid
    await day_list("06-02-2027", "550,00")  # February's missed: a friendly nudge
    (case,) = await cases(runtime)
    assert case.status == "paused"
    (nudge,) = await messages(runtime, direction="out", template="plan_nudge")
    assert "€ 100,00" in nudge.body and nudge.kind == "notice"
    await day_list("07-02-2027", "550,00")  # the same miss is not counted twice
    await day_list("06-03-2027", "550,00")  # March missed too: a consultant takes over
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "plan_broken")
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert kinds.count("instalment_kept") == 1 and kinds.count("instalment_missed") == 2
    assert len(await messages(runtime, direction="out", template="plan_nudge")) == 1
    async with runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    assert (plan.status, plan.checked_instalments, plan.misses) == ("broken", 3, 2)


def test_review_waits_for_the_grace_and_checks_each_instalment_once() -> None:
    terms = PlanTerms(10000, 7, 65000, date(2027, 1, 1))
    assert review(terms, 0, 130000, date(2027, 1, 5), grace_days=5) == []
    assert review(terms, 0, 55000, date(2027, 1, 6), grace_days=5) == [True]
    assert review(terms, 1, 55000, date(2027, 3, 6), grace_days=5) == [False, False]
    assert review(terms, 0, 45000, date(2027, 2, 6), grace_days=5) == [True, True]


async def test_an_english_tenants_nudge_writes_the_amount_as_they_read_it(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", language="en")), "d1.csv")
    await say(runtime, "I can pay 100 euro a month")
    await say(runtime, "YES")
    for as_of, balance in (("06-01-2027", "550,00"), ("06-02-2027", "550,00")):
        day = datetime.strptime(as_of, "%d-%m-%Y").replace(hour=7, tzinfo=UTC)
        clock.current = max(clock.now() + timedelta(days=1), day)
        await runtime.import_data(
            arrears_csv(row("T1", balance=balance, as_of=as_of, language="en")), as_of
        )
    (nudge,) = await messages(runtime, direction="out", template="plan_nudge")
    assert "€100.00" in nudge.body and "€ 100,00" not in nudge.body
