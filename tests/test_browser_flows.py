"""Three things a consultant meets in a real browser (Debian's Chromium through Playwright):
the live demo's fast month does not log them out, the English they choose stays chosen,
and an empty queue or report says so in words.

Skipped, like tests/test_browser.py, where no Chromium is installed (CI has one)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from bot.runtime import Runtime
from bot.settings import Settings
from messaging.channels.base import InboundMessage
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock, SystemClock
from rules.policy import CHANNELS
from tests.browser_harness import chromium, needs_browser, served
from tests.db_helpers import cases
from tests.factories import arrears_csv, row
from tests.test_workplace import PASSWORD, make_user
from workplace.labels import CODES
from workplace.words import INTENTS, MESSAGE_STATUSES, STAGES

pytestmark = needs_browser

# Every stored code a case page shows as a Dutch word (statuses, reasons, message statuses,
# stages, what a reply meant), but for the one English spells the same.
SAME_IN_ENGLISH = {"Crisis"}
DUTCH_STATUS_WORDS = sorted(
    {
        dutch
        for table in (CODES, MESSAGE_STATUSES, STAGES, INTENTS)
        for dutch, _ in table.values()
        if dutch not in SAME_IN_ENGLISH
    }
)
# The case page's text without what was said to or by the tenant (their messages are in
# the tenant's language, not the consultant's).
PAGE_WORDS_JS = """() => {
    const main = document.querySelector("main").cloneNode(true);
    main.querySelectorAll(".bubble").forEach(bubble => [...bubble.childNodes]
        .filter(node => node.nodeType === Node.TEXT_NODE).forEach(node => node.remove()));
    main.querySelectorAll(".timeline li > div").forEach(body => body.remove());
    return main.textContent;
}"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def new_page(browser: Browser) -> Page:
    return await (await browser.new_context(locale="nl-NL")).new_page()


def at(base_url: str, path: str) -> re.Pattern[str]:
    """The page's whole address: "/login?next=/queue" also ends in "/queue"."""
    return re.compile(rf"^{re.escape(base_url)}{path}$")


async def log_in(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="Inloggen").click()
    await expect(page).to_have_url(at(base_url, "/queue"))


@pytest.fixture
async def demo_like(
    settings: Settings, clock: ManualClock, sandbox: SandboxChannel
) -> AsyncIterator[Runtime]:
    """As `arrears-bot demo` runs: the tenants' clock moves as the test says, people's clock
    is the real one."""
    runtime = await Runtime.start(
        settings,
        clock=clock,
        wall_clock=SystemClock(),
        channels=dict.fromkeys(CHANNELS, sandbox),
        migrate=False,
    )
    try:
        yield runtime
    finally:
        await runtime.close()


async def test_the_demo_month_passes_and_the_consultant_stays_logged_in(
    browser: Browser, demo_like: Runtime, clock: ManualClock
) -> None:
    await demo_like.import_data(arrears_csv(row("T1")), "d1.csv")
    await make_user(demo_like, "consulent")
    async with served(demo_like) as base_url:
        p = await new_page(browser)
        await log_in(p, base_url, "consulent")
        await expect(p.locator("main")).to_contain_text("Geen zaken in de wachtrij.")

        # A month for the tenants, a few seconds for the consultant: three reminders, no
        # answer, and Anna's case comes to the queue.
        for _ in range(31):
            clock.advance(timedelta(days=1))
            await demo_like.tick()
            await demo_like.dispatch()
        (case,) = await cases(demo_like)
        assert (case.status, case.escalation_reason) == ("escalated", "no_reply")

        await p.goto(f"{base_url}/queue")
        await expect(p).to_have_url(at(base_url, "/queue"))  # not sent to /login
        first = p.locator("tbody tr").first
        await expect(first).to_contain_text("Anna de Vries")
        await expect(first).to_contain_text("Geen reactie")
        await first.get_by_role("link", name="Anna de Vries").click()
        await expect(p).to_have_url(at(base_url, f"/cases/{case.id}"))
        await expect(p.get_by_role("heading", level=1)).to_contain_text("Anna de Vries")
        # Still her login, with its form token: claiming works.
        await p.click("#claim")
        await expect(p.get_by_role("status")).to_contain_text("deze zaak is van u")


