"""Tenant texts: every template renders in Dutch and English on every channel, kindly."""

from __future__ import annotations

from pathlib import Path

import pytest

from messaging.render import format_euros, render

TEMPLATES = sorted(
    p.name.removesuffix(".txt.j2")
    for p in (Path(__file__).resolve().parent.parent / "messaging/templates/nl").glob("*.txt.j2")
    if not p.name.startswith("_")
)
CONTEXT = {
    "corporation": "Woonconcept",
    "phone": "088 123 45 67",
    "name": "Anna",
    "balance": "€ 650,00",
    "amount": "€ 50,00",
    "municipality": "Meppel",
    "months": 7,
    "total": "€ 650,00",
    "first_due": "01-01-2027",
    "last_due": "01-07-2027",
    "last_amount": "€ 50,00",
    "iban": "NL00BANK0123456789",
    "reference": "T1",
    "help": {
        "debt_help_name": "de schuldhulp",
        "debt_help_phone": "14 0522",
        "debt_help_url": "https://www.geldfit.nl",
        "savings_check": "Besparen?",
        "crisis_line": "113",
    },
    "crisis": True,
    "text": "Dag Anna, ik bel u morgen.",
    "consultant": "Marieke",
    "show_details": True,
}
REMINDERS = [t for t in TEMPLATES if t.startswith("reminder_")]
THREATS = ("deurwaarder", "incasso", "ontruim", "rechter", "bailiff", "court", "evict")


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("channel", ["whatsapp", "sms", "telegram", "email"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders(template: str, channel: str, language: str) -> None:
    rendered = render(template, language, channel, CONTEXT)
    assert rendered.body and "{{" not in rendered.body
    assert (rendered.subject is not None) == (channel == "email")
    assert not any(word in rendered.body.lower() for word in THREATS)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("template", REMINDERS)
def test_reminders_offer_help_options_and_a_way_to_stop(template: str, language: str) -> None:
    body = render(template, language, "sms", CONTEXT).body
    assert "STOP" in body
    assert "088 123 45 67" in body
    assert "1 =" in body and "2 =" in body and "3 =" in body
    assert "€ 650,00" in body
    assert len(body) < 900, "keep it short"


def test_no_amount_without_show_details() -> None:
    body = render("reminder_friendly", "nl", "sms", {**CONTEXT, "show_details": False}).body
    assert "€" not in body


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "€ 0,00"),
        (5, "€ 0,05"),
        (123456, "€ 1.234,56"),
        (-1250, "-€ 12,50"),
        (100000000, "€ 1.000.000,00"),
    ],
)
def test_dutch_money(cents: int, text: str) -> None:
    assert format_euros(cents) == text
