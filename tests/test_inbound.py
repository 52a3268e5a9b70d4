"""Tenants' replies: stored once, matched, understood, answered, and acted on."""

from __future__ import annotations

import itertools
from datetime import timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.runtime import Runtime
from handlers.inbound import InboundResult
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from rules.policy import parse_policy
from storage.models import CaseEvent, PaymentPlan
from tests.db_helpers import cases, events, messages
from tests.factories import HEADER, arrears_csv, row
from workplace.timeline_words import Say, describe

ANNA = "+31612345678"
DEFAULT_POLICY = resources.files("rules").joinpath("default_policy.toml").read_text("utf-8")
_ids = itertools.count()


async def say(
    runtime: Runtime,
    text: str,
    channel: str = "whatsapp",
    address: str = ANNA,
    provider_id: str | None = None,
) -> InboundResult:
    return await runtime.receive(
        InboundMessage(
            channel, address, text, provider_id or f"in-{next(_ids)}", runtime.clock.now()
        )
    )


async def reminded(runtime: Runtime, clock: ManualClock) -> None:
    await runtime.import_data(arrears_csv(row("T1", email="anna@example.nl")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()


async def test_help_goes_to_the_queue_with_high_priority(
    runtime: Runtime, clock: ManualClock
) -> None:
    await reminded(runtime, clock)
    result = await say(runtime, "Ik heb hulp nodig, ik ben ziek")
    assert result.matched and result.intent == "help"
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "help")
    assert case.escalation_priority and case.escalation_priority >= 80
    assert case.last_reply_at == clock.now()
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.channel == "whatsapp" and "medewerker" in answer.body
    assert not answer.respect_quiet_hours


async def test_crisis_words_get_the_highest_priority_and_the_crisis_line(
    runtime: Runtime, clock: ManualClock
) -> None:
    await reminded(runtime, clock)
    await say(runtime, "hulp, volgende week is de ontruiming")
    (case,) = await cases(runtime)
    assert case.escalation_reason == "crisis" and (case.escalation_priority or 0) >= 100
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert "113" in answer.body


async def test_paid_pauses_reminders_until_the_next_import(
    runtime: Runtime, clock: ManualClock
) -> None:
    await reminded(runtime, clock)
    await say(runtime, "3")
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason, case.next_action_at) == ("paused", "paid", None)
    # The next morning's list cannot show it yet ("that takes a few days"): no question.
    said_on = clock.now().astimezone(runtime.policy.tz)
    clock.advance(timedelta(days=1))
    await runtime.import_data(
        arrears_csv(row("T1", email="anna@example.nl", as_of=said_on.strftime("%d-%m-%Y"))),
        "next-morning.csv",
    )
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "paid")
    assert await messages(runtime, direction="out", template="paid_follow_up") == []
    clock.advance(timedelta(days=19))
    assert (await runtime.tick()).queued == 0
    await runtime.import_data(
        arrears_csv(row("T1", email="anna@example.nl", as_of="24-12-2026")), "d2.csv"
    )
    (case,) = await cases(runtime)
    assert case.status == "open" and case.next_action_at == clock.now()
    assert [e.kind for e in await events(runtime, case.id)][-1] == "resumed"
    (follow_up,) = await messages(runtime, direction="out", template="paid_follow_up")
    assert "nog niet" in follow_up.body and follow_up.kind == "notice"


async def test_a_plan_outside_policy_reaches_the_consultant_with_the_numbers(
    runtime: Runtime, clock: ManualClock
) -> None:
    await reminded(runtime, clock)
    await say(runtime, "Ik kan € 12,50 per maand betalen")
    (case,) = await cases(runtime)
    assert case.escalation_reason == "plan_request"
    escalated = [e for e in await events(runtime, case.id) if e.kind == "escalated"][-1]
    assert escalated.data["amount_cents"] == 1250 and escalated.data["months"] == 52
    assert escalated.data["reasons"] == ["below_minimum_instalment", "too_many_months"]
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert "€ 12,50" in answer.body and "medewerker" in answer.body


