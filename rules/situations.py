"""What a tenant tells us about their life: "ik ben mijn baan kwijt", "my mother died".

The answer acknowledges it before anything else (messaging/templates/*/_parts.txt.j2), so a
tenant who lost their job does not first read "Fijn dat u het laat weten". Pure: text in,
situations out. Dutch and English, accents and small typos forgiven, "niet ziek" is not ill.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum

from rules.reply_text import normalise


class Situation(StrEnum):
    # In the order an answer acknowledges them: only the first one found is named.
    BEREAVEMENT = "bereavement"
    ILLNESS = "illness"
    JOB_LOSS = "job_loss"
    SEPARATION = "separation"
    BENEFITS = "benefits"
    INCOME_DROP = "income_drop"
    DEBTS = "debts"
    # Money is short, with no cause named: the least that a hard time can be.
    MONEY_TIGHT = "money_tight"


# Phrases as a tenant writes them (after normalise(): lower case, no accents). A word
# ending in "*" takes any ending ("ziek*": ziek, zieke, ziekte, ziekenhuis); ".." stands
# for up to three words between ("baan .. kwijt": "mijn baan helaas kwijt").
_SIGNS: dict[Situation, tuple[str, ...]] = {
    Situation.BEREAVEMENT: (
        "overleden",
        "overlijden",
        "gestorven",
        # Someone died ("mijn vader is dood"), not a wish to die ("ik wil dood"): that is
        # a crisis (rules/reply_words.CRISIS), never condolences.
        "is dood",
        "zijn dood",
        "dood gegaan",
        "doodgegaan",
        "overleed",
        "begrafenis",
        "crematie",
        "gecremeerd",
        "in de rouw",
        "died",
        "passed away",
        "death",
        "funeral",
        "bereave*",
    ),
    Situation.ILLNESS: (
        "ziek*",
        "zieke*",
        "ziekenhuis",
        "burn out",
        "burnout",
        "overspannen",
        "depressie*",
        "depressief",
        "kanker",
        "chemo*",
        "operatie",
        "sick",
        "illness",
        "i am ill",
        "i'm ill",
        "im ill",
        "been ill",
        "fell ill",
        "is ill",
        "seriously ill",
        "hospital*",
        "cancer",
        "surgery",
        "depress*",
    ),
    Situation.JOB_LOSS: (
        "baan .. kwijt*",
        "werk .. kwijt*",
        "job .. kwijt*",
        "baan .. verloren",
        "werk .. verloren",
        "ontslag*",
        "werkloos",
        "werkeloos",
        "geen werk",
        "geen baan",
        "zonder werk",
        "in de ww",
        "contract .. niet verlengd",
        "contract .. afgelopen",
        "contract .. gestopt",
        "contract .. opgezegd",
        "baan .. opgezegd",
        "failliet",
        "lost .. job",
        "lost .. work",
        "unemployed",
        "laid off",
        "fired",
        "sacked",
        "redundan*",
        "out of work",
        "no job",
        "jobless",
        "contract .. not renewed",
        "contract .. ended",
    ),
    Situation.SEPARATION: (
        "scheiding",
        "gescheiden",
        "scheiden",
        "uit elkaar",
        "relatie .. over",
        "relatie .. uit",
        "relatie .. voorbij",
        "mijn ex",
        "heeft mij verlaten",
        "heeft me verlaten",
        "divorce*",
        "separated",
        "separation",
        "broke up",
        "split up",
        "break up",
        "left me",
        "my ex",
    ),
    Situation.INCOME_DROP: (
        "minder uren",
        "minder inkomen",
        "minder loon",
        "minder salaris",
        "minder verdien*",
        "loon .. verlaagd",
        "salaris .. verlaagd",
        "fewer hours",
        "less hours",
        "reduced hours",
        "hours .. cut",
        "less income",
        "lower income",
        "pay cut",
        "wage cut",
        "earn* less",
    ),
    Situation.DEBTS: (
        "schulden",
        "schuldeiser*",
        "incassobureau*",
        "deurwaarder*",
        "andere rekeningen",
        "veel rekeningen",
        "rekeningen .. stapelen",
        "debts",
        "in debt",
        "creditor*",
        "debt collector*",
        "collection agency",
        "bills .. piling",
        "other bills",
    ),
    Situation.MONEY_TIGHT: (
        "geen geld",
        "weinig geld",
        "geen cent",
        "krap",
        "krap bij kas",
        "blut",
        "platzak",
        "geldzorgen",
        "geldproblemen",
        "geld problemen",
        "financiele problemen",
        "financiele zorgen",
        "kom .. niet rond",
        "niet rondkomen",
        "moeilijk rondkomen",
        "no money",
        "short of money",
        "money is tight",
        "money problems",
        "money worries",
        "financial problems",
        "struggling financially",
        "broke",
        "can't make ends meet",
        "cant make ends meet",
        "cannot make ends meet",
    ),
}

# A benefit counts when it is named together with something wrong with it, anywhere in the
# message: "mijn uitkering is gestopt", "the allowance came late". Named alone it is news.
_BENEFIT_NAMES = (
    "uitkering*",
    "toeslag*",
    "huurtoeslag*",
    "zorgtoeslag*",
    "kinderbijslag",
    "kindgebonden budget",
    "bijstand*",
    "ww",
    "wia",
    "wajong",
    "aow",
    "pensioen",
    "benefit*",
    "allowance*",
    "universal credit",
    "welfare",
    "pension",
)
_TROUBLE = (
    "stop*",
    "gestopt",
    "beeindigd",
    "ingetrokken",
    "te laat",
    "later",
    "nog niet",
    "niet ontvangen",
    "niet gekregen",
    "niet binnen",
    "komt pas",
    "teruggevorderd",
    "terugbetalen",
    "terug betalen",
    "ingehouden",
    "gekort",
    "geblokkeerd",
    "geen",
    "kwijt",
    "stopped",
    "late",
    "delayed",
    "not received",
    "not paid",
    "cut",
    "suspended",
    "sanction*",
    "pay back",
    "repay*",
)

# A sign right after one of these is denied: "ik ben niet ziek", "geen schulden", "niet meer
# ziek". Benefits are not checked for it: "geen uitkering meer" is the trouble itself.
_NEGATIONS = {"niet", "nooit", "geen", "not", "never", "no", "isn't", "isnt", "wasn't", "wasnt"}
_WORD = r"[a-z0-9']"


def _pattern(phrase: str) -> str:
    parts = []
    for word in phrase.split():
        if word == "..":
            # Up to three words between, none of them a denial ("baan niet kwijt").
            parts.append(r"(?: (?!niet |not |nooit |never )\S+){0,3}")
        elif word.endswith("*"):
            parts.append(" " + re.escape(word[:-1]) + r"[a-z]*")
        else:
            parts.append(" " + re.escape(word))
    return rf"(?<!{_WORD}){''.join(parts)[1:]}(?!{_WORD})"


def _compile(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_pattern(phrase) for phrase in phrases))


_MATCHERS = {situation: _compile(phrases) for situation, phrases in _SIGNS.items()}
_BENEFIT = _compile(_BENEFIT_NAMES)
_TROUBLE_MATCH = _compile(_TROUBLE)

# Words to set typos right against: the signs' words (and stems) of five letters or more.
_VOCABULARY = sorted(
    {
        word.rstrip("*")
        for phrases in (*_SIGNS.values(), _BENEFIT_NAMES, _TROUBLE)
        for phrase in phrases
        for word in phrase.split()
        if len(word.rstrip("*")) >= 5 and word.rstrip("*").isalpha()
    }
)
# One letter wrong in a word of six or more; five-letter words are too near each other
# ("fixed" is not "fired").
_CUTOFF = 0.86
# Real words a typo correction must leave alone: "niet mijn schuld" is not debts, "gestort"
# (paid in) is not "gestopt".
_KNOWN_WORDS = {"betaal", "betalen", "betaling", "maand", "maanden", "graag", "bedankt"}
_KNOWN_WORDS |= {"laten", "schuld", "gestort", "gestuurd", "terugbellen", "contact"}
_KNOWN_WORDS |= {"separate", "separately", "action"}


def _words(text: str) -> list[str]:
    """normalise() keeps some punctuation; a sign is a run of words ("burn-out" two)."""
    spaced = normalise(text).replace("?", " ").replace("-", " ").replace("/", " ")
    return [word.strip(".,:") for word in spaced.split()]


def _corrected(words: list[str]) -> list[str]:
    fixed = []
    for word in words:
        if len(word) >= 5 and word.isalpha() and word not in _KNOWN_WORDS:
            match = difflib.get_close_matches(word, _VOCABULARY, n=1, cutoff=_CUTOFF)
            fixed.append(match[0] if match else word)
        else:
            fixed.append(word)
    return fixed


def _affirmed(pattern: re.Pattern[str], text: str) -> bool:
    """A match not denied by the word or two before it."""
    for match in pattern.finditer(text):
        before = text[: match.start()].split()
        if before[-1:] and before[-1] in _NEGATIONS:
            continue
        if " ".join(before[-2:]) in {"niet meer", "no longer"}:
            continue
        return True
    return False


def situations(text: str) -> tuple[Situation, ...]:
    """Every situation the message speaks of, the weightiest first; empty when none."""
    words = [word for word in _words(text or "") if word]
    if not words:
        return ()
    corrected = " ".join(_corrected(words))
    found = {situation for situation, pattern in _MATCHERS.items() if _affirmed(pattern, corrected)}
    if _BENEFIT.search(corrected) and _TROUBLE_MATCH.search(corrected):
        found.add(Situation.BENEFITS)
    return tuple(situation for situation in Situation if situation in found)


def situation(text: str) -> Situation | None:
    """The one situation an answer acknowledges, or None."""
    found = situations(text)
    return found[0] if found else None
