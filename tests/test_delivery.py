"""Delivery guarantees of one dispatcher, against a fake Twilio on 127.0.0.1 through the
real client: the sending window is checked at the moment of each send, a live worker keeps
its claims past the lease, a stop finishes what a provider has seen and gives back the
rest, and the rate limit holds for all workers together."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from bot.runtime import Runtime, build_channels
from messaging.channels.base import InboundMessage
from rules.clock import Clock, FastClock, ManualClock, SystemClock
from storage.scratch import _admin_dsn
from tests.db_helpers import messages
from tests.factories import arrears_csv, row
from tests.fakes.twilio import FakeTwilio
from tests.outbox_helpers import due_sms
from tests.twilio_fixtures import ANNA, twilio_settings
from tests.waiting import until

SMS_FROM = "+3197010000001"
# Tuesday 1 December 2026: the default window closes at 20:00 in Amsterdam (19:00 UTC).
WINDOW_END = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
NEXT_OPENING = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 09:00 in Amsterdam


async def start(database_url: str, twilio: FakeTwilio, clock: Clock, **overrides: Any) -> Runtime:
    settings = twilio_settings(database_url, twilio, **overrides)
    return await Runtime.start(
        settings, clock=clock, channels=build_channels(settings), migrate=False
    )


def received(twilio: FakeTwilio) -> Counter[str]:
    return Counter(request.form["To"] for request in twilio.requests)


async def test_no_send_after_the_window_closes_however_long_the_run(
    database_url: str, twilio: FakeTwilio
) -> None:
    # The run starts ten seconds before the window closes; the provider takes half a second
    # per message on the clock. A `now` read once per run sent most of them late.
    clock = ManualClock(WINDOW_END - timedelta(minutes=10))
    runtime = await start(database_url, twilio, clock, send_concurrency=1)
    try:
        addresses = await due_sms(runtime, 24, clock.now())
        clock.current = WINDOW_END - timedelta(seconds=10)
        twilio.clock, twilio.step = clock, timedelta(seconds=0.5)
        first = await runtime.dispatch()
        late = [r.at for r in twilio.requests if r.at is not None and r.at >= WINDOW_END]
        assert late == []
        assert 0 < first.sent < 24 and first.deferred == 24 - first.sent
        waiting = await messages(runtime, status="queued")
        assert len(waiting) == 24 - first.sent
        assert {m.next_attempt_at for m in waiting} == {NEXT_OPENING}
        assert {m.attempts for m in waiting} == {0}  # a deferral is no attempt
        # Nothing more goes out overnight …
        clock.current = NEXT_OPENING - timedelta(seconds=1)
        assert (await runtime.dispatch()).sent == 0
        # … and all of it in the morning, once each.
        clock.current = NEXT_OPENING
        await runtime.dispatch()
        assert received(twilio) == Counter(addresses)
        assert all(
            r.at is None or r.at < WINDOW_END or r.at >= NEXT_OPENING for r in twilio.requests
        )
    finally:
        await runtime.close()


async def test_sends_waiting_for_the_rate_limit_check_the_window_when_their_turn_comes(
    database_url: str, twilio: FakeTwilio
) -> None:
    # All 40 are claimed at once, 6 s before the window closes, then wait their turn at
    # 4 SMS/s (of a clock running 4x fast): those whose turn comes too late go back.
    runtime = await start(
        database_url,
        twilio,
        ManualClock(WINDOW_END - timedelta(minutes=1)),
        send_concurrency=40,
        twilio_sms_per_second=16,
    )
    try:
        addresses = await due_sms(runtime, 40, WINDOW_END - timedelta(minutes=1))
        runtime.clock = twilio.clock_source = FastClock(WINDOW_END - timedelta(seconds=6), 4)
        result = await runtime.dispatch()
        assert 0 < result.sent < 40 and result.deferred == 40 - result.sent
        assert all(r.at is not None and r.at < WINDOW_END for r in twilio.requests)
        waiting = await messages(runtime, status="queued")
        assert {m.next_attempt_at for m in waiting} == {NEXT_OPENING}
        assert len(received(twilio)) == result.sent
        assert set(received(twilio)) < set(addresses)
    finally:
        await runtime.close()


async def test_a_live_worker_keeps_its_claims_past_the_lease(
    database_url: str, twilio: FakeTwilio
) -> None:
    # Real clock, lease 3 s, 5 SMS/s shared: the first worker's 20 claims take 4 s to send.
    # Without renewal the second worker would take over the last ones and send them again.
    clock = SystemClock()
    overrides = {"send_lease_seconds": 3, "send_concurrency": 20, "twilio_sms_per_second": 5}
    first = await start(database_url, twilio, clock, **overrides)
    second = await start(database_url, twilio, clock, **overrides)
    try:
        addresses = await due_sms(first, 20, clock.now(), respect_quiet_hours=False)
        one = asyncio.create_task(first.dispatch())
        await until(lambda: twilio.requests)
        others = []
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not one.done():
            others.append(await second.dispatch())  # looks again and again for lapsed claims
            await asyncio.sleep(0.05)
        result = await one
        assert result.sent == 20 and sum(r.sent for r in others) == 0
        assert received(twilio) == Counter(addresses)
        span = twilio.requests[-1].wall - twilio.requests[0].wall
        assert span > 3, "the run must outlast the lease for this test to mean anything"
    finally:
        await first.close()
        await second.close()


async def test_the_rate_limit_holds_for_all_workers_together(
    database_url: str, twilio: FakeTwilio
) -> None:
    clock = SystemClock()
    workers = [await start(database_url, twilio, clock, twilio_sms_per_second=10) for _ in "ab"]
    try:
        await due_sms(workers[0], 20, clock.now(), respect_quiet_hours=False)
        results = await asyncio.gather(*(w.dispatch() for w in workers))
        assert sum(r.sent for r in results) == 20
        assert all(r.sent for r in results), "both workers should have sent"
        walls = sorted(r.wall for r in twilio.requests)
        # 20 sends at 10/s together: the first at once, the last ~1.9 s later (two
        # processes at 10/s each would finish in ~1 s).
        assert walls[-1] - walls[0] >= 1.7
        # Slots are 0.1 s apart; arrivals jitter a little. Each worker alone at 10/s would
        # put 10 sends into half a second.
        for i in range(len(walls) - 10):
            assert walls[i + 10] - walls[i] >= 0.8, "far more than 10 sends within a second"
    finally:
        for worker in workers:
            await worker.close()


async def test_a_stop_finishes_the_sends_in_flight_and_gives_back_the_rest(
    database_url: str, twilio: FakeTwilio
) -> None:
    clock = SystemClock()
    runtime = await start(database_url, twilio, clock, send_concurrency=4)
    try:
        addresses = await due_sms(runtime, 12, clock.now(), respect_quiet_hours=False)
        twilio.delay = 0.5
        running = asyncio.create_task(runtime.dispatcher.run())
        await until(lambda: twilio.in_progress >= 4)
        await runtime.dispatcher.stop(grace=5)
        await running
        seen = received(twilio)
        assert len(seen) == 4 and set(seen.values()) == {1}
        out = await messages(runtime, direction="out")
        by_status = Counter(m.status for m in out)
        assert by_status == {"sent": 4, "queued": 8}  # none left 'sending'
        sent = {m.address for m in out if m.status == "sent"}
        assert sent == set(seen)
        assert {m.attempts for m in out if m.status == "queued"} == {0}
        provider_ids = {m.provider_id for m in out if m.status == "sent"}
        assert len(provider_ids) == 4 and None not in provider_ids
    finally:
        await runtime.close()
    # The next worker sends the rest, and nothing twice.
    twilio.delay = 0
    successor = await start(database_url, twilio, clock)
    try:
        await successor.dispatch()
        assert received(twilio) == Counter(addresses)
    finally:
        await successor.close()


@pytest.mark.postgresql_only
async def test_a_send_whose_record_fails_is_taken_again_after_its_lease(
    backend: str, database_url: str, twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(WINDOW_END - timedelta(hours=2))
    runtime = await start(database_url, twilio, clock, send_lease_seconds=60)
    admin = await asyncpg.connect(_admin_dsn(database_url))
    try:
        (address,) = await due_sms(runtime, 1, clock.now())
        # The database refuses the record after the send, quoting the row as PostgreSQL's
        # DETAIL lines do.
        await admin.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused' USING DETAIL = NEW.address || ' ' || NEW.body; END $$;"
            "CREATE TRIGGER refuse BEFORE UPDATE ON messages FOR EACH ROW "
            "WHEN (NEW.status = 'sent') EXECUTE FUNCTION refuse();"
        )
        assert (await runtime.dispatch()).sent == 0
        (message,) = await messages(runtime, direction="out")
        assert message.status == "sending"  # left to its lease: the provider has it
        assert "refused" not in caplog.text and address not in caplog.text
        await admin.execute("DROP TRIGGER refuse ON messages")
        clock.advance(timedelta(seconds=59))
        assert (await runtime.dispatch()).sent == 0  # still claimed
        clock.advance(timedelta(seconds=2))
        assert (await runtime.dispatch()).sent == 1  # the lease ran out: taken again
    finally:
        await admin.close()
        await runtime.close()
    assert received(twilio) == Counter({address: 2})  # at least once, as documented


async def test_two_messages_to_one_address_arrive_in_the_order_they_were_written(
    twilio_runtime: Runtime, twilio: FakeTwilio
) -> None:
    """The first send is slow at the provider; the second, claimed in the same run, waits."""
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    for n, text in enumerate(["hulp", "STOP"]):
        await twilio_runtime.receive(
            InboundMessage("sms", ANNA, text, f"SM{n:032d}", twilio_runtime.clock.now())
        )
    twilio.slow_first = 0.5
    await twilio_runtime.dispatch()
    written = [m.body for m in await messages(twilio_runtime, direction="out")]
    assert [r.form["Body"] for r in twilio.requests] == written and len(written) == 2