async def test_stop_stops_only_that_channel_and_confirms_once(
    runtime: Runtime, clock: ManualClock
) -> None:
    await reminded(runtime, clock)
    await say(runtime, "STOP", channel="sms")
    await say(runtime, "stop", channel="sms")
    confirmations = await messages(runtime, direction="out", template="optout_confirm")
    assert [(m.channel, m.address) for m in confirmations] == [("sms", ANNA)]
    await runtime.dispatch()
    (confirmation,) = await messages(runtime, direction="out", template="optout_confirm")
    assert confirmation.status == "sent"  # the confirmation itself still goes out
    clock.advance(timedelta(days=8))
    await runtime.tick()
    await runtime.dispatch()
    stage_two = await messages(runtime, direction="out", stage=1)
    assert [m.channel for m in stage_two] == ["whatsapp"]
    (case,) = await cases(runtime)
    assert case.status == "open"
    await say(runtime, "START", channel="sms")
    assert len(await messages(runtime, direction="out", template="optin_confirm")) == 1


async def test_an_unknown_sender_learns_nothing(runtime: Runtime, clock: ManualClock) -> None:
    await reminded(runtime, clock)
    result = await say(runtime, "hoeveel moet ik betalen?", address="+31687654321")
    assert not result.matched
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.address == "+31687654321" and answer.tenant_id is None
    assert "€" not in answer.body and "Anna" not in answer.body
    (stored,) = await messages(runtime, direction="in")
    assert stored.tenant_id is None and stored.body == "hoeveel moet ik betalen?"
    (case,) = await cases(runtime)
    assert case.status == "open"  # nothing happened to anyone's case
    # Writing again the same day gets no second answer (no loop with another bot); the
    # messages are all kept for a consultant.
    await say(runtime, "hallo??", address="+31687654321")
    assert len(await messages(runtime, direction="out", kind="reply")) == 1
    clock.advance(timedelta(days=1, minutes=1))
    await say(runtime, "hallo??", address="+31687654321")
    assert len(await messages(runtime, direction="out", kind="reply")) == 2
    assert len(await messages(runtime, direction="in", tenant_id=None)) == 3


async def shared_phone(runtime: Runtime) -> None:
    """Anna and her son Bob, each with their own arrears, list the same mobile number."""
    runtime.settings = runtime.settings.model_copy(update={"payment_iban": "NL00BANK0123456789"})
    await runtime.import_data(
        arrears_csv(
            row("T1", phone="06-12345678"),
            row("T2", name="Bob", phone="06-12345678", balance="80,00", postcode="7942 CD"),
        ),
        "d1.csv",
    )


async def test_an_address_shared_by_two_tenants_asks_who_writes_before_anything_personal(
    runtime: Runtime, clock: ManualClock
) -> None:
    await shared_phone(runtime)
    result = await say(runtime, "hoeveel moet ik betalen?", channel="sms")
    assert not result.matched
    (ask,) = await messages(runtime, direction="out", kind="reply")
    assert ask.template == "reply_verify_ask" and "postcode en huisnummer" in ask.body
    assert "€" not in ask.body and "Anna" not in ask.body and ask.tenant_id is None
    assert all(case.status == "open" for case in await cases(runtime))
    # Bob's postcode and house number: the question he asked first is answered, as his.
    result = await say(runtime, "7942cd, nr 12", channel="sms")
    assert result.matched
    answer = (await messages(runtime, direction="out", kind="reply"))[-1]
    assert answer.template == "reply_payment_details"
    assert "€ 80,00" in answer.body and "T2" in answer.body and "€ 650,00" not in answer.body
    first = (await messages(runtime, direction="in"))[0]
    (bob_case, anna_case) = sorted(await cases(runtime), key=lambda c: -c.id)
    assert first.case_id == bob_case.id and anna_case.status == "open"
    # For a while the number speaks for Bob, without asking again.
    await say(runtime, "hulp", channel="sms")
    assert (await cases(runtime))[-1].status == "escalated"
    clock.advance(timedelta(days=8))  # ...but not for ever
    await say(runtime, "hoeveel nog?", channel="sms")
    assert (await messages(runtime, direction="out", kind="reply"))[-1].template == (
        "reply_verify_ask"
    )


