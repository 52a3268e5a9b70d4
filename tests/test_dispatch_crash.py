"""A real `arrears-bot worker` killed after its sends returned but before their group commit:
a send holds its slot until its outcome is committed, so no more than the concurrency can be
sent and not yet recorded, and only those go out again."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Select, func, select

from bot.runtime import Runtime
from bot.settings import Settings
from storage.models import CaseEvent, Message
from storage.scratch import _admin_dsn
from tests.fakes.twilio import FakeTwilio
from tests.outbox_helpers import due_sms
from tests.waiting import until, until_true
from tests.worker_soak import Soak, Workers, worker_env

pytestmark = pytest.mark.postgresql_only
PLAN = Soak(messages=20, workers=1, per_second=1000, lease=3, concurrency=4, grace=5)


async def _count(runtime: Runtime, statement: Select[int]) -> int:
    async with runtime.sessions() as session:
        return await session.scalar(statement) or 0


async def test_a_kill_before_the_group_commit_sends_again_at_most_the_concurrency(
    backend: str, database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    runtime = await Runtime.start(settings, channels={}, migrate=False)
    admin = await asyncpg.connect(_admin_dsn(database_url))
    workers = Workers(worker_env(database_url, twilio, tmp_path, PLAN), tmp_path)
    try:
        addresses = await due_sms(runtime, PLAN.messages, runtime.clock.now())
        ours = {row["pid"] for row in await admin.fetch("SELECT pid FROM pg_stat_activity")}
        # Every record of a send writes its event: while this lock is held, none commits.
        hold = admin.transaction()
        await hold.start()
        await admin.execute("LOCK TABLE case_events IN EXCLUSIVE MODE")
        first = workers.start()
        await until(lambda: len(twilio.requests) >= PLAN.concurrency)
        claimed = select(func.count()).where(Message.status == "sending")

        async def stuck_with_more_to_send() -> bool:
            # The group commit waits on the lock while messages beyond the slots are claimed
            # and ready: a slot freed before its commit would have sent one of them by now.
            blocked = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND NOT pid = ANY($1::int[])",
                list(ours),
            )
            return bool(blocked) and await _count(runtime, claimed) > PLAN.concurrency

        await until_true(stuck_with_more_to_send)
        assert len(twilio.requests) == PLAN.concurrency, workers.logs()

        first.send_signal(signal.SIGKILL)
        await until(lambda: first.poll() is not None)
        # The commits never reach the database: end what the dead worker had started there.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND NOT pid = ANY($1::int[])",
            list(ours),
        )
        await hold.rollback()

        second = workers.start()
        sent = select(func.count()).where(Message.direction == "out", Message.status == "sent")

        async def all_sent() -> bool:
            return await _count(runtime, sent) >= PLAN.messages

        await until_true(all_sent, seconds=60)
        await workers.ready(second)
        second.send_signal(signal.SIGTERM)
        await until(lambda: second.poll() is not None)  # the fake answers meanwhile
        assert second.returncode == 0, workers.logs()

        received = Counter(r.form["To"] for r in twilio.requests)
        assert set(received) == set(addresses), "a message never reached the provider"
        again = sum(n - 1 for n in received.values())
        assert 0 < again <= PLAN.concurrency, workers.logs()
        # Each recorded once: the records the dead worker did not commit never landed.
        events = select(func.count()).where(CaseEvent.kind == "message_sent")
        assert await _count(runtime, events) == PLAN.messages
    finally:
        for proc in workers.live():
            proc.kill()
            proc.wait()
        await admin.close()
        await runtime.close()
