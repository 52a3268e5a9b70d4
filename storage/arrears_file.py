"""Reading the corporation's arrears list as Dutch back offices export it. Pure: bytes in,
rows or every bad line out."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers

REQUIRED = ("tenant_ref", "name", "monthly_rent", "balance", "as_of")
OPTIONAL = (
    "phone",
    "email",
    "language",
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


def parse_amount(text: str) -> int:
    """Cents from '1.234,56', '1234.56', '€ 75,-', '-12,50'. A separator followed by exactly
    three digits groups thousands; followed by one or two digits it marks the cents."""
    value = text.strip().replace("€", "").replace("EUR", "").replace("eur", "")
    value = value.replace(" ", "").replace("\u00a0", "")
    value = re.sub(r"[.,]-{1,2}$", "", value)  # "75,-" is 75 whole euros
    negative = value.startswith("-") or (value.startswith("(") and value.endswith(")"))
    value = value.strip("-()+")
    if not re.fullmatch(r"\d[\d.,]*", value):
        raise ValueError(f"not an amount: {text.strip()!r}")
    cents_part = "0"
    match = re.search(r"[.,](\d{1,2})$", value)
    if match:
        cents_part = match.group(1).ljust(2, "0")
        value = value[: match.start()]
    groups = re.split(r"[.,]", value)
    if any(len(group) != 3 for group in groups[1:]) or not groups[0]:
        raise ValueError(f"not an amount: {text.strip()!r}")
    cents = int("".join(groups)) * 100 + int(cents_part)
    return -cents if negative else cents


def parse_date(text: str) -> date:
    value = text.strip()
    if match := _DATE_ISO.match(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DATE_NL.match(value):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(f"not a date (use 2026-11-25 or 25-11-2026): {value!r}")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r}") from exc


def parse_phone(text: str, region: str = "NL") -> str | None:
    value = text.strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {value!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number: {value!r}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older Dutch back offices still export Windows-1252.
        return data.decode("cp1252")


def _delimiter(header: str) -> str:
    return max((";", ",", "\t"), key=header.count)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _row(line: int, raw: dict[str, str], region: str) -> ArrearsRow:
    problems: list[str] = []

    def field(name: str, convert: type | object) -> object:
        try:
            return convert(_clean(raw.get(name)))  # type: ignore[operator]
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            return None

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
    phone = field("phone", lambda value: parse_phone(value, region))
    email = _clean(raw.get("email")) or None
    if email is not None and not _EMAIL.match(email):
        problems.append(f"email: not an email address: {email!r}")
    language = _LANGUAGES.get(_clean(raw.get("language")).lower())
    if language is None:
        problems.append(f"language: use nl or en, not {_clean(raw.get('language'))!r}")
    assistance_text = _clean(raw.get("debt_assistance")).lower()
    if assistance_text not in _YES | _NO:
        problems.append(f"debt_assistance: use yes or no, not {assistance_text!r}")
    if problems:
        raise ValueError("; ".join(problems))
    assert isinstance(rent, int) and isinstance(balance, int) and isinstance(as_of, date)
    return ArrearsRow(
        line=line,
        tenant_ref=ref,
        name=name,
        phone=phone if isinstance(phone, str) else None,
        email=email.lower() if email else None,
        language=language or "nl",
        monthly_rent_cents=rent,
        balance_cents=balance,
        as_of=as_of,
        postcode=_clean(raw.get("postcode")).replace(" ", "").upper() or None,
        house_number=_clean(raw.get("house_number")) or None,
        house_number_suffix=_clean(raw.get("house_number_suffix")) or None,
        city=_clean(raw.get("city")) or None,
        municipality=_clean(raw.get("municipality")) or None,
        administrator=_clean(raw.get("administrator")) or None,
        debt_assistance=assistance_text in _YES,
    )


def parse_arrears_file(data: bytes, region: str = "NL") -> ArrearsFile:
    """Every row, or ArrearsFileError naming every bad line (line 1 is the header)."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise ArrearsFileError([LineError(0, "the file is empty")]) from None
    columns = [column.strip().lower().replace(" ", "_") for column in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ArrearsFileError(
            [
                LineError(
                    1,
                    f"missing column(s): {', '.join(missing)}; the header is {', '.join(columns)}",
                )
            ]
        )
    errors: list[LineError] = []
    rows: list[ArrearsRow] = []
    first_seen: dict[str, int] = {}
    line_start = 2
    for record in reader:
        line = line_start
        line_start = reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            errors.append(LineError(line, f"expected {len(columns)} fields, found {len(record)}"))
            continue
        try:
            row = _row(line, dict(zip(columns, record, strict=True)), region)
        except ValueError as exc:
            errors.append(LineError(line, str(exc)))
            continue
        if row.tenant_ref in first_seen:
            errors.append(
                LineError(
                    line, f"tenant_ref {row.tenant_ref!r} also on line {first_seen[row.tenant_ref]}"
                )
            )
            continue
        first_seen[row.tenant_ref] = line
        rows.append(row)
    if errors:
        raise ArrearsFileError(errors)
    if not rows:
        raise ArrearsFileError([LineError(0, "the file has a header but no rows")])
    return ArrearsFile(rows, hashlib.sha256(data).hexdigest())