async def escalated_with_messages(runtime: Runtime, clock: ManualClock) -> int:
    """Anna got a reminder and asked for help; the answers went out."""
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", "hulp", "flows-1", clock.now())
    )
    await runtime.dispatch()
    (case,) = await cases(runtime)
    assert case.status == "escalated"
    return case.id


async def dutch_status_words(page: Page) -> list[str]:
    text = await page.evaluate(PAGE_WORDS_JS)
    return [
        word
        for word in DUTCH_STATUS_WORDS
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    ]


async def test_english_is_chosen_once_and_remembered_at_the_next_login(
    browser: Browser, runtime: Runtime, clock: ManualClock
) -> None:
    case_id = await escalated_with_messages(runtime, clock)
    await make_user(runtime, "consulent")
    async with served(runtime) as base_url:
        p = await new_page(browser)
        await log_in(p, base_url, "consulent")
        await p.goto(f"{base_url}/cases/{case_id}")
        # In Dutch the case page speaks of the case in Dutch status words…
        assert {"Bij consulent", "Hulpvraag", "verstuurd"} <= set(await dutch_status_words(p))

        # …until English is chosen in the header: the page comes back in English.
        await p.get_by_role("button", name="English").click()
        await expect(p).to_have_url(at(base_url, f"/cases/{case_id}"))
        main = p.locator("main")
        await expect(main).to_contain_text("Status: With a consultant (Asks for help)")
        for heading in ("Tenant", "Contact details", "Conversation", "Timeline"):
            await expect(p.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        await expect(main).to_contain_text("sent")
        assert await dutch_status_words(p) == []

        await p.get_by_role("navigation").get_by_role("link", name="Queue").click()
        await expect(p.get_by_role("heading", level=1)).to_contain_text("Queue")
        await expect(p.locator("tbody tr").first).to_contain_text("Asks for help")
        await expect(p.locator("tbody tr").first.get_by_role("button")).to_have_text("Claim")

        # Logged out and in again: still English, and the switch offers Dutch.
        await p.get_by_role("button", name="Log out").click()
        await expect(p).to_have_url(at(base_url, "/login"))
        await log_in(p, base_url, "consulent")
        await expect(p.get_by_role("heading", level=1)).to_contain_text("Queue")
        await expect(p.get_by_role("button", name="Nederlands")).to_be_visible()
        await p.goto(f"{base_url}/cases/{case_id}")
        await expect(p.locator("main")).to_contain_text("With a consultant")
        assert await dutch_status_words(p) == []


async def test_an_empty_queue_and_an_empty_period_say_so(
    browser: Browser, runtime: Runtime
) -> None:
    await make_user(runtime, "consulent")
    async with served(runtime) as base_url:
        p = await new_page(browser)
        await log_in(p, base_url, "consulent")
        main = p.locator("main")
        await expect(main).to_contain_text("Geen zaken in de wachtrij.")
        await expect(p.locator("tbody tr")).to_have_count(0)

        # December has a case opened; June has nothing, and says so for each chart.
        await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
        await p.goto(f"{base_url}/reports?from=2026-12-01&to=2026-12-31")
        await expect(main.locator("svg").first).to_be_visible()
        await p.goto(f"{base_url}/reports?from=2026-06-01&to=2026-06-30")
        await expect(main.get_by_text("Geen gegevens in deze periode.")).to_have_count(2)
        await expect(main.locator("svg")).to_have_count(0)

        await p.get_by_role("button", name="English").click()
        await expect(p.get_by_role("heading", level=1)).to_have_text("Reports")
        await p.goto(f"{base_url}/reports?from=2026-06-01&to=2026-06-30")
        await expect(main.get_by_text("No data in this period.")).to_have_count(2)
        await p.get_by_role("navigation").get_by_role("link", name="Queue").click()
        await expect(main).to_contain_text("No cases in the queue.")
