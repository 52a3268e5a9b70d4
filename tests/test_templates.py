"""Tenant texts: every template renders in Dutch and English on every channel, kindly, with
every optional part on and off, and reads as separate sentences and paragraphs."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jinja2 import meta

from messaging.render import (
    OPTIONAL,
    _environment,
    buttons,
    format_euros,
    long_date,
    money,
    month_name,
    plan_context,
    render,
)
from rules.plans import PlanTerms, terms_for
from rules.situations import Situation

FOLDER = Path(__file__).resolve().parent.parent / "messaging/templates"
TEMPLATES = sorted(
    p.name.removesuffix(".txt.j2")
    for p in (FOLDER / "nl").glob("*.txt.j2")
    if not p.name.startswith("_")
)
LANGUAGES = ("nl", "en")
CHANNELS = ("sms", "whatsapp", "telegram", "email")
# 417,60 at 60 a month: six of 60 and one of 57,60.
PLAN = PlanTerms(amount_cents=6000, months=7, total_cents=41760, first_due=date(2027, 1, 1))
HELP = {
    "debt_help_name": "de schuldhulp",
    "debt_help_phone": "14 0522",
    "debt_help_url": "https://www.geldfit.nl",
    "savings_check": "Besparen? Doe de Voorzieningenwijzer.",
    "crisis_line": "113 (gratis: 0800-0113)",
    "debt_help_name_en": "debt help",
    "debt_help_phone_en": "14 0522",
    "savings_check_en": "Save money? Try the Voorzieningenwijzer.",
    "crisis_line_en": "113 (free: 0800-0113)",
}


def everything(language: str) -> dict[str, Any]:
    """Every value any template reads, every optional part on."""
    return {
        "corporation": "Woonconcept",
        "phone": "088 123 45 67",
        "name": "Anna de Vries",
        "balance": money(41760, language),
        "amount": money(6000, language),
        "iban": "NL00BANK0123456789",
        "reference": "T1",
        "help": dict(HELP),
        "text": "Dag Anna, ik bel u morgen.",
        "consultant": "Marieke",
        **plan_context(PLAN, language),
        "show_details": True,
        "municipality": "Meppel",
        "telegram_link": "https://t.me/WoonconceptBot?start=Ab12.Cd",
        "greeting": "name",
        "has_plan": False,
        "situation": Situation.JOB_LOSS.value,
        "arrears_month": month_name(date(2026, 12, 1), language),
        "crisis": True,
    }


def variants(language: str) -> list[tuple[str, dict[str, Any]]]:
    """Everything on; then each optional part off (or at its other value) in turn; then
    everything off at once; then each situation; then other plan shapes."""
    full = everything(language)
    on = {"greeting": "neutral", "has_plan": True}  # the parts whose default is "off"
    found: list[tuple[str, dict[str, Any]]] = [("everything", full)]
    for key, default in OPTIONAL.items():
        found.append((f"{key}={on.get(key, default)!r}", {**full, key: on.get(key, default)}))
    for key in HELP:
        found.append((f"help.{key}=None", {**full, "help": {**HELP, key: None}}))
    found.append(("amount=None", {**full, "amount": None}))
    bare = {**full, **OPTIONAL, "amount": None, "help": dict.fromkeys(HELP)}
    found.append(("nothing optional", bare))
    for each in Situation:
        found.append((f"situation={each.value}", {**full, "situation": each.value}))
    for label, terms in PLANS.items():
        found.append((label, {**full, **plan_context(terms, language)}))
    return found


PLANS = {
    "plan of equal parts": terms_for(42000, today=date(2026, 12, 1), amount_cents=6000),
    "plan of one part": terms_for(41760, today=date(2026, 12, 1), amount_cents=50000),
    "plan by months": terms_for(41760, today=date(2026, 12, 1), months=4),
}

URL = re.compile(r"https?://\S+")
# Two sentences run together: "open.Is", "open?Is", "open,Is". A lowercase letter, a digit
# or a closing character, a stop, and a capital with no space between. URLs are taken out
# first; amounts (€ 1.234,56), dates (01-01-2027) and abbreviations (t.me, b.v.) never put
# a capital straight after the stop, so they pass.
JOINED = re.compile(r"[a-z0-9)\]\"'’%][.!?,;:][A-ZÀ-Ý]")
# A sentence that ends a line followed by one that starts the next, in the same paragraph:
# a missing blank line. Lists ("- …", "1 = …") and "…:" introductions are not sentences.
BROKEN = re.compile(r"[.!?]\n[A-ZÀ-Ý]")
# What a phone sends as plain GSM-7 (one text message part is then 160 characters): the
# basic alphabet and its extension table, where the euro sign lives.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) | set("^{}\\[~]|€")
MENU = {"nl": "Antwoord met een cijfer:", "en": "Reply with a number:"}
SALUTATION = {"nl": "Beste ", "en": "Dear "}
SIGN_OFF = {"nl": "Groet, ", "en": "Kind regards, "}
TELEGRAM = {"nl": "Liever via Telegram?", "en": "Prefer Telegram?"}
THREATS = ("deurwaarder", "incasso", "ontruim", "rechter", "bailiff", "court", "evict")


def problems(body: str, language: str, channel: str) -> list[str]:
    """Everything wrong with the layout of one rendered message."""
    found = []
    text = URL.sub("URL", body)
    for match in JOINED.finditer(text):
        found.append(f"sentences run together: {text[match.start() - 15 : match.end() + 15]!r}")
    if "  " in body:
        found.append("double space")
    if any(line != line.rstrip() for line in body.splitlines()):
        found.append("trailing whitespace")
    if body != body.strip():
        found.append("empty lines or spaces at the start or the end")
    if "\n\n\n" in body:
        found.append("more than one blank line in a row")
    if re.search(r" [.,!?;:]", body):
        found.append("space before a punctuation mark")
    for leftover in ("{{", "{%", "None", "Undefined", "[[", "['"):
        if leftover in body:
            found.append(f"template leftover {leftover!r}")
    paragraphs = body.split("\n\n")
    for paragraph in paragraphs[:-1]:  # the footer's two lines are two sentences
        if BROKEN.search(URL.sub("URL", paragraph)):
            found.append(f"no blank line between sentences: {paragraph[:60]!r}")
    if body.startswith(SALUTATION[language]):
        greeting = paragraphs[0]
        if "\n" in greeting or not greeting.endswith(","):
            found.append(f"the greeting is not a line of its own: {greeting!r}")
    if paragraphs[-1].startswith(SIGN_OFF[language]):
        footer = paragraphs[-1].splitlines()
        if len(footer) > 2 or any(len(line) > 80 for line in footer):
            found.append(f"footer longer than two short lines: {footer!r}")
    for paragraph in paragraphs:
        if MENU[language] in paragraph:
            lines = paragraph.splitlines()
            if lines[0] != MENU[language] or not all(re.match(r"\d = ", x) for x in lines[1:]):
                found.append(f"the menu is not a paragraph of its own: {paragraph!r}")
    if channel == "sms" and not set(body) <= GSM7:
        found.append(f"not GSM-7 in a text message: {sorted(set(body) - GSM7)!r}")
    if any(word in body.lower() for word in THREATS):
        found.append("threatening word")
    return found


def test_every_variable_a_template_reads_has_a_sample_here() -> None:
    """A new variable in a template must get a sample value (and optional parts a default
    in messaging.render.OPTIONAL), so the exhaustive test below renders it."""
    env = _environment()
    read: set[str] = set()
    for path in FOLDER.glob("*/*.j2"):
        source = path.read_text("utf-8")
        read |= meta.find_undeclared_variables(env.parse(source))
    known = set(everything("nl")) | {"channel", "channel_label"}
    assert read <= known, f"no sample value for {sorted(read - known)}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_in_every_variant_reads_well(template: str, language: str) -> None:
    failures = []
    for channel in CHANNELS:
        for label, context in variants(language):
            rendered = render(template, language, channel, context)
            assert rendered.body
            assert (rendered.subject is not None) == (channel == "email")
            failures += [
                f"{channel}, {label}: {problem}"
                for problem in problems(rendered.body, language, channel)
            ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_greeting_body_menu_and_footer_are_paragraphs(template: str, language: str) -> None:
    body = render(template, language, "whatsapp", everything(language)).body
    paragraphs = body.split("\n\n")
    if body.startswith(SALUTATION[language]):
        assert paragraphs[0] == f"{SALUTATION[language]}Anna de Vries,"
        assert len(paragraphs) >= 3, "greeting, body and footer"
    if MENU[language] in body:
        # Greeting, body, menu, the Telegram invitation (when there is one), footer.
        menu = next(i for i, p in enumerate(paragraphs) if p.startswith(MENU[language]))
        between = paragraphs[menu + 1 : -1]
        assert len(between) <= 1 and all(p.startswith(TELEGRAM[language]) for p in between)
        assert paragraphs[-1].startswith(SIGN_OFF[language])
        assert paragraphs[-1].count("\n") <= 1


def test_the_plan_offer_reminder_keeps_its_sentences_apart() -> None:
    body = render("reminder_plan_offer", "nl", "sms", everything("nl")).body
    assert "open. Is betalen nu lastig?" in body
    body = render("reminder_plan_offer", "en", "sms", everything("en")).body
    assert "€417.60. Is paying hard right now?" in body


@pytest.mark.parametrize("greeting", ["name", "neutral"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_greeting_follows_the_policy(greeting: str, language: str) -> None:
    context = {**everything(language), "greeting": greeting}
    body = render("reminder_friendly", language, "sms", context).body
    expected = {
        ("nl", "name"): "Beste Anna de Vries,",
        ("nl", "neutral"): "Beste huurder,",
        ("en", "name"): "Dear Anna de Vries,",
        ("en", "neutral"): "Dear tenant,",
    }[language, greeting]
    assert body.startswith(expected + "\n\n")
    assert ("Anna" in body) == (greeting == "name")


REMINDERS = [t for t in TEMPLATES if t.startswith("reminder_")]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", REMINDERS)
def test_reminders_offer_help_options_and_a_way_to_stop(template: str, language: str) -> None:
    body = render(template, language, "sms", everything(language)).body
    assert "STOP" in body
    assert "088 123 45 67" in body
    assert "1 =" in body and "2 =" in body and "3 =" in body
    assert money(41760, language) in body
    assert len(body) < 1000, "keep it short"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", [*REMINDERS, "paid_follow_up", "plan_nudge"])
def test_a_tenant_with_a_plan_is_not_offered_another(template: str, language: str) -> None:
    body = render(template, language, "sms", {**everything(language), "has_plan": True}).body
    assert "1 =" not in body
    assert "2 =" in body and "3 =" in body  # the digits keep their meaning


def test_the_nudge_about_a_plan_never_offers_a_plan() -> None:
    body = render("plan_nudge", "nl", "sms", {**everything("nl"), "has_plan": False}).body
    assert "1 =" not in body and "2 = ik wil hulp" in body


def test_telegram_buttons_leave_the_plan_out_while_there_is_one() -> None:
    assert [a for a, _ in buttons("reminder_friendly", "nl")] == ["1", "2", "3"]
    assert [a for a, _ in buttons("reminder_friendly", "nl", has_plan=True)] == ["2", "3"]
    assert [a for a, _ in buttons("reply_plan_confirm", "nl", has_plan=True)] == ["JA", "NEE"]


def test_payment_details_do_not_offer_a_plan_to_a_tenant_with_one() -> None:
    context = everything("nl")
    assert "Stuur 1" in render("reply_payment_details", "nl", "sms", context).body
    with_plan = {**context, "has_plan": True}
    assert "Stuur 1" not in render("reply_payment_details", "nl", "sms", with_plan).body


def test_no_amount_without_show_details() -> None:
    context = {**everything("nl"), "show_details": False}
    body = render("reminder_friendly", "nl", "sms", context).body
    assert "€" not in body


# Money and dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "nl", "en"),
    [
        (41760, "€ 417,60", "€417.60"),
        (5, "€ 0,05", "€0.05"),
        (123456, "€ 1.234,56", "€1,234.56"),
        (100000000, "€ 1.000.000,00", "€1,000,000.00"),
    ],
)
def test_amounts_in_the_tenants_language(cents: int, nl: str, en: str) -> None:
    assert money(cents, "nl") == nl == format_euros(cents)
    assert money(cents, "en") == en
    assert money(cents, "tr") == nl  # a language without templates reads Dutch


def test_dates_are_written_out() -> None:
    assert long_date(date(2027, 1, 1), "nl") == "1 januari 2027"
    assert long_date(date(2027, 1, 1), "en") == "1 January 2027"
    assert month_name(date(2026, 12, 1), "nl") == "december"
    assert month_name(date(2026, 12, 1), "en") == "December"


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


# Plans that add up ----------------------------------------------------------------------


def _sum_of_parts(parts: list[list[Any]]) -> int:
    return sum(count * int(re.sub(r"\D", "", amount)) for count, amount in parts)


def test_a_plan_with_a_smaller_last_instalment_says_so() -> None:
    terms = terms_for(41760, today=date(2026, 12, 1), amount_cents=6000)
    assert terms is not None and terms.months == 7
    context = {**everything("nl"), **plan_context(terms, "nl")}
    assert context["parts"] == [[6, "€ 60,00"], [1, "€ 57,60"]]
    assert _sum_of_parts(context["parts"]) == 41760
    for template in ("reply_plan_confirm", "reply_plan_agreed"):
        body = render(template, "nl", "sms", context).body
        assert "6 keer € 60,00 en 1 keer € 57,60" in body
        assert "7 keer" not in body
        assert "1 januari 2027" in body and "1 juli 2027" in body and "€ 417,60" in body
    english = {**everything("en"), **plan_context(terms, "en")}
    body = render("reply_plan_confirm", "en", "sms", english).body
    assert "6 payments of €60.00 and 1 payment of €57.60" in body
    assert "1 January 2027" in body and "1 July 2027" in body and "€417.60" in body


def test_a_plan_of_equal_instalments_names_one_amount() -> None:
    terms = terms_for(42000, today=date(2026, 12, 1), amount_cents=6000)
    assert terms is not None
    context = {**everything("nl"), **plan_context(terms, "nl")}
    body = render("reply_plan_agreed", "nl", "sms", context).body
    assert "7 keer € 60,00." in body and " en 1 keer" not in body
    assert _sum_of_parts(context["parts"]) == 42000


def test_a_plan_of_one_payment_is_one_sentence() -> None:
    terms = terms_for(41760, today=date(2026, 12, 1), amount_cents=50000)
    assert terms is not None and terms.months == 1
    context = {**everything("nl"), **plan_context(terms, "nl")}
    body = render("reply_plan_confirm", "nl", "sms", context).body
    assert "U betaalt € 417,60 op 1 januari 2027, naast de huur." in body
    assert "keer" not in body and "de laatste keer" not in body


def test_a_plan_by_months_rounds_the_instalment_and_adds_up() -> None:
    terms = terms_for(41760, today=date(2026, 12, 1), months=4)
    assert terms is not None
    parts = plan_context(terms, "nl")["parts"]
    assert parts == [[3, "€ 105,00"], [1, "€ 102,60"]]
    assert _sum_of_parts(parts) == 41760


# Situations -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_situation_is_acknowledged_before_the_help(language: str) -> None:
    seen = set()
    for each in Situation:
        context = {**everything(language), "situation": each.value, "crisis": False}
        first = render("reply_help", language, "whatsapp", context).body.split("\n\n")[1]
        acknowledgement = first.split(". ")[0]
        assert acknowledgement not in seen, f"{each} says the same as another situation"
        seen.add(acknowledgement)
        assert not first.startswith(("Bedankt voor uw bericht", "Thank you for your message"))
    plain = {**everything(language), "situation": None}
    first = render("reply_help", language, "whatsapp", plain).body.split("\n\n")[1]
    assert first.startswith(("Bedankt voor uw bericht", "Thank you for your message"))


def test_job_loss_is_acknowledged_in_plain_dutch() -> None:
    body = render("reply_help", "nl", "sms", everything("nl")).body
    assert body.split("\n\n")[1].startswith("Wat vervelend dat u uw baan kwijt bent.")
    assert "Fijn dat u het laat weten" not in body


# Subjects -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_has_a_subject_of_its_own(language: str) -> None:
    subjects = {}
    for template in TEMPLATES:
        assert (FOLDER / language / f"{template}.subject.j2").exists(), template
        subject = render(template, language, "email", everything(language)).subject
        assert subject and len(subject) <= 60 and "\n" not in subject
        assert "Woningcorporatie" not in subject and not subject.startswith(
            ("Bericht van Woonconcept", "Message from Woonconcept")
        )
        subjects[template] = subject
    assert len(set(subjects.values())) == len(subjects), "every message says what it is"


@pytest.mark.parametrize(
    ("language", "month", "expected"),
    [
        ("nl", "december", "Uw huur van december"),
        ("nl", None, "Uw huur"),
        ("en", "December", "Your rent for December"),
        ("en", None, "Your rent"),
    ],
)
def test_the_reminder_subject_names_the_month(
    language: str, month: str | None, expected: str
) -> None:
    context = {**everything(language), "arrears_month": month}
    assert render("reminder_friendly", language, "email", context).subject == expected


def test_subjects_name_what_the_message_is_about() -> None:
    context = everything("nl")
    assert render("reminder_written", "nl", "email", context).subject == (
        "Herinnering: uw huur van december"
    )
    assert render("reply_plan_agreed", "nl", "email", context).subject == (
        "Uw betaalafspraak is gemaakt"
    )
    assert render("plan_nudge", "en", "email", everything("en")).subject == "Your payment plan"
