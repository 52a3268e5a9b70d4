"""Objections to the municipal early signal from every channel: a consultant records one
(by phone, by email, by letter, at the door, in the chat) or its withdrawal on the case
page; the latest word counts; an objection that stands keeps the case off /signals and out
of the export, even when recorded after the list was shown; bad input changes nothing.
Through real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text

from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from rules.early_signal import OBJECTION_WAYS, ObjectionMark, standing_objection
from storage.models import CaseEvent, MunicipalSignal, User
from tests.db_helpers import cases, events, snapshot
from tests.test_handover_and_signals import month_of_silence, post_form
from tests.test_workplace import hidden, log_in, make_user
from tests.waiting import until_true
from workplace import actions, objections, signals
from workplace.accounts import Role
from workplace.words import OBJECTION_WAYS as WORDS
from workplace.words import Vocabulary

Client = TestClient  # type: ignore[type-arg]
MOMENT = datetime(2027, 1, 8, 9, 0, tzinfo=UTC)


def mark(withdrawn: bool, hours: int, order: int) -> ObjectionMark:
    return ObjectionMark(withdrawn, MOMENT + timedelta(hours=hours), order, "phone", "kees")


@pytest.mark.parametrize(
    ("marks", "stands"),
    [
        ([], None),
        ([mark(False, 0, 1)], 0),
        ([mark(False, 0, 1), mark(True, 1, 2)], None),
        # Recorded later, made earlier: the withdrawal made after it still counts.
        ([mark(True, 1, 1), mark(False, 0, 2)], None),
        ([mark(True, 0, 1), mark(False, 1, 2)], 1),
        # Made at one moment: the later record wins.
        ([mark(False, 0, 1), mark(True, 0, 2)], None),
        ([mark(True, 0, 1), mark(False, 0, 2)], 1),
        ([mark(False, 2, 3), mark(True, 1, 2), mark(False, 0, 1)], 0),
    ],
)
def test_the_latest_word_counts(marks: list[ObjectionMark], stands: int | None) -> None:
    found = standing_objection(marks)
    assert found is (None if stands is None else marks[stands])


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


def text_of(page: str) -> str:
    """A page's words, tags stripped, white space as single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def signal_row(page: str, case_id: int) -> str:
    found = re.search(rf'<tr data-case="{case_id}">(.*?)</tr>', page, re.S)
    assert found, f"case {case_id} is not on the signals page"
    return text_of(found.group(1))


async def ready_case(client: Client, runtime: Runtime, clock: ManualClock) -> tuple[int, int]:
    """Anna and Bob after a month of silence (10 January 2027, 10:00), each called once: both
    ready for the signal. Kees, a coordinator, is logged in."""
    anna = await month_of_silence(runtime, clock)
    bob = next(c.id for c in await cases(runtime) if c.id != anna)
    await make_user(runtime, "kees", Role.COORDINATOR)
    assert await log_in(client, "kees") == 303
    for case_id in (anna, bob):
        await post_form(
            client,
            f"/cases/{case_id}",
            f"/cases/{case_id}/contact",
            mode="Telefoon",
            reached="no",
            outcome="Geen gehoor",
            day="2027-01-08",
            hour="10:15",
        )
    page = await (await client.get("/signals")).text()
    assert f'name="case" value="{anna}"' in page and f'name="case" value="{bob}"' in page
    return anna, bob


async def objection(client: Client, case_id: int, kind: str = "objection", **data: str) -> str:
    """The case page's objection form, sent; the page it lands on."""
    form = {"how": "phone", "day": "2027-01-08", "hour": "10:15", "note": "", **data}
    return await post_form(
        client, f"/cases/{case_id}", f"/cases/{case_id}/objection", kind=kind, **form
    )


async def offered(client: Client, case_id: int) -> bool:
    page = await (await client.get("/signals")).text()
    return f'name="case" value="{case_id}"' in page


