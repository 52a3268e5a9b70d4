"""Reading the corporation's arrears list as Dutch back offices export it. Pure: bytes in,
rows or every bad line out."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import String

from handlers.csv_text import CONTROL, NotCsvText, decode_csv_text
from storage.models import ContactPoint, Tenant

REQUIRED = ("tenant_ref", "name", "monthly_rent", "balance", "as_of")
OPTIONAL = (
    "phone",
    "email",
    "language",
    "street",
    "postcode",
    "house_number",
    "house_number_suffix",
    "city",
    "municipality",
    "administrator",
    "debt_assistance",
)
_LANGUAGES = {
    "": "nl",
    "nl": "nl",
    "nld": "nl",
    "dutch": "nl",
    "nederlands": "nl",
    "en": "en",
    "eng": "en",
    "english": "en",
    "engels": "en",
}
_YES = {"yes", "ja", "j", "y", "true", "1", "waar"}
_NO = {"", "no", "nee", "n", "false", "0", "onwaar"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATE_NL = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
# A list is of now: other years are typing errors (and year 1 breaks date arithmetic).
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
# No rent or balance comes near a million euros: more is a shifted column or a typing error,
# and far more would not fit the database's integers.
MAX_AMOUNT_CENTS = 100_000_000
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def _max_length(column: Any) -> int:
    kind = column.type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column} is not a string column of limited length")
    return kind.length


# Read from the tables so the two never disagree: SQLite would store a longer value,
# PostgreSQL refuses the whole import.
_MAX_LENGTH = {
    "tenant_ref": _max_length(Tenant.__table__.c.external_ref),
    "phone": _max_length(ContactPoint.__table__.c.address),
    "email": _max_length(ContactPoint.__table__.c.address),
    **{
        name: _max_length(Tenant.__table__.c[name])
        for name in (
            "name",
            "street",
            "postcode",
            "house_number",
            "house_number_suffix",
            "city",
            "municipality",
            "administrator",
        )
    },
}


@dataclass(frozen=True)
class ArrearsRow:
    line: int
    tenant_ref: str
    name: str
    phone: str | None  # E.164
    email: str | None
    language: str
    monthly_rent_cents: int
    balance_cents: int
    as_of: date
    street: str | None = None
    postcode: str | None = None
    house_number: str | None = None
    house_number_suffix: str | None = None
    city: str | None = None
    municipality: str | None = None
    administrator: str | None = None
    debt_assistance: bool = False


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class ArrearsFileError(ValueError):
    """The file was rejected as a whole; ``errors`` names every bad line."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class ArrearsFile:
    rows: list[ArrearsRow]
    sha256: str


