"""A case event as one sentence in the consultant's language: what the case page's timeline,
the dossier and the eviction-prevention record (a formal document) show instead of stored
codes and data. `SENTENCES` holds one entry per event kind the code writes;
tests/test_timeline_words.py reads the source for every kind and checks each has one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from workplace import formats, words
from workplace.phrasing import Say
from workplace.queries import CaseView

Sentence = Callable[[Say, Mapping[str, Any]], str]


def _escalated(say: Say, data: Mapping[str, Any]) -> str:
    text = say("Naar de wachtrij: ", "To the queue: ") + say.code(data.get("reason"))
    details = []
    if data.get("amount_cents") and data.get("months"):
        details.append(
            say("{a} per maand, {m} maanden", "{a} a month, {m} months").format(
                a=say.euros(data["amount_cents"]), m=data["months"]
            )
        )
    elif data.get("amount_cents"):
        details.append(say.euros(data["amount_cents"]))
    if data.get("misses"):
        details.append(
            say("{n} termijnen gemist", "{n} instalments missed").format(n=data["misses"])
        )
    if data.get("stage"):
        details.append(say("herinnering ", "reminder ") + words.stage(data["stage"], say.language))
    if data.get("partner"):
        details.append(say("partner: ", "partner: ") + words.partner(data["partner"], say.language))
    if details:
        text += f" ({'; '.join(details)})"
    if data.get("reasons"):
        text += say(". Buiten de regels: ", ". Outside the rules: ") + say.rules(data)
    return text


def _paused(say: Say, data: Mapping[str, Any]) -> str:
    text = say("Gepauzeerd", "Paused")
    if data.get("until"):
        text += say(" tot ", " until ") + formats.long_local_day(
            str(data["until"]), say.tz, say.language
        )
    reason = words.word(words.PAUSE_REASONS, data.get("reason"), say.language)
    return f"{text}: {reason}" if reason else text


def _resumed(say: Say, data: Mapping[str, Any]) -> str:
    text = say("Herinneringen lopen weer", "Reminders run again")
    reason = str(data.get("reason") or "")
    # The reason is English text the code wrote; only the known ones are shown.
    if reason in words.RESUME_REASONS:
        text += ": " + words.word(words.RESUME_REASONS, reason, say.language)
    return text


def _reply(say: Say, data: Mapping[str, Any]) -> str:
    """ "Antwoord van de huurder: wil een betaalafspraak (€ 100,00)"; to a question the bot
    asked: "…: ja"."""
    meant = words.word(words.INTENTS, data.get("intent"), say.language)
    parts = [meant] if meant else []
    if data.get("answer") in ("yes", "no"):
        said = say("ja", "yes") if data["answer"] == "yes" else say("nee", "no")
        parts = [said] + (parts if data.get("intent") not in (None, "unknown") else [])
    text = say("Antwoord van de huurder", "The tenant replied")
    text += ": " + "; ".join(parts) if parts else ""
    if data.get("amount_cents"):
        text += f" ({say.euros(data['amount_cents'])})"
    return text


def _contact(say: Say, data: Mapping[str, Any]) -> str:
    mode = words.word(words.CONTACT_MODES, data.get("mode"), say.language)
    reached = (
        say("bereikt", "reached") if data.get("reached") else say("niet bereikt", "not reached")
    )
    text = say("Contact vastgelegd: ", "Contact logged: ") + f"{mode}, {reached}"
    if data.get("at"):
        text += f", {say.moment(data['at'])}"
    if data.get("part_of_day"):
        text += f" ({words.word(words.PARTS_OF_DAY, data['part_of_day'], say.language)})"
    outcome = str(data.get("outcome") or "").strip()
    return f"{text}: “{outcome}”" if outcome else text


def _objection(lead: tuple[str, str]) -> Sentence:
    """An objection to the signal or its withdrawal: how and when the tenant made it, and
    the note of the consultant who recorded it. The tenant's own BEZWAAR in a message has
    neither: the message stands beside it."""

    def sentence(say: Say, data: Mapping[str, Any]) -> str:
        details = []
        if data.get("how"):
            details.append(words.word(words.OBJECTION_WAYS, str(data["how"]), say.language))
        if data.get("at"):
            details.append(say.moment(data["at"]))
        text = say(*lead) + (": " + ", ".join(details) if details else "")
        return text + say.note(data)

    return sentence


def _handed_over(say: Say, data: Mapping[str, Any]) -> str:
    text = say("Warm overgedragen aan ", "Handed over to ") + words.partner(
        str(data.get("partner", "")), say.language
    )
    if data.get("partner_kind"):
        text += f" ({words.word(words.PARTNER_KINDS, data['partner_kind'], say.language)})"
    if data.get("consent"):
        text += say("; toestemming: ", "; consent: ") + str(data["consent"])
    return text


# What a tenant told of (rules.situations) and who already helps them (rules.intents.assisted_by).
_SITUATIONS: words.Words = {
    "bereavement": ("een overlijden", "a bereavement"),
    "illness": ("ziekte", "illness"),
    "job_loss": ("baan kwijt", "lost their job"),
    "separation": ("scheiding", "separation"),
    "benefits": ("probleem met uitkering of toeslag", "trouble with a benefit"),
    "income_drop": ("minder inkomen", "less income"),
    "debts": ("andere schulden", "other debts"),
    "money_tight": ("krap met geld", "money is tight"),
}
_HELPERS: words.Words = {
    "administrator": ("bewindvoerder", "financial administrator"),
    "budget_management": ("budgetbeheer", "budget management"),
    "debt_help": ("schuldhulpverlening", "debt assistance"),
    "other": ("hulpverlener", "a support worker"),
}


def _told(say: Say, data: Mapping[str, Any]) -> str:
    """ "Huurder vertelt over de eigen situatie: baan kwijt, andere schulden"."""
    text = say("Huurder vertelt over de eigen situatie", "The tenant tells of their situation")
    told = [
        words.word(_SITUATIONS, str(code), say.language) for code in data.get("situations") or []
    ]
    return f"{text}: {', '.join(told)}" if told else text


SENTENCES: dict[str, Sentence] = {
    # The import (handlers/importer.py).
    "opened": lambda say, d: (
        say("Zaak geopend na import: achterstand ", "Case opened from the import: arrears ")
        + say.euros(d.get("balance_cents"))
        + (
            say(" sinds ", " since ") + say.day(d["arrears_since"])
            if d.get("arrears_since")
            else ""
        )
    ),
    "balance_changed": lambda say, d: (
        say("Saldo van {a} naar {b}", "Balance from {a} to {b}").format(
            a=say.euros(d.get("previous_cents")), b=say.euros(d.get("balance_cents"))
        )
        + (say(" (lijst van ", " (list of ") + say.day(d["as_of"]) + ")" if d.get("as_of") else "")
    ),
    "closed": lambda say, d: say("Zaak afgesloten: ", "Case closed: ") + say.code(d.get("reason")),
    "close_held": lambda say, d: say(
        "Betaald, maar de zaak blijft open: een collega beloofde contact op te nemen",
        "Paid, but the case stays open: a colleague promised to get in touch",
    ),
    "plan_completed": lambda say, d: say(
        "Betaalafspraak afgerond: de achterstand is betaald",
        "Payment plan completed: the arrears are paid",
    ),
    "instalment_kept": lambda say, d: say(
        "Termijn {n} van de betaalafspraak betaald", "Instalment {n} of the plan paid"
    ).format(n=d.get("instalment", "?")),
    "instalment_missed": lambda say, d: say(
        "Termijn {n} van de betaalafspraak gemist", "Instalment {n} of the plan missed"
    ).format(n=d.get("instalment", "?")),
    "plan_broken": lambda say, d: say(
        "Betaalafspraak niet nagekomen: {n} termijnen gemist",
        "Payment plan broken: {n} instalments missed",
    ).format(n=d.get("misses", "?")),
    # The cadence and the case itself (handlers/tick.py, storage/cases.py).
    "reminder_queued": lambda say, d: say(
        "Herinnering ({s}) klaargezet voor {c}", "Reminder ({s}) queued for {c}"
    ).format(s=words.stage(d.get("stage"), say.language), c=say.channel(d)),
    "channel_off": lambda say, d: say(
        "Niet bereikbaar via {c}: dat kanaal staat uit", "Not reachable by {c}: that channel is off"
    ).format(c=say.channel(d)),
    "escalated": _escalated,
    "paused": _paused,
    "resumed": _resumed,
    # Sending (messaging/outcomes.py, handlers/receipts.py).
    "message_sent": lambda say, d: (
        say("{w} verstuurd via {c}", "{w} sent by {c}").format(w=say.what(d), c=say.channel(d))
        + (
            say(" (poging {n})", " (attempt {n})").format(n=d["attempt"])
            if d.get("attempt", 1) > 1
            else ""
        )
    ),
    "send_retry": lambda say, d: (
        say("{w} via {c} lukte nog niet", "{w} by {c} did not go through yet").format(
            w=say.what(d), c=say.channel(d)
        )
        + (
            say("; nieuwe poging ", "; trying again ") + say.moment(d["retry_at"])
            if d.get("retry_at")
            else ""
        )
    ),
    "send_failed": lambda say, d: say("{w} via {c} mislukt", "{w} by {c} failed").format(
        w=say.what(d), c=say.channel(d)
    ),
    "fallback": lambda say, d: say(
        "Verder via {b}, want {a} lukte niet", "Carried on by {b}, because {a} failed"
    ).format(a=say.channel(d, "from_channel"), b=say.channel(d, "to_channel")),
    "message_delivered": lambda say, d: say(
        "{w} afgeleverd via {c}", "{w} delivered by {c}"
    ).format(w=say.what(d), c=say.channel(d)),
    "message_read": lambda say, d: say("{w} gelezen via {c}", "{w} read on {c}").format(
        w=say.what(d), c=say.channel(d)
    ),
    # The tenant (handlers/inbound.py, handlers/linking.py).
    "reply_received": _reply,
    "objection": _objection(
        ("Bezwaar tegen melding bij de gemeente", "Objection to the signal to the municipality")
    ),
    # What the tenant told of their circumstances (handlers/circumstances.py).
    "situation": _told,
    "assisted": lambda say, d: (
        say("Huurder heeft al hulp", "The tenant already has help")
        + (": " + words.word(_HELPERS, d["helper"], say.language) if d.get("helper") else "")
    ),
    "opted_out": lambda say, d: say("Afgemeld voor {c}", "Opted out of {c}").format(
        c=say.channel(d)
    ),
    "opted_in": lambda say, d: say("Weer aangemeld voor {c}", "Signed up again for {c}").format(
        c=say.channel(d)
    ),
    "channel_linked": lambda say, d: say(
        "{c} gekoppeld door de huurder", "{c} linked by the tenant"
    ).format(c=say.channel(d)),
    "plan_offered": lambda say, d: (
        say("Betaalafspraak aangeboden: ", "Payment plan offered: ") + say.plan(d)
    ),
    "plan_agreed": lambda say, d: (
        say("Betaalafspraak gemaakt: ", "Payment plan agreed: ") + say.plan(d)
    ),
    "plan_proposed": lambda say, d: (
        say("Voorstel van de huurder: ", "The tenant's proposal: ")
        + say.plan(d)
        + (
            say(". Voorstel valt buiten de regels: ", ". The proposal is outside the rules: ")
            + say.rules(d)
            if d.get("reasons")
            else ""
        )
    ),
    # Consultants (workplace/actions.py, workplace/signals.py).
    "plan_approved": lambda say, d: (
        say("Voorstel goedgekeurd: ", "Proposal approved: ") + say.plan(d) + say.note(d)
    ),
    "plan_rejected": lambda say, d: (
        say("Voorstel afgewezen: ", "Proposal rejected: ") + say.plan(d) + say.note(d)
    ),
    "claimed": lambda say, d: say("Opgepakt", "Claimed"),
    "released": lambda say, d: say("Teruggegeven aan de wachtrij", "Released to the queue"),
    "consultant_reply": lambda say, d: say(
        "Bericht van consulent via {c}", "Consultant's message by {c}"
    ).format(c=say.channel(d)),
    "contact_logged": _contact,
    # workplace/objections.py; an objection a consultant recorded is "objection" above.
    "objection_withdrawn": _objection(
        ("Bezwaar tegen melding ingetrokken", "Objection to the signal withdrawn")
    ),
    "note": lambda say, d: say("Notitie: ", "Note: ") + str(d.get("text", "")),
    "resolved": lambda say, d: (
        say("Afgesloten: ", "Resolved: ") + say.code(d.get("reason")) + say.note(d)
    ),
    "handed_over": _handed_over,
    "partner_feedback": lambda say, d: (
        say("Terugkoppeling partner: ", "Partner feedback: ")
        + say.code(d.get("feedback"))
        + say.note(d)
    ),
    "signalled": lambda say, d: (
        say("Gemeld bij de gemeente", "Signalled to the municipality")
        + (
            say(" (warm: er was contact met de huurder)", " (warm: the tenant was in contact)")
            if d.get("warm")
            else ""
        )
    ),
}


def describe(kind: str, data: Mapping[str, Any], say: Say) -> str:
    """The event as a sentence; a kind written by newer code than this reads as its words."""
    sentence = SENTENCES.get(kind)
    if sentence is None:
        text = kind.replace("_", " ")
        return text[:1].upper() + text[1:]
    return sentence(say, data)


def message_title(
    direction: str | None, template: str | None, intent: str | None, language: str
) -> str:
    """A message in the timeline: "Herinnering: vriendelijk", "Antwoord van de huurder: …"."""
    if direction == "in":
        lead = "The tenant wrote" if language == "en" else "Bericht van de huurder"
        return f"{lead}: {words.word(words.INTENTS, intent, language)}" if intent else lead
    if template:
        return words.template(template, language)
    return "Message" if language == "en" else "Bericht"


@dataclass(frozen=True)
class Line:
    """One line of a case's timeline, all in words."""

    at: datetime
    text: str
    actor: str
    direction: str | None = None  # messages: "in" or "out"
    channel: str | None = None  # messages: the code, for the badge's colour
    channel_words: str = ""
    status: str = ""
    body: str | None = None


def timeline(view: CaseView, language: str, tz: tzinfo) -> list[Line]:
    """The case's messages and events as the pages show them."""
    say = Say(language, tz, {message.id: message.template for message in view.messages})
    result = []
    for item in view.timeline:
        if item.kind == "message":
            result.append(
                Line(
                    at=item.at,
                    text=message_title(item.direction, item.template, item.intent, language),
                    actor=words.actor(item.actor, language),
                    direction=item.direction,
                    channel=item.channel,
                    channel_words=words.channel(item.channel, language),
                    status=words.status(item.status, language),
                    body=item.body,
                )
            )
        else:
            result.append(
                Line(
                    item.at, describe(item.title, item.data, say), words.actor(item.actor, language)
                )
            )
    return result
