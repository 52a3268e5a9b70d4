"""The reply parser, first version: the intents the core loop acts on."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.intents import Intent, parse_reply

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "intent", "amount"),
    [
        ("hulp", Intent.HELP, None),
        ("HULP!!", Intent.HELP, None),
        ("Ik heb hulp nodig 🙏", Intent.HELP, None),
        ("I need help", Intent.HELP, None),
        ("2", Intent.HELP, None),
        ("betaald", Intent.PAID, None),
        ("Ik heb het gisteren betaald", Intent.PAID, None),
        ("I paid yesterday", Intent.PAID, None),
        ("3", Intent.PAID, None),
        ("betalingsregling graag", Intent.PLAN, None),
        ("Ik kan 50 euro per maand betalen", Intent.PLAN, 5000),
        ("€ 62,50 p/m", Intent.PLAN, 6250),
        ("75,-", Intent.PLAN, 7500),
        ("100 euro p/m", Intent.PLAN, 10000),
        ("Can I pay 40 a month?", Intent.PLAN, 4000),
        ("1", Intent.PLAN, None),
        ("STOP", Intent.STOP, None),
        ("stoppen", Intent.STOP, None),
        ("Afmelden", Intent.STOP, None),
        ("unsubscribe", Intent.STOP, None),
        ("start", Intent.START, None),
        ("Het bedrag klopt niet", Intent.DISPUTE, None),
        ("Kunt u mij terugbellen?", Intent.CALLBACK, None),
        ("BEZWAAR", Intent.OBJECTION, None),
        ("Hoeveel moet ik betalen?", Intent.QUESTION, None),
        ("", Intent.UNKNOWN, None),
        ("👍", Intent.UNKNOWN, None),
        ("ok", Intent.UNKNOWN, None),
    ],
)
def test_intents(text: str, intent: Intent, amount: int | None) -> None:
    reply = parse_reply(text, TODAY)
    assert reply.intent is intent
    assert reply.amount_cents == amount


def test_months_and_dates() -> None:
    reply = parse_reply("ik betaal 100 euro per maand, 6 maanden", TODAY)
    assert (reply.intent, reply.amount_cents, reply.months) == (Intent.PLAN, 10000, 6)
    promise = parse_reply("ik betaal volgende week", TODAY)
    assert promise.intent is Intent.PLAN
    assert promise.pay_date == date(2026, 12, 2)
    assert parse_reply("ik betaal op 3-12", TODAY).pay_date == date(2026, 12, 3)


@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    reply = parse_reply(text, TODAY)
    assert reply.intent in Intent
