"""How the workplace writes times, dates, amounts, waits, postcodes, phone numbers and
addresses for a person: local time (the database keeps UTC), the consultant's language, and
no line break inside an amount or a phone number. Pure: values in, text out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

import phonenumbers

from messaging.render import format_euros

# A no-break space: "€ 525,00" and "06 12345678" stay on one line on a narrow screen
# without any CSS.
NBSP = "\u00a0"
# fmt: off
MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}
# fmt: on
_POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})\s*$")


def _lang(language: str) -> str:
    return "en" if language == "en" else "nl"


def euros(cents: int) -> str:
    return format_euros(cents).replace(" ", NBSP)


def instalments(months: int, amount_cents: int, total_cents: int | None) -> str:
    """ "6 × € 60,00 + 1 × € 57,60": the last instalment is what is left, so a plan reads as
    what the tenant was told and adds up to its total."""
    last = (total_cents or 0) - (months - 1) * amount_cents
    if total_cents is None or months < 2 or last == amount_cents or not 0 < last < amount_cents:
        return f"{months} × {euros(amount_cents)}"
    return f"{months - 1} × {euros(amount_cents)} + 1 × {euros(last)}"


def as_moment(value: datetime | str | None) -> datetime | None:
    """A stored moment: an aware datetime, or its ISO text as the dossier keeps it."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def as_day(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def local(value: datetime | str | None, tz: tzinfo, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A moment as the corporation's wall-clock time."""
    moment = as_moment(value)
    return moment.astimezone(tz).strftime(fmt) if moment else ""


def day(value: date | str | None, fmt: str = "%d-%m-%Y") -> str:
    found = as_day(value)
    return found.strftime(fmt) if found else ""


def long_day(value: date | str | None, language: str) -> str:
    """23 december 2026 / 23 December 2026."""
    found = as_day(value)
    if found is None:
        return ""
    return f"{found.day} {MONTHS[_lang(language)][found.month - 1]} {found.year}"


def long_local_day(value: datetime | str | None, tz: tzinfo, language: str) -> str:
    moment = as_moment(value)
    return long_day(moment.astimezone(tz).date(), language) if moment else ""


def waiting(hours: float, language: str) -> str:
    """A wait as people say it: "5 uur", "3 dagen", "2 dagen en 3 uur"."""
    english = _lang(language) == "en"
    whole = max(int(hours), 0)
    if whole < 1:
        return "less than an hour" if english else "minder dan een uur"
    days, rest = divmod(whole, 24)
    if english:
        day_text = f"{days} day" + ("" if days == 1 else "s")
        hour_text = f"{rest} hour" + ("" if rest == 1 else "s")
        joiner = " and "
    else:
        day_text = f"{days} dag" + ("" if days == 1 else "en")
        hour_text = f"{rest} uur"
        joiner = " en "
    if not days:
        return hour_text
    return day_text if not rest else day_text + joiner + hour_text


def postcode(text: str | None) -> str:
    """A Dutch postcode as written on letters: 7941 UQ."""
    if not text:
        return ""
    found = _POSTCODE.match(text)
    if not found:
        return text.strip()
    return f"{found.group(1)}{NBSP}{found.group(2).upper()}"


def phone(number: str) -> str:
    """A Dutch number as people dial it at home (06 12345678), any other country's with its
    country code; whatever is no phone number stays as it is."""
    try:
        parsed = phonenumbers.parse(number, "NL")
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 31
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(parsed, style)).replace(" ", NBSP)


def contact_address(channel: str, address: str) -> str:
    return phone(address) if channel in ("sms", "whatsapp") else address


def house_number(number: str | None, suffix: str | None) -> str:
    """12 + a = 12a; 12 + 2 = 12-2; 12 + bis = 12 bis."""
    number, suffix = (number or "").strip(), (suffix or "").strip()
    if not suffix:
        return number
    if len(suffix) == 1 and suffix.isalpha():
        return number + suffix
    if suffix.isdigit():
        return f"{number}-{suffix}"
    return f"{number} {suffix}" if not suffix.startswith("-") else number + suffix


def address(source: Any, language: str) -> str:
    """ "Kerkstraat 12a, 7941 UQ Meppel" from a tenant or the dossier's address dict; without
    a street, the house number leads: "huisnummer 12a, 7941 UQ Meppel"."""

    def get(name: str) -> str:
        value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
        return str(value).strip() if value else ""

    number = house_number(get("house_number"), get("house_number_suffix"))
    street = get("street")
    if street:
        first = f"{street} {number}".strip()
    elif number:
        first = ("house number " if _lang(language) == "en" else "huisnummer ") + number
    else:
        first = ""
    place = " ".join(
        part for part in (postcode(get("postcode")), get("city") or get("municipality")) if part
    )
    return ", ".join(part for part in (first, place) if part)


@dataclass(frozen=True)
class Formats:
    """The functions above bound to one consultant's language and the corporation's time
    zone, for the page templates."""

    language: str
    tz: tzinfo

    def euros(self, cents: int) -> str:
        return euros(cents)

    def decimal(self, value: float) -> str:
        """0,5 in Dutch, 0.5 in English; whole numbers without decimals."""
        text = f"{value:g}"
        return text if self.language == "en" else text.replace(".", ",")

    def instalments(self, months: int, amount_cents: int, total_cents: int | None) -> str:
        return instalments(months, amount_cents, total_cents)

    def nowrap(self, text: str | None) -> str:
        """An amount or number kept as text (a stored dossier), on one line."""
        return (text or "").replace(" ", NBSP)

    def when(self, value: datetime | str | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
        return local(value, self.tz, fmt)

    def day(self, value: date | str | None) -> str:
        return day(value)

    def long_day(self, value: date | str | None) -> str:
        return long_day(value, self.language)

    def waiting(self, hours: float) -> str:
        return waiting(hours, self.language)

    def postcode(self, text: str | None) -> str:
        return postcode(text)

    def phone(self, number: str) -> str:
        return phone(number)

    def contact(self, channel: str, address: str) -> str:
        return contact_address(channel, address)

    def address(self, source: Any) -> str:
        return address(source, self.language)

    def yes_no(self, value: bool) -> str:
        if self.language == "en":
            return "yes" if value else "no"
        return "ja" if value else "nee"
