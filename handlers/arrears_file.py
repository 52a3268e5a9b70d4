"""Reading the corporation's arrears list as Dutch back offices export it. Pure: bytes in,
rows or every bad line out."""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String

from handlers.arrears_values import (
    parse_amount,
    parse_date,
    parse_phone,
    shown,
)
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
_LINE_BREAKS = re.compile(r"[\t\r\n]+")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


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


def _delimiter(header: str) -> str:
    return max((";", ",", "\t"), key=header.count)


def _unreadable(error: csv.Error) -> str:
    if "field limit" in str(error):
        return (
            f"a field longer than {csv.field_size_limit()} characters; "
            'is a quote (") opened and never closed?'
        )
    return f"not readable as CSV: {error}"


def _row(line: int, raw: dict[str, str], region: str, today: date | None) -> ArrearsRow:
    problems: list[str] = []
    # Every cell stripped once (a column the header lacks reads as empty).
    clean = {column: value.strip() for column, value in raw.items()}

    def field(name: str, convert: type | object) -> object:
        try:
            return convert(clean.get(name, ""))  # type: ignore[operator]
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            return None

    if CONTROL.search("".join(raw.values())):
        for column in (*REQUIRED, *OPTIONAL):
            if found := CONTROL.search(raw.get(column) or ""):
                problems.append(f"{column}: holds control character U+{ord(found.group()):04X}")
    ref = clean.get("tenant_ref", "")
    name = clean.get("name", "")
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
    email = clean.get("email") or None
    if email is not None and not _EMAIL.match(email):
        problems.append(f"email: not an email address: {shown(email)}")
    language = _LANGUAGES.get(clean.get("language", "").lower())
    if language is None:
        problems.append(f"language: use nl or en, not {shown(clean.get('language', ''))}")
    assistance_text = clean.get("debt_assistance", "").lower()
    if assistance_text not in _YES | _NO:
        problems.append(f"debt_assistance: use yes or no, not {shown(assistance_text)}")
    # Lengths are checked on the values as stored: lower() and upper() may lengthen them.
    texts = {
        "tenant_ref": ref,
        "name": name,
        "phone": phone if isinstance(phone, str) else None,
        "email": email.lower() if email else None,
        "postcode": clean.get("postcode", "").replace(" ", "").upper() or None,
        "street": clean.get("street") or None,
        "house_number": clean.get("house_number") or None,
        "house_number_suffix": clean.get("house_number_suffix") or None,
        "city": clean.get("city") or None,
        "municipality": clean.get("municipality") or None,
        "administrator": clean.get("administrator") or None,
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
        listed = ", ".join(columns)
        listed = listed if len(listed) <= 300 else listed[:300] + "…"
        problems.append(f"missing column(s): {', '.join(missing)}; the header is {listed}")
    if problems:
        raise ArrearsFileError([LineError(1, "; ".join(problems))])
    return columns


def read_rows(
    lines: Iterator[str], region: str = "NL", *, today: date | None = None
) -> Iterator[ArrearsRow | LineError]:
    """Each row of the list, or what is wrong with its line, as the lines come: memory stays
    flat however long the list. ``lines`` keep their line ends (as a file opened with
    ``newline=""`` gives them). A bad header raises ArrearsFileError at once. A tenant_ref
    seen twice is not checked here: that takes the whole file (``duplicates``)."""
    first = next(lines, None)
    if first is None:
        raise ArrearsFileError([LineError(0, "the file is empty")])
    reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first))
    columns = _read_header(reader)
    line_start = 2
    while True:
        line = line_start
        try:
            record = next(reader, None)
        except csv.Error as exc:
            # The reader resumes on the next line; the rest of the file is still checked.
            line_start = reader.line_num + 1
            yield LineError(line, _unreadable(exc))
            continue
        if record is None:
            return
        line_start = reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            yield LineError(line, f"expected {len(columns)} fields, found {len(record)}")
            continue
        if _LINE_BREAKS.search("".join(record)):
            # A line break typed into a spreadsheet cell is a space to anyone reading it.
            record = [_LINE_BREAKS.sub(" ", cell) for cell in record]
        try:
            yield _row(line, dict(zip(columns, record, strict=True)), region, today)
        except ValueError as exc:
            yield LineError(line, str(exc))


def duplicate(tenant_ref: str, line: int, earlier: int) -> LineError:
    return LineError(line, f"tenant_ref {shown(tenant_ref)} also on line {earlier}")


class Problems:
    """The bad lines of a file, in order. Past ``MAX_SHOWN`` only counted: nobody reads a
    hundred thousand of them, and a wrong file must not cost its size in memory."""

    MAX_SHOWN = 1000

    def __init__(self) -> None:
        self._shown: list[LineError] = []
        self._more = 0

    def add(self, error: LineError) -> None:
        if len(self._shown) < self.MAX_SHOWN:
            self._shown.append(error)
        else:
            self._more += 1

    def __bool__(self) -> bool:
        return bool(self._shown)

    def error(self, extra: Iterable[LineError] = ()) -> ArrearsFileError:
        """Every problem, with ``extra`` ones (found later, such as duplicates) in line order."""
        found = sorted([*self._shown, *extra], key=lambda error: error.line)
        more = self._more + max(0, len(found) - self.MAX_SHOWN)
        found = found[: self.MAX_SHOWN]
        if more:
            found.append(LineError(0, f"and {more} more lines with problems"))
        return ArrearsFileError(found)


def text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their ends, as ``open(..., newline="")`` reads them."""
    for match in _LINE.finditer(text):
        yield match.group()


def parse_arrears_file(
    data: bytes, region: str = "NL", *, today: date | None = None
) -> ArrearsFile:
    """Every row, or ArrearsFileError naming every bad line (line 1 is the header). With
    `today` (the caller's clock: parsing stays pure), a list dated more than a day later
    is refused: a typing error, and one that would date the tenants' arrears wrongly.
    (The importer reads large files as a stream instead: handlers/arrears_source.py.)"""
    try:
        text = decode_csv_text(data)
    except NotCsvText as exc:
        raise ArrearsFileError([LineError(exc.line, exc.reason)]) from None
    problems = Problems()
    rows: list[ArrearsRow] = []
    first_seen: dict[str, int] = {}
    for item in read_rows(text_lines(text), region, today=today):
        if isinstance(item, LineError):
            problems.add(item)
        elif (earlier := first_seen.get(item.tenant_ref)) is not None:
            problems.add(duplicate(item.tenant_ref, item.line, earlier))
        else:
            first_seen[item.tenant_ref] = item.line
            rows.append(item)
    if problems:
        raise problems.error()
    if not rows:
        raise ArrearsFileError([LineError(0, "the file has a header but no rows")])
    return ArrearsFile(rows, hashlib.sha256(data).hexdigest())