@pytest.mark.parametrize(
    ("how", "dutch"),
    [
        ("phone", "telefonisch"),
        ("email", "per e-mail"),
        ("letter", "per brief"),
        ("door", "aan de deur"),
        ("chat", "in de chat"),
    ],
)
async def test_an_objection_made_any_way_blocks_the_signal_and_the_export(
    client: Client, runtime: Runtime, clock: ManualClock, how: str, dutch: str
) -> None:
    anna, _ = await ready_case(client, runtime, clock)
    landed = await objection(client, anna, how=how, note="Wil geen melding")
    assert "Gedaan." in landed
    (event,) = [e for e in await events(runtime, anna) if e.kind == "objection"]
    assert event.actor == "kees"
    assert event.data == {"how": how, "at": "2027-01-08T09:15:00+00:00", "note": "Wil geen melding"}
    page = await (await client.get("/signals")).text()
    assert f'name="case" value="{anna}"' not in page
    assert (
        "Bezwaar tegen melding: de huurder wil niet dat wij de gemeente inlichten "
        f"({dutch} gemaakt op 08-01-2027)."
    ) in signal_row(page, anna)
    refused = await post_form(client, "/signals", "/signals", case=str(anna))
    assert "Geen van de gekozen zaken mag nu gemeld worden." in refused
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MunicipalSignal)) == 0


