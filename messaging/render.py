"""Tenant-facing texts come from templates in messaging/templates/<language>/.

Each template's text is laid out once per shape of its context and filled in per message
(``messaging.text_layouts``): the tick writes thousands of reminders a second.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

from messaging.text_layouts import laid_out
from rules.plans import PlanTerms

LANGUAGES = ("nl", "en")
CHANNEL_LABELS = {
    "nl": {"sms": "sms", "whatsapp": "WhatsApp", "telegram": "Telegram", "email": "e-mail"},
    "en": {"sms": "text message", "whatsapp": "WhatsApp", "telegram": "Telegram", "email": "email"},
}
# Babel's locale per language: British English writes "1 January 2027", as the Dutch do.
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
# What a template may leave out; render() fills these in when the caller did not.
OPTIONAL: dict[str, Any] = {
    "show_details": False,  # name and amounts: only to an address that is the tenant's alone
    "municipality": None,
    "telegram_link": None,
    "greeting": "name",  # "neutral": "Beste huurder," ([texts] greeting in the policy)
    "has_plan": False,  # an agreed plan: the menu offers no new one
    "situation": None,  # what the tenant told us (rules.situations), acknowledged first
    "arrears_month": None,  # "december": the email subject names the month
    "crisis": False,
}


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain text for phones, not HTML: autoescape would turn "€" and "&" into entities.
    # trim_blocks: a line holding only a block tag leaves no empty line behind; a tag that
    # closes a line of text swallows its line break too, so such lines end in "+%}".
    # auto_reload off: the templates ship with the code, and checking each file's time on
    # every render cost more than the rest of a reminder's text.
    return Environment(  # noqa: S701
        loader=PackageLoader("messaging", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        auto_reload=False,
    )


def _locale(language: str) -> str:
    return _LOCALES.get(language, _LOCALES["nl"])


def format_euros(cents: int) -> str:
    """Dutch notation: € 1.234,56 (the workplace and the command line)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}€ {euros:,}".replace(",", ".") + f",{rest:02d}"


def money(cents: int, language: str) -> str:
    """An amount as the tenant's language writes it: "€ 417,60", "€417.60".

    Babel puts a non-breaking space after the Dutch euro sign; we send a plain one. The
    non-breaking space is not in the GSM-7 alphabet, so one in a text message would send
    the whole message as UCS-2: 70 characters a part instead of 160, two to three times
    the cost. It also keeps every Dutch amount the same as format_euros writes it."""
    text = format_currency(Decimal(cents) / 100, "EUR", locale=_locale(language))
    return text.replace("\xa0", " ")


def long_date(day: date, language: str) -> str:
    """The date written out: 1 januari 2027, 1 January 2027."""
    return format_date(day, format="long", locale=_locale(language))


def month_name(day: date, language: str) -> str:
    """The month's name: december, December."""
    return format_date(day, format="LLLL", locale=_locale(language))


# Templates whose answers are offered as buttons where the channel has them (Telegram);
# SMS and the sandbox show the same choices as text in the message itself.
_BUTTONS = {"reminder_": "_menu_buttons.txt", "reply_plan_confirm": "_confirm_buttons.txt"}
# The menu's choice of a new payment plan, left out while the tenant has one; the other
# digits keep their meaning (rules.intents).
_PLAN_CHOICE = "1"


def buttons(template: str | None, language: str, has_plan: bool = False) -> list[tuple[str, str]]:
    """The reply options for a message as (what it sends back, label), from the button file
    in templates/<lang>/; none for a template without choices."""
    source_file = next(
        (name for prefix, name in _BUTTONS.items() if (template or "").startswith(prefix)), None
    )
    if source_file is None:
        return []
    lang = language if language in LANGUAGES else "nl"
    source, _, _ = _environment().loader.get_source(  # type: ignore[union-attr]
        _environment(), f"{lang}/{source_file}"
    )
    options = [
        (answer.strip(), label.strip())
        for answer, _, label in (line.partition("|") for line in source.splitlines() if line)
    ]
    if has_plan and source_file == _BUTTONS["reminder_"]:
        options = [option for option in options if option[0] != _PLAN_CHOICE]
    return options


def plan_context(terms: PlanTerms, language: str = "nl") -> dict[str, Any]:
    """A plan's numbers as the plan templates show them. `parts` counts the instalments of
    each amount in order: [[6, "€ 60,00"], [1, "€ 57,60"]] for 417,60 at 60 a month, so
    the text adds up to the total."""
    schedule = terms.schedule()
    parts: list[list[Any]] = []
    for _, cents in schedule:
        if parts and parts[-1][1] == cents:
            parts[-1][0] += 1
        else:
            parts.append([1, cents])
    return {
        "amount": money(terms.amount_cents, language),
        "months": terms.months,
        "total": money(terms.total_cents, language),
        "first_due": long_date(schedule[0][0], language),
        "last_due": long_date(schedule[-1][0], language),
        "last_amount": money(schedule[-1][1], language),
        "parts": [[count, money(cents, language)] for count, cents in parts],
    }


def html_version(body: str, title: str, language: str = "nl") -> str:
    """The HTML part of an email: the same text, paragraphs kept, nothing added. ``lang``
    follows the tenant's language so a screen reader pronounces it right."""
    lang = language if language in LANGUAGES else "nl"
    paragraphs = [html.escape(block).replace("\n", "<br>\n") for block in body.split("\n\n")]
    content = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; font-size: 16px; line-height: 1.5; '
        f'max-width: 36em">\n{content}\n</body></html>'
    )


def render(template: str, language: str, channel: str, context: dict[str, Any]) -> Rendered:
    lang = language if language in LANGUAGES else "nl"
    values = {
        **OPTIONAL,
        **context,
        "channel": channel,
        "channel_label": CHANNEL_LABELS[lang].get(channel, channel),
    }
    body = _text(f"{lang}/{template}.txt.j2", values)
    body = "\n".join(line.rstrip() for line in body.strip().splitlines())
    subject = None
    if channel == "email":
        subject = _text(_subject_template(lang, template), values).strip()
    return Rendered(body, subject)


@lru_cache(maxsize=512)
def _subject_template(lang: str, template: str) -> str:
    name = f"{lang}/{template}.subject.j2"
    try:
        _environment().get_template(name)
    except TemplateNotFound:
        return f"{lang}/default.subject.j2"
    return name


def _text(name: str, values: dict[str, Any]) -> str:
    return laid_out(_environment(), name, values)
