"""Understanding a tenant's reply: a pure parser from free text to an intent and details.

Dutch and English, robust to case, accents, emoji and small typos. The standard menu
digits are 1 = plan, 2 = help, 3 = paid.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any


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
    amount_cents: int | None = None
    months: int | None = None
    pay_date: date | None = None
    crisis: bool = False
    # For a question: "payment" when it asks how much or where to pay, which the bot may
    # answer from the case's own data on a verified address.
    topic: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["intent"] = self.intent.value
        data["pay_date"] = self.pay_date.isoformat() if self.pay_date else None
        return data


# Words that mean the tenant may be in danger now: highest priority, crisis line in the answer.
CRISIS_PHRASES = (
    "crisis",
    "ontruiming",
    "ontruimd",
    "uit huis gezet",
    "eviction",
    "evicted",
    "deurwaarder",
    "bailiff",
    "zelfmoord",
    "suicide",
    "geen eten",
    "voor eten",
    "niets te eten",
    "niks te eten",
    "no food",
    "money for food",
    "niet meer leven",
    "end my life",
)

_PAYMENT_QUESTION = (
    "hoeveel",
    "how much",
    "bedrag",
    "saldo",
    "iban",
    "rekeningnummer",
    "rekening nummer",
    "welke rekening",
    "overmaken naar",
    "betalen naar",
    "account number",
    "which account",
    "pay to",
    "what do i owe",
)

_MENU = {"1": Intent.PLAN, "2": Intent.HELP, "3": Intent.PAID}
_STOP_WORDS = {
    "stop",
    "stoppen",
    "afmelden",
    "unsubscribe",
    "uitschrijven",
    "cancel",
    "end",
    "quit",
}
_START_WORDS = {"start", "aanmelden", "unstop", "subscribe"}

# Ordered: the first intent whose phrase appears wins, so the stronger signals come first.
_PHRASES: tuple[tuple[Intent, tuple[str, ...]], ...] = (
    (
        Intent.OBJECTION,
        (
            "bezwaar",
            "niet doorgeven",
            "niet naar de gemeente",
            "geen melding",
            "object",
            "do not share",
            "don't share",
            "dont share",
            "not pass",
            "niet delen",
            "niet dat mijn gegevens",
            "mijn gegevens niet",
            "gegevens niet doorgeven",
        ),
    ),
    (
        Intent.HELP,
        (
            "hulp",
            "help",
            "schuldhulp",
            "schulden",
            "bewindvoerder",
            "bewind",
            "ontslag",
            "ontslagen",
            "werkloos",
            "werk kwijt",
            "baan kwijt",
            "schuldsanering",
            "wsnp",
            "ziek",
            "overleden",
            "begrafenis",
            "geen geld",
            "no money",
            "debt",
            "lost my job",
            "sick",
            "ill",
            "died",
            "administrator",
            "budgetcoach",
            *CRISIS_PHRASES,
        ),
    ),
    (
        Intent.DISPUTE,
        (
            "klopt niet",
            "niet juist",
            "onjuist",
            "fout bedrag",
            "foutief",
            "not correct",
            "incorrect",
            "wrong",
            "mistake",
            "vergissing",
            "dispute",
            "oneens",
            "niet mee eens",
            "geen achterstand",
            "niets schuldig",
            "don't owe",
            "dont owe",
            "do not owe",
        ),
    ),
    (
        Intent.CALLBACK,
        (
            "bel me",
            "bel mij",
            "terugbellen",
            "bellen",
            "call me",
            "phone me",
            "call back",
            "callback",
            "telefonisch",
        ),
    ),
    (
        Intent.PAID,
        (
            "betaald",
            "overgemaakt",
            "al voldaan",
            "voldaan",
            "gestort",
            "paid",
            "payed",
            "transferred",
            "heb betaald",
            "already paid",
        ),
    ),
    (
        Intent.PLAN,
        (
            "regeling",
            "betalingsregeling",
            "betaalafspraak",
            "afspraak",
            "termijn",
            "termijnen",
            "per maand",
            "p/m",
            "pm",
            "in delen",
            "gespreid",
            "spread",
            "later betalen",
            "volgende maand",
            "plan",
            "instalment",
            "installment",
            "per month",
            "a month",
            "pay later",
            "next month",
            "afbetalen",
            "aflossen",
            "betaal",
        ),
    ),
    (
        Intent.QUESTION,
        (
            "hoeveel",
            "waarom",
            "wie is",
            "wie ben",
            "iban",
            "rekeningnummer",
            "wat moet",
            "how much",
            "why",
            "who is",
            "who are",
            "what",
            "wat is",
            "?",
        ),
    ),
)

_VOCABULARY = sorted(
    {
        word
        for _, phrases in _PHRASES
        for phrase in phrases
        for word in phrase.split()
        if len(word) >= 5
    }
)

_AMOUNT = re.compile(
    r"(?:€|eur(?:o)?)?\s*(?P<num>\d{1,3}(?:[.\s]\d{3})+|\d+)(?:[.,](?P<dec>\d{1,2}|-{1,2}))?"
    r"\s*(?:€|eur(?:o|os)?)?",
)
_MONTHS = re.compile(
    r"(?P<n>\d{1,2})\s*(?:maanden|maand|mnd|months?|termijnen|termijn|keer|delen|parts|instal+ments?|x)\b"
)
_DATE = re.compile(r"\b(?P<d>\d{1,2})[-/](?P<m>\d{1,2})(?:[-/](?P<y>\d{2,4}))?\b")
_RELATIVE = {
    "vandaag": 0,
    "today": 0,
    "morgen": 1,
    "tomorrow": 1,
    "overmorgen": 2,
    "volgende week": 7,
    "next week": 7,
}


def normalise(text: str) -> str:
    """Lower case, accents stripped, emoji and symbols gone, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        if char == "€" or char.isalnum() or char in " .,-/?:'" or char.isspace():
            kept.append(char)
        else:
            kept.append(" ")
    return " ".join("".join(kept).lower().split())


