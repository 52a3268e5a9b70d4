"""How long to wait before sending a message again after a transient failure."""

from __future__ import annotations

from datetime import timedelta

MAX_ATTEMPTS = 5


def retry_delay(attempt: int, retry_after: float | None = None) -> timedelta:
    """Exponential backoff from 30 s, capped at one hour; a longer Retry-After wins."""
    backoff = min(30 * 2 ** max(attempt - 1, 0), 3600)
    return timedelta(seconds=max(backoff, retry_after or 0))
