"""The short paths for common cells give exactly what the full rules give (pure)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.arrears_values import _parse_any_amount, parse_amount, parse_phone


def _full_phone(text: str) -> str | None:
    """The full rules alone: phonenumbers' parse and validation."""
    value = text.strip()
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _ours(text: str) -> str | None:
    try:
        return parse_phone(text)
    except ValueError:
        return None


_nine = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(_nine, st.sampled_from(["0{}", "+31{}", "0{0}-{1}", "+31 {0} {1}", "0{0} {1}"]))
def test_a_dutch_number_reads_the_same_on_both_paths(digits: str, shape: str) -> None:
    text = shape.format(digits[:1], digits[1:]) if "{0}" in shape else shape.format(digits)
    assert _ours(text) == _full_phone(text)


@pytest.mark.parametrize(
    "national",
    ["612345678", "201234567", "851234567", "661234567", "970123456", "101234567", "900123456"],
)
def test_known_kinds_of_numbers_agree(national: str) -> None:
    for text in (f"0{national}", f"+31{national}", f"0{national[:2]}-{national[2:]}"):
        assert _ours(text) == _full_phone(text)


_amount_text = st.builds(
    lambda sign, euros, sep, cents: f"{sign}{euros}{sep}{cents}" if sep else f"{sign}{euros}",
    st.sampled_from(["", "-"]),
    st.integers(min_value=0, max_value=2_000_000_000).map(str),
    st.sampled_from(["", ",", "."]),
    st.text(alphabet="0123456789", min_size=1, max_size=2),
)


@given(_amount_text)
def test_an_amount_reads_the_same_on_both_paths(text: str) -> None:
    try:
        expected: int | str = _parse_any_amount(text)
    except ValueError as error:
        expected = str(error)
    try:
        got: int | str = parse_amount(text)
    except ValueError as error:
        got = str(error)
    assert got == expected
