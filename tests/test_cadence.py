"""The cadence is pure: table-driven cases and properties, no fixtures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.cadence import CaseState, CaseStatus, Escalate, SendStage, decide, first_action_at
from rules.policy import load_policy
from rules.sending_window import is_allowed, is_closed_day, next_allowed

POLICY = load_policy()
AMS = ZoneInfo("Europe/Amsterdam")


def local(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=AMS).astimezone(UTC)


@pytest.mark.parametrize(
    ("moment", "expected", "why"),
    [
        (local(2026, 12, 1, 10), local(2026, 12, 1, 10), "a Tuesday morning is fine"),
        (local(2026, 12, 1, 7), local(2026, 12, 1, 9), "before 09:00 waits for 09:00"),
        (local(2026, 12, 1, 20), local(2026, 12, 2, 9), "20:00 is already quiet"),
        (local(2026, 12, 1, 19, 59), local(2026, 12, 1, 19, 59), "19:59 still counts"),
        (local(2026, 12, 5, 21), local(2026, 12, 7, 9), "Saturday night skips Sunday"),
        (local(2026, 12, 6, 12), local(2026, 12, 7, 9), "Sunday moves to Monday"),
        (local(2026, 12, 24, 20, 30), local(2026, 12, 28, 9), "Christmas days and Sunday"),
        (local(2026, 4, 27, 10), local(2026, 4, 28, 9), "King's Day"),
        (local(2026, 3, 29, 3), local(2026, 3, 30, 9), "the night clocks go forward"),
    ],
)
def test_next_allowed_moves_to_the_next_open_moment(
    moment: datetime, expected: datetime, why: str
) -> None:
    assert next_allowed(moment, POLICY.sending, AMS) == expected, why


def test_weekly_limit_waits_until_the_oldest_contact_ages_out() -> None:
    sent = (local(2026, 12, 1, 10), local(2026, 12, 2, 10), local(2026, 12, 3, 10))
    moment = next_allowed(local(2026, 12, 4, 10), POLICY.sending, AMS, sent)
    assert moment == local(2026, 12, 8, 10)  # exactly seven days after the first
    assert next_allowed(local(2026, 12, 4, 10), POLICY.sending, AMS, sent[1:]) == local(
        2026, 12, 4, 10
    )


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(datetime(2026, 12, 1, 10), POLICY.sending, AMS)


def test_sundays_and_holidays_are_closed() -> None:
    assert is_closed_day(local(2026, 12, 6).astimezone(AMS).date(), POLICY.sending)
    assert is_closed_day(datetime(2026, 12, 25).date(), POLICY.sending)
    assert not is_closed_day(datetime(2026, 12, 28).date(), POLICY.sending)


OPENED = local(2026, 12, 1, 8)  # Tuesday


@pytest.mark.parametrize(
    ("state", "now", "action", "next_at"),
    [
        # A new case waits three days for the friendly reminder.
        (CaseState(CaseStatus.OPEN, 0, OPENED), local(2026, 12, 1, 8), None, local(2026, 12, 4, 9)),
        (
            CaseState(CaseStatus.OPEN, 0, OPENED),
            local(2026, 12, 4, 9),
            "friendly",
            local(2026, 12, 11, 9),
        ),
        # The second stage seven days after the first.
        (
            CaseState(CaseStatus.OPEN, 1, OPENED, last_stage_at=local(2026, 12, 4, 9)),
            local(2026, 12, 11, 9),
            "plan_offer",
            local(2026, 12, 18, 9),
        ),
        # The written reminder would fall on Christmas Day: Monday the 28th.
        (
            CaseState(CaseStatus.OPEN, 2, OPENED, last_stage_at=local(2026, 12, 18, 10)),
            local(2026, 12, 18, 10),
            None,
            local(2026, 12, 28, 9),
        ),
        # After the last stage: a week of silence, then the consultants.
        (
            CaseState(CaseStatus.OPEN, 3, OPENED, last_stage_at=local(2026, 12, 28, 9)),
            local(2026, 12, 30, 9),
            None,
            local(2027, 1, 4, 9),
        ),
        (
            CaseState(CaseStatus.OPEN, 3, OPENED, last_stage_at=local(2026, 12, 28, 9)),
            local(2027, 1, 4, 9),
            "escalate",
            None,
        ),
        # Paused until a date: quiet until then, then the next stage.
        (
            CaseState(CaseStatus.PAUSED, 1, OPENED, local(2026, 12, 4, 9), local(2026, 12, 20, 12)),
            local(2026, 12, 15, 9),
            None,
            local(2026, 12, 20, 12),
        ),
        (CaseState(CaseStatus.PAUSED, 1, OPENED), local(2026, 12, 15, 9), None, None),
        (CaseState(CaseStatus.ESCALATED, 1, OPENED), local(2026, 12, 15, 9), None, None),
        (CaseState(CaseStatus.CLOSED, 1, OPENED), local(2026, 12, 15, 9), None, None),
    ],
)
def test_decide(
    state: CaseState, now: datetime, action: str | None, next_at: datetime | None
) -> None:
    decision = decide(state, POLICY, now)
    if action is None:
        assert decision.action is None
    elif action == "escalate":
        assert decision.action == Escalate("no_reply")
    else:
        assert isinstance(decision.action, SendStage)
        assert decision.action.stage.name == action
    assert decision.next_action_at == next_at


def test_timed_pause_resumes() -> None:
    state = CaseState(CaseStatus.PAUSED, 1, OPENED, local(2026, 12, 4, 9), local(2026, 12, 14, 10))
    decision = decide(state, POLICY, local(2026, 12, 14, 10))
    assert decision.resume
    assert isinstance(decision.action, SendStage)
    assert decision.action.stage.name == "plan_offer"


def test_first_action_of_a_new_case() -> None:
    assert first_action_at(local(2026, 12, 3, 23), POLICY) == local(2026, 12, 7, 9)


moments = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.just(UTC),
)


@st.composite
def case_states(draw: st.DrawFn) -> tuple[CaseState, datetime]:
    opened = draw(moments)
    stage = draw(st.integers(0, len(POLICY.stages)))
    last = opened + timedelta(minutes=draw(st.integers(0, 60 * 24 * 40))) if stage else None
    now = (last or opened) + timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    recent = tuple(
        now - timedelta(minutes=m) for m in draw(st.lists(st.integers(1, 60 * 24 * 8), max_size=5))
    )
    return CaseState(CaseStatus.OPEN, stage, opened, last, None, recent), now


@settings(max_examples=300, deadline=None)
@given(case_states())
def test_no_send_ever_lands_in_a_forbidden_moment(drawn: tuple[CaseState, datetime]) -> None:
    state, now = drawn
    decision = decide(state, POLICY, now)
    if isinstance(decision.action, SendStage):
        assert is_allowed(now, POLICY.sending, POLICY.tz, state.recent_reminders)
    pending_send = decision.action is None and state.stage < len(POLICY.stages)
    if pending_send:
        # Never dropped: a later moment is planned, and it is an allowed one.
        assert decision.next_action_at is not None
        assert decision.next_action_at > now
        assert is_allowed(
            decision.next_action_at, POLICY.sending, POLICY.tz, state.recent_reminders
        )


@settings(max_examples=200, deadline=None)
@given(moments)
def test_next_allowed_is_allowed_and_not_earlier(moment: datetime) -> None:
    allowed = next_allowed(moment, POLICY.sending, AMS)
    assert allowed >= moment
    assert is_allowed(allowed, POLICY.sending, AMS)
    local_time = allowed.astimezone(AMS)
    assert POLICY.sending.window_start <= local_time.time() < POLICY.sending.window_end
    assert local_time.weekday() != 6
