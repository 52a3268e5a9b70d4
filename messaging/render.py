"""Tenant-facing texts come from templates in messaging/templates/<language>/."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound

from bot.plans import PlanTerms

LANGUAGES = ("nl", "en")
CHANNEL_LABELS = {
    "nl": {"sms": "sms", "whatsapp": "WhatsApp", "telegram": "Telegram", "email": "e-mail"},
    "en": {"sms": "text message", "whatsapp": "WhatsApp", "telegram": "Telegram", "email": "email"},
}


@dataclass(frozen=True)
class Rendered:
    body: str
    subject: str | None


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain text for phones, not HTML: autoescape would turn "€" and "&" into entities.
    return Environment(  # noqa: S701
        loader=PackageLoader("messaging", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
    )


def format_euros(cents: int) -> str:
    """Dutch notation: € 1.234,56."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}€ {euros:,}".replace(",", ".") + f",{rest:02d}"


# Templates whose answers are offered as buttons where the channel has them (Telegram);
# SMS and the sandbox show the same choices as text in the message itself.
_BUTTONS = {"reminder_": "_menu_buttons.txt", "reply_plan_confirm": "_confirm_buttons.txt"}


def buttons(template: str | None, language: str) -> list[tuple[str, str]]:
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
    return [
        (answer.strip(), label.strip())
        for answer, _, label in (line.partition("|") for line in source.splitlines() if line)
    ]


def plan_context(terms: PlanTerms) -> dict[str, Any]:
    """A plan's numbers as the plan templates show them."""
    schedule = terms.schedule()
    return {
        "amount": format_euros(terms.amount_cents),
        "months": terms.months,
        "total": format_euros(terms.total_cents),
        "first_due": schedule[0][0].strftime("%d-%m-%Y"),
        "last_due": schedule[-1][0].strftime("%d-%m-%Y"),
        "last_amount": format_euros(schedule[-1][1]),
    }


def html_version(body: str, title: str) -> str:
    """The HTML part of an email: the same text, paragraphs kept, nothing added."""
    paragraphs = [html.escape(block).replace("\n", "<br>\n") for block in body.split("\n\n")]
    content = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; font-size: 16px; line-height: 1.5; '
        f'max-width: 36em">\n{content}\n</body></html>'
    )


def render(template: str, language: str, channel: str, context: dict[str, Any]) -> Rendered:
    lang = language if language in LANGUAGES else "nl"
    env = _environment()
    values = {
        "menu": False,
        "show_details": False,
        "municipality": None,
        "telegram_link": None,
        **context,
        "channel": channel,
        "channel_label": CHANNEL_LABELS[lang].get(channel, channel),
    }
    body = env.get_template(f"{lang}/{template}.txt.j2").render(values)
    body = "\n".join(line.rstrip() for line in body.strip().splitlines())
    subject = None
    if channel == "email":
        try:
            subject_template = env.get_template(f"{lang}/{template}.subject.j2")
        except TemplateNotFound:
            subject_template = env.get_template(f"{lang}/default.subject.j2")
        subject = subject_template.render(values).strip()
    return Rendered(body, subject)
