"""How fast the consultants' pages answer with a full queue: N escalated cases.

    python -m bench.workplace [N]

Times, over real HTTP on 127.0.0.1, the queue page (the first 300 rows), its JSON twin, a
filtered queue, a case page with its timeline, and the coordinator's early-signal list
(every open case weighed), as the median of ten requests each; on SQLite and, when
reachable, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bench.common import arrears_file, backends, scratch_database
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import build_app
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS
from storage.models import Case
from workplace.accounts import Role, add_user

PASSWORD = "a long enough secret"


async def _median_ms(client: TestClient, path: str) -> float:  # type: ignore[type-arg]
    times = []
    for _ in range(10):
        started = time.perf_counter()
        response = await client.get(path)
        await response.read()
        assert response.status == 200, path
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def measure(backend: str, cases: int) -> None:
    async with scratch_database(backend) as url:
        clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        runtime = await Runtime.start(
            settings,
            clock=clock,
            channels=dict.fromkeys(CHANNELS, SandboxChannel()),
            migrate=False,
        )
        try:
            await runtime.import_data(arrears_file(cases), "bench.csv")
            for _ in range(3):  # three reminders each, then every case in the queue
                clock.advance(timedelta(days=7))
                await runtime.tick()
                await runtime.dispatch()
            async with runtime.sessions() as session, session.begin():
                await session.execute(
                    update(Case).values(
                        status="escalated",
                        escalation_reason="no_reply",
                        escalation_priority=40,
                        escalated_at=clock.now(),
                    )
                )
                await add_user(session, "bench", PASSWORD, role=Role.COORDINATOR, now=clock.now())
                case_id = await session.scalar(select(Case.id).limit(1))
            async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as client:
                page = await (await client.get("/login")).text()
                csrf = page.split('name="csrf" value="')[1].split('"')[0]
                await client.post(
                    "/login", data={"username": "bench", "password": PASSWORD, "csrf": csrf}
                )
                figures = {
                    "queue": await _median_ms(client, "/queue"),
                    "api/queue": await _median_ms(client, "/api/queue"),
                    "queue?channel=sms": await _median_ms(client, "/queue?channel=sms"),
                    "case": await _median_ms(client, f"/cases/{case_id}"),
                    "signals": await _median_ms(client, "/signals"),
                }
        finally:
            await runtime.close()
    shown = "  ".join(f"{name} {ms:6.1f} ms" for name, ms in figures.items())
    print(f"{backend:<10} escalated={cases:<6} {shown}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    for backend in backends():
        asyncio.run(measure(backend, cases))


if __name__ == "__main__":
    main()
