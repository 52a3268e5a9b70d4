"""Whatever bytes an import gets, it answers with the lines to fix, never with a traceback,
and a refused file writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from handlers.arrears_file import (
    OPTIONAL,
    REQUIRED,
    ArrearsFileError,
    LineError,
    parse_arrears_file,
)
from storage.models import ContactPoint, Tenant
from tests.db_helpers import snapshot, table_counts
from tests.factories import arrears_csv, row

SAVE_AS_CSV = 'save it as "CSV (UTF-8)"'
COLUMNS = (*REQUIRED, *OPTIONAL)
FULL_HEADER = ";".join(COLUMNS)


def full_row(**values: str) -> str:
    """A valid line under FULL_HEADER, with the given fields replaced."""
    fields = {
        "tenant_ref": "T1",
        "name": "Anna de Vries",
        "monthly_rent": "650,00",
        "balance": "650,00",
        "as_of": "01-12-2026",
        "phone": "06-12345678",
        "email": "anna@example.nl",
        "language": "nl",
        "street": "Hoofdstraat",
        "postcode": "7941 AB",
        "house_number": "12",
        "house_number_suffix": "a",
        "city": "Meppel",
        "municipality": "Meppel",
        "administrator": "Bewind & Co",
        "debt_assistance": "nee",
        **values,
    }
    return ";".join(fields[column] for column in COLUMNS)


def rejected(data: bytes) -> list[LineError]:
    with pytest.raises(ArrearsFileError) as caught:
        parse_arrears_file(data)
    return caught.value.errors


def with_raw_byte(data: bytes, byte: int) -> bytes:
    """``data`` with its one "ë" (UTF-8) replaced by the raw ``byte``."""
    return data.replace("ë".encode(), bytes([byte]))


def max_length(column: Any) -> int:
    length = column.type.length
    assert isinstance(length, int)
    return length


# --- bytes no encoding defines ---------------------------------------------------------


@pytest.mark.parametrize("byte", [0x81, 0x8D, 0x8F, 0x90, 0x9D])
def test_a_byte_neither_utf8_nor_windows_1252_names_its_line(byte: int) -> None:
    (error,) = rejected(with_raw_byte(arrears_csv(row("T1"), row("T2", name="Zoë")), byte))
    assert error.line == 3
    assert f"0x{byte:02X}" in error.reason and SAVE_AS_CSV in error.reason


def test_a_file_that_says_it_is_utf8_is_not_read_garbled_as_windows_1252() -> None:
    data = b"\xef\xbb\xbf" + arrears_csv(row("T1"), row("T2", name="Zoë"))
    (error,) = rejected(with_raw_byte(data, 0xEB))
    assert error.line == 3 and "0xEB is not UTF-8" in error.reason


# --- a field longer than the csv module reads -------------------------------------------


def test_a_field_over_the_csv_limit_names_its_line_and_the_rest_is_still_checked() -> None:
    data = arrears_csv(row("T1"), row("T2", name="A" * 140_000), row("T3", balance="veel"))
    errors = rejected(data)
    assert [error.line for error in errors] == [3, 4]
    assert "longer than 131072 characters" in errors[0].reason
    assert "balance" in errors[1].reason


def test_a_quote_never_closed_names_the_line_it_opens_on() -> None:
    rows = [row(f"T{i}") for i in range(2, 3000)]
    data = arrears_csv(row("T1", name='"Anna'), *rows)
    errors = rejected(data)
    assert errors[0].line == 2 and "quote" in errors[0].reason


# --- values longer than their database column -------------------------------------------

LIMITS = {
    "tenant_ref": max_length(Tenant.__table__.c.external_ref),
    "name": max_length(Tenant.__table__.c.name),
    "street": max_length(Tenant.__table__.c.street),
    "postcode": max_length(Tenant.__table__.c.postcode),
    "house_number": max_length(Tenant.__table__.c.house_number),
    "house_number_suffix": max_length(Tenant.__table__.c.house_number_suffix),
    "city": max_length(Tenant.__table__.c.city),
    "municipality": max_length(Tenant.__table__.c.municipality),
    "administrator": max_length(Tenant.__table__.c.administrator),
    "email": max_length(ContactPoint.__table__.c.address),
}


def of_length(column: str, length: int) -> str:
    if column == "email":
        return "a" * (length - len("@example.nl")) + "@example.nl"
    return "A" * length


@pytest.mark.parametrize("column", sorted(LIMITS))
def test_a_value_longer_than_its_column_names_line_and_field(column: str) -> None:
    limit = LIMITS[column]
    fits = arrears_csv(full_row(**{column: of_length(column, limit)}), header=FULL_HEADER)
    assert len(parse_arrears_file(fits).rows) == 1
    data = arrears_csv(
        full_row(tenant_ref="T0"),
        full_row(**{column: of_length(column, limit + 1)}),
        header=FULL_HEADER,
    )
    (error,) = rejected(data)
    assert error.line == 3
    assert error.reason == f"{column}: {limit + 1} characters, at most {limit}"


def test_the_length_counts_as_stored_after_upper_and_lower_case() -> None:
    # "ß" is one character, "SS" two: the postcode is stored upper case.
    data = arrears_csv(full_row(postcode="ß" * 9), header=FULL_HEADER)
    (error,) = rejected(data)
    assert error.line == 2 and error.reason.startswith("postcode: 18 characters")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "A" * 201),
        ("tenant_ref", "T" * 65),
        ("administrator", "B" * 201),
        ("email", "a" * 320 + "@example.nl"),
    ],
    ids=["name", "tenant_ref", "administrator", "email"],
)
async def test_too_long_for_postgresql_is_refused_on_both_and_writes_nothing(
    runtime: Runtime, field: str, value: str
) -> None:
    await runtime.import_data(arrears_csv(full_row(tenant_ref="T1"), header=FULL_HEADER), "a.csv")
    before, counts = await snapshot(runtime), await table_counts(runtime)
    bad = arrears_csv(
        full_row(tenant_ref="T2", balance="100,00"),
        full_row(**{"tenant_ref": "T3", field: value}),
        header=FULL_HEADER,
    )
    with pytest.raises(ArrearsFileError) as caught:
        await runtime.import_data(bad, "b.csv")
    (error,) = caught.value.errors
    assert error.line == 3 and error.reason.startswith(f"{field}: ")
    assert await table_counts(runtime) == counts
    assert await snapshot(runtime) == before


# --- NUL and other control characters ---------------------------------------------------


@pytest.mark.parametrize("field", ["name", "tenant_ref", "city", "email", "balance"])
async def test_a_nul_byte_names_line_and_field_and_writes_nothing(
    runtime: Runtime, field: str
) -> None:
    await runtime.import_data(arrears_csv(full_row(tenant_ref="T1"), header=FULL_HEADER), "a.csv")
    before, counts = await snapshot(runtime), await table_counts(runtime)
    values = {"name": "Anna\x00", "tenant_ref": "T\x003", "city": "Mep\x00pel"}
    values |= {"email": "a\x00@example.nl", "balance": "100\x00"}
    bad = arrears_csv(
        full_row(tenant_ref="T2"),
        full_row(**{"tenant_ref": "T3", field: values[field]}),
        header=FULL_HEADER,
    )
    with pytest.raises(ArrearsFileError) as caught:
        await runtime.import_data(bad, "b.csv")
    assert [error.line for error in caught.value.errors] == [3]
    assert f"{field}: holds control character U+0000" in caught.value.errors[0].reason
    assert await table_counts(runtime) == counts
    assert await snapshot(runtime) == before


def test_an_escape_sequence_in_a_name_is_refused_a_line_break_becomes_a_space() -> None:
    (error,) = rejected(arrears_csv(row("T1", name="Anna\x1b[2J")))
    assert error.line == 2 and "name: holds control character U+001B" in error.reason
    (only,) = parse_arrears_file(arrears_csv(row("T1", name='"Anna\r\nde Vries"'))).rows
    assert only.name == "Anna de Vries"


# --- amounts beyond what the database (or any tenant) holds -----------------------------


@pytest.mark.parametrize(
    ("field", "amount"),
    [
        ("balance", "9" * 25),
        ("balance", "-9223372036854775808"),
        ("monthly_rent", "92233720368547758,08"),
        ("balance", "€ 1.000.000,01"),
        ("balance", "9" * 5000),
    ],
)
async def test_an_amount_beyond_a_million_names_line_and_field_and_writes_nothing(
    runtime: Runtime, field: str, amount: str
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "a.csv")
    before, counts = await snapshot(runtime), await table_counts(runtime)
    bad = arrears_csv(
        row("T2"), row("T3", **{"rent" if field == "monthly_rent" else field: amount})
    )
    with pytest.raises(ArrearsFileError) as caught:
        await runtime.import_data(bad, "b.csv")
    (error,) = caught.value.errors
    assert error.line == 3 and error.reason.startswith(f"{field}: ")
    assert "more than € 1.000.000,00" in error.reason
    assert len(error.reason) < 150  # the value is quoted, not echoed whole
    assert await table_counts(runtime) == counts
    assert await snapshot(runtime) == before


def test_a_million_euros_is_still_an_amount() -> None:
    (only,) = parse_arrears_file(arrears_csv(row(balance="EUR 1.000.000,00"))).rows
    assert only.balance_cents == 100_000_000


def test_a_date_outside_this_century_is_refused() -> None:
    # Year 1 used to import, then broke the consultant's case page (date arithmetic).
    (error,) = rejected(arrears_csv(row("T1", as_of="0001-01-01")))
    assert error.line == 2 and error.reason.startswith("as_of: ")


# --- not a CSV file at all --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_one_plain_file_level_error(seed: int) -> None:
    data = random.Random(seed).randbytes(4096)
    (error,) = rejected(data)
    assert "not a CSV file" in error.reason and SAVE_AS_CSV in error.reason


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (arrears_csv(row()).decode().encode("utf-16"), '"Unicode text"'),
        (arrears_csv(row()).decode().encode("utf-16-be"), '"Unicode text"'),
        (arrears_csv(row()).decode().encode("utf-16-le"), '"Unicode text"'),
        (b"\xfe\xff" + arrears_csv(row()).decode().encode("utf-16-be"), '"Unicode text"'),
        (arrears_csv(row()).decode().encode("utf-32"), '"Unicode text"'),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), ".xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), ".xls"),
    ],
)
def test_unicode_text_and_workbooks_are_told_to_save_as_csv_utf8(data: bytes, says: str) -> None:
    (error,) = rejected(data)
    assert error.line == 0
    assert says in error.reason and SAVE_AS_CSV in error.reason


def test_a_column_given_twice_is_named() -> None:
    data = b"tenant_ref;name;monthly_rent;balance;as_of;Balance\nT1;A;1;2;2026-01-01;3\n"
    (error,) = rejected(data)
    assert error.line == 1 and "balance appears twice" in error.reason


# --- the command line -------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def upgraded(db: Path) -> Path:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return db


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (with_raw_byte(arrears_csv(row("T1"), row("T2", name="Zoë")), 0x81), "line 3: byte 0x81"),
        (arrears_csv(row("T1"), row("T2", name="A" * 140_000)), "line 3: a field longer"),
        (
            # Dated in the past: the command reads the real clock, and refuses a later list.
            arrears_csv(
                row("T1", as_of="25-11-2026"), row("T2", name="A" * 201, as_of="25-11-2026")
            ),
            "line 3: name: 201 characters",
        ),
        (b"PK\x03\x04" + bytes(100), SAVE_AS_CSV),
    ],
)
def test_the_command_names_the_problem_on_stderr_and_exits_1(
    upgraded: Path, tmp_path: Path, data: bytes, says: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data)
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert "nothing was changed" in result.stderr and says in result.stderr
    assert result.stdout == ""


def test_the_installed_command_prints_no_traceback(upgraded: Path, tmp_path: Path) -> None:
    bad = tmp_path / "export.csv"
    bad.write_bytes(with_raw_byte(arrears_csv(row("T1"), row("T2", name="Zoë")), 0x9D))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("arrears-bot")), "import", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "line 3: byte 0x9D is neither UTF-8 nor Windows-1252" in done.stderr
