"""A periodic call for as long as a block runs: how a live worker keeps its claims."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.db import describe

log = logging.getLogger(__name__)


class Heartbeat:
    """``async with Heartbeat(period, beat, what):`` calls ``beat`` every ``period``
    seconds until the block ends. A beat that fails is logged and tried at the next one."""

    def __init__(self, period: float, beat: Callable[[], Awaitable[object]], what: str) -> None:
        self._period = period
        self._beat = beat
        self._what = what
        self._task: asyncio.Task[None] | None = None
        self._done = asyncio.Event()

    async def __aenter__(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def __aexit__(self, *_: object) -> None:
        # A beat in progress finishes (its database work is not cut off half-way).
        self._done.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while not self._done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), self._period)
            if self._done.is_set():
                return
            try:
                await self._beat()
            except Exception as error:
                log.error("could not renew the %s (%s); trying again", self._what, describe(error))