async def test_wrong_answers_to_who_writes_learn_nothing_and_run_out(
    runtime: Runtime, clock: ManualClock
) -> None:
    await shared_phone(runtime)
    await say(runtime, "hoeveel?", channel="sms")
    await say(runtime, "1234 XY 1", channel="sms")  # nobody of ours
    await say(runtime, "weet ik niet", channel="sms")
    await say(runtime, "7941 AB 13", channel="sms")  # the right street, not their house
    await say(runtime, "7941 AB 12", channel="sms")  # right, but too late: call us instead
    templates = [m.template for m in await messages(runtime, direction="out", kind="reply")]
    assert templates == [
        "reply_verify_ask",
        "reply_verify_failed",
        "reply_verify_failed",
        "reply_unknown_sender",  # once: the last try is not answered again the same day
    ]
    replies = await messages(runtime, direction="out", kind="reply")
    assert not any("€" in m.body or "Anna" in m.body for m in replies)
    assert all(m.tenant_id is None for m in await messages(runtime, direction="in"))
    clock.advance(timedelta(days=8))  # the question expires; they may try again
    await say(runtime, "hoeveel?", channel="sms")
    await say(runtime, "7941 AB 12", channel="sms")
    assert (await messages(runtime, direction="out", kind="reply"))[-1].template == (
        "reply_payment_details"
    )


async def test_reminders_to_a_shared_number_say_nothing_personal(
    runtime: Runtime, clock: ManualClock
) -> None:
    await shared_phone(runtime)
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    reminders = await messages(runtime, direction="out", kind="reminder")
    assert len(reminders) == 2  # each still learns the rent is late, and how to get help
    for reminder in reminders:
        assert "€" not in reminder.body and "Anna" not in reminder.body
        assert "Bob" not in reminder.body and "1 =" in reminder.body
    # Bob gets his own number: the next list makes both private again.
    clock.advance(timedelta(days=1))
    await runtime.import_data(
        arrears_csv(
            row("T1", phone="06-12345678", as_of="05-12-2026"),
            row("T2", name="Bob", phone="06-87654321", as_of="05-12-2026", postcode="7942 CD"),
        ),
        "d2.csv",
    )
    clock.advance(timedelta(days=7))
    await runtime.tick()
    later = (await messages(runtime, direction="out", kind="reminder"))[2:]
    assert later and all("€ 650,00" in m.body or "€ 80,00" in m.body for m in later)


async def test_stop_from_a_shared_address_needs_no_proof(
    runtime: Runtime, clock: ManualClock
) -> None:
    await shared_phone(runtime)
    await say(runtime, "STOP", channel="sms")
    confirmations = await messages(runtime, direction="out", template="optout_confirm")
    (confirmation,) = confirmations
    assert "€" not in confirmation.body
    for case in await cases(runtime):
        assert "opted_out" in [e.kind for e in await events(runtime, case.id)]
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    assert await messages(runtime, direction="out", kind="reminder", channel="sms") == []


async def test_a_replayed_message_is_processed_once(runtime: Runtime, clock: ManualClock) -> None:
    await reminded(runtime, clock)
    first = await say(runtime, "hulp", provider_id="SM123")
    second = await say(runtime, "hulp", provider_id="SM123")
    assert first.message_id is not None and second.message_id is None
    assert len(await messages(runtime, direction="in")) == 1
    assert len(await messages(runtime, direction="out", kind="reply")) == 1


async def test_any_other_reply_pauses_reminders_and_reaches_a_consultant(
    runtime: Runtime, clock: ManualClock
) -> None:
    await reminded(runtime, clock)
    await say(runtime, "wie is dit?")
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "question")
    clock.advance(timedelta(days=30))
    assert (await runtime.tick()).queued == 0


async def test_help_points_to_the_tenants_own_municipality(
    runtime: Runtime, clock: ManualClock
) -> None:
    runtime.policy = parse_policy(
        DEFAULT_POLICY + "\n[help.municipalities.meppel]\n"
        'debt_help_name = "de schuldhulpcoach van Meppel"\ndebt_help_phone = "0522 000 000"\n'
    )
    await reminded(runtime, clock)  # the tenant lives in Meppel
    await say(runtime, "hulp")
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert "de schuldhulpcoach van Meppel, bel 0522 000 000" in answer.body
    assert "https://www.geldfit.nl" in answer.body  # the default fills what Meppel left out


