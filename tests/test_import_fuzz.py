"""Hypothesis against the import: files with a valid header and hostile values either import
whole into a real database (SQLite and PostgreSQL) or are refused with every bad line
named; never another exception, never a partial write."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.arrears_file import ArrearsFileError, LineError, parse_arrears_file
from storage.models import Tenant
from tests.db_helpers import table_counts
from tests.test_import_bad_input import COLUMNS, LIMITS

LINE_LEVEL = ("expected ", "a field longer", "not readable as CSV", "byte 0x")
STORED = (
    "name",
    "language",
    "monthly_rent_cents",
    "street",
    "postcode",
    "house_number",
    "house_number_suffix",
    "city",
    "municipality",
    "administrator",
    "debt_assistance",
)
_letters = st.characters(categories=["L", "Zs"])


def _amount(cents: int) -> str:
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{euros:,}.{rest:02d}".replace(",", "X").replace(".", ",").replace("X", ".")


VALID: dict[str, st.SearchStrategy[str]] = {
    "tenant_ref": st.from_regex(r"T[0-9]{1,4}", fullmatch=True),
    "name": st.text(_letters, min_size=1, max_size=60),
    "monthly_rent": st.integers(1, 10**6).map(_amount),
    "balance": st.integers(-(10**6), 10**7).map(_amount),
    # Up to the tests' today (conftest.T0): a list dated later is refused as a whole.
    "as_of": st.dates(date(2000, 1, 1), date(2026, 12, 1)).flatmap(
        lambda day: st.sampled_from([day.isoformat(), day.strftime("%d-%m-%Y")])
    ),
    "phone": st.sampled_from(["", "06-12345678", "+31 6 12345678", "0031612345678"]),
    "email": st.one_of(st.sampled_from(["", "ANNA@Example.nl"]), st.emails()),
    "language": st.sampled_from(["", "nl", "EN", "Nederlands"]),
    "street": st.text(_letters, max_size=200),
    "postcode": st.sampled_from(["", "7941 AB", "1234ab"]),
    "house_number": st.from_regex(r"[0-9]{0,5}", fullmatch=True),
    "house_number_suffix": st.sampled_from(["", "a", "bis", "II"]),
    "city": st.text(_letters, max_size=100),
    "municipality": st.text(_letters, max_size=100),
    "administrator": st.text(_letters, max_size=200),
    "debt_assistance": st.sampled_from(["", "ja", "nee", "yes", "0"]),
}
HOSTILE_TEXT = st.one_of(
    st.text(),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp"])),
    st.text().map(lambda text: f"{text}\x00{text}"),
    st.integers(-(10**30), 10**30).map(str),
    st.integers(0, 400).map(lambda n: "A" * n),
    st.integers(0, 30).map(lambda n: "ß" * n),
    st.integers(0, 100).map(lambda n: "İ" * n + "@example.nl"),
    st.just("Z" * 131_073),
    st.sampled_from(['"', '""', '"Anna', 'An"na', '";"', ";", "\r", "\n", "\r\n", "\t"]),
    st.sampled_from(["0001-01-01", "9999-12-31", "31-12-1999", "٢٠٢٦-01-01", "1e400"]),
)
# A field is text (encoded as UTF-8) or raw bytes of any kind.
HOSTILE = st.one_of(HOSTILE_TEXT.map(lambda text: text.encode("utf-8", "replace")), st.binary())


def _field(value: bytes, quoted: bool) -> bytes:
    return b'"' + value.replace(b'"', b'""') + b'"' if quoted else value


@st.composite
def hostile_files(draw: st.DrawFn) -> bytes:
    """A valid header over rows of mostly valid values, each row with a few hostile ones."""
    delimiter = draw(st.sampled_from([b";", b",", b"\t"]))
    lines = [delimiter.join(column.encode() for column in COLUMNS)]
    # Some files only odd, not hostile: they must get through to the database.
    hostile_per_row = draw(st.sampled_from([0, 1, 3]))
    for index in range(draw(st.integers(1, 4))):
        values = {column: draw(VALID[column]).encode() for column in COLUMNS}
        # Distinct within the file, and the same few across files: later files update.
        values["tenant_ref"] += f"-{index}".encode()
        for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=hostile_per_row)):
            values[column] = draw(HOSTILE)
        # Amounts like 1.234,56 hold the comma: a comma-separated export quotes its fields.
        quoted = delimiter == b"," or draw(st.booleans())
        lines.append(delimiter.join(_field(values[column], quoted) for column in COLUMNS))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return bom + draw(st.sampled_from([b"\r\n", b"\n"])).join(lines) + b"\n"


def assert_names_lines_and_fields(error: ArrearsFileError) -> None:
    assert error.errors
    for problem in error.errors:
        assert isinstance(problem, LineError)
        if problem.line == 0:
            assert problem.reason == "the file has a header but no rows"
            continue
        assert problem.line >= 2, problem  # the header is valid
        assert str(problem).startswith(f"line {problem.line}: ")
        assert problem.reason.startswith((*COLUMNS, *LINE_LEVEL)), problem


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_files())
def test_fuzzed_files_parse_or_name_every_bad_line(data: bytes) -> None:
    try:
        parsed = parse_arrears_file(data)
    except ArrearsFileError as error:
        event("refused")
        assert_names_lines_and_fields(error)
        return
    event("parsed")
    for parsed_row in parsed.rows:
        for column, limit in LIMITS.items():
            value = getattr(parsed_row, column)
            assert value is None or len(value) <= limit
        assert abs(parsed_row.balance_cents) <= 100_000_000


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=hostile_files())
async def test_fuzzed_files_import_whole_or_write_nothing(runtime: Runtime, data: bytes) -> None:
    # One database for all examples: later files update the tenants of earlier ones.
    counts = await table_counts(runtime)
    try:
        summary = await runtime.import_data(data, "fuzz.csv")
    except ArrearsFileError as error:
        event("refused")
        assert_names_lines_and_fields(error)
        assert await table_counts(runtime) == counts
        return
    event("imported")
    parsed = parse_arrears_file(data)
    assert summary.rows == len(parsed.rows)
    if summary.already_imported:
        return
    async with runtime.sessions() as session:
        for parsed_row in parsed.rows:
            tenant = await session.scalar(
                select(Tenant).where(Tenant.external_ref == parsed_row.tenant_ref)
            )
            assert tenant is not None
            # Stored as parsed: nothing cut, nothing changed by the database.
            for name in STORED:
                assert getattr(tenant, name) == getattr(parsed_row, name), name
