"""An English tenant's help and crisis answers name the help in English: the policy's
Dutch words ("de schuldhulp van uw gemeente", "gratis") never reach them, while a
municipality's own Dutch entry still shows rather than a wrong English default."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.runtime import Runtime
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from rules.policy import HelpInfo, HelpPolicy
from tests.db_helpers import messages
from tests.factories import arrears_csv, row

ANNA = "+31612345678"
DUTCH = re.compile(r"\b(schuldhulp|gemeente|gratis|netnummer|en het)\b")


async def _answer(runtime: Runtime, clock: ManualClock, text: str) -> str:
    await runtime.import_data(arrears_csv(row("T1", language="en")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.receive(InboundMessage("whatsapp", ANNA, text, "en-1", runtime.clock.now()))
    replies = await messages(runtime, direction="out", kind="reply")
    assert replies, "no answer"
    return replies[-1].body


async def test_a_crisis_answer_in_english_is_english(runtime: Runtime, clock: ManualClock) -> None:
    body = await _answer(runtime, clock, "i dont want to live anymore")
    assert "113 (free: 0800-0113)" in body and "112" in body
    assert "your municipality's debt help" in body
    assert not DUTCH.search(body), body


async def test_a_hard_time_with_an_offer_in_english_is_english(
    runtime: Runtime, clock: ManualClock
) -> None:
    body = await _answer(runtime, clock, "I cant pay, lost my job. 30 a month ok?")
    assert not DUTCH.search(body), body


def test_a_municipality_s_own_dutch_entry_is_not_covered_by_the_english_default() -> None:
    policy = HelpPolicy(municipalities={"Meppel": HelpInfo(debt_help_phone="0522 123 456")})
    meppel = policy.for_municipality("meppel")
    assert meppel.debt_help_phone == "0522 123 456" and meppel.debt_help_phone_en is None
    assert meppel.debt_help_name_en == "your municipality's debt help"  # not overridden
