"""The workplace on a phone: Debian's Chromium at 390 × 844 CSS pixels (an ordinary
smartphone held upright). No page scrolls sideways, and the menu stays in reach.

Skipped, like tests/test_browser.py, where no Chromium is installed (CI has one)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from bot.runtime import Runtime
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from tests.browser_harness import chromium, needs_browser, served
from tests.db_helpers import cases
from tests.factories import arrears_csv, row
from tests.test_workplace import PASSWORD, make_user
from workplace.accounts import Role

WIDTH, HEIGHT = 390, 844
MENU = ("Wachtrij", "Rapportage", "Signalen", "Gebruikers")

pytestmark = needs_browser


@pytest.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    async with served(runtime) as url:
        yield url


@pytest.fixture
async def phone(base_url: str) -> AsyncIterator[Page]:
    async with chromium() as browser:
        context = await browser.new_context(
            locale="nl-NL",
            viewport={"width": WIDTH, "height": HEIGHT},
            is_mobile=True,
            has_touch=True,
        )
        yield await context.new_page()


async def busy_workplace(runtime: Runtime, clock: ManualClock) -> int:
    """Long names and addresses, a conversation, reminders and teams: what makes a page
    wide. Returns the id of a case with a conversation."""
    runtime.policy = runtime.policy.model_copy(
        update={"teams": {"noord": ("Meppel",), "zuid-en-westerveld": ("Zwolle",)}}
    )
    await runtime.import_data(
        arrears_csv(
            row("T1-2026-000123", name="Anna Wilhelmina van den Berg-de Vries"),
            row("T2", name="Bob", phone="06-11111111", municipality="Westerveld-Dwingeloo"),
        ),
        "d1.csv",
    )
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    await runtime.receive(
        InboundMessage(
            "whatsapp",
            "+31612345678",
            "Ik heb hulp nodig, ik kan deze maand echt niet betalen want mijn uitkering is "
            "gestopt: https://voorbeeld.nl/een-heel-lange-link-zonder-spaties-erin-0123456789",
            "m-1",
            clock.now(),
        )
    )
    await make_user(runtime, "kees", Role.COORDINATOR)
    await make_user(runtime, "marieke.van.der.velde.consulent")
    anna = next(c for c in await cases(runtime) if c.tenant_id == 1)
    return anna.id


async def assert_fits(page: Page, path: str) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{path} is {width} px wide on a {WIDTH} px phone"


async def assert_menu_in_reach(page: Page) -> None:
    nav = page.get_by_role("navigation")
    for name in MENU:
        link = nav.get_by_role("link", name=name, exact=True)
        await expect(link).to_be_visible()
        box = await link.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{name} is off screen"
    logout = page.get_by_role("button", name="Uitloggen")
    await expect(logout).to_be_visible()
    box = await logout.bounding_box()
    assert box is not None and box["x"] + box["width"] <= WIDTH


async def test_every_page_fits_a_phone_and_the_menu_stays_in_reach(
    phone: Page, base_url: str, runtime: Runtime, clock: ManualClock
) -> None:
    case_id = await busy_workplace(runtime, clock)
    p = phone
    await p.goto(f"{base_url}/login")
    await assert_fits(p, "/login")
    await p.fill("#username", "kees")
    await p.fill("#password", PASSWORD)
    await p.get_by_role("button", name="Inloggen").click()
    await expect(p).to_have_url(re.compile(r"/queue$"))
    for path in (
        "/queue",
        f"/cases/{case_id}",
        f"/cases/{case_id}/dossier",
        "/reports?from=2026-11-01&to=2026-12-31",
        "/signals",
        "/users",
    ):
        await p.goto(f"{base_url}{path}")
        await assert_fits(p, path)
        await assert_menu_in_reach(p)

    # On the users page a coordinator opens a colleague's forms and makes her a new password.
    colleague = p.locator('tr[data-user="marieke.van.der.velde.consulent"]')
    await colleague.get_by_text("Team of wachtwoord").tap()
    await expect(colleague.get_by_label("Team")).to_be_visible()
    await assert_fits(p, "/users, a user's forms open")
    await colleague.get_by_role("button", name="Wachtwoord opnieuw instellen").tap()
    await expect(p.locator("#made-password")).to_be_visible()
    await assert_fits(p, "/users, a new password shown")

    # The menu works by touch: from the users page to the reports and back to the queue.
    await p.get_by_role("navigation").get_by_role("link", name="Rapportage").tap()
    await expect(p).to_have_url(re.compile(r"/reports$"))
    await p.get_by_role("navigation").get_by_role("link", name="Wachtrij").tap()
    await expect(p).to_have_url(re.compile(r"/queue$"))
    await expect(p.locator("tbody tr").first).to_contain_text("Anna Wilhelmina")
