"""The workplace driven in a real browser: Debian's Chromium, headless, through Playwright
(tests/browser_harness.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from bot.runtime import Runtime
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from tests.browser_harness import chromium, needs_browser, served
from tests.db_helpers import cases, events, messages
from tests.factories import arrears_csv, row
from tests.test_workplace import PASSWORD, make_user

pytestmark = needs_browser


@pytest.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    async with served(runtime) as url:
        yield url


@pytest.fixture
async def page(base_url: str) -> AsyncIterator[Page]:
    async with chromium() as browser:
        context = await browser.new_context(locale="nl-NL")
        yield await context.new_page()


async def test_a_consultant_works_a_case_in_the_browser(
    page: Page, base_url: str, runtime: Runtime, clock: ManualClock
) -> None:
    p = page
    await runtime.import_data(
        arrears_csv(row("T1"), row("T2", name="Bob", phone="06-11111111")), "d1.csv"
    )
    for phone, text in (
        ("+31612345678", "Ik heb hulp nodig, mijn man is overleden"),
        ("+31611111111", "wie is dit?"),
    ):
        await runtime.receive(InboundMessage("whatsapp", phone, text, f"b-{phone}", clock.now()))
    await make_user(runtime, "marieke")

    # Log in with the keyboard only.
    await p.goto(f"{base_url}/queue")
    await expect(p).to_have_url(re.compile(r"/login\?next="))
    await p.keyboard.type("marieke")
    await p.keyboard.press("Tab")
    await p.keyboard.type(PASSWORD)
    await p.keyboard.press("Enter")
    await expect(p).to_have_url(re.compile(r"/queue$"))

    # The top case is Anna's (help outranks a question); claim it.
    first = p.locator("tbody tr").first
    await expect(first).to_contain_text("Anna de Vries")
    await first.get_by_role("button").click()
    await expect(p.get_by_role("status")).to_contain_text("deze zaak is van u")

    # Reply to her: it goes out on WhatsApp, where she wrote, and reaches the sandbox.
    await p.fill("#reply-text", "Gecondoleerd, Anna. Ik bel u vanmiddag.")
    await p.click("#send-reply")
    await expect(p.get_by_role("status")).to_contain_text("Gedaan")
    (sent,) = await messages(runtime, template="consultant_reply")
    assert (sent.status, sent.channel) == ("sent", "whatsapp")
    sandbox = await p.context.new_page()
    await sandbox.goto(f"{base_url}/sandbox/tenants/{sent.tenant_id}")
    await expect(sandbox.locator("body")).to_contain_text("Ik bel u vanmiddag")
    await sandbox.close()

    # Log the home visit.
    await p.select_option("#mode", "Huisbezoek")
    await p.fill("#outcome", "Thuis gesproken; wil hulp van de schuldhulp")
    await p.click("#log-contact")
    await expect(p.locator(".timeline")).to_contain_text("Contact vastgelegd")

    # Hand the case over to the municipality's debt help, with her consent.
    await p.select_option("#partner", label="Schuldhulp van de gemeente")
    await p.check("#consent")
    await p.fill("#consent-how", "mondeling bij het huisbezoek")
    await p.click("#hand-over")

    # The dossier opens: her words, the visit, the partner.
    await expect(p).to_have_url(re.compile(r"/cases/\d+/dossier$"))
    body = p.locator("body")
    await expect(body).to_contain_text("mijn man is overleden")
    await expect(body).to_contain_text("Huisbezoek")
    await expect(body).to_contain_text("Schuldhulp van de gemeente")
    anna = next(c for c in await cases(runtime) if c.tenant_id == sent.tenant_id)
    kinds = [e.kind for e in await events(runtime, anna.id)]
    assert {"claimed", "consultant_reply", "contact_logged", "handed_over"} <= set(kinds)
    assert (anna.status, anna.pause_reason) == ("paused", "handed_over")
