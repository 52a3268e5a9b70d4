"""Tick and dispatch against a real database: stages, fallbacks, retries, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.runtime import Runtime, build_channels
from messaging.channels.base import (
    OutboundMessage,
    PermanentSendError,
    SendError,
    TransientSendError,
)
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import parse_policy
from storage.queries import next_due
from tests.db_helpers import cases, events, messages
from tests.factories import arrears_csv, row
from tests.fakes.twilio import FakeTwilio
from tests.twilio_fixtures import twilio_settings


async def run_until(runtime: Runtime, clock: ManualClock, end: datetime) -> None:
    """Tick and dispatch as the scheduler would, jumping the clock to the next due moment
    (plus up to a minute, the tick's own granularity)."""
    while clock.now() < end:
        await runtime.tick()
        await runtime.dispatch()
        async with runtime.sessions() as session:
            due = await next_due(session, clock.now())
        clock.current = min(due or end, end) + timedelta(seconds=37)


async def test_a_silent_tenant_gets_every_stage_then_reaches_a_consultant(
    runtime: Runtime, clock: ManualClock, sandbox: SandboxChannel
) -> None:
    await runtime.import_data(arrears_csv(row("T1", email="anna@example.nl")), "d1.csv")
    await run_until(runtime, clock, clock.now() + timedelta(days=40))
    sent = await messages(runtime, direction="out", kind="reminder")
    assert [(m.stage, m.channel, m.status) for m in sent] == [
        (0, "whatsapp", "sent"),
        (1, "whatsapp", "sent"),
        (2, "email", "sent"),  # the written reminder prefers email
    ]
    assert len(sandbox.sent) == 3
    written = sent[2]
    assert written.subject and "gemeente" in written.body and "BEZWAAR" in written.body
    for message in sent:
        local = message.sent_at.astimezone(runtime.policy.tz) if message.sent_at else None
        assert local is not None and 9 <= local.hour < 20 and local.weekday() != 6
    (case,) = await cases(runtime)
    assert case.status == "escalated" and case.escalation_reason == "no_reply"
    assert case.escalation_priority and case.escalation_priority >= 40
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert kinds.count("reminder_queued") == 3 and kinds.count("message_sent") == 3
    assert kinds[-1] == "escalated"


async def test_ticking_twice_queues_a_stage_once(runtime: Runtime, clock: ManualClock) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    first = await runtime.tick()
    second = await runtime.tick()
    assert (first.queued, second.queued) == (1, 0)
    assert len(await messages(runtime, direction="out")) == 1


def fail_on(channel: str, error: SendError, times: int = 1_000_000):  # type: ignore[no-untyped-def]
    remaining = [times]

    def rule(message: OutboundMessage) -> SendError | None:
        if message.channel == channel and remaining[0] > 0:
            remaining[0] -= 1
            return error
        return None

    return rule


async def test_not_on_whatsapp_falls_back_to_sms_and_the_case_shows_both(
    runtime: Runtime, clock: ManualClock, sandbox: SandboxChannel
) -> None:
    sandbox.failure_rules.append(
        fail_on("whatsapp", PermanentSendError("not a WhatsApp user", "63003", unreachable=True))
    )
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    result = await runtime.dispatch()
    assert (result.failed, result.fell_back, result.sent) == (1, 1, 1)
    out = await messages(runtime, direction="out")
    assert [(m.channel, m.status) for m in out] == [("whatsapp", "failed"), ("sms", "sent")]
    assert out[0].last_error == "63003 not a WhatsApp user"
    (case,) = await cases(runtime)
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert kinds[-3:] == ["send_failed", "fallback", "message_sent"]
    # WhatsApp is marked unreachable: the next stage goes straight to SMS.
    await run_until(runtime, clock, clock.now() + timedelta(days=8))
    later = await messages(runtime, direction="out", stage=1)
    assert [(m.channel, m.status) for m in later] == [("sms", "sent")]


async def test_transient_errors_retry_with_backoff(
    runtime: Runtime, clock: ManualClock, sandbox: SandboxChannel
) -> None:
    sandbox.failure_rules.append(
        fail_on("whatsapp", TransientSendError("busy", "20429", retry_after=120), times=2)
    )
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    assert (await runtime.dispatch()).retried == 1
    (message,) = await messages(runtime, direction="out")
    assert message.status == "queued" and message.attempts == 1
    assert message.next_attempt_at == clock.now() + timedelta(seconds=120)
    assert (await runtime.dispatch()).sent == 0  # not due yet
    clock.advance(timedelta(seconds=120))
    assert (await runtime.dispatch()).retried == 1
    clock.advance(timedelta(minutes=2))
    assert (await runtime.dispatch()).sent == 1
    (message,) = await messages(runtime, direction="out")
    assert (message.status, message.attempts, message.channel) == ("sent", 3, "whatsapp")
    kinds = [e.kind for e in await events(runtime, message.case_id)]
    assert kinds.count("send_retry") == 2


async def test_no_usable_channel_escalates_as_unreachable(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", phone="", email="")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    (case,) = await cases(runtime)
    assert case.status == "escalated" and case.escalation_reason == "unreachable"
    assert await messages(runtime, direction="out") == []


async def test_dispatch_holds_a_late_message_until_morning(
    runtime: Runtime, clock: ManualClock, sandbox: SandboxChannel
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()  # queued on Friday at 11:00
    clock.current = datetime(2026, 12, 4, 19, 30, tzinfo=UTC)  # 20:30 in Amsterdam
    result = await runtime.dispatch()
    assert (result.deferred, result.sent) == (1, 0)
    (message,) = await messages(runtime, direction="out")
    assert message.status == "queued" and message.attempts == 0
    assert message.next_attempt_at == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)  # Sat 09:00
    assert sandbox.sent == []


async def test_weekly_limit_holds_back_a_fourth_reminder(
    runtime: Runtime, clock: ManualClock
) -> None:
    runtime.policy = parse_policy(
        """
        [sending]
        max_messages_per_7_days = 2
        [[stages]]
        name = "a"
        after_days = 0
        template = "reminder_friendly"
        channels = ["sms"]
        [[stages]]
        name = "b"
        after_days = 1
        template = "reminder_friendly"
        channels = ["sms"]
        [[stages]]
        name = "c"
        after_days = 1
        template = "reminder_friendly"
        channels = ["sms"]
        """
    )
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await run_until(runtime, clock, clock.now() + timedelta(days=10))
    sent = await messages(runtime, direction="out", kind="reminder")
    days = [(m.sent_at - sent[0].sent_at).days for m in sent if m.sent_at]
    assert days == [0, 1, 7]  # the third waits until the first is a week old


def test_an_answer_to_an_unknown_whatsapp_sender_goes_inside_the_window() -> None:
    """No contact point to look up, but the answer was written to a message that had just
    come in: free text is allowed for a day from then, not after."""
    from messaging.claims import session_open as _session_open
    from storage.models import Message

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    answer = Message(kind="reply", contact_point_id=None, created_at=now - timedelta(hours=2))
    assert _session_open(answer, set(), now)
    assert not _session_open(answer, set(), now + timedelta(days=1))
    notice = Message(kind="notice", contact_point_id=None, created_at=now)
    assert not _session_open(notice, set(), now)
    known = Message(kind="reply", contact_point_id=7, created_at=now)
    assert not _session_open(known, set(), now) and _session_open(known, {7}, now)


async def test_a_channel_without_a_provider_is_off_and_the_next_one_is_used(
    database_url: str, clock: ManualClock, twilio: FakeTwilio
) -> None:
    """Only Twilio SMS is set up: WhatsApp and email are off, not "sent" into a sandbox."""
    settings = twilio_settings(database_url, twilio)  # SMS only, sandbox left at its default
    assert set(build_channels(settings)) == {"sms"}
    runtime = await Runtime.start(settings, clock=clock, migrate=False)
    try:
        await runtime.import_data(arrears_csv(row("T1", email="anna@example.nl")), "d1.csv")
        clock.advance(timedelta(days=3, hours=1))
        await runtime.tick()
        await runtime.dispatch()
        (sent,) = await messages(runtime, direction="out")
        assert (sent.channel, sent.status) == ("sms", "sent")
        assert [r.form["To"] for r in twilio.requests] == ["+31612345678"]
        (case,) = await cases(runtime)
        off = [e.data for e in await events(runtime, case.id) if e.kind == "channel_off"]
        assert off == [
            {"stage": "friendly", "channel": "whatsapp"},
            {"stage": "friendly", "channel": "email"},
        ]
    finally:
        await runtime.close()
