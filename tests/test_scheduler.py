"""The scheduler only calls tick and dispatch; a failing run must not stop the clock."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.runtime import Runtime
from bot.scheduler import build_scheduler
from tests.db_helpers import messages
from tests.factories import arrears_csv, row


async def test_jobs_are_configured_to_run_late_rather_than_never(runtime: Runtime) -> None:
    scheduler = build_scheduler(runtime)
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


async def test_the_tick_job_ticks_and_dispatches(runtime: Runtime, clock: ManualClock) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    scheduler = build_scheduler(runtime)
    await scheduler.get_job("tick").func()
    assert [m.status for m in await messages(runtime, direction="out")] == ["sent"]


async def test_a_failing_run_is_logged_not_raised(runtime: Runtime, caplog) -> None:  # type: ignore[no-untyped-def]
    async def broken() -> None:
        raise RuntimeError("database went away")

    scheduler = build_scheduler(runtime, tick=broken)
    await scheduler.get_job("tick").func()
    assert "tick failed" in caplog.text
