"""A tenant's message in one normal form, and phrases looked up in it. Pure.

Phrases are written plainly ("klopt niet"); two marks widen them: a trailing "*" takes any
ending ("ontruim*": ontruiming, ontruimingsvonnis) and " ~ " lets up to four words stand
between ("klopt ~ niet": "klopt echt niet", "kan ~ niet ~ betalen": "kan de huur niet meer
betalen").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache


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


@cache
def _pattern(phrase: str) -> re.Pattern[str]:
    parts = []
    for piece in phrase.split(" ~ "):
        body = r"\s+".join(re.escape(word.rstrip("*")) for word in piece.split())
        parts.append(body + (r"[a-z0-9']*" if piece.endswith("*") else ""))
    # Punctuation may end the first piece: "ik wil niet meer, het hoeft niet meer".
    joined = r"[.,;:!?]*(?:\s+\S+){0,4}?\s+".join(parts)
    return re.compile(rf"(?<![a-z0-9']){joined}(?![a-z0-9])")


def find(text: str, phrase: str) -> re.Match[str] | None:
    return _pattern(phrase).search(text)


def has_any(text: str, phrases: Iterable[str]) -> bool:
    return any(_pattern(phrase).search(text) for phrase in phrases)


def replace_all(text: str, phrases: Iterable[str], by: str) -> str:
    for phrase in phrases:
        text = _pattern(phrase).sub(by, text)
    return text


def phrases(block: str) -> tuple[str, ...]:
    """A word list written as "a | b | c" over as many lines as it needs."""
    return tuple(" ".join(item.split()) for item in block.split("|") if item.strip())


def correct_typos(text: str, vocabulary: list[str], keep: frozenset[str]) -> str:
    """Long words a letter or two away from a keyword become that keyword
    ("betalingsregling"). A typo keeps the first and the last letter (or drops or adds only
    the last) and about the length; other words that merely look alike ("zojuist"/"onjuist",
    "vervelend"/"verdelen", `keep`) stay as they are."""
    fixed = []
    for word in text.split():
        if len(word) >= 5 and word.isalpha() and word not in keep:
            near = [
                known
                for known in vocabulary
                if known[0] == word[0]
                and abs(len(known) - len(word)) <= 1
                and (known[-1] == word[-1] or known[:-1] == word or word[:-1] == known)
            ]
            match = difflib.get_close_matches(word, near, n=1, cutoff=0.82)
            fixed.append(match[0] if match else word)
        else:
            fixed.append(word)
    return " ".join(fixed)
