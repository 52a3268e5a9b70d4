"""What tenants read, through the real runtime: the greeting the policy asks for, amounts and
dates in their language, a subject that names the month, no second plan offered."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

from bot.runtime import Runtime
from messaging.channels.base import InboundMessage
from messaging.channels.telegram import keyboard
from rules.clock import ManualClock
from rules.policy import parse_policy
from storage import cases as case_ops
from storage.models import Case
from tests.db_helpers import cases, messages
from tests.factories import arrears_csv, row

ANNA = "+31612345678"
DEFAULT_POLICY = resources.files("rules").joinpath("default_policy.toml").read_text("utf-8")


async def say(runtime: Runtime, text: str, provider_id: str) -> None:
    await runtime.receive(InboundMessage("whatsapp", ANNA, text, provider_id, runtime.clock.now()))


async def first_reminder(runtime: Runtime, clock: ManualClock) -> None:
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()


async def test_a_neutral_greeting_leaves_the_name_out(runtime: Runtime, clock: ManualClock) -> None:
    runtime.policy = parse_policy(
        DEFAULT_POLICY.replace('greeting = "name"', 'greeting = "neutral"')
    )
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await first_reminder(runtime, clock)
    (reminder,) = await messages(runtime, direction="out", kind="reminder")
    assert reminder.body.startswith("Beste huurder,\n\n")
    assert "Anna" not in reminder.body and "€ 650,00" in reminder.body


async def test_the_reminder_email_names_the_month(runtime: Runtime, clock: ManualClock) -> None:
    await runtime.import_data(arrears_csv(row("T1", phone="", email="anna@example.nl")), "d1")
    await first_reminder(runtime, clock)
    (reminder,) = await messages(runtime, direction="out", kind="reminder")
    assert reminder.channel == "email"
    assert reminder.subject == "Uw huur van december"
    assert reminder.body.startswith("Beste Anna de Vries,\n\n")


async def test_an_english_tenant_reads_english_amounts_and_dates(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", language="en")), "d1.csv")
    await first_reminder(runtime, clock)
    (reminder,) = await messages(runtime, direction="out", kind="reminder")
    assert reminder.body.startswith("Dear Anna de Vries,\n\n") and "€650.00" in reminder.body
    await say(runtime, "I can pay 100 euro a month", "en-1")
    (confirm,) = await messages(runtime, direction="out", template="reply_plan_confirm")
    assert "6 payments of €100.00 and 1 payment of €50.00" in confirm.body
    assert "1 January 2027" in confirm.body and "1 July 2027" in confirm.body


async def test_a_tenant_with_an_agreed_plan_is_not_offered_another(
    runtime: Runtime, clock: ManualClock
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"payment_iban": "NL00BANK0123456789"})
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await say(runtime, "ik kan 100 euro per maand", "p-1")
    await say(runtime, "JA", "p-2")
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan")
    # Asked where to pay, the tenant is not pointed to a new plan.
    await say(runtime, "Hoeveel moet ik betalen?", "p-3")
    (details,) = await messages(runtime, direction="out", template="reply_payment_details")
    assert "€ 650,00" in details.body and "Stuur 1" not in details.body
    # A consultant pauses the case for a day; when the pause ends the reminders go on, and
    # the plan agreed is still running.
    async with runtime.sessions() as session, session.begin():
        paused = await session.get_one(Case, case.id)
        until = clock.now() + timedelta(days=1)
        case_ops.pause(session, paused, "consultant", clock.now(), until=until)
    await first_reminder(runtime, clock)
    (reminder,) = await messages(runtime, direction="out", kind="reminder")
    assert "2 = ik wil hulp" in reminder.body and "3 = ik heb al betaald" in reminder.body
    assert "1 =" not in reminder.body
    # The digits keep their meaning: 3 is still "I paid".
    await say(runtime, "3", "p-4")
    assert (await cases(runtime))[0].pause_reason == "paid"


def test_telegram_shows_no_plan_button_to_a_tenant_with_a_plan() -> None:
    with_plan = keyboard("reminder_friendly", "nl", has_plan=True)
    without = keyboard("reminder_friendly", "nl")
    assert with_plan is not None and without is not None
    assert [row[0].text for row in with_plan.inline_keyboard] == ["Ik wil hulp", "Al betaald"]
    assert without.inline_keyboard[0][0].text == "Betaalafspraak"
