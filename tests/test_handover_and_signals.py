"""Warm handover with its dossier, the eviction-prevention record, and the municipal early
signal exported as DDAS JSON (validated against the national schema) and as CSV."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from rules.early_signal import SignalFacts, blockers, ddas_item, whole_euros
from rules.policy import SignalRules
from storage.models import Handover, MunicipalSignal
from tests.db_helpers import cases, events
from tests.factories import arrears_csv, row
from tests.test_workplace import hidden, log_in, make_user
from workplace.accounts import Role
from workplace.labels import CODES, translator
from workplace.signals import REASONS, as_csv, criteria

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


def _rows(page: str) -> dict[int, str]:
    """The table rows of a page by case id, tags stripped, white space as single spaces."""
    return {
        int(case_id): " ".join(re.sub(r"<[^>]+>", " ", html.unescape(cells)).split())
        for case_id, cells in re.findall(r'<tr data-case="(\d+)">(.*?)</tr>', page, re.S)
    }


async def test_the_signals_page_explains_the_rule_and_why_each_case_waits(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna = await month_of_silence(runtime, clock)  # 10 January 2027: 40 days of arrears
    bob = next(c.id for c in await cases(runtime) if c.id != anna)
    await runtime.import_data(
        arrears_csv(
            row("T1", as_of="10-01-2027"),
            row("T2", name="Bob", phone="06-11111111", postcode="7942 CD", as_of="10-01-2027"),
            row("VHE-0042-B", name="Carla", phone="06-22222222", as_of="10-01-2027"),
        ),
        "d2.csv",
    )
    carla = next(c.id for c in await cases(runtime) if c.id not in (anna, bob))
    await make_user(runtime, "kees", Role.COORDINATOR)
    assert await log_in(client, "kees") == 303
    await post_form(
        client,
        f"/cases/{anna}",
        f"/cases/{anna}/contact",
        mode="Huisbezoek",
        reached="no",
        outcome="Niet thuis",
        day="2027-01-09",
        hour="17:00",
    )
    page = await (await client.get("/signals")).text()

    (criteria,) = re.findall(r'<ul id="criteria">(.*?)</ul>', page, re.S)
    rules = [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", criteria)]
    assert rules == [
        "De huurder heeft nog een achterstand en is niet eerder gemeld.",
        "De achterstand bestaat minstens 30 dagen.",
        "De schriftelijke herinnering is verstuurd. Daarin bieden we aan de gegevens door te "
        "geven aan de gemeente.",
        "Iemand van ons heeft geprobeerd de huurder persoonlijk te bereiken, en dat vastgelegd "
        "als Telefoon of Huisbezoek.",
        "De huurder heeft geen bezwaar gemaakt tegen de melding.",
    ]
    rows = _rows(page)
    assert f'name="case" value="{anna}"' in page and "T1" in rows[anna]
    assert "T2" in rows[bob] and "VHE-0042-B" in rows[carla]
    assert (
        "Nog geen persoonlijke contactpoging: probeer de huurder te bereiken en leg het vast "
        "bij de zaak als Telefoon of Huisbezoek."
    ) in rows[bob]
    assert "Achterstand nog te kort: melden kan vanaf 09-02-2027." in rows[carla]
    assert "Nog geen schriftelijke herinnering: die gaat eerst" in rows[carla]

    # In English, with the policy's own numbers and words.
    runtime.policy = runtime.policy.model_copy(
        update={"signal": SignalRules(min_arrears_days=45, personal_contact_modes=("Telefoon",))}
    )
    await client.post("/language", data={"csrf": hidden(page, "csrf"), "language": "en"})
    english = await (await client.get("/signals")).text()
    assert "The arrears are at least 45 days old." in english
    assert "One of us tried to reach the tenant in person, and logged it as Phone." in english
    # The date as British English writes it (workplace.formats, through Babel).
    assert "Arrears too recent: the signal may go from 24/02/2027." in _rows(english)[carla]
    assert "Tenant ref" in english and "Why not yet" in english


def test_every_signal_sentence_has_its_english() -> None:
    english, dutch = translator("en"), translator("nl")
    for code, sentence in REASONS.items():
        assert english(sentence) != sentence, code
        assert code in CODES and sentence.startswith(CODES[code][0] + ":"), code
    assert all(
        line != english_line
        for line, english_line in zip(
            criteria(RULES, dutch), criteria(RULES, english, "en"), strict=True
        )
    )
    # The contact modes as the English contact form offers them, not in Dutch.
    assert any("Phone or Home visit" in line for line in criteria(RULES, english, "en"))
    assert any("Telefoon of Huisbezoek" in line for line in criteria(RULES, dutch, "nl"))