# Real words close to a keyword that must not be "corrected" into it.
_KNOWN_WORDS = {"betaal", "betalen", "betaling", "maand", "maanden", "graag", "bedankt"}


def _correct_typos(words: list[str]) -> str:
    fixed = []
    for word in words:
        if len(word) >= 5 and word.isalpha() and word not in _KNOWN_WORDS:
            match = difflib.get_close_matches(word, _VOCABULARY, n=1, cutoff=0.82)
            fixed.append(match[0] if match else word)
        else:
            fixed.append(word)
    return " ".join(fixed)


def _contains(text: str, phrase: str) -> bool:
    if phrase == "?":
        return "?" in text
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


# "de 1e van de maand", "the 1st": a day, not an amount.
_ORDINAL = re.compile(r"(?<![0-9])[0-9]{1,2}(?:e|ste|de|st|nd|rd|th)(?![a-z])")
# A Dutch postcode ("1234 AB") and the house number beside it are not an amount; "50 pm"
# and "100 eu" still are.
_POSTCODE = re.compile(
    r"(?:(?<![0-9.,])[0-9]{1,5}[a-z]? ?,? ?)?"
    r"(?<![0-9])[1-9][0-9]{3} ?(?!eu|pm|pp)[a-z]{2}(?![a-z])"
    r"(?: ?,? ?[0-9]{1,5}(?:[ -]?[a-z](?![a-z]))?(?![0-9.,]))?"
)


def _amount_cents(text: str) -> int | None:
    without_months = _MONTHS.sub(" ", _ORDINAL.sub(" ", _POSTCODE.sub(" ", text)))
    without_dates = _DATE.sub(" ", without_months)
    best: int | None = None
    for match in _AMOUNT.finditer(without_dates):
        whole = re.sub(r"[.\s]", "", match.group("num"))
        dec = match.group("dec") or ""
        cents = int(whole) * 100 + (int(dec.ljust(2, "0")) if dec.isdigit() else 0)
        if cents <= 0 or cents > 100_000_00:
            continue
        has_marker = "€" in match.group(0) or "eur" in match.group(0) or dec != ""
        if has_marker or best is None:
            best = cents
            if has_marker:
                break
    return best


def _pay_date(text: str, today: date | None) -> date | None:
    if today is not None:
        for phrase, days in sorted(_RELATIVE.items(), key=lambda item: -len(item[0])):
            if _contains(text, phrase):
                return today + timedelta(days=days)
    match = _DATE.search(text)
    if match is None:
        return None
    year_text = match.group("y")
    year = (today.year if today else 2000) if year_text is None else int(year_text)
    if year < 100:
        year += 2000
    try:
        found = date(year, int(match.group("m")), int(match.group("d")))
    except ValueError:
        return None
    if year_text is None and today is not None and found < today:
        found = found.replace(year=found.year + 1)
    return found


def parse_reply(text: str, today: date | None = None) -> Reply:
    """Understand one message. Never raises."""
    clean = normalise(text or "")
    if not clean:
        return Reply(Intent.UNKNOWN)
    words = clean.replace("?", " ? ").split()
    first = words[0].strip(".,!:")
    if clean.strip(".! ") in _MENU:
        return Reply(_MENU[clean.strip(".! ")])
    if first in _STOP_WORDS and len(words) <= 3:
        return Reply(Intent.STOP)
    if first in _START_WORDS and len(words) <= 3:
        return Reply(Intent.START)
    corrected = _correct_typos(words)
    intent = next(
        (
            found
            for found, phrases in _PHRASES
            if any(_contains(corrected, phrase) for phrase in phrases)
        ),
        Intent.UNKNOWN,
    )
    amount = _amount_cents(clean)
    months_match = _MONTHS.search(clean)
    # "niet alles in 1x": one instalment is no number of months.
    months = int(months_match.group("n")) if months_match else None
    months = months if months is not None and months >= 2 else None
    pay_date = _pay_date(clean, today)
    if intent in (Intent.UNKNOWN, Intent.QUESTION) and amount is not None and "?" not in clean:
        intent = Intent.PLAN  # "50" or "€ 60 per maand": an offer of an amount
    if intent is Intent.UNKNOWN and pay_date is not None:
        intent = Intent.PLAN
    if intent in (Intent.UNKNOWN, Intent.QUESTION) and months is not None:
        intent = Intent.PLAN  # "may I pay in 4 parts?" asks for a plan
    if intent is Intent.PAID and pay_date is not None and today is not None and pay_date > today:
        intent = Intent.PLAN  # "I will pay next week" is a promise, not a payment
    if any(_contains(clean, phrase) for phrase in CRISIS_PHRASES):
        return Reply(Intent.HELP, crisis=True)
    if intent is Intent.QUESTION:
        asks_payment = any(_contains(clean, phrase) for phrase in _PAYMENT_QUESTION)
        return Reply(intent, topic="payment" if asks_payment else None)
    if intent is not Intent.PLAN:
        return Reply(intent)
    return Reply(intent, amount, months if months and months > 0 else None, pay_date)
