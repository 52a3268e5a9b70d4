"""/metrics: Prometheus text with what operators watch, and only for those allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.metrics import Metrics
from bot.runtime import Runtime, build_channels
from bot.web import build_app
from rules.clock import ManualClock
from tests.factories import arrears_csv, row
from tests.fakes.twilio import FakeTwilio, signature
from tests.twilio_fixtures import PUBLIC, inbound_form

TOKEN = "s3cret-metrics-token-0123456789"


@pytest.fixture
async def observed(twilio_runtime: Runtime) -> AsyncIterator[tuple[Runtime, Metrics]]:
    metrics = Metrics()
    runtime = await Runtime.start(
        twilio_runtime.settings,
        clock=twilio_runtime.clock,
        channels=build_channels(twilio_runtime.settings),
        migrate=False,
        observer=metrics,
    )
    try:
        yield runtime, metrics
    finally:
        await runtime.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_show_queues_outcomes_and_webhooks(
    observed: tuple[Runtime, Metrics], twilio: FakeTwilio, clock: ManualClock
) -> None:
    runtime, metrics = observed
    await runtime.import_data(arrears_csv(row("T1"), row("T2", phone="06-22222222")), "d.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    twilio.failures["whatsapp:+31622222222"] = (400, 63003, "not on WhatsApp")
    async with TestClient(TestServer(build_app(runtime, metrics), host="127.0.0.1")) as client:
        form = inbound_form("hulp", "SM" + "e" * 32)
        path = "/webhooks/twilio/sms"
        headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
        assert (await client.post(path, data=form, headers=headers)).status == 200
        assert (await client.post(path, data=form)).status == 403  # unsigned
        # Made-up paths add no series and no text of the caller's to /metrics.
        for junk in ["/webhooks/rnd-1", "/webhooks/%2B31612345678", "/webhooks/rnd-2"]:
            assert (await client.get(junk)).status in (404, 405)
        clock.advance(timedelta(minutes=2))
        before = samples(await (await client.get("/metrics")).text())
        await runtime.handle_inbox()
        await runtime.dispatch()
        response = await client.get("/metrics")
        assert response.status == 200 and response.content_type == "text/plain"
        after = samples(await response.text())
    assert before[("arrears_inbox_pending_messages", ())] == 1
    assert before[("arrears_inbox_oldest_seconds", ())] == 120
    assert before[("arrears_outbox_due_messages", (("channel", "whatsapp"),))] == 2
    assert before[("arrears_outbox_oldest_due_seconds", ())] >= 120
    assert after[("arrears_inbox_pending_messages", ())] == 0
    assert after[("arrears_outbox_oldest_due_seconds", ())] == 0
    assert after[("arrears_inbound_handled_total", (("matched", "yes"),))] == 1
    sent = after[("arrears_messages_total", (("channel", "whatsapp"), ("outcome", "sent")))]
    failed = after[("arrears_messages_total", (("channel", "whatsapp"), ("outcome", "failed")))]
    assert (sent, failed) == (1, 1)
    assert after[("arrears_messages_total", (("channel", "sms"), ("outcome", "sent")))] == 2
    webhook = (("route", "twilio/sms"), ("status", "200"))
    assert after[("arrears_webhook_requests_total", webhook)] == 1
    refused = (("route", "twilio/sms"), ("status", "403"))
    assert after[("arrears_webhook_requests_total", refused)] == 1
    assert after[("arrears_tick_seconds_count", ())] == 1
    assert after[("arrears_reminders_queued_total", ())] == 2
    assert after[("arrears_send_seconds_count", (("channel", "sms"),))] == 2
    text = "\n".join(str(key) for key in after)
    assert "+316" not in text and "Anna" not in text and "rnd" not in text
    assert after[("arrears_webhook_requests_total", (("route", "unknown"), ("status", "404")))] == 3


async def test_metrics_are_refused_through_a_proxy_and_need_the_token_when_set(
    twilio_runtime: Runtime,
) -> None:
    app = build_app(twilio_runtime)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await client.get("/metrics")).status == 200  # straight from this machine
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        assert (await client.get("/metrics", headers=forwarded)).status == 403
    settings = twilio_runtime.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    guarded = await Runtime.start(settings, clock=twilio_runtime.clock, migrate=False)
    try:
        async with TestClient(TestServer(build_app(guarded), host="127.0.0.1")) as client:
            assert (await client.get("/metrics")).status == 403
            wrong = {"Authorization": "Bearer not-it"}
            assert (await client.get("/metrics", headers=wrong)).status == 403
            bare = {"Authorization": TOKEN}
            assert (await client.get("/metrics", headers=bare)).status == 403
            right = {"Authorization": f"Bearer {TOKEN}", **forwarded}
            response = await client.get("/metrics", headers=right)
            assert response.status == 200 and "arrears_outbox_messages" in await response.text()
            lower = {"Authorization": f"bearer {TOKEN}"}  # the scheme is case-insensitive
            assert (await client.get("/metrics", headers=lower)).status == 200
    finally:
        await guarded.close()
