"""Twilio SMS and WhatsApp through the real `twilio` client against a fake Twilio on
127.0.0.1, and Twilio's webhooks through the real aiohttp app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from bot.runtime import Runtime
from bot.web import RUNTIME, build_app
from messaging.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from messaging.channels.twilio import TwilioChannel
from messaging.ratelimit import RateLimiter
from rules.clock import ManualClock
from tests.db_helpers import cases, events, messages
from tests.factories import arrears_csv, row
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, signature
from tests.twilio_fixtures import ANNA, PUBLIC, SMS_FROM, WA_FROM, inbound_form


def adapter(fake: FakeTwilio, channel: str, **kwargs: object) -> TwilioChannel:
    return TwilioChannel(
        channel=channel,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        sender=SMS_FROM if channel == "sms" else WA_FROM,
        per_second=1000,
        status_callback=f"{PUBLIC}/webhooks/twilio/status",
        api_base_url=fake.url,
        **kwargs,  # type: ignore[arg-type]
    )


def outbound(**kwargs: object) -> OutboundMessage:
    values: dict[str, object] = {
        "message_id": 1,
        "channel": "sms",
        "address": ANNA,
        "body": "Hallo Anna",
        "template": "reminder_friendly",
        "language": "nl",
        "variables": {
            "name": "Anna",
            "balance": "€ 650,00",
            "corporation": "Woonconcept",
            "phone": "088 123 45 67",
        },
    }
    values.update(kwargs)
    return OutboundMessage(**values)  # type: ignore[arg-type]


async def test_sms_request_is_what_twilio_expects(twilio: FakeTwilio) -> None:
    channel = adapter(twilio, "sms")
    try:
        result = await channel.send(outbound())
    finally:
        await channel.close()
    (request,) = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.form == {
        "To": ANNA,
        "From": SMS_FROM,
        "Body": "Hallo Anna",
        "StatusCallback": f"{PUBLIC}/webhooks/twilio/status",
    }
    assert result.provider_id.startswith("SM")


async def test_messaging_service_sender(twilio: FakeTwilio) -> None:
    channel = TwilioChannel(
        channel="sms",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        sender="MG" + "1" * 32,
        per_second=1000,
        api_base_url=twilio.url,
    )
    try:
        await channel.send(outbound())
    finally:
        await channel.close()
    assert twilio.requests[0].form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in twilio.requests[0].form


async def test_whatsapp_free_text_inside_the_window(twilio: FakeTwilio) -> None:
    channel = adapter(twilio, "whatsapp")
    try:
        await channel.send(outbound(channel="whatsapp", session_open=True))
    finally:
        await channel.close()
    form = twilio.requests[0].form
    assert (form["To"], form["From"], form["Body"]) == (
        f"whatsapp:{ANNA}",
        f"whatsapp:{WA_FROM}",
        "Hallo Anna",
    )


async def test_whatsapp_plan_confirmation_goes_with_buttons_when_a_template_is_approved(
    twilio: FakeTwilio,
) -> None:
    confirm_sid = "HX" + "c" * 32
    channel = adapter(twilio, "whatsapp", content_sids={"reply_plan_confirm:nl": confirm_sid})
    plan = {
        "amount": "€ 100,00",
        "months": "7",
        "first_due": "01-01-2027",
        "last_amount": "€ 50,00",
        "last_due": "01-07-2027",
        "total": "€ 650,00",
    }
    try:
        await channel.send(
            outbound(
                channel="whatsapp",
                template="reply_plan_confirm",
                variables=plan,
                session_open=True,
            )
        )
        await channel.send(  # no approved English one: free text inside the window
            outbound(
                channel="whatsapp",
                template="reply_plan_confirm",
                language="en",
                variables=plan,
                session_open=True,
            )
        )
    finally:
        await channel.close()
    with_buttons, plain = twilio.requests
    assert with_buttons.form["ContentSid"] == confirm_sid
    assert json.loads(with_buttons.form["ContentVariables"]) == {
        "1": "€ 100,00",
        "2": "7",
        "3": "01-01-2027",
        "4": "€ 50,00",
        "5": "01-07-2027",
        "6": "€ 650,00",
    }
    assert plain.form["Body"] == "Hallo Anna" and "ContentSid" not in plain.form


async def test_whatsapp_outside_the_window_sends_the_approved_template(twilio: FakeTwilio) -> None:
    channel = adapter(twilio, "whatsapp", content_sids={"reminder_friendly:nl": "HX" + "a" * 32})
    try:
        await channel.send(outbound(channel="whatsapp"))
        with pytest.raises(PermanentSendError) as caught:
            await channel.send(outbound(channel="whatsapp", language="en"))
    finally:
        await channel.close()
    (request,) = twilio.requests  # the English one never left: no template for it
    assert request.form["ContentSid"] == "HX" + "a" * 32
    assert "Body" not in request.form
    assert json.loads(request.form["ContentVariables"]) == {
        "1": "Anna",
        "2": "€ 650,00",
        "3": "Woonconcept",
        "4": "088 123 45 67",
    }
    assert caught.value.code == "63016" and not caught.value.unreachable


@pytest.mark.parametrize(
    ("status", "code", "kind", "unreachable", "opted_out"),
    [
        (400, 63003, PermanentSendError, True, False),
        (400, 21610, PermanentSendError, False, True),
        (400, 21211, PermanentSendError, True, False),
        (400, 21606, PermanentSendError, False, False),
        (429, 20429, TransientSendError, None, None),
        (503, 20500, TransientSendError, None, None),
    ],
)
async def test_twilio_errors_are_translated(
    twilio: FakeTwilio,
    status: int,
    code: int,
    kind: type,
    unreachable: bool | None,
    opted_out: bool | None,
) -> None:
    twilio.failures[ANNA] = (status, code, "refused")
    channel = adapter(twilio, "sms")
    try:
        with pytest.raises(kind) as caught:
            await channel.send(outbound())
    finally:
        await channel.close()
    assert caught.value.code == str(code)
    if unreachable is not None:
        assert (caught.value.unreachable, caught.value.opted_out) == (unreachable, opted_out)


async def test_rate_limiter_spaces_sends() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await limiter.wait()
    assert slept == [0.5, 1.0]  # slots at 100.0, 100.5, 101.0
    now[0] = 200.0
    await limiter.wait()
    assert slept == [0.5, 1.0]  # idle time is not saved up


# --- the service with Twilio channels, end to end ---------------------------------------


@pytest.fixture
async def client(twilio_runtime: Runtime) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(build_app(twilio_runtime), host="127.0.0.1")) as c:
        yield c


async def post_signed(
    client: TestClient[object, object],
    path: str,
    form: dict[str, str],
    *,
    sign_as: str | None = None,
    token: str = AUTH_TOKEN,
) -> int:
    """POST a Twilio webhook signed for the public URL (as Twilio sees the service); then let
    the workers handle what the webhook stored, as they would within a second."""
    headers = {"X-Twilio-Signature": signature(sign_as or f"{PUBLIC}{path}", form, token)}
    response = await client.post(path, data=form, headers=headers)
    await client.server.app[RUNTIME].handle_inbox()
    return response.status


async def test_not_on_whatsapp_is_delivered_by_sms_and_the_case_shows_both(
    twilio_runtime: Runtime,
    client: TestClient[object, object],
    twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    twilio.failures[f"whatsapp:{ANNA}"] = (400, 63003, "Channel could not find To address")
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await twilio_runtime.tick()
    result = await twilio_runtime.dispatch()
    assert (result.failed, result.fell_back, result.sent) == (1, 1, 1)
    wa, sms = twilio.requests
    assert wa.form["To"] == f"whatsapp:{ANNA}" and wa.form["ContentSid"] == "HX" + "b" * 32
    assert sms.form["To"] == ANNA and "Beste Anna de Vries" in sms.form["Body"]
    sent = (await messages(twilio_runtime, channel="sms"))[0]
    status = await post_signed(
        client,
        "/webhooks/twilio/status",
        {
            "MessageSid": sent.provider_id or "",
            "MessageStatus": "delivered",
            "AccountSid": ACCOUNT_SID,
            "From": SMS_FROM,
            "To": ANNA,
        },
    )
    assert status == 204
    out = await messages(twilio_runtime, direction="out")
    assert [(m.channel, m.status) for m in out] == [("whatsapp", "failed"), ("sms", "delivered")]
    (case,) = await cases(twilio_runtime)
    kinds = [e.kind for e in await events(twilio_runtime, case.id)]
    assert kinds[-4:] == ["send_failed", "fallback", "message_sent", "message_delivered"]
    failed = next(e for e in await events(twilio_runtime, case.id) if e.kind == "send_failed")
    assert failed.data["channel"] == "whatsapp" and failed.data["error"].startswith("63003")


async def test_a_signed_sms_reply_is_processed_once(
    twilio_runtime: Runtime, client: TestClient[object, object], clock: ManualClock
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    form = inbound_form("hulp", "SM" + "1" * 32)
    assert await post_signed(client, "/webhooks/twilio/sms", form) == 200
    assert await post_signed(client, "/webhooks/twilio/sms", form) == 200  # Twilio retried
    assert len(await messages(twilio_runtime, direction="in")) == 1
    (case,) = await cases(twilio_runtime)
    assert case.escalation_reason == "help"


@pytest.mark.parametrize(
    "forgery",
    ["unsigned", "wrong token", "tampered body", "signed for another URL"],
)
async def test_forged_webhooks_are_refused_and_stored_nowhere(
    twilio_runtime: Runtime, client: TestClient[object, object], forgery: str
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    form = inbound_form("hulp", "SM" + "2" * 32)
    path = "/webhooks/twilio/sms"
    if forgery == "unsigned":
        status = (await client.post(path, data=form)).status
    elif forgery == "wrong token":
        status = await post_signed(client, path, form, token="not-the-token")
    elif forgery == "tampered body":
        headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
        status = (await client.post(path, data={**form, "Body": "STOP"}, headers=headers)).status
    else:
        status = await post_signed(client, path, form, sign_as=f"https://evil.example{path}")
    assert status == 403
    assert await messages(twilio_runtime, direction="in") == []
    (case,) = await cases(twilio_runtime)
    assert case.status == "open"


async def test_the_public_url_is_what_counts_behind_a_proxy(
    twilio_runtime: Runtime, client: TestClient[object, object]
) -> None:
    form = inbound_form("hallo", "SM" + "3" * 32)
    # Signed for the URL the request really arrived on (no proxy): refused, since the
    # configured public URL is what Twilio signs.
    local = str(URL(str(client.make_url("/webhooks/twilio/sms"))))
    assert await post_signed(client, "/webhooks/twilio/sms", form, sign_as=local) == 403
    assert await post_signed(client, "/webhooks/twilio/sms", form) == 200


async def test_whatsapp_reply_opens_the_window_for_free_text(
    twilio_runtime: Runtime,
    client: TestClient[object, object],
    twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    form = inbound_form("Ik kan 50 euro per maand", "SM" + "4" * 32, sender=f"whatsapp:{ANNA}")
    assert await post_signed(client, "/webhooks/twilio/whatsapp", form) == 200
    await twilio_runtime.dispatch()
    (answer,) = twilio.requests
    assert answer.form["To"] == f"whatsapp:{ANNA}"
    assert "€ 50,00" in answer.form["Body"] and "ContentSid" not in answer.form


async def test_status_never_moves_backwards_and_a_late_failure_falls_back(
    twilio_runtime: Runtime,
    client: TestClient[object, object],
    twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await twilio_runtime.tick()
    await twilio_runtime.dispatch()
    (wa,) = await messages(twilio_runtime, direction="out")
    base = {"MessageSid": wa.provider_id or "", "AccountSid": ACCOUNT_SID}
    path = "/webhooks/twilio/status"
    assert await post_signed(client, path, {**base, "MessageStatus": "delivered"}) == 204
    assert await post_signed(client, path, {**base, "MessageStatus": "sent"}) == 204
    assert (await messages(twilio_runtime, direction="out"))[0].status == "delivered"
    # A template rejected later: WhatsApp reports 63016, the stage goes out by SMS.
    failed = {**base, "MessageStatus": "undelivered", "ErrorCode": "63016"}
    assert await post_signed(client, path, failed) == 204
    out = await messages(twilio_runtime, direction="out")
    assert [(m.channel, m.status) for m in out] == [("whatsapp", "failed"), ("sms", "queued")]
    await twilio_runtime.dispatch()
    assert twilio.requests[-1].form["To"] == ANNA
    # An unknown message id is accepted (Twilio must stop retrying) and changes nothing.
    unknown = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}
    assert await post_signed(client, path, unknown) == 204


async def test_stop_by_sms_stops_sms_only_and_twilio_confirms_it(
    twilio_runtime: Runtime,
    client: TestClient[object, object],
    twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    form = inbound_form("STOP", "SM" + "5" * 32, OptOutType="STOP")
    assert await post_signed(client, "/webhooks/twilio/sms", form) == 200
    await twilio_runtime.dispatch()
    assert twilio.requests == []  # Twilio answers STOP itself; we add nothing
    clock.advance(timedelta(days=3, hours=1))
    await twilio_runtime.tick()
    await twilio_runtime.dispatch()
    assert [r.form["To"] for r in twilio.requests] == [f"whatsapp:{ANNA}"]
    (wa,) = await messages(twilio_runtime, direction="out")
    assert wa.fallback_channels == []  # SMS is no longer an option for this tenant


async def test_a_whatsapp_quick_reply_tap_is_read_from_its_payload(
    twilio_runtime: Runtime, client: TestClient[object, object]
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    form = inbound_form(
        "Ik wil hulp",
        "SM" + "6" * 32,
        sender=f"whatsapp:{ANNA}",
        ButtonText="Ik wil hulp",
        ButtonPayload="2",
    )
    assert await post_signed(client, "/webhooks/twilio/whatsapp", form) == 200
    (stored,) = await messages(twilio_runtime, direction="in")
    assert (stored.channel, stored.address, stored.intent) == ("whatsapp", ANNA, "help")
