"""The dispatcher checks the sending window before each provider call, once per second of
sends: whatever moments it is asked about, in order, it answers what ``defer_until`` with
the margin answers for that moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from messaging.dispatcher import WINDOW_MARGIN, Dispatcher
from rules.clock import ManualClock
from rules.policy import load_policy
from rules.sending_window import defer_until
from storage.db import create_engine, session_maker

POLICY = load_policy()


def dispatcher(tmp_path: Path) -> Dispatcher:
    # Never connects: only the window check is used.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    return Dispatcher(session_maker(engine), {}, POLICY, ManualClock(datetime.now(UTC)))


def moments(start: datetime, seconds: float, step: float) -> list[datetime]:
    return [start + timedelta(seconds=i * step) for i in range(int(seconds / step))]


# The default window is 09:00-20:00 in Amsterdam (UTC+1 in December): around the
# evening's close, the morning's opening, Saturday's close before a Sunday, local midnight,
# and the middle of the day.
@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 12, 1, 18, 59, 50, tzinfo=UTC),
        datetime(2026, 12, 2, 7, 59, 50, tzinfo=UTC),
        datetime(2026, 12, 5, 18, 59, 50, tzinfo=UTC),
        datetime(2026, 12, 1, 22, 59, 50, tzinfo=UTC),
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("step", [0.05, 0.3, 1.0, 1.7])
def test_each_send_gets_the_answer_defer_until_gives(
    tmp_path: Path, start: datetime, step: float
) -> None:
    sender = dispatcher(tmp_path)
    for now in moments(start, 20, step):
        expected = defer_until(now, POLICY.sending, POLICY.tz, WINDOW_MARGIN)
        assert sender._outside_window(now) == expected, now


def test_a_clock_that_goes_back_is_checked_again(tmp_path: Path) -> None:
    sender = dispatcher(tmp_path)
    open_moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert sender._outside_window(open_moment) is None
    night = open_moment - timedelta(hours=9)
    assert sender._outside_window(night) == defer_until(
        night, POLICY.sending, POLICY.tz, WINDOW_MARGIN
    )
    assert sender._outside_window(night) is not None
