"""Warm handover with its dossier, the eviction-prevention record, and the municipal early
signal exported as DDAS JSON (validated against the national schema) and as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.clock import ManualClock
from bot.early_signal import SignalFacts, blockers, ddas_item, whole_euros
from bot.policy import SignalRules
from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from storage.models import Handover, MunicipalSignal
from tests.db_helpers import cases, events
from tests.factories import arrears_csv, row
from tests.test_workplace import hidden, log_in, make_user
from workplace.accounts import Role
from workplace.signals import as_csv

Client = TestClient  # type: ignore[type-arg]
# A copy of ../shared/standards/ddas-vroegsignaal-v1.2.schema.json (VNG DDAS v1.2 excerpt).
SCHEMA = json.loads(
    (Path(__file__).parent / "data/ddas-vroegsignaal-v1.2.schema.json").read_text("utf-8")
)
TODAY = date(2027, 1, 15)
RULES = SignalRules()


def facts(**changes: object) -> SignalFacts:
    values: dict[str, object] = {
        "balance_cents": 65000,
        "arrears_since": date(2026, 12, 1),
        "written_reminder_sent": True,
        "objection": False,
        "personal_contact_modes": frozenset({"Telefoon"}),
        "closed": False,
        "already_signalled": False,
    }
    values.update(changes)
    return SignalFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({}, []),
        ({"objection": True}, ["objection"]),
        ({"written_reminder_sent": False}, ["no_written_reminder"]),
        ({"arrears_since": date(2026, 12, 20)}, ["arrears_too_recent"]),
        ({"personal_contact_modes": frozenset({"SMS/Whatsapp"})}, ["no_personal_contact_attempt"]),
        ({"balance_cents": 0}, ["no_arrears"]),
        ({"already_signalled": True}, ["already_signalled"]),
    ],
)
def test_signal_rules(changes: dict[str, object], reasons: list[str]) -> None:
    assert blockers(facts(**changes), RULES, TODAY) == reasons


def test_a_ddas_item_validates_against_the_national_schema() -> None:
    item = ddas_item(
        signal_id="huur-1",
        balance_cents=65049,
        arrears_since=date(2026, 12, 1),
        today=TODAY,
        postcode="7941 ab",
        house_number="12",
        house_number_suffix="A",
        warm=True,
        crisis=False,
    )
    jsonschema.validate(item, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert item["bedrag"] == 650 and item["signaalpartner"] == {"type": "Huur"}
    assert item["client"] == {"postcode": "7941AB", "huisnummer": "12", "huisnummertoevoeging": "A"}
    assert whole_euros(65050) == 651
    bad = {**item, "naam": "Anna"}  # the national item carries no name: refused
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def month_of_silence(runtime: Runtime, clock: ManualClock) -> int:
    """Anna's arrears from 1 December; every stage sent, the written one included."""
    await runtime.import_data(
        arrears_csv(row("T1"), row("T2", name="Bob", phone="06-11111111", postcode="7942 CD")),
        "d1.csv",
    )
    for _ in range(40):
        clock.advance(timedelta(days=1))
        await runtime.tick()
        await runtime.dispatch()
    anna = next(c for c in await cases(runtime) if c.tenant_id == 1)
    return anna.id


async def post_form(client: Client, page_path: str, action: str, **data: str) -> str:
    page = await (await client.get(page_path)).text()
    form = {"csrf": hidden(page, "csrf"), **data}
    if 'name="version"' in page:
        form["version"] = hidden(page, "version")
    response = await client.post(action, data=form)
    assert response.status == 200, await response.text()
    return await response.text()


