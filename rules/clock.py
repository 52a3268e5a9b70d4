"""Time, injected: the service reads the clock through this, so tests and the demo can set it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that moves only when told to (tests, the headless demo)."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current


@dataclass
class FastClock:
    """Simulated time running ``speed`` times faster than ``real`` (the live demo), up to
    ``until``, where it stands still: a demo month ends, and its queue waits and reports
    stop growing."""

    start: datetime
    speed: float
    real: Clock = field(default_factory=SystemClock)
    until: datetime | None = None
    _origin: datetime | None = None

    def now(self) -> datetime:
        real_now = self.real.now()
        if self._origin is None:
            self._origin = real_now
        simulated = self.start + (real_now - self._origin) * self.speed
        return simulated if self.until is None else min(simulated, self.until)
