"""The day a tenant names: "27-11", "15 december", "de 24e", "vrijdag", "over 2 weken". Pure.

Reads normalised text with number words as digits (rules.amounts.spell_out). A date without a
year is this year's, unless it passed more than two months ago ("3-1" in November is next
January; "20-11" in late November is the payment they just made). A weekday is the next one
after today. Vague moments ("volgende maand", "in december") are no date: the plan then
starts on the next rent day anyway.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta

_MONTHS = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "february", "feb"), 2),
    **dict.fromkeys(("maart", "march", "mrt", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("augustus", "august", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("december", "dec"), 12),
}
_WEEKDAYS = {
    **dict.fromkeys(("maandag", "monday"), 0),
    **dict.fromkeys(("dinsdag", "tuesday"), 1),
    **dict.fromkeys(("woensdag", "wednesday"), 2),
    **dict.fromkeys(("donderdag", "thursday"), 3),
    **dict.fromkeys(("vrijdag", "friday"), 4),
    **dict.fromkeys(("zaterdag", "saturday"), 5),
    **dict.fromkeys(("zondag", "sunday"), 6),
}
MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(_WEEKDAYS)
_SUFFIX = r"(?:e|ste|de|st|nd|rd|th)"
# What may follow "27-11" when it is no date: "10-12 euro", "2-3 maanden".
_NOT_A_DAY = r"(?!\s*(?:maand|month|week|dag|day|termijn|keer|x(?![a-z])|eur|€|jaar|year))"

_NUMERIC = re.compile(
    r"(?<![0-9.,/-])(?P<d>[0-9]{1,2})[-/](?P<m>[0-9]{1,2})(?:[-/](?P<y>[0-9]{4}|[0-9]{2}))?"
    r"(?![0-9/-])" + _NOT_A_DAY
)
_DAY_MONTH = re.compile(
    rf"(?<![0-9])(?P<d>[0-9]{{1,2}}){_SUFFIX}?\s+(?:van\s+|of\s+)?(?P<m>{MONTH_NAMES})(?![a-z])"
    r"(?:\s+(?P<y>20[0-9]{2}))?"
)
_MONTH_DAY = re.compile(
    rf"(?<![a-z])(?P<m>{MONTH_NAMES})\s+(?P<d>[0-9]{{1,2}}){_SUFFIX}(?![a-z0-9])"
)
# "op de 24e", "the 28th", "het 1e van de maand"; not "de 2e herinnering" or "1e termijn".
_ORDINAL = re.compile(
    rf"(?:(?<![a-z])(?:op|de|the|on)\s+(?:de\s+|the\s+)?(?P<d>[0-9]{{1,2}}){_SUFFIX}(?![a-z0-9])"
    r"(?!\s+(?:termijn|herinnering|aanmaning|brief|keer|maand|week|betaling|rekening|reminder|"
    r"letter|time|instal|payment|month|dag|day|jaar|year))|"
    rf"(?P<d2>(?<![0-9])[0-9]{{1,2}}){_SUFFIX}\s+(?:van\s+de|of\s+the)\s+(?:maand|month))"
)
_IN_COUNT = re.compile(
    r"(?<![a-z])(?:over|in|binnen|within)\s+(?P<n>[0-9]{1,2}|een|a|one)\s+"
    r"(?P<unit>dagen|dag|days?|weken|week|weeks?)(?![a-z])"
)
_NEXT_WEEKS_DAY = re.compile(
    rf"(?<![a-z])(?:(?:volgende|komende|next)\s+week\s+(?P<a>{_WEEKDAY})|"
    rf"(?P<b>{_WEEKDAY})\s+(?:volgende|komende|next)\s+week)(?![a-z])"
)
# "eind van de maand", "einde maand", "eind v/d maand", "end of the month".
_END_OF_MONTH = re.compile(
    r"(?<![a-z])(?:eind|einde|end)\s+(?:van\s+|of\s+|v/d\s+|vd\s+)?(?:(?:de|deze|the|this)\s+)?"
    r"(?:maand|month)(?![a-z])"
)
_SOON = (
    (re.compile(r"(?<![a-z])(?:overmorgen|day after tomorrow)(?![a-z])"), 2),
    (re.compile(r"(?<![a-z])(?<!goede )(?:morgen(?:ochtend|middag|avond)?|tomorrow)(?![a-z])"), 1),
    (re.compile(r"(?<![a-z])(?:vandaag|vanavond|vanmiddag|today|tonight)(?![a-z])"), 0),
    (re.compile(r"(?<![a-z])(?:volgende|komende|next)\s+week(?![a-z])"), 7),
)
_WEEKDAY_ALONE = re.compile(rf"(?<![a-z])(?P<w>{_WEEKDAY})(?![a-z])")

# The day words a typo may hide ("morge", "vrijdg", "zatedag"): a word a letter away, with
# the same first letter, is read as the day. Real words that close are left alone.
_DAY_WORDS = sorted({*_WEEKDAYS, "morgen", "overmorgen", "vandaag", "vanavond", "volgende"})
_NOT_DAY_WORDS = frozenset({"mogen", "morgens", "vandaan", "maanden", "volgens"})


def _days_spelled(text: str) -> str:
    fixed = []
    for word in text.split(" "):
        if len(word) >= 5 and word.isalpha() and word not in _NOT_DAY_WORDS:
            near = [
                day for day in _DAY_WORDS if day[0] == word[0] and abs(len(day) - len(word)) <= 1
            ]
            match = difflib.get_close_matches(word, near, n=1, cutoff=0.85)
            fixed.append(match[0] if match else word)
        else:
            fixed.append(word)
    return " ".join(fixed)


def _on(day: int, month: int, year_text: str | None, today: date | None) -> date | None:
    year = (today.year if today else 2000) if year_text is None else int(year_text)
    year += 2000 if year < 100 else 0
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if year_text is None and today is not None and found < today - timedelta(days=62):
        try:
            found = found.replace(year=found.year + 1)
        except ValueError:  # 29 February
            return None
    return found


def _next_day_of_month(day: int, today: date | None) -> date | None:
    if today is None:
        return None
    year, month = (today.year, today.month) if day >= today.day else _month_after(today)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_after(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def _blank(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda match: " " * len(match.group(0)), text)


def _written(text: str, today: date | None) -> date | None:
    """A date written with digits: the strongest sign."""
    for match in _NUMERIC.finditer(text):
        found = _on(int(match.group("d")), int(match.group("m")), match.group("y"), today)
        if found is not None:
            return found
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(text):
            year = match.groupdict().get("y")
            found = _on(int(match.group("d")), _MONTHS[match.group("m")], year, today)
            if found is not None:
                return found
    for match in _ORDINAL.finditer(text):
        found = _next_day_of_month(int(match.group("d") or match.group("d2")), today)
        if found is not None:
            return found
    return None


def _said(text: str, today: date) -> date | None:
    """A date said in words, relative to today."""
    count = _IN_COUNT.search(text)
    if count:
        n = count.group("n")
        amount = 1 if not n.isdigit() else int(n)
        return today + timedelta(days=amount * (1 if count.group("unit")[:2] == "da" else 7))
    next_weeks = _NEXT_WEEKS_DAY.search(text)
    if next_weeks:
        monday = today + timedelta(days=7 - today.weekday())
        return monday + timedelta(days=_WEEKDAYS[next_weeks.group("a") or next_weeks.group("b")])
    if _END_OF_MONTH.search(text):
        year, month = _month_after(today)
        return date(year, month, 1) - timedelta(days=1)
    for pattern, days in _SOON:
        if pattern.search(text):
            return today + timedelta(days=days)
    weekday = _WEEKDAY_ALONE.search(text)
    if weekday:
        ahead = (_WEEKDAYS[weekday.group("w")] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return None


def find(text: str, today: date | None) -> tuple[date | None, str]:
    """The date named, if any, and the text with every written date blanked out."""
    text = _days_spelled(text)
    found = _written(text, today)
    if found is None and today is not None:
        found = _said(text, today)
    valid_numeric = _NUMERIC.sub(
        lambda m: " " * len(m.group(0)) if _on(int(m["d"]), int(m["m"]), m["y"], today) else m[0],
        text,
    )
    blanked = valid_numeric
    for pattern in (_DAY_MONTH, _MONTH_DAY, _ORDINAL, _IN_COUNT):
        blanked = _blank(pattern, blanked)
    return found, blanked
