"""One cell of an arrears list: amounts, dates and phone numbers as Dutch back offices write
them. Pure.

A large list has a hundred thousand of each, so the common spellings ("650,00",
"06-12345678") take a short path; anything else goes through the full rules, which give
the same answer for the common spellings (tests/test_arrears_values.py holds them to it).
"""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from phonenumbers import PhoneMetadata

# A list is of now: other years are typing errors (and year 1 breaks date arithmetic).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
# No rent or balance comes near a million euros: more is a shifted column or a typing error,
# and far more would not fit the database's integers.
MAX_AMOUNT_CENTS = 100_000_000
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_NL = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
# "650,00", "-12,5", "75": whole euros and at most two decimals, no thousands.
_PLAIN_AMOUNT = re.compile(r"(-?)(\d{1,9})(?:[.,](\d{1,2}))?")
# "06-12345678", "0612345678", "+31 6 1234 5678": a Dutch number of nine digits.
_PLAIN_DUTCH_NUMBER = re.compile(r"(?:\+31|0)(\d{9})")


def shown(value: str) -> str:
    """A value quoted in an error: escaped, and short enough to read."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def parse_amount(text: str) -> int:
    """Cents from '1.234,56', '1234.56', '€ 75,-', '-12,50'. A separator followed by exactly
    three digits groups thousands; followed by one or two digits it marks the cents. At most
    MAX_AMOUNT_CENTS either way."""
    if plain := _PLAIN_AMOUNT.fullmatch(text):
        sign, euros, cents = plain.groups()
        value = int(euros) * 100 + (int(cents.ljust(2, "0")) if cents else 0)
        if value <= MAX_AMOUNT_CENTS:
            return -value if sign else value
    return _parse_any_amount(text)


def _parse_any_amount(text: str) -> int:
    value = text.strip().replace("€", "").replace("EUR", "").replace("eur", "")
    value = value.replace(" ", "").replace("\u00a0", "")
    value = re.sub(r"[.,]-{1,2}$", "", value)  # "75,-" is 75 whole euros
    negative = value.startswith("-") or (value.startswith("(") and value.endswith(")"))
    value = value.strip("-()+")
    if not re.fullmatch(r"\d[\d.,]*", value):
        raise ValueError(f"not an amount: {shown(text.strip())}")
    cents_part = "0"
    match = re.search(r"[.,](\d{1,2})$", value)
    if match:
        cents_part = match.group(1).ljust(2, "0")
        value = value[: match.start()]
    groups = re.split(r"[.,]", value)
    if any(len(group) != 3 for group in groups[1:]) or not groups[0]:
        raise ValueError(f"not an amount: {shown(text.strip())}")
    euros = "".join(groups).lstrip("0") or "0"
    # Counting digits first spares int() a number of thousands of digits.
    if len(euros) > 12 or int(euros) * 100 + int(cents_part) > MAX_AMOUNT_CENTS:
        raise ValueError(f"{shown(text.strip())} is more than € 1.000.000,00; that cannot be right")
    cents = int(euros) * 100 + int(cents_part)
    return -cents if negative else cents


def parse_date(text: str) -> date:
    value = text.strip()
    if match := _DATE_ISO.match(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DATE_NL.match(value):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f"not a date (use 2026-11-25 or 25-11-2026): {shown(value)}")
    try:
        day_given = date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a date: {shown(value)}") from exc
    if not FIRST_DAY <= day_given <= LAST_DAY:
        raise ValueError(f"not a date of this century: {shown(value)}")
    return day_given


def _valid_dutch_nine_digits() -> re.Pattern[str]:
    """The nine-digit national numbers phonenumbers' own metadata calls valid in NL (the
    number types whose length is nine), so the short path never disagrees with it."""
    metadata = PhoneMetadata.metadata_for_region("NL")
    assert metadata is not None
    kinds = (
        metadata.fixed_line,
        metadata.mobile,
        metadata.voip,
        metadata.pager,
        metadata.uan,
        metadata.toll_free,
        metadata.premium_rate,
    )
    patterns = [
        kind.national_number_pattern
        for kind in kinds
        if kind is not None
        and kind.national_number_pattern
        and (not kind.possible_length or 9 in kind.possible_length)
    ]
    assert metadata.general_desc is not None
    general = metadata.general_desc.national_number_pattern
    return re.compile(f"(?=(?:{general})$)(?:{'|'.join(f'(?:{p})' for p in patterns)})")


_NINE_DIGITS = _valid_dutch_nine_digits()


def parse_phone(text: str, region: str = "NL") -> str | None:
    value = text.strip()
    if not value:
        return None
    if region == "NL":
        plain = _PLAIN_DUTCH_NUMBER.fullmatch(value.replace(" ", "").replace("-", ""))
        if plain and _NINE_DIGITS.fullmatch(national := plain.group(1)):
            return f"+31{national}"
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {shown(value)}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number: {shown(value)}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
