"""The steps of a conversation and the pure rules that move between them.

The parser (rules.intents) reads one message on its own; a dialogue remembers what the bot
last asked, so that "ja" can mean "I agree to the plan you just showed me" and "1234 AB 5"
can answer "who are you?". The state itself lives in the database (storage.dialogues).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rules.intents import normalise


class Step(StrEnum):
    PLAN_AMOUNT = "plan_amount"  # asked: how much a month can you pay next to the rent?
    PLAN_CONFIRM = "plan_confirm"  # showed the plan that follows; asked: agreed?
    VERIFY = "verify"  # an address several tenants share: asked for postcode and number
    VERIFIED = "verified"  # ...answered: for a while this address speaks for one tenant


def case_key(case_id: int) -> str:
    return f"case:{case_id}"


def address_key(channel: str, address: str) -> str:
    return f"address:{channel}:{address}"


def expired(expires_at: datetime, now: datetime) -> bool:
    return now >= expires_at


_YES = frozenset(
    {
        "ja",
        "jaa",
        "jep",
        "jazeker",
        "jawel",
        "yes",
        "yep",
        "yeah",
        "y",
        "j",
        "ok",
        "oke",
        "okay",
        "okee",
        "akkoord",
        "agreed",
        "agree",
        "goed",
        "prima",
        "klopt",
        "correct",
        "sure",
        "deal",
        "afgesproken",
        "top",
        "graag",
    }
)
_NO = frozenset({"nee", "neen", "no", "nope", "n", "niet", "anders", "liever", "nah"})
_NO_PHRASES = ("ander bedrag", "another amount", "other amount", "lukt niet", "kan niet")
_THUMBS_UP = ("\N{THUMBS UP SIGN}", "\N{OK HAND SIGN}", "\N{WHITE HEAVY CHECK MARK}")


def confirmation(text: str) -> bool | None:
    """True for "yes, agreed", False for "no / another amount", None for anything else.

    Only the opening word decides, and any digit makes it an answer of its own ("nee, 40
    euro" is a new offer, read by the parser), so that a long message is never taken as
    consent by accident.
    """
    raw = text or ""
    clean = normalise(raw)
    if not clean:
        return True if any(sign in raw for sign in _THUMBS_UP) else None
    if any(char.isdigit() for char in clean):
        return None
    if any(phrase in clean for phrase in _NO_PHRASES):
        return False
    first = clean.split()[0].strip(".,!?:-'")
    if first in _NO:
        return False
    if first in _YES:
        return True
    return None


@dataclass(frozen=True)
class Address:
    """A postcode and house number as a tenant types it: "1234 AB 5", "5, 1234ab", "12-a"."""

    postcode: str  # "1234AB"
    number: str  # "12"
    suffix: str  # "A", "" when none given


_POSTCODE = re.compile(r"(?<![0-9])([1-9][0-9]{3}) ?([a-z]{2})(?![a-z])")
_NUMBER = re.compile(r"(?<![0-9])([0-9]{1,5})(?:[ -]?([a-z]{1,3}|[0-9]{1,3}(?![0-9])))?(?![a-z])")


def parse_address(text: str) -> Address | None:
    clean = normalise(text or "")
    postcode = _POSTCODE.search(clean)
    if postcode is None:
        return None
    rest = clean[: postcode.start()] + " " + clean[postcode.end() :]
    number = _NUMBER.search(rest)
    if number is None:
        return None
    return Address(
        postcode="".join(postcode.groups()).upper(),
        number=str(int(number.group(1))),
        suffix=(number.group(2) or "").upper(),
    )


def _compact(value: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


def address_matches(
    given: Address, postcode: str | None, number: str | None, suffix: str | None
) -> bool:
    """The tenant's own address? A suffix counts only when the tenant typed one."""
    if not postcode or not number:
        return False
    if given.postcode != _compact(postcode) or given.number != _compact(number).lstrip("0"):
        return False
    return not given.suffix or given.suffix == _compact(suffix)


_THANKS = frozenset(
    [
        "ok",
        "oke",
        "oké",
        "okay",
        "prima",
        "top",
        "super",
        "fijn",
        "mooi",
        "dank",
        "danku",
        "bedankt",
        "thanks",
        "thank",
        "thx",
        "merci",
    ]
)
_AROUND_THANKS = frozenset(
    [
        "you",
        "je",
        "u",
        "wel",
        "hoor",
        "zeer",
        "heel",
        "erg",
        "veel",
        "voor",
        "alles",
        "de",
        "hulp",
        "hartelijk",
        "goed",
        "very",
        "much",
        "for",
        "the",
        "help",
        "so",
    ]
)


def just_thanks(text: str) -> bool:
    """A short thank-you and nothing else ("bedankt!", "top, dank u wel", "thanks 👍"): it
    needs no answer and no consultant."""
    words = [word.strip(".,!?:;-'\"") for word in normalise(text or "").split()]
    words = [word for word in words if word]
    if not words:
        return any(sign in (text or "") for sign in _THUMBS_UP)
    return (
        len(words) <= 8
        and any(word in _THANKS for word in words)
        and all(word in _THANKS or word in _AROUND_THANKS for word in words)
    )