async def test_how_much_and_where_to_pay_is_answered_from_the_case(
    runtime: Runtime, clock: ManualClock
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"payment_iban": "NL00BANK0123456789"})
    await reminded(runtime, clock)
    await say(runtime, "Hoeveel moet ik betalen en naar welke rekening?")
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert "€ 650,00" in answer.body and "NL00BANK0123456789" in answer.body
    assert "T1" in answer.body
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "question_answered")
    assert case.paused_until == clock.now() + timedelta(days=7)
    # From an address we cannot tie to the tenant, the same question learns nothing.
    await say(runtime, "Hoeveel moet ik betalen?", address="+31687654321")
    last = (await messages(runtime, direction="out", kind="reply"))[-1]
    assert "€" not in last.body and "NL00BANK" not in last.body


async def plans(runtime: Runtime) -> list[PaymentPlan]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(PaymentPlan)))


def said_on_the_timeline(event: CaseEvent, language: str = "nl") -> str:
    """The event as the consultant reads it on the case page."""
    return describe(event.kind, event.data, Say(language, ZoneInfo("Europe/Amsterdam")))


async def test_a_tenant_under_bewind_is_offered_no_plan_but_a_consultant(
    runtime: Runtime, clock: ManualClock
) -> None:
    """Issue 11: a tenant under bewind cannot agree a plan alone. Their offer is not turned
    into a plan to confirm: the bot asks who the bewindvoerder is, writes it on the case,
    and puts the case in front of a consultant, as a help request is."""
    await reminded(runtime, clock)
    result = await say(runtime, "ik kan 50 euro per maand, mijn bewindvoerder regelt het")
    assert result.intent == "plan"  # what they said; what is done with it differs
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "help")
    assert case.escalation_priority and case.escalation_priority >= 80
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.template == "reply_assisted"
    assert "Fijn dat u al hulp hebt." in answer.body and "bewindvoerder" in answer.body
    assert "Stuur JA" not in answer.body
    assert await plans(runtime) == []
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert "plan_offered" not in kinds and "plan_proposed" not in kinds
    (helper,) = [e for e in await events(runtime, case.id) if e.kind == "assisted"]
    assert helper.actor == "tenant" and helper.data["helper"] == "administrator"
    assert said_on_the_timeline(helper) == "Huurder heeft al hulp: bewindvoerder"
    assert said_on_the_timeline(helper, "en") == (
        "The tenant already has help: financial administrator"
    )
    escalated = [e for e in await events(runtime, case.id) if e.kind == "escalated"][-1]
    assert escalated.data["reason"] == "help" and escalated.data["amount_cents"] == 5000


async def test_debt_assistance_told_alone_gets_the_same_kind_answer(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", language="en")), "d1.csv")
    await say(runtime, "I am in a debt programme, my debt counsellor handles it")
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "help")
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.template == "reply_assisted"
    assert "Good to hear you already have help." in answer.body
    (helper,) = [e for e in await events(runtime, case.id) if e.kind == "assisted"]
    assert said_on_the_timeline(helper) == "Huurder heeft al hulp: schuldhulpverlening"


async def test_a_payment_made_by_the_bewindvoerder_pauses_and_is_written_down(
    runtime: Runtime, clock: ManualClock
) -> None:
    """A payment made keeps its own handling; that a helper is involved still goes on the
    case."""
    await reminded(runtime, clock)
    await say(runtime, "mijn bewindvoerder heeft het gisteren betaald")
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "paid")
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.template == "reply_paid"
    assert "assisted" in [e.kind for e in await events(runtime, case.id)]


async def test_the_promise_to_contact_the_helper_holds_the_case_in_the_queue(
    runtime: Runtime, clock: ManualClock
) -> None:
    """The answer promises contact; a list that shows the rent paid does not close the case
    before a consultant has been in touch (storage/promises.py)."""
    await reminded(runtime, clock)
    await say(runtime, "ik sta onder bewind")
    clock.advance(timedelta(days=1))
    await runtime.import_data(
        arrears_csv(row("T1", email="anna@example.nl", balance="0", as_of="05-12-2026")), "d2"
    )
    (case,) = await cases(runtime)
    assert case.status == "escalated"
    assert "close_held" in [e.kind for e in await events(runtime, case.id)]


