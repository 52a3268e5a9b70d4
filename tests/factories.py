"""Arrears files for tests, written the way back offices export them."""

from __future__ import annotations

HEADER = (
    "tenant_ref;name;phone;email;language;monthly_rent;balance;as_of;postcode;house_number;"
    "municipality"
)


def arrears_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


def row(
    ref: str = "T1",
    name: str = "Anna de Vries",
    phone: str = "06-12345678",
    email: str = "",
    language: str = "nl",
    rent: str = "650,00",
    balance: str = "650,00",
    as_of: str = "01-12-2026",
    postcode: str = "7941 AB",
    house_number: str = "12",
    municipality: str = "Meppel",
) -> str:
    return ";".join(
        [
            ref,
            name,
            phone,
            email,
            language,
            rent,
            balance,
            as_of,
            postcode,
            house_number,
            municipality,
        ]
    )


def phone_for(i: int) -> str:
    """A valid Dutch mobile number per index."""
    return f"06-{20000000 + i:08d}"
