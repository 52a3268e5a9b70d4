"""How the workplace writes times, dates, amounts, numbers, waits, postcodes, phone numbers
and addresses for a person: local time (the database keeps UTC), the consultant's language
through Babel's locale data (€ 1.234,56 and 06-02-2027 in Dutch; €1,234.56 and 06/02/2027
in English), and no line break inside an amount or a phone number. Pure: values in, text
out. Pages and the sentences about a case write every amount, date and number through this
module, so one language's notation never leaks into the other's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

import phonenumbers
from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

# A no-break space: "€ 525,00" and "06 12345678" stay on one line on a narrow screen
# without any CSS.
NBSP = "\u00a0"
# Babel's locale per language, as the tenants' texts use them (messaging/render.py): British
# English writes "1 January 2027" and day before month, as the Dutch do.
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
_POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{2})\s*$")
# An amount as the stored dossier writes it (messaging.render.format_euros, always Dutch):
# "€ 1.234,56", "-€ 100,00".
_DUTCH_AMOUNT = re.compile(r"(-?)€[\s\u00a0]?(\d{1,3}(?:\.\d{3})*|\d+),(\d\d)")


def _lang(language: str) -> str:
    return "en" if language == "en" else "nl"


def _locale(language: str) -> str:
    return LOCALES[_lang(language)]


def euros(cents: int, language: str) -> str:
    """€ 1.234,56 / €1,234.56. The minus goes before the euro sign in both languages
    (-€ 100,00 and -€100.00): Babel's Dutch puts it after (€ -100,00), and a change in a
    column of balances should read the same in every row."""
    sign = "-" if cents < 0 else ""
    text = format_currency(Decimal(abs(cents)) / 100, "EUR", locale=_locale(language))
    return sign + text.replace(" ", NBSP)


def number(value: int | float, language: str) -> str:
    """1.234 / 1,234; 0,5 / 0.5; a whole number without decimals."""
    return str(format_decimal(value, locale=_locale(language)))


def instalments(months: int, amount_cents: int, total_cents: int | None, language: str) -> str:
    """ "6 × € 60,00 + 1 × € 57,60": the last instalment is what is left, so a plan reads as
    what the tenant was told and adds up to its total."""
    last = (total_cents or 0) - (months - 1) * amount_cents
    amount = euros(amount_cents, language)
    if total_cents is None or months < 2 or last == amount_cents or not 0 < last < amount_cents:
        return f"{months} × {amount}"
    return f"{months - 1} × {amount} + 1 × {euros(last, language)}"


def amounts_in(text: str | None, language: str) -> str:
    """A text the dossier keeps (an amount, "6 × € 60,00 + 1 × € 57,60") with every amount
    in the language's notation: a dossier is stored as handed over, in Dutch, and read
    later by whoever opens it."""

    def again(found: re.Match[str]) -> str:
        whole = int(found.group(2).replace(".", ""))
        cents = whole * 100 + int(found.group(3))
        return euros(-cents if found.group(1) else cents, language)

    return _DUTCH_AMOUNT.sub(again, text or "")


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


@lru_cache(maxsize=4)
def _day_month_pattern(language: str) -> str:
    """The locale's short date without its year: dd-MM, dd/MM."""
    pattern = str(Locale.parse(_locale(language)).date_formats["short"].pattern)
    return re.sub(r"[-/. ]*y+[-/. ]*", "", pattern) or pattern


def day(value: date | str | None, language: str) -> str:
    """06-02-2027 / 06/02/2027."""
    found = as_day(value)
    return str(format_date(found, "short", locale=_locale(language))) if found else ""


def day_month(value: date | str | None, language: str) -> str:
    """06-02 / 06/02: a date in the last weeks, where the year goes without saying."""
    found = as_day(value)
    if found is None:
        return ""
    return str(format_date(found, _day_month_pattern(language), locale=_locale(language)))


def clock_time(value: datetime | str | None, tz: tzinfo, language: str) -> str:
    """19:59 in the corporation's time zone."""
    moment = as_moment(value)
    if moment is None:
        return ""
    return str(format_time(moment.astimezone(tz), "short", locale=_locale(language)))


def local_day(value: datetime | str | None, tz: tzinfo, language: str) -> str:
    """The day a moment fell on in the corporation's time zone: 06-02-2027."""
    moment = as_moment(value)
    return day(moment.astimezone(tz).date(), language) if moment else ""


def local(value: datetime | str | None, tz: tzinfo, language: str) -> str:
    """A moment as the corporation's wall-clock time: 06-02-2027 19:59."""
    moment = as_moment(value)
    if moment is None:
        return ""
    return f"{local_day(moment, tz, language)} {clock_time(moment, tz, language)}"


def local_short(value: datetime | str | None, tz: tzinfo, language: str) -> str:
    """A recent moment without its year: 06-02 19:59."""
    moment = as_moment(value)
    if moment is None:
        return ""
    return f"{day_month(moment.astimezone(tz).date(), language)} {clock_time(moment, tz, language)}"


def long_day(value: date | str | None, language: str) -> str:
    """23 december 2026 / 23 December 2026."""
    found = as_day(value)
    return str(format_date(found, "long", locale=_locale(language))) if found else ""


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
        return euros(cents, self.language)

    def number(self, value: int | float) -> str:
        return number(value, self.language)

    def decimal(self, value: float) -> str:
        """0,5 in Dutch, 0.5 in English; whole numbers without decimals."""
        return number(value, self.language)

    def instalments(self, months: int, amount_cents: int, total_cents: int | None) -> str:
        return instalments(months, amount_cents, total_cents, self.language)

    def amounts_in(self, text: str | None) -> str:
        """A stored text with amounts (the dossier), in this language's notation."""
        return amounts_in(text, self.language)

    def when(self, value: datetime | str | None) -> str:
        """06-02-2027 19:59."""
        return local(value, self.tz, self.language)

    def on(self, value: datetime | str | None) -> str:
        """The day of a moment: 06-02-2027."""
        return local_day(value, self.tz, self.language)

    def short(self, value: datetime | str | None) -> str:
        """A recent moment: 06-02 19:59."""
        return local_short(value, self.tz, self.language)

    def day(self, value: date | str | None) -> str:
        return day(value, self.language)

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
