"""Screenshots for the README: a tenant's phone, the consultants' queue, a case and its dossier.

    python -m scripts.screenshots [--out docs/screenshots]

Everything happens in this process, on a temporary SQLite file and 127.0.0.1: the demo's
fifty tenants live four weeks of December 2026 through the real service (the daily import,
the reminders, their replies). A colleague hands the first help requests over to the
municipality's debt help; on the last morning two silent tenants answer on the sandbox
phone, and a consultant logs in, claims one of them and answers. Every step a person takes
goes through the pages in Debian's Chromium (/usr/bin/chromium, driven by Playwright as in
the browser tests), which also takes the pictures. Nothing is downloaded.

Chromium shows a date field in the language of its own interface, not the page's: with
Debian's language packs (apt-get install chromium-l10n) and a Dutch interface it writes
01-12-2026 as a Dutch consultant sees it; without them, 12/01/2026.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect
from pydantic import SecretStr
from sqlalchemy import select

from bot.demo import Simulation, demo_rows, demo_start, not_on_whatsapp
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import build_app
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS, load_policy
from storage.models import Case, ContactPoint, Tenant
from workplace.accounts import Role, add_user

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--lang=nl-NL",
]
# Chromium on Linux picks its interface language (and so the date fields' format) from these.
DUTCH = {"LANGUAGE": "nl_NL", "LANG": "nl_NL.UTF-8", "LC_ALL": "nl_NL.UTF-8"}
DUTCH_PACK = Path("/usr/lib/chromium/locales/nl.pak")
OUT = Path("docs/screenshots")
SEED = 7
FIRST_DAY = date(2026, 12, 1)
# Monday 7 December: a colleague hands the first help requests over to the debt help.
COLLEAGUE_DAY = (date(2026, 12, 7), time(10, 0))
# Monday 28 December: three reminders went out and the silent tenants have escalated.
LAST_DAY = (date(2026, 12, 28), time(9, 30))
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
PASSWORD = secrets.token_urlsafe(16)  # a throwaway database; only this script logs in
USERS = {"kees": "Kees Jansen", "marieke": "Marieke de Boer"}
TENANT_SAYS = "ik ben mijn baan kwijt, kan 50 per maand betalen"
CONSULTANT_SAYS = (
    "Goedemorgen, wat vervelend dat u uw baan kwijt bent. Ik bel u morgen om 10 uur, "
    "dan kijken we samen wat u per maand kunt betalen."
)


@dataclass(frozen=True)
class Speaker:
    """A tenant who answers on the sandbox phone: their id and WhatsApp contact point."""

    tenant_id: int
    point_id: int
    name: str


def local(runtime: Runtime, moment: tuple[date, time]) -> datetime:
    return datetime.combine(*moment, tzinfo=runtime.policy.tz)


async def speakers(runtime: Runtime, simulation: Simulation) -> tuple[Speaker, Speaker]:
    """Two silent tenants reached on WhatsApp; the first owes more than a year of 50 euro
    (so her plan goes to a consultant), the second asks for help."""
    candidates = sorted(
        (tenant.row for tenant in simulation.tenants.values() if tenant.persona == "silent"),
        key=lambda row: (-row.balance_cents, row.tenant_ref),
    )
    found = []
    async with runtime.sessions() as session:
        for row in candidates:
            if row.language != "nl" or not row.phone or row.phone in simulation.no_whatsapp:
                continue
            if row.administrator:  # the bewindvoerder would be written to, not the tenant
                continue
            tenant = await session.scalar(
                select(Tenant).where(Tenant.external_ref == row.tenant_ref)
            )
            assert tenant is not None
            case = await session.scalar(
                select(Case).where(Case.tenant_id == tenant.id, Case.status != "closed")
            )
            point = await session.scalar(
                select(ContactPoint).where(
                    ContactPoint.tenant_id == tenant.id, ContactPoint.channel == "whatsapp"
                )
            )
            if case is not None and point is not None:
                found.append(Speaker(tenant.id, point.id, tenant.name))
    if len(found) < 2 or (await balance(runtime, found[0])) <= 12 * 5000:
        raise SystemExit("the demo's silent tenants changed: choose others in speakers()")
    return found[0], found[-1]


async def balance(runtime: Runtime, speaker: Speaker) -> int:
    async with runtime.sessions() as session:
        owed = await session.scalar(
            select(Case.balance_cents).where(
                Case.tenant_id == speaker.tenant_id, Case.status != "closed"
            )
        )
    return owed or 0


async def log_in(page: Page, base_url: str, username: str) -> None:
    await page.goto(f"{base_url}/queue")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name="Inloggen").click()
    await expect(page).to_have_url(re.compile(r"/queue$"))


async def colleague_hands_over_help(browser: Browser, base_url: str) -> None:
    """Kees claims each help request and hands it over, with consent, to the debt help."""
    page = await (await browser.new_context(locale="nl-NL", viewport=DESKTOP)).new_page()
    await log_in(page, base_url, "kees")
    while await page.locator("tbody tr", has_text="Hulpvraag").count():
        await page.locator("tbody tr", has_text="Hulpvraag").first.get_by_role("button").click()
        await expect(page.get_by_role("status")).to_contain_text("deze zaak is van u")
        await page.select_option("#mode", "Telefoon")
        await page.fill("#outcome", "Gebeld; wil graag hulp van de schuldhulp")
        await page.click("#log-contact")
        await expect(page.locator(".timeline")).to_contain_text("Contact vastgelegd")
        await page.select_option("#partner", label="Schuldhulp van de gemeente")
        await page.check("#consent")
        await page.fill("#consent-how", "telefonisch, 7 december")
        await page.click("#hand-over")
        await expect(page).to_have_url(re.compile(r"/dossier$"))
        await page.goto(f"{base_url}/queue")
    await page.context.close()


async def answer_on_phone(page: Page, base_url: str, tenant: Speaker, text: str) -> None:
    """The tenant types an answer on the sandbox phone."""
    await page.goto(f"{base_url}/sandbox/tenants/{tenant.tenant_id}")
    await page.select_option("#reply-point", str(tenant.point_id))
    await page.fill("#reply-text", text)
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".bubble.in").last).to_contain_text(text)


async def shoot(page: Page, path: Path, height: int, *, end: bool = False) -> None:
    """The page down to `height` pixels; with `end`, its last `height` pixels, as a phone
    shows a conversation: the newest messages, the older ones scrolled away. The cut keeps
    the files a few hundred KB."""
    full = await page.evaluate("document.documentElement.scrollHeight")
    width = page.viewport_size["width"] if page.viewport_size else DESKTOP["width"]
    await page.screenshot(
        path=path,
        full_page=True,
        clip={
            "x": 0,
            "y": max(0, full - height) if end else 0,
            "width": width,
            "height": min(full, height),
        },
    )


async def bottom_of(page: Page, selector: str) -> int:
    box = await page.locator(selector).bounding_box()
    assert box is not None
    return int(box["y"] + box["height"]) + 16


async def last_morning(
    browser: Browser, base_url: str, out: Path, clock: ManualClock, ann: Speaker, bob: Speaker
) -> None:
    phone_context = await browser.new_context(
        locale="nl-NL", viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone = await phone_context.new_page()
    await answer_on_phone(phone, base_url, ann, TENANT_SAYS)
    clock.advance(timedelta(minutes=12))
    await answer_on_phone(phone, base_url, bob, "hulp")
    clock.advance(timedelta(minutes=35))  # the consultant comes in a while later

    desk = await (await browser.new_context(locale="nl-NL", viewport=DESKTOP)).new_page()
    await log_in(desk, base_url, "marieke")
    await expect(desk.locator("tbody")).to_contain_text(ann.name)
    await expect(desk.locator("tbody")).to_contain_text(bob.name)
    await shoot(desk, out / "queue.png", 1250)

    await desk.locator("tbody tr", has_text=ann.name).get_by_role("link").first.click()
    await desk.click("#claim")
    await expect(desk.get_by_role("status")).to_contain_text("deze zaak is van u")
    case_url = re.sub(r"\?.*$", "", desk.url)
    await desk.fill("#reply-text", CONSULTANT_SAYS)
    await desk.click("#send-reply")
    await expect(desk.get_by_role("status")).to_contain_text("Gedaan")
    await desk.goto(case_url)  # without the "done" notice
    # Scrolled to the newest messages, as the consultant would; cut below the conversation.
    await desk.locator(".conversation").evaluate("box => { box.scrollTop = box.scrollHeight }")
    conversation = await bottom_of(desk, "section:has(.conversation)")
    await shoot(desk, out / "case.png", conversation)
    await desk.goto(f"{case_url}/dossier")
    await shoot(desk, out / "dossier.png", 1600)

    await phone.goto(f"{base_url}/sandbox/tenants/{ann.tenant_id}")
    await expect(phone.locator(".bubble").last).to_contain_text("Ik bel u morgen")
    await shoot(phone, out / "phone.png", 1700, end=True)


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'screenshots.db'}",
            sandbox=True,
            secret_key=SecretStr(secrets.token_urlsafe(32)),
            _env_file=None,  # type: ignore[call-arg]
        )
        clock = ManualClock(demo_start(FIRST_DAY, load_policy(settings.policy_file).tz))
        # One clock for all: logins are made and used on the same simulated morning.
        runtime = await Runtime.start(
            settings, clock=clock, channels=dict.fromkeys(CHANNELS, SandboxChannel())
        )
        runner = web.AppRunner(build_app(runtime))
        try:
            simulation = Simulation(runtime, demo_rows(), SEED)
            sandbox = runtime.channels["whatsapp"]
            assert isinstance(sandbox, SandboxChannel)
            sandbox.failure_rules.append(not_on_whatsapp(simulation.no_whatsapp))
            async with runtime.sessions() as session, session.begin():
                for username, name in USERS.items():
                    await add_user(
                        session,
                        username,
                        PASSWORD,
                        role=Role.COORDINATOR,
                        now=clock.now(),
                        display_name=name,
                    )
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            base_url = f"http://{host}:{port}"
            async with async_playwright() as driver:
                browser = await driver.chromium.launch(
                    executable_path=str(CHROMIUM), args=ARGS, env={**os.environ, **DUTCH}
                )
                try:
                    await simulation.run_until(clock, local(runtime, COLLEAGUE_DAY))
                    await colleague_hands_over_help(browser, base_url)
                    await simulation.run_until(clock, local(runtime, LAST_DAY))
                    ann, bob = await speakers(runtime, simulation)
                    await last_morning(browser, base_url, out, clock, ann, bob)
                finally:
                    await browser.close()
        finally:
            await runner.cleanup()
            await runtime.close()


def run() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    out: Path = parser.parse_args().out
    if not CHROMIUM.exists():
        raise SystemExit(f"no {CHROMIUM}: apt-get install chromium chromium-l10n")
    if not DUTCH_PACK.exists():
        raise SystemExit("Chromium has no Dutch: apt-get install chromium-l10n (date fields)")
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out))
    for name in ("phone", "queue", "case", "dossier"):
        path = out / f"{name}.png"
        print(f"{path}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    run()
