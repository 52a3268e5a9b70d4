"""APScheduler is only the clock: it calls the tick; the database decides what is due. The
dispatcher and the inbox are long-running loops of their own (``bot.workers``), which the
tick wakes. Jobs live in memory, one scheduler per process."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime import Runtime
from handlers.tick import TickResult
from messaging.dispatcher import DispatchResult
from storage.db import describe

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


def _guarded(name: str, job: Job) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception as error:
            # One bad run must not stop the clock; the next run tries again.
            log.error("%s failed: %s", name, describe(error))

    return run


def _report(result: object) -> None:
    """Counts only: names, numbers and amounts stay out of the logs."""
    if isinstance(result, TickResult) and result.cases:
        log.info(
            "tick: %d cases, %d reminders queued %s, %d escalated",
            result.cases,
            result.queued,
            dict(result.by_stage),
            result.escalated,
        )
    elif isinstance(result, DispatchResult) and (result.sent or result.failed or result.retried):
        log.info(
            "dispatch: %d sent %s, %d retried, %d failed, %d fell back",
            result.sent,
            result.by_channel,
            result.retried,
            result.failed,
            result.fell_back,
        )


def build_scheduler(
    runtime: Runtime, *, tick: Job | None = None, dispatch: Job | None = None
) -> AsyncIOScheduler:
    """Create (not start) the scheduler; start it inside the running event loop.

    ``dispatch``: also run this every ``dispatch_seconds`` (the live demo, which has no
    dispatcher loop of its own)."""
    scheduler = AsyncIOScheduler(
        job_defaults={
            # A late run still runs (the default of 1 s would skip it), once.
            "misfire_grace_time": None,
            "coalesce": True,
            "max_instances": 1,
        }
    )

    async def tick_then_send() -> None:
        _report(await (tick or runtime.tick)())
        if runtime.dispatcher.running:
            runtime.dispatcher.wake()
        else:
            _report(await runtime.dispatch())

    settings = runtime.settings
    scheduler.add_job(
        _guarded("tick", tick_then_send),
        "interval",
        seconds=settings.tick_seconds,
        id="tick",
        name="tick",
    )
    if dispatch is not None:

        async def send() -> None:
            _report(await dispatch())

        scheduler.add_job(
            _guarded("dispatch", send),
            "interval",
            seconds=settings.dispatch_seconds,
            id="dispatch",
            name="dispatch",
        )
    return scheduler
