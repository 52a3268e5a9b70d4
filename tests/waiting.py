"""Waiting on real processes and servers, which run on the real clock: poll briefly, with a
deadline, so a test that cannot succeed fails instead of hanging."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(condition: Callable[[], object], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {seconds:g} s")
        await asyncio.sleep(0.01)


async def until_true(condition: Callable[[], Awaitable[object]], seconds: float = 30.0) -> None:
    """``until`` for a condition that must ask a database or a server."""
    deadline = time.monotonic() + seconds
    while True:
        if await condition():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {seconds:g} s")
        await asyncio.sleep(0.01)
