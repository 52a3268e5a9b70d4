"""Understanding a tenant's reply: a pure parser from free text to an intent and details.

Dutch and English, robust to case, accents, emoji, small typos and voice typing without
punctuation. The standard menu digits are 1 = plan, 2 = help, 3 = paid. What the words mean
lives in rules.reply_words, amounts and months in rules.amounts, dates in rules.pay_dates; this
module decides which meaning wins. `python -m bench.intents` scores it on real messages.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from rules import amounts, pay_dates
from rules import reply_words as words
from rules.reply_text import correct_typos, has_any, normalise, replace_all
from rules.situations import situations

__all__ = ["Intent", "Reply", "assisted_by", "normalise", "parse_reply"]


class Intent(StrEnum):
    PLAN = "plan"
    PAID = "paid"
    HELP = "help"
    DISPUTE = "dispute"
    CALLBACK = "callback"
    OBJECTION = "objection"
    STOP = "stop"
    START = "start"
    QUESTION = "question"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reply:
    intent: Intent
    amount_cents: int | None = None  # per month
    months: int | None = None
    pay_date: date | None = None
    crisis: bool = False
    # The tenant says debt assistance or a bewindvoerder already deals with their money
    # (with any intent): a consultant then works with that helper instead of starting over.
    assisted: bool = False
    # For a question: "payment" when it asks how much or where to pay, which the bot may
    # answer from the case's own data on a verified address.
    topic: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["intent"] = self.intent.value
        data["pay_date"] = self.pay_date.isoformat() if self.pay_date else None
        return data


# Ordered: the first group with a phrase in the message wins, so the stronger signals come
# first. An ask for a person beats an offer; an offer beats hard times told beside it. Hard
# times are also whatever rules.situations hears (job loss, illness…): one vocabulary of a
# tenant's life for the answer's sympathy and for the meaning.
_ORDER: tuple[tuple[Intent, tuple[str, ...]], ...] = (
    (Intent.OBJECTION, words.OBJECTION),
    (Intent.HELP, words.HELP_ASKED),
    (Intent.DISPUTE, words.DISPUTE),
    (Intent.CALLBACK, words.CALLBACK),
    (Intent.PAID, words.PAID),
    (Intent.PLAN, words.PLAN),
    (Intent.HELP, words.HARDSHIP),
    (Intent.HELP, words.ASSISTED),
    (Intent.QUESTION, words.QUESTION),
    (Intent.PLAN, words.PLAN_WEAK),
)
_VOCABULARY = sorted(
    {
        word
        for _, group in _ORDER
        for phrase in group
        for word in phrase.replace("*", "").split()
        if len(word) >= 5 and word.isalpha()
    }
)
# Who already helps the tenant, as the case's timeline names it; the first kind found wins.
_HELPERS = (
    ("administrator", words.ASSISTED_ADMINISTRATOR),
    ("budget_management", words.ASSISTED_BUDGET),
    ("debt_help", words.ASSISTED_DEBT_HELP),
    ("other", words.ASSISTED_OTHER),
)

_MENU = {"1": Intent.PLAN, "2": Intent.HELP, "3": Intent.PAID}
# The longest chat message WhatsApp and Telegram allow. What a tenant asks is at the start;
# reading no further bounds the work any one message can cost.
READ_CHARACTERS = 4096
# "1 - 50 per maand", "3, heb betaald", "optie 2", "ik wil 1 betaalafspraak": the menu digit
# before the message, never its amount. Not when the digit counts or dates something ("2
# keer", "1 december", "2 of 3") or is the start of a number ("1,50", "1-12").
_MENU_CHOICE = re.compile(
    r"^(?:(?:ik\s+)?(?:kies|neem|wil)\s+|optie\s+|keuze\s+|nummer\s+|nr\.?\s*|option\s+|"
    r"choice\s+)?(?P<digit>[123])(?:\s*[.,:;!)-]+)?(?=\s|$)"
    r"(?!\s*(?:x|keer|maanden|maand|mnd|months?|termijn\w*|delen|parts|weken|weeks?|dagen|"
    rf"days?|jaar|years?|of|a|tot|en|euros?|eur|{pay_dates.MONTH_NAMES})(?![a-z]))"
)


# "Ik heb betaalt": a verb at the end of a Dutch clause is the participle, whatever the spelling.
_PARTICIPLE = re.compile(r"(?<![a-z])betaalt(?=\s*(?:[.,!?]|$))")
_QUESTION_WORD = re.compile(
    r"^(?:wanneer|hoe|wat|waar|waarom|wie|welk|welke|hoeveel|when|how|what|where|why|who|which)"
    r"(?![a-z]).*\?$"
)


def _as_said(body: str) -> str:
    """The message as the word lists read it: a "betaald" that is no payment made to us
    ("ik krijg vrijdag betaald") is gone, "betaalt" at the end is "betaald", typos fixed."""
    body = replace_all(body, words.NOT_A_PAYMENT, "salaris")
    return correct_typos(_PARTICIPLE.sub("betaald", body), _VOCABULARY, words.KEEP)


def _meaning(said: str, body: str) -> Intent:
    """The first group of _ORDER the message speaks of; a situation counts as hard times."""
    for intent, group in _ORDER:
        if has_any(said, group):
            return intent
        if group is words.HARDSHIP and situations(body):
            return Intent.HELP
    return Intent.UNKNOWN


def _helped(group: tuple[str, ...], clean: str, said: str) -> bool:
    """The message says a helper of this group already helps (typos forgiven in `said`)."""
    return any(
        has_any(text, group) and not has_any(text, words.HELPER_WANTED) for text in (clean, said)
    )


def assisted_by(text: str) -> str | None:
    """Who already helps, when the message says so: "administrator" (a bewindvoerder),
    "budget_management", "debt_help" or "other"; None when it names no helper."""
    clean = normalise((text or "")[:READ_CHARACTERS])
    said = _as_said(clean)
    return next((kind for kind, group in _HELPERS if _helped(group, clean, said)), None)


def parse_reply(text: str, today: date | None = None) -> Reply:
    """Understand one message. Never raises."""
    clean = normalise((text or "")[:READ_CHARACTERS])
    menu = _MENU_CHOICE.match(clean)
    choice = _MENU[menu.group("digit")] if menu else None
    body = clean[menu.end() :].strip(" .,:;!-") if menu else clean
    if not body:
        return Reply(choice or Intent.UNKNOWN)
    tokens = [token.strip(".,!:?") for token in body.split()]
    short = len(tokens) <= 3  # "stop", "STOP aub", "please stop"; not "ik ben gestopt met…"
    if (short and words.STOP_WORDS.intersection(tokens)) or has_any(body, words.STOP):
        return Reply(Intent.STOP)
    if (short and tokens[0] in words.START_WORDS) or has_any(body, words.START):
        return Reply(Intent.START)
    said = _as_said(body)
    assisted = _helped(words.ASSISTED, clean, said)
    if has_any(clean, words.CRISIS):
        return Reply(Intent.HELP, crisis=True, assisted=assisted)
    intent = _meaning(said, body)
    if intent is Intent.PAID and _QUESTION_WORD.match(body):
        intent = Intent.QUESTION  # "wanneer moet het betaald zijn?"
    if intent is Intent.PLAN and _QUESTION_WORD.match(body) and not has_any(said, words.PLAN):
        intent = Intent.QUESTION  # "waar moet ik het geld naartoe sturen?": a pay verb asked
    only_asks = intent is Intent.UNKNOWN and "?" in body  # a question mark, nothing more
    if choice is not None and (intent is Intent.UNKNOWN or only_asks):
        intent, only_asks = choice, False
    elif only_asks:
        intent = Intent.QUESTION
    pay_date, rest = pay_dates.find(amounts.spell_out(body), today)
    offer = amounts.read(rest)
    later = pay_date is not None and today is not None and pay_date > today
    promised = later and has_any(said, words.PROMISE)
    if intent is Intent.PAID and later and (promised or not has_any(said, words.PAST)):
        intent = Intent.PLAN  # "de rest betaal ik vrijdag", "binnen 2 weken is het betaald"
    if intent is Intent.PAID and has_any(said, words.PROMISE) and (offer.marked or offer.months):
        intent = Intent.PLAN  # "ik heb 100 betaald, de rest kan ik in 3 termijnen betalen"
    offers = offer.amount_cents is not None and (offer.marked or "?" not in body)
    # "ik kijk er morgen naar": a day to look or answer, with no word of paying, is no promise.
    deferred = has_any(said, words.DEFER) and not has_any(said, words.PROMISE)
    if (intent is Intent.UNKNOWN or only_asks) and (
        offers or offer.months or (pay_date and not deferred)
    ):
        intent = Intent.PLAN  # "50", "kan ik op 3-12 betalen?": an offer
    hard_times = intent is Intent.HELP and not has_any(said, words.HELP_ASKED)
    if hard_times and (offer.marked or offer.months or promised):
        intent = Intent.PLAN  # "ik heb geen werk, maar 20 per maand lukt": the offer counts
    if intent is Intent.QUESTION and offer.months:
        intent = Intent.PLAN  # "may I pay in 4 parts?" asks for a plan
    if intent is Intent.QUESTION:
        asks_payment = has_any(clean, words.PAYMENT_QUESTION)
        return Reply(intent, assisted=assisted, topic="payment" if asks_payment else None)
    if intent is not Intent.PLAN:
        return Reply(intent, assisted=assisted)
    return Reply(intent, offer.amount_cents, offer.months, pay_date, assisted=assisted)
