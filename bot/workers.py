"""The long-running parts of a process, started and stopped in order: the tick's scheduler,
the dispatcher and the inbox worker. ``serve`` and ``worker`` both run them.

Stopping (SIGTERM, Ctrl-C): no new tick; the inbox finishes the message in hand; the
dispatcher stops claiming, gives back what a provider has not seen, and waits (up to
``ARREARS_SHUTDOWN_GRACE_SECONDS``) for the sends in flight, recording each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.runtime import Runtime
from bot.scheduler import build_scheduler
from handlers.tick import TickResult
from storage.db import describe

log = logging.getLogger(__name__)


class Workers:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._ticking = asyncio.Lock()
        self._scheduler = build_scheduler(runtime, tick=self._tick)
        self._inbox = runtime.inbox_worker()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        runtime = self._runtime
        runtime.inbox.listeners.append(self._inbox.wake)
        self._tasks = [
            asyncio.create_task(runtime.dispatcher.run(), name="dispatcher"),
            asyncio.create_task(self._inbox.run(), name="inbox"),
        ]
        for task in self._tasks:
            task.add_done_callback(_log_crash)
        self._scheduler.start()
        log.info("workers started")

    async def _tick(self) -> TickResult:
        async with self._ticking:
            return await self._runtime.tick()

    async def stop(self) -> None:
        grace = self._runtime.settings.shutdown_grace_seconds
        if self._scheduler.running:
            # No new tick; one under way finishes its batch (within the grace) rather than
            # being cut off inside a transaction.
            self._scheduler.pause()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self._ticking.acquire()
            self._scheduler.shutdown(wait=False)
        await asyncio.gather(self._inbox.stop(), self._runtime.dispatcher.stop(grace))
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        log.info("workers stopped")


def _log_crash(task: asyncio.Task[None]) -> None:
    error = None if task.cancelled() else task.exception()
    if error is not None:
        log.error("%s stopped unexpectedly: %s", task.get_name(), describe(error))
