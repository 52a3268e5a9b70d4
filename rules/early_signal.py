"""When the municipality may get an early signal of a tenant's arrears (Wgs; Besluit
gemeentelijke schuldhulpverlening art. 2), and what it says. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from rules.policy import SignalRules


@dataclass(frozen=True)
class SignalFacts:
    balance_cents: int
    arrears_since: date
    written_reminder_sent: bool  # the written reminder, which offers to pass details on
    objection: bool
    personal_contact_modes: frozenset[str]  # how consultants tried to reach the tenant
    closed: bool
    already_signalled: bool


# How a tenant told us they object (or withdraw): every way counts, not only the chat.
OBJECTION_WAYS = ("phone", "email", "letter", "door", "chat")


@dataclass(frozen=True)
class ObjectionMark:
    """An objection to the signal, or its withdrawal, as the record holds it."""

    withdrawn: bool
    at: datetime  # when the tenant made it, which may be before it was recorded
    order: int  # the record's own order (the event id): the later of two at one moment wins
    how: str  # one of OBJECTION_WAYS
    by: str  # "tenant" (their own message) or the consultant who recorded it


def standing_objection(marks: Iterable[ObjectionMark]) -> ObjectionMark | None:
    """The objection that stands now: the latest mark by when it was made, then by the
    record's order, unless that latest mark is a withdrawal."""
    latest = max(marks, key=lambda mark: (mark.at, mark.order), default=None)
    return latest if latest is not None and not latest.withdrawn else None


def blockers(facts: SignalFacts, rules: SignalRules, today: date) -> list[str]:
    """Why a signal may not go (yet); empty when it may."""
    reasons = []
    if facts.closed or facts.balance_cents <= 0:
        reasons.append("no_arrears")
    if facts.already_signalled:
        reasons.append("already_signalled")
    if facts.objection:
        reasons.append("objection")
    if not facts.written_reminder_sent:
        reasons.append("no_written_reminder")
    if facts.arrears_since > today - timedelta(days=rules.min_arrears_days):
        reasons.append("arrears_too_recent")
    if not facts.personal_contact_modes & set(rules.personal_contact_modes):
        reasons.append("no_personal_contact_attempt")
    return reasons


def whole_euros(cents: int) -> int:
    """DDAS amounts are whole euros; half a euro rounds up."""
    return (cents + 50) // 100


def compact_postcode(postcode: str | None) -> str:
    return "".join((postcode or "").split()).upper()


def ddas_item(
    *,
    signal_id: str,
    balance_cents: int,
    arrears_since: date,
    today: date,
    postcode: str | None,
    house_number: str | None,
    house_number_suffix: str | None,
    warm: bool,
    crisis: bool,
) -> dict[str, Any]:
    """One item of `vroegsignalen` in the national DDAS structure (v1.2): the tenant is
    identified by postcode and house number, never by BSN, which a landlord does not hold."""
    client: dict[str, Any] = {
        "postcode": compact_postcode(postcode),
        "huisnummer": (house_number or "").strip(),
    }
    if house_number_suffix and house_number_suffix.strip():
        client["huisnummertoevoeging"] = house_number_suffix.strip()
    return {
        "ID": signal_id,
        "crisissignaal": crisis,
        "warmeOverdracht": warm,
        "bedrag": whole_euros(balance_cents),
        "ontstaansdatum": arrears_since.isoformat(),
        "signaaldatum": today.isoformat(),
        "status": "Nog niet opgepakt",
        "signaalpartner": {"type": "Huur"},
        "client": client,
    }
