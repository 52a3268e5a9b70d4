"""Money in a tenant's message: the amount a month they offer and over how many months. Pure.

Reads normalised text (rules.reply_text.normalise) with number words as digits (`spell_out`)
and dates already blanked (rules.pay_dates), so "1-12" or "15 december" is never an amount.
Spans that are read are blanked with spaces, not cut, so distances between words stay true.

The amount is per month, as a plan needs it: "20 per week" is 20 × 52 / 12, "the 450 in 3
months" is 150 a month. A number that is no money (a house number, "2 jaar", "1 betaal-
afspraak", "ik heb 100 betaald") is passed over; a garbled one ("1e400") makes the amount
unclear, and the bot then asks for it rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CENTS = 100_000_00  # more than any arrears: a phone or reference number, not money

# -- Number words -------------------------------------------------------------------------


def _counting(names: str, first: int, step: int = 1) -> dict[str, int]:
    return {name: first + index * step for index, name in enumerate(names.split())}


_NL = {
    **_counting("twee drie vier vijf zes zeven acht negen", 2),
    **_counting(
        "tien elf twaalf dertien veertien vijftien zestien zeventien achttien negentien", 10
    ),
    **_counting("twintig dertig veertig vijftig zestig zeventig tachtig negentig", 20, 10),
}
_EN = {
    **_counting("two three four five six seven eight nine", 2),
    **_counting(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen", 10
    ),
    **_counting("twenty thirty forty fifty sixty seventy eighty ninety", 20, 10),
}
_NL_COMPOUND = re.compile(
    r"(een|twee|drie|vier|vijf|zes|zeven|acht|negen)en"
    r"(twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig)"
)
_HUNDRED = frozenset({"honderd", "hundred"})
_THOUSAND = frozenset({"duizend", "thousand"})
# "een", "one" and "a" alone are mostly articles; they count only before hundred/thousand.
_ONE = frozenset({"een", "one", "a"})


def _dutch(word: str, inner: bool = False) -> int | None:
    """One Dutch word: "vijfentwintig", "tweehonderdvijftig", "twaalfhonderd"."""
    if word in _NL:
        return _NL[word]
    if inner and word == "een":
        return 1
    compound = _NL_COMPOUND.fullmatch(word)
    if compound:
        return (_dutch(compound.group(1), inner=True) or 0) + _NL[compound.group(2)]
    for big, size in (("duizend", 1000), ("honderd", 100)):
        head, found, tail = word.partition(big)
        if not found or not (head or tail):
            continue
        times = 1 if head in ("", "een") else _dutch(head, inner=True)
        rest = 0 if not tail else _dutch(tail.removeprefix("en") or tail, inner=True)
        if times is None or rest is None or times >= size or rest >= size:
            return None
        return times * size + rest
    return None


def _value(word: str) -> int | None:
    if word in _EN:
        return _EN[word]
    if "-" in word:  # "twenty-five"
        tens, _, unit = word.partition("-")
        if _EN.get(tens, 0) >= 20 and _EN.get(tens, 0) % 10 == 0 and _EN.get(unit, 10) < 10:
            return _EN[tens] + _EN[unit]
        return None
    return _dutch(word)


def _read_number(words: list[str], start: int) -> tuple[int, int]:
    """The number spelled from words[start] on, and how many words it took (0: none)."""
    total, part, taken, index = 0, 0, 0, start
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else ""
        if total + part > MAX_CENTS:  # "honderd honderd honderd …" is no amount
            break
        if word in _HUNDRED:
            part = (part or 1) * 100
        elif word in _THOUSAND:
            total, part = total + (part or 1) * 1000, 0
        elif word in _ONE and (following in _HUNDRED or following in _THOUSAND):
            if taken:
                break
            part = 1
        elif word in ("en", "and") and taken and part % 100 == 0 and _value(following):
            index += 1  # "one hundred and fifty"
            continue
        else:
            value = _value(word)
            low = part % 100
            fits = low == 0 or (low >= 20 and low % 10 == 0 and value is not None and value < 10)
            if value is None or not fits or (taken and value >= 100):
                break
            part += value
        index += 1
        taken = index - start
    return total + part, taken


# Money named by its note: "een tientje per week" is 10 euro a week.
_NOTES = {"vijfje": "5 euro", "tientje": "10 euro"}


def spell_out(text: str) -> str:
    """Number words as digits: "vijfentwintig euro" → "25 euro", "a hundred" → "100"."""
    words = [_NOTES.get(word, word) for word in text.split(" ")]
    out: list[str] = []
    index = 0
    while index < len(words):
        number, taken = _read_number(words, index)
        if taken and number > 0:
            out.append(str(number))
            index += taken
        else:
            out.append(words[index])
            index += 1
    return " ".join(out)


# -- Months --------------------------------------------------------------------------------

# "in 3 maanden" (spread: an amount beside it is the total) or "3 termijnen van 150", "2x 300"
# (an amount beside it is each instalment).
_MONTHS = re.compile(
    r"(?:(?<![a-z])(?P<spread>in|over|binnen|within|across)\s+(?:de\s+|the\s+)?)?"
    r"(?<![0-9.,])(?P<n>[0-9]{1,2})\s*"
    r"(?:maanden|maand|mnd|months?|termijnen|termijn|keer|delen|parts|payments|instal+ments?|x)"
    r"(?![a-z])"
)
_YEARS = re.compile(
    r"(?<![a-z])(?:(?:een\s+|a\s+)?(?P<half>half)\s+|(?P<oneandhalf>anderhalf)\s+|"
    r"(?:in|binnen|within|over)\s+(?P<n>een|a|one|[1-5])\s+)(?:jaar|jaren|years?)(?![a-z])"
)


def _months(text: str) -> tuple[int | None, int | None, str]:
    """Months named (2 or more); where they are named as a span to spread over ("in 3
    maanden"), else None; and the text without them."""
    found: int | None = None
    spread_at: int | None = None
    for match in _YEARS.finditer(text):
        n = match.group("n")
        count = 6 if match.group("half") else 18 if match.group("oneandhalf") else 0
        count = count or 12 * (1 if n in _ONE else int(n or 1))
        if found is None:
            found, spread_at = count, match.start()
    for match in _MONTHS.finditer(text):
        count = int(match.group("n"))
        if count >= 2 and found is None:
            found = count
            spread_at = match.start() if match.group("spread") is not None else None
    return found, spread_at, _blank(_YEARS, _blank(_MONTHS, text))


def _blank(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda match: " " * len(match.group(0)), text)


# -- Periods and amounts -------------------------------------------------------------------

_PERIODS = (
    (
        13,  # every four weeks, as many wages and benefits are paid: 13 a year
        re.compile(
            r"(?<![a-z])(?:(?:per|elke|iedere|every|each)\s+4\s+(?:weken|weeks)|"
            r"(?:4|vier)[- ]?wekelijks)(?![a-z])"
        ),
    ),
    (
        26,  # every two weeks: 26 a year
        re.compile(
            r"(?<![a-z])(?:(?:per|elke|iedere|every|each)\s+2\s+(?:weken|weeks)|"
            r"om\s+de\s+(?:andere\s+)?week|every\s+other\s+week|fortnight\w*|"
            r"(?:2|twee)[- ]?wekelijks|biweekly)(?![a-z])"
        ),
    ),
    (
        52,
        re.compile(
            r"(?<![a-z])(?:(?:per|a|every|each|elke|iedere|in\s+de)\s+week|p/w|pw|wekelijks|"
            r"weekly)(?![a-z])|/\s*week(?![a-z])"
        ),
    ),
    (
        12,
        re.compile(
            r"(?<![a-z])(?:(?:per|a|every|each|elke|iedere|in\s+de)\s+(?:maand|mnd|month)|"
            r"p/mnd|p/m|p\.\s?m\.?|pm|maandelijks|monthly)(?![a-z])|"
            r"/\s*(?:maand|mnd|month|m)(?![a-z])"
        ),
    ),
)
# "1234 AB" and the house number beside it; "50 pm", "100 eu" stay, and so does an amount
# before a little word ("1200 in 1 keer", "1500 op de 1e"): letters a postcode may have, but
# far more often the next word.
_POSTCODE = re.compile(
    r"(?:(?<![0-9.,])[0-9]{1,5}[a-z]? ?,? ?)?"
    r"(?<![0-9])[1-9][0-9]{3}"
    r"(?:(?!eu|pm|pp)[a-z]{2}| (?!eu|pm|pp|in|op|en|of|om|te|na|is|to|on|or|at|by|de)[a-z]{2})"
    r"(?![a-z])"
    r"(?: ?,? ?[0-9]{1,5}(?:[ -]?[a-z](?![a-z]))?(?![0-9.,]))?"
)
_GARBLED = re.compile(r"(?<![a-z0-9])[0-9]+[a-z]+[0-9]+")  # "1e400": which number was meant?
# "40 à 50", "40-50", "tussen de 30 en 40 euro": the lower end, which the tenant can surely pay.
_RANGE = re.compile(
    r"(?:(?<![a-z])(?:tussen|between)\s+(?:de\s+)?(?:€\s*)?"
    r"(?P<low1>[0-9]+(?:,[0-9]{1,2})?)\s*(?:euro\s+)?(?:en|and)|"
    r"(?:€\s*)?(?P<low2>(?<![0-9.,])[0-9]+(?:,[0-9]{1,2})?)\s*(?:euro\s+)?(?:-|a|tot|to|of|or))"
    r"\s*(?:€\s*)?[0-9]+(?:,[0-9]{1,2}|,-)?(?![0-9])"
)
_AMOUNT = re.compile(
    r"(?P<pre>(?<![a-z])(?:€|eur(?:o|os)?)\s*)?"
    r"(?<![0-9a-z.,])(?P<num>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,9})"
    r"(?:[.,](?P<dec>[0-9]{1,2}(?![0-9])|-{1,2}))?"
    r"(?P<post>\s*(?:€|eur(?:o|os)?(?![a-z])))?"
    r"(?![0-9]|(?!pm|p/|pw)[a-z])"
)
# Numbers that are no offer: what was paid, a reference, the debt itself, a count of things.
_PAID_AFTER = re.compile(
    r"^\s*(?:euro?s?\s+)?(?:al\s+|already\s+)?(?:betaald|overgemaakt|gestort|voldaan|paid)"
)
_REFERENCE_BEFORE = re.compile(
    r"(?<![a-z])(?:nummer|nr|huisnummer|huurnummer|klantnummer|contractnummer|kenmerk|"
    r"referentie|ref|dossier\w*|number|postcode|tel\w*)\s*[:.]?\s*$"
)
# "een achterstand van 650 euro, ik kan 50": the debt, an offer only when nothing else is.
_DEBT_BEFORE = re.compile(
    r"(?<![a-z])(?:achterstand|schuld|saldo|debt|balance)\s+(?:van|of|is|bedraagt)?\s*(?:€\s*)?$"
)
_UNIT_AFTER = re.compile(
    r"^\s*(?:jaar|jaren|years?|kinderen|kids|children|uur|u|dagen|dag|days?|weken|weeks?|"
    r"minuten|min|procent|keer|x)(?![a-z])|^:[0-9]"
)
_NEAR = 25  # characters between a number and "per maand" for the two to belong together


@dataclass(frozen=True)
class Offer:
    amount_cents: int | None = None  # per month
    months: int | None = None
    # The amount came with € or euro, cents, or "per maand": surely money, even in a question.
    marked: bool = False


@dataclass(frozen=True)
class _Candidate:
    cents: int
    start: int
    end: int
    marked: bool
    debt: bool


def _candidates(text: str) -> list[_Candidate]:
    found = []
    for match in _AMOUNT.finditer(text):
        digits = match.group("num").replace(".", "")
        dec = match.group("dec") or ""
        cents = int(digits) * 100 + (int(dec.ljust(2, "0")) if dec.isdigit() else 0)
        if not 0 < cents <= MAX_CENTS or (len(digits) > 1 and digits.startswith("0") and not dec):
            continue
        # Only the words close by: the whole text each time would be quadratic in its length.
        start, end = match.span()
        before, after = text[max(0, start - 40) : start], text[end : end + 40]
        if _PAID_AFTER.match(after) or _REFERENCE_BEFORE.search(before):
            continue
        marked = bool(match.group("pre") or match.group("post") or dec)
        if not marked and _UNIT_AFTER.match(after):
            continue
        debt = _DEBT_BEFORE.search(before) is not None
        found.append(_Candidate(cents, start, end, marked, debt))
    return found


def _per_year(text: str, candidate: _Candidate) -> tuple[int, int] | None:
    """How often a year the amount falls ("per maand" close by: 12), and how close."""
    best: tuple[int, int] | None = None
    # A period phrase is short: one that starts or ends within _NEAR lies in this window.
    window = (max(0, candidate.start - _NEAR - 40), candidate.end + _NEAR + 40)
    for times, pattern in _PERIODS:
        for match in pattern.finditer(text, *window):
            gap = max(match.start() - candidate.end, candidate.start - match.end(), 0)
            if gap <= _NEAR and (best is None or gap < best[1]):
                best = (times, gap)
    return best


def _lower_end(match: re.Match[str]) -> str:
    low = "low1" if match.group("low1") else "low2"
    return _up_to(match, low).ljust(len(match.group(0)))


def _up_to(match: re.Match[str], group: str) -> str:
    return match.group(0)[: match.end(group) - match.start()]


def read(text: str) -> Offer:
    """The offer in `text` (normalised, numbers spelled out, dates blanked)."""
    months, spread_at, text = _months(_blank(_POSTCODE, text))
    if _GARBLED.search(text):
        return Offer(months=months)
    text = _RANGE.sub(_lower_end, text)
    periods = [(c, _per_year(text, c)) for c in _candidates(text)]
    with_period = [(c, p) for c, p in periods if p is not None]
    if with_period:
        chosen, (times, _) = min(with_period, key=lambda item: item[1][1])
        # Rounded to the cent: 20 a week is 86.67 a month.
        return Offer((chosen.cents * times * 2 + 12) // 24, months, marked=True)
    money = [c for c, _ in periods if c.marked or c.cents >= 10_00]  # "1 regeling": no money
    ranked = sorted(money, key=lambda c: (c.debt, not c.marked))  # stable: first said first
    pick = ranked[0] if ranked else None
    if pick is None:
        return Offer(months=months)
    cents = pick.cents
    if months and spread_at is not None and pick.end <= spread_at:
        # "de 450 in 3 maanden": a total, and N instalments must cover it. After the months
        # ("in 10 termijnen van 30") the amount is each instalment.
        cents = -(-cents // months)
    return Offer(cents, months, marked=pick.marked)
