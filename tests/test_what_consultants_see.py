"""What consultants see, through real HTTP on 127.0.0.1: the case page, the dossier and the
eviction-prevention record read as words in one language (no stored codes, no UTC), a
plan's real state, balance changes instead of daily rows, waits in days and hours, the
language kept with the account, and a reply signed once on the tenant's own channel."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from tests.db_helpers import cases, messages
from tests.factories import HEADER, arrears_csv, row
from tests.test_timeline_words import CODE_LIKE
from tests.test_workplace import csrf_of, escalated_case, hidden, log_in, make_user

Client = TestClient  # type: ignore[type-arg]
NBSP = "\u00a0"
PHONE = "+31612345678"
_ids = itertools.count()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


class _Text(HTMLParser):
    """The words a person sees: no markup, attributes, styles or scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("style", "script"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    # Not str.split(): that would take the no-break spaces for ordinary ones.
    return re.sub(r"[ \t\r\n]+", " ", " ".join(parser.parts)).strip()


def assert_words_only(page: str, where: str) -> None:
    text = visible(page)
    found = sorted({match.group(0) for match in CODE_LIKE.finditer(text)})
    assert not found, f"{where} shows codes: {found}"


def move(clock: ManualClock, moment: datetime) -> None:
    clock.advance(moment - clock.now())


async def say(runtime: Runtime, text: str, channel: str = "whatsapp") -> None:
    await runtime.receive(
        InboundMessage(channel, PHONE, text, f"w-{next(_ids)}", runtime.clock.now())
    )


async def a_case_with_history(runtime: Runtime, clock: ManualClock) -> int:
    """A month and more of one tenant's case: reminders, a plan agreed with the bot, one
    instalment paid and one missed, a call for help by SMS in the evening."""
    header = HEADER + ";street;house_number_suffix"
    first = row("T1", email="anna@example.nl", postcode="7941uq") + ";Kerkstraat;a"
    await runtime.import_data(arrears_csv(first, header=header), "d1.csv")
    move(clock, datetime(2026, 12, 4, 9, 30, tzinfo=UTC))
    await runtime.tick()
    await runtime.dispatch()
    await say(runtime, "ik kan 100 euro per maand")
    await say(runtime, "ja")

    async def day_list(day: datetime, balance: str) -> None:
        move(clock, day)
        as_of = day.strftime("%d-%m-%Y")
        line = row("T1", balance=balance, as_of=as_of, email="anna@example.nl", postcode="7941uq")
        await runtime.import_data(arrears_csv(line + ";Kerkstraat;a", header=header), as_of)

    for day in range(6, 10):  # January's instalment paid; then the same balance, daily
        await day_list(datetime(2027, 1, day, 7, tzinfo=UTC), "550,00")
    await day_list(datetime(2027, 2, 6, 7, tzinfo=UTC), "550,00")  # February's missed
    move(clock, datetime(2027, 2, 6, 18, 59, tzinfo=UTC))  # 19:59 in Amsterdam
    await say(runtime, "Ik heb hulp nodig", channel="sms")
    (case,) = await cases(runtime)
    assert case.status == "escalated"
    return case.id


async def test_the_case_dossier_and_record_read_as_words_in_one_language(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    case_id = await a_case_with_history(runtime, clock)
    move(clock, datetime(2027, 2, 8, 9, 30, tzinfo=UTC))
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case_id}")).text()
    await client.post(f"/cases/{case_id}/claim", data={"csrf": hidden(page, "csrf")})

    async def act(action: str, **data: str) -> None:
        current = await (await client.get(f"/cases/{case_id}")).text()
        form = {"csrf": hidden(current, "csrf"), "version": hidden(current, "version"), **data}
        response = await client.post(f"/cases/{case_id}/{action}", data=form)
        assert response.status == 200 and 'role="alert"' not in await response.text()

    await act("reply", text="Dag Anna, ik bel u morgen.")
    await act("contact", mode="Telefoon", reached="no", outcome="Geen gehoor", day="2027-02-08")
    await act("pause", until="2027-03-01", note="Wacht op de toeslag")

    case_page = await (await client.get(f"/cases/{case_id}")).text()
    dossier = await (await client.get(f"/cases/{case_id}/dossier")).text()
    record = await (await client.get(f"/cases/{case_id}/record")).text()
    for name, shown in (("case page", case_page), ("dossier", dossier), ("record", record)):
        assert_words_only(shown, name)
    text = visible(case_page)
    assert f"Zaak geopend na import: achterstand €{NBSP}650,00" in text
    assert "Herinnering (vriendelijk) verstuurd via WhatsApp" in text
    assert "Gepauzeerd tot 1 maart 2027: door een consulent" in text
    assert "Termijn 2 van de betaalafspraak gemist" in text
    # The plan panel tells the miss, not "Loopt"; the chart draws the plan's instalments.
    assert "Achter: 1 termijn gemist, 1 betaald" in text
    assert "stroke-dasharray" in case_page and "Termijn 2, 1 februari 2027" in case_page
    # An address, a postcode and numbers as people write them, on one line each.
    assert f"Kerkstraat 12a, 7941{NBSP}UQ Meppel" in text
    assert f"06{NBSP}12345678" in text and f"€{NBSP}550,00" in text
    # The tenant's words at the hour the case page shows them: Amsterdam's, not UTC.
    assert "06-02-2027 19:59" in visible(dossier) and "18:59" not in visible(dossier)
    assert "06-02-2027 19:59" in text
    # The dossier lists the days the balance moved, not every daily list.
    changes = re.search(r'<table id="balance-changes">(.*?)</table>', dossier, re.S)
    assert changes and changes.group(1).count("<tr>") == 3  # the heading and two changes
    assert f"-€{NBSP}100,00" in visible(dossier) and "<svg" in dossier

    await client.post(
        "/language", data={"csrf": hidden(case_page, "csrf"), "language": "en", "back": "/queue"}
    )
    english = {
        path: await (await client.get(path)).text()
        for path in (f"/cases/{case_id}", f"/cases/{case_id}/dossier", f"/cases/{case_id}/record")
    }
    for path, shown in english.items():
        assert_words_only(shown, path)
        assert "Herinnering" not in visible(shown) and "verstuurd" not in visible(shown), path
    text = visible(english[f"/cases/{case_id}"])
    assert "Reminder (friendly) sent by WhatsApp" in text
    assert "Behind: 1 instalment missed, 1 paid" in text
    assert "Paused until 1 March 2027: by a consultant" in text


async def test_the_language_is_kept_with_the_account(client: Client, runtime: Runtime) -> None:
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    await client.post("/language", data={"csrf": await csrf_of(client), "language": "en"})
    await client.post("/logout", data={"csrf": await csrf_of(client)})
    assert await log_in(client, "marieke") == 303
    page = visible(await (await client.get("/queue")).text())
    assert "Queue" in page and "Log out" in page and "Wachtrij" not in page


async def test_a_reply_is_signed_once_and_goes_where_the_tenant_last_wrote(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", email="anna@example.nl")), "d1.csv")
    await say(runtime, "hulp", channel="sms")
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case.id}")).text()
    options = re.findall(
        r'<option value="(\d+)"[^>]*>([^<]*)</option>', page.split('id="reply-to"')[1]
    )
    assert options and options[0][1].startswith("sms")  # where she wrote, first
    email = next(value for value, shown in options if shown.startswith("e-mail"))
    sent = await client.post(
        f"/cases/{case.id}/reply",
        data={
            "csrf": hidden(page, "csrf"),
            "version": hidden(page, "version"),
            "text": "Dag Anna, ik bel u morgen.",
            "to": email,
        },
    )
    assert sent.status == 200
    (reply,) = await messages(runtime, template="consultant_reply")
    assert reply.channel == "email"
    # One greeting, with her name: not "Marieke, corporation" and then "Groet, corporation".
    assert reply.body.count("Marieke") == 1 and reply.body.count("Groet") == 1
    assert "Groet, Marieke van " in reply.body


async def test_without_a_word_from_the_tenant_the_reply_takes_the_channel_that_reached_them(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    # The written reminder goes by email first: that is the channel that reached her last.
    await runtime.import_data(arrears_csv(row("T1", email="anna@example.nl")), "d1.csv")
    for _ in range(40):
        clock.advance(timedelta(days=1))
        await runtime.tick()
        await runtime.dispatch()
    (last,) = (await messages(runtime, direction="out", kind="reminder"))[-1:]
    assert last.channel == "email"
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case.id}")).text()
    first = re.search(r'id="reply-to"[^>]*><option value="\d+">([^<]*)<', page)
    assert first and first.group(1).startswith("e-mail")


async def test_the_queue_says_how_long_in_days_and_hours(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await escalated_case(runtime)
    clock.advance(timedelta(hours=51))
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    page = visible(await (await client.get("/queue")).text())
    assert "2 dagen en 3 uur" in page and "51 uur" not in page
    assert "Streeftijd 2 dagen" in page


async def test_the_dossier_weighs_the_arrears_in_months_of_rent_as_they_are(
    client: Client, runtime: Runtime
) -> None:
    await runtime.import_data(arrears_csv(row("T1", rent="835,20", balance="417,60")), "d1.csv")
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    dossier = visible(await (await client.get(f"/cases/{case.id}/dossier")).text())
    assert "0,5 maand huur" in dossier and "· 1 maand huur" not in dossier
