"""Reading back-office exports: pure, no database."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.arrears_file import ArrearsFileError, parse_amount, parse_arrears_file, parse_date
from tests.factories import arrears_csv, row


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456),
        ("1234.56", 123456),
        ("1234,56", 123456),
        ("€ 75,-", 7500),
        ("€75,--", 7500),
        ("75", 7500),
        ("0,5", 50),
        ("1.234", 123400),
        ("1,234.56", 123456),
        ("-12,50", -1250),
        ("EUR 1.000.000,00", 100000000),
        ("  650,00 ", 65000),
    ],
)
def test_amounts(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "12,3456", "1.23.4", "€", "1,2,3"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-11-25", date(2026, 11, 25)),
        ("25-11-2026", date(2026, 11, 25)),
        ("5/1/2027", date(2027, 1, 5)),
        ("05.01.2027", date(2027, 1, 5)),
    ],
)
def test_dates(text: str, day: date) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["2026-13-01", "31-02-2026", "11/25/26", "morgen"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_date(text)


def test_semicolon_bom_crlf_dutch_amounts() -> None:
    data = b"\xef\xbb\xbf" + arrears_csv(row(balance="1.234,56", rent="€ 650,-"))
    parsed = parse_arrears_file(data)
    (only,) = parsed.rows
    assert only.balance_cents == 123456
    assert only.monthly_rent_cents == 65000
    assert only.phone == "+31612345678"
    assert only.postcode == "7941AB"
    assert only.as_of == date(2026, 12, 1)


def test_comma_lf_any_column_order_and_case() -> None:
    data = (
        b"Balance,AS_OF,Tenant_Ref,Name,Monthly_Rent,Phone,Email,Language\n"
        b"1234.56,2026-11-25,T9,Jan Smit,700.00,+31 6 12345678,JAN@EXAMPLE.NL,EN\n"
    )
    (only,) = parse_arrears_file(data).rows
    assert (only.tenant_ref, only.balance_cents, only.monthly_rent_cents) == ("T9", 123456, 70000)
    assert only.email == "jan@example.nl"
    assert only.language == "en"


def test_windows_1252_export() -> None:
    data = arrears_csv(row(name="Zoë Ünal")).decode().encode("cp1252")
    assert parse_arrears_file(data).rows[0].name == "Zoë Ünal"


def test_optional_columns_may_be_absent_and_values_empty() -> None:
    data = b"tenant_ref;name;monthly_rent;balance;as_of\nT1;Anna;650;100;2026-12-01\n"
    (only,) = parse_arrears_file(data).rows
    assert only.phone is None and only.email is None and only.language == "nl"


def test_every_bad_line_is_named() -> None:
    data = arrears_csv(
        row("T1"),
        row("T2", phone="12"),
        row("T3", balance="veel"),
        row("T4", as_of="2026-02-30", language="fr"),
        row("T1"),
        "T6;only;three",
        row("T7", name="", rent="0"),
    )
    with pytest.raises(ArrearsFileError) as caught:
        parse_arrears_file(data)
    lines = {error.line: error.reason for error in caught.value.errors}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8]
    assert "phone" in lines[3]
    assert "balance" in lines[4]
    assert "as_of" in lines[5] and "language" in lines[5]
    assert "also on line 2" in lines[6]
    assert "expected 11 fields" in lines[7]
    assert "name is empty" in lines[8] and "monthly_rent" in lines[8]
    assert "line 3: phone" in str(caught.value)


def test_missing_columns_are_named() -> None:
    with pytest.raises(ArrearsFileError, match=r"missing column.*balance"):
        parse_arrears_file(b"tenant_ref;name;monthly_rent;as_of\nT1;A;1;2026-01-01\n")


@pytest.mark.parametrize("data", [b"", b"tenant_ref;name;monthly_rent;balance;as_of\r\n"])
def test_empty_files_are_refused(data: bytes) -> None:
    with pytest.raises(ArrearsFileError):
        parse_arrears_file(data)


def test_same_bytes_same_fingerprint() -> None:
    data = arrears_csv(row())
    assert parse_arrears_file(data).sha256 == parse_arrears_file(data).sha256


def test_a_list_dated_more_than_a_day_after_today_is_refused_with_its_line() -> None:
    data = arrears_csv(row("T1", as_of="02-12-2026"), row("T2", as_of="03-12-2026"))
    with pytest.raises(ArrearsFileError) as caught:
        parse_arrears_file(data, today=date(2026, 12, 1))
    (error,) = caught.value.errors
    assert error.line == 3
    assert (
        error.reason
        == "as_of: 2026-12-03 is after today (2026-12-01); a list cannot be from the future"
    )
    # Tomorrow's date is a list made the evening before; without a today nothing is checked.
    assert len(parse_arrears_file(data, today=date(2026, 12, 2)).rows) == 2
    assert len(parse_arrears_file(data).rows) == 2


def test_the_street_is_read_and_held_to_its_column_length() -> None:
    header = "tenant_ref;name;monthly_rent;balance;as_of;street;house_number"
    data = (
        f"{header}\nT1;Anna;650;100;2026-12-01; Hoofdstraat ;12\nT2;Bob;650;100;2026-12-01;;3\n"
    ).encode()
    first, second = parse_arrears_file(data).rows
    assert (first.street, second.street) == ("Hoofdstraat", None)
    fits = f"{header}\nT1;Anna;650;100;2026-12-01;{'S' * 200};12\n".encode()
    assert parse_arrears_file(fits).rows[0].street == "S" * 200
    too_long = f"{header}\nT1;Anna;650;100;2026-12-01;{'S' * 201};12\n".encode()
    with pytest.raises(ArrearsFileError) as caught:
        parse_arrears_file(too_long)
    (error,) = caught.value.errors
    assert (error.line, error.reason) == (2, "street: 201 characters, at most 200")
