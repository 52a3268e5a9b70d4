"""When a business-initiated message may reach a tenant: pure calendar rules.

Quiet hours, Sundays, public holidays and the weekly contact limit never drop a send;
they move it to the next allowed moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from rules.policy import SendingRules

WEEK = timedelta(days=7)
# Far beyond any real run of closed days; a bound keeps a broken policy from looping forever.
_MAX_STEPS = 400


@lru_cache(maxsize=8)
def _holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


def is_closed_day(day: date, rules: SendingRules) -> bool:
    if rules.skip_sundays and day.weekday() == 6:
        return True
    return rules.skip_public_holidays and day in _holidays(rules.holiday_country)


def _window_opening(day: date, rules: SendingRules, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, rules.window_start, tzinfo=tz)


def _calendar_allowed(moment: datetime, rules: SendingRules, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    for _ in range(_MAX_STEPS):
        day = local.date()
        if is_closed_day(day, rules) or local.time() >= rules.window_end:
            local = _window_opening(day + timedelta(days=1), rules, tz)
        elif local.time() < rules.window_start:
            local = _window_opening(day, rules, tz)
        else:
            return local.astimezone(UTC)
    raise ValueError("no allowed sending moment within a year; check the sending rules")


def _over_weekly_limit(moment: datetime, recent: Sequence[datetime], limit: int) -> datetime | None:
    """The moment the oldest send in the 7-day window ages out, if the limit is reached."""
    in_window = [sent for sent in recent if moment - WEEK < sent <= moment]
    if len(in_window) < limit:
        return None
    return min(in_window) + WEEK


def next_allowed(
    moment: datetime,
    rules: SendingRules,
    tz: ZoneInfo,
    recent: Sequence[datetime] = (),
) -> datetime:
    """The first moment at or after ``moment`` (UTC) when a reminder may be sent.

    ``recent`` holds the tenant's reminders already sent, for the weekly limit.
    """
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    candidate = moment
    for _ in range(_MAX_STEPS):
        candidate = _calendar_allowed(candidate, rules, tz)
        aged_out = _over_weekly_limit(candidate, recent, rules.max_messages_per_7_days)
        if aged_out is None:
            return candidate
        candidate = max(aged_out, candidate + timedelta(microseconds=1))
    raise ValueError("no allowed sending moment found; check the sending rules")


def is_allowed(
    moment: datetime, rules: SendingRules, tz: ZoneInfo, recent: Sequence[datetime] = ()
) -> bool:
    return next_allowed(moment, rules, tz, recent) == moment


def defer_until(
    moment: datetime, rules: SendingRules, tz: ZoneInfo, margin: timedelta
) -> datetime | None:
    """None when a send may start at ``moment`` and still be inside the window ``margin``
    later (the provider receives it a little after we start); otherwise the moment to try
    again. Near the window's end that is the next opening, never a moment past the end."""
    if not is_allowed(moment, rules, tz):
        return next_allowed(moment, rules, tz)
    if not is_allowed(moment + margin, rules, tz):
        return next_allowed(moment + margin, rules, tz)
    return None


class WindowCheck:
    """``defer_until`` with a fixed margin, for a sender that checks every send: one check
    covers the sends that start within ``reuse`` after it. It is made with ``reuse`` more
    margin, and a day's allowed moments are one stretch (the window), so every moment
    between two allowed ones of the same day is allowed."""

    def __init__(
        self,
        rules: SendingRules,
        tz: ZoneInfo,
        margin: timedelta,
        reuse: timedelta = timedelta(seconds=1),
    ) -> None:
        self._rules, self._tz, self._margin, self._reuse = rules, tz, margin, reuse
        self._inside: tuple[datetime, datetime] | None = None  # sends starting here may go

    def __call__(self, now: datetime) -> datetime | None:
        if self._inside is not None and self._inside[0] <= now <= self._inside[1]:
            return None
        span = self._margin + self._reuse
        if (
            defer_until(now, self._rules, self._tz, span) is None
            and (now + span).astimezone(self._tz).date() == now.astimezone(self._tz).date()
        ):
            self._inside = (now, now + self._reuse)
            return None
        return defer_until(now, self._rules, self._tz, self._margin)
