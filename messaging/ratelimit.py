"""Spacing sends to what a provider allows: one slot every 1/rate seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """Hands out send slots in order; ``wait`` sleeps until the caller's slot.

    The clock and the sleep are injected so tests can check the spacing without waiting.
    """

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")

    @property
    def idle(self) -> bool:
        """No slot handed out is still ahead: forgetting this limiter changes nothing."""
        return self._clock() >= self._next

    async def wait(self) -> None:
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)
