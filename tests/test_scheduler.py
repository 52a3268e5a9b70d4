"""The scheduler only calls tick and dispatch; a failing run must not stop the clock."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.runtime import Runtime
from bot.scheduler import build_scheduler
from rules.clock import ManualClock
from tests.db_helpers import messages
from tests.factories import arrears_csv, row


async def test_jobs_are_configured_to_run_late_rather_than_never(runtime: Runtime) -> None:
    scheduler = build_scheduler(runtime, dispatch=runtime.dispatch)
    scheduler.start(paused=True)  # job defaults are applied when the scheduler starts
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"tick", "dispatch"}
        for job in jobs.values():
            assert job.misfire_grace_time is None and job.coalesce and job.max_instances == 1
        interval = timedelta(seconds=runtime.settings.tick_seconds)
        assert jobs["tick"].trigger.interval == interval
    finally:
        scheduler.shutdown(wait=False)


async def test_the_tick_job_ticks_dispatches_and_logs_counts_only(
    runtime: Runtime, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    scheduler = build_scheduler(runtime)
    with caplog.at_level(logging.INFO, logger="bot.scheduler"):
        await scheduler.get_job("tick").func()
    assert [m.status for m in await messages(runtime, direction="out")] == ["sent"]
    assert "tick: 1 cases, 1 reminders queued {'friendly': 1}" in caplog.text
    assert "dispatch: 1 sent {'whatsapp': 1}" in caplog.text
    assert "Anna" not in caplog.text and "+316" not in caplog.text and "650" not in caplog.text


async def test_a_failing_run_is_logged_not_raised(runtime: Runtime, caplog) -> None:  # type: ignore[no-untyped-def]
    async def broken() -> None:
        raise RuntimeError("database went away")

    scheduler = build_scheduler(runtime, tick=broken)
    await scheduler.get_job("tick").func()
    assert "tick failed" in caplog.text
