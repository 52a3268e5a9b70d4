"""The live demo's month ends: the tenants' fast clock stops, the terminal says so once, and
the sandbox and the workplace keep working at the month's last moment. The demo runs as
`arrears-bot demo` runs it, with the wall clock injected: no real days go by."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.demo import demo_end
from bot.demo_run import DemoRun
from bot.settings import Settings
from bot.web import RUNTIME
from rules.clock import ManualClock
from rules.policy import load_policy
from storage.models import Case
from tests.db_helpers import messages
from tests.test_workplace import hidden, log_in
from tests.waiting import until

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY_SECONDS = 10.0
OVER = "The demo month is over"


@pytest.mark.parametrize(
    ("days", "stops_at"),
    [
        (30, datetime(2026, 12, 31, 9, 0)),  # 06:00 on the 31st: on to the window's opening
        (5, datetime(2026, 12, 7, 9, 0)),  # a Sunday: on to Monday
        (24, datetime(2026, 12, 28, 9, 0)),  # Christmas, Boxing Day, a Sunday
    ],
)
def test_the_live_month_stops_where_a_message_may_still_go_out(
    days: int, stops_at: datetime
) -> None:
    end = demo_end(date(2026, 12, 1), days, load_policy())
    assert end.astimezone(AMSTERDAM) == stops_at.replace(tzinfo=AMSTERDAM)


async def test_the_live_demo_stops_its_clock_says_so_once_and_stays_open(
    tmp_path: Path,
) -> None:
    database = tmp_path / "demo.db"
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{database}",
        sandbox=True,
        send_lease_seconds=30 * 86400,
        _env_file=None,
    )
    wall = ManualClock(datetime(2027, 6, 14, 9, 0, tzinfo=UTC))  # not the tenants' date
    lines: list[str] = []
    run = DemoRun(settings, date(2026, 12, 1), 30, 7, database, lines.append, wall=wall)
    end = demo_end(run.first_day, run.days, load_policy())

    async def serve(application: web.Application, host: str, port: int) -> None:
        async with TestClient(TestServer(application, host="127.0.0.1")) as client:
            runtime = application[RUNTIME]
            started = runtime.clock.now()  # the month starts running on the wall now
            assert started < end
            wall.advance(timedelta(seconds=31 * DAY_SECONDS))  # past the month's end
            await until(lambda: any(OVER in line for line in lines))
            assert runtime.clock.now() == end
            wall.advance(timedelta(hours=2))  # the wall goes on; the tenants' world does not
            assert runtime.clock.now() == end

            # The sandbox: a tenant asks for help and is answered at once.
            tenant_page = await (await client.get("/sandbox/tenants/1")).text()
            point = re.search(r'<option value="(\d+)"', tenant_page)
            assert point
            asked = await client.post(
                "/sandbox/reply",
                data={
                    "contact_point": point.group(1),
                    "text": "hulp",
                    "back": "/sandbox/tenants/1",
                    "csrf": hidden(tenant_page, "csrf"),
                },
            )
            assert asked.status == 200
            async with runtime.sessions() as session:
                case = await session.scalar(select(Case).where(Case.tenant_id == 1))
            assert case is not None and case.escalation_reason == "help"

            # The workplace: the consultant's reply reaches the tenant in the still world.
            (login,) = [line for line in lines if line.startswith("Consultant login:")]
            password = login.split()[4]
            assert await log_in(client, "consulent", password) == 303
            page = await (await client.get(f"/cases/{case.id}")).text()
            replied = await client.post(
                f"/cases/{case.id}/reply",
                data={
                    "csrf": hidden(page, "csrf"),
                    "version": hidden(page, "version"),
                    "text": "Dag, ik bel u morgen even.",
                },
            )
            assert replied.status == 200
            (reply,) = await messages(runtime, template="consultant_reply")
            assert reply.status == "sent" and reply.created_at == end

    await run.live(DAY_SECONDS, serve)
    assert [line for line in lines if OVER in line] == [
        f"{OVER}; its clock stands still at 2026-12-31 09:00. "
        "The sandbox and the workplace stay open (Ctrl+C to stop)."
    ]
    assert "30 days in all" in lines[0]
    # The reports' link covers the month up to the moment its clock stopped.
    assert any(line.endswith("/reports?from=2026-12-01&to=2026-12-31") for line in lines)


@dataclass
class WatchedWall(ManualClock):
    """The wall clock, telling when someone reads it: the demo's step reads it first."""

    read: asyncio.Event | None = None

    def now(self) -> datetime:
        if self.read is not None:
            self.read.set()
        return super().now()


async def test_stopping_the_live_demo_lets_the_step_under_way_finish(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "demo.db"
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{database}", sandbox=True, _env_file=None
    )
    wall = WatchedWall(datetime(2027, 6, 14, 9, 0, tzinfo=UTC))
    lines: list[str] = []
    run = DemoRun(settings, date(2026, 12, 1), 30, 7, database, lines.append, wall=wall)

    async def serve(application: web.Application, host: str, port: int) -> None:
        async with TestClient(TestServer(application, host="127.0.0.1")):
            application[RUNTIME].clock.now()  # the month starts running on the wall now
            wall.advance(timedelta(seconds=31 * DAY_SECONDS))
            wall.read = asyncio.Event()
            # The next step has begun the whole month's work (a second or so)…
            await asyncio.wait_for(wall.read.wait(), 30)
        # …and the operator presses Ctrl+C: the app stops here.

    await run.live(DAY_SECONDS, serve)
    assert any(OVER in line for line in lines)  # the step ran to its end before the stop
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