async def test_hard_times_beside_an_offer_within_policy_keep_the_plan_and_are_heard(
    runtime: Runtime, clock: ManualClock
) -> None:
    """Issue 11: the offer is the tenant's own proposal and is taken seriously; the job loss
    told beside it is written on the case, acknowledged, and help is offered."""
    await reminded(runtime, clock)
    result = await say(runtime, "ik ben mijn baan kwijt maar 60 euro per maand lukt wel")
    assert result.intent == "plan"
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan_dialogue")
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.template == "reply_plan_confirm" and "Stuur JA" in answer.body
    assert answer.body.split("\n\n")[1].startswith("Wat vervelend dat u uw baan kwijt bent.")
    assert "Wilt u ook hulp bij geldzorgen? Stuur 2" in answer.body
    (told,) = [e for e in await events(runtime, case.id) if e.kind == "situation"]
    assert told.data["situations"] == ["job_loss"]
    assert said_on_the_timeline(told) == "Huurder vertelt over de eigen situatie: baan kwijt"
    await say(runtime, "ja")
    (plan,) = await plans(runtime)
    assert (plan.status, plan.amount_cents) == ("active", 6000)


async def test_hard_times_beside_an_offer_below_the_minimum_go_to_a_consultant(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", balance="200,00")), "d1.csv")
    await say(runtime, "baan kwijt en krap bij kas, maar 20 per maand lukt")  # 10 months
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "plan_request")
    escalated = [e for e in await events(runtime, case.id) if e.kind == "escalated"][-1]
    assert escalated.data["reasons"] == ["below_minimum_instalment"]
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert answer.template == "reply_plan_received" and "€ 20,00" in answer.body
    assert answer.body.split("\n\n")[1].startswith("Wat vervelend dat u uw baan kwijt bent.")
    assert "Wilt u ook hulp bij geldzorgen?" in answer.body
    (told,) = [e for e in await events(runtime, case.id) if e.kind == "situation"]
    assert told.data["situations"] == ["job_loss", "money_tight"]
    (plan,) = await plans(runtime)
    assert (plan.status, plan.amount_cents) == ("proposed", 2000)


async def test_an_offer_without_hard_times_says_nothing_of_them(
    runtime: Runtime, clock: ManualClock
) -> None:
    await reminded(runtime, clock)
    await say(runtime, "ik kan 50 euro per maand")
    (answer,) = await messages(runtime, direction="out", kind="reply")
    assert "geldzorgen" not in answer.body and "Wat vervelend" not in answer.body
    (case,) = await cases(runtime)
    assert "situation" not in [e.kind for e in await events(runtime, case.id)]


async def test_an_offer_after_telling_of_a_bewindvoerder_goes_to_a_consultant(
    runtime: Runtime, clock: ManualClock
) -> None:
    """Found from outside: "ik heb een bewindvoerder", then "ik kan 50 per maand", then
    "JA" made an active plan the bot agreed alone. The help told earlier holds."""
    await reminded(runtime, clock)
    await say(runtime, "ik heb een bewindvoerder")
    await say(runtime, "ik kan 50 per maand")
    await say(runtime, "JA")
    (plan,) = await plans(runtime)
    assert plan.status == "proposed"  # for a consultant to weigh with the bewindvoerder
    (case,) = await cases(runtime)
    assert case.status == "escalated"
    proposed = [e for e in await events(runtime, case.id) if e.kind == "plan_proposed"]
    assert proposed and "has_help" in proposed[0].data["reasons"]
    assert not await messages(runtime, template="reply_plan_confirm")


async def test_a_tenant_under_bewind_in_the_list_is_offered_no_plan(
    runtime: Runtime, clock: ManualClock
) -> None:
    """The list says a bewindvoerder manages the money: the reminders offer no plan, and an
    offer goes to a consultant rather than being agreed by the bot."""
    header = HEADER + ";administrator;debt_assistance"
    await runtime.import_data(arrears_csv(row("T1") + ";Bewind & Co;nee", header=header), "d1")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    (reminder,) = await messages(runtime, direction="out", kind="reminder")
    assert "betaalafspraak" not in reminder.body
    await say(runtime, "ik kan 100 euro per maand")
    (plan,) = await plans(runtime)
    assert plan.status == "proposed"
    assert not await messages(runtime, template="reply_plan_confirm")