async def test_signal_needs_a_personal_attempt_respects_an_objection_and_exports(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna = await month_of_silence(runtime, clock)
    bob = next(c.id for c in await cases(runtime) if c.id != anna)
    await make_user(runtime, "kees", Role.COORDINATOR)
    assert await log_in(client, "kees") == 303
    page = await (await client.get("/signals")).text()
    assert "Nog geen persoonlijke contactpoging" in page and 'name="case"' not in page
    # Kees calls Anna (not reached) and visits Bob (reached); Bob objects afterwards.
    await post_form(
        client,
        f"/cases/{anna}",
        f"/cases/{anna}/contact",
        mode="Telefoon",
        reached="no",
        outcome="Geen gehoor",
        day="2027-01-08",
        hour="10:15",
    )
    await post_form(
        client,
        f"/cases/{bob}",
        f"/cases/{bob}/contact",
        mode="Huisbezoek",
        reached="yes",
        outcome="Thuis getroffen",
        day="2027-01-08",
        hour="18:40",
    )
    await runtime.receive(
        InboundMessage("whatsapp", "+31611111111", "BEZWAAR", "obj-1", clock.now())
    )
    page = await (await client.get("/signals")).text()
    assert f'name="case" value="{anna}"' in page and f'name="case" value="{bob}"' not in page
    assert "Bezwaar tegen melding" in page
    exported = await post_form(client, "/signals", "/signals", case=str(anna))
    assert "vroegsignalen-" not in exported and "/signals/batches/1.json" in exported
    document = await (await client.get("/signals/batches/1.json")).json()
    (item,) = document["vroegsignalen"]
    jsonschema.validate(item, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert (item["bedrag"], item["warmeOverdracht"], item["client"]["postcode"]) == (
        650,
        False,  # a call that did not reach her is no contact yet
        "7941AB",
    )
    sheet = await (await client.get("/signals/batches/1.csv")).text()
    (line,) = list(csv.DictReader(io.StringIO(sheet), delimiter=";"))
    assert (line["naam"], line["telefoon"], line["bedrag_euro"], line["maanden_achterstand"]) == (
        "Anna de Vries",
        "+31612345678",
        "650",
        "1",
    )
    # Once signalled, never twice; and the case shows it.
    again = await (await client.get("/signals")).text()
    assert f'value="{anna}"' not in again
    assert "signalled" in [e.kind for e in await events(runtime, anna)]


async def test_a_consultant_cannot_export_signals(client: Client, runtime: Runtime) -> None:
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    assert (await client.get("/signals")).status == 403
    assert (await client.get("/signals/batches/1.csv")).status == 403


async def test_warm_handover_with_consent_dossier_and_feedback(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await runtime.receive(
        InboundMessage(
            "whatsapp",
            "+31612345678",
            "Ik ben mijn baan kwijt en heb hulp nodig",
            "h-1",
            clock.now(),
        )
    )
    await runtime.dispatch()
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    refused = await post_form(
        client,
        f"/cases/{case.id}",
        f"/cases/{case.id}/handover",
        partner="0",
        consent_how="telefonisch",
    )
    assert "consent" in refused  # no tick in the box: nothing handed over
    dossier_page = await post_form(
        client,
        f"/cases/{case.id}",
        f"/cases/{case.id}/handover",
        partner="0",
        consent="yes",
        consent_how="telefonisch, 1 dec",
    )
    assert "Schuldhulp van de gemeente" in dossier_page
    assert "Ik ben mijn baan kwijt" in dossier_page and "SMS/Whatsapp" in dossier_page
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "handed_over")
    data = await (await client.get(f"/api/cases/{case.id}/dossier")).json()
    assert data["handover"]["partner"] == "Schuldhulp van de gemeente"
    assert data["tenant"]["address"]["postcode"] == "7941AB"  # as the importer keeps it
    assert data["tenant_words"][0]["text"].startswith("Ik ben mijn baan kwijt")
    assert data["arrears"]["months_in_arrears"] == 1
    attempt_schema = {"$ref": "#/$defs/contactpoging", "$defs": SCHEMA["$defs"]}
    assert data["contact_attempts"]
    for attempt in data["contact_attempts"]:
        national = {key: attempt[key] for key in ("soort", "bereikt", "datum", "dagdeel")}
        jsonschema.validate(national, attempt_schema, format_checker=jsonschema.FormatChecker())
    async with runtime.sessions() as session:
        (handover,) = await session.scalars(select(Handover))
    # The partner could not reach her: back to the queue.
    await post_form(
        client,
        f"/cases/{case.id}",
        f"/cases/{case.id}/handovers/{handover.id}/feedback",
        feedback="no_contact",
        note="Drie keer gebeld",
    )
    (case,) = await cases(runtime)
    assert (case.status, case.escalation_reason) == ("escalated", "handover_no_contact")
    record = await (await client.get(f"/cases/{case.id}/record")).text()
    assert "Verslag ontruimingspreventie" in record and "Warm overgedragen" in record
    assert "Terugkoppeling partner" in record


async def test_the_dossier_shows_a_plan_shown_but_never_confirmed(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", "ik kan 100 euro per maand", "o-1", clock.now())
    )
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    data = await (await client.get(f"/api/cases/{case.id}/dossier")).json()
    assert data["plans"] == []
    (offer,) = data["plan_offers_not_confirmed"]
    assert (offer["amount"], offer["months"]) == ("€ 100,00", 7)
    page = await (await client.get(f"/cases/{case.id}/dossier")).text()
    assert "Getoond, niet bevestigd" in page


def test_the_signals_sheet_opens_formulas_from_outside_as_text() -> None:
    row = {
        "naam": '=HYPERLINK("http://evil.example","klik")',
        "gemeente": "@SUM(1+1)",
        "woonplaats": "+cmd|' /C calc'!A0",
        "email": "-2+3",
        "toevoeging": "\t=1+1",
        "telefoon": "+31612345678",
        "bedrag_euro": 650,
        "postcode": "7941AB",
    }
    sheet = as_csv([MunicipalSignal(row=row)])
    (line,) = list(csv.DictReader(io.StringIO(sheet), delimiter=";"))
    assert line["naam"] == "'" + row["naam"]
    assert line["gemeente"] == "'@SUM(1+1)"
    assert line["woonplaats"] == "'+cmd|' /C calc'!A0"
    assert line["email"] == "'-2+3"
    assert line["toevoeging"] == "'\t=1+1"
    # A phone number or an amount is no formula and stays as it is.
    assert (line["telefoon"], line["bedrag_euro"], line["postcode"]) == (
        "+31612345678",
        "650",
        "7941AB",
    )
