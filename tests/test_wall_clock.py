"""Two clocks: the tenants' world (cadence, sends, plans, reports) may run fast, as in the
live demo, while what people do (logins, their expiry, holds after failed logins) keeps
the wall clock. Through real HTTP on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import build_app
from messaging.channels.sandbox import SandboxChannel
from rules.clock import FastClock, ManualClock
from rules.policy import CHANNELS
from tests.conftest import T0
from tests.factories import arrears_csv, row
from tests.test_workplace import PASSWORD, csrf_of, log_in, make_user

Client = TestClient  # type: ignore[type-arg]
DAY_SECONDS = 10  # the demo's default: a simulated day every ten seconds


@pytest.fixture
def wall() -> ManualClock:
    return ManualClock(datetime(2027, 6, 14, 9, 0, tzinfo=UTC))  # not the tenants' date


@pytest.fixture
def fast(wall: ManualClock) -> FastClock:
    fast = FastClock(T0, speed=86400 / DAY_SECONDS, real=wall)
    assert fast.now() == T0  # reading it once fixes its origin on the wall
    return fast


@pytest.fixture
async def demo_like(
    settings: Settings, fast: FastClock, wall: ManualClock, sandbox: SandboxChannel
) -> AsyncIterator[Runtime]:
    """Set up as the live demo is: the tenants on a fast clock, people on the wall's."""
    runtime = await Runtime.start(
        settings,
        clock=fast,
        wall_clock=wall,
        channels=dict.fromkeys(CHANNELS, sandbox),
        migrate=False,
    )
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
async def client(demo_like: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(demo_like), host="127.0.0.1")) as test_client:
        yield test_client


def test_the_fast_clock_stands_still_at_the_end_of_the_month(wall: ManualClock) -> None:
    end = T0 + timedelta(days=30)
    month = FastClock(T0, speed=86400 / DAY_SECONDS, real=wall, until=end)
    assert month.now() == T0
    wall.advance(timedelta(seconds=29 * DAY_SECONDS))
    assert month.now() == T0 + timedelta(days=29)
    wall.advance(timedelta(seconds=DAY_SECONDS))
    assert month.now() == end
    for _ in range(3):  # days later on the wall, the month is still over
        wall.advance(timedelta(days=2))
        assert month.now() == end


async def test_a_consultant_stays_logged_in_while_the_demo_runs_a_month(
    client: Client, demo_like: Runtime, fast: FastClock, wall: ManualClock
) -> None:
    await make_user(demo_like, "consulent")
    assert await log_in(client, "consulent") == 303
    wall.advance(timedelta(seconds=31 * DAY_SECONDS))  # five minutes on the wall…
    assert fast.now() - T0 == timedelta(days=31)  # …a month for the tenants
    for path in ("/queue", "/reports"):
        page = await client.get(path, allow_redirects=False)
        assert page.status == 200, path
    # The login ends after its hours on the wall, as it does in production.
    wall.advance(timedelta(hours=demo_like.settings.session_hours))
    assert (await client.get("/queue", allow_redirects=False)).status == 303


async def test_a_hold_after_failed_logins_lasts_its_minutes_on_the_wall(
    client: Client, demo_like: Runtime, wall: ManualClock
) -> None:
    await make_user(demo_like, "consulent")
    for _ in range(demo_like.settings.login_max_failures):
        assert await log_in(client, "consulent", "wrong password!") == 401
    assert await log_in(client, "consulent") == 401  # held off: a day for the tenants later…
    wall.advance(timedelta(seconds=DAY_SECONDS * 3))
    assert await log_in(client, "consulent", PASSWORD) == 401  # …still held
    wall.advance(timedelta(minutes=demo_like.settings.lockout_minutes))
    assert await log_in(client, "consulent", PASSWORD) == 303


def _period(page: str) -> tuple[str, str]:
    found = re.search(
        r'name="from" type="date" value="([^"]+)".*name="to" type="date" value="([^"]+)"',
        page,
        re.S,
    )
    assert found
    return found.group(1), found.group(2)


async def test_reports_show_the_tenants_month_and_say_when_a_period_is_empty(
    client: Client, demo_like: Runtime, wall: ManualClock
) -> None:
    await demo_like.import_data(arrears_csv(row("T1")), "d1.csv")
    await make_user(demo_like, "consulent")
    assert await log_in(client, "consulent") == 303
    wall.advance(timedelta(seconds=5 * DAY_SECONDS))  # the sixth of December, simulated
    page = await (await client.get("/reports")).text()
    assert _period(page) == ("2026-11-07", "2026-12-06")  # not June 2027 from the wall
    # One case opened: its funnel; no reminder went out yet, and the page says so.
    assert "<svg" in page and page.count("Geen gegevens in deze periode.") == 1
    # The demo runs on: two months later the last 30 days hold nothing, and say so.
    wall.advance(timedelta(seconds=60 * DAY_SECONDS))
    page = await (await client.get("/reports")).text()
    assert _period(page) == ("2027-01-06", "2027-02-04")
    assert page.count("Geen gegevens in deze periode.") == 2  # the funnel and the replies
    assert "<svg" not in page
    english = await client.post(
        "/language",
        data={"csrf": await csrf_of(client, "/reports"), "language": "en", "back": "/reports"},
    )
    assert (await english.text()).count("No data in this period.") == 2
