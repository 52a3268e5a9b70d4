"""A consultant records in a real browser (Debian's Chromium through Playwright) that a
tenant objected at the door to the municipal signal, sees the case leave /signals with the
reason, records the withdrawal by phone and sees the case come back; in Dutch and English.

Skipped, like tests/test_browser_flows.py, where no Chromium is installed (CI has one)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from bot.runtime import Runtime
from rules.clock import ManualClock
from storage.models import User
from tests.browser_harness import chromium, needs_browser, served
from tests.db_helpers import events
from tests.test_handover_and_signals import month_of_silence
from tests.test_workplace import PASSWORD, make_user
from workplace import actions
from workplace.accounts import Role

pytestmark = needs_browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def called_once(runtime: Runtime, case_id: int, username: str) -> None:
    """A call that did not reach the tenant: the personal attempt the signal needs."""
    async with runtime.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == username))
        assert user is not None
        case = await actions.load_case(session, case_id)
        at = datetime.fromisoformat("2027-01-08T10:15:00+01:00")
        await actions.log_contact(
            session,
            case,
            user,
            mode=actions.ContactMode.TELEFOON,
            reached=False,
            outcome="Geen gehoor",
            at=at,
            local_hour=10,
            now=runtime.clock.now(),
        )


async def record(page: Page, button: str, how: str, day: str, hour: str, note: str = "") -> None:
    await page.select_option("#objection-how", label=how)
    await page.fill("#objection-day", day)
    await page.fill("#objection-hour", hour)
    await page.fill("#objection-note", note)
    await page.get_by_role("button", name=button).click()


async def test_an_objection_at_the_door_is_recorded_and_withdrawn(
    browser: Browser, runtime: Runtime, clock: ManualClock
) -> None:
    anna = await month_of_silence(runtime, clock)  # 10 January 2027, 10:00
    await make_user(runtime, "kees", Role.COORDINATOR)
    await called_once(runtime, anna, "kees")
    async with served(runtime) as base_url:
        p = await (await browser.new_context(locale="nl-NL")).new_page()
        await p.goto(f"{base_url}/login")
        await p.fill("#username", "kees")
        await p.fill("#password", PASSWORD)
        await p.get_by_role("button", name="Inloggen").click()
        await expect(p).to_have_url(re.compile(rf"^{re.escape(base_url)}/queue$"))

        await p.goto(f"{base_url}/signals")
        ready = p.locator(f'tr[data-case="{anna}"]')
        await expect(ready.get_by_role("checkbox")).to_be_checked()

        await p.goto(f"{base_url}/cases/{anna}")
        status = p.locator("#objection-status")
        await expect(status).to_have_text("Geen bezwaar vastgelegd.")
        # Nothing to withdraw yet.
        await expect(p.get_by_role("button", name="Intrekking vastleggen")).to_have_count(0)
        await record(p, "Bezwaar vastleggen", "Aan de deur", "2027-01-08", "10:15", "Zei nee")
        await expect(p.get_by_role("status")).to_have_text("Gedaan.")
        await expect(status).to_contain_text(
            "Er staat een bezwaar: aan de deur gemaakt op 8 januari 2027 10:15."
        )
        history = p.locator("#objection-history li")
        await expect(history).to_have_count(1)
        await expect(history.first).to_contain_text("aan de deur, 8 januari 2027 10:15")
        await expect(history.first).to_contain_text("Notitie: Zei nee")
        await expect(history.first).to_contain_text("kees")

        await p.goto(f"{base_url}/signals")
        waiting = p.locator(f'tr[data-case="{anna}"]')
        await expect(waiting.get_by_role("checkbox")).to_have_count(0)
        await expect(waiting).to_contain_text(
            "Bezwaar tegen melding: de huurder wil niet dat wij de gemeente inlichten "
            "(aan de deur gemaakt op 08-01-2027)."
        )

        await p.goto(f"{base_url}/cases/{anna}")
        await record(p, "Intrekking vastleggen", "Telefonisch", "2027-01-09", "09:00")
        await expect(status).to_have_text(
            "Geen bezwaar: telefonisch ingetrokken op 9 januari 2027 09:00."
        )
        await expect(history).to_have_count(2)
        kinds = [e.kind for e in await events(runtime, anna) if e.actor == "kees"]
        assert kinds[-2:] == ["objection", "objection_withdrawn"]

        await p.goto(f"{base_url}/signals")
        await expect(p.locator(f'tr[data-case="{anna}"]').get_by_role("checkbox")).to_be_checked()

        # In English: the form, the status and the history.
        await p.goto(f"{base_url}/cases/{anna}")
        await p.get_by_role("button", name="English").click()
        await expect(status).to_have_text(
            "No objection: withdrawn by phone on 9 January 2027 09:00."
        )
        await expect(history.first).to_contain_text(
            "Objection to the signal to the municipality: at the door, 8 January 2027 10:15"
        )
        await expect(p.get_by_role("button", name="Record an objection")).to_be_visible()
        await expect(p.locator("#objection-how option")).to_have_text(
            ["By phone", "By email", "By letter", "At the door", "In the chat"]
        )
