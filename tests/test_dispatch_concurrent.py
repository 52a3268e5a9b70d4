"""One dispatcher sends several messages at once, and records the sends that finish together
in one commit: every outcome is recorded once, only by the worker that still holds the
claim, and a group the database refuses is recorded message by message."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import select

from bot.runtime import Runtime, build_channels
from messaging.claims import claim_due
from messaging.recorder import Recorder, Sent
from rules.clock import ManualClock
from storage.models import Case, CaseEvent
from storage.scratch import _admin_dsn
from tests.db_helpers import messages
from tests.fakes.twilio import FakeTwilio
from tests.outbox_helpers import due_sms
from tests.twilio_fixtures import twilio_settings

LEASE = timedelta(minutes=5)


async def start(
    database_url: str, twilio: FakeTwilio, clock: ManualClock, **overrides: object
) -> Runtime:
    settings = twilio_settings(database_url, twilio, **overrides)
    return await Runtime.start(
        settings, clock=clock, channels=build_channels(settings), migrate=False
    )


async def sent_events(runtime: Runtime) -> Counter[int]:
    async with runtime.sessions() as session:
        events = await session.scalars(select(CaseEvent).where(CaseEvent.kind == "message_sent"))
        return Counter(event.data["message_id"] for event in events)


async def test_sends_overlap_and_each_outcome_is_recorded_once(
    database_url: str, twilio: FakeTwilio, clock: ManualClock
) -> None:
    runtime = await start(database_url, twilio, clock, send_concurrency=8)
    try:
        addresses = await due_sms(runtime, 24, clock.now())
        twilio.delay = 0.2  # a provider that takes its time: sends in flight together
        result = await runtime.dispatch()
        assert result.sent == 24
        assert twilio.peak_in_progress == 8, "the sends did not overlap up to the concurrency"
        assert Counter(r.form["To"] for r in twilio.requests) == Counter(addresses)
        out = await messages(runtime, direction="out")
        assert {m.status for m in out} == {"sent"}
        assert {m.claim_token for m in out} == {None} and {m.claimed_until for m in out} == {None}
        assert {m.attempts for m in out} == {1}
        assert {m.sent_at for m in out} == {clock.now()}
        assert len({m.provider_id for m in out}) == 24 and None not in {m.provider_id for m in out}
        assert await sent_events(runtime) == Counter({m.id: 1 for m in out})
        async with runtime.sessions() as session:
            touched = set(await session.scalars(select(Case.last_contact_at)))
        assert touched == {clock.now()}
    finally:
        await runtime.close()


async def test_a_group_records_only_what_the_worker_still_holds(
    database_url: str, twilio: FakeTwilio, clock: ManualClock
) -> None:
    runtime = await start(database_url, twilio, clock)
    try:
        await due_sms(runtime, 3, clock.now())
        ours = await claim_due(runtime.engine, "ours", 3, clock.now(), LEASE)
        # The last one's lease ran out and another worker took it over.
        clock.advance(LEASE + timedelta(seconds=1))
        (theirs,) = await claim_due(runtime.engine, "theirs", 1, clock.now(), LEASE)
        assert theirs.claim.message_id == ours[0].claim.message_id
        recorder = Recorder(runtime.engine)
        held = await asyncio.gather(
            *(recorder.sent(Sent(item.claim, f"SM{n}", clock.now())) for n, item in enumerate(ours))
        )
        assert held == [False, True, True]
        by_id = {m.id: m for m in await messages(runtime, direction="out")}
        taken = by_id[theirs.claim.message_id]
        assert (taken.status, taken.claim_token, taken.provider_id) == ("sending", "theirs", None)
        assert [by_id[item.claim.message_id].status for item in ours[1:]] == ["sent", "sent"]
        assert await sent_events(runtime) == Counter(item.claim.message_id for item in ours[1:])
    finally:
        await runtime.close()


@pytest.mark.postgresql_only
async def test_a_group_the_database_refuses_is_recorded_message_by_message(
    backend: str, database_url: str, twilio: FakeTwilio, clock: ManualClock
) -> None:
    runtime = await start(database_url, twilio, clock)
    admin = await asyncpg.connect(_admin_dsn(database_url))
    try:
        await due_sms(runtime, 3, clock.now())
        claimed = await claim_due(runtime.engine, "ours", 3, clock.now(), LEASE)
        refused = claimed[1].claim.message_id
        await admin.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused'; END $$;"
            "CREATE TRIGGER refuse BEFORE UPDATE ON messages FOR EACH ROW "
            f"WHEN (NEW.status = 'sent' AND NEW.id = {refused}) EXECUTE FUNCTION refuse();"
        )
        recorder = Recorder(runtime.engine)
        outcomes = await asyncio.gather(
            *(recorder.sent(Sent(i.claim, f"SM{n}", clock.now())) for n, i in enumerate(claimed)),
            return_exceptions=True,
        )
        assert outcomes[0] is True and outcomes[2] is True
        assert isinstance(outcomes[1], Exception)
        statuses = {m.id: m.status for m in await messages(runtime, direction="out")}
        assert statuses[refused] == "sending"  # left to its lease
        assert sorted(await sent_events(runtime)) == sorted(set(statuses) - {refused})
    finally:
        await admin.close()
        await runtime.close()
