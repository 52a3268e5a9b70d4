"""The texts laid out once per shape of context (messaging.render, for the tick's speed) are
Jinja's own texts to the byte: every template, language and channel, with the tenant's
strings at their oddest; and a template that reshapes such a string is left to Jinja."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, StrictUndefined, TemplateNotFound

from messaging import render as rendering
from messaging import text_layouts
from messaging.render import CHANNEL_LABELS, LANGUAGES, OPTIONAL, Rendered, render
from tests.test_templates import CHANNELS, TEMPLATES, everything, variants

# What a tenant's name, a municipality or an amount might hold: nothing, spaces at the
# ends (the body's lines are stripped after filling in), line breaks, a template's own
# syntax, the laid-out text's mark.
ODD = [
    "",
    " ",
    "Anna ",
    " Bob",
    "A\nB",
    "x\n\n",
    "{{ name }}",
    "{% if %}",
    "\x00",
    "\x000\x00",
    "é€",
]


def jinja(template: str, language: str, channel: str, context: dict[str, Any]) -> Rendered:
    """messaging.render.render as it was: Jinja for every message."""
    lang = language if language in LANGUAGES else "nl"
    env = rendering._environment()
    values = {
        **OPTIONAL,
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


def outcome(how: Any, *args: Any) -> Rendered | str:
    try:
        result: Rendered = how(*args)
    except Exception as error:  # the same error is the same answer
        return f"raised {type(error).__name__}"
    return result


def tick_context(language: str, name: str, other: str) -> dict[str, Any]:
    """What handlers/ticking/outcome.py gives a reminder, with odd strings in it."""
    return {
        "corporation": "Woonconcept",
        "phone": "088 123 45 67",
        "greeting": "name",
        "name": name,
        "municipality": other or None,
        "balance": other,
        "arrears_month": name,
        "has_plan": False,
        "show_details": bool(other),
        "telegram_link": other or None,
    }


@pytest.fixture
def fresh() -> Iterator[None]:
    text_layouts.forget()
    yield
    text_layouts.forget()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_gives_jinjas_text(template: str, language: str, fresh: None) -> None:
    contexts = [context for _, context in variants(language)]
    # The same shapes again without the values no layout takes (dicts, lists): those
    # templates that read them raise, in both.
    contexts += [
        {key: value for key, value in context.items() if key not in ("help", "parts")}
        for context in contexts
    ]
    contexts += [
        tick_context(language, name, other) for name in ODD for other in (ODD[0], ODD[2], name)
    ]
    contexts += [{**everything(language), "name": name} for name in ODD]
    for channel in CHANNELS:
        for context in contexts:
            expected = outcome(jinja, template, language, channel, context)
            assert outcome(render, template, language, channel, context) == expected, (
                channel,
                context,
            )


def test_the_ticks_reminders_are_laid_out_once(fresh: None) -> None:
    for number in range(3):
        render("reminder_friendly", "nl", "sms", tick_context("nl", f"Huurder {number}", "€ 1"))
    layouts = [key for key, layout in text_layouts.LAYOUTS.items() if layout is not None]
    assert [name for name, _ in layouts] == ["nl/reminder_friendly.txt.j2"]


# Templates whose text a tenant's string could reshape: a layout would print them wrong.
RESHAPING = {
    "upper": "{{ name|upper }}",
    "length": "{% if name|length > 4 %}long{% endif %}{{ name }}",
    "compared": '{% if name == "Anna" %}Hi Anna{% else %}{{ name }}{% endif %}',
    "indexed": "{{ name[0] }}.",
    "joined": "{{ name ~ '!' }}",
    "kept": "{% set kept %}{{ name }}{% endset %}{{ kept|truncate(6, True, '') }}",
    "filtered": "[{% filter center(12) %}{{ name }}{% endfilter %}]",
    "macro filtered": (
        "{% macro hello() %}Dear {{ name }}{% endmacro %}{{ hello()|wordwrap(6, True, '/') }}"
    ),
    "macro tested": "{% macro hello() %}{{ name }}{% endmacro %}{% if hello() %}x{% endif %}",
    "passed on": "{% macro hello(who) %}{{ who|title }}{% endmacro %}{{ hello(name) }}",
    "imported": '{% from "parts.txt.j2" import shout with context %}{{ shout() }}',
}


@pytest.fixture
def made_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    templates = {f"nl/{label}.txt.j2": source for label, source in RESHAPING.items()}
    templates["parts.txt.j2"] = "{% macro shout() %}{{ name|upper }}{% endmacro %}"
    templates["nl/default.subject.j2"] = "{{ name|lower }}"
    env = Environment(  # plain text, as messaging.render
        loader=DictLoader(templates), undefined=StrictUndefined, trim_blocks=True
    )
    monkeypatch.setattr(rendering, "_environment", lambda: env)
    rendering._subject_template.cache_clear()
    text_layouts.forget()
    yield
    monkeypatch.undo()
    rendering._subject_template.cache_clear()
    text_layouts.forget()


@pytest.mark.parametrize("label", RESHAPING)
def test_a_string_a_template_reshapes_is_left_to_jinja(label: str, made_up: None) -> None:
    for name in ["Anna", "bob", "Christina", "", "d e f g h i j k"]:
        for channel in ("sms", "email"):
            expected = outcome(jinja, label, "nl", channel, {"name": name})
            assert outcome(render, label, "nl", channel, {"name": name}) == expected, name
