"""The service with Twilio channels against a fake Twilio on 127.0.0.1 (a pytest plugin,
registered in conftest.py, so every test module can ask for these fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.runtime import Runtime, build_channels
from bot.settings import Settings
from rules.clock import ManualClock
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, fake_twilio

SMS_FROM = "+3197010000001"
WA_FROM = "+3197010000002"
ANNA = "+31612345678"
PUBLIC = "https://huurbot.example.nl"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with fake_twilio() as fake:
        yield fake


def twilio_settings(database_url: str, twilio: FakeTwilio, **overrides: Any) -> Settings:
    """The service with Twilio SMS (and WhatsApp) against the fake, no sandbox."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "sandbox": False,
        "public_base_url": PUBLIC,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_sms_from": SMS_FROM,
        "twilio_api_base_url": twilio.url,
        "twilio_sms_per_second": 1000,
        "twilio_whatsapp_per_second": 1000,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def twilio_runtime(
    database_url: str, clock: ManualClock, twilio: FakeTwilio
) -> AsyncIterator[Runtime]:
    settings = twilio_settings(
        database_url,
        twilio,
        twilio_whatsapp_from=WA_FROM,
        whatsapp_content_sids={"reminder_friendly:nl": "HX" + "b" * 32},
    )
    runtime = await Runtime.start(
        settings, clock=clock, channels=build_channels(settings), migrate=False
    )
    try:
        yield runtime
    finally:
        await runtime.close()


def inbound_form(text: str, sid: str, sender: str = ANNA, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": SMS_FROM,
        "Body": text,
        "NumMedia": "0",
        **extra,
    }