def _shown(value: str) -> str:
    """A value quoted in an error: escaped, and short enough to read."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def parse_amount(text: str) -> int:
    """Cents from '1.234,56', '1234.56', '€ 75,-', '-12,50'. A separator followed by exactly
    three digits groups thousands; followed by one or two digits it marks the cents. At most
    MAX_AMOUNT_CENTS either way."""
    value = text.strip().replace("€", "").replace("EUR", "").replace("eur", "")
    value = value.replace(" ", "").replace("\u00a0", "")
    value = re.sub(r"[.,]-{1,2}$", "", value)  # "75,-" is 75 whole euros
    negative = value.startswith("-") or (value.startswith("(") and value.endswith(")"))
    value = value.strip("-()+")
    if not re.fullmatch(r"\d[\d.,]*", value):
        raise ValueError(f"not an amount: {_shown(text.strip())}")
    cents_part = "0"
    match = re.search(r"[.,](\d{1,2})$", value)
    if match:
        cents_part = match.group(1).ljust(2, "0")
        value = value[: match.start()]
    groups = re.split(r"[.,]", value)
    if any(len(group) != 3 for group in groups[1:]) or not groups[0]:
        raise ValueError(f"not an amount: {_shown(text.strip())}")
    euros = "".join(groups).lstrip("0") or "0"
    # Counting digits first spares int() a number of thousands of digits.
    if len(euros) > 12 or int(euros) * 100 + int(cents_part) > MAX_AMOUNT_CENTS:
        raise ValueError(
            f"{_shown(text.strip())} is more than € 1.000.000,00; that cannot be right"
        )
    cents = int(euros) * 100 + int(cents_part)
    return -cents if negative else cents


def parse_date(text: str) -> date:
    value = text.strip()
    if match := _DATE_ISO.match(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DATE_NL.match(value):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f"not a date (use 2026-11-25 or 25-11-2026): {_shown(value)}")
    try:
        day_given = date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a date: {_shown(value)}") from exc
    if not _FIRST_DAY <= day_given <= _LAST_DAY:
        raise ValueError(f"not a date of this century: {_shown(value)}")
    return day_given


def parse_phone(text: str, region: str = "NL") -> str | None:
    value = text.strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {_shown(value)}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number: {_shown(value)}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _delimiter(header: str) -> str:
    return max((";", ",", "\t"), key=header.count)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _unreadable(error: csv.Error) -> str:
    if "field limit" in str(error):
        return (
            f"a field longer than {csv.field_size_limit()} characters; "
            'is a quote (") opened and never closed?'
        )
    return f"not readable as CSV: {error}"


def _row(line: int, raw: dict[str, str], region: str, today: date | None) -> ArrearsRow:
    problems: list[str] = []

    def field(name: str, convert: type | object) -> object:
        try:
            return convert(_clean(raw.get(name)))  # type: ignore[operator]
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            return None

    if CONTROL.search("".join(raw.values())):
        for column in (*REQUIRED, *OPTIONAL):
            if found := CONTROL.search(raw.get(column) or ""):
                problems.append(f"{column}: holds control character U+{ord(found.group()):04X}")
    ref = _clean(raw.get("tenant_ref"))
    name = _clean(raw.get("name"))
    if not ref:
        problems.append("tenant_ref is empty")
    if not name:
        problems.append("name is empty")
    rent = field("monthly_rent", parse_amount)
    if isinstance(rent, int) and rent <= 0:
        problems.append("monthly_rent must be more than zero")
    balance = field("balance", parse_amount)
    as_of = field("as_of", parse_date)
    # A day ahead is allowed: a list made in the evening for the next morning.
    if today is not None and isinstance(as_of, date) and as_of > today + timedelta(days=1):
        problems.append(
            f"as_of: {as_of.isoformat()} is after today ({today.isoformat()}); "
            "a list cannot be from the future"
        )
    phone = field("phone", lambda value: parse_phone(value, region))
    email = _clean(raw.get("email")) or None
    if email is not None and not _EMAIL.match(email):
        problems.append(f"email: not an email address: {_shown(email)}")
    language = _LANGUAGES.get(_clean(raw.get("language")).lower())
    if language is None:
        problems.append(f"language: use nl or en, not {_shown(_clean(raw.get('language')))}")
    assistance_text = _clean(raw.get("debt_assistance")).lower()
    if assistance_text not in _YES | _NO:
        problems.append(f"debt_assistance: use yes or no, not {_shown(assistance_text)}")
    # Lengths are checked on the values as stored: lower() and upper() may lengthen them.
    texts = {
        "tenant_ref": ref,
        "name": name,
        "phone": phone if isinstance(phone, str) else None,
        "email": email.lower() if email else None,
        "postcode": _clean(raw.get("postcode")).replace(" ", "").upper() or None,
        **{
            column: _clean(raw.get(column)) or None
            for column in (
                "street",
                "house_number",
                "house_number_suffix",
                "city",
                "municipality",
                "administrator",
            )
        },
    }
    problems.extend(
        f"{column}: {len(value)} characters, at most {_MAX_LENGTH[column]}"
        for column, value in texts.items()
        if value is not None and len(value) > _MAX_LENGTH[column]
    )
    if problems:
        raise ValueError("; ".join(problems))
    assert isinstance(rent, int) and isinstance(balance, int) and isinstance(as_of, date)
    return ArrearsRow(
        line=line,
        tenant_ref=ref,
        name=name,
        phone=texts["phone"],
        email=texts["email"],
        language=language or "nl",
        monthly_rent_cents=rent,
        balance_cents=balance,
        as_of=as_of,
        street=texts["street"],
        postcode=texts["postcode"],
        house_number=texts["house_number"],
        house_number_suffix=texts["house_number_suffix"],
        city=texts["city"],
        municipality=texts["municipality"],
        administrator=texts["administrator"],
        debt_assistance=assistance_text in _YES,
    )


def _read_header(reader: Any) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ArrearsFileError([LineError(0, "the file is empty")]) from None
    except csv.Error as exc:
        raise ArrearsFileError([LineError(1, f"the header cannot be read as CSV: {exc}")]) from None
    columns = [column.strip().lower().replace(" ", "_") for column in header]
    problems = [
        f"column {name} appears twice" for name in REQUIRED + OPTIONAL if columns.count(name) > 1
    ]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        shown = ", ".join(columns)
        shown = shown if len(shown) <= 300 else shown[:300] + "…"
        problems.append(f"missing column(s): {', '.join(missing)}; the header is {shown}")
    if problems:
        raise ArrearsFileError([LineError(1, "; ".join(problems))])
    return columns


def parse_arrears_file(
    data: bytes, region: str = "NL", *, today: date | None = None
) -> ArrearsFile:
    """Every row, or ArrearsFileError naming every bad line (line 1 is the header). With
    `today` (the caller's clock: parsing stays pure), a list dated more than a day later
    is refused: a typing error, and one that would date the tenants' arrears wrongly."""
    try:
        text = decode_csv_text(data)
    except NotCsvText as exc:
        raise ArrearsFileError([LineError(exc.line, exc.reason)]) from None
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    columns = _read_header(reader)
    errors: list[LineError] = []
    rows: list[ArrearsRow] = []
    first_seen: dict[str, int] = {}
    line_start = 2
    while True:
        line = line_start
        try:
            record = next(reader, None)
        except csv.Error as exc:
            # The reader resumes on the next line; the rest of the file is still checked.
            line_start = reader.line_num + 1
            errors.append(LineError(line, _unreadable(exc)))
            continue
        if record is None:
            break
        line_start = reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            errors.append(LineError(line, f"expected {len(columns)} fields, found {len(record)}"))
            continue
        if _LINE_BREAKS.search("".join(record)):
            # A line break typed into a spreadsheet cell is a space to anyone reading it.
            record = [_LINE_BREAKS.sub(" ", cell) for cell in record]
        try:
            row = _row(line, dict(zip(columns, record, strict=True)), region, today)
        except ValueError as exc:
            errors.append(LineError(line, str(exc)))
            continue
        if (earlier := first_seen.get(row.tenant_ref)) is not None:
            shown = _shown(row.tenant_ref)
            errors.append(LineError(line, f"tenant_ref {shown} also on line {earlier}"))
            continue
        first_seen[row.tenant_ref] = line
        rows.append(row)
    if errors:
        raise ArrearsFileError(errors)
    if not rows:
        raise ArrearsFileError([LineError(0, "the file has a header but no rows")])
    return ArrearsFile(rows, hashlib.sha256(data).hexdigest())