async def test_a_withdrawal_unblocks_and_the_latest_word_counts(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna, _ = await ready_case(client, runtime, clock)
    await objection(client, anna, how="phone", day="2027-01-08", hour="10:15")
    assert not await offered(client, anna)
    page = await objection(
        client, anna, "withdrawal", how="letter", day="2027-01-09", hour="11:00", note="Brief"
    )
    assert "Geen bezwaar: per brief ingetrokken op 9 januari 2027 11:00." in text_of(page)
    assert await offered(client, anna)
    # A letter of the 8th that came in late: the withdrawal of the 9th is still the later.
    await objection(client, anna, how="email", day="2027-01-08", hour="09:00")
    assert await offered(client, anna)
    # A new objection today stands again; a withdrawal made at that very moment, recorded
    # after it, lifts it.
    await objection(client, anna, how="door", day="2027-01-10", hour="09:30")
    assert not await offered(client, anna)
    await objection(client, anna, "withdrawal", how="phone", day="2027-01-10", hour="09:30")
    assert await offered(client, anna)
    kinds = [(e.kind, e.data["how"]) for e in await events(runtime, anna) if "how" in e.data]
    assert kinds == [
        ("objection", "phone"),
        ("objection_withdrawn", "letter"),
        ("objection", "email"),
        ("objection", "door"),
        ("objection_withdrawn", "phone"),
    ]


async def test_the_tenants_own_bezwaar_counts_and_is_withdrawn_only_after_it(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna, _ = await ready_case(client, runtime, clock)
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", "BEZWAAR", "obj-anna", clock.now())
    )
    page = await (await client.get("/signals")).text()
    assert "(in de chat gemaakt op 10-01-2027)" in signal_row(page, anna)
    before = await snapshot(runtime)
    refused = await objection(client, anna, "withdrawal", day="2027-01-09", hour="12:00")
    assert "Het bezwaar is later gemaakt; een intrekking moet erna komen." in refused
    assert await snapshot(runtime) == before
    clock.advance(timedelta(hours=1))
    await objection(client, anna, "withdrawal", how="phone", day="2027-01-10", hour="10:30")
    assert await offered(client, anna)
    refused = await objection(client, anna, "withdrawal", day="2027-01-10", hour="10:45")
    assert "Er staat geen bezwaar dat ingetrokken kan worden." in refused


async def test_the_export_checks_again_for_an_objection_recorded_after_the_list(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna, bob = await ready_case(client, runtime, clock)
    listed = await (await client.get("/signals")).text()
    await objection(client, bob, how="door", note="Zei het aan de deur")
    # The coordinator sends the list as it was shown, with Bob ticked.
    response = await client.post(
        "/signals", data=[("csrf", hidden(listed, "csrf")), ("case", str(anna)), ("case", str(bob))]
    )
    assert response.status == 200
    async with runtime.sessions() as session:
        sent = list(await session.scalars(select(MunicipalSignal)))
    assert [signal.case_id for signal in sent] == [anna]
    # Bob alone, from the old list: refused, nothing written.
    before = await snapshot(runtime)
    response = await client.post(
        "/signals", data={"csrf": hidden(listed, "csrf"), "case": str(bob)}
    )
    assert "Geen van de gekozen zaken mag nu gemeld worden." in await response.text()
    assert await snapshot(runtime) == before


@pytest.mark.postgresql_only
async def test_an_objection_being_recorded_while_the_export_runs_still_blocks_it(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna, _ = await ready_case(client, runtime, clock)
    async with runtime.sessions() as session:
        kees = await session.scalar(select(User).where(User.username == "kees"))
    assert kees is not None
    async with runtime.sessions() as recording, recording.begin():
        case = await actions.load_case(recording, anna)  # the case is locked, as on the page
        await objections.record(
            recording,
            case,
            kees,
            kind="objection",
            how="phone",
            day="",
            hour="",
            note="",
            now=clock.now(),
            tz=runtime.policy.tz,
        )
        await recording.flush()

        async def export() -> None:
            async with runtime.sessions() as session, session.begin():
                await signals.export(session, runtime.policy, [anna], kees, clock.now())

        exporting = asyncio.create_task(export())

        async def export_waits_for_the_case() -> bool:
            async with runtime.sessions() as watching:
                waiting = await watching.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            return bool(waiting)

        await until_true(export_waits_for_the_case)
        assert not exporting.done()
    with pytest.raises(ValueError, match="none of the chosen cases"):
        await exporting
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MunicipalSignal)) == 0


BAD_FORMS = [
    ({"how": "fax"}, "Kies hoe de huurder het ons liet weten."),
    ({"how": ""}, "Kies hoe de huurder het ons liet weten."),
    ({"kind": "maybe"}, "Leg een bezwaar of de intrekking ervan vast."),
    ({"day": "2027-13-01"}, "Geef een datum als jjjj-mm-dd."),
    ({"day": "8 januari"}, "Geef een datum als jjjj-mm-dd."),
    ({"hour": "25:00"}, "Geef een datum als jjjj-mm-dd."),
    ({"day": "2027-01-11"}, "Datum en tijd kunnen niet in de toekomst liggen."),
    ({"day": "2027-01-10", "hour": "10:01"}, "Datum en tijd kunnen niet in de toekomst liggen."),
    ({"day": "2026-11-30"}, "De datum ligt vóór het begin van de achterstand."),
    ({"day": "0001-01-01"}, "De datum ligt vóór het begin van de achterstand."),
    ({"note": "x" * 501}, "Houd de notitie op hoogstens 500 tekens."),
    ({"kind": "withdrawal"}, "Er staat geen bezwaar dat ingetrokken kan worden."),
    ({"version": "0"}, "De zaak is veranderd terwijl u keek"),
]


async def test_bad_input_is_refused_in_words_and_changes_nothing(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna, _ = await ready_case(client, runtime, clock)
    page = await (await client.get(f"/cases/{anna}")).text()
    good = {
        "csrf": hidden(page, "csrf"),
        "version": hidden(page, "version"),
        "kind": "objection",
        "how": "phone",
        "day": "2027-01-08",
        "hour": "10:15",
        "note": "",
    }
    before = await snapshot(runtime)
    for changes, problem in BAD_FORMS:
        response = await client.post(f"/cases/{anna}/objection", data={**good, **changes})
        assert response.status == 200, changes
        assert problem in html.unescape(await response.text()), changes
        assert await snapshot(runtime) == before, changes
    # A note of exactly the limit is kept whole.
    await objection(client, anna, note="y" * 500)
    (event,) = [e for e in await events(runtime, anna) if e.kind == "objection"]
    assert event.data["note"] == "y" * 500


async def test_recording_needs_a_login_and_the_forms_token(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    anna, _ = await ready_case(client, runtime, clock)
    page = await (await client.get(f"/cases/{anna}")).text()
    form = {"kind": "objection", "how": "phone", "version": hidden(page, "version")}
    before = await snapshot(runtime)
    forged = await client.post(
        f"/cases/{anna}/objection", data={**form, "csrf": "forged"}, allow_redirects=False
    )
    assert forged.status == 403 and await snapshot(runtime) == before
    await client.post("/logout", data={"csrf": hidden(page, "csrf")})
    anonymous = await client.post(
        f"/cases/{anna}/objection",
        data={**form, "csrf": hidden(page, "csrf")},
        allow_redirects=False,
    )
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login")
    after = await snapshot(runtime)
    assert (after["cases"], after["case_events"]) == (before["cases"], before["case_events"])
    # A consultant (not only a coordinator) records one on a case of their team.
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    await objection(client, anna, how="letter")
    async with runtime.sessions() as session:
        actors = list(
            await session.scalars(select(CaseEvent.actor).where(CaseEvent.kind == "objection"))
        )
    assert actors == ["marieke"]


async def test_the_case_page_dossier_record_and_signals_show_it_in_dutch_and_english(
    client: Client, runtime: Runtime, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    anna, _ = await ready_case(client, runtime, clock)
    page = text_of(await (await client.get(f"/cases/{anna}")).text())
    assert "Geen bezwaar vastgelegd." in page
    # At the level the service logs (INFO; a database driver's DEBUG shows every statement).
    with caplog.at_level(logging.INFO):
        await objection(client, anna, how="door", note="Geheime reden 4711")
    assert "Geheime reden 4711" not in caplog.text  # the note is kept, never logged

    page = text_of(await (await client.get(f"/cases/{anna}")).text())
    assert (
        "Er staat een bezwaar: aan de deur gemaakt op 8 januari 2027 10:15. Er gaat geen "
        "signaal naar de gemeente."
    ) in page
    history = (
        "Bezwaar tegen melding bij de gemeente: aan de deur, 8 januari 2027 10:15. "
        "Notitie: Geheime reden 4711 kees"
    )
    assert history in page
    assert 'id="withdraw-objection"' in await (await client.get(f"/cases/{anna}")).text()
    record = text_of(await (await client.get(f"/cases/{anna}/record")).text())
    assert "Er staat een bezwaar: aan de deur gemaakt op" in record
    assert "aan de deur, 8 januari 2027 10:15. Notitie: Geheime reden 4711" in record
    dossier = text_of(await (await client.get(f"/cases/{anna}/dossier")).text())
    assert "Er staat een bezwaar tegen melding." in dossier
    assert "Bezwaar Aan de deur kees" in dossier
    data = await (await client.get(f"/api/cases/{anna}/dossier")).json()
    assert data["case"]["objection_to_signal"] is True
    (item,) = data["objections_to_signal"]
    assert (item["kind"], item["how"], item["by"]) == ("objection", "door", "kees")
    assert item["made_at"] == "2027-01-08T09:15:00+00:00"
    assert "Geheime reden" not in str(data)  # the note stays in the record

    raw = await (await client.get("/signals")).text()
    await client.post("/language", data={"csrf": hidden(raw, "csrf"), "language": "en"})
    page = text_of(await (await client.get(f"/cases/{anna}")).text())
    assert (
        "An objection stands: made at the door on 8 January 2027 10:15. No signal goes to "
        "the municipality."
    ) in page
    assert "Objection to the signal to the municipality: at the door, 8 January 2027" in page
    assert "Record an objection" in page and "Record its withdrawal" in page
    english = await (await client.get("/signals")).text()
    assert (
        "Objects to the signal: the tenant does not want us to inform the municipality (made "
        "at the door on 08/01/2027)."
    ) in signal_row(english, anna)
    dossier = text_of(await (await client.get(f"/cases/{anna}/dossier")).text())
    assert "An objection to the signal stands." in dossier and "At the door" in dossier
    record = text_of(await (await client.get(f"/cases/{anna}/record")).text())
    assert "An objection stands: made at the door on 8 January 2027 10:15." in record

    await objection(client, anna, "withdrawal", how="phone", day="2027-01-09", hour="09:00")
    page = text_of(await (await client.get(f"/cases/{anna}")).text())
    assert "No objection: withdrawn by phone on 9 January 2027 09:00." in page
    assert "Objection to the signal withdrawn: by phone, 9 January 2027 09:00" in page
    dossier = text_of(await (await client.get(f"/cases/{anna}/dossier")).text())
    assert "No objection to the signal." in dossier and "Withdrawal By phone kees" in dossier
    # Refusals come back in English too.
    refused = await objection(client, anna, how="fax")
    assert "Choose how the tenant told us." in html.unescape(refused)


def test_every_way_has_its_words_in_both_languages() -> None:
    assert set(WORDS) == set(OBJECTION_WAYS)
    for way in OBJECTION_WAYS:
        dutch, english = Vocabulary("nl").objection_way(way), Vocabulary("en").objection_way(way)
        assert dutch and english and dutch != english and "_" not in dutch + english
