"""Real `arrears-bot worker` processes on PostgreSQL, sending to a slow fake Twilio on
127.0.0.1 while we stop and kill them: every due message arrives; none twice after SIGTERM;
after kill -9 at most the sends that were in flight at the kill go twice."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from bot.settings import Settings
from storage.models import Message
from tests.fakes.twilio import FakeTwilio, fake_twilio
from tests.worker_soak import Soak, soak

pytestmark = pytest.mark.postgresql_only
PLAN = Soak(messages=300, per_second=60, lease=3, concurrency=8, grace=10)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with fake_twilio() as fake:
        fake.delay = 0.1  # a provider that takes its time: sends are in flight when we stop
        yield fake


async def _statuses(database_url: str) -> set[str]:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    runtime = await Runtime.start(settings, channels={}, migrate=False)
    try:
        async with runtime.sessions() as session:
            return set(await session.scalars(select(Message.status).distinct()))
    finally:
        await runtime.close()


async def test_sigterm_every_second_or_so_sends_everything_once(
    backend: str, database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    outcome = await soak(database_url, twilio, tmp_path, signal.SIGTERM, PLAN)
    assert outcome.stops >= 2, "the workers must have been stopped while sending"
    assert set(outcome.exit_codes) == {0}, f"a worker did not stop cleanly\n{outcome.logs}"
    assert outcome.lost == 0, f"messages never reached the provider\n{outcome.logs}"
    assert outcome.again == 0, f"sent twice after SIGTERM\n{outcome.logs}"
    assert await _statuses(database_url) == {"sent"}


async def test_kill_9_loses_nothing_and_resends_at_most_what_was_in_flight(
    backend: str, database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    outcome = await soak(database_url, twilio, tmp_path, signal.SIGKILL, PLAN)
    assert outcome.stops >= 2, "the workers must have been killed while sending"
    assert outcome.lost == 0, f"messages never reached the provider\n{outcome.logs}"
    # Each killed worker had at most CONCURRENCY provider calls in flight.
    assert outcome.again <= outcome.stops * PLAN.concurrency, outcome.logs
    assert await _statuses(database_url) == {"sent"}
