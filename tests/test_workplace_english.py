"""The workplace in English writes English, through real HTTP on 127.0.0.1: amounts, dates
and numbers as the British write them (€650.00, 06/02/2027), never the Dutch notation, on
the queue, the case page, the dossier, the record and the reports; a chain partner named by
what it is reads in English, an organisation's own name stays. A Dutch consultant keeps
the Dutch notation on the same pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from markupsafe import escape
from sqlalchemy import select

from bot.runtime import Runtime
from bot.web import build_app
from rules.clock import ManualClock
from storage.models import Handover
from tests.db_helpers import messages
from tests.test_timeline_words import DUTCH_AMOUNT
from tests.test_what_consultants_see import a_case_with_history, move, visible
from tests.test_workplace import hidden, log_in, make_user

Client = TestClient  # type: ignore[type-arg]
NBSP = "\u00a0"
ENGLISH_AMOUNT = re.compile(r"-?€\d{1,3}(?:,\d{3})*\.\d\d")
DUTCH_DATE = re.compile(r"\b\d{2}-\d{2}-\d{4}\b")
ENGLISH_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def ours(runtime: Runtime, page: str) -> str:
    """The page without what was said to or by the tenant: those texts are in the tenant's
    language (Anna reads Dutch), whatever the consultant reads."""
    bodies = sorted((m.body for m in await messages(runtime)), key=len, reverse=True)
    for body in bodies:
        if len(body) > 20:  # "ja" is no amount, and would cut "januari" short
            page = page.replace(str(escape(body)), "")
    return page


async def pages(client: Client, runtime: Runtime, case_id: int) -> dict[str, str]:
    paths = ("/queue", f"/cases/{case_id}", f"/cases/{case_id}/dossier")
    paths += (f"/cases/{case_id}/record", "/reports?from=2026-12-01&to=2027-02-08")
    return {path: await ours(runtime, await (await client.get(path)).text()) for path in paths}


async def test_english_pages_write_english_and_dutch_pages_dutch(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    case_id = await a_case_with_history(runtime, clock)
    move(clock, datetime(2027, 2, 8, 9, 30, tzinfo=UTC))
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303

    dutch = await pages(client, runtime, case_id)
    for path, page in dutch.items():
        assert not ENGLISH_AMOUNT.search(page) and not ENGLISH_DATE.search(page), path
    assert f"€{NBSP}550,00" in visible(dutch["/queue"])
    case_text = visible(dutch[f"/cases/{case_id}"])
    assert f"Saldo: €{NBSP}550,00" in case_text and f"Huur: €{NBSP}650,00" in case_text
    assert "Schuldhulp van de gemeente" in case_text and "Welzijnsorganisatie" in case_text
    assert f"Huur: €{NBSP}650,00" in visible(dutch[f"/cases/{case_id}/dossier"])
    assert "06-02-2027 19:59" in visible(dutch[f"/cases/{case_id}/record"])

    case_page = await (await client.get(f"/cases/{case_id}")).text()
    await client.post("/language", data={"csrf": hidden(case_page, "csrf"), "language": "en"})
    english = await pages(client, runtime, case_id)
    for path, page in english.items():
        # Visible text and what a screen reader or a tooltip says (SVG titles, labels).
        assert not DUTCH_AMOUNT.search(page), (path, DUTCH_AMOUNT.findall(page))
        assert not DUTCH_DATE.search(visible(page)), (path, DUTCH_DATE.findall(visible(page)))
    assert "€550.00" in visible(english["/queue"])
    case_text = visible(english[f"/cases/{case_id}"])
    assert "Balance: €550.00" in case_text and "Rent: €650.00" in case_text
    assert "Case opened from the import: arrears €650.00" in case_text
    assert "Municipal debt help" in case_text and "Welfare organisation" in case_text
    assert "Schuldhulp van de gemeente" not in case_text
    dossier_text = visible(english[f"/cases/{case_id}/dossier"])
    assert "Rent: €650.00" in dossier_text and "Balance: €550.00" in dossier_text
    assert "-€100.00" in dossier_text and "× €100.00" in dossier_text
    assert "06/02/2027 19:59" in visible(english[f"/cases/{case_id}/record"])
    assert "€" in english[f"/cases/{case_id}"].split("<svg", 1)[1]  # the chart's own label

    # A warm handover by an English-speaking consultant: the partner in English on every
    # page, the stored name as the policy gives it.
    case_page = await (await client.get(f"/cases/{case_id}")).text()
    handed = await client.post(
        f"/cases/{case_id}/handover",
        data={
            "csrf": hidden(case_page, "csrf"),
            "version": hidden(case_page, "version"),
            "partner": "0",
            "consent": "yes",
            "consent_how": "by phone, 8 February",
        },
    )
    assert handed.status == 200
    dossier_text = visible(await ours(runtime, await handed.text()))
    assert "Warm handover → Municipal debt help" in dossier_text
    assert not DUTCH_AMOUNT.search(dossier_text)
    case_text = visible(await ours(runtime, await (await client.get(f"/cases/{case_id}")).text()))
    assert "Handed over to Municipal debt help" in case_text
    assert "Schuldhulp van de gemeente" not in case_text
    async with runtime.sessions() as session:
        (handover,) = await session.scalars(select(Handover))
    assert handover.partner_name == "Schuldhulp van de gemeente"

    await client.post("/language", data={"csrf": hidden(case_page, "csrf"), "language": "nl"})
    dossier_text = visible(await (await client.get(f"/cases/{case_id}/dossier")).text())
    assert "Warme overdracht → Schuldhulp van de gemeente" in dossier_text
    assert f"Huur: €{NBSP}650,00" in dossier_text and not ENGLISH_AMOUNT.search(dossier_text)
